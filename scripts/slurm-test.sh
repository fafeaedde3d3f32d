#!/usr/bin/env bash
# The Slurm executor against a real Slurm: installs Debian's slurmctld, slurmd, slurm-client and munge
# when missing, starts munged, slurmctld and slurmd by hand (no systemd) as a one-node cluster bound to
# 127.0.0.1 with its configuration, state and logs in a temporary folder, runs a sweep of 4 tiny runs
# through sbatch (--executor slurm --wait) and the same sweep with the local executor, and checks that
# every run's model.safetensors is byte-identical between the two (model.json records times, so it
# differs) and that both aggregates exist. The Slurm sweep's folder has spaces in its name, as users'
# folders do. Everything is stopped and removed on exit.
# Usage: bash scripts/slurm-test.sh [--timings FILE] [path/to/dissect]   (default: .build/release/dissect, then
# .build/debug/dissect); --timings writes the cluster's start and both sweeps' wall seconds to FILE as JSON
# (tools/benchmark.py's sweep part).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
timings=""
binary=""
while [ $# -gt 0 ]; do
    case "$1" in
        --timings)
            [ $# -ge 2 ] || { echo "error: --timings needs a file to write; pass --timings FILE" >&2; exit 2; }
            timings="$2"; shift 2 ;;
        -*) echo "error: unknown option $1; the options are --timings FILE and a dissect binary's path" >&2; exit 2 ;;
        *) [ -z "$binary" ] || { echo "error: two binaries given ($binary, $1); pass one" >&2; exit 2; }
           binary="$1"; shift ;;
    esac
