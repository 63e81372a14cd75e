"""The run gallery: every finished run of a session, kept to replay and compare.

Why: "which learning rate worked, and how did the others fail?" is answered by putting
runs side by side, not by remembering them. A kept run is plain data (its settings, its
loss history, its descent path with the update of each point, its final parameters, how
it ended), so the GUI can replay several synchronized by update and export them, and a
session file can save them. Memory stays bounded: at most MAX_RUNS runs and MAX_BYTES of
arrays; past that the oldest run not pinned goes first, and `Gallery.add` says which.
Qt-free: the dock is gui/views/gallery_view.py.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core.config import RunConfig
from core.optimizers import HAS_MOMENTUM
from core.snapshot import new_run_id

MAX_RUNS = 40                    # kept runs, pinned ones included
MAX_BYTES = 64 * 1024 * 1024     # their arrays (histories, paths, final parameters)
STATUSES = ("finished", "diverged", "stopped", "reset")
HISTORY_COLUMNS = ("update", "train_loss", "unseen_loss")


@dataclass(frozen=True)
class GalleryRun:
    """One kept run. Losses in the data's unit; path and params in the training unit.

    `updates` / `train_loss` / `unseen_loss` are the run's loss history (one row per
    recorded update); `path` is the descent path of the two parameters `track`, and
    `path_updates` the update each of its points was taken at. `status` says how the run
    ended: finished (its limit), diverged, stopped (new settings replaced it) or reset.
    """

    run_id: int
    name: str
    config: RunConfig
    status: str
    updates: np.ndarray
    train_loss: np.ndarray
    unseen_loss: np.ndarray
    path: np.ndarray
    path_updates: np.ndarray
    track: tuple[str, str]
    params: dict[str, np.ndarray]
    final_update: int
    seconds: float = 0.0
    origin: str = ""                 # e.g. "sweep cell lr 0.01", "lecture step"
    pinned: bool = False
    scale: float = 1.0               # data unit per training unit (views per "k")
    suffix: str = ""
    unit: str = ""
    # The colour it was first drawn in ("#rrggbb"): a racer's race colour, so a class
    # comparing the race with its replay sees the same racer in the same colour; "" for
    # a run the gallery colours by its place among the runs shown.
    color: str = ""
    data: Any = field(default=None, compare=False, repr=False)   # core.data.Windowed

    @property
    def final_train(self) -> float:
        return float(self.train_loss[-1]) if len(self.train_loss) else math.nan

    @property
    def final_unseen(self) -> float:
        return float(self.unseen_loss[-1]) if len(self.unseen_loss) else math.nan

    @property
    def exact_surface(self) -> bool:
        """The lecture's 1-day linear model: its whole error surface L(w, b) is exact."""
        return self.config.model == "linear" and self.config.days == 1

    def nbytes(self) -> int:
        """The arrays this run holds (its data set is shared and counted by `Gallery`)."""
        arrays = [self.updates, self.train_loss, self.unseen_loss, self.path,
                  self.path_updates, *self.params.values()]
        return int(sum(np.asarray(a).nbytes for a in arrays))

    def point_at(self, update: int) -> tuple[int, np.ndarray | None]:
        """The index of the last path point taken at or before `update` and that point
        (None before the path starts)."""
        i = int(np.searchsorted(self.path_updates, update, side="right")) - 1
        if i < 0 or not len(self.path):
            return -1, None
        return i, self.path[i]

    def loss_at(self, update: int) -> tuple[int, float, float]:
        """(recorded update, training loss, unseen loss) at or before `update`."""
        i = int(np.searchsorted(self.updates, update, side="right")) - 1
        if i < 0:
            return 0, math.nan, math.nan
        return int(self.updates[i]), float(self.train_loss[i]), float(self.unseen_loss[i])

    def describe(self) -> str:
        """One line for a list: the settings that tell runs apart, how it ended."""
        c = self.config
        model = "linear" if c.model == "linear" else f"{c.layers}x{c.units} {c.model}"
        batch = "full" if c.batch_size is None else f"B {c.batch_size}"
        return (f"{c.days}d {model} · {c.loss.upper()} · {c.optimizer} η {c.lr:g} · {batch}"
                f" · {self.final_update:,} updates")


