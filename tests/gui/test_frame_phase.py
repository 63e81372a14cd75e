"""A snapshot is drawn as it comes in, a frame or more after the last frame began, and
the frame timer's phase moves to it: the worker trains its next chunk (without the GIL)
while the GUI draws, instead of ending a chunk inside a frame drawn at a drifting phase."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint

from gui.main_window import FRAME_EARLY_MS, FRAME_MS
from tests.gui.pixels import grab_rgb


def status_strip(win) -> np.ndarray:
    label = win._status
    top_left = label.mapTo(win, QPoint(0, 0))
    img = grab_rgb(win)
    return img[top_left.y(): top_left.y() + label.height(),
               top_left.x(): top_left.x() + label.width()]


def test_a_stepped_snapshot_is_drawn_without_the_frame_timer(qtbot, open_window):
    win = open_window()
    qtbot.waitUntil(lambda: win._frame is None and win._pending is None, timeout=10_000)
    drawn = []
    win.frame_drawn.connect(lambda snap: drawn.append(snap.update))
    qtbot.wait(2 * FRAME_MS)
    before = status_strip(win)
    win._timer.stop()                      # no tick will draw it
    win.step()
    qtbot.waitUntil(lambda: 1 in drawn, timeout=5_000)
    assert win.status_text.startswith("update 1")
    after = status_strip(win)
    assert (before != after).any(axis=2).sum() > 20     # the status line on screen changed


def test_frames_begin_no_more_often_than_the_frame_timer_allows(qtbot, open_window):
    """Flat out, snapshots drawn as they come still begin at most one frame a FRAME_MS
    (less FRAME_EARLY_MS): the timer's rate, its phase moved."""
    win = open_window()
    began: list[float] = []
    # a frame's start, read when it has been drawn (the next cannot begin before that)
    win.frame_drawn.connect(lambda _snap: began.append(win._frame_started))
    win.play()
    qtbot.wait(1500)
    win.pause()
    assert len(began) > 5
    gaps = np.diff(began) * 1e3
    assert (gaps >= FRAME_MS - FRAME_EARLY_MS - 0.5).all(), gaps
