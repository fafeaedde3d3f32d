#!/usr/bin/env python3
"""Evaluate a dissect checkpoint with PyTorch on a CoNLL file.

Loads DIR/model.safetensors + DIR/model.json (see tools/dissect_torch.py; checkpoint
formats 1 and 2: LSTM, GRU or tanh-RNN cells, uni- or bidirectional, any number of layers,
with or without a CRF), tags every sentence of FILE (the Viterbi path for a CRF model, else
the arg-max of the logits; dropout off; the checkpoint's lookup rules) and prints the token accuracy, conlleval's precision/recall/F1 (the chunk rules of
conlleval.pl, per type too) and NCRF++'s F1 (BIO reader of NCRF++'s get_ner_fmeasure).

With --predictions OUT it writes one "word gold predicted" line per token and a blank line
after each sentence, which `perl conlleval.pl < OUT` reads.

Example:
    python3 tools/torch_evaluate.py --model runs/ckpt --data ../shared/data/conll2003/test.txt \\
        --predictions /tmp/test.pred
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dissect_torch as dt  # noqa: E402


def describe(model: dt.Tagger) -> str:
    """One line naming the checkpoint's model, e.g. '2-layer bidirectional gru (H=50) + CRF'."""
    return (f"{model.layers}-layer {'bidirectional ' if model.bidirectional else ''}{model.cell} "
            f"(H={model.hidden_size}{', char CNN' if model.use_chars else ''})"
            f"{' + CRF (Viterbi)' if model.crf is not None else ''}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[1:]))
    ap.add_argument("--model", required=True, metavar="DIR",
                    help="checkpoint directory with model.safetensors and model.json")
    ap.add_argument("--data", required=True, metavar="FILE", help="CoNLL file to tag and score")
    ap.add_argument("--predictions", metavar="OUT",
                    help="write 'word gold predicted' lines (blank line between sentences)")
    ap.add_argument("--tag-column", type=int, metavar="N",
                    help="1-based column of the gold label (default: the last column)")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    ap.add_argument("--batch-size", type=int, default=64, help="sentences per forward pass")
    ap.add_argument("--json", action="store_true", help="also print the scores as one JSON line")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    try:
        model, meta = dt.load_checkpoint(args.model)
        data = dt.read_conll(args.data, args.tag_column)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    words = [w for w, _ in data]
    gold = [g for _, g in data]
    start = time.perf_counter()
    pred = dt.predict(model, meta, words, batch_size=args.batch_size)
    seconds = time.perf_counter() - start

    if args.predictions:
        with open(args.predictions, "w", encoding="utf-8") as f:
            for ws, gs, ps in zip(words, gold, pred):
                for w, g, p in zip(ws, gs, ps):
                    f.write(f"{w} {g} {p}\n")
                f.write("\n")

    acc = dt.token_accuracy(gold, pred)
    ce = dt.conlleval(gold, pred)
    nc = dt.ncrfpp_fmeasure(gold, pred)
    tokens = sum(len(s) for s in words)
    print(f"{args.model}: format {meta['format_version']}, {describe(model)}")
    print(f"{args.data}: {len(words)} sentences, {tokens} tokens, tagged in {seconds:.2f} s")
    print(f"token accuracy: {100 * acc:.2f}%")
    print(f"conlleval: {ce['gold_chunks']} phrases; found: {ce['found_chunks']}; "
          f"correct: {ce['correct_chunks']}; precision {ce['precision']:.2f}%; "
          f"recall {ce['recall']:.2f}%; FB1 {ce['f1']:.2f}")
    for kind, s in ce["per_type"].items():
        print(f"{kind:>17}: precision {s['precision']:6.2f}%; recall {s['recall']:6.2f}%; "
              f"FB1 {s['f1']:6.2f}  {s['found']}")
    print(f"NCRF++: precision {nc['precision']:.4f}; recall {nc['recall']:.4f}; "
          f"F1 {nc['f1']:.4f} (found {nc['found_chunks']}, correct {nc['correct_chunks']})")
    if args.json:
        print(json.dumps({"data": args.data, "sentences": len(words), "tokens": tokens,
                          "accuracy": acc, "conlleval_precision": ce["precision"],
                          "conlleval_recall": ce["recall"], "conlleval_f1": ce["f1"],
                          "ncrfpp_precision": nc["precision"], "ncrfpp_recall": nc["recall"],
                          "ncrfpp_f1": nc["f1"], "seconds": seconds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