def history_csv(run: GalleryRun) -> str:
    """The run's loss history as CSV: update, training loss, unseen loss (data unit,
    full precision: a re-read gives the same numbers)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HISTORY_COLUMNS)
    for u, tr, un in zip(run.updates.tolist(), run.train_loss.tolist(),
                         run.unseen_loss.tolist(), strict=True):
        writer.writerow([int(u), repr(float(tr)), repr(float(un))])
    return out.getvalue()


def _number(v: float) -> float | str:
    """A number for JSON, which has no inf or nan: those as the text "inf", "-inf",
    "nan" (read back exactly by `float`)."""
    return float(v) if math.isfinite(v) else repr(float(v))


def run_to_dict(run: GalleryRun, arrays: bool = False) -> dict[str, Any]:
    """Everything kept about a run: as JSON-ready lists (an export; non-finite numbers as
    text), or with numpy arrays (`arrays=True`: a session file stores them bit for bit)."""
    def seq(a: np.ndarray) -> Any:
        a = np.asarray(a, dtype=np.float64)
        return a.copy() if arrays else [_number(v) for v in a.ravel().tolist()]

    def ints(a: np.ndarray) -> Any:
        return np.asarray(a, dtype=np.int64).copy() if arrays else \
            [int(u) for u in np.asarray(a).tolist()]

    points = seq(run.path) if arrays else [[_number(a), _number(b)]
                                           for a, b in run.path.tolist()]
    return {
        "name": run.name, "status": run.status, "origin": run.origin, "pinned": run.pinned,
        "settings": run.config.to_dict(), "final_update": run.final_update,
        "seconds": run.seconds, "scale": run.scale, "suffix": run.suffix, "unit": run.unit,
        "color": run.color,
        "history": {"update": ints(run.updates), "train_loss": seq(run.train_loss),
                    "unseen_loss": seq(run.unseen_loss)},
        "track": list(run.track),
        "path": {"update": ints(run.path_updates), "points": points},
        "params": {k: {"shape": list(np.shape(v)), "values": seq(v)}
                   for k, v in run.params.items()},
    }


def history_json(run: GalleryRun) -> str:
    return json.dumps(run_to_dict(run), indent=1)


def run_from_dict(doc: dict[str, Any], run_id: int, data: Any = None) -> GalleryRun:
    """The inverse of `run_to_dict` (a session file); ValueError / KeyError on bad data."""
    def arr(values: Any) -> np.ndarray:
        if isinstance(values, np.ndarray):
            return values.astype(np.float64).ravel()
        return np.array([float(v) for v in values], dtype=np.float64)

    status = str(doc["status"])
    if status not in STATUSES:
        raise ValueError(f"unknown run status '{status}'")
    color = str(doc.get("color", ""))       # sessions before kept colours have none
    if color and not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
        raise ValueError(f"a run's colour must be #rrggbb, not '{color}'")
    hist, path = doc["history"], doc["path"]
    points = arr(np.asarray(path["points"], dtype=object).ravel()
                 if not isinstance(path["points"], np.ndarray) else path["points"]
                 ).reshape(-1, 2)
    params = {k: arr(v["values"]).reshape([int(n) for n in v["shape"]])
              for k, v in doc["params"].items()}
    track = tuple(str(t) for t in doc["track"])
    if len(track) != 2:
        raise ValueError("a run's track must name two parameters")
    return GalleryRun(
        run_id=run_id, name=str(doc["name"]), config=RunConfig.from_dict(doc["settings"]),
        status=status, updates=np.array(hist["update"], dtype=np.int64),
        train_loss=arr(hist["train_loss"]), unseen_loss=arr(hist["unseen_loss"]),
        path=points, path_updates=np.array(path["update"], dtype=np.int64),
        track=(track[0], track[1]), params=params, final_update=int(doc["final_update"]),
        seconds=float(doc.get("seconds", 0.0)), origin=str(doc.get("origin", "")),
        pinned=bool(doc.get("pinned", False)), scale=float(doc.get("scale", 1.0)),
        suffix=str(doc.get("suffix", "")), unit=str(doc.get("unit", "")), color=color,
        data=data)


def run_from_timeline(run_id: int, name: str, config: RunConfig, snap: Any, timeline: Any,
                      status: str, origin: str = "", color: str = "") -> GalleryRun:
    """A kept run from its last `core.snapshot.Snapshot` (final parameters, seconds) and
    its `core.timeline.RunTimeline` (loss history, and the path with the update of every
    point, so runs replay synchronized by update). The parameter moments are not kept:
    they may take tens of MB a run, and the gallery's surfaces need the final ones."""
    data = timeline.data
    return GalleryRun(
        run_id=run_id, name=name, config=config, status=status,
        updates=np.asarray(timeline.updates, dtype=np.int64).copy(),
        train_loss=np.asarray(timeline.train_loss, dtype=np.float64).copy(),
        unseen_loss=np.asarray(timeline.unseen_loss, dtype=np.float64).copy(),
        path=np.asarray(timeline.path, dtype=np.float64).reshape(-1, 2).copy(),
        path_updates=np.asarray(timeline.path_updates, dtype=np.int64).copy(),
        track=tuple(timeline.track),
        params={k: np.array(v, dtype=np.float64) for k, v in snap.params.items()},
        final_update=int(snap.update), seconds=float(snap.seconds), origin=origin,
        scale=float(getattr(data, "scale", 1.0)), suffix=str(getattr(data, "suffix", "")),
        unit=str(getattr(data, "unit", "")), color=color, data=data)


