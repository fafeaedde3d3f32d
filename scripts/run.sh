#!/usr/bin/env bash
# The main job: set up, build, and reproduce the whole paper with `dissect reproduce`:
# train the paper's tagger for seeds 1-4 (CoNLL-2003, uni-LSTM 50, NCRF++ settings),
# measure sensitivity, ablate, correlate, and write runs/paper/report.html.
# Data: --data-dir / $DISSECT_DATA / data/conll2003 / ../shared/data/conll2003.
# A rerun keeps every finished seed whose inputs and options match and trains the others again from their start.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product dissect
.build/release/dissect reproduce --out "${DISSECT_OUT:-runs/paper}" "$@"
