"""The exact error surface of the lecture's 1-day model y = b + w x1, and its best lines.

`linear_surface` is the exact loss L(w, b) over a (w, b) grid, with the exact global
minimum. MSE comes from five sums of the data (a 200 x 200 grid costs well under a
millisecond); MAE from one sort and one prefix sum per w column (milliseconds instead of
the hundreds a broadcast takes). Slices through any other model live in core/slices.py.

Units: data and parameters are in the training unit (data unit / scale); every loss stored
here is in the data unit (MAE * scale, MSE * scale**2), as people see it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.losses import check_loss, to_data_unit


@dataclass(frozen=True)
class Surface:
    """The exact loss of y = b + w x1 over a grid; `loss[k, j]` is at (w[j], b[k]).

    `w`, `b`, `w_star`, `b_star` are in the training unit; `loss` and `loss_star` in the
    data unit. The star is the exact global minimum (least squares for MSE, least absolute
    deviations for MAE), which need not lie on a grid point.
    """

    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray
    w_star: float
    b_star: float
    loss_star: float
    loss_name: str
    scale: float = 1.0

    # The axis names and arrays under the same names as `Slice`, so a view can draw both.
    @property
    def names(self) -> tuple[str, str]:
        return ("w", "b")

    @property
    def a1(self) -> np.ndarray:
        return self.w

    @property
    def a2(self) -> np.ndarray:
        return self.b


# --------------------------------------------------------------------------- linear model


def _as_xy(x1: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x1, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.shape != y.shape or x.size == 0:
        raise ValueError(f"x1 and y must be non-empty and of equal length, got {x.size}, "
                         f"{y.size}")
    return x, y


def linear_loss(x1: np.ndarray, y: np.ndarray, w: float, b: float, loss: str) -> float:
    """The loss of y = b + w x1 at one point, in the training unit."""
    check_loss(loss)
    x, y = _as_xy(x1, y)
    r = y - (w * x + b)
    return float(np.mean(np.abs(r)) if loss == "mae" else np.mean(r * r))


def linear_gradient(x1: np.ndarray, y: np.ndarray, w: float, b: float, loss: str
                    ) -> tuple[float, float]:
    """(dL/dw, dL/db) of the 1-day linear model at (w, b), training unit.

    MAE uses the subgradient with sign(0) = 0, the same choice the engine makes.
    """
    check_loss(loss)
    x, y = _as_xy(x1, y)
    e = (w * x + b) - y
    g = np.sign(e) if loss == "mae" else 2.0 * e
    return float(np.mean(g * x)), float(np.mean(g))


def least_squares_line(x1: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(w*, b*) minimising the MSE; w* = 0 when x1 is constant (any w is then optimal)."""
    x, y = _as_xy(x1, y)
    mx, my = x.mean(), y.mean()
    sxx = float(np.dot(x - mx, x - mx))
    w = float(np.dot(x - mx, y - my)) / sxx if sxx > 0 else 0.0
    return w, float(my - w * mx)


def _lower_median(t: np.ndarray) -> float:
    k = (t.size - 1) // 2
    return float(np.partition(t, k)[k])


def _lad_subgradient_range(x: np.ndarray, y: np.ndarray, w: float) -> tuple[float, float]:
    """The subdifferential [lo, hi] of g(w) = min_b sum |y - w x - b| (a convex function).

    For convex f, dg(w) = {s : (s, 0) in df(w, b)} for any minimising b (here the lower
    median of y - w x). Points with zero residual contribute t_i (x_i, 1), t_i in [-1, 1],
    and the b-component must vanish: sum t_i = T fixed; the extremes of sum t_i x_i under
    that budget are found greedily (largest or smallest x_i first).
    """
    t = y - w * x
    b = _lower_median(t)
    r = t - b
    tol = 8 * np.finfo(float).eps * (float(np.max(np.abs(t))) + abs(b) + 1e-300)
    pos, neg = r > tol, r < -tol
    zero = ~(pos | neg)
    base = float(x[neg].sum() - x[pos].sum())
    xz = np.sort(x[zero])
    nz = xz.size
    budget = float(np.clip(neg.sum() - pos.sum() + nz, 0, 2 * nz))  # raise from all t = -1

    def extreme(xs: np.ndarray) -> float:
        # Start every t_i at -1, then spend `budget` raising them (by up to 2 each) in order.
        raise_by = np.clip(budget - 2.0 * np.arange(xs.size), 0.0, 2.0)
        return float(np.dot(raise_by - 1.0, xs))

    hi_tx = extreme(xz[::-1])
    lo_tx = extreme(xz)
    return base - hi_tx, base - lo_tx


