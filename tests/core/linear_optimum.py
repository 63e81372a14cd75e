"""The exact best linear model, the reference the engine's tests train towards.

Only tests use it (the app shows trained results, never solved ones), so it lives here.
"""

from __future__ import annotations

import numpy as np


def exact_linear_optimum(x: np.ndarray, y: np.ndarray, loss: str
                         ) -> tuple[np.ndarray, float, float]:
    """The best linear model (w (days,), b, loss in the training unit).

    MSE: least squares (lstsq). MAE: least absolute deviations, exactly (`_lad_vertex`).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    y = np.asarray(y, dtype=np.float64)
    a = np.hstack([x, np.ones((len(x), 1))])
    theta = np.linalg.lstsq(a, y, rcond=None)[0]
    if loss == "mse":
        r = a @ theta - y
        return theta[:-1].copy(), float(theta[-1]), float(np.mean(r * r))
    if loss != "mae":
        raise ValueError(f"unknown loss {loss!r}")
    theta = _lad_vertex(a, y)
    return theta[:-1].copy(), float(theta[-1]), float(np.mean(np.abs(a @ theta - y)))


def _lad_vertex(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least absolute deviations as a linear program (HiGHS's dual simplex, which ends on
    a vertex), then that vertex solved exactly: an LAD solution passes through k = d + 1
    of the points, so the k the program fits most closely are interpolated with
    `np.linalg.solve` (the program's own answer is good to its tolerance, ~1e-9). Iterated
    reweighted least squares, used before, stalled above the optimum on data with many
    ties (hypothesis found 11.43992 where the optimum is 11.43919)."""
    from scipy.optimize import linprog

    n, k = a.shape
    res = linprog(np.concatenate([np.zeros(k), np.ones(2 * n)]),
                  A_eq=np.hstack([a, np.eye(n), -np.eye(n)]), b_eq=y,
                  bounds=[(None, None)] * k + [(0, None)] * (2 * n), method="highs-ds")
    if res.status != 0:
        raise RuntimeError(f"the LAD program failed: {res.message}")
    theta = res.x[:k]
    best = float(np.mean(np.abs(a @ theta - y)))
    if n >= k:
        idx = np.argsort(np.abs(a @ theta - y))[:k]
        try:
            cand = np.linalg.solve(a[idx], y[idx])
        except np.linalg.LinAlgError:
            return theta
        val = float(np.mean(np.abs(a @ cand - y)))
        if np.isfinite(val) and val <= best:
            return cand
    return theta
