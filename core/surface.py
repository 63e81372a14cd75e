"""Error surfaces: the loss as a function of two parameters, fast enough to redraw live.

Two kinds of picture:

- `linear_surface`: the exact loss L(w, b) of the lecture's 1-day model y = b + w x1 over a
  (w, b) grid, with the exact global minimum. MSE comes from five sums of the data (a 200 x
  200 grid costs well under a millisecond); MAE from one sort and one prefix sum per w
  column (milliseconds instead of the hundreds a broadcast takes).
- `slice_surface` / `iter_slice`: a 2-D slice of any model's training loss, varying two
  named scalar parameters with all others fixed. Only the terms the two parameters touch
  are recomputed (the hidden activations below them are cached), so slices through the
  output layer or the last hidden layer of a network cost about as much as a linear model.

Units: data and parameters are in the training unit (data unit / scale); every loss stored
here is in the data unit (MAE * scale, MSE * scale**2), as people see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from core.losses import LOSSES, to_data_unit
from core.models import activation, get_scalar, n_layers, parse_scalar

StopFn = Callable[[], bool]


def _never() -> bool:
    return False


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


@dataclass(frozen=True)
class Slice:
    """A model's training loss over two named parameters, the others held fixed.

    `loss[k, j]` is at (names[0] = a1[j], names[1] = a2[k]), in the data unit; `a1`, `a2`
    and `center` are in the training unit. `complete` is False for the coarse preview that
    `iter_slice` yields first.
    """

    names: tuple[str, str]
    a1: np.ndarray
    a2: np.ndarray
    loss: np.ndarray
    center: tuple[float, float]
    center_loss: float
    loss_name: str
    complete: bool = True

    @property
    def min_at(self) -> tuple[float, float, float]:
        """(a1, a2, loss) of the lowest grid point (not an exact optimum)."""
        if not np.isfinite(self.loss).any():
            return (float("nan"),) * 3
        k, j = np.unravel_index(np.nanargmin(np.where(np.isfinite(self.loss), self.loss,
                                                      np.nan)), self.loss.shape)
        return float(self.a1[j]), float(self.a2[k]), float(self.loss[k, j])


# --------------------------------------------------------------------------- linear model


def _check_loss(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}")


def _as_xy(x1: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x1, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.shape != y.shape or x.size == 0:
        raise ValueError(f"x1 and y must be non-empty and of equal length, got {x.size}, "
                         f"{y.size}")
    return x, y


def linear_loss(x1: np.ndarray, y: np.ndarray, w: float, b: float, loss: str) -> float:
    """The loss of y = b + w x1 at one point, in the training unit."""
    _check_loss(loss)
    x, y = _as_xy(x1, y)
    r = y - (w * x + b)
    return float(np.mean(np.abs(r)) if loss == "mae" else np.mean(r * r))


def linear_gradient(x1: np.ndarray, y: np.ndarray, w: float, b: float, loss: str
                    ) -> tuple[float, float]:
    """(dL/dw, dL/db) of the 1-day linear model at (w, b), training unit.

    MAE uses the subgradient with sign(0) = 0, the same choice the engine makes.
    """
    _check_loss(loss)
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
    _check_loss(loss)
    x, y = _as_xy(x1, y)
    if n < 2:
        raise ValueError(f"a surface needs at least 2 points per axis, got {n}")
    w_star, b_star = lad_line(x, y) if loss == "mae" else least_squares_line(x, y)
    auto_w, auto_b = auto_range(x, y, w_star, b_star)
    w = np.linspace(*(w_range or auto_w), n)
    b = np.linspace(*(b_range or auto_b), n)
    grid = _mae_grid(x, y, w, b) if loss == "mae" else _mse_grid(x, y, w, b, w_star, b_star)
    star = linear_loss(x, y, w_star, b_star, loss)
    return Surface(w=w, b=b, loss=grid * _unit_factor(loss, scale), w_star=w_star,
                   b_star=b_star, loss_star=to_data_unit(loss, star, scale), loss_name=loss,
                   scale=float(scale))


def _unit_factor(loss: str, scale: float) -> float:
    return to_data_unit(loss, 1.0, scale)


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


# --------------------------------------------------------------------------- any model


@dataclass(frozen=True)
class _Param:
    name: str
    key: str            # array name: "w", "b", "c", "W{l}", "b{l}"
    idx: tuple[int, ...]
    layer: int          # hidden layer 1..L, or L + 1 for the output (c, b) and linear params
    value: float


def _param(model: str, params: dict[str, np.ndarray], name: str) -> _Param:
    value = get_scalar(params, name)        # raises ValueError for names the model lacks
    key, idx = parse_scalar(name)
    depth = 0 if model == "linear" else n_layers(params)
    layer = int(key[1:]) if key[0] in "Wb" and len(key) > 1 else depth + 1
    return _Param(name, key, idx, layer, value)


class _SliceEvaluator:
    """Evaluates the loss on (a1 scalar, a2 vector) rows, touching only what changes.

    Three cases, cheapest first:
    - affine: both parameters enter the prediction linearly with a fixed direction (linear
      models; a network's output b and c[i]): pred = p0 + d1 u1 + d2 u2.
    - last hidden layer: the other units' contributions are fixed; only the one or two
      units the parameters touch are recomputed from the cached inputs of that layer.
    - deeper: the layers below the lower parameter are cached; the rest is recomputed.
    """

    def __init__(self, model: str, params: dict[str, np.ndarray], x: np.ndarray,
                 y: np.ndarray, loss: str, names: tuple[str, str]) -> None:
        _check_loss(loss)
        if len(names) != 2 or names[0] == names[1]:
            raise ValueError(f"pick two different parameters, got {names!r}")
        x = np.asarray(x, dtype=np.float64)
        self.x = x[:, None] if x.ndim == 1 else x
        self.y = np.asarray(y, dtype=np.float64).reshape(-1)
        if self.x.shape[0] != self.y.size or self.y.size == 0:
            raise ValueError("x and y must be non-empty with one label per row")
        self.model, self.loss = model, loss
        self.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        self.p = (_param(model, self.params, names[0]), _param(model, self.params, names[1]))
        self.depth = 0 if model == "linear" else n_layers(self.params)
        # Hidden inputs h[l] to layer l+1 (h[0] = x) and pre-activations z[l] of layer l.
        self.h = [self.x]
        self.z: list[np.ndarray | None] = [None]
        for layer in range(1, self.depth + 1):
            z = self.h[-1] @ self.params[f"W{layer}"].T + self.params[f"b{layer}"]
            self.z.append(z)
            self.h.append(activation(model, z))
        self.pred0 = self._output(self.h[-1], self.params)
        lowest = min(p.layer for p in self.p)
        if lowest == self.depth + 1:
            self.mode = "affine"
            self.u = [self._direction(p) for p in self.p]
        elif lowest == self.depth:
            self.mode = "last"
        else:
            self.mode = "deep"
            self.lowest = lowest
            self._width = max(self.params[f"W{la}"].shape[0] for la in range(1, self.depth + 1))

    # ---- helpers

    def _output(self, h: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
        if self.model == "linear":
            return h @ params["w"] + float(params["b"])
        return h @ params["c"] + float(params["b"])

    def _direction(self, p: _Param) -> np.ndarray:
        if p.key == "b":
            return np.ones_like(self.y)
        if p.key == "w":
            return self.x[:, p.idx[0]]
        return self.h[-1][:, p.idx[0]]          # c[i]: that unit's (unchanged) activation

    def _reduce(self, pred: np.ndarray) -> np.ndarray:
        e = pred - self.y
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.mean(np.abs(e), axis=-1) if self.loss == "mae" else np.mean(e * e, axis=-1)
        return np.where(np.isnan(out), np.inf, out)

    def center_loss(self) -> float:
        return float(self._reduce(self.pred0))

    # ---- one row: names[0] = a1 (scalar), names[1] = a2 (vector)

    def row(self, a1: float, a2: np.ndarray, should_stop: StopFn = _never
            ) -> np.ndarray | None:
        d1 = a1 - self.p[0].value
        d2 = (np.asarray(a2, dtype=np.float64) - self.p[1].value)[:, None]     # (n2, 1)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.mode == "affine":
                pred = (self.pred0 + d1 * self.u[0])[None, :] + d2 * self.u[1][None, :]
                return self._reduce(pred)
            if self.mode == "last":
                return self._reduce(self._last_layer_pred(d1, d2))
            # Batches of points, each (B, N, units) array about 16 MB at most; a stop
            # request is honoured between batches (a deep column can take a while).
            step = max(1, 2_000_000 // max(1, self.y.size * self._width))
            parts = []
            for k in range(0, d2.shape[0], step):
                if k and should_stop():
                    return None
                parts.append(self._reduce(self._deep_rows(d1, d2[k:k + step])))
            return np.concatenate(parts)

    def _last_layer_pred(self, d1: float, d2: np.ndarray) -> np.ndarray:
        """pred = p_rest + (b change) + sum over touched units u of c_u act(z_u)."""
        c = self.params["c"]
        h_in, z, h = self.h[-2], self.z[-1], self.h[-1]
        deltas = (d1, d2)
        touched = sorted({p.idx[0] for p in self.p if p.key != "b"})
        pred = self.pred0 - sum(c[u] * h[:, u] for u in touched)
        pred = pred[None, :]
        for p, d in zip(self.p, deltas, strict=True):
            if p.key == "b":
                pred = pred + d
        for u in touched:
            zu: np.ndarray = z[:, u][None, :]
            cu: float | np.ndarray = c[u]
            moved = False
            for p, d in zip(self.p, deltas, strict=True):
                if p.idx[:1] != (u,) or p.key == "b":
                    continue
                if p.key == "c":
                    cu = cu + d
                elif p.key.startswith("W"):
                    zu = zu + d * h_in[:, p.idx[1]][None, :]
                    moved = True
                else:                                           # b{L}[u]
                    zu = zu + d
                    moved = True
            act = activation(self.model, zu) if moved else h[:, u][None, :]
            pred = pred + cu * act
        return pred

    def _deep_rows(self, d1: float, d2: np.ndarray) -> np.ndarray:
        """Predictions (B, N) for B points of a row, recomputed from layer l0 (the lower
        parameter's) up. Only the one or two touched units of layer l0 change, so the next
        pre-activation is the cached one plus a rank-1 or rank-2 update; above that each
        layer is one batched matmul with the original weights plus the parameters' own
        changes as corrections (W[i,j] += d adds d h[:, j] to unit i)."""
        l0, params, act = self.lowest, self.params, self.model
        d1c = np.full((d2.shape[0], 1), d1)
        deltas = list(zip(self.p, (d1c, d2), strict=True))
        h_in, h_old = self.h[l0 - 1], self.h[l0]
        cols: dict[int, np.ndarray] = {}
        for p, d in deltas:
            if p.layer == l0:
                u = p.idx[0]
                col = cols.get(u, self.z[l0][:, u][None, :])
                cols[u] = col + (d * h_in[:, p.idx[1]][None, :] if p.key.startswith("W") else d)
        units = sorted(cols)
        dh = np.stack([activation(act, cols[u]) - h_old[:, u][None, :] for u in units],
                      axis=-1)                                           # (B, N, U)
        nxt = l0 + 1
        w_units = params[f"W{nxt}"][:, units]                             # (K, U)
        z = self.z[nxt][None, :, :] + dh[:, :, :1] * w_units[:, 0]        # (B, N, K)
        if len(units) > 1:
            z += dh[:, :, 1:2] * w_units[:, 1]

        def new_h_col(j: int) -> np.ndarray:           # column j of layer l0's new output
            return h_old[:, j][None, :] + (dh[:, :, units.index(j)] if j in units else 0.0)

        self._correct(z, nxt, deltas, new_h_col)
        h = activation(act, z)
        for layer in range(nxt + 1, self.depth + 1):
            # One 2-D BLAS call (a stacked 3-D matmul can miss the fast path).
            b, n, k = h.shape
            z = (h.reshape(b * n, k) @ params[f"W{layer}"].T).reshape(b, n, -1)
            z += params[f"b{layer}"]
            self._correct(z, layer, deltas, lambda j, h=h: h[:, :, j])
            h = activation(act, z)
        pred = h @ params["c"] + float(params["b"])
        for p, d in deltas:
            if p.key == "c":
                pred += d * h[:, :, p.idx[0]]
            elif p.key == "b":
                pred += d
        return pred

    @staticmethod
    def _correct(z: np.ndarray, layer: int, deltas: list[tuple[_Param, np.ndarray]],
                 h_col: Callable[[int], np.ndarray]) -> None:
        """Add the parameters of `layer` that moved, to its pre-activation z (B, N, K)."""
        for p, d in deltas:
            if p.layer == layer and p.key != "c" and p.key != "b":
                i = p.idx[0]
                z[:, :, i] += d * h_col(p.idx[1]) if p.key.startswith("W") else d

    def grid(self, a1: np.ndarray, a2: np.ndarray, should_stop: StopFn) -> np.ndarray | None:
        out = np.empty((a2.size, a1.size))
        for j, v in enumerate(a1):
            if should_stop():
                return None
            col = self.row(float(v), a2, should_stop)
            if col is None:
                return None
            out[:, j] = col
        return out


def _axes(ev: _SliceEvaluator, centers: tuple[float, float] | None,
          spans: tuple[float, float] | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    if n < 2:
        raise ValueError(f"a slice needs at least 2 points per axis, got {n}")
    cs = centers if centers is not None else (ev.p[0].value, ev.p[1].value)
    sp = spans if spans is not None else tuple(default_span(p.value) for p in ev.p)
    return tuple(np.linspace(c - s, c + s, n) for c, s in zip(cs, sp, strict=True))  # type: ignore[return-value]


def default_span(value: float) -> float:
    """Half-width of a slice's axis around a parameter: 1.5 max(1, |value|)."""
    return 1.5 * max(1.0, abs(value))


def _make_slice(ev: _SliceEvaluator, a1: np.ndarray, a2: np.ndarray, grid: np.ndarray,
                scale: float, complete: bool) -> Slice:
    f = _unit_factor(ev.loss, scale)
    return Slice(names=(ev.p[0].name, ev.p[1].name), a1=a1, a2=a2, loss=grid * f,
                 center=(ev.p[0].value, ev.p[1].value), center_loss=ev.center_loss() * f,
                 loss_name=ev.loss, complete=complete)


def slice_surface(model: str, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                  loss: str, names: tuple[str, str],
                  centers: tuple[float, float] | None = None,
                  spans: tuple[float, float] | None = None, n: int = 60,
                  should_stop: StopFn | None = None, scale: float = 1.0) -> Slice | None:
    """The training loss over an n x n grid of two named scalar parameters (e.g. "W1[1,1]",
    "b1[1]"), all others at `params`. Axis k runs over centers[k] +- spans[k] (default:
    the current value +- `default_span`). Returns None if `should_stop()` turns true
    (checked between grid columns, and between batches of points for deep networks).
    """
    ev = _SliceEvaluator(model, params, x, y, loss, names)
    a1, a2 = _axes(ev, centers, spans, n)
    grid = ev.grid(a1, a2, should_stop or _never)
    return None if grid is None else _make_slice(ev, a1, a2, grid, scale, True)


def iter_slice(model: str, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
               loss: str, names: tuple[str, str],
               centers: tuple[float, float] | None = None,
               spans: tuple[float, float] | None = None, n: int = 60, coarse: int = 15,
               should_stop: StopFn | None = None, scale: float = 1.0) -> Iterator[Slice]:
    """Like `slice_surface`, but first yields a coarse preview (coarse x coarse, same
    window, `complete=False`) so a background worker can show something at once, then the
    full grid. Stops early, yielding nothing more, when `should_stop()` turns true.
    """
    stop = should_stop or _never
    ev = _SliceEvaluator(model, params, x, y, loss, names)
    a1, a2 = _axes(ev, centers, spans, n)
    if 2 <= coarse < n:
        c1 = np.linspace(a1[0], a1[-1], coarse)
        c2 = np.linspace(a2[0], a2[-1], coarse)
        grid = ev.grid(c1, c2, stop)
        if grid is None:
            return
        yield _make_slice(ev, c1, c2, grid, scale, False)
    grid = ev.grid(a1, a2, stop)
    if grid is not None:
        yield _make_slice(ev, a1, a2, grid, scale, True)
