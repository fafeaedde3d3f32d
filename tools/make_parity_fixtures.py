#!/usr/bin/env python3
"""Write the float64 PyTorch parity fixtures of dissect's tagger.

README paragraph
----------------
**Parity fixtures.**  `Tests/DissectModelTests/Fixtures/parity_<variant>.json` hold, for
the variants `lstm`, `bilstm`, `gru`, `bigru`, `rnn`, `birnn` (one layer), `lstm2`,
`bilstm2`, `gru2`, `bigru2`, `rnn2`, `birnn2` (two layers), `bilstm_crf`, `bilstm2_crf`
(a BiLSTM of one or two layers with a CRF), all with the char CNN, and `lstm_nochars`, a
tiny model (V=9, Dw=4, C=7, Dc=3, F=4, H=3, m=5) with every parameter drawn from
uniform(-0.5, 0.5) (the CRF's transitions from uniform(-1.5, 1.5), so that its best
paths are not every token's arg-max, then its column START and row STOP set to -10000), three
sentences (4, 1 and 6 words of 1-5 chars), and PyTorch's float64 results with dropout off
(and `layer_dropout` 0): the logits (emissions) and top-layer recurrent outputs of every
token (sentences concatenated), every layer's output (`layer_hidden`, bottom layer first),
the loss (the summed cross-entropy, or with a CRF the sum over sentences of log Z minus the
gold path's score) and its gradient with respect to every parameter; with a CRF also the
Viterbi labels.  `bilstm2`, `gru2` and `birnn2` also hold recurrent ablations: in layer K
(1 or 2) the listed neurons (`0..H-1` forward units, `H..2H-1` backward units) of h(t) are
zeroed after every step, in the output and in the state carried on (an LSTM's cell state is
not touched), and the layers above run on the ablated outputs.  Names and layouts are
PyTorch's (`lstm.weight_ih_l0`, `gru.weight_hh_l1_reverse`, `rnn.bias_ih_l0`, gate order
i,f,g,o for the LSTM and r,z,n for the GRU; `crf.transitions` [m+2, m+2] with START = m,
STOP = m+1; row-major data).  They are made by `python3 tools/make_parity_fixtures.py`
(needs only `torch`; deterministic, seed 20190901, `--seed` and `--out` to change; all
variants share the same sentences; a variant without chars still lists them, unused) and
are small enough to commit; regenerate them only when the model definition changes, and
then commit them together with the change.

The script also checks that the batched forward pass (packed sequences, words of equal
length stacked in the char CNN, padded CRF) equals a sentence-by-sentence, word-by-word one
built from one-layer torch modules, that a step-by-step recurrence with the cell equations
written out equals torch's (to 1e-12, which is what makes the ablations trustworthy), and,
for the CRF, that log Z and the Viterbi path equal brute force over all label paths, with a
best path that wins by more than 1e-3 (no ties to break).

Fixture fields
--------------
`variant`; `config` {cell, bidirectional, use_chars, hidden_size, word_dim, char_dim,
char_filters, labels, words, chars, layers, crf}; `seed`; `torch_version`; `sentences`
[{words, chars, labels}]; `parameters` and `gradients` {name: {shape, data}}; `logits`
{[N, m]}; `hidden` {[N, n]} (n = H x directions, the top layer); `layer_hidden` [layers x
{[N, n]}]; `loss`; CRF variants: `viterbi` [N] (label index per token); ablation variants:
`ablations` [{layer (1-based), neurons, layer_hidden [layers x {[N, n]}], logits {[N, m]}}].
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dissect_torch import CELLS, Tagger, layer_outputs  # noqa: E402

SIZES = dict(words=9, word_dim=4, chars=7, char_dim=3, char_filters=4, hidden_size=3, labels=5)
SENTENCE_LENGTHS = (4, 1, 6)
# Recurrent ablations written for these variants: (layer K, neurons) for a uni- and a
# bidirectional model (bidirectional neurons H.. are backward units).
ABLATIONS = {
    False: [(1, [0, 2]), (2, [1])],
    True: [(1, [0, 4]), (2, [1, 5])],
}
ABLATED_VARIANTS = ("bilstm2", "gru2", "birnn2")
# crf.transitions are uniform(-0.5, 0.5) times this (then column START / row STOP = -10000).
TRANSITION_SCALE = 3.0


def _variant(cell: str, bidirectional: bool, layers: int = 1, crf: bool = False,
             use_chars: bool = True) -> dict:
    return dict(cell=cell, bidirectional=bidirectional, use_chars=use_chars, layers=layers,
                crf=crf)


VARIANTS = {
    "lstm": _variant("lstm", False),
    "bilstm": _variant("lstm", True),
    "gru": _variant("gru", False),
    "bigru": _variant("gru", True),
    "lstm_nochars": _variant("lstm", False, use_chars=False),
    "rnn": _variant("rnn", False),
    "birnn": _variant("rnn", True),
    "lstm2": _variant("lstm", False, layers=2),
    "bilstm2": _variant("lstm", True, layers=2),
    "gru2": _variant("gru", False, layers=2),
    "bigru2": _variant("gru", True, layers=2),
    "rnn2": _variant("rnn", False, layers=2),
    "birnn2": _variant("rnn", True, layers=2),
    "bilstm_crf": _variant("lstm", True, crf=True),
    "bilstm2_crf": _variant("lstm", True, layers=2, crf=True),
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


def single_layer(model: Tagger, layer: int) -> torch.nn.Module:
    """A one-layer torch module (same cell, float64) holding ``model``'s layer ``layer`` (0-based)."""
    rnn = model.recurrent
    size = model.input_size if layer == 0 else model.output_size
    kwargs = dict(nonlinearity="tanh") if model.cell == "rnn" else {}
    one = CELLS[model.cell](size, model.hidden_size, num_layers=1, batch_first=True,
                            bidirectional=model.bidirectional, **kwargs).double()
    with torch.no_grad():
        for direction in range(model.directions):
            tail = "_reverse" if direction else ""
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(one, f"{name}_l0{tail}").copy_(getattr(rnn, f"{name}_l{layer}{tail}"))
    return one


