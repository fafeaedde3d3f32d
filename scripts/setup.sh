#!/usr/bin/env bash
# Installs what dissect needs beyond the Swift toolchain: OpenBLAS (Debian libopenblas-dev).
# With --browser (the test script passes it) also Debian's chromium, chromium-driver and
# python3-selenium, which the explorer's browser test drives from /usr/bin/python3, and zip and
# unzip, with which the tests build and read GloVe zips (`dissect data glove --from FILE.zip`).
# With --slurm (scripts/slurm-test.sh passes it) also Debian's slurmctld, slurmd, slurm-client and munge.
set -euo pipefail
packages=(libopenblas-dev)
for option in "$@"; do
    case "$option" in
        --browser) packages+=(chromium chromium-driver python3-selenium zip unzip) ;;
        --slurm) packages+=(slurmctld slurmd slurm-client munge) ;;
        *) echo "error: unknown option $option; use --browser and/or --slurm" >&2; exit 2 ;;
    esac
done
missing=()
for package in "${packages[@]}"; do
    if ! dpkg -s "$package" >/dev/null 2>&1; then missing+=("$package"); fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "setup: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "error: swift is not on PATH; install the Swift 6.3 toolchain (swift.org) and try again" >&2
    exit 1
fi
