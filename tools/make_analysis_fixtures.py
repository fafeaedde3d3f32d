#!/usr/bin/env python3
"""Write the float64 PyTorch fixtures of dissect's neuron analysis (sensitivity, ablation).

What this is
------------
`Tests/DissectAnalysisTests/Fixtures/analysis_<variant>.json` hold, for the variants `lstm`
(unidirectional), `bilstm` and `gru` (all with the char CNN), a tiny model (V=12, Dw=4, C=7,
Dc=3, F=4, H=4, m=5; parameters uniform(-s, s) with s = 1.5 for the word embedding, 3.0 for
hidden2tag.weight, 0.1 for hidden2tag.bias, 0.5 otherwise) and six sentences (7, 1, 9, 5, 12
and 6 words of 1-5 chars, 40 tokens; the same in every variant), in the SAME
layout as the parity fixtures (`config`, `sentences`, `parameters`: PyTorch names, row-major
float64, gate orders i,f,g,o / r,z,n, `_reverse` for the backward direction), plus PyTorch's
float64 results with dropout off:

* `hidden` {shape [N, n], data}: the recurrent output h[t] of every token (sentences
  concatenated; n = H, or 2H = [forward; backward]); `logits` {shape [N, m], data};
* `predicted` [N]: argmax of the logits;
* `sensitivity_predicted`, `sensitivity_gold` [n][m]: with u[t,i,j] = W[i,j] h_i(t)
  (W = hidden2tag.weight transposed, n x m), s[i,j] = mean of u[t,i,j] over the tokens whose
  label z(t) is j minus its mean over the other tokens, all tokens of all sentences, z = the
  predicted or the gold label.  A column j that no token has, or that every token has, is
  null (JSON null in each of its n rows).  Gold labels are drawn from 0..m-2, so the gold
  column m-1 is always null; seed and scales are chosen so every variant predicts at least
  3 labels and at least one variant never predicts some label (a null predicted column);
* `order` [n]: a fixed random permutation of 0..n-1;
* `ablation_readout`, `ablation_recurrent` [n+1][N]: the predictions with the first k
  neurons of `order` ablated, k = 0..n.  "readout": h_i is zeroed only where it enters
  hidden2tag (logits = bias + sum over i not ablated of W[:, i] h_i; the recurrence is
  unchanged).  "recurrent": h_i(t) is zeroed right after every step, in the output and in the
  hidden state carried to the next step (the LSTM cell state is not zeroed; for the GRU the
  carried state is h itself); for the bidirectional model neuron i < H is forward unit i and
  i >= H is backward unit i - H.

What the script checks before writing
-------------------------------------
* the batched `Tagger.forward` equals the step-by-step recurrence written out here with
  explicit gate formulas (no ablation) to 1e-12, in hidden states and logits;
* the vectorised sensitivity equals a naive pure-Python triple loop to 1e-12 (same nulls);
* readout ablation with k = 0 reproduces `predicted`; readout ablation of ALL neurons, and
  recurrent ablation of all neurons, predict argmax(hidden2tag.bias) at every token;
* every arg-max written (all ablation runs included) wins by a margin of at least 1e-3, so
  a float64 re-implementation cannot flip it through rounding;
* at least 3 labels predicted in every variant, some label never predicted in some variant,
  and each file is below 40 KB.

Regenerate with `python3 tools/make_analysis_fixtures.py` (needs only `torch`;
deterministic, seed 20191106, `--seed`/`--out` to change).  Commit the fixtures; regenerate
only when a definition above changes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dissect_torch import Tagger  # noqa: E402

SIZES = dict(words=12, word_dim=4, chars=7, char_dim=3, char_filters=4, hidden_size=4, labels=5)
SENTENCE_LENGTHS = (7, 1, 9, 5, 12, 6)      # 40 tokens
VARIANTS = {
    "lstm": dict(cell="lstm", bidirectional=False, use_chars=True),
    "bilstm": dict(cell="lstm", bidirectional=True, use_chars=True),
    "gru": dict(cell="gru", bidirectional=False, use_chars=True),
}
# Parameters are uniform(-scale, scale); unlisted ones use DEFAULT_SCALE.
DEFAULT_SCALE = 0.5
SCALES = {"word_embedding.weight": 1.5, "hidden2tag.weight": 3.0, "hidden2tag.bias": 0.1}
MIN_MARGIN = 1e-3
_margins = []   # the smallest arg-max margin of each call of argmax_checked (for the report)
MAX_BYTES = 40_000
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                           "Tests", "DissectAnalysisTests", "Fixtures")


# --------------------------------------------------------------------------------------------
# Data and model
# --------------------------------------------------------------------------------------------

def make_sentences(gen: torch.Generator):
    """Six sentences; each word 1-5 chars; random indices; gold labels in 0..m-2."""
    sentences = []
    for n in SENTENCE_LENGTHS:
        words = torch.randint(0, SIZES["words"], (n,), generator=gen).tolist()
        chars = []
        for _ in range(n):
            length = int(torch.randint(1, 6, (1,), generator=gen))
            chars.append(torch.randint(0, SIZES["chars"], (length,), generator=gen).tolist())
        labels = torch.randint(0, SIZES["labels"] - 1, (n,), generator=gen).tolist()
        sentences.append({"words": words, "chars": chars, "labels": labels})
    return sentences


def make_model(spec: dict, gen: torch.Generator) -> Tagger:
    model = Tagger(words=SIZES["words"], labels=SIZES["labels"], word_dim=SIZES["word_dim"],
                   hidden_size=SIZES["hidden_size"], chars=SIZES["chars"],
                   char_dim=SIZES["char_dim"], char_filters=SIZES["char_filters"],
                   char_window=3, dropout=0.0, **spec).double()
    model.eval()
    with torch.no_grad():
        for name, p in model.named_parameters():   # deterministic order
            scale = SCALES.get(name, DEFAULT_SCALE)
            p.copy_((torch.rand(p.shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale)
    return model


def inputs(model: Tagger, sentence: dict) -> torch.Tensor:
    """The recurrent layer's input [T, D] of one sentence (word embedding ++ char CNN)."""
    x = model.word_embedding(torch.tensor(sentence["words"]))
    if model.use_chars:
        x = torch.cat([x, model.char_features(sentence["chars"])], dim=1)
    return x


