#!/usr/bin/env bash
# The main job: set up, build, train the paper's tagger (CoNLL-2003, uni-LSTM 50,
# NCRF++ settings, seed 1) and score it on the test set with both scorers.
# Data: --data-dir / $DISSECT_DATA / data/conll2003 / ../shared/data/conll2003.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product dissect
out="${DISSECT_OUT:-runs/paper-seed1}"
.build/release/dissect train --seed 1 --out "$out" --overwrite "$@"
test_file=$(python3 -c "import json,sys; print(json.load(open('$out/model.json'))['training'].get('test_file') or '')" 2>/dev/null || true)
if [ -n "$test_file" ]; then
    .build/release/dissect evaluate --model "$out" --data "$test_file" --predictions "$out/test-predictions.txt"
fi
