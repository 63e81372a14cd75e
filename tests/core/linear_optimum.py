"""The exact best linear model, the reference the engine's tests train towards.

Only tests use it (the app shows trained results, never solved ones), so it lives here.
"""

from __future__ import annotations

import numpy as np


def exact_linear_optimum(x: np.ndarray, y: np.ndarray, loss: str
                         ) -> tuple[np.ndarray, float, float]:
    """The best linear model (w (days,), b, loss in the training unit).

    MSE: least squares (lstsq). MAE: least absolute deviations by iteratively reweighted
    least squares, then polished to the exact optimum: an LAD solution passes through d + 1
    of the points, so the d + 1 points IRLS fits most closely are interpolated exactly and
    that vertex is kept when it is at least as good.
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
    floor = 1e-9 * max(float(np.mean(np.abs(y))), 1e-12)
    best = float(np.mean(np.abs(a @ theta - y)))
    for _ in range(500):
        r = np.abs(a @ theta - y)
        sw = 1.0 / np.sqrt(np.maximum(r, floor))
        new = np.linalg.lstsq(a * sw[:, None], y * sw, rcond=None)[0]
        val = float(np.mean(np.abs(a @ new - y)))
        theta, improved = new, best - val
        best = min(best, val)
        if 0 <= improved <= 1e-13 * best:
            break
    theta, best = _polish_vertex(a, y, theta, best)
    return theta[:-1].copy(), float(theta[-1]), best


def _polish_vertex(a: np.ndarray, y: np.ndarray, theta: np.ndarray, best: float
                   ) -> tuple[np.ndarray, float]:
    k = a.shape[1]
    if len(a) < k:
        return theta, best
    idx = np.argsort(np.abs(a @ theta - y))[:k]
    try:
        cand = np.linalg.solve(a[idx], y[idx])
    except np.linalg.LinAlgError:
        return theta, best
    val = float(np.mean(np.abs(a @ cand - y)))
    return (cand, val) if np.isfinite(val) and val <= best else (theta, best)
