"""Error surfaces against the obvious numpy broadcast, on the channel's 1-day data.

The broadcast builds the (nb, nw, N) residual cube and averages it: what one writes first.
Ours: MSE from five sums of the data, MAE from one sort and prefix sums per w column, and
network slices that recompute only what the two chosen parameters touch.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import numpy as np

from bench import Result, median_time
from core.data import load_builtin, window
from core.losses import loss_value
from core.models import forward_numpy, init_params, set_scalar
from core.slices import slice_surface
from core.surface import linear_surface

GRID = 200
MSE_FLOOR = 100.0


def broadcast_surface(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray,
                      loss: str) -> np.ndarray:
    """The naive surface: every residual of every grid point at once."""
    r = y[None, None, :] - (w[None, :, None] * x[None, None, :] + b[:, None, None])
    return np.mean(np.abs(r), axis=-1) if loss == "mae" else np.mean(r * r, axis=-1)


def brute_slice(model: str, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                loss: str, names: tuple[str, str], a1: np.ndarray, a2: np.ndarray
                ) -> np.ndarray:
    """One full forward pass per grid point: the slice without any caching."""
    p = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    out = np.empty((a2.size, a1.size))
    for j, u in enumerate(a1):
        set_scalar(p, names[0], u)
        for k, v in enumerate(a2):
            set_scalar(p, names[1], v)
            out[k, j] = loss_value(loss, forward_numpy(model, p, x), y)
    return out


def main() -> Iterator[Result]:
    data = window(load_builtin("channel"), 1)
    x, y = data.x_train[:, 0], data.y_train
    n = x.size
    for loss, floor in (("mse", MSE_FLOOR), ("mae", None)):
        ref = linear_surface(x, y, loss, n=GRID)
        w_range, b_range = (ref.w[0], ref.w[-1]), (ref.b[0], ref.b[-1])
        ours = median_time(lambda loss=loss, wr=w_range, br=b_range: linear_surface(
            x, y, loss, n=GRID, w_range=wr, b_range=br), repeat=15)
        base = median_time(lambda loss=loss, r=ref: broadcast_surface(x, y, r.w, r.b, loss),
                           repeat=3)
        err = np.max(np.abs(broadcast_surface(x, y, ref.w, ref.b, loss) - ref.loss)
                     / ref.loss)
        yield Result(f"{loss.upper()} surface {GRID}x{GRID}, N={n:,}", ours * 1e3, base * 1e3,
                     "ms", floor, note=f"incl. exact optimum; max rel. diff {err:.0e}")

    # A 56-day, 100-unit ReLU network: slices through the first layer and the output.
    data56 = window(load_builtin("channel"), 56)
    x56, y56 = data56.x_train, data56.y_train
    cfg = SimpleNamespace(model="relu", units=100, layers=1, init=None)
    params = init_params(cfg, 56, np.random.default_rng(0), x_mean=x56.mean(axis=0),
                         y_mean=float(y56.mean()))
    side = 20
    for names in (("W1[1,1]", "b1[1]"), ("c[1]", "b")):
        s = slice_surface("relu", params, x56, y56, "mae", names, n=side)
        assert s is not None
        ours = median_time(lambda nm=names: slice_surface(
            "relu", params, x56, y56, "mae", nm, n=side), repeat=5)
        base = median_time(lambda nm=names, s=s: brute_slice(
            "relu", params, x56, y56, "mae", nm, s.a1, s.a2), repeat=1, warmup=0)
        yield Result(f"slice {side}x{side} 100 ReLU 56d {names[0]},{names[1]}", ours * 1e3,
                     base * 1e3, "ms", None, note="vs one forward pass per point")
    full = median_time(lambda: slice_surface(
        "relu", params, x56, y56, "mae", ("W1[1,1]", "b1[1]"), n=60), repeat=3)
    yield Result("slice 60x60 100 ReLU 56d W1[1,1],b1[1]", full * 1e3, None, "ms",
                 limit=1000.0, note="the GUI's full grid")

    # 3 x 100 ReLU, through the first layer: every point needs the layers above again.
    cfg3 = SimpleNamespace(model="relu", units=100, layers=3, init=None)
    params3 = init_params(cfg3, 56, np.random.default_rng(0), x_mean=x56.mean(axis=0),
                          y_mean=float(y56.mean()))
    names = ("W1[1,1]", "b1[1]")
    side = 15
    s = slice_surface("relu", params3, x56, y56, "mae", names, n=side)
    assert s is not None
    ours = median_time(lambda: slice_surface("relu", params3, x56, y56, "mae", names,
                                             n=side), repeat=3)
    base = median_time(lambda: brute_slice("relu", params3, x56, y56, "mae", names, s.a1,
                                           s.a2), repeat=1, warmup=0)
    yield Result(f"slice {side}x{side} 3x100 ReLU 56d W1[1,1],b1[1]", ours * 1e3,
                 base * 1e3, "ms", None, note="the GUI's coarse preview")
