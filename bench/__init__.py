"""Benchmarks that compare our code with a baseline measured in the same run.

Each `bench/bench_<name>.py` module has `main()` returning (or yielding) `Result`s;
`python -m bench` runs them all (or `python -m bench surface engine` a subset), prints one
line per result and a summary with PASS/FAIL against the floors. Ratios, not absolute
times, carry the verdict: the machine (2 shared cores here) changes, the ratio to a
baseline measured on it much less.
"""

from __future__ import annotations

import atexit
import functools
import gc
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

# Units where smaller is better; any other unit (e.g. "updates/s") is a rate.
TIME_UNITS = ("s", "ms", "us")
# Units where smaller is better although they are not times (memory growth).
LOWER_UNITS = (*TIME_UNITS, "MB", "kB")


@dataclass(frozen=True)
class Result:
    """One measurement: ours against a baseline (ratio + floor) or against a limit.

    `floor` is the smallest acceptable ratio of ours to the baseline, oriented so that
    bigger is better (baseline time / our time, or our rate / baseline rate). `limit` is an
    absolute bound on `ours` when there is no baseline (a maximum for times, a minimum
    for rates), e.g. a frame time under 16 ms.
    """

    name: str
    ours: float
    baseline: float | None = None
    unit: str = "ms"
    floor: float | None = None
    limit: float | None = None
    note: str = ""

    @property
    def lower_is_better(self) -> bool:
        return self.unit in LOWER_UNITS

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.ours <= 0 or self.baseline <= 0:
            return None
        return self.baseline / self.ours if self.lower_is_better else self.ours / self.baseline

    @property
    def status(self) -> str:
        """PASS / FAIL against the floor (a ratio: fails `make bench`), MET / MISSED against
        the limit (absolute, machine-dependent: reported); "-" when there is nothing to
        meet."""
        if self.floor is not None:
            r = self.ratio
            return "PASS" if r is not None and r >= self.floor else "FAIL"
        if self.limit is not None:
            ok = self.ours <= self.limit if self.lower_is_better else self.ours >= self.limit
            return "MET" if ok else "MISSED"
        return "-"


@functools.cache
def use_scratch_settings() -> None:
    """Point the app's settings (`gui.main_window.SETTINGS_ENV`) at one temporary folder
    for this process, removed when it exits, unless the caller chose a folder: a bench's
    windows never read or write the user's settings. (Each window used to make a folder of
    its own and leave it behind: 150 empty `fnlab-bench-*` folders in /tmp after a few
    runs.)"""
    from gui.main_window import SETTINGS_ENV

    if os.environ.get(SETTINGS_ENV):
        return
    folder = tempfile.mkdtemp(prefix="fnlab-bench-")
    os.environ[SETTINGS_ENV] = folder
    atexit.register(shutil.rmtree, folder, True)


def median_time(fn: Callable[[], object], repeat: int = 5, number: int = 1,
                warmup: int = 1) -> float:
    """Median seconds per call of `fn` over `repeat` timings of `number` calls each."""
    for _ in range(warmup):
        fn()
    times = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - t0) / number)
    finally:
        if gc_was:
            gc.enable()
    return statistics.median(times)


def calls_for(seconds_each: float, target: float, lo: int = 1, hi: int = 10**7) -> int:
    """How many calls of a `seconds_each` function fill about `target` seconds."""
    if seconds_each <= 0:
        return hi
    return max(lo, min(hi, round(target / seconds_each)))


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in TIME_UNITS and value < 100:
        return f"{value:.3g} {unit}"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.3g} {unit}"
