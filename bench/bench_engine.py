"""Training speed: our Trainer against an idiomatic plain-torch loop, per lecture model.

The baseline is what a course notebook writes: `nn.Sequential` + `torch.optim`, the full
batch as float32 tensors built once, `zero_grad / loss / backward / step` per update. Both
sides take the same number of updates with the same optimizer, learning rate and loss on
the same data; the ratio is our updates per second over the baseline's, both timed in
this thread's CPU time (`timed`), repeats interleaved.

Both sides run with the thread settings the product uses (`core.runtime.THREADS`, set by
the `fnlab` script and the app before numpy loads): one OpenBLAS / OpenMP thread and
`torch.set_num_threads(1)` as the app's training worker does, and with its memory setting
(`core.runtime.keep_freed_memory`: glibc keeps freed blocks for reuse instead of unmapping
them). The header line says which settings were in effect.
"""

from __future__ import annotations

# Before numpy's import: OpenBLAS reads its thread count once, when it loads.
from core.runtime import THREADS, use_engine_threads

use_engine_threads()

import ctypes  # noqa: E402
import glob  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from bench import Result, calls_for  # noqa: E402
from bench.reference import GEMM_N, sgemm_gflops  # noqa: E402
from core.config import RunConfig  # noqa: E402
from core.data import Windowed, load_builtin, window  # noqa: E402
from core.engine import Trainer, default_settings  # noqa: E402

LINEAR_FLOOR = 20.0
NET_FLOOR = 1.5
SGEMM_FLOOR = 0.6       # a network update's matrix FLOPs per second / the sgemm peak
SGEMM_MIN_UNITS = 100   # ... for layers this wide (10 units: the products are too small)
TARGET_SECONDS = 0.2    # per timed repeat and side
REPEAT = 7              # interleaved ours / baseline, so a busy moment hits both


@dataclass(frozen=True)
class Case:
    label: str
    days: int
    model: str
    units: int = 1
    layers: int = 1
    optimizer: str | None = None      # None: the engine's default for this model

    @property
    def floor(self) -> float:
        return LINEAR_FLOOR if self.model == "linear" else NET_FLOOR


CASES = (
    Case("linear 1 day, GD", 1, "linear", optimizer="gd"),
    Case("linear 1 day", 1, "linear"),
    Case("linear 56 days", 56, "linear"),
    Case("56d 10 ReLU", 56, "relu", 10),
    Case("56d 100 ReLU", 56, "relu", 100),
    Case("56d 1000 ReLU", 56, "relu", 1000),
    Case("56d 2 x 100 ReLU", 56, "relu", 100, 2),
    Case("56d 3 x 100 ReLU", 56, "relu", 100, 3),
    Case("56d 4 x 100 ReLU", 56, "relu", 100, 4),
    Case("56d 100 sigmoid", 56, "sigmoid", 100),
)

ACT = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "hard-sigmoid": nn.Hardsigmoid}
LOSS = "mae"