def race_origin(number: int) -> str:
    """What a kept racer came from: its race, numbered in the session (`Gallery.next_race`)."""
    return f"race {number}"


def racer_name(number: int, config: RunConfig) -> str:
    """"race 2: momentum η 0.02 μ 0.9": a racer's run says it raced, in which race, and
    what told it from the other racers (optimizer, learning rate, momentum if it has one)."""
    mu = f" μ {config.momentum:g}" if config.optimizer in HAS_MOMENTUM else ""
    return f"{race_origin(number)}: {config.optimizer} η {config.lr:g}{mu}"


def end_status(snap: Any, replaced_by: RunConfig | None, config: RunConfig) -> str:
    """How a run ended: diverged, finished (its limit), or, cut short, stopped (a new
    model or data replaced it) or reset (the same settings started over)."""
    if snap.diverged:
        return "diverged"
    if snap.done:
        return "finished"
    if replaced_by is not None and config.needs_new_run(replaced_by):
        return "stopped"
    return "reset"


@dataclass
class Gallery:
    """The session's kept runs, oldest first, bounded by `max_runs` and `max_bytes`."""

    max_runs: int = MAX_RUNS
    max_bytes: int = MAX_BYTES
    runs: list[GalleryRun] = field(default_factory=list)
    _names: dict[str, int] = field(default_factory=dict, repr=False)

    def new_id(self) -> int:
        """A run id no trainer of this process has had or will have (runs are kept by
        their trainer's id, so a run read back from a session needs one of its own)."""
        return new_run_id()

    def default_name(self, config: RunConfig) -> str:
        """"η 0.03 #2": what tells the lecture's runs apart first, numbered."""
        base = f"{config.optimizer} η {config.lr:g}" if config.model == "linear" else \
            f"{config.layers}x{config.units} {config.model} η {config.lr:g}"
        self._names[base] = self._names.get(base, 0) + 1
        return f"{base} #{self._names[base]}"

    def next_race(self) -> int:
        """The number of the next race to keep: one past the highest kept ("race 3" is
        its racers' origin), so a reopened session goes on counting where it stopped."""
        found = (re.fullmatch(r"race (\d+)", r.origin) for r in self.runs)
        return max((int(m.group(1)) for m in found if m), default=0) + 1

    def nbytes(self) -> int:
        """The runs' arrays plus each distinct data set once."""
        seen: dict[int, int] = {}
        for run in self.runs:
            if run.data is not None and id(run.data) not in seen:
                seen[id(run.data)] = sum(
                    np.asarray(getattr(run.data, k)).nbytes
                    for k in ("x_train", "y_train", "x_unseen", "y_unseen"))
        return sum(r.nbytes() for r in self.runs) + sum(seen.values())

    def add(self, run: GalleryRun) -> list[GalleryRun]:
        """Keep `run` (replacing an earlier end of the same run, whose name and pin it
        keeps); returns the runs dropped to stay within the bounds, oldest unpinned first
        (never `run` itself)."""
        old = self.get(run.run_id)
        if old is not None:
            run = replace(run, name=old.name, pinned=old.pinned)
            self.runs = [run if r.run_id == run.run_id else r for r in self.runs]
        else:
            self.runs.append(run)
        dropped: list[GalleryRun] = []
        while len(self.runs) > self.max_runs or self.nbytes() > self.max_bytes:
            victim = next((r for r in self.runs if not r.pinned and r.run_id != run.run_id),
                          None)
            if victim is None:
                break
            self.runs.remove(victim)
            dropped.append(victim)
        return dropped

    def get(self, run_id: int) -> GalleryRun | None:
        return next((r for r in self.runs if r.run_id == run_id), None)

    def _change(self, run_id: int, **changes: Any) -> GalleryRun:
        run = self.get(run_id)
        if run is None:
            raise KeyError(f"no kept run {run_id}")
        new = replace(run, **changes)
        self.runs = [new if r.run_id == run_id else r for r in self.runs]
        return new

    def rename(self, run_id: int, name: str) -> GalleryRun:
        name = " ".join(name.split())
        if not name:
            raise ValueError("a run's name cannot be empty")
        return self._change(run_id, name=name)

    def pin(self, run_id: int, pinned: bool) -> GalleryRun:
        return self._change(run_id, pinned=bool(pinned))

    def delete(self, run_id: int) -> None:
        self.runs = [r for r in self.runs if r.run_id != run_id]

    def bounds_note(self) -> str:
        """What the gallery holds against its bounds, for the user."""
        return (f"{len(self.runs)} of at most {self.max_runs} runs, "
                f"{self.nbytes() / 2**20:.1f} of {self.max_bytes / 2**20:.0f} MB")

    def to_list(self, arrays: bool = False) -> list[dict[str, Any]]:
        return [run_to_dict(r, arrays) for r in self.runs]

    def read(self, docs: Sequence[dict[str, Any]]) -> list[GalleryRun]:
        """Saved runs (`to_list`) checked and rebuilt, with new ids; ValueError names the
        run that does not fit. Nothing changes here (`set_runs` puts them in)."""
        runs = []
        for i, doc in enumerate(docs, 1):
            try:
                runs.append(run_from_dict(doc, self.new_id()))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"gallery run {i}: {exc}") from None
        return runs

    def set_runs(self, runs: Sequence[GalleryRun]) -> None:
        self.runs = list(runs)


def train_runs(config: RunConfig, lrs: Sequence[float], updates: int,
               should_stop: Callable[[], bool] = lambda: False
               ) -> Iterator[tuple[RunConfig, Any, Any]]:
    """Train `config` once per learning rate for `updates` updates (or until it
    diverges): the lecture's too small / good / too large, really trained. Yields
    (config, final snapshot, timeline) per rate; stops between chunks when asked."""
    from core.data import load_series, window
    from core.engine import Trainer

    data = window(load_series(config.dataset, config.column), config.days, config.split)
    for lr in lrs:
        cfg = config.replace(lr=float(lr), limit_updates=int(updates), limit_epochs=None)
        trainer = Trainer(cfg, data)
        while not trainer.done:
            if should_stop():
                return
            trainer.run(250)
        yield cfg, trainer.snapshot(extras=False), trainer.timeline()
