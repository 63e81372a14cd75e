"""Background jobs of the GUI: a generator run in its own QThread, its items sent back queued.

The training worker's design (gui/worker.py: a QObject moved to a QThread, queued signals
to the GUI thread, stop and join on close) for the app's smaller jobs: a loss slice
(surface view) and the lecture's tables. A job is a plain function `fn(should_stop)`
returning an iterator (the maths stays in core/, testable headless); it checks
`should_stop()` between items and inside long ones. `start(fn)` stops and joins the
previous job first; `stop()` asks the job to stop and joins its thread. Every item carries
its job's token, and a stopped job's token is outdated at once, so a late item of an old
job is recognised and dropped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.config import one_line
from core.runtime import lower_priority, run_when_idle

Job = Callable[[Callable[[], bool]], Iterable[Any]]

# Jobs told to stop that had not ended when their BackgroundJob's `stop()` gave up waiting
# (a slice thread at a lower priority, on a machine whose cores are busy, may take seconds
# to reach its next check). They are taken out of the object tree and kept here until they
# end: a window deleted with their QThread still running aborted the process ("QThread:
# Destroyed while thread is still running"; a fresh clone's suite at load ~7).
_ORPHANS: list[tuple[QThread, _Runner]] = []


class _Runner(QObject):
    """Lives in the job's thread: runs the generator and emits what it yields."""

    item = Signal(int, object)
    failed = Signal(int, str)
    done = Signal(int)

    def __init__(self, fn: Job, token: int, stop: threading.Event, nice: int, idle: bool
                 ) -> None:
        super().__init__()
        self._fn, self._token, self._stop, self._nice = fn, token, stop, nice
        self._idle = idle

    @Slot()
    def run(self) -> None:
        if self._nice:
            lower_priority(self._nice)      # (what stays where the idle class is refused)
        if self._idle:
            run_when_idle()
        try:
            for item in self._fn(self._stop.is_set):
                if self._stop.is_set():
                    break
                self.item.emit(self._token, item)
        except Exception as exc:  # shown by the receiver; never a traceback on screen
            if not self._stop.is_set():
                self.failed.emit(self._token, one_line(exc))
        finally:
            self.done.emit(self._token)
            QThread.currentThread().quit()     # ends the thread's event loop after this slot


class BackgroundJob(QObject):
    """At most one job at a time in its own QThread; `item_ready(token, item)`,
    `failed(token, message)` and `finished(token)` arrive queued on the GUI thread."""

    item_ready = Signal(int, object)
    failed = Signal(int, str)
    finished = Signal(int)

    def __init__(self, name: str, nice: int = 0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name, self._nice = name, nice
        self._token = 0
        self._stop = threading.Event()
        self._thread: QThread | None = None
        self._runner: _Runner | None = None
        self._stragglers: list[tuple[QThread, _Runner]] = []   # never destroyed running

    @property
    def token(self) -> int:
        """Id of the newest job; an item with another token is outdated."""
        return self._token

    def is_running(self) -> bool:
        self._forget_ended()
        return bool(self._stragglers) or (self._thread is not None and self._thread.isRunning())

    def start(self, fn: Job, join: bool = True, idle: bool = False) -> int:
        """Stop any running job, start `fn(should_stop)`; returns the new job's token.
        `idle`: the job runs in the idle class (`core.runtime.run_when_idle`: only on a
        core the GUI and the training threads leave free; Linux), not at this job's nice.

        `join=False`: the job before is told to stop, not waited for (it ends at its next
        check and is joined by `stop()`), for a GUI thread that restarts a job while it
        runs: a live landscape restarted as the run moves on waited ~30 ms a restart for
        the old one's next check on a busy machine (measured, the gui bench's window),
        a frame's time and more."""
        if join:
            self.stop()
        else:
            self._abandon()
        self._token += 1
        stop = self._stop = threading.Event()
        thread = QThread(self)             # a child while it runs: findChildren sees it
        thread.setObjectName(self._name)
        runner = _Runner(fn, self._token, stop, self._nice, idle)
        runner.moveToThread(thread)
        runner.item.connect(self.item_ready)
        runner.failed.connect(self.failed)
        runner.done.connect(self.finished)
        thread.started.connect(runner.run)
        self._thread, self._runner = thread, runner
        thread.start()
        return self._token

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the running job to stop and join its thread, and the threads of jobs left
        to stop (`start(join=False)`); True if all ended in time. Its items still on their
        way are outdated from now on."""
        self._abandon()
        deadline = time.perf_counter() + timeout
        for thread, _runner in self._stragglers:
            # quit() is repeated: the job may still be inside its slot, before exec() began
            while True:
                thread.quit()
                if thread.wait(50) or time.perf_counter() > deadline:
                    break
        self._forget_ended()
        if not self._stragglers:
            return True
        for thread, runner in self._stragglers:      # never destroyed running
            for signal, slot in ((runner.item, self.item_ready),
                                 (runner.failed, self.failed), (runner.done, self.finished)):
                signal.disconnect(slot)
            thread.setParent(None)
            _ORPHANS.append((thread, runner))
        self._stragglers = []
        return False

    def _abandon(self) -> None:
        """Tell the running job to stop and count it among those to join (`stragglers`,
        which `is_running` sees until they end); its items are outdated from now on."""
        self._stop.set()
        thread, runner = self._thread, self._runner
        if thread is None or runner is None:
            return
        self._token += 1
        thread.quit()
        self._thread = self._runner = None
        self._stragglers.append((thread, runner))

    def _forget_ended(self) -> None:
        """Let go of ended jobs' threads (joined: Python's reference frees them), this
        object's and the orphans' (`_ORPHANS`)."""
        reap_orphans()
        ended = [t for t, _r in self._stragglers if t.isFinished()]
        for thread in ended:
            thread.wait()
            thread.setParent(None)
        self._stragglers = [(t, r) for t, r in self._stragglers if not t.isFinished()]


def reap_orphans(timeout: float = 0.0) -> bool:
    """Join the orphaned jobs' threads that have ended (waiting up to `timeout` seconds
    for the rest, as the app quits); True when none is left."""
    deadline = time.perf_counter() + timeout
    for thread, _runner in list(_ORPHANS):
        while not thread.isFinished():
            thread.quit()
            if thread.wait(50) or time.perf_counter() > deadline:
                break
    _ORPHANS[:] = [(t, r) for t, r in _ORPHANS if not t.isFinished()]
    return not _ORPHANS
