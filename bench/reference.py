"""The machine's reference, measured at the start of every `make bench` run.

Machines differ (and a shared one differs from minute to minute), so absolute figures mean
little without the machine beside them. Two numbers describe what our figures depend on:

- Python: the time of a 10-million-step pure-Python `for` loop (interpreter speed: what
  the GUI thread's drawing and the trainer's bookkeeping cost);
- sgemm: single-thread float32 matrix products, torch.mm 1024 x 1024 x 1024, in GFLOP/s
  (the arithmetic a network update is made of; the networks' bench reports its updates'
  FLOPs per second against this peak).

Both are timed in the CPU time of the thread that runs them (one thread each: the loop,
and torch.mm with torch's thread count set to 1), best of a few repeats: on a shared
machine the wall clock also counts the time other processes had the core, and a 30 ms
product is almost never left alone that long on a busy one. On a quiet machine the two
clocks agree.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

LOOP_STEPS = 10_000_000
PACE_STEPS = 1_000_000        # a pace sample (`pace_ms`): ~30 ms a loop on a quick core
GEMM_N = 1024
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Reference:
    """The machine and the moment: what a figure measured in this run must be read with."""

    python_loop_s: float          # 10-million-step pure-Python for loop, best of repeats (CPU)
    sgemm_gflops: float           # torch.mm 1024^3 float32 on one thread, best (CPU time)
    sgemm_median_gflops: float
    load: tuple[float, float, float]
    cores: int
    cpu: str
    python: str
    torch: str
    date: str                     # UTC, ISO 8601
    commit: str                   # short hash, "+dirty" when the work tree has changes

    def lines(self) -> list[str]:
        """The header `python -m bench` prints first."""
        load = ", ".join(f"{v:.2f}" for v in self.load)
        return [
            f"reference: Python {LOOP_STEPS // 1_000_000}M-step for loop "
            f"{self.python_loop_s:.2f} s; sgemm {GEMM_N}^3 on 1 thread "
            f"{self.sgemm_gflops:.0f} GFLOP/s (median {self.sgemm_median_gflops:.0f})",
            f"machine: {self.cpu}, {self.cores} cores; load {load} (1/5/15 min); "
            f"Python {self.python}, torch {self.torch}",
            f"run: {self.date}, commit {self.commit}",
        ]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def python_loop_seconds(steps: int = LOOP_STEPS, repeat: int = 3) -> float:
    """Best time of a pure-Python loop adding `steps` integers."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.thread_time()
        total = 0
        for i in range(steps):
            total += i
        best = min(best, time.thread_time() - t0)
    return best


def pace_ms(repeat: int = 5, steps: int = PACE_STEPS) -> list[float]:
    """The CPU milliseconds of each of `repeat` pure-Python loops of `steps` steps, now:
    the machine's pace at this moment, beside the reference's best at the run's start.

    A shared virtual machine changes speed from second to second, not only with its own
    load: on the 2-core AMD EPYC, idle (load ~0.8, no steal time), the same 1M-step loop
    took 28-53 ms of CPU time a second apart. The bench prints this spread after each
    section (and the GUI bench before each round), so a figure measured while the machine
    ran at half its pace reads as such."""
    out = []
    for _ in range(repeat):
        t0 = time.thread_time()
        total = 0
        for i in range(steps):
            total += i
        out.append(1e3 * (time.thread_time() - t0))
    return out


def pace_text(samples: list[float]) -> str:
    """"Python 1M-step loop 29-58 ms now": a pace sample's spread, and the reference's
    best at the run's start."""
    best = 1e3 * current().python_loop_s * PACE_STEPS / LOOP_STEPS
    return (f"Python {PACE_STEPS // 1_000_000}M-step loop {min(samples):.0f}-"
            f"{max(samples):.0f} ms now (the reference's best: {best:.0f} ms)")


def sgemm_gflops(n: int = GEMM_N, repeat: int = 12) -> tuple[float, float]:
    """(best, median) GFLOP/s of torch.mm on n x n float32 matrices with one thread."""
    import statistics

    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        gen = torch.Generator().manual_seed(0)
        a = torch.randn(n, n, generator=gen)
        b = torch.randn(n, n, generator=gen)
        out = torch.empty(n, n)
        torch.mm(a, b, out=out)
        rates = []
        for _ in range(repeat):
            t0 = time.thread_time()
            torch.mm(a, b, out=out)
            rates.append(2.0 * n**3 / max(time.thread_time() - t0, 1e-9) / 1e9)
    finally:
        torch.set_num_threads(before)
    return max(rates), statistics.median(rates)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str:
    """The checked-out commit (short), with "+dirty" if tracked files changed; "?" outside
    a git work tree."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True, timeout=10, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "?"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def measure() -> Reference:
    import torch

    best, median = sgemm_gflops()
    return Reference(
        python_loop_s=python_loop_seconds(), sgemm_gflops=best, sgemm_median_gflops=median,
        load=os.getloadavg(), cores=os.cpu_count() or 1, cpu=cpu_name(),
        python=platform.python_version(), torch=torch.__version__,
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), commit=git_commit())


_current: Reference | None = None


def current() -> Reference:
    """This run's reference (measured once, at the first call)."""
    global _current
    if _current is None:
        _current = measure()
    return _current
