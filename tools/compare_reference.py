#!/usr/bin/env python3
"""Reference values for `dissect compare`'s maths (Tests/DissectAnalysisTests/Fixtures/compare_reference.json).

Two deterministic activation sets, X [200, 6] and Y [200, 5] (Y partly a linear map of X plus noise),
and from them, with numpy/scipy in float64:
  * linear CKA = ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F) on column-centred data;
  * SVCCA: per set the fewest top eigen-directions of the covariance (np.linalg.eigh) whose eigenvalues
    sum to >= 99 % of the total (eigenvalues <= 1e-10 x the largest dropped), whitened, then the singular
    values of Qx^T Qy (the canonical correlations) and their mean;
  * the Pearson correlation matrix and the Hungarian matching maximising total |r|
    (scipy.optimize.linear_sum_assignment).
Usage: python3 tools/compare_reference.py  (rewrites the fixture).
"""
import json
import os

import numpy as np
from scipy.optimize import linear_sum_assignment


def reduce(x):
    covariance = x.T @ x / (x.shape[0] - 1)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    usable = values > 1e-10 * values[0]
    values, vectors = values[usable], vectors[:, usable]
    total = values.sum()
    kept = 0
    running = 0.0
    while kept < len(values) and running < 0.99 * total:
        running += values[kept]
        kept += 1
    return values[:kept], vectors[:, :kept]


def main():
    rng = np.random.default_rng(16)
    x = rng.standard_normal((200, 6)) * np.array([3.0, 2.0, 1.5, 1.0, 0.5, 0.05])
    y = x[:, :5] @ rng.standard_normal((5, 5)) * 0.7 + rng.standard_normal((200, 5)) * 0.8
    xc, yc = x - x.mean(0), y - y.mean(0)
    cka = np.linalg.norm(yc.T @ xc) ** 2 / (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc))
    lx, vx = reduce(xc)
    ly, vy = reduce(yc)
    qx = xc @ vx / np.sqrt(lx) / np.sqrt(x.shape[0] - 1)
    qy = yc @ vy / np.sqrt(ly) / np.sqrt(y.shape[0] - 1)
    correlations = np.linalg.svd(qx.T @ qy, compute_uv=False)
    r = (xc.T @ yc) / np.sqrt(np.outer((xc ** 2).sum(0), (yc ** 2).sum(0)))
    rows, columns = linear_sum_assignment(np.abs(r), maximize=True)
    fixture = {
        "x": {"shape": list(x.shape), "data": x.ravel().tolist()},
        "y": {"shape": list(y.shape), "data": y.ravel().tolist()},
        "cka": float(cka),
        "svcca_kept_x": int(len(lx)),
        "svcca_kept_y": int(len(ly)),
        "canonical_correlations": correlations.tolist(),
        "svcca": float(correlations.mean()),
        "correlations": r.tolist(),
        "assignment": [int(columns[list(rows).index(i)]) for i in range(x.shape[1]) if i in rows],
        "assignment_rows": [int(i) for i in rows],
        "assignment_total": float(np.abs(r)[rows, columns].sum()),
    }
    path = os.path.join(os.path.dirname(__file__), "..", "Tests", "DissectAnalysisTests", "Fixtures", "compare_reference.json")
    with open(path, "w") as handle:
        json.dump(fixture, handle, indent=1)
        handle.write("\n")
    print(f"wrote {path}: CKA {cka:.6f}, SVCCA {correlations.mean():.6f} (kept {len(lx)}, {len(ly)})")


if __name__ == "__main__":
    main()
