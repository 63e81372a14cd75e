"""A 41 x 41 filter-normalized loss landscape of the 3 x 100 ReLU on the 56-day channel data.

Three ways, same run, same network, same thread count (the product's one torch thread):

- ours: `core.landscape` (layer 1 from three products made once, the layers above one
  product per point with the training's kernels; one hidden layer in one compiled pass);
- the `loss-landscapes` package's own `random_plane` (its directions, its stepping, its
  per-point torch forward of an `nn.Sequential`);
- a plain loop: one torch forward pass per grid point at theta + a1 d1 + a2 d2.

The issue's targets are >= 10x the plain loop and < 2 s for the plane. The 3 x 100
network's products already run near the CPU's peak in the plain loop (a 1,405 x 100 x 100
product per layer and point), so no method can give 10x there: the bench prints the bound.
A small network (1 x 10 ReLU, 7 days), where a plain loop is all per-call overhead and no
product is left per point, shows what the fused pass does.
"""

from __future__ import annotations

from core.runtime import use_engine_threads

use_engine_threads()

import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench import Result, median_time  # noqa: E402
from bench.reference import GEMM_N, sgemm_gflops  # noqa: E402
from core import landscape as ls  # noqa: E402
from core.data import load_builtin, window  # noqa: E402
from core.models import init_params  # noqa: E402

GRID = 41
RATIO_FLOOR = 10.0          # issue 12: at least 10x the plain loop
SECONDS_LIMIT = 2.0         # issue 12: the 41 x 41 plane in under 2 s


def plain_loop(params: dict[str, np.ndarray], plane: ls.Plane, x: np.ndarray,
               y: np.ndarray, a1: np.ndarray, a2: np.ndarray) -> np.ndarray:
    """One torch float32 forward pass per grid point, parameters set from the plane."""
    keys = list(params)
    base = [torch.tensor(params[k], dtype=torch.float32) for k in keys]
    d1 = [torch.tensor(plane.d1[k], dtype=torch.float32) for k in keys]
    d2 = [torch.tensor(plane.d2[k], dtype=torch.float32) for k in keys]  # type: ignore[index]
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    layers = sum(1 for k in keys if k.startswith("W"))
    out = np.empty((a2.size, a1.size))
    with torch.no_grad():
        for k, v in enumerate(a2):
            for j, u in enumerate(a1):
                p = [b + float(u) * e + float(v) * f for b, e, f in zip(base, d1, d2,
                                                                         strict=True)]
                h = xt
                for la in range(layers):
                    h = torch.relu(torch.addmm(p[2 * la + 1], h, p[2 * la].t()))
                out[k, j] = float(torch.nn.functional.l1_loss(torch.addmv(p[-1], h, p[-2]),
                                                              yt))
    return out


