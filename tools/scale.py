#!/usr/bin/env python3
"""Scale check: dissect on a corpus 10x the size of CoNLL-2003 (each file concatenated 10 times).

    python3 tools/scale.py [--times 10] [--epochs 1]

Builds <tmp>/train.txt and test.txt as `times` copies of CoNLL-2003's (valid.txt is kept as is),
then runs, each as its own process: `dissect train` (the paper model, `epochs` epochs, dev and
test scored every epoch), `dissect evaluate` on the big training file, and `dissect ablate`
(readout, all labels, 25 steps, reverse + 20 random orders) ranked on dev, measured on the big
test file; and the same three on the original files. It prints wall time and peak resident
memory (wait4) for each, so memory can be seen to grow in proportion to the data.
Needs a release build (`swift build -c release --product dissect`).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DISSECT = os.path.join(ROOT, ".build", "release", "dissect")


def measure(command):
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"error: {' '.join(command)} failed:\n{stderr}")
    return time.monotonic() - started, usage.ru_maxrss / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--times", type=int, default=10, help="how many copies of each file")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs")
    args = parser.parse_args()
    if not os.path.exists(DISSECT):
        sys.exit("error: no release build; run `swift build -c release --product dissect` first")
    source = None
    for base in [os.environ.get("DISSECT_DATA", ""), os.path.join(ROOT, "data"), os.path.join(ROOT, "..", "shared", "data")]:
        if base and os.path.exists(os.path.join(base, "conll2003", "train.txt")):
            source = os.path.join(base, "conll2003")
            break
    if source is None:
        sys.exit("error: no CoNLL-2003 data in $DISSECT_DATA, data/ or ../shared/data")
    work = tempfile.mkdtemp(prefix="dissect-scale-")
    big = os.path.join(work, "big")
    os.makedirs(big)
    for name in ("train.txt", "test.txt"):
        with open(os.path.join(big, name), "wb") as target:
            for _ in range(args.times):
                with open(os.path.join(source, name), "rb") as part:
                    shutil.copyfileobj(part, target)
    shutil.copy(os.path.join(source, "valid.txt"), os.path.join(big, "valid.txt"))
    print(f"| data | command | wall s | peak RSS MiB |\n|---|---|---|---|")
    for label, folder in (("CoNLL-2003", source), (f"{args.times}x", big)):
        model = os.path.join(work, f"model-{label}")
        rows = [
            ("train", [DISSECT, "train", "--data-dir", folder, "--epochs", str(args.epochs), "--out", model]),
            ("evaluate train.txt", [DISSECT, "evaluate", "--model", model, "--data", os.path.join(folder, "train.txt")]),
            ("ablate (readout, all labels)", [DISSECT, "ablate", "--model", model, "--rank-on", os.path.join(folder, "valid.txt"),
                                              "--data", os.path.join(folder, "test.txt"), "--out", os.path.join(work, f"ablate-{label}")]),
        ]
        for name, command in rows:
            seconds, rss = measure(command)
            print(f"| {label} | {name} | {seconds:.2f} | {rss:.0f} |", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
