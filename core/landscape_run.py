"""`fnlab landscape`'s work, Qt-free: train (recording the path) or load a run, build the
plane the user asked for, evaluate the grid, and describe it as the CLI's JSON object."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core import landscape as ls
from core.config import RunConfig

RECORD_EVERY = 16       # updates between recorded parameter vectors while training


@dataclass
class TrainedRun:
    """A trained network, its data, its start and its recorded trajectory."""

    config: RunConfig
    data: Any
    params: dict[str, np.ndarray]
    start: dict[str, np.ndarray]
    trajectory: ls.Trajectory | None
    train_loss: float              # the trainer's own training loss, data unit
    unseen_loss: float
    updates: int


def train_recording(config: RunConfig, data: Any = None,
                    should_stop: Callable[[], bool] | None = None) -> TrainedRun:
    """Train `config` to its limit, recording the parameters every RECORD_EVERY updates.
    `should_stop()` (checked between recordings) ends the training early: Stopped."""
    from core.engine import Trainer

    if config.is_linear:
        raise ValueError("loss landscapes are drawn for networks (sigmoid, hard-sigmoid, "
                         "relu), not the linear model: its exact surface is `fnlab` 's "
                         "error-surface view")
    trainer = Trainer(config, data)
    start = trainer.params()
    traj = ls.Trajectory(ls.flatten(start).size)
    traj.add(0, start, _training_unit_loss(trainer))
    while not trainer.done:
        if should_stop is not None and should_stop():
            raise Stopped
        before = trainer.update
        trainer.run(RECORD_EVERY)
        if trainer.update == before:
            break
        traj.add(trainer.update, trainer.params(), _training_unit_loss(trainer))
    return _finished(trainer, start, traj)


class Stopped(Exception):
    """A background computation was asked to stop."""


def compare_landscapes(config: RunConfig, layers: Sequence[int], updates: int, n: int = 31,
                       should_stop: Callable[[], bool] | None = None
                       ) -> Iterator[tuple[TrainedRun, ls.Landscape]]:
    """The lecture's comparison: `config`'s network with each number of `layers`, trained
    `updates` updates from the same seed, each with its random filter-normalized plane
    (same seed, same +-1 axes: the paper's way to compare minima of different networks).
    Yields (run, landscape) per network as it is done; nothing more once stopped."""
    stop = should_stop or (lambda: False)
    data = None
    for depth in layers:
        cfg = config.replace(layers=int(depth), limit_updates=int(updates), limit_epochs=None)
        try:
            run = train_recording(cfg, data, stop)
        except Stopped:
            return
        data = run.data
        plane = ls.random_plane(run.params, 0)
        for land in ls.iter_landscape(cfg.model, plane, data.x_train, data.y_train, cfg.loss,
                                      n, 0, run.trajectory, None, float(data.scale), stop):
            yield run, land
        if stop():
            return


def _training_unit_loss(trainer: Any) -> float:
    scale = float(trainer.data.scale)
    value = trainer.train_loss()
    return value / scale if trainer.config.loss == "mae" else value / (scale * scale)


def _finished(trainer: Any, start: dict[str, np.ndarray], traj: ls.Trajectory | None
              ) -> TrainedRun:
    if trainer.diverged:
        raise ValueError(f"the run {trainer.stop_reason}: there is no landscape around "
                         "diverged parameters")
    if trainer.update == 0:
        raise ValueError("the network is untrained (0 updates): train it first "
                         "(--updates N or --epochs N)")
    return TrainedRun(trainer.config, trainer.data, trainer.params(), start, traj,
                      float(trainer.train_loss()), float(trainer.unseen_loss()),
                      int(trainer.update))


def run_from_trainer(trainer: Any) -> TrainedRun:
    """A saved run as it stands (a session's trainer): no recorded path (PCA needs one),
    its start re-made from its settings (the same seed gives the same initial weights)."""
    from core.engine import Trainer

    start = Trainer(trainer.config, trainer.data).params()
    return _finished(trainer, start, None)


def build_plane(kind: str, run: TrainedRun, plane_seed: int = 0,
                other_minimum: dict[str, np.ndarray] | None = None) -> ls.Plane:
    """The plane of `kind` around the run's trained parameters."""
    if kind == "random":
        return ls.random_plane(run.params, plane_seed)
    if kind == "pca":
        if run.trajectory is None:
            raise ValueError("a saved session holds no recorded training path: use --kind "
                             "random or interpolate, or train here with the run's flags")
        _, rows, _ = run.trajectory.arrays()
        return ls.pca_plane(rows, run.params)
    if kind == "interpolate":
        return ls.interpolation_line(other_minimum if other_minimum is not None
                                     else run.start, run.params)
    raise ValueError(f"kind must be one of {', '.join(ls.KINDS)}, got {kind!r}")


def landscape_json(run: TrainedRun, land: ls.Landscape) -> dict[str, Any]:
    """The CLI's JSON object (keys as issue 12 promises; losses in the data unit)."""
    out: dict[str, Any] = {
        "kind": land.kind,
        "a1": [float(v) for v in land.a1],
        "grid": [[_num(v) for v in row] for row in land.loss],
        "center_loss": _num(land.center_loss),
        "path": [[_num(a), _num(b)] for a, b in land.path],
        "train_loss": _num(run.train_loss),
    }
    if land.a2 is not None:
        out["a2"] = [float(v) for v in land.a2]
    if land.explained_variance is not None:
        out["explained_variance"] = [float(v) for v in land.explained_variance]
    return out


def _num(v: float) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None