def package_plane(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> None:
    """loss-landscapes' own filter-normalized random plane of the same network."""
    import loss_landscapes
    from loss_landscapes.metrics import Loss

    mods: list[torch.nn.Module] = []
    k = 1
    while f"W{k}" in params:
        lin = torch.nn.Linear(params[f"W{k}"].shape[1], params[f"W{k}"].shape[0])
        lin.weight.data = torch.tensor(params[f"W{k}"], dtype=torch.float32)
        lin.bias.data = torch.tensor(params[f"b{k}"], dtype=torch.float32)
        mods += [lin, torch.nn.ReLU()]
        k += 1
    out = torch.nn.Linear(len(params["c"]), 1)
    out.weight.data = torch.tensor(params["c"][None, :], dtype=torch.float32)
    out.bias.data = torch.tensor(np.reshape(params["b"], (1,)), dtype=torch.float32)
    model = torch.nn.Sequential(*mods, out, torch.nn.Flatten(0))
    metric = Loss(torch.nn.L1Loss(), torch.tensor(x, dtype=torch.float32),
                  torch.tensor(y, dtype=torch.float32))
    with torch.no_grad():
        loss_landscapes.random_plane(model, metric, distance=1, steps=GRID,
                                     normalization="filter", deepcopy_model=True)


def cpu_seconds(fn: Callable[[], object]) -> float:
    """The calling thread's CPU time for one call (torch runs on this thread alone)."""
    t0 = time.thread_time()
    fn()
    return time.thread_time() - t0


def _network(days: int, units: int, layers: int) -> tuple[dict[str, np.ndarray], np.ndarray,
                                                           np.ndarray]:
    data = window(load_builtin("channel"), days)
    cfg = SimpleNamespace(model="relu", units=units, layers=layers, init=None)
    params = init_params(cfg, days, np.random.default_rng(0),
                         x_mean=data.x_train.mean(axis=0), y_mean=float(data.y_train.mean()))
    return params, data.x_train, data.y_train


def plane_flops(params: dict[str, np.ndarray], samples: int, grid: int) -> tuple[float, float]:
    """(ours, plain loop) matrix FLOPs of a grid x grid plane: the loop runs every layer's
    product at every point; ours makes layer 1's three products once (a1 and a2 then only
    scale and add them), so per point only the layers above layer 1 and the output remain.
    Elementwise work (ReLU, the loss) is left out: this is what a perfect sgemm would do."""
    points = grid * grid
    shapes = [params[f"W{k}"].shape for k in range(1, 10) if f"W{k}" in params]
    above = sum(2.0 * samples * out * inp for out, inp in shapes[1:])
    output = 2.0 * samples * len(params["c"])
    first = 2.0 * samples * shapes[0][0] * shapes[0][1]
    return points * (above + output) + 3 * first, points * (first + above + output)


def main() -> Iterator[Result]:
    torch.set_num_threads(1)
    for days, units, layers, repeat in ((56, 100, 3, 1), (7, 10, 1, 3)):
        params, x, y = _network(days, units, layers)
        label = f"{GRID}x{GRID} plane {layers} x {units} ReLU {days}d"
        plane = ls.random_plane(params, seed=0)
        a1, a2 = ls.axes_for(plane, GRID)
        assert a2 is not None
        ref = ls.landscape("relu", plane, x, y, "mae", GRID)
        ours = median_time(lambda p=plane, x=x, y=y: ls.landscape("relu", p, x, y, "mae",
                                                                   GRID), repeat=repeat)
        loop_grid = plain_loop(params, plane, x, y, a1, a2)
        err = float(np.max(np.abs(loop_grid - ref.loss) / loop_grid))
        base = median_time(lambda p=params, pl=plane, x=x, y=y, a1=a1, a2=a2: plain_loop(
            p, pl, x, y, a1, a2), repeat=repeat, warmup=0)
        pack = median_time(lambda p=params, x=x, y=y: package_plane(p, x, y), repeat=repeat,
                           warmup=0)
        yield Result(f"{label} vs plain loop", ours, base, "s", RATIO_FLOOR,
                     note=f"max rel. diff {err:.0e}")
        yield Result(f"{label} vs loss-landscapes", ours, pack, "s", None,
                     note="its random_plane, same grid size")
        if layers == 3:
            yield Result(f"{label} time", ours, None, "s", limit=SECONDS_LIMIT,
                         note="wall, 1 torch thread")
            # On a shared machine the wall time counts the other processes too; the
            # computing thread's own CPU time is what the plane costs.
            cpu = cpu_seconds(lambda p=plane, x=x, y=y: ls.landscape("relu", p, x, y, "mae",
                                                                      GRID))
            cpu_loop = cpu_seconds(lambda p=params, pl=plane, x=x, y=y, a1=a1, a2=a2:
                                   plain_loop(p, pl, x, y, a1, a2))
            yield Result(f"{label} CPU time", cpu, cpu_loop, "s", None,
                         limit=SECONDS_LIMIT, note="thread CPU seconds vs the plain loop's")
            # Why 10x cannot be had here: the products alone, at this machine's sgemm
            # peak measured now, bound any method's time from below.
            flops, loop_flops = plane_flops(params, len(x), GRID)
            peak, _ = sgemm_gflops(repeat=6)
            # CPU seconds on both sides, as the sgemm peak is measured.
            yield Result(f"{label}: share of sgemm peak", flops / cpu / 1e9, peak,
                         "GFLOP/s", None,
                         note=f"{flops / 1e9:.0f} GFLOP of products (the plain loop: "
                              f"{loop_flops / 1e9:.0f}, {loop_flops / cpu_loop / 1e9:.0f} "
                              f"GFLOP/s); torch.mm {GEMM_N}^3 on 1 thread just before")
            most = flops / peak / 1e9
            beyond = cpu_loop / most < RATIO_FLOOR
            yield Result(f"{label}: the most any method reaches vs the plain loop",
                         most, cpu_loop, "s", None,
                         note="our products at 100 % of the sgemm peak and nothing else, "
                              "against the loop's CPU time"
                              + (f": the {RATIO_FLOOR:g}x floor is beyond this CPU" if beyond
                                 else ""))