# --------------------------------------------------------------------------------------------
# Step-by-step recurrence with recurrent ablation
# --------------------------------------------------------------------------------------------

def run_direction(model: Tagger, x: torch.Tensor, suffix: str, keep: torch.Tensor,
                  reverse: bool) -> torch.Tensor:
    """One direction over x [T, D] with explicit gate formulas (as torch's LSTM/GRU).

    ``keep`` [H] is 1.0 for kept units and 0.0 for ablated ones: h(t) is multiplied by it
    right after each step (output and carried state; the LSTM cell state is untouched).
    """
    rnn = model.recurrent
    w_ih = getattr(rnn, "weight_ih_l0" + suffix)
    w_hh = getattr(rnn, "weight_hh_l0" + suffix)
    b_ih = getattr(rnn, "bias_ih_l0" + suffix)
    b_hh = getattr(rnn, "bias_hh_l0" + suffix)
    H = rnn.hidden_size
    T = x.size(0)
    h = x.new_zeros(H)
    c = x.new_zeros(H)
    out = [None] * T
    steps = range(T - 1, -1, -1) if reverse else range(T)
    for t in steps:
        gi = w_ih @ x[t] + b_ih
        gh = w_hh @ h + b_hh
        if model.cell == "lstm":
            g = gi + gh
            i = torch.sigmoid(g[0:H])
            f = torch.sigmoid(g[H:2 * H])
            gg = torch.tanh(g[2 * H:3 * H])
            o = torch.sigmoid(g[3 * H:4 * H])
            c = f * c + i * gg
            h = o * torch.tanh(c)
        else:
            r = torch.sigmoid(gi[0:H] + gh[0:H])
            z = torch.sigmoid(gi[H:2 * H] + gh[H:2 * H])
            nn_ = torch.tanh(gi[2 * H:3 * H] + r * gh[2 * H:3 * H])
            h = (1 - z) * nn_ + z * h
        h = h * keep
        out[t] = h
    return torch.stack(out)


