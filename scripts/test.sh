#!/usr/bin/env bash
# Set up and run the whole test suite (Swift Testing), in a debug build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build "$@"
