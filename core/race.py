"""Optimizers racing on one surface: several runs of one model from one start, in step.

Each racer is an ordinary `Trainer` (so its numbers are those of `fnlab train` with the
same settings); the race only shares the data window and the start, steps every racer
by the same number of updates, and lets a racer that diverges stop alone while the
others go on. For the linear MSE model, `critical_lr` gives the exact learning rate above
which plain gradient descent diverges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.config import ConfigError, RunConfig

MIN_RACERS, MAX_RACERS = 1, 6
FULL_UPDATES = 2048   # a timeline keeps each of a run's first updates...
LATE_POINTS = 2048    # ...then at most this many more, thinned by halves as the run goes on


class Timeline:
    """Where one run's two tracked parameters were, update by update: every update of its
    first FULL_UPDATES, then every `every`-th (doubling so at most LATE_POINTS later points
    are kept). `at(k)` finds the recorded moment at or before update k by bisection, so a
    scrubber can jump anywhere in a long run at the cost of a lookup.

    Kept in numpy arrays that grow by doubling: a chunk is recorded with a few vectorized
    calls and `path()` is one copy, so a race's frames cost what they draw."""

    def __init__(self, a: float, b: float) -> None:
        self._u = np.zeros(4096, dtype=np.int64)
        self._p = np.empty((4096, 2))
        self._p[0] = (a, b)
        self._n = 1
        self.every = 2

    @property
    def updates(self) -> list[int]:
        return self._u[: self._n].tolist()

    @property
    def points(self) -> list[tuple[float, float]]:
        return [tuple(p) for p in self._p[: self._n].tolist()]

    def add_chunk(self, start: int, traj: np.ndarray) -> None:
        """Record a chunk: traj[i] = the tracked pair after update start + i + 1."""
        n = len(traj)
        if not n:
            return
        ups = np.arange(start + 1, start + n + 1)
        keep = (ups <= FULL_UPDATES) | (ups % self.every == 0)
        keep[-1] = True     # the newest moment is always there (the run may stop here)
        last = int(self._u[self._n - 1])
        if last > FULL_UPDATES and last % self.every:
            self._n -= 1    # kept only because it was the newest; now it is not
        k = int(keep.sum())
        if self._n + k > len(self._u):
            size = max(2 * len(self._u), self._n + k)
            self._u = np.resize(self._u, size)
            grown = np.empty((size, 2))
            grown[: self._n] = self._p[: self._n]
            self._p = grown
        self._u[self._n:self._n + k] = ups[keep]
        self._p[self._n:self._n + k] = np.asarray(traj, dtype=np.float64)[keep]
        self._n += k
        late = int(np.searchsorted(self._u[: self._n], FULL_UPDATES, side="right"))
        while self._n - late > LATE_POINTS:
            self.every *= 2
            lu = self._u[late:self._n]
            kept = lu % self.every == 0
            kept[-1] = True
            m = int(kept.sum())
            self._u[late:late + m] = lu[kept]
            self._p[late:late + m] = self._p[late:self._n][kept]
            self._n = late + m

    def __len__(self) -> int:
        return self._n

    @property
    def last_update(self) -> int:
        return int(self._u[self._n - 1])

    def index_at(self, update: int) -> int:
        """Index of the newest recorded moment at or before `update`."""
        return max(int(np.searchsorted(self._u[: self._n], update, side="right")) - 1, 0)

    def at(self, update: int) -> tuple[int, float, float]:
        """(recorded update, a, b) at or just before `update`."""
        i = self.index_at(update)
        return (int(self._u[i]), float(self._p[i, 0]), float(self._p[i, 1]))

    def update_array(self) -> np.ndarray:
        """A copy of the recorded update numbers."""
        return self._u[: self._n].copy()

    def path(self, upto: int | None = None) -> np.ndarray:
        """A copy of the recorded points (n, 2) up to and including update `upto` (all by
        default)."""
        end = self._n if upto is None else self.index_at(upto) + 1
        return self._p[:end].copy()


@dataclass(frozen=True)
class Racer:
    """One contestant: an optimizer with its own learning rate (and momentum, for the
    optimizers that have one)."""

    optimizer: str
    lr: float
    momentum: float = 0.9


class Race:
    """Racers over one data window from one start; `run(n)` gives each n more updates."""

    def __init__(self, base: RunConfig, racers: Sequence[Racer], data: Any = None,
                 start: tuple[float, float] | None = None) -> None:
        if not MIN_RACERS <= len(racers) <= MAX_RACERS:
            raise ConfigError(f"a race takes {MIN_RACERS} to {MAX_RACERS} optimizers, "
                              f"got {len(racers)}")
        if data is None:
            from core.data import load_series, window

            data = window(load_series(base.dataset, base.column), base.days, base.split)
        self.racers = list(racers)
        from core.engine import Trainer  # here, not at import: numba loads with it

        self.trainers = [Trainer(base.replace(optimizer=r.optimizer, lr=r.lr,
                                              momentum=r.momentum), data)
                         for r in self.racers]
        self.timelines: list[Timeline] = []
        self._new_timelines()
        if start is not None:
            self.set_start(*start)

    def _new_timelines(self) -> None:
        self.timelines = []
        for t in self.trainers:
            a, b = (t.get_scalar(name) for name in t.track)
            line = Timeline(a, b)
            t.on_chunk = line.add_chunk
            self.timelines.append(line)

    def set_start(self, w: float, b: float) -> None:
        """Every racer restarts from the same (w, b) of the tracked parameters."""
        for t in self.trainers:
            t.set_start(w, b)
        self._new_timelines()

    def set_lr(self, index: int, lr: float) -> None:
        """A racer's new learning rate, from its next update on (no reset)."""
        t = self.trainers[index]
        t.apply(t.config.replace(lr=lr))

    @property
    def done(self) -> bool:
        return all(t.done for t in self.trainers)

    def run(self, n: int) -> None:
        """n more updates for every racer still going (a diverged or finished one rests)."""
        for t in self.trainers:
            if not t.done:
                t.run(n)

    def snapshots(self, extras: bool = False) -> list[Any]:
        return [t.snapshot(extras=extras) for t in self.trainers]


def critical_lr(data: Any) -> float:
    """The learning rate above which full-batch gradient descent on the MSE of a linear
    model diverges: 2 / lambda_max of the loss's Hessian (training unit).

    MSE of a linear model is exactly quadratic, L = mean((w.x + b - y)^2), with the
    constant Hessian H = (2 / N) A^T A, A = [x, 1]. Gradient descent multiplies the error
    along H's top eigenvector by (1 - lr lambda_max) each update: it shrinks for
    lr < 2 / lambda_max and grows (oscillating in sign: the zig-zag) above it. MAE has no
    such bound: it is piecewise linear, its gradient never grows, and a too-large step
    zig-zags across the valley at a constant size instead.
    """
    x = np.asarray(data.x_train, dtype=np.float64)
    x = x.reshape(len(x), -1)
    a = np.hstack([x, np.ones((len(x), 1))])
    hessian = 2.0 * (a.T @ a) / len(a)
    return float(2.0 / np.linalg.eigvalsh(hessian)[-1])
