"""2-D slices of any model's training loss: two named scalar parameters vary, the rest fixed.

`slice_surface` / `iter_slice` compute the grid; only the terms the two parameters touch
are recomputed (the hidden activations below them are cached), so slices through the
output layer or the last hidden layer of a network cost about as much as a linear model.
`slice_window` picks the window a view shows: around the current values, widened to cover
the descent path. (The exact 1-day surface and its best lines are in core/surface.py.)

Units: data and parameters are in the training unit (data unit / scale); every loss stored
here is in the data unit (MAE * scale, MSE * scale**2), as people see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from core.losses import check_loss, to_data_unit
from core.models import activation, get_scalar, n_layers, parse_scalar

StopFn = Callable[[], bool]


def _never() -> bool:
    return False


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


def local_minima(sl: Slice, radius: int = 2) -> list[tuple[float, float, float]]:
    """The valleys of a slice: grid points lower than every other point within `radius`
    cells, away from the grid's edge, as (a1, a2, loss), lowest first. The first is the
    slice's lowest point when that lies inside; the others are local minima."""
    loss = np.where(np.isfinite(sl.loss), sl.loss, np.inf)
    n2, n1 = loss.shape
    if n1 <= 2 * radius or n2 <= 2 * radius:
        return []
    padded = np.pad(loss, radius, constant_values=np.inf)
    lowest = np.ones(loss.shape, dtype=bool)
    for dk in range(-radius, radius + 1):
        for dj in range(-radius, radius + 1):
            if dk or dj:
                other = padded[radius + dk:radius + dk + n2, radius + dj:radius + dj + n1]
                lowest &= loss < other
    lowest &= np.isfinite(loss)
    lowest[:radius, :] = lowest[-radius:, :] = False
    lowest[:, :radius] = lowest[:, -radius:] = False
    found = [(float(sl.a1[j]), float(sl.a2[k]), float(loss[k, j]))
             for k, j in zip(*np.nonzero(lowest), strict=True)]
    return sorted(found, key=lambda m: m[2])


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
        check_loss(loss)
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
    f = to_data_unit(ev.loss, 1.0, scale)
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


def slice_window(params: dict[str, np.ndarray], names: tuple[str, str],
                 path: np.ndarray | None = None
                 ) -> tuple[tuple[float, float], tuple[float, float]]:
    """(centers, spans) around the current values, widened to cover the descent path."""
    centers, spans = [], []
    for k, name in enumerate(names):
        v = get_scalar(params, name)
        lo, hi = v - default_span(v), v + default_span(v)
        if path is not None and len(path):
            col = np.asarray(path)[:, k]
            col = col[np.isfinite(col)]
            if col.size:
                pad = 0.1 * (float(col.max() - col.min()) + 1e-9)
                lo, hi = min(lo, float(col.min()) - pad), max(hi, float(col.max()) + pad)
        centers.append(0.5 * (lo + hi))
        spans.append(0.5 * (hi - lo))
    return (centers[0], centers[1]), (spans[0], spans[1])