def sentence_inputs(model: Tagger, s: dict) -> torch.Tensor:
    """One sentence's first-layer input ``[T, D]``, every word's char CNN run on its own
    (``[1, Dc, L]``), for cross-checking the batched ``Tagger.inputs``."""
    x = model.word_embedding(torch.tensor(s["words"]))                         # [T, Dw]
    if model.use_chars:
        feats = []
        for cs in s["chars"]:
            e = model.char_embedding(torch.tensor(cs)).t().unsqueeze(0)       # [1, Dc, L]
            feats.append(model.char_cnn(e).max(dim=2).values[0])              # [F]
        x = torch.cat([x, torch.stack(feats)], dim=1)                         # [T, Dw + F]
    return x


def reference_forward(model: Tagger, sentences):
    """Sentence by sentence, layer by layer through one-layer torch modules.

    Returns ``(logits [N, m], layer outputs: layers x [N, n], loss, viterbi [N] or None)``;
    the loss and the Viterbi path are computed one sentence at a time.
    """
    layers = [single_layer(model, k) for k in range(model.layers)]
    logits, per_layer, loss, viterbi = [], [[] for _ in layers], 0.0, []
    for s in sentences:
        h = sentence_inputs(model, s).unsqueeze(0)                            # [1, T, D]
        for k, module in enumerate(layers):
            h, _ = module(h)                                                  # [1, T, n]
            per_layer[k].append(h[0])
        emissions = model.hidden2tag(h[0])                                    # [T, m]
        logits.append(emissions)
        gold = torch.tensor(s["labels"])
        T = len(s["labels"])
        if model.crf is None:
            loss = loss + F.cross_entropy(emissions, gold, reduction="sum")
        else:
            loss = loss + model.crf.neg_log_likelihood(emissions, [T], gold)
            viterbi += model.crf.viterbi(emissions, [T])[0]
    return (torch.cat(logits), [torch.cat(p) for p in per_layer], loss,
            viterbi if model.crf is not None else None)


def brute_force_crf(model: Tagger, emissions: torch.Tensor):
    """``(log Z, best path, margin over the second best)`` of one sentence ``[T, m]``,
    every one of the ``m ** T`` label paths scored with the path formula."""
    T, m = emissions.shape
    crf = model.crf
    trans = crf.transitions
    paths = torch.tensor(list(itertools.product(range(m), repeat=T)))        # [P, T] (lexicographic)
    score = trans[crf.start, paths[:, 0]] + trans[paths[:, -1], crf.stop]     # [P]
    score = score + emissions[torch.arange(T).unsqueeze(0), paths].sum(1)
    if T > 1:
        score = score + trans[paths[:, :-1], paths[:, 1:]].sum(1)
    top = score.topk(min(2, score.numel())).values
    best = int(score.argmax())                                                 # first maximal path
    margin = float(top[0] - top[1]) if top.numel() > 1 else float("inf")
    return float(torch.logsumexp(score, 0)), paths[best].tolist(), margin


def flat(t: torch.Tensor) -> dict:
    """``{"shape": [...], "data": [row-major float64 values]}`` (repr keeps full precision)."""
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def check(what: str, a: torch.Tensor, b: torch.Tensor, tolerance: float = 1e-12) -> None:
    err = (a - b).abs().max().item() if a.numel() else 0.0
    if err > tolerance:
        raise SystemExit(f"{what}: differ by {err} (> {tolerance})")


