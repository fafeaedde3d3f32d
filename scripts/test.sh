#!/usr/bin/env bash
# Set up and run the whole test suite (Swift Testing) in a debug build, then
# build the release binary the way scripts/run.sh does and run the end-to-end
# CLI tests (every command, every bad-input case, the fuzz regression inputs)
# against it: the binary users get is the binary that is tested.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
swift build --build-tests
swift test --skip-build "$@"
swift build -c release --product dissect
echo "test: the CLI end-to-end tests against the release binary (.build/release/dissect)" >&2
DISSECT_BINARY="$PWD/.build/release/dissect" swift test --skip-build --filter DissectCLITests
