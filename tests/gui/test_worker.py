"""The training worker in its QThread: commands by mailbox, snapshots by queued signals."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QObject, Signal

from core.config import RunConfig
from gui.worker import RunEnd, RunInfo, WorkerHandle

# A Qt warning (timers across threads, a destroyed running QThread) fails the test.
pytestmark = pytest.mark.qt_log_level_fail("WARNING")

LINEAR = RunConfig(dataset="channel", days=1, model="linear", loss="mse", optimizer="gd",
                   lr=0.01, init=(0.2, 1.0))


class Relay(QObject):
    """The worker's signals re-emitted in the GUI thread.

    pytest-qt's blockers stop a timer in their slot; connected straight to a signal from
    the worker thread that slot would run there. Bound methods of a QObject living in the
    GUI thread get queued connections, as the main window's do.
    """

    run_started = Signal(object)
    snapshot_ready = Signal(object)
    run_finished = Signal(object)
    playing_changed = Signal(bool)
    error = Signal(str)

    def __init__(self, worker) -> None:
        super().__init__()
        for name in ("run_started", "snapshot_ready", "run_finished", "playing_changed",
                     "error"):
            getattr(worker, name).connect(getattr(self, f"_{name}"))

    def _run_started(self, v):
        self.run_started.emit(v)

    def _snapshot_ready(self, v):
        self.snapshot_ready.emit(v)

    def _run_finished(self, v):
        self.run_finished.emit(v)

    def _playing_changed(self, v):
        self.playing_changed.emit(v)

    def _error(self, v):
        self.error.emit(v)



class Handle(WorkerHandle):
    def __init__(self, config: RunConfig) -> None:
        super().__init__(config)
        self.signals = Relay(self.worker)


@pytest.fixture
def handle(qtbot):
    handles: list[Handle] = []

    def make(config: RunConfig = LINEAR) -> WorkerHandle:
        h = Handle(config)
        handles.append(h)
        return h

    yield make
    for h in handles:
        assert h.stop(2000)
        assert not h.running


def start(qtbot, h: Handle) -> RunInfo:
    with qtbot.waitSignal(h.signals.run_started, timeout=20000) as blocker:
        h.start()
    return blocker.args[0]


def test_run_starts_in_the_worker_thread_with_data_and_parameter_names(qtbot, handle):
    h = handle()
    info = start(qtbot, h)
    assert info.config == LINEAR
    assert info.param_names[:2] == ["w1", "b"] or set(info.param_names) >= {"b"}
    assert len(info.data.y_train) > 1000
    assert h.worker.thread() is h.thread


def test_step_advances_exactly_one_update(qtbot, handle):
    h = handle()
    start(qtbot, h)
    for expected in (1, 2, 3):
        with qtbot.waitSignal(h.signals.snapshot_ready, timeout=5000,
                              check_params_cb=lambda s, e=expected: s.update == e):
            h.worker.step()
    assert not h.worker.is_playing


def test_play_then_pause_stops_the_update_count(qtbot, handle):
    h = handle()
    start(qtbot, h)
    snaps = []
    h.signals.snapshot_ready.connect(snaps.append)
    h.worker.play()
    qtbot.waitUntil(lambda: bool(snaps) and snaps[-1].update >= 200, timeout=10000)
    with qtbot.waitSignal(h.signals.playing_changed, timeout=2000):
        h.worker.pause()
    qtbot.wait(100)
    frozen = snaps[-1].update
    qtbot.wait(150)
    assert snaps[-1].update == frozen
    assert snaps[-1].train_loss < snaps[0].train_loss


def test_run_finishes_at_its_update_limit(qtbot, handle):
    h = handle(LINEAR.replace(limit_updates=25))
    start(qtbot, h)
    with qtbot.waitSignal(h.signals.run_finished, timeout=10000) as blocker:
        h.worker.play()
    end = blocker.args[0]
    assert isinstance(end, RunEnd)
    assert end.snapshot.update == 25
    assert end.snapshot.done and not end.snapshot.diverged


def test_raising_the_limit_lets_a_finished_run_go_on(qtbot, handle):
    h = handle(LINEAR.replace(limit_updates=10))
    start(qtbot, h)
    with qtbot.waitSignal(h.signals.run_finished, timeout=10000):
        h.worker.play()
    h.worker.apply(LINEAR.replace(limit_updates=30))
    with qtbot.waitSignal(h.signals.run_finished, timeout=10000) as blocker:
        h.worker.play()
    assert blocker.args[0].snapshot.update == 30
    assert not h.worker.is_playing


def test_live_learning_rate_change_keeps_the_update_count(qtbot, handle):
    h = handle()
    start(qtbot, h)
    for e in (1, 2):
        with qtbot.waitSignal(h.signals.snapshot_ready, timeout=5000,
                              check_params_cb=lambda s, e=e: s.update == e):
            h.worker.step()
    with qtbot.waitSignal(h.signals.snapshot_ready, timeout=5000,
                          check_params_cb=lambda s: s.lr == 0.002) as blocker:
        h.worker.apply(LINEAR.replace(lr=0.002))
    snap = blocker.args[0]
    assert snap.update == 2
    np.testing.assert_allclose(snap.step["w"], -0.002 * snap.grad["w"], rtol=1e-6)


def test_bad_data_is_reported_and_the_current_run_is_untouched(qtbot, handle):
    h = handle()
    info = start(qtbot, h)
    with qtbot.waitSignal(h.signals.error, timeout=10000) as blocker:
        h.worker.new_run(LINEAR.replace(dataset="/nonexistent/views.csv"))
    assert "views.csv" in blocker.args[0]
    with qtbot.waitSignal(h.signals.snapshot_ready, timeout=5000) as snap:
        h.worker.step()
    assert snap.args[0].run_id == info.run_id


def test_divergence_ends_the_run_and_play_starts_again(qtbot, handle):
    h = handle(LINEAR.replace(lr=1e5))
    start(qtbot, h)
    with qtbot.waitSignal(h.signals.run_finished, timeout=10000) as blocker:
        h.worker.play()
    assert blocker.args[0].snapshot.diverged
    h.worker.apply(LINEAR.replace(lr=0.01))
    with qtbot.waitSignal(h.signals.snapshot_ready, timeout=5000,
                          check_params_cb=lambda s: s.update >= 20 and not s.diverged):
        h.worker.play()


def test_stop_joins_the_thread_while_playing(qtbot, handle):
    h = handle()
    start(qtbot, h)
    h.worker.play()
    qtbot.wait(100)
    assert h.stop(1000)
    assert not h.running
