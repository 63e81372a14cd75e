"""Compiled full-batch MAE updates for linear models (numba; the GIL is released).

A full-batch MAE update of a linear model is two products over the data: the residuals
r = Z theta and the gradient Z^T sign(r) / N. In numpy each is a BLAS call and each of
the optimizer's dozen vector operations is a Python call, so the Python overhead costs
as much as the arithmetic. Here a whole chunk of updates runs in one call, and the
gradient is kept up to date from the signs that changed instead of being recomputed: an
update moves theta a little, only a few residuals change sign, and the gradient changes
by (new sign - old sign) * row for each of them, exactly. The sum is in float64 from the
float64 rows, so it carries no error from the working precision of the residuals.

The optimizer arithmetic is that of `core.optimizers.NumpyOptimizer`, operation for
operation (Adam keeps M = m / (1 - b1) and S = s / (1 - b2), as it does).

Layout (p = days + 2): `zt` is Z^T (p, N) in the working precision (float32 for large
data, float64 otherwise); `z` is Z (N, p) in float64; theta = [w, b, 1]; the last column
of Z is -y, so theta's trailing 1 never moves (its gradient entry is masked to 0).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from core.optimizers import ADAGRAD_EPS, BETA1, BETA2, EPS, RMS_ALPHA

GD, MOMENTUM, ADAM, NESTEROV, ADAGRAD, RMSPROP = 0, 1, 2, 3, 4, 5
KINDS = {"gd": GD, "momentum": MOMENTUM, "adam": ADAM, "nesterov": NESTEROV,
         "adagrad": ADAGRAD, "rmsprop": RMSPROP}


@njit(cache=True, nogil=True)
def _residuals(zt: np.ndarray, th: np.ndarray, r: np.ndarray) -> None:
    """r = th @ zt, four rows of zt per pass over r (vectorized over the samples)."""
    p, n = zt.shape
    for j in range(n):
        r[j] = 0.0
    i = 0
    while i + 4 <= p:
        c0, c1, c2, c3 = th[i], th[i + 1], th[i + 2], th[i + 3]
        z0, z1, z2, z3 = zt[i], zt[i + 1], zt[i + 2], zt[i + 3]
        for j in range(n):
            r[j] += c0 * z0[j] + c1 * z1[j] + c2 * z2[j] + c3 * z3[j]
        i += 4
    left = p - i
    if left == 3:
        c0, c1, c2 = th[i], th[i + 1], th[i + 2]
        z0, z1, z2 = zt[i], zt[i + 1], zt[i + 2]
        for j in range(n):
            r[j] += c0 * z0[j] + c1 * z1[j] + c2 * z2[j]
    elif left == 2:
        c0, c1 = th[i], th[i + 1]
        z0, z1 = zt[i], zt[i + 1]
        for j in range(n):
            r[j] += c0 * z0[j] + c1 * z1[j]
    elif left == 1:
        c0 = th[i]
        z0 = zt[i]
        for j in range(n):
            r[j] += c0 * z0[j]


@njit(cache=True, nogil=True)
def _residuals_lagged(seq: np.ndarray, th: np.ndarray, taps: np.ndarray, r: np.ndarray
                      ) -> None:
    """r = th @ zt when Z is a sliding window over one series (see `lagged_series`):
    r[t] = b + sum_k taps[k] seq[t + k], with taps = (w_d .. w_1, -1) * theta. It reads the
    series (a few kB, in L1 cache) instead of the (p, N) matrix (hundreds of kB)."""
    d = th.shape[0] - 2
    n = r.shape[0]
    for k in range(d):
        taps[k] = th[d - 1 - k]
    taps[d] = -th[d + 1]
    b = th[d]
    for j in range(n):
        r[j] = b
    q = d + 1
    k = 0
    while k + 8 <= q:
        c0, c1, c2, c3 = taps[k], taps[k + 1], taps[k + 2], taps[k + 3]
        c4, c5, c6, c7 = taps[k + 4], taps[k + 5], taps[k + 6], taps[k + 7]
        for j in range(n):
            a = j + k
            r[j] += ((c0 * seq[a] + c1 * seq[a + 1]) + (c2 * seq[a + 2] + c3 * seq[a + 3])) \
                + ((c4 * seq[a + 4] + c5 * seq[a + 5]) + (c6 * seq[a + 6] + c7 * seq[a + 7]))
        k += 8
    while k < q:
        c0 = taps[k]
        for j in range(n):
            r[j] += c0 * seq[j + k]
        k += 1


@njit(cache=True, nogil=True)
def _residuals_any(zt: np.ndarray, seq: np.ndarray, th: np.ndarray, taps: np.ndarray,
                   r: np.ndarray) -> None:
    if seq.shape[0]:
        _residuals_lagged(seq, th, taps, r)
    else:
        _residuals(zt, th, r)


@njit(cache=True, nogil=True)
def _update_signs(r: np.ndarray, s: np.ndarray, dd: np.ndarray, dd64: np.ndarray,
                  z: np.ndarray, gsum: np.ndarray) -> None:
    """s = sign(r), and gsum += (new - old sign) * row for the rows whose sign changed.

    The first pass has no branch (it vectorizes) and leaves the changes in dd; the second
    reads dd eight bytes at a time (dd64 is its int64 view), so a pass in which few signs
    changed costs a fraction of a microsecond."""
    p = z.shape[1]
    changed = np.int8(0)
    for j in range(r.shape[0]):
        v = r[j]
        sn = np.int8(v > 0) - np.int8(v < 0)
        dj = np.int8(sn - s[j])
        dd[j] = dj
        s[j] = sn
        changed |= dj
    if changed == 0:
        return
    for word in range(dd64.shape[0]):
        if dd64[word] != 0:
            for j in range(8 * word, 8 * word + 8):
                d = dd[j]
                if d != 0:
                    row = z[j]
                    for i in range(p):
                        gsum[i] += d * row[i]


@njit(cache=True, nogil=True)
def _start(zt: np.ndarray, seq: np.ndarray, taps: np.ndarray, z: np.ndarray,
           theta: np.ndarray, th: np.ndarray, r: np.ndarray, s: np.ndarray, dd: np.ndarray,
           dd64: np.ndarray, gsum: np.ndarray) -> None:
    """r, s = residuals and their signs at theta; gsum = Z^T s (unscaled, float64)."""
    for i in range(theta.shape[0]):
        th[i] = theta[i]
        gsum[i] = 0.0
    for j in range(s.shape[0]):
        s[j] = 0
    _residuals_any(zt, seq, th, taps, r)
    _update_signs(r, s, dd, dd64, z, gsum)


@njit(cache=True, nogil=True)
def run(zt: np.ndarray, seq: np.ndarray, taps: np.ndarray, z: np.ndarray,
        theta: np.ndarray, th: np.ndarray, r: np.ndarray, s: np.ndarray, dd: np.ndarray,
        dd64: np.ndarray, gsum: np.ndarray, fresh: bool, kind: int, lr: float, momentum: float,
        t: int, ms: np.ndarray, tmp: np.ndarray, rows: np.ndarray) -> None:
    """len(rows) updates from theta, with r, s, gsum as `_start` leaves them (computed here
    first when `fresh`: theta is new or moved since the last call), and left so;
    rows[k] = theta after update k + 1. `t` = updates the optimizer took before; ms holds
    the velocity (row 0, zero before the first update), the squared-gradient sum or
    average (row 1) or Adam's M and S, as `NumpyOptimizer.state_rows` lays them out."""
    if fresh:
        _start(zt, seq, taps, z, theta, th, r, s, dd, dd64, gsum)
    p, n = theta.shape[0], r.shape[0]
    inv_n = 1.0 / n
    b1, b2, eps = BETA1, BETA2, EPS   # module constants: frozen into the compiled code
    alpha, eps_ada = RMS_ALPHA, ADAGRAD_EPS
    root = np.sqrt(1.0 - b2)
    g = tmp
    for k in range(rows.shape[0]):
        for i in range(p - 1):
            g[i] = gsum[i] * inv_n
        g[p - 1] = 0.0
        if kind == GD:
            for i in range(p):
                theta[i] = theta[i] - g[i] * lr
        elif kind == MOMENTUM:
            for i in range(p):
                v = ms[0, i] * momentum + g[i]
                ms[0, i] = v
                theta[i] = theta[i] - v * lr
        elif kind == NESTEROV:
            for i in range(p):
                v = ms[0, i] * momentum + g[i]
                ms[0, i] = v
                theta[i] = theta[i] - (g[i] + v * momentum) * lr
        elif kind == ADAGRAD:
            for i in range(p):
                sq = ms[1, i] + g[i] * g[i]
                ms[1, i] = sq
                theta[i] = theta[i] - g[i] / (np.sqrt(sq) + eps_ada) * lr
        elif kind == RMSPROP:
            for i in range(p):
                sq = ms[1, i] * alpha + g[i] * g[i] * (1.0 - alpha)
                ms[1, i] = sq
                theta[i] = theta[i] - g[i] / (np.sqrt(sq) + eps) * lr
        else:
            step = t + k + 1
            c1 = 1.0 - b1 ** step
            c2 = np.sqrt(1.0 - b2 ** step)
            kk = lr * (1.0 - b1) * c2 / (c1 * root)
            e = eps * c2 / root
            for i in range(p):
                gi = g[i]
                m = ms[0, i] * b1 + gi
                sq = ms[1, i] * b2 + gi * gi
                ms[0, i] = m
                ms[1, i] = sq
                theta[i] = theta[i] - m / (np.sqrt(sq) + e) * kk
        for i in range(p):
            rows[k, i] = theta[i]
            th[i] = theta[i]
        _residuals_any(zt, seq, th, taps, r)
        _update_signs(r, s, dd, dd64, z, gsum)


