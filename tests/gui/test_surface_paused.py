"""A paused network's error surface is sliced at the parameters it shows.

While a run trains, the slice is redone only when the run has moved far from it, so a
3 x 100 ReLU paused at update 431 showed the slice of update 363 (seen under Xvfb): the
picture a lecturer talks over described an earlier moment.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.config import RunConfig
from core.engine import Trainer
from gui.theme import DARK, PROJECTOR
from gui.views.surface_view import SurfaceView
from tests.gui.pixels import grab_rgb, shown_view

NET = RunConfig(model="relu", units=8, layers=1, days=1, optimizer="adam", lr=0.01, seed=3)


def watch(view: SurfaceView) -> list[tuple[int, int]]:
    """(token, grid width) of every slice piece the view's worker delivers, received after
    the view's own slot has drawn it."""
    seen: list[tuple[int, int]] = []
    view._worker.grid_ready.connect(lambda token, piece: seen.append((token, len(piece.a1))))
    return seen


def sliced(qtbot, view: SurfaceView, seen: list[tuple[int, int]], update: int) -> np.ndarray:
    """Wait for the full grid (41 x 41 for a network) of the slice made at `update`, drawn
    and laid out (the colour bar's axis widens for its labels a layout pass later): the
    plot's grab once two grabs 50 ms apart agree."""
    qtbot.waitUntil(lambda: view._slice_update == update and bool(seen)
                    and seen[-1] == (view._worker.token, 41), timeout=20_000)
    return settled(qtbot, view)


def settled(qtbot, view: SurfaceView) -> np.ndarray:
    last = grab_rgb(view._plot)
    for _ in range(100):
        qtbot.wait(50)
        now = grab_rgb(view._plot)
        if now.shape == last.shape and (now == last).all():
            return now
        last = now
    raise AssertionError("the surface kept changing for 5 s")


def sliced_at_300(qtbot) -> tuple[Trainer, SurfaceView]:
    """A trainer 300 updates on, and a dark view showing it, its slice there drawn."""
    trainer = Trainer(NET)
    trainer.run(300)
    view = SurfaceView(DARK)
    seen = watch(view)
    shown_view(qtbot, view, trainer)
    sliced(qtbot, view, seen, 300)
    return trainer, view


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=lambda t: t.name)
def test_a_paused_run_is_sliced_where_it_stands(qtbot, theme):
    trainer = Trainer(NET)
    trainer.run(300)
    # two views with the same history, their b axes one width (an axis only widens for
    # the labels it has drawn, which frames drawn while a slice came in decide)
    view, fresh = SurfaceView(theme), SurfaceView(theme)
    for v in (view, fresh):
        v._plot.getPlotItem().getAxis("left").setWidth(70)
    seen, fresh_seen = watch(view), watch(fresh)
    for v, s in ((view, seen), (fresh, fresh_seen)):
        shown_view(qtbot, v, trainer)
        sliced(qtbot, v, s, 300)
    trainer.run(15)
    moved = trainer.snapshot()
    for v in (view, fresh):
        for _ in range(2 * 15):           # a second of frames: rechecked, not moved far
            v.show_snapshot(moved)
    qtbot.wait(100)
    assert view._slice_update == 300      # while playing the old slice stays
    stale = settled(qtbot, view)

    fresh.refresh_slice()                 # the Refresh button: the slice of update 315
    want = sliced(qtbot, fresh, fresh_seen, moved.update)
    assert (stale != want).any(axis=2).sum() > 1000     # 15 updates moved its contours

    view.set_paused(True)                 # what the window does when its run pauses
    got = sliced(qtbot, view, seen, moved.update)
    assert got.shape == want.shape
    assert (got != want).any(axis=2).sum() == 0
    view.shutdown()
    fresh.shutdown()


def test_a_replayed_moment_while_paused_keeps_the_slice(qtbot):
    """Scrubbing a paused run's timeline does not redo the slice at every moment."""
    trainer, view = sliced_at_300(qtbot)
    view.set_paused(True)
    moment = trainer.snapshot_at(290)
    assert moment.replay_of is not None
    view.show_snapshot(moment)
    qtbot.wait(100)
    assert view._slice_update == 300 and not view.busy()
    assert np.isfinite(moment.train_loss)
    view.shutdown()


def test_pausing_the_window_slices_its_surface_at_the_paused_update(qtbot, open_window):
    """The window tells its surface when the run pauses: the slice (and the note that says
    which update it cuts through) is the paused update's, and Refresh draws nothing new."""
    win = open_window(config=NET, theme="projector", size=(1280, 720))
    view = win.surface_view
    seen = watch(view)
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.update >= 400,
                    timeout=30_000)
    win.pause()
    qtbot.waitUntil(lambda: not win.playing, timeout=5_000)
    qtbot.waitUntil(lambda: view._slice_update == win.latest.update, timeout=20_000)
    paused = sliced(qtbot, view, seen, win.latest.update)
    assert f"update {win.latest.update:,}" in view._note.text()
    view.refresh_slice()
    again = sliced(qtbot, view, seen, win.latest.update)
    assert (paused != again).any(axis=2).sum() == 0


def test_a_shut_down_surface_starts_no_slice(qtbot):
    """A window's last queued signals (its run pausing as the worker stops) reach its
    views after they were shut down: a slice started then ran on in a window about to be
    deleted ("QThread: Destroyed while thread 'fnlab-slice' is still running", abort)."""
    from PySide6.QtCore import QThread

    trainer, view = sliced_at_300(qtbot)
    trainer.run(15)
    view.show_snapshot(trainer.snapshot())
    view.shutdown()
    view.set_paused(True)              # as the window's queued playing_changed(False)
    view.refresh_slice()
    assert not view.busy()
    assert not [t for t in view.findChildren(QThread) if t.isRunning()]