def lad_line(x1: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(w*, b*) minimising the MAE (least absolute deviations), exact to float precision.

    For fixed w the best b is a median of y - w x1, and g(w) = min_b MAE(w, b) is convex and
    piecewise linear. Its minimum is found by bisection on the sign of g's exact
    subdifferential (computed from the median, ties included) until 0 lies in it or the
    bracket is two adjacent floats; of those the lower g wins.
    """
    x, y = _as_xy(x1, y)

    def sign(w: float) -> int:
        lo, hi = _lad_subgradient_range(x, y, w)
        return 1 if lo > 0 else (-1 if hi < 0 else 0)

    w0, _ = least_squares_line(x, y)
    s0 = sign(w0)
    if s0 == 0:
        return w0, _lower_median(y - w0 * x)
    # Bracket: step away from w0 against the slope, doubling, until the slope flips.
    step = max(1.0, abs(w0))
    far = w0
    for _ in range(1100):
        far = w0 - s0 * step
        s = sign(far)
        if s == 0:
            return far, _lower_median(y - far * x)
        if s != s0:
            break
        step *= 2.0
    lo, hi = (far, w0) if s0 > 0 else (w0, far)
    while True:
        mid = 0.5 * (lo + hi)
        if not lo < mid < hi:
            break
        s = sign(mid)
        if s == 0:
            lo = hi = mid
            break
        if s > 0:
            hi = mid
        else:
            lo = mid

    def g(w: float) -> float:
        return float(np.abs(y - w * x - _lower_median(y - w * x)).sum())

    w = lo if g(lo) <= g(hi) else hi
    return w, _lower_median(y - w * x)


def auto_range(x1: np.ndarray, y: np.ndarray, w_star: float, b_star: float
               ) -> tuple[tuple[float, float], tuple[float, float]]:
    """The (w, b) window a heat map should show.

    w: w* +- 1.5 max(1, |w*|), widened to include w = 0 with a margin (the usual start).
    b: moving w by dw moves the valley's b by about -dw * mean(x1), so b spans b* +- the w
    half-width times rms(x1) (at least 1.5 std(y)), again widened to include b = 0. The
    valley then runs corner to corner, as on the lecture's slide.
    """
    x, y = _as_xy(x1, y)
    hw = 1.5 * max(1.0, abs(w_star))
    hb = max(hw * float(np.sqrt(np.mean(x * x))), 1.5 * float(np.std(y)), 1e-6)

    def window(c: float, h: float) -> tuple[float, float]:
        return min(c - h, -0.1 * h), max(c + h, 0.1 * h)

    return window(w_star, hw), window(b_star, hb)


def linear_surface(x1: np.ndarray, y: np.ndarray, loss: str = "mae", n: int = 200,
                   w_range: tuple[float, float] | None = None,
                   b_range: tuple[float, float] | None = None, scale: float = 1.0) -> Surface:
    """The exact loss of y = b + w x1 over an n x n (w, b) grid (`auto_range` by default).

    x1, y in the training unit; the returned losses are in the data unit.
    """
    check_loss(loss)
    x, y = _as_xy(x1, y)
    if n < 2:
        raise ValueError(f"a surface needs at least 2 points per axis, got {n}")
    w_star, b_star = lad_line(x, y) if loss == "mae" else least_squares_line(x, y)
    auto_w, auto_b = auto_range(x, y, w_star, b_star)
    w = np.linspace(*(w_range or auto_w), n)
    b = np.linspace(*(b_range or auto_b), n)
    grid = _mae_grid(x, y, w, b) if loss == "mae" else _mse_grid(x, y, w, b, w_star, b_star)
    star = linear_loss(x, y, w_star, b_star, loss)
    return Surface(w=w, b=b, loss=grid * to_data_unit(loss, 1.0, scale), w_star=w_star,
                   b_star=b_star, loss_star=to_data_unit(loss, star, scale), loss_name=loss,
                   scale=float(scale))


def _mse_grid(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray,
              w0: float, b0: float) -> np.ndarray:
    """MSE over the grid from the data's sums, expanded around (w0, b0).

    L is quadratic: L(w0 + u, b0 + v) = L0 + gw u + gb v + mean(x^2) u^2 + 2 mean(x) u v + v^2.
    Expanding around the optimum (not zero) keeps the small values near the minimum free of
    cancellation.
    """
    r = y - (w0 * x + b0)
    l0 = float(np.mean(r * r))
    gw, gb = -2.0 * float(np.mean(r * x)), -2.0 * float(np.mean(r))
    sxx, sx = float(np.mean(x * x)), float(np.mean(x))
    u = w - w0
    v = (b - b0)[:, None]
    row = l0 + gw * u + sxx * u * u          # (nw,) the terms without v
    return row[None, :] + v * (gb + 2.0 * sx * u[None, :] + v)


def _mae_grid(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """MAE over the grid: per w, sort t = y - w x once; for every b,
    sum |t - b| = b k - P[k] + (P[N] - P[k]) - b (N - k) with k = #{t < b}, P = prefix sums."""
    n = x.size
    t = np.sort(y[None, :] - w[:, None] * x[None, :], axis=1)            # (nw, N)
    prefix = np.zeros((w.size, n + 1))
    np.cumsum(t, axis=1, out=prefix[:, 1:])
    k = np.empty((w.size, b.size), dtype=np.intp)
    for j in range(w.size):
        k[j] = np.searchsorted(t[j], b)
    pk = np.take_along_axis(prefix, k, axis=1)                           # (nw, nb)
    total = prefix[:, -1:]
    bb = b[None, :]
    sums = bb * k - pk + (total - pk) - bb * (n - k)
    return (sums / n).T                                                  # (nb, nw)
