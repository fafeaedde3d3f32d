#!/usr/bin/env bash
# Builds the libFuzzer targets under fuzz/targets/ and runs each for a bounded time.
#
#   tools/fuzz.sh [seconds] [target ...]     default: 60 s each, all targets
#
# Targets: conll, embeddings, safetensors, checkpoint, mapping (see fuzz/README.md).
# The library sources (DissectCore, DissectKernels, DissectCorpus, DissectModel) are compiled
# into one static module, DissectFuzzLib, with -sanitize=fuzzer,address; their
# `import DissectCore` / `import DissectKernels` / `import DissectCorpus` lines resolve to empty stub
# modules. Build products and the working corpora go under .build-fuzz/.
# The seed corpus is fuzz/corpus/<target>/ (committed, tiny); crashes are
# written to .build-fuzz/crashes/<target>/ and the script exits 1 if any target
# found one.
set -euo pipefail

cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then TARGETS=(conll embeddings safetensors checkpoint mapping); fi

OUT=.build-fuzz
mkdir -p "$OUT/stubs" "$OUT/lib" "$OUT/bin"
SAN="-sanitize=fuzzer,address"
# The product's own flags for these modules (Package.swift): -O with every
# check on (no -Ounchecked), and Haswell code generation on x86-64 unless
# DISSECT_PORTABLE=1, so the fuzzed code is the code users run.
CPU=()
if [ "$(uname -m)" = x86_64 ] && [ "${DISSECT_PORTABLE:-0}" != 1 ]; then CPU=(-target-cpu haswell); fi
COMMON=(-parse-as-library -O "${CPU[@]}" -swift-version 5 -I "$OUT/stubs" -I Sources/COpenBLAS)

# Empty stand-ins for the modules the sources import.
: > "$OUT/stubs/empty.swift"
for module in DissectCore DissectKernels DissectCorpus; do
    swiftc -parse-as-library -emit-module -module-name "$module" "$OUT/stubs/empty.swift" \
        -emit-module-path "$OUT/stubs/$module.swiftmodule"
done

echo "building DissectFuzzLib (DissectCore + DissectKernels + DissectCorpus + DissectModel) ..."
swiftc "${COMMON[@]}" $SAN -enable-testing -wmo -num-threads "$(nproc)" \
    -module-name DissectFuzzLib -emit-library -static -o "$OUT/lib/libDissectFuzzLib.a" \
    -emit-module -emit-module-path "$OUT/lib/DissectFuzzLib.swiftmodule" \
    Sources/DissectCore/*.swift Sources/DissectKernels/*.swift Sources/DissectCorpus/*.swift Sources/DissectModel/*.swift

for target in "${TARGETS[@]}"; do
    echo "building fuzz-$target ..."
    swiftc "${COMMON[@]}" $SAN -I "$OUT/lib" -module-name "Fuzz_$target" \
        "fuzz/targets/$target.swift" -L "$OUT/lib" -lDissectFuzzLib -lopenblas \
        -use-ld=lld -o "$OUT/bin/fuzz-$target"
done

[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

status=0
for target in "${TARGETS[@]}"; do
    corpus="$OUT/corpus/$target"
    crashes="$OUT/crashes/$target"
    mkdir -p "$corpus" "$crashes"
    echo "=== fuzz-$target: ${SECONDS_EACH}s ==="
    # The found crash must not hang in Swift's backtracer; ASan/libFuzzer report it.
    if ! SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 \
        "$OUT/bin/fuzz-$target" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" \
        "$corpus" "fuzz/corpus/$target" 2>&1 | tee "$OUT/fuzz-$target.log" | grep -E '^(#[0-9]+ +DONE|INFO: seed|==[0-9]+==ERROR|SUMMARY|stat::|artifact_prefix|Test unit written|Fatal error|.*error:)' ; then
        :
    fi
    if grep -q 'Test unit written' "$OUT/fuzz-$target.log"; then
        echo "fuzz-$target found a crash: see $OUT/fuzz-$target.log and $crashes/"
        status=1
    fi
done
exit $status
