"""Background computation of a 2-D loss slice (`core.slices.iter_slice`) for the surface view.

A slice of a network's loss costs up to one forward pass per grid point, too slow for the GUI
thread, so it runs in a daemon thread: the coarse preview first (the panel is never blank
for long), then the full grid. `stop()` cancels and joins; a new `start()` cancels the
previous request, and every result carries the token of its request so a late grid of an
old request is recognised and dropped.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from core import slices

SLICE_NICE = 10   # the slice thread yields the CPU to the GUI and the training threads


def lower_priority(nice: int = SLICE_NICE) -> bool:
    """Lower the calling thread's CPU priority (Linux: a thread has its own nice value).

    On two cores the GUI thread, the training thread and a slice computation are three
    busy threads; at equal priority a slice (hundreds of ms for a deep network) delays
    frames. True if the priority was lowered."""
    if not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), nice))
    except OSError:
        return False
    return True


class SliceWorker(QObject):
    """Runs `core.slices.iter_slice` in a thread; `grid_ready(token, Slice)` arrives queued
    on the GUI thread (the signal is emitted from the worker thread)."""

    grid_ready = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._token = 0

    @property
    def token(self) -> int:
        """Id of the newest request; a grid with another token is outdated."""
        return self._token

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, **kwargs: Any) -> int:
        """Cancel any running slice, start `iter_slice(**kwargs)`; returns the request token."""
        self.stop()
        self._token += 1
        stop = self._stop = threading.Event()
        token = self._token

        def run() -> None:
            lower_priority()
            try:
                for piece in slices.iter_slice(should_stop=stop.is_set, **kwargs):
                    if stop.is_set():
                        return
                    self.grid_ready.emit(token, piece)
            except Exception as exc:  # shown in the panel; never a traceback on screen
                if not stop.is_set():
                    self.failed.emit(token, f"slice failed: {exc}")

        self._thread = threading.Thread(target=run, name="fnlab-slice", daemon=True)
        self._thread.start()
        return token

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the running computation to stop and join it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive():  # keep a straggler visible to is_running()
                self._thread = None
