#!/usr/bin/env python3
"""Benchmark dissect against PyTorch and NCRF++ on this machine: quality, speed, memory.

    python3 tools/benchmark.py [--seeds 1,2,3,4] [--rounds 3] [--torch-sentences 3000] [--baseline BINARY]
                               [--crf-seeds 1,2] [--only PARTS | --skip-...] [--quick] [--out bench/results.json]

What it runs, all in one go so the figures are measured side by side (the parts, for --only):
  * quality: `dissect train` with the paper's settings (uni-LSTM 50, NCRF++ defaults, 10 epochs,
    best-dev checkpoint) for each seed; dev and test F1 by conlleval's rules and by NCRF++'s scorer,
    read from each checkpoint's model.json; the peak resident memory of each run (wait4).
  * speed: `rounds` interleaved rounds of {dissect, 2 epochs; PyTorch (tools/bench_torch.py) with
    1 thread; PyTorch with 2 threads}, same model, batch 10; sentences/s per epoch, medians and the
    ratio of medians. dissect always uses the machine's 2 cores (two shards of each batch).
    With --baseline BINARY (another build of dissect, e.g. main before a change), each round also
    trains with it, the two binaries in alternating order, and `baseline.ratio` = this build's median
    sentences/s / the baseline's median sentences/s (above 1: this build is faster).
  * stacked: `rounds` rounds of {dissect train --layers 2 --bidirectional --hidden 100, 1 epoch;
    bench_torch.py with the same model and 2 threads}, dissect and PyTorch in alternating order,
    batch 10 for both; as in the speed part, dissect trains on the whole training file and PyTorch
    on its first --torch-sentences shuffled sentences (a rate, so the count only sets the run's length).
    Medians and dissect / PyTorch (target >= 5x).
  * crf: BiLSTM-CRF at NCRF++'s defaults (`dissect train --bidirectional --hidden 100 --crf`, char CNN,
    10 epochs, test file scored every epoch) for each of --crf-seeds; best-dev test F1 by conlleval and
    by NCRF++'s scorer (model.json), mean over the seeds (target >= 88.65; NCRF++ measured 88.95);
    median training seconds per epoch (train-log.jsonl) and NCRF++'s per-epoch time / dissect's
    (target >= 10x).
  * cost: the cost curve, sentences/s against hidden size per direction (50, 100, 200, 400; uni and bi),
    the paper's model otherwise (char CNN, softmax, batch 10). `rounds` rounds of {dissect train, 2 epochs
    on the first 2,000 training sentences (median of the epochs); bench_torch.py, 2 threads, on 1,000
    (hidden 50, 100), 500 (200) or 300 (400) sentences}, the two in alternating order per round; medians
    and dissect / PyTorch per configuration (targets >= 6x at 400 uni and 200 bi), written as a table and
    as docs/cost-curve.svg (`dissect chart`); then the peak resident memory of one epoch of a BiLSTM
    400 per direction on the whole train.txt (target < 192 MiB).
  * evaluation: `dissect evaluate` on the 3,453 test sentences, 5 times: whole-command wall time and
    the tagging+scoring time it reports.
  * analysis: sensitivity (with its default 1,000 bootstrap resamples and 1,000 permutations, whose
    seconds it reports) + readout ablation, and recurrent ablation of the paper's pairs.
  * seeds: `dissect compare` of the four paper models (the quality runs' checkpoints, else trained here
    with the paper's settings) on dev, 5 times, and `dissect rank` of seed 1 with all four methods
    (rank on dev, score on test, K = 25), 3 times: whole-command wall seconds, medians
    (targets < 2 s and < 10 s).
  * explorer: `dissect explore` of seed 1 (as for seeds) on dev, 3 times (wall seconds, page bytes), then
    tools/browser_check.py --timings under /usr/bin/python3 (Debian's selenium and chromium): the
    milliseconds of each view change in headless Chromium, median of 5 (target < 200 ms each).
  * concepts: `dissect concepts` of seed 1 (as for seeds) on dev with its defaults (1,000 bootstrap resamples,
    POS and chunk columns, training frequencies from the recorded train.txt), 3 times: median wall seconds (target < 5 s)
    and the seconds the command reports for the analysis itself.
  * prune: `dissect prune` of seed 1 to 40 units by sensitivity on dev, plus `--fine-tune 1`, 3 times: median wall
    seconds (target < 3 s).
  * sizes: `dissect sizes` of seed 1 with its defaults (sizes 5..45, the three pruning routes with and without 1 epoch of
    fine-tuning, and training each size from scratch with the paper's settings), once: wall seconds (target < 240 s),
    the smallest size within 1 F1 point per route, and sizes.md/sizes.svg copied into docs/.
  * import: a synthesised uni-LSTM 50 tagger with a 400,000-word, 50-d vocabulary (numpy random weights, written
    as safetensors by hand with its mapping and words file), `dissect import` 3 times: median wall seconds (target < 2 s).
  * reproduce: `dissect reproduce`, the whole paper in one command (intervals, p and q included), with the
    load average before and after and the run's own step timings summed by kind (where the time goes; target
    < 90 s), then `dissect reproduce --all` (mean and resample ablation in both modes, and the control
    models; --skip-reproduce-all leaves it out). With
    --baseline, the baseline's `reproduce` runs too, alternating with this build's, --reproduce-rounds
    times each, and `reproduce.ratio` = this build's median seconds / the baseline's.
  * sweep: `dissect sweep --seeds 1-20` of the paper model with the local executor and its defaults
    (--threads 2, so --jobs 1 on 2 cores; each run trains and runs the per-model analyses): the sweep's wall
    seconds against the sum of the runs' own wall seconds (aggregate/aggregate.json) divided by the parallel
    runs (target <= 1.2x); then scripts/slurm-test.sh --timings, 3 times: the same 4 tiny runs through the
    local executor and through sbatch on a one-node Slurm on 127.0.0.1, and the difference (the Slurm
    overhead, median; target < 10 s). Needs root and Slurm (scripts/setup.sh --slurm) for the second half.
Everything goes into one JSON file (--out), and a summary table is printed at the end.
--quick trains on the first 300 training sentences (100 dev and test) for 1-2 epochs, one round,
without `reproduce` and `sweep`: a smoke test of the script, not a measurement.
The machine is shared: medians are reported, with the load average before and after.
Needs a release build (`swift build -c release --product dissect`); PyTorch only for the speed ratios
(skipped with a note when torch is not installed).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DISSECT = os.path.join(ROOT, ".build", "release", "dissect")
BENCH_TORCH = os.path.join(ROOT, "tools", "bench_torch.py")

# NCRF++'s BiLSTM-CRF at its defaults (char CNN, 100 per direction, CRF, batch 10, 10 epochs), measured on
# this machine on 1 core: training took 68-112 s per epoch, median about 81 s (../shared/anchors/README.md,
# "NCRF++ BiLSTM-CRF (the paper's comparison model)"); best-dev test F1 88.95 by both scorers.
NCRF_CRF_EPOCH_SECONDS = 81.0
NCRF_CRF_TEST_F1 = 88.95
CRF_F1_TARGET = 88.65           # issue 14: mean best-dev test F1 over the seeds, each scorer
CRF_SPEEDUP_TARGET = 10.0       # issue 14: NCRF++ seconds per epoch / dissect's
STACKED_SPEEDUP_TARGET = 5.0    # issue 14: dissect / PyTorch sentences/s, 2-layer BiLSTM 100, 2 threads
STACKED_MODEL = ["--layers", "2", "--bidirectional", "--hidden", "100"]   # the same flags for both programs
PARTS = ("quality", "speed", "stacked", "crf", "cost", "evaluation", "analysis", "seeds", "explorer", "concepts", "prune", "sizes", "import",
         "reproduce", "sweep")
COST_HIDDEN = (50, 100, 200, 400)   # issue 19: per direction, uni and bi
COST_TRAIN_SENTENCES = 2000         # dissect's timed epochs train on the first sentences of train.txt
COST_TORCH_SENTENCES = {50: 1000, 100: 1000, 200: 500, 400: 300}
COST_TARGETS = {(400, False): 6.0, (200, True): 6.0}  # issue 19: dissect / PyTorch sentences/s
REPRODUCE_TARGET_SECONDS = 90     # issue 19: default reproduce on a quiet machine
MEMORY_TARGET_MIB = 192             # issue 19: training peak RSS, BiLSTM 400 per direction, whole train.txt
SWEEP_SEEDS = "1-20"              # issue 20: the local executor on 20 seeds of the paper model
SWEEP_TARGET_RATIO = 1.2          # issue 20: wall <= 1.2 x (sum of the runs' walls / parallel runs)
SLURM_OVERHEAD_TARGET_SECONDS = 10.0  # issue 20: a 4-run sweep through sbatch against the local executor
IMPORT_TARGET_SECONDS = 2.0     # issue 18: import of a 400k-word, 50-d model
EXPLORER_VIEW_TARGET_MS = 200.0  # issue 17: each view change in Chromium
EXPLORER_PAGE_TARGET_BYTES = 15 * 1024 * 1024
COMPARE_TARGET_SECONDS = 2.0    # issue 16: compare of 4 paper models on dev
RANK_TARGET_SECONDS = 10.0      # issue 16: rank with all four methods
CONCEPTS_TARGET_SECONDS = 5.0   # issue 21: concepts of the paper model on dev, 1,000 bootstrap resamples
PRUNE_TARGET_SECONDS = 3.0      # issue 21: prune (keep 40 by sensitivity on dev) plus 1 epoch of fine-tuning
SIZES_TARGET_SECONDS = 240.0    # issue 21: the hidden-size study, sizes 5..45 (and the full 50), four routes, one seed
QUICK_SENTENCES = {"train.txt": 300, "valid.txt": 100, "test.txt": 100}


def find_data():
    for base in [os.environ.get("DISSECT_DATA", ""), os.path.join(ROOT, "data"), os.path.join(ROOT, "..", "shared", "data")]:
        if base and os.path.exists(os.path.join(base, "conll2003", "train.txt")):
            return os.path.abspath(base)
    sys.exit("error: no CoNLL-2003 data in $DISSECT_DATA, data/ or ../shared/data; set DISSECT_DATA")


def write_subset(source_dir, target_dir, limits=QUICK_SENTENCES):
    """The first sentences of each CoNLL file (-DOCSTART- blocks not counted, kept as they are); --quick's data."""
    os.makedirs(target_dir, exist_ok=True)
    for name, limit in limits.items():
        blocks, block, kept = [], [], 0
        for line in open(os.path.join(source_dir, name), encoding="utf-8"):
            if line.strip():
                block.append(line)
                continue
            if block:
                blocks.append(block)
                kept += not block[0].startswith("-DOCSTART-")
                block = []
            if kept >= limit:
                break
        if block and kept < limit:
            blocks.append(block)
        with open(os.path.join(target_dir, name), "w", encoding="utf-8") as handle:
            handle.write("\n".join("".join(b) for b in blocks) + "\n")
    return target_dir


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


