"""A run's timeline: where it was at recorded updates, so any moment can be drawn again.

Every run (each racer too) records two things as it trains, both bounded however long it
goes: the tracked pair of parameters after each update (`Timeline`, the surface's dot and
path) and copies of all its parameters at a bounded set of updates (a second `Timeline`
with wider rows, under PARAM_BUDGET bytes), so a scrubber can show moment k in every view:
the nearest recorded moment at or before k, exactly as the run had it.

`RunTimeline` is an immutable copy of both plus the loss history (`Trainer.timeline()`),
safe to hand to another thread; `moment_snapshot` builds the `Snapshot` a view draws from
one recorded moment (predictions, curve, pieces), as `Trainer.snapshot` does for the live
one.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.config import updates_per_epoch
from core.losses import loss_value, to_data_unit
from core.models import NETWORKS, param_shapes
from core.snapshot import Snapshot, drawing_extras

__all__ = ["FULL_UPDATES", "LATE_POINTS", "PARAM_BUDGET", "REPLAY_FACTORS", "Playback",
           "RunTimeline", "Timeline", "moment_snapshot", "param_slots",
           "rows_mapped_in_small_pages"]

FULL_UPDATES = 2048   # a timeline keeps each of a run's first updates...
LATE_POINTS = 2048    # ...then at most this many more, thinned by halves as the run goes on
# Bytes of parameter copies one run may keep. A network's parameters are kept as float32
# (its own precision: lossless); a 1,000-unit 1-day ReLU (3,001 numbers, 12 kB a moment)
# keeps up to 4,096 moments in 48 MB, a 4 x 100 ReLU on 56 days (36,101 numbers, 141 kB)
# 462 of them.
PARAM_BUDGET = 64 * 2**20
MIN_SLOTS = 16        # moments kept whatever the budget says (a very wide model)
REPLAY_FACTORS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0)   # playback speeds a scrubber offers
REPLAY_SECONDS = 10.0  # at 1x, a run trained flat out replays in this long


def param_slots(row_bytes: int, budget: int = PARAM_BUDGET) -> tuple[int, int]:
    """(full, late) for a parameter timeline whose rows take `row_bytes`: as many moments
    as FULL_UPDATES + LATE_POINTS allow within `budget` (with room for the start and the
    newest moment), half of them for the first updates."""
    per_row = max(int(row_bytes), 1) + np.dtype(np.int64).itemsize   # and its update
    slots = min(FULL_UPDATES + LATE_POINTS, budget // per_row - 2)
    slots = max(slots, MIN_SLOTS)
    full = slots // 2
    return full, slots - full


class Timeline:
    """Rows recorded at updates: the first `full` rows after the start (each update's, when
    every update is recorded), then those of every `every`-th update (the spacing
    doubling so at most `late` later rows are kept), and always the newest.
    `at(k)` finds the recorded moment at or before update k by bisection, so a scrubber
    can jump anywhere in a long run at the cost of a lookup.

    Kept in numpy arrays sized at once for the most rows the policy can hold: a chunk is
    recorded with a few vectorized calls and `path()` is one copy. Rows not yet written
    cost no resident memory (the system maps a page when it is first written), and the
    recording is never copied to grow. Grown by doubling instead, from 256 rows, a
    3 x 32 ReLU run copied up to 16 MB in the training thread at each doubling, and the
    old copies stayed with the allocator: resident memory over 20,000 updates grew 6 MB
    more than the rows recorded (bench/bench_memory.py: 23.7 MB for 17.8 MB of rows)."""

    def __init__(self, first: Any, update: int = 0, full: int = FULL_UPDATES,
                 late: int = LATE_POINTS, dtype: Any = np.float64) -> None:
        row = np.asarray(first, dtype=dtype).reshape(-1)
        self.full, self.late = int(full), int(late)
        self._cap = self.full + self.late + 2
        size = self._cap
        self._u = np.zeros(size, dtype=np.int64)
        self._p = rows_mapped_in_small_pages((size, len(row)), dtype)
        self._u[0] = int(update)
        self._p[0] = row
        self._n = 1
        self.every = 2

    @property
    def updates(self) -> list[int]:
        return self._u[: self._n].tolist()

    @property
    def points(self) -> list[tuple[float, ...]]:
        return [tuple(p) for p in self._p[: self._n].tolist()]

    @property
    def nbytes(self) -> int:
        """Memory held by the recorded rows and their update numbers."""
        return int(self._u.nbytes + self._p.nbytes)

    @property
    def recorded_bytes(self) -> int:
        """Bytes of the rows recorded so far and their update numbers (the part of
        `nbytes` written to, so resident; the rest is room to grow into)."""
        return int(self._n * (self._u.itemsize + self._p.itemsize * self._p.shape[1]))

    def add_chunk(self, start: int, traj: np.ndarray) -> None:
        """Record a chunk: traj[i] = the row after update start + i + 1. Only the rows
        kept are touched (a linear chunk is 1,024 updates, most of them thinned out)."""
        n = len(traj)
        if not n:
            return
        if self._n + n <= self.full + 1:
            # Every row is one of the first: kept, as below, without building an index
            # (the trainer records each chunk of 16 network updates this way)
            self._write(np.arange(start + 1, start + n + 1), traj)
            return
        if self._n >= self.full + 1 and self._late_in_place(start, traj):
            return
        early = min(max(self.full + 1 - self._n, 0), n)
        first = start + early + 1
        first += (-first) % self.every          # the first later update on the spacing
        idx = np.arange(first - start - 1, n, self.every)
        if early:
            idx = np.concatenate([np.arange(early), idx])
        if not len(idx) or idx[-1] != n - 1:
            idx = np.append(idx, n - 1)
        self._append(idx + (start + 1), np.asarray(traj)[idx])

    def _late_in_place(self, start: int, traj: np.ndarray) -> bool:
        """`add_chunk` past the first rows when no thinning is due: the rows on the
        spacing and the newest written in place, their few update numbers counted in
        Python (`_append`'s masks and index arrays cost a network chunk ~40 us); False,
        nothing written, when thinning is due."""
        every, end = self.every, start + len(traj)
        first = start + 1 + (-(start + 1)) % every
        ups = list(range(first, end + 1, every))
        if not ups or ups[-1] != end:
            ups.append(end)
        m = self._n
        if m > self.full + 1 and self._u[m - 1] % every:
            m -= 1    # kept only because it was the newest; now it is not
        k = len(ups)
        if m - self.full - 1 + k > self.late:
            return False
        self._u[m:m + k] = ups
        self._p[m:m + k] = np.asarray(traj)[[u - start - 1 for u in ups]]
        self._n = m + k
        return True

    def add_rows(self, ups: np.ndarray, rows: np.ndarray) -> None:
        """Record rows[i] at update ups[i] (increasing, after the last recorded one)."""
        ups = np.asarray(ups, dtype=np.int64)
        if not len(ups):
            return
        keep = ups % self.every == 0
        keep[: max(self.full + 1 - self._n, 0)] = True   # the first rows: every one
        keep[-1] = True     # the newest moment is always there (the run may stop here)
        self._append(ups[keep], np.asarray(rows)[keep])

    def add_row(self, update: int, row: np.ndarray) -> None:
        """`add_rows` of one row (a network chunk's end), written in place when the
        policy keeps it without thinning, as `_append` would; else through `_append`.
        The one-row arrays and masks cost the trainer's chunk ~20 us more."""
        n = self._n
        if n > self.full + 1 and self._u[n - 1] % self.every:
            n -= 1    # kept only because it was the newest; now it is not
        if n - self.full <= self.late:
            self._u[n] = update
            self._p[n] = row
            self._n = n + 1
        else:
            self._append(np.array([update], dtype=np.int64), np.asarray(row)[None])

    def _append(self, ups: np.ndarray, rows: np.ndarray) -> None:
        """Append kept rows; drop the previous newest if it was kept only as the newest,
        and thin the later rows by halves while there are more than `late`.

        The spacing is settled before anything is written (counting update numbers, as if
        the rows were appended and then thinned), so the later rows are compacted in
        place and only the new rows that stay are written: the arrays never grow."""
        if self._n > self.full + 1 and self._u[self._n - 1] % self.every:
            self._n -= 1    # kept only because it was the newest; now it is not
        early = min(max(self.full + 1 - self._n, 0), len(ups))   # the first rows: all
        self._write(ups[:early], rows[:early])
        ups, rows = ups[early:], rows[early:]
        if not len(ups):
            return
        start = self.full + 1
        old = self._u[start:self._n]
        every = self.every
        if len(old) + len(ups) > self.late:
            def kept_after(spacing: int) -> int:
                return int((old % spacing == 0).sum() + (ups[:-1] % spacing == 0).sum()) + 1

            every *= 2
            while kept_after(every) > self.late:
                every *= 2
        if every != self.every:
            on = old % every == 0
            m = int(on.sum())
            self._u[start:start + m] = old[on]
            self._p[start:start + m] = self._p[start:self._n][on]
            self._n = start + m
            new = ups % every == 0
            new[-1] = True
            ups, rows = ups[new], rows[new]
            self.every = every
        self._write(ups, rows)

    def _write(self, ups: np.ndarray, rows: np.ndarray) -> None:
        k = len(ups)
        self._u[self._n:self._n + k] = ups
        self._p[self._n:self._n + k] = rows
        self._n += k

    def __len__(self) -> int:
        return self._n

    def export(self) -> dict[str, Any]:
        """The recorded rows and the thinning state as plain data and numpy copies (a
        session stores them): `Timeline.restore` continues it exactly."""
        return {"updates": self.update_array(), "rows": self.path(), "full": self.full,
                "late": self.late, "every": self.every}

    @classmethod
    def restore(cls, doc: dict[str, Any], width: int, dtype: Any, full: int, late: int
                ) -> Timeline:
        """A timeline from `export()`, checked against what this run records (rows of
        `width` numbers of `dtype`, the `full` / `late` policy); ValueError says what
        does not fit."""
        ups = np.asarray(doc["updates"])
        rows = np.asarray(doc["rows"])
        every = doc["every"]
        if (int(doc["full"]), int(doc["late"])) != (full, late):
            raise ValueError(f"it keeps {doc['full']} + {doc['late']} moments, this run "
                             f"{full} + {late}")
        if ups.dtype != np.int64 or ups.ndim != 1 or not len(ups):
            raise ValueError("its update numbers are not a list of whole numbers")
        if rows.dtype != np.dtype(dtype) or rows.shape != (len(ups), width):
            raise ValueError(f"its rows are {rows.dtype} {rows.shape}, this run records "
                             f"{np.dtype(dtype)} ({len(ups)}, {width})")
        if len(ups) > full + late + 2 or ups[0] < 0 or (np.diff(ups) <= 0).any():
            raise ValueError("its updates are not increasing or too many")
        if isinstance(every, bool) or not isinstance(every, int) or every < 2 \
                or every & (every - 1):
            raise ValueError(f"its spacing {every!r} is not a power of two")
        line = cls(rows[0], int(ups[0]), full, late, dtype)
        line._u[: len(ups)], line._p[: len(ups)] = ups, rows
        line._n, line.every = len(ups), every
        return line

    @property
    def last_update(self) -> int:
        return int(self._u[self._n - 1])

    def index_at(self, update: int) -> int:
        """Index of the newest recorded moment at or before `update` (the first moment
        for an update before it)."""
        return max(int(np.searchsorted(self._u[: self._n], update, side="right")) - 1, 0)

    def at(self, update: int) -> tuple[int, float, float]:
        """(recorded update, a, b) at or just before `update` (a two-column timeline)."""
        i = self.index_at(update)
        return (int(self._u[i]), float(self._p[i, 0]), float(self._p[i, 1]))

    def row_at(self, update: int) -> tuple[int, np.ndarray]:
        """(recorded update, a copy of its row) at or just before `update`."""
        i = self.index_at(update)
        return int(self._u[i]), self._p[i].copy()

    def update_array(self) -> np.ndarray:
        """A copy of the recorded update numbers."""
        return self._u[: self._n].copy()

    def rows(self, start: int, stop: int) -> np.ndarray:
        """A copy of the recorded rows start..stop-1 (by index)."""
        return self._p[start:min(stop, self._n)].copy()

    def path(self, upto: int | None = None) -> np.ndarray:
        """A copy of the recorded rows up to and including update `upto` (all by
        default)."""
        end = self._n if upto is None else self.index_at(upto) + 1
        return self._p[:end].copy()


def rows_mapped_in_small_pages(shape: tuple[int, int], dtype: Any) -> np.ndarray:
    """An uninitialized array whose memory the system maps in 4 kB pages as rows are first
    written, never in 2 MB ones.

    numpy asks Linux for huge pages for every array of 4 MB or more (madvise), and where the
    system grants them only on request (`transparent_hugepage` "madvise", with "defrag"
    madvise, the common default) the first write into each 2 MB of it may wait while the
    kernel compacts memory to find one. A network's parameter timeline is such an array
    (3 x 100 ReLU on 56 days: 645 rows of 104 kB, 67 MB) written one row at each chunk's
    end, and in the app the worker ends ~60 chunks a second. Measured on the 2-core Intel
    Xeon, a fresh 104 kB row in a bare loop cost 26-1,110 us with numpy's huge pages (it
    depends on the memory's state) against 62-67 us in small pages (~20 us once mapped);
    `Timeline.add_row` in a trainer taking 5 updates a call, as the app's worker does,
    93-564 -> 89-122 us a row (updates per second at that load were too noisy to show
    it). A row is written once and read rarely (a replayed moment), so huge pages buy it
    nothing."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    advise = getattr(mmap, "MADV_NOHUGEPAGE", None)
    if nbytes < 1 << 20 or advise is None:
        return np.empty(shape, dtype=dtype)
    block = mmap.mmap(-1, nbytes)   # anonymous, zero-filled on first touch
    block.madvise(advise)
    return np.frombuffer(block, dtype=dtype).reshape(shape)


@dataclass(frozen=True)
class ParamLayout:
    """How a flat row of a parameter timeline maps to the model's named arrays."""

    model: str
    shapes: tuple[tuple[str, tuple[int, ...]], ...]

    @classmethod
    def of(cls, config: Any, n_features: int) -> ParamLayout:
        return cls(config.model, tuple(param_shapes(config.model, n_features, config.units,
                                                    config.layers).items()))

    @property
    def size(self) -> int:
        return sum(int(np.prod(s)) for _, s in self.shapes)

    @property
    def dtype(self) -> Any:
        """A network trains in float32 (its copies are exact so); a linear model in
        float64."""
        return np.float32 if self.model in NETWORKS else np.float64

    def flat(self, params: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(params[k], dtype=self.dtype).reshape(-1)
                               for k, _ in self.shapes])

    def unflat(self, row: np.ndarray) -> dict[str, np.ndarray]:
        """float64 arrays, as `Trainer.params()` gives them."""
        out: dict[str, np.ndarray] = {}
        i = 0
        for key, shape in self.shapes:
            n = int(np.prod(shape))
            out[key] = np.asarray(row[i:i + n], dtype=np.float64).reshape(shape).copy()
            i += n
        return out


@dataclass(frozen=True)
class RunTimeline:
    """An immutable copy of a run's timeline (`Trainer.timeline()`).

    `updates`, `train_loss`, `unseen_loss` (data unit): the loss history (each of the
    first updates, decimated after). `path` (n, 2): the tracked pair `track` at
    `path_updates`. Parameter copies are kept at `moments()`; `params_at(k)` answers the
    nearest at or before k, and `snapshot(k)` builds what a view draws there.
    """

    updates: np.ndarray
    train_loss: np.ndarray
    unseen_loss: np.ndarray
    path: np.ndarray
    track: tuple[str, str]
    path_updates: np.ndarray
    live_update: int                 # the run's update count when the copy was taken
    config: Any                      # core.config.RunConfig
    data: Any                        # core.data.Windowed
    run_id: int = 0
    layout: ParamLayout | None = None
    moment_updates: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    moment_rows: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))

    def moments(self) -> np.ndarray:
        """The updates whose parameters are kept (a copy)."""
        return self.moment_updates.copy()

    def params_at(self, update: int) -> tuple[int, dict[str, np.ndarray]]:
        """(the recorded moment used, its parameters): the newest moment at or before
        `update` (the first one for an update before it)."""
        ups = self.moment_updates
        i = max(int(np.searchsorted(ups, int(update), side="right")) - 1, 0)
        return int(ups[i]), self.layout.unflat(self.moment_rows[i])

    def snapshot(self, update: int) -> Snapshot:
        """What every view draws at the recorded moment at or before `update`."""
        moment, params = self.params_at(update)
        hist = np.column_stack([self.updates, self.train_loss, self.unseen_loss])
        upto = max(int(np.searchsorted(self.path_updates, moment, side="right")), 1)
        return moment_snapshot(self.config, self.data, moment, params, hist,
                               self.path[:upto], self.track, self.live_update, self.run_id)