def lagged_series(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The series s with x[t, j] = s[t + d - 1 - j] and y[t] = s[t + d], when (x, y) are
    the sliding windows of one series (days in order, no sample left out); else None.

    Exact equality, checked on every entry: a match means Z's rows are windows of s, so
    its products can read s instead."""
    n, d = x.shape
    if n == 0 or d == 0:
        return None
    seq = np.empty(n + d)
    seq[:d] = x[0, ::-1]
    seq[d:] = y
    windows = np.lib.stride_tricks.sliding_window_view(seq[:-1], d)[:, ::-1]
    return seq if np.array_equal(windows, x) else None


_warmed: set[str] = set()       # the working precisions whose kernels are loaded


def warm(precisions: tuple[type, ...] = (np.float32, np.float64)) -> None:
    """Compile (or load from numba's cache) these working precisions' kernels, once a
    process, so the first full-batch MAE run of a session does not wait for the
    compiler, and a trainer can load them before it starts timing its updates."""
    for work in precisions:
        if np.dtype(work).name in _warmed:
            continue
        _warmed.add(np.dtype(work).name)
        for days in (1, 8):
            n, p = 16, days + 2
            z = np.ones((n, p))
            seq = np.ones(n + days, dtype=work) if days == 8 else np.empty(0, dtype=work)
            zt = np.ascontiguousarray(z.T[:, :0] if seq.size else z.T, dtype=work)
            dd = np.zeros(n, dtype=np.int8)
            args = (zt, seq, np.empty(days + 1, dtype=work), z, np.ones(p),
                    np.empty(p, dtype=work), np.empty(n, dtype=work),
                    np.zeros(n, dtype=np.int8), dd, dd.view(np.int64), np.empty(p))
            run(*args, True, ADAM, 1e-3, 0.9, 0, np.zeros((2, p)), np.empty(p),
                np.empty((1, p)))