def recurrent_hidden(model: Tagger, xs, ablated) -> torch.Tensor:
    """Hidden states [N, n] of all tokens with the neurons in ``ablated`` zeroed recurrently."""
    H = model.recurrent.hidden_size
    n = H * (2 if model.bidirectional else 1)
    keep = torch.ones(n, dtype=torch.float64)
    for i in ablated:
        keep[i] = 0.0
    result = []
    for x in xs:
        fwd = run_direction(model, x, "", keep[:H], reverse=False)
        if model.bidirectional:
            bwd = run_direction(model, x, "_reverse", keep[H:], reverse=True)
            result.append(torch.cat([fwd, bwd], dim=1))
        else:
            result.append(fwd)
    return torch.cat(result)


# --------------------------------------------------------------------------------------------
# Sensitivity
# --------------------------------------------------------------------------------------------

def sensitivity(hidden: torch.Tensor, W: torch.Tensor, z: torch.Tensor):
    """Vectorised s[i][j] (list of n rows of m floats or None). W is n x m."""
    N, n = hidden.shape
    m = W.size(1)
    u = hidden.unsqueeze(2) * W.unsqueeze(0)                        # [N, n, m]
    onehot = torch.nn.functional.one_hot(z, m).to(torch.float64)   # [N, m]
    count = onehot.sum(0)                                            # [m]
    s_in = torch.einsum("tij,tj->ij", u, onehot)                     # [n, m]
    s_all = u.sum(0)
    rows = [[None] * m for _ in range(n)]
    for j in range(m):
        k = int(count[j])
        if k == 0 or k == N:
            continue
        col = s_in[:, j] / k - (s_all[:, j] - s_in[:, j]) / (N - k)
        for i in range(n):
            rows[i][j] = float(col[i])
    return rows


def sensitivity_naive(hidden, W, z):
    """The same with plain Python loops over tokens, neurons and labels."""
    h = hidden.tolist()
    w = W.tolist()
    zs = z.tolist()
    N, n, m = len(h), len(w), len(w[0])
    rows = [[None] * m for _ in range(n)]
    for j in range(m):
        for i in range(n):
            a, na, b, nb = 0.0, 0, 0.0, 0
            for t in range(N):
                u = w[i][j] * h[t][i]
                if zs[t] == j:
                    a += u
                    na += 1
                else:
                    b += u
                    nb += 1
            if na > 0 and nb > 0:
                rows[i][j] = a / na - b / nb
    return rows


# --------------------------------------------------------------------------------------------
# Fixture
# --------------------------------------------------------------------------------------------

def flat(t: torch.Tensor) -> dict:
    """``{"shape": [...], "data": [row-major float64 values]}`` (repr keeps full precision)."""
    return {"shape": list(t.shape), "data": [float(v) for v in t.detach().reshape(-1).tolist()]}


def argmax_checked(logits: torch.Tensor, what: str) -> list:
    top = logits.topk(2, dim=1).values
    margin = (top[:, 0] - top[:, 1]).min().item()
    if margin < MIN_MARGIN:
        raise SystemExit(f"{what}: arg-max margin {margin} < {MIN_MARGIN}; change the seed")
    _margins.append(margin)
    return logits.argmax(dim=1).tolist()