def read_log(out):
    return [json.loads(line) for line in open(os.path.join(out, "train-log.jsonl"))]


def epoch_sentences(log):
    """Training sentences per epoch, from a train-log line (sentences/s x seconds)."""
    return round(log[0]["sentences_per_second"] * log[0]["train_seconds"])


def selected_parts(args):
    if args.only:
        parts = [p.strip() for p in args.only.split(",") if p.strip()]
        unknown = [p for p in parts if p not in PARTS]
        if unknown:
            sys.exit(f"error: --only: unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
        return set(parts)
    parts = set(PARTS)
    for part in PARTS:
        if getattr(args, f"skip_{part}", False):
            parts.discard(part)
    if args.quick:
        parts.discard("reproduce")
        parts.discard("sweep")
    return parts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,2,3,4", help="seeds of the quality runs (comma-separated)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds of the speed and stacked parts (default 3; 1 with --quick)")
    parser.add_argument("--torch-sentences", type=int, default=3000, help="sentences per PyTorch timing run")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results.json"), help="where to write the JSON results")
    parser.add_argument("--dissect", default=DISSECT, help="the dissect binary to measure (default: this checkout's release build)")
    parser.add_argument("--baseline", help="another dissect binary to time against, in alternating order, in the speed rounds and reproduce")
    parser.add_argument("--crf-seeds", default="1,2", help="seeds of the BiLSTM-CRF runs (comma-separated)")
    parser.add_argument("--crf-epochs", type=int, default=10, help="epochs of each BiLSTM-CRF run (NCRF++: 10)")
    parser.add_argument("--only", help=f"run only these parts (comma-separated: {', '.join(PARTS)}); overrides the --skip flags")
    parser.add_argument("--skip-quality", action="store_true", help="leave out the four full training runs")
    parser.add_argument("--skip-speed", action="store_true", help="leave out the paper-model speed rounds (and --baseline)")
    parser.add_argument("--skip-stacked", action="store_true", help="leave out the 2-layer BiLSTM 100 rounds against PyTorch")
    parser.add_argument("--skip-crf", action="store_true", help="leave out the BiLSTM-CRF runs at NCRF++'s defaults")
    parser.add_argument("--skip-cost", action="store_true", help="leave out the cost curve (hidden 50-400, uni and bi, against PyTorch)")
    parser.add_argument("--cost-configurations", help="only these cost-curve configurations, e.g. 400uni,200bi "
                        "(leaves out the memory run and the chart; for checking one target quickly)")
    parser.add_argument("--cost-svg", default=os.path.join(ROOT, "docs", "cost-curve.svg"), help="where the cost curve's SVG goes")
    parser.add_argument("--skip-evaluation", action="store_true", help="leave out the timing of `dissect evaluate`")
    parser.add_argument("--skip-analysis", action="store_true", help="leave out the timing of sensitivity and ablate")
    parser.add_argument("--skip-seeds", action="store_true", help="leave out the timing of `dissect compare` and `dissect rank`")
    parser.add_argument("--skip-concepts", action="store_true", help="leave out the timing of `dissect concepts` of seed 1 on dev")
    parser.add_argument("--skip-prune", action="store_true", help="leave out the timing of `dissect prune --fine-tune 1` of seed 1")
    parser.add_argument("--skip-sizes", action="store_true", help="leave out the hidden-size study of seed 1 (about 3 minutes)")
    parser.add_argument("--skip-explorer", action="store_true", help="leave out the explorer page's size and view-change timings")
    parser.add_argument("--skip-import", action="store_true", help="leave out the timing of `dissect import` of a 400k-word model")
    parser.add_argument("--skip-reproduce", action="store_true", help="leave out the timing of `dissect reproduce`")
    parser.add_argument("--skip-sweep", action="store_true", help="leave out the sweep of 20 seeds and the Slurm overhead")
    parser.add_argument("--skip-reproduce-all", action="store_true", help="in the reproduce part, leave out `reproduce --all`")
    parser.add_argument("--reproduce-rounds", type=int, default=1,
                        help="alternating runs of this build's and the --baseline's `reproduce` (default 1 each)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: first 300 training sentences (100 dev/test), 1-2 epochs, 1 round, no reproduce")
    args = parser.parse_args()
    dissect = args.dissect
    if not os.access(dissect, os.X_OK):
        sys.exit(f"error: {dissect}: no release build; run `swift build -c release --product dissect` first")
    if args.baseline and not os.access(args.baseline, os.X_OK):
        sys.exit(f"error: {args.baseline}: --baseline is not an executable file; pass a dissect binary")
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if args.rounds < 1:
        sys.exit("error: --rounds must be at least 1")
    parts = selected_parts(args)
    if args.baseline and not parts & {"speed", "reproduce"}:
        print("note: --baseline is timed in the speed and reproduce parts, which are left out", file=sys.stderr)
    quality_epochs, speed_epochs, stacked_epochs, crf_epochs = None, 2, 1, args.crf_epochs
    if args.quick:
        args.torch_sentences = min(args.torch_sentences, QUICK_SENTENCES["train.txt"])
        quality_epochs, speed_epochs, stacked_epochs, crf_epochs = 2, 1, 1, min(crf_epochs, 2)
    data = find_data()
    conll = os.path.join(data, "conll2003")
    embeddings = os.path.join(data, "glove", "glove.6B.50d.conll2003.txt")
    work = tempfile.mkdtemp(prefix="dissect-bench-")
    if args.quick:
        conll = write_subset(conll, os.path.join(work, "quick-data"))
    results = {"machine": {"cpus": os.cpu_count(), "load_before": load_average()},
               "settings": {"dissect": dissect, "parts": sorted(parts, key=PARTS.index), "quick": args.quick,
                            "rounds": args.rounds, "torch_sentences": args.torch_sentences, "data": conll},
               "quality": [], "speed": {}, "evaluation": {}}
    have_torch = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0
    if not have_torch:
        print("note: torch is not installed; the PyTorch comparisons are left out", file=sys.stderr)

    def torch_rate(threads, extra=()):
        _, _, stdout = run([sys.executable, BENCH_TORCH, "--train", os.path.join(conll, "train.txt"),
                            "--embeddings", embeddings, "--threads", str(threads),
                            "--sentences", str(args.torch_sentences), "--json", *extra])
        return json.loads(stdout.strip().splitlines()[-1])

    # Quality, with the peak memory of each full training run.
    for seed in ([int(s) for s in args.seeds.split(",") if s] if "quality" in parts else []):
        out = os.path.join(work, f"seed{seed}")
        seconds, rss, _ = run([dissect, "train", "--data-dir", conll, "--embeddings", embeddings,
                               "--seed", str(seed), "--out", out]
                              + (["--epochs", str(quality_epochs)] if quality_epochs else []))
        record = json.load(open(os.path.join(out, "model.json")))["training"]
        epochs = read_log(out)
        results["quality"].append({
            "seed": seed, "best_epoch": record["best_epoch"],
            "dev_f1": record["dev_f1"], "dev_f1_ncrf": record["dev_f1_ncrf"],
            "test_f1": record["test_f1"], "test_f1_ncrf": record["test_f1_ncrf"],
            "seconds": round(seconds, 2), "peak_rss_mib": round(rss, 1),
            "epoch_train_seconds": [e["train_seconds"] for e in epochs],
        })
        print(f"seed {seed}: dev {record['dev_f1']:.2f}/{record['dev_f1_ncrf']:.2f} test {record['test_f1']:.2f}/"
              f"{record['test_f1_ncrf']:.2f} (conlleval/NCRF++), {seconds:.1f} s, {rss:.0f} MiB", file=sys.stderr)

    # Speed of the paper model, interleaved with PyTorch (and with --baseline, alternating order).
    def train_log(binary, out, seed, epochs, extra=()):
        run([binary, "train", "--data-dir", conll, "--embeddings", embeddings, "--epochs", str(epochs),
             "--seed", str(seed), "--out", out, "--overwrite", *extra])
        return read_log(out)

    if "speed" in parts:
        dissect_rates, torch_rates, baseline_rates, sentences = [], {1: [], 2: []}, [], None
        for round_index in range(args.rounds):
            out = os.path.join(work, f"speed{round_index}")
            seed = 100 + round_index
            # The two builds alternate which goes first, so neither always gets the quieter slot.
            if args.baseline and round_index % 2 == 0:
                baseline_rates += [e["sentences_per_second"] for e in train_log(args.baseline, out + "-baseline", seed, speed_epochs)]
            log = train_log(dissect, out, seed, speed_epochs)
            sentences = epoch_sentences(log)
            dissect_rates += [e["sentences_per_second"] for e in log]
            if args.baseline and round_index % 2 == 1:
                baseline_rates += [e["sentences_per_second"] for e in train_log(args.baseline, out + "-baseline", seed, speed_epochs)]
            if have_torch:
                for threads in (1, 2):
                    torch_rates[threads].append(torch_rate(threads)["sentences_per_second"])
            print(f"speed round {round_index + 1}: dissect {dissect_rates[-speed_epochs:]}"
                  + (f", baseline {baseline_rates[-speed_epochs:]}" if args.baseline else "")
                  + (f", torch 1/2 threads {[r[-1] for r in torch_rates.values()]}" if have_torch else ""), file=sys.stderr)
        speed = {"dissect_sentences_per_second": dissect_rates,
                 "dissect_median": statistics.median(dissect_rates),
                 "train_sentences_per_epoch": sentences,
                 "dissect_epoch_seconds_median": sentences / statistics.median(dissect_rates)}
        if args.baseline:
            speed["baseline_binary"] = args.baseline
            speed["baseline_sentences_per_second"] = baseline_rates
            speed["baseline_median"] = statistics.median(baseline_rates)
            speed["ratio_vs_baseline"] = speed["dissect_median"] / speed["baseline_median"]
            results["baseline"] = {
                "definition": "ratio = new / baseline, of the median training sentences/s (paper configuration, "
                              "same rounds, alternating order; above 1: the new build is faster)",
                "new_binary": dissect, "baseline_binary": args.baseline,
                "new_sentences_per_second": dissect_rates, "baseline_sentences_per_second": baseline_rates,
                "new_median": speed["dissect_median"], "baseline_median": speed["baseline_median"],
                "ratio": speed["ratio_vs_baseline"]}
        if have_torch:
            for threads in (1, 2):
                speed[f"torch_{threads}_thread_sentences_per_second"] = torch_rates[threads]
                speed[f"torch_{threads}_thread_median"] = statistics.median(torch_rates[threads])
                speed[f"ratio_vs_torch_{threads}_thread"] = speed["dissect_median"] / statistics.median(torch_rates[threads])
        results["speed"] = speed

    # A 2-layer BiLSTM, 100 per direction, against PyTorch with the same model, batch and threads, alternating order.
    if "stacked" in parts:
        dissect_rates, torch_rates, torch_loads = [], [], []

        def stacked_torch():
            result = torch_rate(2, STACKED_MODEL)
            torch_rates.append(result["sentences_per_second"])
            torch_loads.append([result["load_average_before"], result["load_average_after"]])

        for round_index in range(args.rounds):
            if have_torch and round_index % 2 == 1:
                stacked_torch()
            log = train_log(dissect, os.path.join(work, f"stacked{round_index}"), 200 + round_index, stacked_epochs,
                            STACKED_MODEL)
            sentences = epoch_sentences(log)
            dissect_rates += [e["sentences_per_second"] for e in log]
            if have_torch and round_index % 2 == 0:
                stacked_torch()
            print(f"stacked round {round_index + 1}: dissect {dissect_rates[-stacked_epochs:]}"
                  + (f", torch 2 threads {torch_rates[-1]}" if have_torch else ""), file=sys.stderr)
        stacked = {"model": "2-layer BiLSTM, 100 per direction, char CNN, softmax, batch 10 (" + " ".join(STACKED_MODEL) + ")",
                   "dissect_epochs_per_round": stacked_epochs, "dissect_train_sentences_per_epoch": sentences,
                   "dissect_sentences_per_second": dissect_rates, "dissect_median": statistics.median(dissect_rates),
                   "target_ratio": STACKED_SPEEDUP_TARGET}
        if have_torch:
            stacked.update({"torch_threads": 2, "torch_sentences": args.torch_sentences,
                            "torch_2_thread_sentences_per_second": torch_rates,
                            "torch_2_thread_median": statistics.median(torch_rates),
                            "torch_load_average_before_after": torch_loads})
            stacked["ratio_vs_torch_2_thread"] = stacked["dissect_median"] / stacked["torch_2_thread_median"]
            stacked["meets_target"] = stacked["ratio_vs_torch_2_thread"] >= STACKED_SPEEDUP_TARGET
        results["stacked"] = stacked

    # BiLSTM-CRF at NCRF++'s defaults, against NCRF++'s measured F1 and per-epoch time.
    if "crf" in parts:
        runs = []
        for seed in [int(s) for s in args.crf_seeds.split(",") if s]:
            out = os.path.join(work, f"crf-seed{seed}")
            seconds, rss, _ = run([dissect, "train", "--data-dir", conll, "--embeddings", embeddings,
                                   "--bidirectional", "--hidden", "100", "--crf", "--epochs", str(crf_epochs),
                                   "--seed", str(seed), "--out", out])
            record = json.load(open(os.path.join(out, "model.json")))["training"]
            log = read_log(out)
            runs.append({"seed": seed, "best_epoch": record["best_epoch"],
                         "dev_f1": record["dev_f1"], "dev_f1_ncrf": record["dev_f1_ncrf"],
                         "test_f1": record["test_f1"], "test_f1_ncrf": record["test_f1_ncrf"],
                         "epoch_train_seconds": [e["train_seconds"] for e in log],
                         "epoch_sentences_per_second": [e["sentences_per_second"] for e in log],
                         "epoch_test_f1": [e.get("test_f1") for e in log],
                         "seconds": round(seconds, 2), "peak_rss_mib": round(rss, 1)})
            print(f"crf seed {seed}: best epoch {record['best_epoch']}, test {record['test_f1']:.2f}/"
                  f"{record['test_f1_ncrf']:.2f} (conlleval/NCRF++), {seconds:.1f} s, {rss:.0f} MiB", file=sys.stderr)
        epoch_seconds = statistics.median([s for r in runs for s in r["epoch_train_seconds"]])
        crf = {"model": "BiLSTM-CRF, 100 per direction, char CNN, NCRF++'s defaults (--bidirectional --hidden 100 --crf), "
                        f"{crf_epochs} epochs, best-dev checkpoint",
               "runs": runs,
               "test_f1_mean": statistics.mean(r["test_f1"] for r in runs),
               "test_f1_ncrf_mean": statistics.mean(r["test_f1_ncrf"] for r in runs),
               "epoch_train_seconds_median": epoch_seconds,
               "sentences_per_second_median": statistics.median([s for r in runs for s in r["epoch_sentences_per_second"]]),
               "peak_rss_mib_max": max(r["peak_rss_mib"] for r in runs),
               "ncrf_epoch_seconds": NCRF_CRF_EPOCH_SECONDS,
               "ncrf_test_f1": NCRF_CRF_TEST_F1,
               "ncrf_reference": "../shared/anchors/README.md (NCRF++ 105a53a, 1 core; dissect uses 2 cores)",
               "speedup_vs_ncrf_per_epoch": NCRF_CRF_EPOCH_SECONDS / epoch_seconds,
               "target_test_f1": CRF_F1_TARGET, "target_speedup": CRF_SPEEDUP_TARGET}
        crf["meets_f1_target"] = min(crf["test_f1_mean"], crf["test_f1_ncrf_mean"]) >= CRF_F1_TARGET
        crf["meets_speed_target"] = crf["speedup_vs_ncrf_per_epoch"] >= CRF_SPEEDUP_TARGET
        results["crf"] = crf

    # The cost curve: sentences/s against hidden size, dissect and PyTorch side by side, alternating order.
    if "cost" in parts:
        cost_data = write_subset(conll, os.path.join(work, "cost-data"),
                                 {"train.txt": 100 if args.quick else COST_TRAIN_SENTENCES, "valid.txt": 100, "test.txt": 100})
        configurations = []
        selected = set(args.cost_configurations.split(",")) if args.cost_configurations else None
        for bidirectional in (False, True):
            for hidden in COST_HIDDEN:
                if selected is not None and f"{hidden}{'bi' if bidirectional else 'uni'}" not in selected:
                    continue
                flags = ["--hidden", str(hidden)] + (["--bidirectional"] if bidirectional else [])
                dissect_rates, torch_rates = [], []
                for round_index in range(args.rounds):
                    def time_torch():
                        if have_torch:
                            sentences = 50 if args.quick else COST_TORCH_SENTENCES[hidden]
                            torch_rates.append(torch_rate(2, flags + ["--sentences", str(sentences)])["sentences_per_second"])
                    if round_index % 2 == 1:
                        time_torch()
                    out = os.path.join(work, f"cost-{hidden}-{'bi' if bidirectional else 'uni'}-{round_index}")
                    run([dissect, "train", "--train", os.path.join(cost_data, "train.txt"),
                         "--dev", os.path.join(cost_data, "valid.txt"), "--test", os.path.join(cost_data, "test.txt"),
                         "--embeddings", embeddings, "--epochs", "1" if args.quick else "2", "--seed", str(300 + round_index),
                         "--out", out, "--overwrite", *flags])
                    dissect_rates.append(statistics.median(e["sentences_per_second"] for e in read_log(out)))
                    if round_index % 2 == 0:
                        time_torch()
                entry = {"hidden": hidden, "bidirectional": bidirectional,
                         "dissect_sentences_per_second": dissect_rates, "dissect_median": statistics.median(dissect_rates)}
                if torch_rates:
                    entry.update({"torch_sentences_per_second": torch_rates, "torch_median": statistics.median(torch_rates)})
                    entry["ratio"] = entry["dissect_median"] / entry["torch_median"]
                    target = COST_TARGETS.get((hidden, bidirectional))
                    if target:
                        entry.update({"target_ratio": target, "meets_target": entry["ratio"] >= target})
                configurations.append(entry)
                print(f"cost hidden {hidden} {'bi' if bidirectional else 'uni'}: dissect {dissect_rates}"
                      + (f", torch {torch_rates}" if torch_rates else ""), file=sys.stderr)
        if selected is not None:
            results["cost"] = {"model": "char CNN, LSTM (hidden per direction), softmax, batch 10, 2 threads for both",
                               "dissect_train_sentences": COST_TRAIN_SENTENCES, "torch_sentences": COST_TORCH_SENTENCES,
                               "configurations": configurations, "only": sorted(selected)}
    if "cost" in parts and selected is None:
        memory_out = os.path.join(work, "cost-memory")
        _, memory_rss, _ = run([dissect, "train", "--data-dir", conll if not args.quick else cost_data, "--embeddings", embeddings,
                                "--epochs", "1", "--hidden", "400", "--bidirectional", "--out", memory_out, "--overwrite"])
        results["cost"] = {"model": "char CNN, LSTM (hidden per direction), softmax, batch 10, 2 threads for both",
                           "dissect_train_sentences": COST_TRAIN_SENTENCES, "torch_sentences": COST_TORCH_SENTENCES,
                           "configurations": configurations,
                           "memory_bilstm_400_peak_rss_mib": round(memory_rss, 1), "memory_target_mib": MEMORY_TARGET_MIB}
        write_cost_chart(dissect, configurations, os.path.join(work, "cost-curve.json"), args.cost_svg)

    # A model for the evaluation and analysis timings: seed 1 of the quality runs, else a speed run, else a short run.
    model = None
    if parts & {"evaluation", "analysis"}:
        for candidate in ["seed1", "speed0"] + [f"seed{s}" for s in args.seeds.split(",") if s]:
            if os.path.exists(os.path.join(work, candidate, "model.json")):
                model = os.path.join(work, candidate)
                break
        if model is None:
            model = os.path.join(work, "eval-model")
            train_log(dissect, model, 1, 1)
        results["settings"]["evaluation_model"] = model

    # Evaluation of the test set.
    if "evaluation" in parts:
        walls, internal = [], []
        for _ in range(5):
            seconds, rss, stdout = run([dissect, "evaluate", "--model", model, "--data", os.path.join(conll, "test.txt"), "--json"])
            walls.append(seconds)
            internal.append(json.loads(stdout)["seconds"])
        results["evaluation"] = {"command_seconds_median": statistics.median(walls),
                                 "tag_and_score_seconds_median": statistics.median(internal), "peak_rss_mib": round(rss, 1)}

    # Analysis: sensitivity on dev + readout ablation of all labels on test, and recurrent ablation of the paper's pairs.
    if "analysis" in parts:
        walls, recurrent, bootstrap, permutation = [], [], [], []
        for round_index in range(3):
            out = os.path.join(work, f"analysis{round_index}")
            start = time.monotonic()
            _, _, stdout = run([dissect, "sensitivity", "--model", model, "--data", os.path.join(conll, "valid.txt"),
                                "--out", out + "/sensitivity"])
            # "statistics: 1000 bootstrap resamples in 0.16 s, 1000 permutations in 0.30 s (seed 1)"
            parts_seconds = re.search(r"bootstrap resamples in ([0-9.]+) s, [0-9]+ permutations in ([0-9.]+) s", stdout)
            if parts_seconds:
                bootstrap.append(float(parts_seconds.group(1)))
                permutation.append(float(parts_seconds.group(2)))
            run([dissect, "ablate", "--model", model, "--rank-on", os.path.join(conll, "valid.txt"), "--data",
                 os.path.join(conll, "test.txt"), "--steps", "25", "--random", "20", "--out", out + "/readout"])
            walls.append(time.monotonic() - start)
        seconds, _, _ = run([dissect, "ablate", "--model", model, "--rank-on", os.path.join(conll, "valid.txt"), "--data",
                             os.path.join(conll, "test.txt"), "--labels", "B-PER,B-MISC,B-LOC,I-ORG", "--mode", "recurrent",
                             "--steps", "25", "--random", "20", "--out", os.path.join(work, "recurrent")])
        recurrent.append(seconds)
        results["analysis"] = {"sensitivity_plus_readout_all_labels_seconds_median": statistics.median(walls),
                               "recurrent_two_pairs_seconds": recurrent[0],
                               "sensitivity_bootstrap_1000_seconds_median": statistics.median(bootstrap) if bootstrap else None,
                               "sensitivity_permutations_1000_seconds_median": statistics.median(permutation) if permutation else None}

    # Seeds and rankers: compare of the four paper models, rank of the first with every method.
    seed_models = []
    if parts & {"seeds", "explorer", "concepts", "prune", "sizes"}:
        for seed in (1, 2, 3, 4):
            path = os.path.join(work, f"seed{seed}")
            if not os.path.exists(os.path.join(path, "model.json")):
                path = os.path.join(work, f"seeds-model{seed}")
                train_log(dissect, path, seed, 1 if args.quick else 10)
            seed_models.append(path)
    if "seeds" in parts:
        dev, test = os.path.join(conll, "valid.txt"), os.path.join(conll, "test.txt")
        compare_walls, rank_walls, compare_rss, rank_rss = [], [], 0.0, 0.0
        for round_index in range(5):
            seconds, rss, _ = run([dissect, "compare", "--models", *seed_models, "--data", dev,
                                   "--out", os.path.join(work, f"compare{round_index}")])
            compare_walls.append(seconds)
            compare_rss = max(compare_rss, rss)
        for round_index in range(3):
            seconds, rss, _ = run([dissect, "rank", "--model", seed_models[0], "--rank-on", dev, "--data", test,
                                   "--methods", "sensitivity,probeless,probe,single", "--steps", "25",
                                   "--out", os.path.join(work, f"rank{round_index}")])
            rank_walls.append(seconds)
            rank_rss = max(rank_rss, rss)
        results["seeds"] = {"models": seed_models,
                            "compare_seconds_median": statistics.median(compare_walls), "compare_seconds_all_runs": compare_walls,
                            "compare_peak_rss_mib": round(compare_rss, 1), "compare_target_seconds": COMPARE_TARGET_SECONDS,
                            "rank_seconds_median": statistics.median(rank_walls), "rank_seconds_all_runs": rank_walls,
                            "rank_peak_rss_mib": round(rank_rss, 1), "rank_target_seconds": RANK_TARGET_SECONDS}

    # What the neurons of seed 1 detect, on dev.
    if "concepts" in parts:
        walls, measured = [], []
        for round_index in range(3):
            seconds, rss, stdout = run([dissect, "concepts", "--model", seed_models[0], "--data", os.path.join(conll, "valid.txt"),
                                        "--out", os.path.join(work, f"concepts{round_index}")])
            walls.append(seconds)
            found = re.search(r"measured in ([0-9.]+) s", stdout)
            if found:
                measured.append(float(found.group(1)))
        results["concepts"] = {"model": seed_models[0], "seconds_median": statistics.median(walls), "seconds_all_runs": walls,
                               "analysis_seconds_median": statistics.median(measured) if measured else None,
                               "peak_rss_mib": round(rss, 1), "target_seconds": CONCEPTS_TARGET_SECONDS}

    # A smaller seed 1: 40 units kept by sensitivity, then one epoch of fine-tuning.
    if "prune" in parts:
        walls = []
        for round_index in range(3):
            seconds, rss, _ = run([dissect, "prune", "--model", seed_models[0], "--out", os.path.join(work, f"pruned{round_index}"),
                                   "--keep", "40", "--by", "sensitivity", "--rank-on", os.path.join(conll, "valid.txt"),
                                   "--fine-tune", "1", "--overwrite"])
            walls.append(seconds)
        results["prune"] = {"model": seed_models[0], "seconds_median": statistics.median(walls), "seconds_all_runs": walls,
                            "peak_rss_mib": round(rss, 1), "target_seconds": PRUNE_TARGET_SECONDS}

    # The hidden-size study of seed 1.
    if "sizes" in parts:
        out = os.path.join(work, "sizes")
        seconds, rss, stdout = run([dissect, "sizes", "--model", seed_models[0], "--out", out])
        document = json.load(open(os.path.join(out, "sizes.json")))
        for name in ("sizes.md", "sizes.svg"):
            shutil.copyfile(os.path.join(out, name), os.path.join(ROOT, "docs", name))
        results["sizes"] = {"model": seed_models[0], "seconds": seconds, "study_seconds": document["seconds"],
                            "full_test_f1": document["full_test_f1"], "smallest": document["smallest"],
                            "points": document["points"], "peak_rss_mib": round(rss, 1), "target_seconds": SIZES_TARGET_SECONDS}

    # The explorer page of seed 1 on dev: its size, how long `explore` takes, and each view change in Chromium.
    if "explorer" in parts:
        out = os.path.join(work, "explorer")
        walls = []
        for _ in range(3):
            seconds, rss, _ = run([dissect, "explore", "--model", seed_models[0], "--data", os.path.join(conll, "valid.txt"), "--out", out])
            walls.append(seconds)
        page = os.path.join(out, "explorer.html")
        timings_file = os.path.join(work, "explorer-timings.json")
        run(["/usr/bin/python3", os.path.join(ROOT, "tools", "browser_check.py"), "--page", page, "--timings", timings_file])
        with open(timings_file) as handle:
            views = json.load(handle)["milliseconds_median_of_5"]
        results["explorer"] = {"explore_seconds_median": statistics.median(walls), "peak_rss_mib": round(rss, 1),
                               "page_bytes": os.path.getsize(page), "page_target_bytes": EXPLORER_PAGE_TARGET_BYTES,
                               "view_milliseconds": views, "view_target_milliseconds": EXPLORER_VIEW_TARGET_MS}

    # Import of a large synthesised model: 400,000 words x 50 dimensions, uni-LSTM 50, 9 labels.
    if "import" in parts:
        folder = os.path.join(work, "import-source")
        os.makedirs(folder, exist_ok=True)
        write_synthetic_state_dict(folder, words=400_000, dim=50, hidden=50, labels=9)
        walls = []
        for round_index in range(3):
            seconds, rss, _ = run([dissect, "import", "--safetensors", os.path.join(folder, "state.safetensors"),
                                   "--mapping", os.path.join(folder, "mapping.json"), "--out", os.path.join(work, f"imported{round_index}")])
            walls.append(seconds)
        results["import"] = {"words": 400_000, "dimensions": 50, "seconds_median": statistics.median(walls), "seconds_all_runs": walls,
                             "peak_rss_mib": round(rss, 1), "target_seconds": IMPORT_TARGET_SECONDS}

    # The whole paper in one command, side by side with the baseline's when given; then --all.
    if "reproduce" in parts:
        def reproduce(binary, out, extra=()):
            return run([binary, "reproduce", "--data-dir", conll, "--embeddings", embeddings, "--out", out, *extra])
        new, old, rss, loads, step_seconds = [], [], 0.0, [], []
        for round_index in range(max(1, args.reproduce_rounds)):
            order = [("new", dissect), ("baseline", args.baseline)] if round_index % 2 == 0 else [("baseline", args.baseline), ("new", dissect)]
            for name, binary in order:
                if binary is None:
                    continue
                load_before = load_average()
                seconds, peak, _ = reproduce(binary, os.path.join(work, f"reproduce-{name}{round_index}"))
                (new if name == "new" else old).append(seconds)
                if name == "new":
                    rss = max(rss, peak)
                    loads.append([load_before, load_average()])
                    # Where the time goes: the run's own step timings, summed over seeds by kind of step.
                    steps = {}
                    for step in json.load(open(os.path.join(work, f"reproduce-{name}{round_index}", "summary.json")))["run"]["timings"]:
                        kind = step["step"].split(": ", 1)[-1]
                        steps[kind] = round(steps.get(kind, 0.0) + step["seconds"], 2)
                    step_seconds.append(steps)
        results["reproduce"] = {"seconds": statistics.median(new), "seconds_all_runs": new, "peak_rss_mib": round(rss, 1),
                                "load_average_before_after": loads, "step_seconds": step_seconds,
                                "target_seconds": REPRODUCE_TARGET_SECONDS}
        if old:
            results["reproduce"].update({"baseline_seconds": statistics.median(old), "baseline_seconds_all_runs": old,
                                         "ratio": statistics.median(new) / statistics.median(old)})
        if not args.skip_reproduce_all:
            seconds, peak, _ = reproduce(dissect, os.path.join(work, "reproduce-all"), ["--all"])
            results["reproduce"].update({"all_seconds": seconds, "all_peak_rss_mib": round(peak, 1)})
    # A sweep of 20 seeds through the local executor, then the Slurm path's overhead on the one-node cluster.
    if "sweep" in parts:
        folder = os.path.join(work, "sweep")
        load_before = load_average()
        seconds, peak, _ = run([dissect, "sweep", "--data-dir", conll, "--embeddings", embeddings, "--seeds", SWEEP_SEEDS, "--out", folder])
        aggregate = json.load(open(os.path.join(folder, "aggregate", "aggregate.json")))
        run_seconds = [r["seconds"] for r in aggregate["runs"]]
        jobs = max(1, (os.cpu_count() or 2) // 2)   # the local executor's default: cores / --threads (2)
        ideal = sum(run_seconds) / jobs
        results["sweep"] = {"seeds": SWEEP_SEEDS, "runs": len(run_seconds), "jobs": jobs, "seconds": seconds,
                            "run_seconds": run_seconds, "ideal_seconds": ideal, "ratio": seconds / ideal,
                            "target_ratio": SWEEP_TARGET_RATIO, "peak_rss_mib": round(peak, 1),
                            "load_average_before_after": [load_before, load_average()]}
        overheads = []
        for round_index in range(3):
            timings = os.path.join(work, f"slurm-timings{round_index}.json")
            run(["bash", os.path.join(ROOT, "scripts", "slurm-test.sh"), "--timings", timings, dissect])
            overheads.append(json.load(open(timings)))
        results["sweep"].update({"slurm_rounds": overheads,
                                 "slurm_overhead_seconds": statistics.median(o["slurm_seconds"] - o["local_seconds"] for o in overheads),
                                 "slurm_cluster_start_seconds": statistics.median(o["cluster_start_seconds"] for o in overheads),
                                 "slurm_overhead_target_seconds": SLURM_OVERHEAD_TARGET_SECONDS})
    results["machine"]["load_after"] = load_average()

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=2)
    print_markdown(results)
    print_summary(results)
    print(f"results written to {args.out}", file=sys.stderr)


def write_synthetic_state_dict(folder, words, dim, hidden, labels):
    """A uni-LSTM tagger's state dict as safetensors (written by hand: header JSON, then float32 data), with its mapping."""
    import numpy
    rng = numpy.random.default_rng(7)
    shapes = [("embedding.weight", (words, dim)), ("lstm.weight_ih_l0", (4 * hidden, dim)), ("lstm.weight_hh_l0", (4 * hidden, hidden)),
              ("lstm.bias_ih_l0", (4 * hidden,)), ("lstm.bias_hh_l0", (4 * hidden,)), ("out.weight", (labels, hidden)), ("out.bias", (labels,))]
    header, blobs, offset = {}, [], 0
    for name, shape in shapes:
        blob = rng.uniform(-0.1, 0.1, size=shape).astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(os.path.join(folder, "state.safetensors"), "wb") as handle:
        handle.write(len(text).to_bytes(8, "little") + text)
        for blob in blobs:
            handle.write(blob)
    with open(os.path.join(folder, "words.txt"), "w") as handle:
        handle.write("<unk>\n" + "".join(f"w{i}\n" for i in range(1, words)))
    mapping = {"cell": "lstm", "layers": 1, "bidirectional": False,
               "tensors": {"word_embedding": "embedding.weight", "recurrent": "lstm", "output_weight": "out.weight", "output_bias": "out.bias"},
               "words_file": "words.txt", "labels": [f"L{j}" for j in range(labels)],
               "lookup": {"lowercase": True, "digits_to_zero": False, "unknown_word": "<unk>"}}
    with open(os.path.join(folder, "mapping.json"), "w") as handle:
        json.dump(mapping, handle)


def write_cost_chart(dissect, configurations, json_path, svg_path):
    """docs/cost-curve.svg: sentences/s and dissect / PyTorch against hidden size, drawn by `dissect chart`."""
    def series(name, key, bidirectional, dashed=False):
        points = [c for c in configurations if c["bidirectional"] == bidirectional and key in c]
        return {"name": name, "x": [c["hidden"] for c in points], "y": [c[key] for c in points], "dashed": dashed}
    speed = [series("dissect, uni", "dissect_median", False), series("dissect, bi", "dissect_median", True),
             series("PyTorch, uni", "torch_median", False, True), series("PyTorch, bi", "torch_median", True, True)]
    ratio = [series("uni", "ratio", False), series("bi", "ratio", True)]
    charts = [{"title": "Training speed", "x_label": "hidden units per direction", "y_label": "sentences/s (median)",
               "series": [s for s in speed if s["x"]]}]
    if any(s["x"] for s in ratio):
        charts.append({"title": "dissect / PyTorch", "x_label": "hidden units per direction", "y_label": "speed ratio",
                       "series": [s for s in ratio if s["x"]]})
    with open(json_path, "w", encoding="utf-8") as handle:
        json.dump({"title": "Cost curve: uni- and bi-LSTM, char CNN, batch 10, 2 threads", "columns": 2, "charts": charts}, handle)
    run([dissect, "chart", "--json", json_path, "--out", svg_path])


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
    if s:
        print(f"dissect training: median {s['dissect_median']:.0f} sentences/s "
              f"({s['dissect_epoch_seconds_median']:.2f} s per epoch of {s['train_sentences_per_epoch']:,} sentences, 2 cores)")
        if "baseline_median" in s:
            print(f"baseline {s['baseline_binary']}: median {s['baseline_median']:.0f} sentences/s; "
                  f"ratio = new / baseline = {s['ratio_vs_baseline']:.3f} (same rounds, alternating order)")
        for threads in (1, 2):
            key = f"torch_{threads}_thread_median"
            if key in s:
                print(f"PyTorch, {threads} thread(s): median {s[key]:.0f} sentences/s; dissect is "
                      f"{s[f'ratio_vs_torch_{threads}_thread']:.1f}x faster")
    st = results.get("stacked")
    if st:
        print(f"2-layer BiLSTM 100: dissect median {st['dissect_median']:.0f} sentences/s"
              + (f", PyTorch (2 threads) {st['torch_2_thread_median']:.0f}; dissect is {st['ratio_vs_torch_2_thread']:.1f}x faster"
                 if "torch_2_thread_median" in st else ""))
    c = results.get("crf")
    if c:
        print()
        print("| BiLSTM-CRF seed | best epoch | dev F1 conlleval | dev F1 NCRF++ | test F1 conlleval | test F1 NCRF++ | median s/epoch | wall s | peak RSS MiB |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in c["runs"]:
            print(f"| {r['seed']} | {r['best_epoch']} | {r['dev_f1']:.2f} | {r['dev_f1_ncrf']:.2f} | {r['test_f1']:.2f} | "
                  f"{r['test_f1_ncrf']:.2f} | {statistics.median(r['epoch_train_seconds']):.2f} | {r['seconds']:.1f} | {r['peak_rss_mib']:.0f} |")
        print(f"| mean | | | | {c['test_f1_mean']:.2f} | {c['test_f1_ncrf_mean']:.2f} | {c['epoch_train_seconds_median']:.2f} | | |")
        print()
    e = results["evaluation"]
    if e:
        print(f"dissect evaluate, test set: {e['command_seconds_median']:.3f} s for the whole command "
              f"(tagging and scoring {e['tag_and_score_seconds_median']:.3f} s)")
    a = results.get("analysis")
    if a:
        print(f"dissect sensitivity (dev) + ablate, readout, all 9 labels x 25 steps x (ranked + reverse + 20 random): "
              f"median {a['sensitivity_plus_readout_all_labels_seconds_median']:.2f} s wall for both commands")
        print(f"dissect ablate, recurrent, the paper's two pairs (4 rankings x 25 steps, reverse + 20 random): "
              f"{a['recurrent_two_pairs_seconds']:.1f} s wall")
        if a.get("sensitivity_bootstrap_1000_seconds_median") is not None:
            print(f"dissect sensitivity (dev), statistics: 1,000 bootstrap resamples in median "
                  f"{a['sensitivity_bootstrap_1000_seconds_median']:.2f} s, 1,000 permutations in "
                  f"{a['sensitivity_permutations_1000_seconds_median']:.2f} s")
    sd = results.get("seeds")
    if sd:
        print(f"dissect compare, 4 paper models on dev: median {sd['compare_seconds_median']:.2f} s wall "
              f"(peak RSS {sd['compare_peak_rss_mib']:.0f} MiB); dissect rank, 4 methods, rank on dev, score on test, K = 25: "
              f"median {sd['rank_seconds_median']:.2f} s wall (peak RSS {sd['rank_peak_rss_mib']:.0f} MiB)")
    im = results.get("import")
    if im:
        print(f"dissect import, {im['words']:,} words x {im['dimensions']}: median {im['seconds_median']:.2f} s wall, peak RSS {im['peak_rss_mib']:.0f} MiB")
    ex = results.get("explorer")
    if ex:
        views = ", ".join(f"{name} {ms:.0f} ms" for name, ms in ex["view_milliseconds"].items())
        print(f"dissect explore, seed 1 on dev: median {ex['explore_seconds_median']:.2f} s, page {ex['page_bytes'] / 1048576:.1f} MiB; "
              f"Chromium, median of 5: {views}")
    r = results.get("reproduce")
    if r:
        print(f"dissect reproduce (4 seeds x 10 epochs and every analysis): median {r['seconds']:.0f} s wall, peak RSS {r['peak_rss_mib']:.0f} MiB")
        if "baseline_seconds" in r:
            print(f"baseline reproduce: median {r['baseline_seconds']:.0f} s; ratio new / baseline = {r['ratio']:.3f}")
        if "all_seconds" in r:
            print(f"dissect reproduce --all: {r['all_seconds']:.0f} s wall, peak RSS {r['all_peak_rss_mib']:.0f} MiB")
    m = results["machine"]
    print(f"load average before/after: {m['load_before']}/{m['load_after']} on {m['cpus']} CPUs")


def print_summary(results):
    """The issue-14 measurements side by side: what, dissect, reference, ratio, target."""
    rows = []
    b = results.get("baseline")
    if b:
        rows.append(("paper model vs --baseline (sent/s, median)", f"{b['new_median']:.0f}", f"{b['baseline_median']:.0f}",
                     f"{b['ratio']:.3f} (new / baseline)", ""))
    s = results["speed"]
    if s and "torch_2_thread_median" in s:
        rows.append(("paper model vs PyTorch 2 threads (sent/s, median)", f"{s['dissect_median']:.0f}",
                     f"{s['torch_2_thread_median']:.0f}", f"{s['ratio_vs_torch_2_thread']:.1f}x", ""))
    st = results.get("stacked")
    if st:
        if "torch_2_thread_median" in st:
            rows.append(("2-layer BiLSTM 100 vs PyTorch 2 threads (sent/s, median)", f"{st['dissect_median']:.0f}",
                         f"{st['torch_2_thread_median']:.0f}", f"{st['ratio_vs_torch_2_thread']:.1f}x",
                         f">= {st['target_ratio']:.0f}x: {'met' if st['meets_target'] else 'NOT met'}"))
        else:
            rows.append(("2-layer BiLSTM 100 (sent/s, median)", f"{st['dissect_median']:.0f}", "no torch", "", ""))
    c = results.get("crf")
    if c:
        met = "met" if c["meets_f1_target"] else "NOT met"
        rows.append((f"BiLSTM-CRF test F1 conlleval, mean of {len(c['runs'])} seeds", f"{c['test_f1_mean']:.2f}",
                     f"{c['ncrf_test_f1']:.2f} (NCRF++)", "", f">= {c['target_test_f1']}: {met} (both scorers)"))
        rows.append((f"BiLSTM-CRF test F1 NCRF++ scorer, mean of {len(c['runs'])} seeds", f"{c['test_f1_ncrf_mean']:.2f}",
                     f"{c['ncrf_test_f1']:.2f} (NCRF++)", "", ""))
        rows.append(("BiLSTM-CRF training s per epoch (median)", f"{c['epoch_train_seconds_median']:.2f}",
                     f"{c['ncrf_epoch_seconds']:.0f} (NCRF++, 1 core)", f"{c['speedup_vs_ncrf_per_epoch']:.1f}x",
                     f">= {c['target_speedup']:.0f}x: {'met' if c['meets_speed_target'] else 'NOT met'}"))
    co = results.get("cost")
    if co:
        for c in co["configurations"]:
            target = f">= {c['target_ratio']:.0f}x: {'met' if c['meets_target'] else 'NOT met'}" if "target_ratio" in c else ""
            rows.append((f"hidden {c['hidden']} {'bi' if c['bidirectional'] else 'uni'} vs PyTorch 2 threads (sent/s, median)",
                         f"{c['dissect_median']:.0f}", f"{c['torch_median']:.0f}" if "torch_median" in c else "no torch",
                         f"{c['ratio']:.1f}x" if "ratio" in c else "", target))
        if "memory_bilstm_400_peak_rss_mib" in co:
            rows.append(("training peak RSS, BiLSTM 400 per direction (MiB)", f"{co['memory_bilstm_400_peak_rss_mib']:.0f}", "", "",
                         f"< {co['memory_target_mib']} MiB: {'met' if co['memory_bilstm_400_peak_rss_mib'] < co['memory_target_mib'] else 'NOT met'}"))
    rp = results.get("reproduce")
    if rp:
        rows.append(("reproduce, default analyses (s, median)", f"{rp['seconds']:.1f}",
                     f"{rp['baseline_seconds']:.1f} (--baseline)" if "baseline_seconds" in rp else "", "",
                     f"< {rp['target_seconds']} s: {'met' if rp['seconds'] < rp['target_seconds'] else 'NOT met'}"))
    sw = results.get("sweep")
    if sw:
        rows.append((f"sweep of {sw['runs']} paper models, local executor: wall / (sum of run walls / {sw['jobs']})",
                     f"{sw['seconds']:.0f} s", f"{sw['ideal_seconds']:.0f} s", f"{sw['ratio']:.3f}",
                     f"<= {sw['target_ratio']}: {'met' if sw['ratio'] <= sw['target_ratio'] else 'NOT met'}"))
        if "slurm_overhead_seconds" in sw:
            rows.append(("4-run sweep: Slurm minus local executor (s, median of 3)", f"{sw['slurm_overhead_seconds']:.1f}", "", "",
                         f"< {sw['slurm_overhead_target_seconds']:.0f} s: {'met' if sw['slurm_overhead_seconds'] < sw['slurm_overhead_target_seconds'] else 'NOT met'}"))
    ev = results.get("evaluation")
    if ev:
        rows.append(("evaluate the test set: tagging and scoring (s, median of 5)", f"{ev['tag_and_score_seconds_median']:.3f}", "", "",
                     f"< 0.1 s: {'met' if ev['tag_and_score_seconds_median'] < 0.1 else 'NOT met'}"))
    sd = results.get("seeds")
    if sd:
        rows.append(("compare, 4 paper models on dev (s, median)", f"{sd['compare_seconds_median']:.2f}", "", "",
                     f"< {sd['compare_target_seconds']:.0f} s: {'met' if sd['compare_seconds_median'] < sd['compare_target_seconds'] else 'NOT met'}"))
        rows.append(("rank, all four methods (s, median)", f"{sd['rank_seconds_median']:.2f}", "", "",
                     f"< {sd['rank_target_seconds']:.0f} s: {'met' if sd['rank_seconds_median'] < sd['rank_target_seconds'] else 'NOT met'}"))
    im = results.get("import")
    if im:
        rows.append((f"import, {im['words']:,}-word {im['dimensions']}-d model (s, median)", f"{im['seconds_median']:.2f}", "", "",
                     f"< {im['target_seconds']:.0f} s: {'met' if im['seconds_median'] < im['target_seconds'] else 'NOT met'}"))
    pr = results.get("prune")
    if pr:
        rows.append(("prune to 40 by sensitivity + 1 epoch fine-tune (s, median)", f"{pr['seconds_median']:.2f}", "", "",
                     f"< {pr['target_seconds']:.0f} s: {'met' if pr['seconds_median'] < pr['target_seconds'] else 'NOT met'}"))
    sz = results.get("sizes")
    if sz:
        rows.append(("hidden-size study, sizes 5-45, four routes (s)", f"{sz['seconds']:.0f}", "", "",
                     f"< {sz['target_seconds']:.0f} s: {'met' if sz['seconds'] < sz['target_seconds'] else 'NOT met'}"))
    cn = results.get("concepts")
    if cn:
        rows.append(("concepts, seed 1 on dev, 1,000 resamples (s, median)", f"{cn['seconds_median']:.2f}", "", "",
                     f"< {cn['target_seconds']:.0f} s: {'met' if cn['seconds_median'] < cn['target_seconds'] else 'NOT met'}"))
    ex = results.get("explorer")
    if ex:
        worst = max(ms for name, ms in ex["view_milliseconds"].items() if name != "load with a fragment")
        rows.append(("explorer page, seed 1 on dev (MiB)", f"{ex['page_bytes'] / 1048576:.1f}", "", "",
                     f"<= 15 MiB: {'met' if ex['page_bytes'] <= ex['page_target_bytes'] else 'NOT met'}"))
        rows.append(("explorer slowest view change in Chromium (ms, median of 5)", f"{worst:.0f}", "", "",
                     f"< {ex['view_target_milliseconds']:.0f} ms: {'met' if worst < ex['view_target_milliseconds'] else 'NOT met'}"))
    if not rows:
        return
    print()
    if results["settings"].get("quick"):
        print("(--quick: a smoke test on 300 training sentences, not a measurement)")
    print("| measurement | dissect | reference | ratio | target |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
