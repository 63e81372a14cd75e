"""Offscreen pictures of the window: train a preset for N updates, wait, grab, save.

Used by `fnlab --preset NAME --screenshot FILE.png` to make lecture slides and the README
picture; it waits for the worker to report the last update and for every view to have
drawn it (and finished any background surface slice) before it grabs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from gui.window_api import LabWindow

SIZE = (1600, 1000)
def wait_until(cond: Callable[[], bool], timeout: float) -> bool:
    """Run the event loop until `cond()` holds or `timeout` seconds pass."""
    app = QApplication.instance()
    deadline = time.perf_counter() + timeout
    while not cond():
        if time.perf_counter() > deadline:
            return False
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)
    return True


def views_idle(window: LabWindow) -> bool:
    """True when no view is still computing in the background (e.g. a surface slice)."""
    return not any(v.busy() for v in window.views.values())


def render(window: LabWindow, path: Path, updates: int, timeout: float = 120.0) -> tuple[bool, str]:
    """Train `window`'s run to `updates` updates and save the window to `path`.

    The run must carry `limit_updates=updates` so the worker ends it there; returns
    (ok, message) with a one-line message either way.
    """
    errors: list[str] = []
    ended: list[Any] = []
    drawn: list[Any] = []
    w = window.worker
    w.error.connect(errors.append)
    w.run_finished.connect(ended.append)
    window.frame_drawn.connect(drawn.append)
    window.resize(*SIZE)
    window.show()
    if not wait_until(lambda: window.run_info is not None or bool(errors), timeout):
        return False, "the run did not start in time"
    if errors:
        return False, errors[0]
    window.set_speed(None)   # a picture of N updates: no need to watch them come
    window.play()
    if not wait_until(lambda: bool(ended) or bool(errors), timeout):
        return False, f"training did not reach {updates:,} updates within {timeout:g} s"
    if errors:
        return False, errors[0]
    final = ended[-1].snapshot
    if not wait_until(lambda: any(s is final or (s.update == final.update and s.run_id ==
                                  final.run_id) for s in drawn), 5.0):
        return False, "the views did not draw the final update"
    wait_until(lambda: views_idle(window), min(timeout, 60.0))
    wait_until(lambda: False, 0.3)   # let queued repaints land
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        return False, f"cannot write {path}"
    return True, (f"{path}: {final.update:,} updates, training loss "
                  f"{window.run_info.data.fmt(final.train_loss)}")
