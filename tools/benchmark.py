#!/usr/bin/env python3
"""Benchmark dissect against PyTorch on this machine: quality, speed, memory.

    python3 tools/benchmark.py [--seeds 1,2,3,4] [--rounds 3] [--torch-sentences 3000] [--baseline BINARY] [--out bench/results.json]

What it runs, all in one go so the figures are measured side by side:
  * quality: `dissect train` with the paper's settings (uni-LSTM 50, NCRF++ defaults, 10 epochs,
    best-dev checkpoint) for each seed; dev and test F1 by conlleval's rules and by NCRF++'s scorer,
    read from each checkpoint's model.json; the peak resident memory of each run (wait4).
  * speed: `rounds` interleaved rounds of {dissect, 2 epochs; PyTorch (tools/bench_torch.py) with
    1 thread; PyTorch with 2 threads}, same model, batch 10; sentences/s per epoch, medians and the
    ratio of medians. dissect always uses the machine's 2 cores (two shards of each batch).
    With --baseline BINARY (another build of dissect, e.g. main before a change), each round also
    trains with it, the two binaries in alternating order, and the ratio of their medians is reported.
  * evaluation: `dissect evaluate` on the 3,453 test sentences, 5 times: whole-command wall time and
    the tagging+scoring time it reports.
The machine is shared: medians are reported, with the load average before and after.
Needs a release build (`swift build -c release --product dissect`); PyTorch only for the speed ratio
(skipped with a note when torch is not installed).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DISSECT = os.path.join(ROOT, ".build", "release", "dissect")


def find_data():
    for base in [os.environ.get("DISSECT_DATA", ""), os.path.join(ROOT, "data"), os.path.join(ROOT, "..", "shared", "data")]:
        if base and os.path.exists(os.path.join(base, "conll2003", "train.txt")):
            return os.path.abspath(base)
    sys.exit("error: no CoNLL-2003 data in $DISSECT_DATA, data/ or ../shared/data; set DISSECT_DATA")


def run(command, **kwargs):
    """Runs a command; returns (wall seconds, peak RSS in MiB, stdout)."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    # Read stdout fully before waiting so the pipe never blocks; stderr is small.
    stdout = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    stderr = process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    if process.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed ({process.returncode}):\n{stderr}")
    return seconds, usage.ru_maxrss / 1024.0, stdout


