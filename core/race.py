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
from core.timeline import FULL_UPDATES, LATE_POINTS, Timeline

__all__ = ["FULL_UPDATES", "LATE_POINTS", "MAX_RACERS", "MIN_RACERS", "Race", "Racer",
           "Timeline", "critical_lr", "racer_config"]

MIN_RACERS, MAX_RACERS = 1, 6
@dataclass(frozen=True)
class Racer:
    """One contestant: an optimizer with its own learning rate (and momentum, for the
    optimizers that have one)."""

    optimizer: str
    lr: float
    momentum: float = 0.9


def racer_config(base: RunConfig, racer: Racer,
                 start: tuple[float, float] | None = None) -> RunConfig:
    """A racer's settings as a single run's: the shared `base` with the racer's optimizer,
    learning rate and momentum, and on the 1-day linear model the race's start as its init
    (there the start is exactly (w0, b0)), so the run gallery and a session keep where the
    racer started and `fnlab train` with these settings retraces it. Other models keep
    `base.init`: their start moves only the tracked pair, which no init can say."""
    cfg = base.replace(optimizer=racer.optimizer, lr=racer.lr, momentum=racer.momentum)
    if start is not None and cfg.model == "linear" and cfg.days == 1:
        cfg = cfg.replace(init=(float(start[0]), float(start[1])))
    return cfg


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

        self.trainers = [Trainer(racer_config(base, r, start), data) for r in self.racers]
        if start is not None:
            self.set_start(*start)

    @property
    def timelines(self) -> list[Timeline]:
        """Each racer's own timeline of its tracked (w, b) (`Trainer.path_timeline`: every
        early update, thinned after), what the race's scrubber replays."""
        return [t.path_timeline for t in self.trainers]

    def set_start(self, w: float, b: float) -> None:
        """Every racer restarts from the same (w, b) of the tracked parameters (and so
        with a new timeline)."""
        for t in self.trainers:
            t.set_start(w, b)

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
