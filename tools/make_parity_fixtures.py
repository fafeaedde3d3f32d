#!/usr/bin/env python3
"""Write the float64 PyTorch parity fixtures of dissect's tagger.

README paragraph
----------------
**Parity fixtures.**  `Tests/DissectModelTests/Fixtures/parity_<variant>.json` hold, for
the variants `lstm`, `bilstm`, `gru`, `bigru` (all with the char CNN) and `lstm_nochars`, a
tiny model (V=9, Dw=4, C=7, Dc=3, F=4, H=3, m=5) with every parameter drawn from
uniform(-0.5, 0.5), three sentences (4, 1 and 6 words of 1-5 chars), and PyTorch's float64
results with dropout off: the logits and recurrent outputs of every token (sentences
concatenated), the summed cross-entropy loss and its gradient with respect to every
parameter.  Names and layouts are PyTorch's (`lstm.weight_ih_l0`, gate order i,f,g,o for the
LSTM and r,z,n for the GRU, `_reverse` for the backward direction; row-major data).  They
are made by `python3 tools/make_parity_fixtures.py` (needs only `torch`; deterministic,
seed 20190901, `--seed` and `--out` to change; all variants share the same sentences; a
variant without chars still lists them, unused) and are small enough to commit; regenerate
them only when the model definition changes, and then commit them together with the change.

The script also checks that the batched forward pass (packed sequences, words of equal
length stacked in the char CNN) equals a sentence-by-sentence, word-by-word one, so the
fixture does not depend on how the batch is formed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dissect_torch import Tagger  # noqa: E402

SIZES = dict(words=9, word_dim=4, chars=7, char_dim=3, char_filters=4, hidden_size=3, labels=5)
SENTENCE_LENGTHS = (4, 1, 6)
VARIANTS = {
    "lstm": dict(cell="lstm", bidirectional=False, use_chars=True),
    "bilstm": dict(cell="lstm", bidirectional=True, use_chars=True),
    "gru": dict(cell="gru", bidirectional=False, use_chars=True),
    "bigru": dict(cell="gru", bidirectional=True, use_chars=True),
    "lstm_nochars": dict(cell="lstm", bidirectional=False, use_chars=False),
}
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                           "Tests", "DissectModelTests", "Fixtures")


def make_sentences(gen: torch.Generator):
    """Three sentences of 4, 1 and 6 words; each word 1-5 chars; random indices."""
    sentences = []
    for n in SENTENCE_LENGTHS:
        words = torch.randint(0, SIZES["words"], (n,), generator=gen).tolist()
        chars = []
        for _ in range(n):
            length = int(torch.randint(1, 6, (1,), generator=gen))
            chars.append(torch.randint(0, SIZES["chars"], (length,), generator=gen).tolist())
        labels = torch.randint(0, SIZES["labels"], (n,), generator=gen).tolist()
        sentences.append({"words": words, "chars": chars, "labels": labels})
    return sentences


def reference_forward(model: Tagger, sentences):
    """Sentence-by-sentence, word-by-word forward pass ([1, Dc, L] per word) for cross-checking."""
    logits, hidden = [], []
    for s in sentences:
        x = model.word_embedding(torch.tensor(s["words"]))
        if model.use_chars:
            feats = []
            for cs in s["chars"]:
                e = model.char_embedding(torch.tensor(cs)).t().unsqueeze(0)   # [1, Dc, L]
                feats.append(model.char_cnn(e).max(dim=2).values[0])
            x = torch.cat([x, torch.stack(feats)], dim=1)
        h, _ = model.lstm(x.unsqueeze(0))
        hidden.append(h[0])
        logits.append(model.hidden2tag(h[0]))
    return torch.cat(logits), torch.cat(hidden)


def flat(t: torch.Tensor) -> dict:
    """``{"shape": [...], "data": [row-major float64 values]}`` (repr keeps full precision)."""
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def make_fixture(variant: str, seed: int) -> dict:
    spec = VARIANTS[variant]
    gen = torch.Generator().manual_seed(seed)
    model = Tagger(words=SIZES["words"], labels=SIZES["labels"], word_dim=SIZES["word_dim"],
                   hidden_size=SIZES["hidden_size"], chars=SIZES["chars"],
                   char_dim=SIZES["char_dim"], char_filters=SIZES["char_filters"],
                   char_window=3, dropout=0.0, **spec).double()
    model.eval()
    sentences = make_sentences(gen)   # first, so every variant has the same sentences
    with torch.no_grad():
        for p in model.parameters():   # named_parameters order is deterministic
            p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float64) - 0.5)

    words = [torch.tensor(s["words"]) for s in sentences]
    chars = [s["chars"] for s in sentences] if model.use_chars else None
    labels = torch.tensor([y for s in sentences for y in s["labels"]])
    model.zero_grad()
    logits, hidden = model(words, chars)
    loss = F.cross_entropy(logits, labels, reduction="sum")
    loss.backward()

    with torch.no_grad():
        ref_logits, ref_hidden = reference_forward(model, sentences)
    err = max((ref_logits - logits).abs().max().item(), (ref_hidden - hidden).abs().max().item())
    if err > 1e-12:
        raise SystemExit(f"{variant}: batched and per-sentence forward differ by {err}")

    config = {"cell": spec["cell"], "bidirectional": spec["bidirectional"],
              "use_chars": spec["use_chars"], "hidden_size": SIZES["hidden_size"],
              "word_dim": SIZES["word_dim"], "char_dim": SIZES["char_dim"],
              "char_filters": SIZES["char_filters"], "labels": SIZES["labels"],
              "words": SIZES["words"], "chars": SIZES["chars"]}
    named = list(model.named_parameters())
    return {
        "variant": variant,
        "config": config,
        "seed": seed,
        "torch_version": torch.__version__,
        "sentences": sentences,
        "parameters": {name: flat(p) for name, p in named},
        "logits": flat(logits),
        "hidden": flat(hidden),
        "loss": float(loss.item()),
        "gradients": {name: flat(p.grad) for name, p in named},
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Writes parity_<variant>.json for: " + ", ".join(VARIANTS))
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help="output directory (default: Tests/DissectModelTests/Fixtures)")
    ap.add_argument("--seed", type=int, default=20190901, help="random seed (default 20190901)")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS),
                    help="variants to write (default: all)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    for variant in args.variants:
        fixture = make_fixture(variant, args.seed)
        path = os.path.join(args.out, f"parity_{variant}.json")
        text = json.dumps(fixture, separators=(",", ":")) + "\n"
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"{os.path.normpath(path)}: loss {fixture['loss']!r}, {len(text)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
