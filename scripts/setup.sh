#!/usr/bin/env bash
# Installs what dissect needs beyond the Swift toolchain: OpenBLAS (Debian libopenblas-dev).
set -euo pipefail
if ! dpkg -s libopenblas-dev >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "setup: installing libopenblas-dev" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libopenblas-dev >/dev/null
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "error: swift is not on PATH; install the Swift 6.3 toolchain (swift.org) and try again" >&2
    exit 1
fi