def torch_loop(case: Case, data: Windowed, optimizer: str, lr: float, momentum: float
               ) -> Callable[[int], None]:
    """The plain-torch baseline: returns run(n) doing n full-batch updates."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    fan_in = case.days
    if case.model != "linear":
        for _ in range(case.layers):
            layers += [nn.Linear(fan_in, case.units), ACT[case.model]()]
            fan_in = case.units
    layers.append(nn.Linear(fan_in, 1))
    net = nn.Sequential(*layers)
    if optimizer == "adam":
        opt: torch.optim.Optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=lr,
                              momentum=momentum if optimizer == "momentum" else 0.0)
    x = torch.tensor(data.x_train, dtype=torch.float32)
    y = torch.tensor(data.y_train, dtype=torch.float32).reshape(-1, 1)
    loss_fn = nn.L1Loss() if LOSS == "mae" else nn.MSELoss()

    def run(n: int) -> None:
        for _ in range(n):
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()

    return run


def update_flops(case: Case, samples: int) -> float:
    """Floating-point operations of one update's matrix products (2 per multiply-add):
    forward h W^T per layer, backward dW = da^T h per layer and dh = da W for every layer
    but the first, the output layer's three matrix-vector products. Element-wise work is
    left out: the count is what a perfect sgemm would have to do."""
    flops, fan_in = 0.0, case.days
    for layer in range(case.layers):
        products = 3 if layer else 2
        flops += products * 2.0 * samples * fan_in * case.units
        fan_in = case.units
    return flops + 3 * 2.0 * samples * fan_in


def timed(run: Callable[[int], None], n: int) -> float:
    """CPU seconds of this thread for run(n): both sides run in this thread with one torch
    / BLAS thread, so on a quiet machine this is their wall time, and on a shared one it
    leaves out the time other processes had the core (which the wall clock would charge to
    whichever side was running)."""
    t0 = time.thread_time()
    run(n)
    return time.thread_time() - t0


def calibrate(run: Callable[[int], None], min_seconds: float = 0.05) -> float:
    """Seconds per update of run, from enough updates to fill `min_seconds`."""
    n, spent = 2, 0.0
    while True:
        spent = timed(run, n)
        if spent >= min_seconds or n >= 100_000:
            return spent / n
        n *= 4


def measure(case: Case, data: Windowed) -> Iterator[Result]:
    settings = default_settings(case.model, LOSS, case.optimizer)
    cfg = RunConfig(days=case.days, model=case.model, units=case.units, layers=case.layers,
                    loss=LOSS, optimizer=settings["optimizer"], lr=settings["lr"])
    trainer = Trainer(cfg, data)
    baseline = torch_loop(case, data, cfg.optimizer, cfg.lr, cfg.momentum)
    baseline(3)                          # warm up (first autograd / optimizer calls)
    trainer.run(3)
    n = calls_for(calibrate(baseline), TARGET_SECONDS, lo=20)
    start = trainer.update
    ours_t, base_t = [], []
    for _ in range(REPEAT):
        ours_t.append(timed(trainer.run, n))
        base_t.append(timed(baseline, n))
    ours, base = n / float(np.median(ours_t)), n / float(np.median(base_t))
    # Best-of ratio too: on a busy machine the fastest repeat of each side is the one
    # least disturbed by other work.
    best = min(base_t) / min(ours_t)
    note = f"{n:,} updates x {REPEAT}, {cfg.optimizer} lr={cfg.lr:g}, best-of {best:.1f}x"
    if trainer.update - start != n * REPEAT:
        note += f"; STOPPED EARLY at {trainer.update:,}: {trainer.stop_reason}"
        ours = float("nan")
    yield Result(case.label, ours, base, "updates/s", case.floor, note=note)
    if case.model != "linear":
        # Against the sgemm peak measured now (the machine's load drifts during a run):
        # the best repeat of each, the least disturbed by other work.
        flops = update_flops(case, len(data.x_train))
        peak, _ = sgemm_gflops(repeat=6)
        rate = n / min(ours_t) * flops / 1e9
        floor = SGEMM_FLOOR if case.units >= SGEMM_MIN_UNITS else None
        yield Result(f"{case.label}: share of sgemm peak", rate, peak, "GFLOP/s", floor,
                     note=f"{flops / 1e6:.1f} MFLOP an update (matrix products), best "
                          f"repeat; torch.mm {GEMM_N}^3 on 1 thread measured just before"
                          + ("" if floor else "; too small to be bound by products"))
        # How far the floor against the torch loop can be reached at all: our update if it
        # were its matrix products at 100 % of that peak and nothing else (no activation,
        # loss or optimizer work), against the loop's best repeat.
        most = peak * 1e9 / flops
        loop_best = n / min(base_t)
        beyond = most / loop_best < case.floor
        yield Result(f"{case.label}: the most any method reaches vs the torch loop", most,
                     loop_best, "updates/s", None,
                     note="our products at 100 % of the sgemm peak and nothing else"
                          + (f": the {case.floor:g}x floor is beyond this CPU" if beyond
                             else ""))


def blas_threads() -> str:
    """The thread count numpy's bundled OpenBLAS actually uses ("?" if it can't be asked)."""
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libs, "libscipy_openblas*.so*")):
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                     "openblas_get_num_threads"):
            fn = getattr(lib, name, None)
            if fn is not None:
                return str(fn())
    return "?"


def main() -> Iterator[Result]:
    from core.runtime import keep_freed_memory

    torch.set_num_threads(THREADS)       # as gui/worker.py does for the training thread
    kept = keep_freed_memory()           # ... and its memory setting (process-wide)
    print(f"   both sides as the app runs: numpy OpenBLAS {blas_threads()} thread(s) "
          f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}), torch "
          f"{torch.__version__} {torch.get_num_threads()} thread(s); freed memory kept for "
          f"reuse: {'yes' if kept else 'no'}; loss {LOSS}", flush=True)
    series = load_builtin("channel")
    windows = {days: window(series, days) for days in sorted({c.days for c in CASES})}
    for case in CASES:
        yield from measure(case, windows[case.days])
