# Over 450 lines: one class, the TrainingWorker; its mailbox, loop and pacing share one run.
"""The training worker: a `Trainer` driven from its own QThread, never from the GUI thread.

The GUI talks to it through a locked mailbox (latest command of each kind wins, so a
slider storm costs one config change, not hundreds) and hears back through queued
signals. The loop checks the mailbox and the stop flag between chunks of updates, each
chunk ending when the next snapshot is due (at most ~25 ms of work) or paced to the
chosen speed, so Pause / Step / Reset answer within a frame, snapshots leave on time and
closing joins the thread well within a second.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.config import ConfigError, RunConfig, one_line
from core.runtime import tune_training_thread

PUBLISH_INTERVAL = 1.0 / 30.0   # at most ~30 snapshots a second reach the GUI
# Snapshots may take at most this share of the worker's time. A 3 x 100 ReLU snapshot
# (~2 ms: predictions on every day; its gradient pass is the next update's) may go out
# ~30 times a second, as a linear one (~0.1 ms) does; FRAME_SHARE below is what spaces a
# network's.
SNAPSHOT_SHARE = 0.08
# Most work between two looks at the mailbox: under a frame, so Pause / Step / Reset
# answer within one. A slow snapshot (3 x 100 ReLU) then comes every second chunk; the
# training-loss pass that ends each chunk is the next update's own (core.net_engine).
CHUNK_SECONDS = 0.025
# Flat out, a run whose updates need the GIL (a linear MSE or mini-batch run: numpy
# between the updates; see `Trainer.gil_free`) gets snapshots no faster than the GUI can
# draw them in this share of the time: while the GUI thread draws a frame (Python, holding
# the GIL) such a worker all but stops. (Networks used to be such runs: 30 frames a second
# cost a 3 x 100 ReLU ~0.65 of its headless speed; their chunks now release the GIL.)
FRAME_SHARE = 0.12
FRAME_SAMPLE_MAX = 0.03         # a frame that took longer (a slice computed) counts as this
SLOWEST_FRAMES = 0.08           # ... and snapshots still come at least ~12 times a second
MIN_CHUNK_SECONDS = 0.004       # least, when a snapshot is due sooner
PUBLISH_SLACK = 0.005           # a snapshot due this soon goes now
MAX_LAG = 0.5                   # paced: most seconds of updates made up after a stall
IDLE_WAIT = 0.05                # paused: how long to sleep when nothing arrives


@dataclass(frozen=True)
class RunInfo:
    """What the views need when a run starts: its config, its data and its parameters."""

    config: RunConfig
    data: Any                    # core.data.Windowed
    param_names: list[str]
    updates_per_epoch: int
    run_id: int


@dataclass(frozen=True)
class RunEnd:
    """A run that reached its limit or diverged (`run_finished`), or that new settings or
    Reset replaced (`run_left`, with the config that replaced it): its config, final
    snapshot and timeline (`Trainer.timeline()`, taken in the worker thread)."""

    config: RunConfig
    snapshot: Any                # core.snapshot.Snapshot
    data: Any
    timeline: Any = None         # core.timeline.RunTimeline
    replaced_by: RunConfig | None = None


MAX_QUEUED_STEPS = 1000   # step presses queued while the worker was busy
EXPORT_TIMEOUT = 10.0     # seconds the GUI waits for the trainer's state (a session)


class _StateRequest:
    """A request for the trainer's state, answered in the worker thread."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.state: dict[str, Any] | None = None