done
if [ -n "$timings" ]; then
    case "$timings" in /*) ;; *) timings="$root/$timings" ;; esac
    : >"$timings" 2>/dev/null || { echo "error: cannot write --timings $timings; pass a file in a writable folder" >&2; exit 2; }
fi
if [ -z "$binary" ]; then
    for candidate in .build/release/dissect .build/debug/dissect; do
        if [ -x "$candidate" ]; then binary="$candidate"; break; fi
    done
fi
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
    echo "error: no dissect binary (${binary:-none}); build it with \`swift build -c release --product dissect\` or pass its path" >&2
    exit 1
fi
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"

# Slurm and munge, as every other system package, through the one installer (scripts/setup.sh).
bash scripts/setup.sh --slurm
if [ "$(id -u)" -ne 0 ]; then
    echo "error: the Slurm test starts slurmd, which runs jobs as their user and must be root; run it as root" >&2
    exit 1
fi

work="$(mktemp -d /tmp/dissect-slurm-test.XXXXXX)"
pids=()
cleanup() {
    status=$?
    # Stop the daemons this script started, by their process ids, newest first.
    for (( i=${#pids[@]}-1; i>=0; i-- )); do kill "${pids[$i]}" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ "$status" -ne 0 ]; then
        for log in "$work"/slurmctld.log "$work"/slurmd.log "$work"/munged.log; do
            [ -f "$log" ] && { echo "--- $log (last lines) ---" >&2; tail -n 20 "$log" >&2; }
        done
        for log in "$work"/"sweep on slurm"/logs/*; do
            [ -f "$log" ] && { echo "--- $log (last lines) ---" >&2; tail -n 5 "$log" >&2; }
        done
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# A tiny corpus a model learns in a second: names, places and firms in fixed frames, and word vectors for them.
mkdir -p "$work/data"
write_corpus() {
    local file="$1" count="$2"
    RANDOM="$3"
    local persons=("John Smith" "Mary Jones" "Peter Brown" "Anna Klein" "Omar")
    local places=("Paris" "London" "Berlin" "New York" "Cairo")
    local firms=("Acme Corp" "United Nations" "Reuters" "Fiat")
    : >"$file"
    for (( n=0; n<count; n++ )); do
        local person="${persons[$((RANDOM % ${#persons[@]}))]}" place="${places[$((RANDOM % ${#places[@]}))]}" firm="${firms[$((RANDOM % ${#firms[@]}))]}"
        local first=1
        for word in $person; do
            if [ $first -eq 1 ]; then echo "$word NNP B-NP B-PER"; first=0; else echo "$word NNP I-NP I-PER"; fi
        done >>"$file"
        printf 'met NN B-VP O\nin IN B-PP O\n' >>"$file"
        first=1
        for word in $place; do
            if [ $first -eq 1 ]; then echo "$word NNP B-NP B-LOC"; first=0; else echo "$word NNP I-NP I-LOC"; fi
        done >>"$file"
        printf 'for IN B-PP O\n' >>"$file"
        first=1
        for word in $firm; do
            if [ $first -eq 1 ]; then echo "$word NNP B-NP B-ORG"; first=0; else echo "$word NNP I-NP I-ORG"; fi
        done >>"$file"
        printf '. . O O\n\n' >>"$file"
    done
}
write_corpus "$work/data/train.txt" 40 11
write_corpus "$work/data/valid.txt" 15 22
write_corpus "$work/data/test.txt" 15 33
RANDOM=7
for word in john smith mary jones peter brown anna klein omar paris london berlin new york cairo acme corp united nations reuters fiat met in for .; do
    printf '%s' "$word"
    for _ in 1 2 3 4 5 6 7 8; do printf ' 0.%04d' $((RANDOM % 10000)); done
    printf '\n'
done >"$work/data/vectors.txt"

# The cluster: one node, this machine, everything on 127.0.0.1 and in $work.
start="$(now)"
mkdir -p "$work/munge" "$work/state" "$work/spool"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 755 "$work/munge"
chmod 600 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" \
    --seed-file="$work/munge/munge.seed" --log-file="$work/munged.log" --foreground >>"$work/munged.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$work/munge/munge.socket" ] && break; sleep 0.05; done

node="$(hostname -s)"
node_line="$(slurmd -C | head -n 1)"
cpus="$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node_line")"
boards="$(sed -n 's/.*Boards=\([0-9]*\).*/\1/p' <<<"$node_line")"
sockets="$(sed -n 's/.*SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$node_line")"
cores="$(sed -n 's/.*CoresPerSocket=\([0-9]*\).*/\1/p' <<<"$node_line")"
threads="$(sed -n 's/.*ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$node_line")"
memory="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")"
cat >"$work/slurm.conf" <<EOF
ClusterName=dissecttest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 NodeHostname=$node CPUs=$cpus Boards=$boards SocketsPerBoard=$sockets CoresPerSocket=$cores ThreadsPerCore=$threads RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$work/slurm.conf"
slurmctld -D -i -f "$SLURM_CONF" >>"$work/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$node" >>"$work/slurmd.log" 2>&1 &
pids+=($!)
idle=0
for _ in $(seq 300); do
    if [ "$(sinfo --noheader --nodes="$node" --format=%t 2>/dev/null | tr -d ' ')" = "idle" ]; then idle=1; break; fi
    sleep 0.1
done
if [ "$idle" -ne 1 ]; then
    echo "error: the one-node Slurm cluster did not come up (sinfo: $(sinfo --noheader 2>&1 | head -n 1)); see the logs below" >&2
    exit 1
fi
ready="$(now)"
echo "slurm-test: cluster up (munged, slurmctld, slurmd; node $node idle) in $(elapsed "$start" "$ready") s" >&2

flags=(--train "$work/data/train.txt" --dev "$work/data/valid.txt" --test "$work/data/test.txt" --embeddings "$work/data/vectors.txt"
       --seeds 1-2 --epochs 1 --lr 0.1 --batch-size 2 --dropout 0 --steps 2 --random 2 --recurrent-random 1
       --bootstrap 0 --permutations 0 --threads 1)
cd "$work"
local_start="$(now)"
"$binary" sweep "${flags[@]}" --hidden 4,8 --jobs 2 --out "$work/sweep-local" >"$work/local.out" 2>"$work/local.err" \
    || { cat "$work/local.err" >&2; echo "error: the local sweep failed" >&2; exit 1; }
