# Over 450 lines: one class, the Trainer, whose parts share one run's state.
"""The Trainer: one run's updates, live setting changes, bounded history and snapshots.

The numbers are computed by `core.linear_engine.LinearCore` (numpy, no autograd) or
`core.net_engine.NetCore` (torch); this module does what every run shares: limits,
divergence, epochs, the loss history and the descent path (both bounded by decimation, so
memory stays flat however long a run goes) and publishing `Snapshot` copies.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from core.config import SHAPE_KEYS, ConfigError, RunConfig, one_line
from core.linear_engine import LinearCore
from core.losses import to_data_unit
from core.models import default_track, get_scalar, init_params, scalar_names
from core.snapshot import Snapshot, drawing_extras, new_run_id
from core.step_explained import MAX_SETTINGS, Setting, StepExplained, explain_recorded
from core.timeline import (
    FULL_UPDATES,
    LATE_POINTS,
    ParamLayout,
    RunTimeline,
    Timeline,
    moment_snapshot,
    param_slots,
)

__all__ = ["Trainer", "data_digest", "default_settings"]

MAX_POINTS = 2000      # history and path hold at most this many points, then halve
CHECK_EVERY = 64       # updates between divergence checks in a long network run
FINE_UPDATES = 1024    # a linear run's loss history holds each of its first updates (a
                       # lecture's short runs: a divergence shows its every step; a point
                       # costs microseconds), then every 16th; a network's, every 16th.
                       # 256 cut the lecture's 300-update mini-batch run (step 19): its
                       # curve was noisy to update 256 and smooth after (3 more points),
                       # as if the batches' noise stopped there.
# At most this many linear updates between checks, in one compiled call (full-batch
# MAE). In the app each call gives the GIL up and takes it back from the GUI thread, and
# each is followed by its Python bookkeeping: the worker's calls of ~2,600 updates (1 day)
# made 3 calls of 1,024. Measured in the bench's window (load 3.1-3.3, 3 runs each, the
# worker thread's scheduler totals over 5 s): its waits for the GIL (voluntary switches)
# 799 / 1,551 / 849 with 1,024, 271 / 544 / 396 with 4,096; its time blocked 0.9-1.8 %
# -> 0.6-1.0 % of its wall time. A small gain: the worker's time goes to waiting for a
# core on a busy machine (24-31 %), not to the GIL.
LINEAR_CHUNK = 4096
# A loss this many times the "predict the mean" loss means the run has run away (for
# MSE the factor is squared, as the loss is).
RUNAWAY = 1e4
# Bytes of parameter moments one network call may record at the chunk ends it passes
# through (`Trainer._plan`): 45 chunks of a 100-unit network on 56 days, 7 of 3 x 100.
MAX_CUT_BYTES = 2**20

STATE_VERSION = 1      # of `Trainer.export_state`'s layout


def _same_export(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two exported timelines that hold the same numbers under the same policy."""
    return all(a[k] == b[k] for k in ("full", "late", "every")) and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape
        and a[k].tobytes() == b[k].tobytes() for k in ("updates", "rows"))


def data_digest(data: Any) -> str:
    """A fingerprint of a run's windowed data (its training and unseen samples and scale):
    a saved run is continued only on the very numbers it was trained on."""
    h = hashlib.sha256()
    for name in ("x_train", "y_train", "x_unseen", "y_unseen"):
        arr = np.ascontiguousarray(getattr(data, name), dtype=np.float64)
        h.update(str(arr.shape).encode())
        h.update(arr.tobytes())
    h.update(repr(float(getattr(data, "scale", 1.0))).encode())
    return h.hexdigest()


class _Thinned:
    """A record of points taken every `every` updates that keeps at most MAX_POINTS: past
    that, every other point goes and the spacing doubles, so memory stays flat however
    long a run goes (the loss history and the descent path)."""

    __slots__ = ("_made", "_rows", "every", "points", "width")

    def __init__(self, every: int, width: int) -> None:
        self.points: list[tuple[float, ...]] = []
        self.every = every
        self.width = width
        self._rows = np.empty((0, width))
        self._made: tuple[list[tuple[float, ...]] | None, int] = (None, 0)

    def array(self) -> np.ndarray:
        """The points as a new (n, width) float64 array. Only the points added since the
        last call are converted (the points are only appended to, until `thin` or an
        import replaces the list): a snapshot 30 times a second converted all 2,000 of a
        long run's history and path, 0.46 ms of a 1-day linear snapshot's 0.59 ms."""
        points = self.points
        made_from, made = self._made
        if made_from is not points or made > len(points):
            self._rows = np.array(points, dtype=np.float64).reshape(-1, self.width)
        elif made < len(points):
            new = np.array(points[made:], dtype=np.float64).reshape(-1, self.width)
            self._rows = np.concatenate([self._rows, new])
        self._made = (points, len(points))
        return self._rows.copy()

    def add(self, point: tuple[float, ...]) -> None:
        self.points.append(point)
        self.thin()

    def thin(self) -> None:
        if len(self.points) > MAX_POINTS:
            self.points = self.points[::2]
            self.every *= 2

