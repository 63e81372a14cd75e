"""Background computation of a 2-D loss slice (`core.slices.iter_slice`, or a network's
loss landscape) for the surface view.

A slice of a network's loss costs up to one forward pass per grid point, too slow for the
GUI thread, so it runs as a `gui.background.BackgroundJob` at a lower CPU priority: the
coarse preview first (the panel is never blank for long), then the full grid. `stop()`
cancels and joins; a new `start()` cancels the previous request, and every result carries
the token of its request so a late grid of an old request is recognised and dropped.

A request for a picture already on screen (a slice or landscape recomputed as the run
moves on) runs in the idle class (`core.runtime.run_when_idle`): at nice 10 it cost the
GUI thread ~1.5 ms a frame waiting for a core (below). The first picture after `stop()`
(a new run, kind or pick: the class waits for it) runs at SLICE_NICE, and so does a
request whose idle-class job has brought nothing for STARVED_S (cores busy with other
programs give that class next to nothing): it starts again at SLICE_NICE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from core import slices
from gui.background import BackgroundJob

SLICE_NICE = 10   # the slice thread yields the CPU to the GUI and the training threads
STARVED_S = 1.5   # an idle-class request with no grid for this long starts at SLICE_NICE


class SliceWorker(QObject):
    """Runs `core.slices.iter_slice` in the background; `grid_ready(token, Slice)` and
    `failed(token, message)` arrive queued on the GUI thread."""

    grid_ready = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = BackgroundJob("fnlab-slice", nice=SLICE_NICE, parent=self)
        self._closed = False
        self._shown = False          # a grid of a request since the last stop()
        self._request: Callable[[Callable[[], bool]], Iterator[Any]] | None = None
        # Started by the first idle-class request after a grid, stopped by the next grid:
        # fires when idle-class requests have brought nothing for STARVED_S.
        self._starving = QTimer(self)
        self._starving.setSingleShot(True)
        self._starving.setInterval(round(STARVED_S * 1000))
        self._starving.timeout.connect(self._restart_at_nice)
        self._starved = False        # requests run at SLICE_NICE until the next grid
        self._ended_token = -1       # the newest request whose end reached this thread
        self._job.item_ready.connect(self._fed)
        self._job.item_ready.connect(self.grid_ready)
        self._job.finished.connect(self._ended)
        self._job.failed.connect(lambda token, text: self.failed.emit(
            token, f"slice failed: {text}"))

    @property
    def token(self) -> int:
        """Id of the newest request; a grid with another token is outdated."""
        return self._job.token

    def is_running(self) -> bool:
        return self._job.is_running()

    @property
    def idle(self) -> bool:
        """Whether the running request (or the next) runs in the idle class (the module's
        docstring)."""
        return self._shown and not self._starved

    def start(self, compute: Callable[..., Iterator[Any]] | None = None, **kwargs: Any) -> int:
        """Cancel any running slice, start `compute(should_stop=..., **kwargs)` (by default
        `core.slices.iter_slice`), emitting each piece it yields; returns the request token."""
        if self._closed:
            return self._job.token
        pieces = compute or slices.iter_slice
        self._request = lambda stop: pieces(should_stop=stop, **kwargs)
        idle = self.idle
        if idle and not self._starving.isActive():
            self._starving.start()
        # the request before stops at its next check, without the GUI thread waiting
        return self._job.start(self._request, join=False, idle=idle)

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the running computation to stop and join it; True if it ended in time.
        The next request is the first of a new picture (at SLICE_NICE)."""
        self._starving.stop()
        self._shown = self._starved = False
        return self._job.stop(timeout)

    def _fed(self, token: int, _piece: object) -> None:
        if token == self._job.token:
            self._shown, self._starved = True, False
            self._starving.stop()

    def delivered(self) -> bool:
        """Whether the newest request has ended and all it computed reached the GUI thread
        (its end arrives queued after its grids). Between the thread's end and then,
        `is_running()` is already False: a request started in that gap outdated the last
        grid still queued, and a finished landscape was dropped unseen."""
        return not self._job.is_running() and self._ended_token == self._job.token

    def _ended(self, token: int) -> None:
        self._ended_token = token
        if token == self._job.token:      # (a failed request: it is not starving)
            self._starving.stop()

    def _restart_at_nice(self) -> None:
        """Idle-class requests brought nothing for STARVED_S: the newest starts again at
        SLICE_NICE (as do the next ones, until a grid comes)."""
        self._starved = True
        if not self._closed and self._request is not None and self._job.is_running():
            self._job.start(self._request, join=False)

    def close(self, timeout: float = 2.0) -> bool:
        """`stop`, and start nothing from now on: its view is shut down with its window,
        and a signal still queued for the window (the run pausing as its worker stops)
        started a slice in a window about to be deleted, whose running thread then
        aborted the process."""
        self._closed = True
        return self.stop(timeout)