def load_average():
    return round(os.getloadavg()[0], 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2,3,4", help="seeds of the quality runs (comma-separated)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved speed rounds")
    parser.add_argument("--torch-sentences", type=int, default=3000, help="sentences per PyTorch timing run")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results.json"), help="where to write the JSON results")
    parser.add_argument("--skip-reproduce", action="store_true", help="leave out the timing of `dissect reproduce`")
    parser.add_argument("--baseline", help="another dissect binary to time against, in alternating order, in the speed rounds")
    parser.add_argument("--skip-quality", action="store_true", help="leave out the four full training runs")
    args = parser.parse_args()
    if not os.path.exists(DISSECT):
        sys.exit("error: no release build; run `swift build -c release --product dissect` first")
    if args.baseline and not os.access(args.baseline, os.X_OK):
        sys.exit(f"error: {args.baseline}: --baseline is not an executable file; pass a dissect binary")
    if args.rounds < 1:
        sys.exit("error: --rounds must be at least 1")
    data = find_data()
    conll = os.path.join(data, "conll2003")
    embeddings = os.path.join(data, "glove", "glove.6B.50d.conll2003.txt")
    work = tempfile.mkdtemp(prefix="dissect-bench-")
    results = {"machine": {"cpus": os.cpu_count(), "load_before": load_average()}, "quality": [], "speed": {}, "evaluation": {}}

    # Quality, with the peak memory of each full training run.
    for seed in ([] if args.skip_quality else [int(s) for s in args.seeds.split(",") if s]):
        out = os.path.join(work, f"seed{seed}")
        seconds, rss, _ = run([DISSECT, "train", "--data-dir", conll, "--embeddings", embeddings,
                               "--seed", str(seed), "--out", out])
        record = json.load(open(os.path.join(out, "model.json")))["training"]
        epochs = [json.loads(line) for line in open(os.path.join(out, "train-log.jsonl"))]
        results["quality"].append({
            "seed": seed, "best_epoch": record["best_epoch"],
            "dev_f1": record["dev_f1"], "dev_f1_ncrf": record["dev_f1_ncrf"],
            "test_f1": record["test_f1"], "test_f1_ncrf": record["test_f1_ncrf"],
            "seconds": round(seconds, 2), "peak_rss_mib": round(rss, 1),
            "epoch_train_seconds": [e["train_seconds"] for e in epochs],
        })
        print(f"seed {seed}: dev {record['dev_f1']:.2f}/{record['dev_f1_ncrf']:.2f} test {record['test_f1']:.2f}/"
              f"{record['test_f1_ncrf']:.2f} (conlleval/NCRF++), {seconds:.1f} s, {rss:.0f} MiB", file=sys.stderr)

    # Speed, interleaved with PyTorch.
    have_torch = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0
    dissect_rates, torch_rates, baseline_rates = [], {1: [], 2: []}, []

    def train_rates(binary, out, seed):
        run([binary, "train", "--data-dir", conll, "--embeddings", embeddings, "--epochs", "2",
             "--seed", str(seed), "--out", out, "--overwrite"])
        return [json.loads(line)["sentences_per_second"] for line in open(os.path.join(out, "train-log.jsonl"))]

    for round_index in range(args.rounds):
        out = os.path.join(work, f"speed{round_index}")
        seed = 100 + round_index
        # The two builds alternate which goes first, so neither always gets the quieter slot.
        if args.baseline and round_index % 2 == 0:
            baseline_rates += train_rates(args.baseline, out + "-baseline", seed)
        dissect_rates += train_rates(DISSECT, out, seed)
        if args.baseline and round_index % 2 == 1:
            baseline_rates += train_rates(args.baseline, out + "-baseline", seed)
        if have_torch:
            for threads in (1, 2):
                _, _, stdout = run([sys.executable, os.path.join(ROOT, "tools", "bench_torch.py"), "--train",
                                    os.path.join(conll, "train.txt"), "--embeddings", embeddings, "--threads", str(threads),
                                    "--sentences", str(args.torch_sentences), "--json"])
                torch_rates[threads].append(json.loads(stdout.strip().splitlines()[-1])["sentences_per_second"])
        print(f"speed round {round_index + 1}: dissect {dissect_rates[-2:]}, torch {[r[-1:] for r in torch_rates.values()]}",
              file=sys.stderr)
    speed = {"dissect_sentences_per_second": dissect_rates,
             "dissect_median": statistics.median(dissect_rates),
             "dissect_epoch_seconds_median": 14041 / statistics.median(dissect_rates)}
    if args.baseline:
        speed["baseline_binary"] = args.baseline
        speed["baseline_sentences_per_second"] = baseline_rates
        speed["baseline_median"] = statistics.median(baseline_rates)
        speed["ratio_vs_baseline"] = speed["dissect_median"] / speed["baseline_median"]
    if have_torch:
        for threads in (1, 2):
            speed[f"torch_{threads}_thread_sentences_per_second"] = torch_rates[threads]
            speed[f"torch_{threads}_thread_median"] = statistics.median(torch_rates[threads])
            speed[f"ratio_vs_torch_{threads}_thread"] = speed["dissect_median"] / statistics.median(torch_rates[threads])
    results["speed"] = speed

    # Evaluation of the test set.
    model = os.path.join(work, "seed1") if results["quality"] else os.path.join(work, "speed0")
    walls, internal = [], []
    for _ in range(5):
        seconds, rss, stdout = run([DISSECT, "evaluate", "--model", model, "--data", os.path.join(conll, "test.txt"), "--json"])
        walls.append(seconds)
        internal.append(json.loads(stdout)["seconds"])
    results["evaluation"] = {"command_seconds_median": statistics.median(walls),
                             "tag_and_score_seconds_median": statistics.median(internal), "peak_rss_mib": round(rss, 1)}

    # Analysis: sensitivity on dev + readout ablation of all labels on test, and recurrent ablation of the paper's pairs.
    walls, recurrent = [], []
    for round_index in range(3):
        out = os.path.join(work, f"analysis{round_index}")
        start = time.monotonic()
        run([DISSECT, "sensitivity", "--model", model, "--data", os.path.join(conll, "valid.txt"), "--out", out + "/sensitivity"])
        run([DISSECT, "ablate", "--model", model, "--rank-on", os.path.join(conll, "valid.txt"), "--data",
             os.path.join(conll, "test.txt"), "--steps", "25", "--random", "20", "--out", out + "/readout"])
        walls.append(time.monotonic() - start)
    seconds, _, _ = run([DISSECT, "ablate", "--model", model, "--rank-on", os.path.join(conll, "valid.txt"), "--data",
                         os.path.join(conll, "test.txt"), "--labels", "B-PER,B-MISC,B-LOC,I-ORG", "--mode", "recurrent",
                         "--steps", "25", "--random", "20", "--out", os.path.join(work, "recurrent")])
    recurrent.append(seconds)
    results["analysis"] = {"sensitivity_plus_readout_all_labels_seconds_median": statistics.median(walls),
                           "recurrent_two_pairs_seconds": recurrent[0]}

    # The whole paper in one command.
    if not args.skip_reproduce:
        seconds, rss, _ = run([DISSECT, "reproduce", "--data-dir", conll, "--embeddings", embeddings,
                               "--out", os.path.join(work, "reproduce")])
        results["reproduce"] = {"seconds": seconds, "peak_rss_mib": round(rss, 1)}
    results["machine"]["load_after"] = load_average()

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=2)
    print_markdown(results)