# Defaults that converge (see `default_settings`). Linear models use Adam: the features
# are strongly correlated (x_j are neighbouring days), so plain gradient descent with any
# stable learning rate needs millions of updates for 28 or 56 days.
# AdaGrad's steps shrink as 1/sqrt(t), so it starts larger; RMSProp's are ~lr each, as
# Adam's are, but without Adam's first moment it needs a smaller lr to settle.
_LINEAR_DEFAULTS = {
    "gd": {"lr": 1e-4, "limit_updates": 100_000},
    "momentum": {"lr": 1e-4, "limit_updates": 100_000},
    "nesterov": {"lr": 1e-4, "limit_updates": 100_000},
    "adagrad": {"lr": 0.1, "limit_updates": 30_000},
    "rmsprop": {"lr": 1e-3, "limit_updates": 30_000},
    "adam": {"lr": 3e-3, "limit_updates": 30_000},
}
_NET_DEFAULTS = {
    "gd": {"lr": 1e-3, "limit_updates": 5_000},
    "momentum": {"lr": 3e-4, "limit_updates": 5_000},
    "nesterov": {"lr": 3e-4, "limit_updates": 5_000},
    "adagrad": {"lr": 1e-2, "limit_updates": 3_000},
    "rmsprop": {"lr": 1e-3, "limit_updates": 3_000},
    "adam": {"lr": 3e-3, "limit_updates": 3_000},
}


def default_settings(model: str, loss: str, optimizer: str | None = None) -> dict[str, Any]:
    """Learning rate and update budget that converge for this model, loss and optimizer.

    Returns ``{"optimizer", "lr", "limit_updates"}`` (training unit). Without an optimizer
    the recommended one is chosen (Adam). For a linear model on data scaled to O(1), Adam's
    defaults end within 1% of the exact optimum (least squares / least absolute deviations)
    for 1 to 56 days of features; plain GD is stable with its default but slow to finish
    for many correlated days.
    """
    optimizer = optimizer or "adam"
    table = _LINEAR_DEFAULTS if model == "linear" else _NET_DEFAULTS
    if optimizer not in table:
        raise ConfigError(f"optimizer must be one of {', '.join(table)}, got {optimizer!r}")
    return {"optimizer": optimizer, **table[optimizer]}


