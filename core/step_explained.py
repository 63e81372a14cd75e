"""One update of the 1-day linear model, explained, at any moment of a run: the lecture's
w¹ = w⁰ − η ∂L/∂w with that moment's numbers.

Why a module of its own: the step explanation is asked for live (the step the optimizer
is about to take, from its own state) and in replay (a moment the run recorded), in the
race view and on the window's surface, and every one of them must say the same thing.
In replay the optimizer's state at update k (momentum's velocity, Adam's moments) is not
kept, and is not needed: the gradient at k is computed exactly from the recorded (w, b)
on the exact 1-day surface (`core.surface.linear_gradient`), and the step actually taken
is the recorded move from update k to k + 1 (every update of a run's first 2,048 is
recorded, see `core.timeline`). Momentum's share of the step is then their difference.
Where update k + 1 is not recorded (later moments are thinned) only −η∇L is shown, and
`note` says so in words.

Settings can change during a run (a live learning rate, another optimizer), so the
trainer keeps a short log of them (`SettingsLog`); a moment's η is the one in force then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.optimizers import HAS_MOMENTUM
from core.surface import linear_gradient

__all__ = ["MAX_SETTINGS", "Setting", "StepExplained", "explain_recorded", "settings_at"]

MAX_SETTINGS = 1024   # live changes a run remembers (a class makes a handful)


@dataclass(frozen=True)
class Setting:
    """The settings an update used, from update `since` on (until the next entry)."""

    since: int
    optimizer: str
    lr: float
    momentum: float
    batch_size: int | None


def settings_at(log: Sequence[Setting], update: int) -> Setting | None:
    """The settings the update from `update` to `update + 1` used; None if the log no
    longer reaches back that far."""
    found = None
    for entry in log:
        if entry.since > update:
            break
        found = entry
    return found


@dataclass(frozen=True)
class StepExplained:
    """The update from `update` to `update + 1` (training unit).

    `grad` is (∂L/∂w, ∂L/∂b) at (w, b); `gradient_step` = −η∇L; `taken` the step the
    optimizer took (recorded, or live: the one it is about to take), None when unknown;
    `extra` = taken − (−η∇L): momentum's part for momentum and Nesterov, for the scaled
    optimizers (AdaGrad, RMSProp, Adam) what their per-coordinate scaling (and Adam's
    moment) made of −η∇L. `note` says in words what is not shown and why ("" if all is).
    """

    update: int
    optimizer: str
    lr: float
    w: float
    b: float
    grad: tuple[float, float]
    taken: tuple[float, float] | None
    replay: bool = False
    note: str = ""

    @property
    def gradient_step(self) -> tuple[float, float]:
        return (-self.lr * self.grad[0], -self.lr * self.grad[1])

    @property
    def extra(self) -> tuple[float, float] | None:
        if self.taken is None or self.optimizer == "gd":
            return None
        g = self.gradient_step
        return (self.taken[0] - g[0], self.taken[1] - g[1])

    @property
    def has_momentum(self) -> bool:
        return self.optimizer in HAS_MOMENTUM


def explain_recorded(loss: str, x1: np.ndarray, y: np.ndarray, updates: np.ndarray,
                     points: np.ndarray, update: int, log: Sequence[Setting],
                     fallback: Setting, every: int = 1) -> StepExplained:
    """The recorded moment at or before `update` of a 1-day linear run, explained.

    `updates` / `points` are the run's recorded updates and (w, b) there (a timeline);
    `log` its settings log, `fallback` the settings to use where the log does not reach
    (the run's current ones, said so in the note); `every` the timeline's spacing of its
    later moments (for the note)."""
    ups = np.asarray(updates)
    i = max(int(np.searchsorted(ups, int(update), side="right")) - 1, 0)
    k = int(ups[i])
    w, b = (float(v) for v in np.asarray(points[i], dtype=np.float64)[:2])
    setting = settings_at(log, k)
    notes = []
    if setting is None:
        setting = fallback
        notes.append(f"η then is not recorded: η = {fallback.lr:g} is the run's now")
    taken = None
    if i + 1 < len(ups) and int(ups[i + 1]) == k + 1:
        nxt = np.asarray(points[i + 1], dtype=np.float64)
        taken = (float(nxt[0]) - w, float(nxt[1]) - b)
    elif i + 1 < len(ups):
        notes.append(f"update {k + 1:,} is not recorded (later moments are kept one in "
                     f"{every:,}): the step taken and the optimizer's state are not known "
                     "here, so only plain −η∇L is shown")
    else:
        notes.append("the run's newest moment: no step taken after it yet, only −η∇L")
    if taken is not None and setting.batch_size is not None:
        notes.append("mini-batches: the step taken followed one batch's gradient, "
                     "∇L here is the whole training set's")
    gw, gb = linear_gradient(x1, y, w, b, loss)
    return StepExplained(update=k, optimizer=setting.optimizer, lr=setting.lr, w=w, b=b,
                         grad=(gw, gb), taken=taken, replay=True, note="; ".join(notes))