def print_markdown(results):
    quality = results["quality"]
    if quality:
        print("| seed | best epoch | dev F1 conlleval | dev F1 NCRF++ | test F1 conlleval | test F1 NCRF++ | wall s | peak RSS MiB |")
        print("|---|---|---|---|---|---|---|---|")
        for q in quality:
            print(f"| {q['seed']} | {q['best_epoch']} | {q['dev_f1']:.2f} | {q['dev_f1_ncrf']:.2f} | {q['test_f1']:.2f} | "
                  f"{q['test_f1_ncrf']:.2f} | {q['seconds']:.1f} | {q['peak_rss_mib']:.0f} |")
        def mean_sd(key):
            values = [q[key] for q in quality]
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            return f"{statistics.mean(values):.2f} ± {sd:.2f}"
        print(f"| mean ± sd | | {mean_sd('dev_f1')} | {mean_sd('dev_f1_ncrf')} | {mean_sd('test_f1')} | {mean_sd('test_f1_ncrf')} | | |")
        print()
    s = results["speed"]
    print(f"dissect training: median {s['dissect_median']:.0f} sentences/s "
          f"({s['dissect_epoch_seconds_median']:.2f} s per epoch of 14,041 sentences, 2 cores)")
    if "baseline_median" in s:
        print(f"baseline {s['baseline_binary']}: median {s['baseline_median']:.0f} sentences/s; "
              f"this build / baseline = {s['ratio_vs_baseline']:.3f} (same rounds, alternating order)")
    for threads in (1, 2):
        key = f"torch_{threads}_thread_median"
        if key in s:
            print(f"PyTorch, {threads} thread(s): median {s[key]:.0f} sentences/s; dissect is "
                  f"{s[f'ratio_vs_torch_{threads}_thread']:.1f}x faster")
    e = results["evaluation"]
    print(f"dissect evaluate, 3,453 test sentences: {e['command_seconds_median']:.3f} s for the whole command "
          f"(tagging and scoring {e['tag_and_score_seconds_median']:.3f} s)")
    a = results.get("analysis")
    if a:
        print(f"dissect sensitivity (dev) + ablate, readout, all 9 labels x 25 steps x (ranked + reverse + 20 random): "
              f"median {a['sensitivity_plus_readout_all_labels_seconds_median']:.2f} s wall for both commands")
        print(f"dissect ablate, recurrent, the paper's two pairs (4 rankings x 25 steps, reverse + 20 random): "
              f"{a['recurrent_two_pairs_seconds']:.1f} s wall")
    r = results.get("reproduce")
    if r:
        print(f"dissect reproduce (4 seeds x 10 epochs and every analysis): {r['seconds']:.0f} s wall, peak RSS {r['peak_rss_mib']:.0f} MiB")
    m = results["machine"]
    print(f"load average before/after: {m['load_before']}/{m['load_after']} on {m['cpus']} CPUs")


if __name__ == "__main__":
    main()