class Trainer:
    """One training run: `step` / `run` updates, `apply` live changes, `snapshot` copies."""

    def __init__(self, config: RunConfig, data: Any = None) -> None:
        if data is None:
            from core import data as data_mod

            series = data_mod.load_series(config.dataset, config.column)
            data = data_mod.window(series, config.days, config.split)
        # Called after every chunk of updates as on_chunk(update_before, traj): traj holds
        # the two tracked parameters after each update of the chunk (a race's timeline
        # keeps them at full resolution; the trainer's own path is thinned).
        self.on_chunk: Callable[[int, np.ndarray], None] | None = None
        self._config = config
        self._data = data
        self._x = np.ascontiguousarray(data.x_train, dtype=np.float64)
        self._y = np.ascontiguousarray(data.y_train, dtype=np.float64).reshape(-1)
        self._xu = np.ascontiguousarray(data.x_unseen, dtype=np.float64).reshape(
            -1, self._x.shape[1])
        self._yu = np.ascontiguousarray(data.y_unseen, dtype=np.float64).reshape(-1)
        self._scale = float(getattr(data, "scale", 1.0))
        self._n_features = self._x.shape[1]
        self._y_max = float(np.max(np.abs(self._y))) if len(self._y) else 1.0
        self.run_id = new_run_id()
        self._track = default_track(config.model)
        self._track_at: tuple[Any, Any] = (None, None)   # `_core_run`'s (track, places)
        rng = np.random.default_rng(config.seed)
        params = init_params(config, self._n_features, rng, x_mean=self._x.mean(axis=0),
                             y_mean=float(self._y.mean()))
        # The one place a linear model and a network part: which core does the numbers.
        if config.is_linear:
            self._core: Any = LinearCore(
                self._x, self._y, self._xu, self._yu, config.loss, config.optimizer,
                config.lr, config.momentum, config.batch_size, config.seed,
                params["w"], float(params["b"]))
        else:
            from core.net_engine import NetCore

            self._core = NetCore(
                config.model, params, self._x, self._y, self._xu, self._yu, config.loss,
                config.optimizer, config.lr, config.momentum, config.batch_size, config.seed)
        self._names = scalar_names(config.model, self._n_features, config.units, config.layers)
        self._layout = ParamLayout.of(config, self._n_features)
        self._reset_counters()

    # -- state ---------------------------------------------------------------------------
    def _reset_counters(self) -> None:
        self._update = 0
        self._epoch_base = 0.0
        self._update_base = 0
        self._chunk_base = 0
        self._seconds = 0.0
        self._done = False
        self._diverged = False
        self._stop_reason: str | None = None
        self._hist = _Thinned(16, 3)
        self._end_due = False   # the last run call's end point, left for whoever looks
        self._path = _Thinned(1, 2)
        self._ref = self._reference_losses()
        self._new_timelines()
        self._record_path()
        self._record_history()
        self._check_limits()

    def _reference_losses(self) -> dict[str, float]:
        """Per loss: the larger of the start's loss and the predict-the-mean loss."""
        y = self._y
        base = {"mae": float(np.mean(np.abs(y - y.mean()))), "mse": float(np.var(y))}
        start = self._core.train_loss()
        here = self._config.loss
        if math.isfinite(start):
            base[here] = max(base[here], start)
        return {k: max(v, 1e-12) for k, v in base.items()}

    @property
    def config(self) -> RunConfig:
        return self._config

    @property
    def data(self) -> Any:
        return self._data

    @property
    def update(self) -> int:
        return self._update

    @property
    def epoch(self) -> float:
        return self._epoch_base + (self._update - self._update_base) / self.updates_per_epoch

    @property
    def updates_per_epoch(self) -> int:
        """ceil(N / B) (1 for the full batch): N = 10,000, B = 10 -> 1,000."""
        return int(self._core.updates_per_epoch)

    @property
    def done(self) -> bool:
        return self._done

    @property
    def diverged(self) -> bool:
        return self._diverged

    @property
    def stop_reason(self) -> str | None:
        return self._stop_reason

    @property
    def track(self) -> tuple[str, str]:
        return self._track

    @track.setter
    def track(self, names: tuple[str, str]) -> None:
        names = (str(names[0]), str(names[1]))
        params = self.params()
        for name in names:
            get_scalar(params, name)  # ValueError for a name this model does not have
        if names != self._track:
            self._track = names
            self._path = _Thinned(1, 2)
            self._pairs = Timeline(self._pair(), self._update)
            self._record_path()

    def param_names(self) -> list[str]:
        """Every scalar parameter's name ("w1", "b", "W1[1,1]", "c[2]", ...)."""
        return list(self._names)

    def params(self) -> dict[str, np.ndarray]:
        """Copies of the parameter arrays (float64, training unit)."""
        return self._core.params()

    def get_scalar(self, name: str) -> float:
        return self._core.get_scalar(name)

    def train_loss(self) -> float:
        """Loss on the whole training set, data unit (MAE in views, MSE in views^2)."""
        with np.errstate(all="ignore"):
            return self._shown(self._core.train_loss(), len(self._y))

    def unseen_loss(self) -> float:
        with np.errstate(all="ignore"):
            return self._shown(self._core.unseen_loss(), len(self._yu))

    def _shown(self, value: float, samples: int) -> float:
        """A loss in the data unit; nan (parameters that overflowed) reads as inf, since
        only an empty set has no loss at all."""
        shown = to_data_unit(self._config.loss, value, self._scale)
        return math.inf if samples and math.isnan(shown) else shown

    @property
    def gil_free(self) -> bool:
        """True when a chunk of updates runs as one compiled call that releases the GIL (a
        linear model, full batch, MAE: `core.linear_kernels`; a network: TorchScript,
        `core.net_kernels`). Other updates run Python between their numeric kernels, so
        another busy Python thread (the GUI's) slows them down."""
        return bool(self._core.gil_free)

    # -- training ------------------------------------------------------------------------
    def step(self) -> None:
        """Exactly one update (one batch)."""
        self.run(1)

    def run(self, n: int, end_point: bool = True) -> None:
        """Up to n updates; stops early at the limit or on divergence. Never raises for it.

        The loss history gets a point at the call's last update, so a snapshot taken then
        draws the curve up to it. With `end_point=False` that point waits for whoever looks
        next (`snapshot`, `snapshot_at`, `timeline`, `export_state`) and is left out if
        the next call comes first: the app's worker runs two or three chunks per snapshot,
        and a network's point costs a pass over the unseen data (measured: 5 % of a
        3 x 100 ReLU's in-app training time). Every history a caller sees is the same
        either way; a replayed moment at a chunk's end nobody looked at has its losses
        computed from its parameters instead (`core.timeline.moment_snapshot`)."""
        if self._done or n <= 0:
            return
        n = min(int(n), self._remaining())
        if n <= 0:
            return
        self._end_due = False   # the parameters move: a point left for a look is too late
        with np.errstate(all="ignore"):
            if self._core.keeps_every_update:
                self._run_rows(n, end_point)
                return
            full = self._core.batch_size is None
            while n > 0 and not self._done:
                # the chunks up to the next history point or divergence check; on the full
                # batch several of them in one call (`_plan`)
                plan = self._plan(n) if full else [
                    (min(n, CHECK_EVERY, self._until(self._hist.every)), False)]
                span = plan[-1][0]
                start = self._update
                t0 = time.perf_counter()
                # the unseen pass at the call's end only where a history point is made
                # there (a pass nobody reads cost the app's 3 x 100 ReLU ~5 % of its
                # training: two or three chunks a snapshot)
                did = self._core_run(span, (start + span) % self._hist.every == 0
                                     or (end_point and span == n), plan[:-1])
                self._seconds += time.perf_counter() - t0
                passed = self._core.passed if len(plan) > 1 else 0
                traj = self._traj
                at = 0
                for j in range(passed):
                    # a chunk the call passed through: what a call ending there records
                    cut = plan[j][0]
                    self._traj = traj[at:]
                    self._update = start + cut
                    n -= cut - at
                    self._record_chunk_path(start + at, cut - at, False)
                    self._pairs.add_chunk(start + at, traj[at:cut])
                    self._moments.add_row(self._update, self._core.cut_rows[j])
                    if self.on_chunk is not None:
                        self.on_chunk(start + at, traj[at:cut])
                    if self._update % self._hist.every == 0:
                        tr, un = self._core.cut_losses[j].tolist()
                        self._add_history(tr, un)
                    self._check_limits()
                    at = cut
                # the call's last chunk (or the one where it stopped), as a call of its own
                chunk = plan[passed][0] - at
                did -= at
                start += at
                self._traj = traj[at:]
                self._update += did
                n -= did
                self._record_chunk_path(start, did, n == 0)
                if did:
                    self._pairs.add_chunk(start, self._traj[:did])
                    self._moments.add_row(self._update, self._core.flat_params())
                if self.on_chunk is not None:
                    self.on_chunk(start, self._traj[:did])
                if self._update % self._hist.every == 0 or n == 0:
                    train = self._core.train_loss()
                    if self._update % self._hist.every == 0 or end_point:
                        self._record_history(train)
                    else:
                        self._end_due = True
                else:  # a network's last batch loss: a full pass per chunk would cost more
                    train = self._core.last_loss
                if self._check_divergence(train, self._traj[:did]) or did < chunk:
                    break
                self._check_limits()

    def _plan(self, n: int) -> list[tuple[int, bool]]:
        """The chunks of a full-batch network's next call, as (updates from here to the
        chunk's end, a history point there): each ends at the next history point or
        CHECK_EVERY updates on, as a call's chunk did, and one call covers several (it
        records each one's history point, moment and divergence test as the trainer did
        between calls, `core.net_kernels.train_updates`), up to the one whose history
        point thins the history (its spacing doubles: the chunks after it end elsewhere)
        and within MAX_CUT_BYTES of parameter moments. A call and its Python around it
        cost a 100-unit network's 16-update chunk ~150 us (56 days, 2-core Intel Xeon);
        in the app the worker's ~25 ms of such a network took three or four calls.
        Measured in one process, Trainer.run(n) alternating with a trainer whose plan is
        one chunk a call, 11 rounds (load 4.2-4.9), best us an update (median of pairs):
        100 sigmoid n=64 476 -> 450 (0.92), n=1,024 457 -> 418 (0.91); 100 ReLU n=64
        578 -> 523 (0.94), n=1,024 433 -> 388 (0.98); 3 x 100 ReLU (7 chunks a call at
        most) 1.00."""
        every, u, left = self._hist.every, self._update, n
        room = MAX_POINTS - len(self._hist.points)
        most = max(1, MAX_CUT_BYTES // (4 * self._layout.size))
        plan: list[tuple[int, bool]] = []
        while left > 0:
            chunk = min(left, CHECK_EVERY, every - u % every)
            u += chunk
            left -= chunk
            at = u % every == 0
            plan.append((u - self._update, at))
            room -= at
            if room < 0 or len(plan) >= most:
                break
        return plan

    def _run_rows(self, n: int, end_point: bool = True) -> None:
        """Linear updates in chunks that grow from CHECK_EVERY / 4 to LINEAR_CHUNK since the
        run's start or last live change (a divergence is caught within a few updates, a
        long run pays the chunk's fixed cost rarely). The core returns every update's
        parameters, so the path and the loss history come from them after the chunk."""
        core, track = self._core, self._core.track_columns(self._track)
        core.warm()          # its kernel loaded before the clock starts: not training time
        while n > 0 and not self._done:
            since = self._update - self._chunk_base
            chunk = min(n, max(CHECK_EVERY // 4, min(since, LINEAR_CHUNK)))
            start = self._update
            t0 = time.perf_counter()
            rows = core.run(chunk)
            self._seconds += time.perf_counter() - t0
            self._traj = rows[:, track]
            self._update += chunk
            n -= chunk
            self._record_chunk_path(start, chunk, n == 0)
            self._pairs.add_chunk(start, self._traj)
            self._moments.add_chunk(start, rows[:, :-1])   # w and b (the last column is 1)
            if self.on_chunk is not None:
                self.on_chunk(start, self._traj)
            train = core.train_loss()
            worst = self._record_chunk_history(start, rows, train, n == 0, end_point)
            if not worst <= train:   # a worse (or nan) history point inside the chunk
                train = worst
            if self._check_divergence(train, self._traj):
                break
            self._check_limits()

    def _record_chunk_history(self, start: int, rows: np.ndarray, train: float, last: bool,
                              end_point: bool = True) -> float:
        """History points of a linear chunk (each of the first FINE_UPDATES updates, then
        every `_hist.every`, and its last update when the run call ends there: now, or
        with `end_point=False` when someone looks, as `run` says); returns the worst
        training loss among them (nan or inf if any was)."""
        end = start + len(rows)
        hist = self._hist
        every = hist.every
        ups = list(range(start + 1, min(end, FINE_UPDATES) + 1))
        base = max(start, FINE_UPDATES)
        ups += range(base + every - base % every, end + 1, every)
        if not ups and not last:
            return -math.inf
        tr = un = np.empty(0)
        if ups:
            tr, un = self._core.losses_at(rows[np.asarray(ups) - start - 1])
        for u, a, b in zip(ups, tr.tolist(), un.tolist(), strict=True):
            if u > FINE_UPDATES and u % hist.every:   # the spacing doubled meanwhile
                continue
            hist.add((u, self._shown(a, len(self._y)), self._shown(b, len(self._yu))))
        if last and (not hist.points or hist.points[-1][0] != end):
            if end_point:
                self._record_history(train)
            else:
                self._end_due = True
        return float(np.max(tr)) if len(tr) else -math.inf

    def _core_run(self, chunk: int, unseen: bool, cuts: list[tuple[int, bool]]) -> int:
        if self._track_at[0] != self._track:   # the pair's places, found once a track
            self._track_at = (self._track, tuple(self._core.flat_index(k) for k in self._track))
        did = int(self._core.run(chunk, self._track_at[1], unseen, cuts, self._limits()))
        self._traj = self._core.traj
        return did

    def _until(self, every: int) -> int:
        return every - self._update % every

    def _remaining(self) -> int:
        cfg = self._config
        if cfg.limit_updates is not None:
            return max(cfg.limit_updates - self._update, 0)
        if cfg.limit_epochs is not None:
            left = (cfg.limit_epochs - self._epoch_base) * self.updates_per_epoch
            return max(math.ceil(left - 1e-9) + self._update_base - self._update, 0)
        return 10**12

    def _check_limits(self) -> None:
        if self._diverged:
            return
        cfg = self._config
        if self._remaining() == 0:
            self._done = True
            if cfg.limit_updates is not None:
                self._stop_reason = f"reached the limit of {cfg.limit_updates:,} updates"
            else:
                self._stop_reason = f"reached the limit of {cfg.limit_epochs:,} epochs"
        else:
            self._done = False
            self._stop_reason = None

    def _check_divergence(self, train: float, traj: np.ndarray | None = None) -> bool:
        """Non-finite loss or parameters, a loss RUNAWAY times the reference, or a tracked
        parameter that swung past RUNAWAY times the labels' size within the chunk (a big
        oscillation can come back near its start exactly when the check looks)."""
        loss = self._config.loss
        most_swing, runaway = self._limits()
        if traj is not None and len(traj):
            swing = float(np.abs(traj).max())
            if math.isfinite(swing) and swing > most_swing:
                return self._stop_diverged(f"parameters swung to {swing:.3g}")
            if not math.isfinite(swing):
                train = float("inf")
        # A network's non-finite parameters show up in its next batch loss.
        params_ok = self._core.params_finite(train)
        if params_ok and math.isfinite(train) and train <= runaway:
            return False
        shown = to_data_unit(loss, train, self._scale)
        what = "became inf" if math.isinf(shown) or not params_ok else (
            "became nan" if math.isnan(shown) else f"grew to {shown:.3g}")
        return self._stop_diverged(f"loss {what}")

    def _limits(self) -> tuple[float, float]:
        """`_check_divergence`'s limits (a tracked parameter's magnitude, the training
        loss), which a network's call applies at the chunk ends it passes through."""
        loss = self._config.loss
        return (RUNAWAY * (1.0 + self._y_max),
                self._ref[loss] * (RUNAWAY if loss == "mae" else RUNAWAY**2))

    def _stop_diverged(self, what: str) -> bool:
        self._diverged = True
        self._done = True
        self._stop_reason = (f"diverged: {what} at update {self._update:,}; "
                             "lower the learning rate")
        return True

    # -- bounded records -----------------------------------------------------------------
    def _record_history(self, train: float | None = None) -> None:
        self._end_due = False
        if self._hist.points and self._hist.points[-1][0] == self._update:
            return
        if train is None:
            with np.errstate(all="ignore"):
                tr, un = self._core.train_loss(), self._core.unseen_loss()
        else:  # from `run`, already inside np.errstate (entering it costs microseconds)
            tr, un = train, self._core.unseen_loss()
        self._hist.add((self._update, self._shown(tr, len(self._y)),
                        self._shown(un, len(self._yu))))

    def _add_history(self, train: float, unseen: float) -> None:
        """`_record_history` with both losses given (a chunk end a network's call passed
        through)."""
        self._end_due = False
        if self._hist.points and self._hist.points[-1][0] == self._update:
            return
        self._hist.add((self._update, self._shown(train, len(self._y)),
                        self._shown(unseen, len(self._yu))))

    def _history_to_now(self) -> None:
        """The point `run(..., end_point=False)` left for whoever looks next, if it is due:
        the same numbers the call would have recorded (its parameters have not moved)."""
        if self._end_due:
            with np.errstate(all="ignore"):
                self._record_history()

    def _record_chunk_path(self, start: int, did: int, last: bool) -> None:
        """Append the chunk's updates that fall on the path's spacing (and the last one of
        a run call), halving the path whenever it passes MAX_POINTS; vectorized, as a
        linear update costs only microseconds."""
        traj, path = self._traj, self._path
        end = start + did
        u = start + 1
        while u <= end:
            every = path.every
            first = u + (-u) % every
            room = MAX_POINTS + 1 - len(path.points)
            stop = min(end, first + (room - 1) * every) if room > 0 else first - 1
            if first <= stop:
                rows = traj[first - start - 1:stop - start:every]
                path.points.extend(zip(rows[:, 0].tolist(), rows[:, 1].tolist(), strict=True))
                u = stop + 1
            else:
                u = end + 1
            if last and u > end and (end % every != 0 or first > stop):
                path.points.append((float(traj[did - 1, 0]), float(traj[did - 1, 1])))
            path.thin()

    def _record_path(self) -> None:
        self._path.add(self._pair())

    def _pair(self) -> tuple[float, float]:
        a, b = self._track
        return (self.get_scalar(a), self.get_scalar(b))

    def _new_timelines(self) -> None:
        """Timelines that start here: the tracked pair after every update (bounded as
        `core.timeline.Timeline` says) and copies of every parameter at a bounded set of
        updates within `core.timeline.PARAM_BUDGET` bytes."""
        self._pairs = Timeline(self._pair(), self._update)
        cfg = self._config
        self._settings_log = [Setting(self._update, cfg.optimizer, cfg.lr, cfg.momentum,
                                      cfg.batch_size)]
        layout = self._layout
        full, late = param_slots(layout.size * np.dtype(layout.dtype).itemsize)
        self._moments = Timeline(layout.flat(self.params()), self._update, full, late,
                                 layout.dtype)

    # -- live changes ----------------------------------------------------------------------
    def apply(self, config: RunConfig) -> None:
        """Take the live settings of `config` from the next update on, without a reset.

        A new optimizer starts with fresh state (no momentum / Adam moments); a new batch
        size starts a new shuffled epoch; a new loss clears the loss history (its unit
        changes) but keeps the parameters, the update count and the path.
        """
        changed = sorted(k for k in SHAPE_KEYS if getattr(config, k) != getattr(self._config, k))
        if changed:
            raise ConfigError(f"changing {', '.join(changed)} needs a new run")
        old, self._config = self._config, config
        self._chunk_base = self._update   # short chunks again: a change may diverge
        opt = self._core.opt
        opt.lr = config.lr
        opt.momentum = config.momentum
        if config.optimizer != old.optimizer:
            opt.kind = config.optimizer
            opt.reset()
        if config.loss != old.loss:
            self._core.loss = config.loss
            self._hist = _Thinned(16, 3)
            self._ref = self._reference_losses()
            self._record_history()
        if config.batch_size != old.batch_size:
            self._epoch_base = self.epoch
            self._update_base = self._update
            self._core.set_batch_size(config.batch_size)
        self._log_settings()
        if not self._diverged:
            self._check_limits()

    def _log_settings(self) -> None:
        """Remember the settings updates use from now on, if they changed (a replayed
        moment's step is explained with its own η)."""
        cfg, log = self._config, self._settings_log
        entry = Setting(self._update, cfg.optimizer, cfg.lr, cfg.momentum, cfg.batch_size)
        if (entry.optimizer, entry.lr, entry.momentum, entry.batch_size) == (
                log[-1].optimizer, log[-1].lr, log[-1].momentum, log[-1].batch_size):
            return
        if log[-1].since == entry.since:
            log.pop()
        log.append(entry)
        del log[:-MAX_SETTINGS]

    @property
    def settings_log(self) -> tuple[Setting, ...]:
        """The settings in force since each change (`core.step_explained.Setting`)."""
        return tuple(self._settings_log)

    def set_start(self, w: float | np.ndarray, b: float) -> None:
        """Restart from the two tracked scalars set to (w, b), every other parameter as it
        is (a click on a 7-day model's (w3, b) surface moves w3 and b, not all seven
        weights); an array `w` sets a linear model's every w_j. Update count, path and
        history restart."""
        self._core.set_start(w, b, self._track)
        self._core.opt.reset()
        self._core.set_batch_size(self._config.batch_size)
        self._reset_counters()

    # -- sessions --------------------------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """The run as it stands, as plain data and numpy copies (core.session stores it):
        settings, the model's parameters and optimizer state, the shuffling, the update
        count, the loss history, the path and the limits' state. `Trainer.from_state`
        continues it exactly: its next update is the one this trainer would take."""
        self._history_to_now()
        return {"version": STATE_VERSION, "config": self._config.to_dict(),
                "data": data_digest(self._data), "core": self._core.export_state(),
                "update": self._update, "epoch_base": self._epoch_base,
                "update_base": self._update_base, "chunk_base": self._chunk_base,
                "seconds": self._seconds, "done": self._done, "diverged": self._diverged,
                "stop_reason": self._stop_reason,
                "hist": self._hist.array(),
                "hist_every": self._hist.every,
                "path": self._path.array(),
                "path_every": self._path.every, "ref": dict(self._ref),
                "track": list(self._track), "timeline": self._export_timeline()}

    def _export_timeline(self) -> dict[str, Any]:
        """The recorded moments (tracked pair and parameter copies) and the settings log,
        so a restored run replays from its start, not from where it was saved."""
        pairs, moments = self._pairs.export(), self._moments.export()
        if _same_export(pairs, moments):
            pairs = "moments"   # the 1-day linear model: (w1, b) is all its parameters
        return {"pairs": pairs, "moments": moments,
                "settings": [[e.since, e.optimizer, e.lr, e.momentum, e.batch_size]
                             for e in self._settings_log]}

    def _import_timeline(self, doc: dict[str, Any]) -> None:
        """The inverse of `_export_timeline`, checked to be this run's: its newest moment
        is this update with exactly these parameters (ValueError otherwise)."""
        layout = self._layout
        full, late = param_slots(layout.size * np.dtype(layout.dtype).itemsize)
        try:
            kept = doc["moments"] if doc["pairs"] == "moments" else doc["pairs"]
            pairs = Timeline.restore(kept, 2, np.float64, FULL_UPDATES, LATE_POINTS)
            moments = Timeline.restore(doc["moments"], layout.size, layout.dtype, full, late)
            log = [Setting(int(u), str(o), float(lr), float(m), None if b is None else int(b))
                   for u, o, lr, m, b in doc["settings"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"its timeline does not fit this run: {one_line(exc)}") from None
        last = moments.row_at(self._update)
        flat = layout.flat(self.params())
        if pairs.last_update != self._update or last[0] != self._update \
                or last[1].tobytes() != flat.tobytes() \
                or pairs.path()[-1].tobytes() != np.asarray(self._pair(), np.float64).tobytes():
            raise ValueError("its timeline belongs to another run: its newest moment is not "
                             "where this run was saved")
        if not log or log[0].since > int(moments.update_array()[0]) \
                or any(b.since <= a.since for a, b in itertools.pairwise(log)):
            raise ValueError("its settings log does not fit its timeline")
        self._pairs, self._moments, self._settings_log = pairs, moments, log

    @classmethod
    def from_state(cls, state: dict[str, Any], data: Any = None) -> Trainer:
        """A trainer that continues the run `export_state` saved. `data` (optional) is the
        run's windowed data if already loaded; either way it must be the data the run was
        saved with. ValueError (or ConfigError) says what does not fit."""
        version = state.get("version")
        if version != STATE_VERSION:
            raise ValueError(f"training state version {version!r}; this Function Lab reads "
                             f"{STATE_VERSION}")
        trainer = cls(RunConfig.from_dict(state["config"]), data)
        if data_digest(trainer.data) != state["data"]:
            raise ValueError(f"the data of {trainer.config.dataset} changed since the "
                             "training was saved")
        trainer._import(state)
        return trainer

    def _import(self, state: dict[str, Any]) -> None:
        hist = np.asarray(state["hist"], dtype=np.float64).reshape(-1, 3)
        path = np.asarray(state["path"], dtype=np.float64).reshape(-1, 2)
        update = int(state["update"])
        ref = {str(k): float(v) for k, v in dict(state["ref"]).items()}
        if update < 0 or set(ref) != set(self._ref):
            raise ValueError("the saved update count or reference losses make no sense")
        self.track = (str(state["track"][0]), str(state["track"][1]))
        self._core.import_state(state["core"])
        self._update = update
        self._epoch_base = float(state["epoch_base"])
        self._update_base = int(state["update_base"])
        self._chunk_base = int(state["chunk_base"])
        self._seconds = float(state["seconds"])
        self._done, self._diverged = bool(state["done"]), bool(state["diverged"])
        reason = state["stop_reason"]
        self._stop_reason = None if reason is None else str(reason)
        self._hist = _Thinned(int(state["hist_every"]), 3)
        self._hist.points = [(int(u), float(a), float(b)) for u, a, b in hist.tolist()]
        self._path = _Thinned(int(state["path_every"]), 2)
        self._path.points = [(float(a), float(b)) for a, b in path.tolist()]
        self._ref = ref
        if state.get("timeline") is None:
            self._new_timelines()   # an older session: the timeline starts where it was saved
        else:
            self._import_timeline(state["timeline"])

    # -- publishing ------------------------------------------------------------------------
    def snapshot(self, extras: bool = True) -> Snapshot:
        """Copies of everything a view draws; never raises on a diverged run."""
        self._history_to_now()
        with np.errstate(all="ignore"):
            params = self.params()
            grad = self._core.full_grad()
            step = self._core.next_step()
            hist = self._hist.array()
            extra = self._extras(params) if extras else {}
        return Snapshot(
            update=self._update, epoch=self.epoch, train_loss=self.train_loss(),
            unseen_loss=self.unseen_loss(), lr=self._config.lr, params=params, grad=grad,
            step=step, hist_update=hist[:, 0].copy(), hist_train=hist[:, 1].copy(),
            hist_unseen=hist[:, 2].copy(),
            path=self._path.array(), track=self._track,
            done=self._done, diverged=self._diverged, stop_reason=self._stop_reason,
            seconds=self._seconds, run_id=self.run_id, **extra)

    def _extras(self, params: dict[str, np.ndarray]) -> dict[str, Any]:
        return drawing_extras(self._config.model, self._config.layers, params, self._x,
                              self._xu, self._scale, self._core.predict("train"),
                              self._core.predict("unseen"))

    # -- the timeline ----------------------------------------------------------------------
    @property
    def path_timeline(self) -> Timeline:
        """The tracked pair after each update (the live record: read it only in the thread
        that trains; `timeline()` gives a copy)."""
        return self._pairs

    def moment_at(self, update: int) -> int:
        """The recorded moment a replay of `update` shows (the newest at or before it);
        the live update for one at or past it."""
        if update >= self._update:
            return self._update
        return int(self._moments.row_at(update)[0])

    def moment_step(self, update: int, moments: int) -> int:
        """The recorded moment `moments` moments after (before, if negative) the one at
        `update` (a scrubber's step forward / back), within the run."""
        ups = self._moments.update_array()
        i = max(int(np.searchsorted(ups, update, side="right")) - 1, 0) + int(moments)
        return int(ups[min(max(i, 0), len(ups) - 1)])

    def snapshot_at(self, update: int) -> Snapshot:
        """What every view draws at the recorded moment at or before `update` (the live
        snapshot at or past the current update): `Snapshot.replay_of` is the live update
        count. Costs one prediction pass, as a live snapshot does."""
        if update >= self._update:
            return self.snapshot(extras=True)
        self._history_to_now()   # the whole history, as the live view has it
        moment, row = self._moments.row_at(update)
        params = self._layout.unflat(row)
        hist = self._hist.array()
        cfg = self._config
        epoch = (self._epoch_base + (moment - self._update_base) / self.updates_per_epoch
                 if moment >= self._update_base else None)
        return moment_snapshot(cfg, self._data, moment, params, hist,
                               self._pairs.path(moment), self._track, self._update,
                               self.run_id, epoch, explained=self._explain(moment))

    def _explain(self, moment: int) -> StepExplained | None:
        """The update from a recorded moment, explained (the 1-day linear model, whose
        exact surface the window draws); None for other models."""
        cfg = self._config
        if not cfg.is_linear or self._n_features != 1:
            return None
        tl = self._moments
        i = tl.index_at(moment)
        lo, hi = max(i - 1, 0), min(i + 2, len(tl))
        ups = tl.update_array()[lo:hi]
        fallback = Setting(moment, cfg.optimizer, cfg.lr, cfg.momentum, cfg.batch_size)
        return explain_recorded(cfg.loss, self._x[:, 0], self._y, ups, tl.rows(lo, hi),
                                moment, self._settings_log, fallback, tl.every)

    def replay_bytes(self) -> int:
        """Bytes this run has recorded for replay so far (the tracked pair after each
        update, the parameter copies): bounded by `core.timeline`'s policy, and what a
        long run's resident memory may grow by without a leak (bench/bench_memory.py)."""
        return self._pairs.recorded_bytes + self._moments.recorded_bytes

    def timeline(self) -> RunTimeline:
        """An immutable copy of the run's timeline (losses, path, parameter moments), safe
        to hand to another thread. Copies the parameter moments (at most PARAM_BUDGET
        bytes), so take it once, not every frame."""
        self._history_to_now()
        hist = self._hist.array()
        pairs, moments = self._pairs, self._moments
        return RunTimeline(
            updates=hist[:, 0].astype(np.int64), train_loss=hist[:, 1].copy(),
            unseen_loss=hist[:, 2].copy(), path=pairs.path(), track=self._track,
            path_updates=pairs.update_array(), live_update=self._update,
            config=self._config, data=self._data, run_id=self.run_id, layout=self._layout,
            moment_updates=moments.update_array(), moment_rows=moments.path())
