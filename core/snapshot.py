"""What the engine publishes: immutable copies a view can draw from any thread."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.models import forward_numpy, pieces_numpy

_run_ids = itertools.count(1)


def new_run_id() -> int:
    """A run number no other run of this process has: a trainer's, or a kept run's read
    back from a session. The run gallery tells runs apart by it (a run that ends again
    replaces its earlier end), so a restored run must never share a live trainer's."""
    return next(_run_ids)


@dataclass(frozen=True)
class Snapshot:
    """The state of a run after `update` updates.

    Losses are in the data's own unit (e.g. views); `params` and `grad` are in the training
    unit (data unit / scale), keyed by the model's parameter-array names (see
    `core.models`). History arrays are bounded (decimated), never growing without limit.
    """

    update: int
    epoch: float                      # updates / updates_per_epoch
    train_loss: float                 # full training set, data unit
    unseen_loss: float                # full unseen set, data unit (nan if no unseen data)
    lr: float
    params: dict[str, np.ndarray]
    grad: dict[str, np.ndarray]       # full-batch gradient at `params` (training unit)
    step: dict[str, np.ndarray]       # the step about to be taken: -lr * update direction
    # Bounded history (same length each): update index, losses (data unit).
    hist_update: np.ndarray = field(default_factory=lambda: np.empty(0))
    hist_train: np.ndarray = field(default_factory=lambda: np.empty(0))
    hist_unseen: np.ndarray = field(default_factory=lambda: np.empty(0))
    # Bounded path of the two tracked scalar parameters, shape (n, 2), training unit.
    path: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    track: tuple[str, str] = ("w", "b")
    done: bool = False
    diverged: bool = False
    stop_reason: str | None = None
    seconds: float = 0.0              # wall time spent in updates so far
    run_id: int = 0                   # new for every new run, so stale snapshots are dropped
    # Drawing extras (only with snapshot(extras=True)), data unit.
    pred_train: np.ndarray | None = None
    pred_unseen: np.ndarray | None = None
    curve_x: np.ndarray | None = None     # one-day models: grid over x1
    curve_y: np.ndarray | None = None     # the model's curve on that grid
    pieces: np.ndarray | None = None      # (K, n): c_i * act(b_i + w_i x1), one hidden layer
    constant: float | None = None         # the output bias b
    # A replayed moment (`core.timeline`): the run's live update count; None when live.
    replay_of: int | None = None
    # A replayed 1-day linear moment's update, explained (`core.step_explained`).
    explained: Any = None


CURVE_POINTS = 200


def drawing_extras(model: str, layers: int, params: dict[str, np.ndarray],
                   x: np.ndarray, x_unseen: np.ndarray, scale: float,
                   pred_train: np.ndarray, pred_unseen: np.ndarray) -> dict[str, Any]:
    """What the fit and series views draw besides the numbers (data unit): predictions
    (training unit in, scaled here), the output bias, and for one-day models the curve
    over x1 (and each unit's piece for one hidden layer). The live snapshot and a replayed
    moment both come from here, so they draw alike."""
    out: dict[str, Any] = {"pred_train": pred_train * scale, "pred_unseen": pred_unseen * scale,
                           "constant": float(params["b"]) * scale}
    if x.shape[1] == 1:
        x1 = np.concatenate([x[:, 0], x_unseen[:, 0]])
        grid = np.linspace(float(x1.min()), float(x1.max()), CURVE_POINTS)
        out["curve_x"] = grid * scale
        out["curve_y"] = forward_numpy(model, params, grid[:, None]) * scale
        if model != "linear" and layers == 1:
            out["pieces"] = pieces_numpy(model, params, grid) * scale
    return out
