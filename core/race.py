"""Optimizers racing on one surface: several runs of one model from one start, in step.

Each racer is an ordinary `Trainer` (so its numbers are those of `fnlab train` with the
same settings); the race only shares the data window and the start, steps every racer
by the same number of updates, and lets a racer that diverges stop alone while the
others go on. For the linear MSE model, `critical_lr` gives the exact learning rate above
which plain gradient descent diverges.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.config import ConfigError, RunConfig
from core.engine import Trainer

MIN_RACERS, MAX_RACERS = 1, 6
FULL_UPDATES = 2048   # a timeline keeps each of a run's first updates...
LATE_POINTS = 2048    # ...then at most this many more, thinned by halves as the run goes on


class Timeline:
    """Where one run's two tracked parameters were, update by update: every update of its
    first FULL_UPDATES, then every `every`-th (doubling so at most LATE_POINTS later points
    are kept). `at(k)` finds the recorded moment at or before update k by bisection, so a
    scrubber can jump anywhere in a long run at the cost of a lookup."""

    def __init__(self, a: float, b: float) -> None:
        self.updates: list[int] = [0]
        self.points: list[tuple[float, float]] = [(a, b)]
        self.every = 2

    def add_chunk(self, start: int, traj: np.ndarray) -> None:
        """Record a chunk: traj[i] = the tracked pair after update start + i + 1."""
        n = len(traj)
        if not n:
            return
        ups = np.arange(start + 1, start + n + 1)
        keep = (ups <= FULL_UPDATES) | (ups % self.every == 0)
        keep[-1] = True     # the newest moment is always there (the run may stop here)
        if self.updates[-1] > FULL_UPDATES and self.updates[-1] % self.every:
            # the previous chunk's newest moment was kept only because it was the newest
            self.updates.pop()
            self.points.pop()
        rows = np.asarray(traj, dtype=np.float64)[keep]
        self.updates.extend(ups[keep].tolist())
        self.points.extend(zip(rows[:, 0].tolist(), rows[:, 1].tolist(), strict=True))
        late = bisect.bisect_right(self.updates, FULL_UPDATES)
        while len(self.updates) - late > LATE_POINTS:
            self.every *= 2
            late_u, late_p = self.updates[late:], self.points[late:]
            kept = [i for i, u in enumerate(late_u) if u % self.every == 0]
            if kept[-1:] != [len(late_u) - 1]:
                kept.append(len(late_u) - 1)
            self.updates[late:] = [late_u[i] for i in kept]
            self.points[late:] = [late_p[i] for i in kept]

    def __len__(self) -> int:
        return len(self.updates)

    @property
    def last_update(self) -> int:
        return self.updates[-1]

    def index_at(self, update: int) -> int:
        """Index of the newest recorded moment at or before `update`."""
        return max(bisect.bisect_right(self.updates, update) - 1, 0)

    def at(self, update: int) -> tuple[int, float, float]:
        """(recorded update, a, b) at or just before `update`."""
        i = self.index_at(update)
        return (self.updates[i], *self.points[i])

    def path(self, upto: int | None = None) -> np.ndarray:
        """The recorded points (n, 2) up to and including update `upto` (all by default)."""
        end = len(self.updates) if upto is None else self.index_at(upto) + 1
        return np.asarray(self.points[:end], dtype=np.float64).reshape(-1, 2)


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
