#!/usr/bin/env bash
# Set up and run the whole test suite (Swift Testing) in a debug build, then
# build the release binary the way scripts/run.sh does and run the end-to-end
# CLI tests (every command, every bad-input case, the fuzz regression inputs)
# against it: the binary users get is the binary that is tested. Last, the Slurm executor against a
# one-node Slurm started on 127.0.0.1 (scripts/slurm-test.sh, which installs Slurm and munge if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
swift build --build-tests
swift test --skip-build "$@"
swift build -c release --product dissect
echo "test: the CLI end-to-end tests against the release binary (.build/release/dissect)" >&2
DISSECT_BINARY="$PWD/.build/release/dissect" swift test --skip-build --filter DissectCLITests
echo "test: dissect sweep --executor slurm against a one-node Slurm (scripts/slurm-test.sh)" >&2
bash scripts/slurm-test.sh "$PWD/.build/release/dissect"