class TrainingWorker(QObject):
    """Owns the Trainer; lives in a QThread started by `start_worker`."""

    run_started = Signal(object)      # RunInfo
    snapshot_ready = Signal(object)   # Snapshot (a copy; safe to keep)
    run_finished = Signal(object)     # RunEnd
    run_left = Signal(object)         # RunEnd of a run cut short by a new one
    config_applied = Signal(object)   # RunConfig: a live change the trainer now trains with
    playing_changed = Signal(bool)
    error = Signal(str)
    stopped = Signal()

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._box: dict[str, Any] = {"new_run": config}
        self._steps = 0
        self._stop = False
        self._trainer: Any = None
        self._config = config
        self._playing = False
        self._speed: float | None = None
        self._per_update = 1e-3           # running estimate of one update's cost
        self._chunk_time = 0.0            # running sums behind it (weighted by updates, so
        self._chunk_updates = 0.0         # a 1-update chunk's fixed cost does not dominate)
        self._last_publish = 0.0
        self._snap_cost = 0.0             # running estimate of one snapshot's cost
        self._frame_cost = 0.0            # the GUI's, for drawing one (`report_frame`)
        self._paced_from = (0.0, 0)       # (time, update) the current speed counts from
        self._ended_run = -1              # run_id whose end was already announced
        self._running = False             # the thread's loop is running
        self._ident = 0                   # ... in this thread
        self._exports: list[_StateRequest] = []   # waiting for the trainer's state

    # ---- commands (any thread) -------------------------------------------------------
    def _post(self, key: str, value: Any = True) -> None:
        with self._lock:
            self._box[key] = value
        self._wake.set()

    def new_run(self, config: RunConfig) -> None:
        """Start a new run (model, days or data changed); the current one ends."""
        self._replace_run("new_run", config)

    def adopt(self, trainer: Any, config: RunConfig) -> None:
        """Continue a saved run (a session): `trainer` (`Trainer.from_state`, built and
        checked by the caller, never used by it again) replaces the current run, paused;
        `config` is the run's settings as the window knows them (a clicked start)."""
        self._replace_run("adopt", (trainer, config))

    def _replace_run(self, key: str, value: Any) -> None:
        with self._lock:
            for stale in ("apply", "reset", "start", "new_run", "adopt"):
                self._box.pop(stale, None)
            self._box[key] = value
        self._wake.set()

    def export_state(self) -> dict[str, Any] | None:
        """The current run's `Trainer.export_state()` after every command posted before
        (None before the first run, or if the worker does not answer). Taken in the
        worker thread between chunks, so the GUI waits at most a chunk (~25 ms)."""
        request = _StateRequest()
        with self._lock:
            queued = self._running and threading.get_ident() != self._ident
            if queued:
                self._exports.append(request)
        if not queued:   # not running, or asked in its own thread: no one else touches it
            return None if self._trainer is None else self._trainer.export_state()
        self._wake.set()
        request.done.wait(EXPORT_TIMEOUT)
        return request.state

    def apply(self, config: RunConfig) -> None:
        """Live changes (lr, batch size, optimizer, loss, limits) at the next update."""
        self._post("apply", config)

    def play(self) -> None:
        self._post("playing", True)

    def pause(self) -> None:
        self._post("playing", False)

    def step(self) -> None:
        """Exactly one update (pauses first)."""
        with self._lock:
            self._box["playing"] = False
            self._steps += 1
        self._wake.set()

    def reset(self) -> None:
        self._post("reset")

    def set_start(self, w: float, b: float) -> None:
        self._post("start", (float(w), float(b)))

    def set_track(self, a: str, b: str) -> None:
        self._post("track", (a, b))

    def request_moment(self, update: int | None, moments: int = 0) -> None:
        """Send the snapshot of the recorded moment at or before `update`, `moments`
        recorded moments on from it (the scrubber's step back / forward), as
        `Trainer.snapshot_at` makes it (its `replay_of` set), or the live snapshot for
        None or an update at or past the live one. Taken in the worker thread between
        chunks; a newer request replaces one not yet answered."""
        self._post("moment", (update, int(moments)))

    def report_frame(self, seconds: float) -> None:
        """The GUI thread's time for drawing one snapshot (called from the GUI thread; a
        float assignment, no lock needed)."""
        sample = min(max(0.0, float(seconds)), FRAME_SAMPLE_MAX)
        self._frame_cost = 0.7 * self._frame_cost + 0.3 * sample

    def set_speed(self, updates_per_second: float | None) -> None:
        """None = as fast as possible."""
        self._post("speed", updates_per_second)

    def stop(self) -> None:
        self._stop = True
        self._wake.set()

    @property
    def update_count(self) -> int:
        """Updates the current run has really made (read from any thread: one int)."""
        trainer = self._trainer
        return 0 if trainer is None else int(trainer.update)

    @property
    def is_playing(self) -> bool:
        return self._playing

    # ---- the loop (worker thread) ----------------------------------------------------
    @Slot()
    def run(self) -> None:
        """The thread's body: returns only when `stop()` is called."""
        tune_training_thread()
        with self._lock:
            self._running, self._ident = True, threading.get_ident()
        while not self._stop:
            try:
                forced = self._process_commands()
                if self._stop:
                    break
                if self._trainer is None or not self._playing:
                    if forced:
                        self._publish(force=True)
                    self._wake.wait(IDLE_WAIT)
                    self._wake.clear()
                    continue
                self._run_chunk()
                self._publish(force=forced)
            except Exception as exc:  # never let the thread die silently
                self._answer_exports()
                self._playing = False
                self.playing_changed.emit(False)
                self.error.emit(one_line(exc))
        with self._lock:
            self._running = False
        self._answer_exports()   # those queued before the loop ended
        self.stopped.emit()

    def _take(self) -> tuple[dict[str, Any], int]:
        with self._lock:
            box, steps = self._box, self._steps
            self._box, self._steps = {}, 0
        return box, steps

    def _process_commands(self) -> bool:
        """Apply everything in the mailbox; True if a snapshot should go out now."""
        box, steps = self._take()
        forced = False
        if "new_run" in box:
            forced |= self._start_run(box["new_run"])
        if "adopt" in box:
            self._adopt(*box["adopt"])
            forced = True
        if "apply" in box and self._trainer is not None:
            cfg = box["apply"]
            try:
                if self._config.needs_new_run(cfg):
                    forced |= self._start_run(cfg)
                else:
                    self._trainer.apply(cfg)
                    self._config = cfg
                    self.config_applied.emit(cfg)   # before the snapshot that shows it
                    if not self._trainer.done:   # a raised limit: the run goes on
                        self._ended_run = -1
                    forced = True
            except (ConfigError, ValueError) as exc:
                self.error.emit(one_line(exc))
        if "reset" in box and self._trainer is not None:
            forced |= self._start_run(self._config, keep_data=True)
        if "start" in box and self._trainer is not None:
            # A clicked start continues this run from there (its other parameters, its slice
            # and view stay); only a diverged run, whose other parameters are lost, starts over.
            if self._trainer.diverged:
                self._restart_if_finished()
            self._trainer.set_start(*box["start"])
            if start_is_init(self._config):   # Reset returns to the clicked point
                self._config = self._config.replace(init=box["start"])
            self._ended_run = -1
            self._paced_from = (time.perf_counter(), self._trainer.update)
            forced = True
        if "track" in box and self._trainer is not None:
            try:
                self._trainer.track = tuple(box["track"])
                forced = True
            except (KeyError, ValueError) as exc:
                self.error.emit(one_line(exc))
        if "speed" in box:
            self._speed = box["speed"]
            if self._trainer is not None:
                self._paced_from = (time.perf_counter(), self._trainer.update)
        if "playing" in box:
            want = bool(box["playing"])
            if want and self._trainer is not None:
                self._restart_if_finished()
            if want != self._playing:
                self._playing = want
                if self._trainer is not None:
                    self._paced_from = (time.perf_counter(), self._trainer.update)
                self.playing_changed.emit(want)
            forced = True
        if steps and self._trainer is not None:
            self._restart_if_finished()
            # every press counts (three quick presses of S are three updates)
            for _ in range(min(steps, MAX_QUEUED_STEPS)):
                self._trainer.step()
                if self._trainer.done:
                    break
            self._check_end()
            forced = True
        if "moment" in box and self._trainer is not None:
            forced = self._send_moment(*box["moment"]) or forced
        self._answer_exports()
        return forced

    def _send_moment(self, update: int | None, moments: int) -> bool:
        """Answer a scrubber; True when the answer is the live snapshot (to publish)."""
        trainer = self._trainer
        if update is not None and moments:
            update = trainer.moment_step(min(int(update), trainer.update), moments)
        if update is None or update >= trainer.update:
            return True
        self.snapshot_ready.emit(trainer.snapshot_at(int(update)))
        return False

    def _answer_exports(self) -> None:
        with self._lock:
            requests, self._exports = self._exports, []
        for request in requests:
            try:
                request.state = None if self._trainer is None else \
                    self._trainer.export_state()
            finally:
                request.done.set()

    def _leave(self, replaced_by: RunConfig) -> None:
        """Announce the current run as it stands when a new one replaces it, unless it
        never updated or its end was already announced (`run_left`)."""
        old = self._trainer
        if old is None or old.update == 0 or (old.done and self._ended_run == old.run_id):
            return
        self.run_left.emit(RunEnd(self._config, old.snapshot(extras=False), old.data,
                                  old.timeline(), replaced_by))

    def _adopt(self, trainer: Any, config: RunConfig) -> None:
        """A saved run continues here, paused; a finished one is not announced again."""
        self._leave(config)
        self._trainer = trainer
        self._config = config
        self._ended_run = trainer.run_id if trainer.done else -1
        self._paced_from = (time.perf_counter(), trainer.update)
        if self._playing:
            self._playing = False
            self.playing_changed.emit(False)
        self.run_started.emit(RunInfo(config, trainer.data, list(trainer.param_names()),
                                      int(trainer.updates_per_epoch), int(trainer.run_id)))

    def _start_run(self, config: RunConfig, keep_data: bool = False) -> bool:
        """Build a new Trainer here, in the worker thread; the old run stays on failure."""
        from core.engine import Trainer

        data = None
        old = self._trainer
        if old is not None and (keep_data or _same_data(self._config, config)):
            data = old.data
        try:
            trainer = Trainer(config, data)
        except (ConfigError, ValueError, OSError) as exc:  # DataError is a ValueError
            self.error.emit(one_line(exc))
            return False
        self._leave(config)
        self._trainer = trainer
        self._config = config
        self._ended_run = -1
        self._paced_from = (time.perf_counter(), 0)
        self.run_started.emit(RunInfo(config, trainer.data, list(trainer.param_names()),
                                      int(trainer.updates_per_epoch), int(trainer.run_id)))
        return True

    def _restart_if_finished(self) -> None:
        """Play / Step after a run ended: continue if the limit was raised, else start over."""
        if self._trainer is not None and self._trainer.done:
            self._start_run(self._config, keep_data=True)

    def _run_chunk(self) -> None:
        trainer = self._trainer
        seconds, per_update = self._chunk_seconds(), max(self._per_update, 1e-7)
        # A chunk that ends at the next snapshot runs to it, the update that crosses it
        # included (one that stopped short by less than an update ran a one-update chunk
        # more before the snapshot could go, every snapshot), and ends with the history
        # point the snapshot draws (a network's pass over the unseen days, made in the
        # chunk's own compiled call); the chunks between two snapshots make none.
        to_snapshot = seconds >= self._snapshot_due_in()
        n = max(1, math.ceil(seconds / per_update) if to_snapshot
                else int(seconds / per_update))
        if self._speed is not None:
            t0, u0 = self._paced_from
            now = time.perf_counter()
            due = int((now - t0) * self._speed) - (trainer.update - u0)
            if due > 1 + self._speed * MAX_LAG:
                # behind after a stall (a first compile, a busy machine): go on from here
                # at the chosen speed instead of racing through the missed updates
                self._paced_from = (now - 1.0 / self._speed, trainer.update)
                due = 1
            if due <= 0:
                # wait for the next update's turn, but never longer than a frame
                wait = (1.0 - (time.perf_counter() - t0) * self._speed % 1.0) / self._speed
                self._wake.wait(min(max(wait, 0.0), PUBLISH_INTERVAL))
                self._wake.clear()
                return
            if due < n:           # paced: the chunk ends before the snapshot is due
                n, to_snapshot = due, False
        t = time.perf_counter()
        before = trainer.update
        trainer.run(n, end_point=to_snapshot)
        done = trainer.update - before
        if done > 0:
            self._chunk_time = 0.7 * self._chunk_time + 0.3 * (time.perf_counter() - t)
            self._chunk_updates = 0.7 * self._chunk_updates + 0.3 * done
            self._per_update = self._chunk_time / self._chunk_updates
        self._check_end()

    def _chunk_seconds(self) -> float:
        """Work until the next snapshot is due, within [MIN_CHUNK_SECONDS, CHUNK_SECONDS].

        A chunk that runs past the snapshot's time delays it to the next chunk's end.
        """
        return min(CHUNK_SECONDS, max(self._snapshot_due_in(), MIN_CHUNK_SECONDS))

    def _snapshot_due_in(self) -> float:
        """Seconds until the next snapshot may go: ~30 a second at most, within
        SNAPSHOT_SHARE of the worker's time, and for a run that needs the GIL, flat out, no
        faster than the GUI draws them in FRAME_SHARE of its time."""
        interval = max(PUBLISH_INTERVAL, self._snap_cost / SNAPSHOT_SHARE)
        trainer = self._trainer
        if self._speed is None and trainer is not None and not trainer.gil_free:
            interval = max(interval, min(self._frame_cost / FRAME_SHARE, SLOWEST_FRAMES))
        return self._last_publish + interval - time.perf_counter()

    def _check_end(self) -> None:
        """A finished run stops playing; its end is announced once per limit reached."""
        trainer = self._trainer
        if not trainer.done:
            return
        if self._playing:
            self._playing = False
            self.playing_changed.emit(False)
        if self._ended_run == trainer.run_id:
            return
        self._ended_run = trainer.run_id
        snap = trainer.snapshot(extras=True)
        self._last_publish = time.perf_counter()
        self.snapshot_ready.emit(snap)
        self.run_finished.emit(RunEnd(self._config, snap, trainer.data, trainer.timeline()))

    def _publish(self, force: bool = False) -> None:
        """Send a snapshot, at most ~30 a second and at most SNAPSHOT_SHARE of the time.

        A big network's snapshot (predictions on every day, the full-batch gradient) costs
        several updates; publishing it 30 times a second would halve training speed.
        """
        if self._trainer is None:
            return
        now = time.perf_counter()
        # a chunk that ends a little early still publishes (no tiny chunk to fill the gap),
        # but never sooner than PUBLISH_INTERVAL after the last snapshot
        early = now - self._last_publish < PUBLISH_INTERVAL or \
            self._snapshot_due_in() > PUBLISH_SLACK
        if not force and early:
            return
        snap = self._trainer.snapshot(extras=True)
        done = time.perf_counter()
        self._snap_cost = 0.7 * self._snap_cost + 0.3 * (done - now)
        self._last_publish = done
        self.snapshot_ready.emit(snap)


def start_is_init(config: RunConfig) -> bool:
    """For the 1-day linear model a clicked start is exactly its (w0, b0) init."""
    return config.model == "linear" and config.days == 1


def _same_data(a: RunConfig, b: RunConfig) -> bool:
    return (a.dataset, a.column, a.split, a.days) == (b.dataset, b.column, b.split, b.days)




class WorkerHandle:
    """A worker and its thread, started together and stopped together."""

    def __init__(self, config: RunConfig) -> None:
        self.thread = QThread()
        self.thread.setObjectName("fnlab-training")
        self.worker = TrainingWorker(config)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.started = False

    def start(self) -> None:
        self.started = True
        self.thread.start()

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Stop the loop, quit and join the thread; True if it ended in time."""
        self.worker.stop()
        deadline = time.perf_counter() + timeout_ms / 1000.0
        # quit() is repeated: the loop may still be inside its slot, before exec() began
        while True:
            self.thread.quit()
            if self.thread.wait(50) or time.perf_counter() > deadline:
                return not self.thread.isRunning()

    @property
    def running(self) -> bool:
        return self.thread.isRunning()