def make_fixture(variant: str, seed: int) -> dict:
    spec = VARIANTS[variant]
    gen = torch.Generator().manual_seed(seed)
    sentences = make_sentences(gen)   # first, so every variant has the same sentences
    model = make_model(spec, gen)
    order_gen = torch.Generator().manual_seed(seed + 1)
    H = SIZES["hidden_size"]
    n = H * (2 if spec["bidirectional"] else 1)
    m = SIZES["labels"]
    order = torch.randperm(n, generator=order_gen).tolist()

    with torch.no_grad():
        words = [torch.tensor(s["words"]) for s in sentences]
        chars = [s["chars"] for s in sentences]
        logits, hidden = model(words, chars)
        xs = [inputs(model, s) for s in sentences]
        mine = recurrent_hidden(model, xs, [])
        err = (mine - hidden).abs().max().item()
        if err > 1e-12:
            raise SystemExit(f"{variant}: step-by-step recurrence differs from nn.{spec['cell'].upper()} by {err}")
        err = (model.hidden2tag(mine) - logits).abs().max().item()
        if err > 1e-12:
            raise SystemExit(f"{variant}: logits differ by {err}")

        W = model.hidden2tag.weight.t().contiguous()     # n x m
        bias = model.hidden2tag.bias
        predicted = argmax_checked(logits, f"{variant} predicted")
        gold = [y for s in sentences for y in s["labels"]]

        sens = {}
        for cond, z in (("predicted", predicted), ("gold", gold)):
            zt = torch.tensor(z)
            fast, slow = sensitivity(hidden, W, zt), sensitivity_naive(hidden, W, zt)
            for i in range(n):
                for j in range(m):
                    a, b = fast[i][j], slow[i][j]
                    if (a is None) != (b is None) or (a is not None and abs(a - b) > 1e-12):
                        raise SystemExit(f"{variant} {cond}: s[{i}][{j}] {a} vs naive {b}")
            sens[cond] = fast

        readout, recurrent = [], []
        for k in range(n + 1):
            ablated = order[:k]
            keep = torch.ones(n, dtype=torch.float64)
            keep[ablated] = 0.0
            readout.append(argmax_checked(bias + (hidden * keep) @ W, f"{variant} readout k={k}"))
            h_rec = recurrent_hidden(model, xs, ablated)
            recurrent.append(argmax_checked(bias + h_rec @ W, f"{variant} recurrent k={k}"))
        if readout[0] != predicted or recurrent[0] != predicted:
            raise SystemExit(f"{variant}: ablation of nothing changes the predictions")
        everywhere = [int(bias.argmax())] * len(predicted)
        if readout[n] != everywhere or recurrent[n] != everywhere:
            raise SystemExit(f"{variant}: ablating every neuron does not predict argmax(bias)")

    config = {"cell": spec["cell"], "bidirectional": spec["bidirectional"],
              "use_chars": spec["use_chars"], "hidden_size": H,
              "word_dim": SIZES["word_dim"], "char_dim": SIZES["char_dim"],
              "char_filters": SIZES["char_filters"], "labels": m,
              "words": SIZES["words"], "chars": SIZES["chars"]}
    return {
        "variant": variant,
        "config": config,
        "seed": seed,
        "torch_version": torch.__version__,
        "sentences": sentences,
        "parameters": {name: flat(p) for name, p in model.named_parameters()},
        "hidden": flat(hidden),
        "logits": flat(logits),
        "predicted": predicted,
        "sensitivity_predicted": sens["predicted"],
        "sensitivity_gold": sens["gold"],
        "order": order,
        "ablation_readout": readout,
        "ablation_recurrent": recurrent,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Writes analysis_<variant>.json for: " + ", ".join(VARIANTS))
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help="output directory (default: Tests/DissectAnalysisTests/Fixtures)")
    ap.add_argument("--seed", type=int, default=20191106, help="random seed (default 20191106)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    fixtures = {v: make_fixture(v, args.seed) for v in VARIANTS}
    some_missing = False
    for variant, fx in fixtures.items():
        labels = set(fx["predicted"])
        if len(labels) < 3:
            raise SystemExit(f"{variant}: only {len(labels)} labels predicted; change the seed")
        some_missing |= len(labels) < SIZES["labels"]
    if not some_missing:
        raise SystemExit("every variant predicts every label (no null column); change the seed")
    os.makedirs(args.out, exist_ok=True)
    for variant, fx in fixtures.items():
        text = json.dumps(fx, separators=(",", ":")) + "\n"
        if len(text.encode()) >= MAX_BYTES:
            raise SystemExit(f"{variant}: {len(text)} bytes, over {MAX_BYTES}")
        path = os.path.join(args.out, f"analysis_{variant}.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        counts = [fx["predicted"].count(j) for j in range(SIZES["labels"])]
        changed = [sum(a != b for a, b in zip(fx["predicted"], row)) for row in fx["ablation_recurrent"]]
        print(f"{os.path.normpath(path)}: {len(text)} bytes; predicted label counts {counts}; "
              f"order {fx['order']}; tokens changed by recurrent ablation per k {changed}")
    print(f"smallest arg-max margin over all predictions written: {min(_margins):.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