def predict_at(config: Any, params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The model's outputs (training unit) at `params`, computed as the live run computes
    them (a network's float32 forward pass), so a replayed moment shows its numbers."""
    if config.model in NETWORKS:
        from core.net_engine import forward_float32

        return forward_float32(config.model, params, x)
    from core.models import forward_numpy

    return forward_numpy(config.model, params, x) if len(x) else np.empty(0)


def moment_snapshot(config: Any, data: Any, moment: int, params: dict[str, np.ndarray],
                    hist: np.ndarray, path: np.ndarray, track: tuple[str, str],
                    live_update: int, run_id: int, epoch: float | None = None,
                    lr: float | None = None, explained: Any = None) -> Snapshot:
    """The Snapshot of a recorded moment: its parameters, predictions, curve and pieces;
    its losses from the history when recorded there (the live run's own numbers), else
    computed from the parameters; the whole loss history (the loss view marks `moment`);
    the path up to it. `replay_of` is the run's live update count. The optimizer's state
    then is not kept: gradient and step come only with `explained`
    (`core.step_explained.StepExplained`, the 1-day linear model), the exact gradient at
    the moment and the step the run recorded next."""
    scale = float(getattr(data, "scale", 1.0))
    x = np.asarray(data.x_train, dtype=np.float64)
    xu = np.asarray(data.x_unseen, dtype=np.float64).reshape(-1, x.shape[1])
    if config.model in NETWORKS:    # one call for both: the parameters made tensors once
        from core.net_engine import forward_float32_each

        pred, pred_u = forward_float32_each(config.model, params, [x, xu])
    else:
        pred, pred_u = predict_at(config, params, x), predict_at(config, params, xu)
    hist = np.asarray(hist, dtype=np.float64).reshape(-1, 3)
    at = np.flatnonzero(hist[:, 0] == moment)
    if len(at):
        train, unseen = float(hist[at[0], 1]), float(hist[at[0], 2])
    else:
        with np.errstate(all="ignore"):
            y = np.asarray(data.y_train, dtype=np.float64).reshape(-1)
            yu = np.asarray(data.y_unseen, dtype=np.float64).reshape(-1)
            train = to_data_unit(config.loss, loss_value(config.loss, pred, y), scale)
            unseen = to_data_unit(config.loss, loss_value(config.loss, pred_u, yu), scale)
    if epoch is None:
        epoch = moment / updates_per_epoch(len(np.asarray(data.y_train)), config.batch_size)
    with np.errstate(all="ignore"):
        extras = drawing_extras(config.model, config.layers, params, x, xu, scale,
                                pred, pred_u)
    grad: dict[str, np.ndarray] = {}
    step: dict[str, np.ndarray] = {}
    if explained is not None:
        lr = explained.lr
        grad = {"w": np.array([explained.grad[0]]), "b": np.asarray(explained.grad[1])}
        if explained.taken is not None:
            step = {"w": np.array([explained.taken[0]]), "b": np.asarray(explained.taken[1])}
    return Snapshot(
        update=int(moment), epoch=float(epoch),
        train_loss=train, unseen_loss=unseen, lr=config.lr if lr is None else lr,
        params=params, grad=grad, step=step, explained=explained,
        hist_update=hist[:, 0].copy(),
        hist_train=hist[:, 1].copy(), hist_unseen=hist[:, 2].copy(),
        path=np.asarray(path, dtype=np.float64).reshape(-1, 2).copy(), track=tuple(track),
        run_id=run_id, replay_of=int(live_update), **extras)


class Playback:
    """Where a replay is, in updates, as time passes: `rate` x `factor` updates a second
    from `start` to `end`. `rate` is the speed the run was trained at (updates a second);
    a run trained flat out has none a class could follow, so at 1x it replays in
    REPLAY_SECONDS. Driven by elapsed time, so a slow frame skips updates instead of
    slowing the replay down (and a test drives it with chosen steps)."""

    def __init__(self, start: int, end: int, rate: float | None, factor: float) -> None:
        self.position = float(start)
        self.end = int(end)
        base = rate if rate else max(self.end - start, 1) / REPLAY_SECONDS
        self.per_second = float(base) * float(factor)

    def advance(self, seconds: float) -> int:
        """The update to show after `seconds` more (at most `end`)."""
        self.position = min(self.position + self.per_second * max(seconds, 0.0), self.end)
        return int(self.position)

    @property
    def finished(self) -> bool:
        return self.position >= self.end