def make_fixture(variant: str, seed: int) -> dict:
    spec = VARIANTS[variant]
    gen = torch.Generator().manual_seed(seed)
    model = Tagger(words=SIZES["words"], labels=SIZES["labels"], word_dim=SIZES["word_dim"],
                   hidden_size=SIZES["hidden_size"], chars=SIZES["chars"],
                   char_dim=SIZES["char_dim"], char_filters=SIZES["char_filters"],
                   char_window=3, dropout=0.0, layer_dropout=0.0, **spec).double()
    model.eval()
    sentences = make_sentences(gen)   # first, so every variant has the same sentences
    with torch.no_grad():
        for p in model.parameters():   # named_parameters order is deterministic
            p.copy_(torch.rand(p.shape, generator=gen, dtype=torch.float64) - 0.5)
        if model.crf is not None:
            # wider than the emissions' spread, so the best path is not just every token's arg-max
            model.crf.transitions.mul_(TRANSITION_SCALE)
            model.crf.reset_fixed_()   # column START, row STOP = -10000 as NCRF++

    words = [torch.tensor(s["words"]) for s in sentences]
    chars = [s["chars"] for s in sentences] if model.use_chars else None
    labels = [torch.tensor(s["labels"]) for s in sentences]
    lengths = [len(s["words"]) for s in sentences]
    model.zero_grad()
    logits, hidden = model(words, chars)                                       # [N, m], [N, n]
    loss = model.loss(words, chars, labels)
    loss.backward()

    with torch.no_grad():
        ref_logits, ref_layers, ref_loss, ref_viterbi = reference_forward(model, sentences)
        check(f"{variant}: batched vs per-sentence logits", logits, ref_logits)
        check(f"{variant}: batched vs per-sentence hidden", hidden, ref_layers[-1])
        check(f"{variant}: batched vs per-sentence loss", loss, torch.as_tensor(ref_loss), 1e-12)
        xs = [sentence_inputs(model, s) for s in sentences]                    # T_i x [T_i, D]
        stepwise = [layer_outputs(model, x) for x in xs]
        for k in range(model.layers):
            check(f"{variant}: step-by-step vs torch, layer {k + 1}",
                  torch.cat([outs[k] for outs in stepwise]), ref_layers[k])
        viterbi = None
        if model.crf is not None:
            viterbi = [y for path in model.crf.viterbi(logits, lengths) for y in path]
            if viterbi != ref_viterbi:
                raise SystemExit(f"{variant}: batched and per-sentence Viterbi differ")
            position, log_z = 0, 0.0
            for s, length in zip(sentences, lengths):
                brute_z, brute_path, margin = brute_force_crf(model, logits[position:position + length])
                if brute_path != viterbi[position:position + length] or margin < 1e-3:
                    raise SystemExit(f"{variant}: Viterbi {viterbi[position:position + length]} vs "
                                     f"brute force {brute_path} (margin {margin})")
                log_z += brute_z
                position += length
            gold = model.crf.path_score(logits, lengths, torch.cat(labels)).sum()
            check(f"{variant}: log Z vs brute force", torch.tensor(log_z, dtype=torch.float64) - gold, loss, 1e-12)

        ablations = []
        if variant in ABLATED_VARIANTS:
            for layer, neurons in ABLATIONS[model.bidirectional]:
                runs = [layer_outputs(model, x, {layer: neurons}) for x in xs]
                per_layer = [torch.cat([run[k] for run in runs]) for k in range(model.layers)]
                for k in range(layer - 1):   # layers below K are untouched
                    check(f"{variant}: ablating layer {layer} changed layer {k + 1}",
                          per_layer[k], torch.cat([outs[k] for outs in stepwise]), 0.0)
                if not torch.all(per_layer[layer - 1][:, neurons] == 0):
                    raise SystemExit(f"{variant}: ablated neurons are not zero")
                if (per_layer[-1] - ref_layers[-1]).abs().max() < 1e-3:
                    raise SystemExit(f"{variant}: ablation of layer {layer} changes nothing")
                ablations.append({"layer": layer, "neurons": list(neurons),
                                  "layer_hidden": [flat(h) for h in per_layer],
                                  "logits": flat(model.hidden2tag(per_layer[-1]))})

    config = {"cell": spec["cell"], "bidirectional": spec["bidirectional"],
              "use_chars": spec["use_chars"], "hidden_size": SIZES["hidden_size"],
              "word_dim": SIZES["word_dim"], "char_dim": SIZES["char_dim"],
              "char_filters": SIZES["char_filters"], "labels": SIZES["labels"],
              "words": SIZES["words"], "chars": SIZES["chars"],
              "layers": spec["layers"], "crf": spec["crf"]}
    named = list(model.named_parameters())
    fixture = {
        "variant": variant,
        "config": config,
        "seed": seed,
        "torch_version": torch.__version__,
        "sentences": sentences,
        "parameters": {name: flat(p) for name, p in named},
        "logits": flat(logits),
        "hidden": flat(hidden),
        "layer_hidden": [flat(h) for h in ref_layers],
        "loss": float(loss.item()),
        "gradients": {name: flat(p.grad) for name, p in named},
    }
    if viterbi is not None:
        fixture["viterbi"] = viterbi
    if ablations:
        fixture["ablations"] = ablations
    return fixture


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
