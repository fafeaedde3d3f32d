#!/usr/bin/env python3
"""Reference for `LinearProbe` and the probeless ranking (`RivalRankings.probeless`), numpy only.

A small deterministic toy set (numpy seed 16): T tokens, n neurons, m classes, neuron 1
carrying the class. The probe is the same proximal-gradient (ISTA) algorithm as the Swift code:
standardise each column (population sd, 0 where sd = 0), W = 0, b = 0, full batch,
step 1/L with L = 0.5 * (||X||_F^2 / T + 1) + 2*l2, `iterations` steps of
    W <- soft_threshold(W - step * grad_W, step * l1),  b <- b - step * grad_b,
grad of (1/T) sum -log softmax(XW^T + b)[y] + l2 ||W||^2. Writes
Tests/DissectAnalysisTests/Fixtures/probe_reference.json.
If scikit-learn is importable it also fits LogisticRegression(penalty='elasticnet', solver='saga') to
convergence and writes its rankings as `sklearn_rankings`; it is a different optimiser run much longer,
so only each class's top neuron must agree (checked here and by the Swift test), not the whole order.
The probeless scores are NeuroX's tag-wise ranking: sum over the other present labels of |mean_j - mean_c|.
"""
import json
import os

import numpy as np

T, n, m = 60, 4, 3
L1, L2, ITERATIONS = 1e-2, 1e-3, 300


def toy():
    rng = np.random.default_rng(16)
    y = np.arange(T) % m
    h = rng.normal(size=(T, n))
    h[:, 1] = (y - 1) * 2.0 + 0.3 * rng.normal(size=T)
    h[:, 3] = 0.5 * h[:, 1] + rng.normal(size=T)
    return h, y


def standardise(h):
    mean = h.mean(axis=0)
    sd = h.std(axis=0)
    return np.where(sd > 0, (h - mean) / np.where(sd > 0, sd, 1), 0.0)


def smooth(W, b, x, y, l2):
    scores = x @ W.T + b
    scores -= scores.max(axis=1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(W.shape[0])[y]
    d = (p - onehot) / len(y)
    return d.T @ x + 2 * l2 * W, d.sum(axis=0)


def train(x, y, l1, l2, iterations):
    W = np.zeros((m, x.shape[1]))
    b = np.zeros(m)
    step = 1 / (0.5 * ((x * x).sum() / len(y) + 1) + 2 * l2)
    for _ in range(iterations):
        gW, gb = smooth(W, b, x, y, l2)
        moved = W - step * gW
        W = np.sign(moved) * np.maximum(np.abs(moved) - step * l1, 0)
        b = b - step * gb
    return W, b, step


def rank(scores):
    # descending, ties to the lower index
    return sorted(range(len(scores)), key=lambda i: (-scores[i], i))


def probeless(h, assignments):
    # NeuroX's tag-wise ranking: sum over the other present labels of |mean_j - mean_c|.
    means = {c: h[assignments == c].mean(axis=0) for c in range(m) if (assignments == c).any()}
    return [sum(np.abs(means[j] - means[c]) for c in means if c != j) for j in range(m)]


def main():
    h, y = toy()
    x = standardise(h)
    W, b, step = train(x, y, L1, L2, ITERATIONS)
    accuracy = float(((x @ W.T + b).argmax(axis=1) == y).mean())
    pl = probeless(h, y)
    fixture = {
        "tokens": T, "neurons": n, "labels": m, "l1": L1, "l2": L2, "iterations": ITERATIONS, "step": step,
        "hidden": h.reshape(-1).tolist(), "y": y.tolist(),
        "weight": W.reshape(-1).tolist(), "bias": b.tolist(), "training_accuracy": accuracy,
        "probe_rankings": [rank(np.abs(W[j])) for j in range(m)],
        "probe_overall_ranking": rank(np.abs(W).sum(axis=0)),
        "probeless_scores": [s.tolist() for s in pl],
        "probeless_rankings": [rank(s) for s in pl],
    }
    try:
        from sklearn.linear_model import LogisticRegression
        # sklearn: C * sum(loss) + (1-r)/2 ||w||^2 + r ||w||_1, i.e. mean loss with l1 = r/(C T), l2 = (1-r)/(2 C T).
        ratio = L1 / (L1 + 2 * L2)
        C = ratio / (L1 * T)
        model = LogisticRegression(penalty="elasticnet", solver="saga", l1_ratio=ratio, C=C, max_iter=100000, tol=1e-10)
        model.fit(x, y)
        fixture["sklearn_rankings"] = [rank(np.abs(model.coef_[j])) for j in range(m)]
        print("sklearn rankings", fixture["sklearn_rankings"], "ours", fixture["probe_rankings"])
        assert [r[0] for r in fixture["sklearn_rankings"]] == [r[0] for r in fixture["probe_rankings"]], "top neurons differ from sklearn's"
    except ImportError:
        print("scikit-learn not installed: numpy reference only")
    path = os.path.join(os.path.dirname(__file__), "..", "Tests", "DissectAnalysisTests", "Fixtures", "probe_reference.json")
    with open(path, "w") as handle:
        json.dump(fixture, handle, indent=1)
        handle.write("\n")
    print("wrote", os.path.normpath(path), "training accuracy", accuracy, "rankings", fixture["probe_rankings"])


if __name__ == "__main__":
    main()
