"""Background computation of a 2-D loss slice (`core.slices.iter_slice`, or a network's
loss landscape) for the surface view.

A slice of a network's loss costs up to one forward pass per grid point, too slow for the
GUI thread, so it runs as a `gui.background.BackgroundJob` at a lower CPU priority: the
coarse preview first (the panel is never blank for long), then the full grid. `stop()`
cancels and joins; a new `start()` cancels the previous request, and every result carries
the token of its request so a late grid of an old request is recognised and dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, Signal

from core import slices
from gui.background import BackgroundJob

SLICE_NICE = 10   # the slice thread yields the CPU to the GUI and the training threads


class SliceWorker(QObject):
    """Runs `core.slices.iter_slice` in the background; `grid_ready(token, Slice)` and
    `failed(token, message)` arrive queued on the GUI thread."""

    grid_ready = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = BackgroundJob("fnlab-slice", nice=SLICE_NICE, parent=self)
        self._closed = False
        self._job.item_ready.connect(self.grid_ready)
        self._job.failed.connect(lambda token, text: self.failed.emit(
            token, f"slice failed: {text}"))

    @property
    def token(self) -> int:
        """Id of the newest request; a grid with another token is outdated."""
        return self._job.token

    def is_running(self) -> bool:
        return self._job.is_running()

    def start(self, compute: Callable[..., Iterator[Any]] | None = None, **kwargs: Any) -> int:
        """Cancel any running slice, start `compute(should_stop=..., **kwargs)` (by default
        `core.slices.iter_slice`), emitting each piece it yields; returns the request token."""
        if self._closed:
            return self._job.token
        pieces = compute or slices.iter_slice
        # the request before stops at its next check, without the GUI thread waiting
        return self._job.start(lambda stop: pieces(should_stop=stop, **kwargs), join=False)

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the running computation to stop and join it; True if it ended in time."""
        return self._job.stop(timeout)

    def close(self, timeout: float = 2.0) -> bool:
        """`stop`, and start nothing from now on: its view is shut down with its window,
        and a signal still queued for the window (the run pausing as its worker stops)
        started a slice in a window about to be deleted, whose running thread then
        aborted the process."""
        self._closed = True
        return self.stop(timeout)
