#!/usr/bin/env python3
"""PyTorch speed baseline: train dissect's tagger on CoNLL-2003 the NCRF++ way.

The model is tools/dissect_torch.py's Tagger with NCRF++'s settings: GloVe 50-d word
embeddings, char CNN (Dc=30, F=50, window 3, per word, no padding to a longer word; words
of equal length are stacked), one uni-directional LSTM layer with H=50, dropout 0.5 on the
char embeddings, on the LSTM input and on the LSTM output, loss summed over the batch's
tokens, SGD lr 0.015 (decayed per epoch as NCRF++: lr / (1 + 0.05 * epoch)) with
weight_decay 1e-8, batches of 10 shuffled sentences, packed sequences.

Other models: --cell gru|rnn, --bidirectional, --hidden H (per direction), --layers N with
--layer-dropout P between the layers (torch's num_layers/dropout), and --crf for a
linear-chain CRF on the emissions (NCRF++'s transitions [m+2, m+2] with START/STOP, loss
the sum over sentences of log Z - gold score, Viterbi decoding for --eval); e.g. NCRF++'s
BiLSTM-CRF is --bidirectional --crf.  The CRF's fixed column START / row STOP are set back
to -10000 after every step (weight decay would otherwise move them; they enter no score).

Vocabulary: every training word (digits -> 0) then every embeddings word not already in
it; index 0 is the unknown word.  A word's vector is the embedding of the word as written,
else of its lower case, else uniform(-sqrt(3/dim), sqrt(3/dim)).  Chars: those of the
normalised training words (index 0 unknown); char embeddings uniform(+-sqrt(3/Dc)).

Only the training loop is timed (not loading).  With --json one line is printed:
{"framework":"pytorch","threads":N,"sentences":K,"seconds":s,"sentences_per_second":r,
 "torch_version":...,"cpus":...,"load_average_before":...,"load_average_after":...,
 "model":{"cell":...,"bidirectional":...,"hidden":...,"layers":...,"layer_dropout":...,"crf":...}}
(the 1-minute load averages show whether other work shared the CPUs during the run).

Examples:
    python3 tools/bench_torch.py --threads 1 --sentences 3000 --json
    python3 tools/bench_torch.py --epochs 5 --eval ../shared/data/conll2003/valid.txt --save runs/torch5
    python3 tools/bench_torch.py --threads 1 --sentences 1000 --bidirectional --crf --json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dissect_torch as dt  # noqa: E402

UNKNOWN = "</unk>"


def default_path(*parts: str) -> str:
    """/work/shared/data/... if it exists, else ../shared/data/... relative to the repository."""
    absolute = os.path.join("/work/shared/data", *parts)
    if os.path.exists(absolute):
        return absolute
    return os.path.normpath(os.path.join(HERE, os.pardir, os.pardir, "shared", "data", *parts))


def load_embeddings(path: str):
    """GloVe text file -> (dict word -> list of floats, dim)."""
    vectors = {}
    dim = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ")
            if len(parts) < 2:
                continue
            if dim is None:
                dim = len(parts) - 1
            if len(parts) - 1 != dim:
                continue
            vectors[parts[0]] = [float(x) for x in parts[1:]]
    if dim is None:
        raise SystemExit(f"{path}: no vectors")
    return vectors, dim


def build_vocabulary(train, vectors, lookup_digits=True):
    """Words (index 0 unknown), chars (index 0 unknown) and labels from the training data."""
    norm = dt.Lookup([], [], digits_to_zero=lookup_digits).normalise
    words, seen = [UNKNOWN], {UNKNOWN}
    chars, seen_chars = [UNKNOWN], {UNKNOWN}
    labels, seen_labels = [], set()
    for ws, ls in train:
        for w in ws:
            w = norm(w)
            if w not in seen:
                seen.add(w)
                words.append(w)
            for c in w:
                if c not in seen_chars:
                    seen_chars.add(c)
                    chars.append(c)
        for label in ls:
            if label not in seen_labels:
                seen_labels.add(label)
                labels.append(label)
    for w in vectors:
        w = norm(w)
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words, chars, labels


def embedding_matrix(words, vectors, dim, gen: torch.Generator) -> torch.Tensor:
    scale = math.sqrt(3.0 / dim)
    m = torch.empty(len(words), dim).uniform_(-scale, scale, generator=gen)
    found = 0
    for i, w in enumerate(words):
        v = vectors.get(w)
        if v is None:
            v = vectors.get(w.lower())
        if v is not None:
            m[i] = torch.tensor(v)
            found += 1
    return m, found


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[1:]))
    ap.add_argument("--train", default=default_path("conll2003", "train.txt"),
                    help="CoNLL training file (default: %(default)s)")
    ap.add_argument("--embeddings", default=default_path("glove", "glove.6B.50d.conll2003.txt"),
                    help="GloVe text file (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    ap.add_argument("--sentences", type=int, default=0,
                    help="train on the first K shuffled sentences only (default: all)")
    ap.add_argument("--epochs", type=int, default=1, help="epochs (default 1)")
    ap.add_argument("--batch-size", type=int, default=10, help="sentences per batch (default 10)")
    ap.add_argument("--lr", type=float, default=0.015, help="SGD learning rate (default 0.015)")
    ap.add_argument("--lr-decay", type=float, default=0.05,
                    help="per-epoch decay: lr / (1 + decay * epoch) (default 0.05)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    ap.add_argument("--cell", choices=tuple(dt.CELLS), default="lstm",
                    help="recurrent cell (default lstm; rnn is tanh)")
    ap.add_argument("--bidirectional", action="store_true")
    ap.add_argument("--hidden", type=int, default=50, help="hidden units per direction (default 50)")
    ap.add_argument("--layers", type=int, default=1, help="recurrent layers (default 1)")
    ap.add_argument("--layer-dropout", type=float, default=0.0,
                    help="dropout between recurrent layers, in [0, 1) (default 0)")
    ap.add_argument("--crf", action="store_true", help="a CRF on the emissions (NCRF++'s layout)")
    ap.add_argument("--eval", metavar="FILE", help="after training, score this CoNLL file")
    ap.add_argument("--save", metavar="DIR", help="write a dissect checkpoint to DIR")
    ap.add_argument("--json", action="store_true", help="print one JSON line with the timing")
    args = ap.parse_args(argv)
    if args.hidden < 1 or args.layers < 1:
        ap.error("--hidden and --layers must be at least 1")
    if not 0 <= args.layer_dropout < 1:
        ap.error("--layer-dropout must be in [0, 1)")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    train = dt.read_conll(args.train)
    vectors, dim = load_embeddings(args.embeddings)
    words, chars, labels = build_vocabulary(train, vectors)
    model = dt.Tagger(words=len(words), labels=len(labels), word_dim=dim,
                      hidden_size=args.hidden, cell=args.cell, bidirectional=args.bidirectional,
                      use_chars=True, chars=len(chars), char_dim=30, char_filters=50,
                      char_window=3, dropout=0.5, layers=args.layers,
                      layer_dropout=args.layer_dropout, crf=args.crf)
    with torch.no_grad():
        emb, found = embedding_matrix(words, vectors, dim, gen)
        model.word_embedding.weight.copy_(emb)
        s = math.sqrt(3.0 / 30)
        model.char_embedding.weight.uniform_(-s, s, generator=gen)
    meta = dt.build_meta(model, words, chars, labels)
    lookup = dt.Lookup.from_meta(meta)
    label_index = {l: i for i, l in enumerate(labels)}

    order = list(range(len(train)))
    rng.shuffle(order)
    if args.sentences > 0:
        order = order[:args.sentences]
    data = []
    for i in order:
        ws, ls = train[i]
        w, c = dt.encode_words(lookup, ws)
        data.append((w, c, torch.tensor([label_index[l] for l in ls], dtype=torch.long)))
    if not args.json:
        print(f"{len(train)} training sentences, using {len(data)}; vocabulary {len(words)} "
              f"words ({found} with vectors), {len(chars)} chars, {len(labels)} labels; "
              f"torch {torch.__version__}, {args.threads} thread(s)", file=sys.stderr)

    load_before = os.getloadavg()[0]
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, weight_decay=1e-8)
    model.train()
    start = time.perf_counter()
    for epoch in range(args.epochs):
        for group in optimizer.param_groups:
            group["lr"] = args.lr / (1 + args.lr_decay * epoch)
        rng.shuffle(data)
        total, epoch_start = 0.0, time.perf_counter()
        for b in range(0, len(data), args.batch_size):
            batch = data[b:b + args.batch_size]
            optimizer.zero_grad()
            loss = model.loss([x[0] for x in batch], [x[1] for x in batch], [x[2] for x in batch])
            loss.backward()
            optimizer.step()
            if model.crf is not None:
                model.crf.reset_fixed_()
            total += loss.item()
        if not args.json:
            print(f"epoch {epoch + 1}: loss {total:.1f}, {time.perf_counter() - epoch_start:.1f} s",
                  file=sys.stderr)
    seconds = time.perf_counter() - start
    trained = len(data) * args.epochs

    result = {"framework": "pytorch", "threads": args.threads, "sentences": len(data),
              "epochs": args.epochs, "seconds": round(seconds, 3),
              "sentences_per_second": round(trained / seconds, 1),
              "torch_version": torch.__version__, "cpus": os.cpu_count(),
              "load_average_before": round(load_before, 2),
              "load_average_after": round(os.getloadavg()[0], 2),
              "model": {"cell": args.cell, "bidirectional": args.bidirectional,
                        "hidden": args.hidden, "layers": args.layers,
                        "layer_dropout": args.layer_dropout, "crf": args.crf}}
    if args.eval:
        test = dt.read_conll(args.eval)
        pred = dt.predict(model, meta, [w for w, _ in test])
        gold = [g for _, g in test]
        result["eval"] = {"file": args.eval, "accuracy": dt.token_accuracy(gold, pred),
                          "conlleval_f1": dt.conlleval(gold, pred)["f1"],
                          "ncrfpp_f1": dt.ncrfpp_fmeasure(gold, pred)["f1"]}
    if args.save:
        # The field names of dissect's TrainingRecord, so `dissect evaluate` reads the record.
        meta["training"] = {
            "seed": args.seed, "epochs": args.epochs, "best_epoch": args.epochs,
            "selection_metric": "last", "seconds": seconds,
            "options": {"epochs": args.epochs, "batch_size": args.batch_size,
                        "optimizer": "sgd", "learning_rate": args.lr,
                        "learning_rate_decay": args.lr_decay, "l2": 1e-8, "seed": args.seed,
                        "adam_beta1": 0.9, "adam_beta2": 0.999, "adam_epsilon": 1e-8},
            "train_file": args.train, "embeddings_file": args.embeddings,
            "vocabulary_rule": "train+embeddings",
            "dissect_version": f"tools/bench_torch.py (torch {torch.__version__})",
        }
        if args.eval:
            meta["training"].update(dev_file=args.eval,
                                    dev_f1=result["eval"]["conlleval_f1"],
                                    dev_f1_ncrf=100 * result["eval"]["ncrfpp_f1"],
                                    dev_accuracy=100 * result["eval"]["accuracy"])
        dt.save_checkpoint(model, meta, args.save)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{trained} sentences in {seconds:.2f} s: {trained / seconds:.1f} sentences/s")
        if "eval" in result:
            e = result["eval"]
            print(f"{e['file']}: accuracy {100 * e['accuracy']:.2f}%, conlleval F1 "
                  f"{e['conlleval_f1']:.2f}, NCRF++ F1 {100 * e['ncrfpp_f1']:.2f}")
        if args.save:
            print(f"checkpoint written to {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