local_end="$(now)"
"$binary" sweep "${flags[@]}" --hidden 4,8 --executor slurm --wait --out "$work/sweep on slurm" >"$work/slurm.out" 2>"$work/slurm.err" \
    || { cat "$work/slurm.out" "$work/slurm.err" >&2; echo "error: the Slurm sweep failed" >&2; exit 1; }
slurm_end="$(now)"
grep -q "^submitted job array [0-9]* (4 runs) and aggregation job [0-9]*" "$work/slurm.out" \
    || { cat "$work/slurm.out" >&2; echo "error: the Slurm sweep did not say what it submitted" >&2; exit 1; }

# A run that fails (a file where its folder goes): the sweep must list it with its log, exit non-zero,
# and cancel the aggregation job that Slurm would otherwise keep pending for ever.
mkdir -p "$work/sweep-failing/runs"
echo "not a folder" >"$work/sweep-failing/runs/seed-2"
if "$binary" sweep "${flags[@]}" --hidden 4 --executor slurm --wait --out "$work/sweep-failing" >"$work/failing.out" 2>"$work/failing.err"; then
    echo "error: a sweep with a failing run exited 0" >&2; exit 1
fi
grep -q "^failed: run seed-2; its log is $work/sweep-failing/logs/seed-2.log" "$work/failing.err" \
    || { cat "$work/failing.err" >&2; echo "error: the failing run is not listed with its log" >&2; exit 1; }
if [ -n "$(squeue --noheader)" ]; then
    squeue >&2; echo "error: jobs are left in the queue after the failing sweep" >&2; exit 1
fi
echo "slurm-test: a failing run is listed with its log, the sweep exits non-zero and its aggregation job is cancelled" >&2

failures=0
count=0
for model in "$work"/sweep-local/runs/*/seed-*/model.safetensors; do
    relative="${model#"$work"/sweep-local/}"
    other="$work/sweep on slurm/$relative"
    count=$((count + 1))
    if [ ! -f "$other" ]; then
        echo "FAIL: $relative: no such file from the Slurm executor" >&2; failures=$((failures + 1))
    elif ! cmp -s "$model" "$other"; then
        echo "FAIL: $relative differs between the local and the Slurm executor" >&2; failures=$((failures + 1))
    fi
done
if [ "$count" -ne 4 ]; then echo "FAIL: the local sweep made $count models, not 4" >&2; failures=$((failures + 1)); fi
for sweep in sweep-local "sweep on slurm"; do
    for file in aggregate/aggregate.json aggregate/runs.csv aggregate/hidden-4/report.html aggregate/hidden-8/report.html; do
        if [ ! -s "$work/$sweep/$file" ]; then echo "FAIL: $sweep/$file is missing" >&2; failures=$((failures + 1)); fi
    done
done
# Slurm's own output of each task goes where sbatch --output says, spaces in the folder's name and all.
slurm_logs=("$work/sweep on slurm"/logs/slurm-*_*.out)
if [ ! -f "${slurm_logs[0]}" ]; then echo "FAIL: no Slurm task output in '$work/sweep on slurm/logs'" >&2; failures=$((failures + 1)); fi
if [ ! -f "$work/sweep on slurm/logs/aggregate.log" ]; then echo "FAIL: no aggregation job output in '$work/sweep on slurm/logs'" >&2; failures=$((failures + 1)); fi
if [ "$failures" -ne 0 ]; then echo "slurm-test: $failures failures" >&2; exit 1; fi
echo "slurm-test: 4 runs through sbatch, every model.safetensors byte-identical to the local executor's, both aggregates written" >&2
echo "slurm-test: local sweep $(elapsed "$local_start" "$local_end") s, Slurm sweep $(elapsed "$local_end" "$slurm_end") s (both 2 runs at a time), cluster start $(elapsed "$start" "$ready") s" >&2
if [ -n "$timings" ]; then
    printf '{"cluster_start_seconds": %s, "local_seconds": %s, "slurm_seconds": %s, "runs": 4}\n' \
        "$(elapsed "$start" "$ready")" "$(elapsed "$local_start" "$local_end")" "$(elapsed "$local_end" "$slurm_end")" >"$timings"
fi
cd "$root"
