"""Replaying the window's run: what reaches the screen at a recorded moment is what a run
that trained exactly that many updates shows."""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from core.config import RunConfig
from tests.gui.pixels import colour_mask, grab_rgb, on_screen

K, N = 2, 300     # at update 2 gradient descent is still far from where it ends


def _config(updates: int) -> RunConfig:
    return RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                     lr=0.05, init=(0.0, 0.0), limit_updates=updates)


def _trained(open_window: Any, qtbot: Any, updates: int, **kw: Any) -> Any:
    win = open_window(_config(updates), **kw)
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.done, timeout=30000)
    qtbot.waitUntil(lambda: f"update {updates:,} " in win.status_text, timeout=5000)
    return win


def _settled(qtbot: Any, win: Any) -> None:
    """Wait until what a view does on its own time after a frame is done: the legends
    placed (`LEGEND_WAIT_MS` after the data last changed), background work finished. (A
    fixed 100 ms wait, shorter than the legends' 250, grabbed before either window's
    legends were placed on a quiet machine and after one's on a loaded one: 9 % of the
    fit view's pixels differed, its y range grown for the legend in one window only.)"""
    qtbot.waitUntil(lambda: not any(v.busy() or v._legend_timer.isActive()
                                    for v in win.views.values()), timeout=10000)
    qtbot.wait(50)


def _loss(status: str) -> str:
    return re.search(r"training loss L = (\S+)", status).group(1)


def _explanation_rect(win: Any) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) in the surface view's grab of the replayed update's
    numbers, written under the plot in the note's place (None when not shown)."""
    surface = win.surface_view
    label = surface._explain
    if not label.isVisible():
        return None
    top_left = label.mapTo(surface, label.rect().topLeft())
    return (top_left.y(), top_left.y() + label.height(), top_left.x(),
            top_left.x() + label.width())


def _views(win: Any, blank: tuple[int, int, int, int] | None = None
           ) -> dict[str, np.ndarray]:
    """The three views; `blank` (a replay's numbers under the surface, where a live run
    shows its note) blacked out of the surface's grab. Legends are left out of the grab:
    each takes the corner its plot's data leave freest a moment after they last changed
    (and stays unless another is clearly freer), so where it sits tells of the views'
    history, not of the moment shown (a full suite's timing put the fit view's legend
    in another corner in one window than in the other: 1.6 % of its pixels)."""
    legends = [p.getPlotItem().legend for k in ("surface", "fit", "series")
               for p in win.views[k].findChildren(pg.PlotWidget)]
    shown = [lg for lg in legends if lg is not None and lg.isVisible()]
    for lg in shown:
        lg.hide()
    out = {k: grab_rgb(win.views[k]) for k in ("surface", "fit", "series")}
    for lg in shown:
        lg.show()
    if blank is not None:
        top, bottom, left, right = blank
        out["surface"][max(top, 0):bottom, max(left, 0):right] = 0
    return out


def _differ(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels that differ visibly."""
    return float((np.abs(a.astype(int) - b.astype(int)).max(axis=2) > 40).mean())


# What marks the moment in each view: the surface's dot, the fitted line, the estimate.
_MARK = {"surface": lambda t: t.current, "fit": lambda t: t.real,
         "series": lambda t: t.estimate}


def _centre(image: np.ndarray, colour: str) -> np.ndarray:
    """(row, column) centre of the pixels of `colour`."""
    mask = colour_mask(image, colour, tol=30)
    assert mask.sum() > 20, colour
    return np.argwhere(mask).mean(axis=0)


def test_a_scrubbed_moment_looks_like_a_run_that_trained_exactly_that_long(open_window,
                                                                         qtbot):
    win = _trained(open_window, qtbot, N)
    _settled(qtbot, win)
    end = _views(win)
    win.replay.replay_to(K)
    qtbot.waitUntil(lambda: f"replaying update {K} of {N}" in win.status_text,
                    timeout=5000)
    _settled(qtbot, win)
    blank = _explanation_rect(win)
    replayed, status = _views(win, blank), win.status_text
    marker = colour_mask(grab_rgb(win.views["loss"]), win.theme.current, tol=20).sum()
    short = _trained(open_window, qtbot, K)
    _settled(qtbot, short)
    live = _views(short, blank)
    assert _loss(status) == _loss(short.status_text)
    for key, image in live.items():
        assert image.shape == replayed[key].shape, key
        assert _differ(image, replayed[key]) < 0.002, key
        # the dot, the fitted line and the estimate are where the short run has them, not
        # where the run ended
        colour = _MARK[key](win.theme)
        here = _centre(image, colour)
        assert np.hypot(*(here - _centre(replayed[key], colour))) <= 1.5, key
        assert np.hypot(*(here - _centre(end[key], colour))) > 4, key
    # the loss curves show the whole run, a line marking the moment
    assert marker > 50
    win.replay.leave()
    qtbot.waitUntil(lambda: f"update {N:,} " in win.status_text, timeout=5000)
    qtbot.wait(100)
    assert colour_mask(grab_rgb(win.views["loss"]), win.theme.current, tol=20).sum() < marker / 5


def test_keys_step_back_and_forward_and_play_trains_on_from_the_live_state(open_window,
                                                                           qtbot):
    win = _trained(open_window, qtbot, 40)
    QTest.keyClick(win, Qt.Key.Key_Comma)
    qtbot.waitUntil(lambda: "replaying update 39 of 40" in win.status_text, timeout=5000)
    QTest.keyClick(win, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: "replaying update 38 of 40" in win.status_text, timeout=5000)
    assert "replaying 38 of 40" in win.replay.bar.position.text()
    QTest.keyClick(win, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: "replaying update 39 of 40" in win.status_text, timeout=5000)
    QTest.keyClick(win, Qt.Key.Key_Period)      # the newest update: the live run again
    qtbot.waitUntil(lambda: win.status_text.startswith("update 40 "), timeout=5000)
    win.replay.replay_to(10)
    qtbot.waitUntil(lambda: "replaying update 10 of 40" in win.status_text, timeout=5000)
    win.set_config(_config(60))          # a higher limit: the run may go on
    win.play()
    qtbot.waitUntil(lambda: win.latest.update == 60 and win.latest.done, timeout=20000)
    qtbot.waitUntil(lambda: win.status_text.startswith("update 60 "), timeout=5000)
    # it went on from 40, not from the replayed 10: one run, its history unbroken
    assert win.latest.hist_update[-1] == 60 and 40 in win.latest.hist_update.tolist()
    assert not win.replay.active


@pytest.mark.parametrize("factor,frames,last", [(0.25, 7, 7), (1.0, 30, 30),
                                               (10.0, 29, 290)])
def test_playback_draws_a_frame_for_each_new_moment_at_its_rate(open_window, qtbot,
                                                                factor, frames, last):
    """Played back at 30 updates a second times `factor` for one second of frames (the
    test moves the clock), each frame asks for the moment it reached: 0.25x shows updates
    1..7, 1x 1..30, 10x every 10th until the live end (update 300) ends the replay."""
    win = _trained(open_window, qtbot, N)
    win.set_speed(30)
    win.replay.tick = lambda: None       # the test moves the playback's clock
    win.replay.bar.set_replay_factor(factor)
    drawn: list[int] = []
    win.frame_drawn.connect(lambda s: drawn.append(s.update if s.replay_of else -1))
    win.replay.replay_to(0)
    qtbot.waitUntil(lambda: bool(drawn) and drawn[-1] == 0, timeout=5000)
    win.replay.toggle_playback()
    qtbot.waitUntil(lambda: len(drawn) >= 2, timeout=5000)   # update 0 again, asked anew
    first = len(drawn)
    for _ in range(30):
        win.replay.advance(1 / 30)
        want = int(win.replay._replay) if win.replay.active else -1
        qtbot.waitUntil(lambda w=want: bool(drawn) and drawn[-1] == w, timeout=5000)
    moments = [u for u in drawn[first:] if u >= 0]
    assert len(moments) == frames
    assert moments == sorted(set(moments))
    assert moments[-1] == last
    if factor == 10.0:
        assert drawn[-1] == -1 and win.status_text.startswith(f"update {N} ")


def test_scrubbing_a_run_in_training_pauses_it_at_the_moment_shown(open_window, qtbot):
    win = open_window(_config(100_000), speed=200)
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.update >= 20, timeout=20000)
    win.replay.replay_to(5)
    qtbot.waitUntil(lambda: not win.playing, timeout=5000)
    qtbot.waitUntil(lambda: "replaying update 5 of " in win.status_text, timeout=5000)
    end = win.latest.update
    qtbot.wait(300)              # paused: the run stays where it was, the views at 5
    assert win.latest.update == end and "replaying update 5 of " in win.status_text


def test_a_replayed_moment_shows_its_update_explained_on_the_surface(open_window, qtbot):
    """Scrubbed back to k, the surface draws −η∇L (and momentum's part) from the point
    the run had at k, and the line under it gives ∂L/∂w, ∂L/∂b, η and the step, the
    exact gradient at the timeline's (w, b) at k."""
    from core.surface import linear_gradient

    cfg = _config(120).replace(optimizer="momentum", lr=0.02)
    win = open_window(cfg)
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.done, timeout=30000)
    surface = win.surface_view
    plot = surface._plot
    win.replay.replay_to(5)
    qtbot.waitUntil(lambda: "replaying update 5 of 120" in win.status_text, timeout=5000)
    qtbot.waitUntil(lambda: "(replay)" in surface.explanation_text, timeout=5000)
    run = win.views["gallery"].gallery.runs[-1]     # the run's timeline, as kept
    i = run.path_updates.tolist().index(5)
    w, b = (float(v) for v in run.path[i])
    gw, gb = linear_gradient(win.run_info.data.x_train[:, 0], win.run_info.data.y_train, w,
                             b, "mae")
    note = surface.explanation_text
    for number in ("Update 5 → 6", f"∂L/∂w = {gw:+.3g}", f"∂L/∂b = {gb:+.3g}", "η = 0.02",
                   f"−η∇L ({-0.02 * gw:+.3g}, {-0.02 * gb:+.3g}) + momentum part ("):
        assert number in note, number
    w6, b6 = (float(v) for v in run.path[run.path_updates.tolist().index(6)])
    assert f"= step taken ({w6 - w:+.3g}, {b6 - b:+.3g})" in note
    # −η∇L's arrow starts at the point the run had at update 5 (before this feature a
    # replayed moment showed no arrow at all)
    qtbot.wait(100)
    img = grab_rgb(plot)
    vb = plot.getViewBox()
    pos = plot.mapFromScene(vb.mapViewToScene(QPointF(w, b)))
    y, x = round(pos.y()), round(pos.x())
    near = img[max(y - 40, 0):y + 40, max(x - 40, 0):x + 40]
    assert colour_mask(near, win.theme.arrow, tol=20).sum() > 10
    win.replay.leave()
    qtbot.waitUntil(lambda: surface.explanation_text == "", timeout=5000)
    assert colour_mask(grab_rgb(plot)[max(y - 20, 0):y + 20, max(x - 20, 0):x + 20],
                       win.theme.arrow, tol=20).sum() == 0    # live: only the newest step


def test_a_networks_scrubbed_moments_reach_the_screen_whole_as_a_paused_run_shows_them(
        open_window, qtbot):
    """A one-day 1,000-unit ReLU network scrubbed from moment to moment (the replay
    bench's case): its first 30 unit curves are one item (`CurveSet`), the fitted
    function's plot is repainted in one rectangle (`one_rect_updates`), and the legend's
    room is found from the range before it and set once (some of these moments need it,
    some not). After each replayed frame, what the repaints left on screen (the window's
    backing store) is what a fresh paint of the plot (widget.grab()) shows; a moment
    scrubbed to again after others looks as it did the first time; and each looks as a
    fresh view shows the same moment of a paused run (legends left out: a legend's
    corner tells of its view's history)."""
    from dataclasses import replace

    from gui.main_window import flush_paint
    from gui.views.fit_view import FitView

    cfg = RunConfig(dataset="channel", days=1, model="relu", units=1000, loss="mae",
                    limit_updates=160)
    win = open_window(cfg, size=(1600, 1000))
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.done, timeout=60000)
    fit = win.views["fit"]
    plot = fit._plots[0]
    drawn: list[Any] = []
    win.frame_drawn.connect(lambda s: drawn.append(s))

    def without_legend(view: Any) -> np.ndarray:
        legend = view._plots[0].getPlotItem().legend
        shown = legend.isVisible()
        legend.hide()
        image = grab_rgb(view._plots[0])
        legend.setVisible(shown)
        return image

    pictures: dict[int, list[np.ndarray]] = {}
    snaps: dict[int, Any] = {}
    for k in (1, 11, 28, 40, 66, 100, 137, 11, 66, 1, 28):
        drawn.clear()
        win.replay.replay_to(k)
        qtbot.waitUntil(lambda: bool(drawn) and drawn[-1].replay_of is not None,
                        timeout=5000)
        _settled(qtbot, win)
        moment = drawn[-1].update
        shown, fresh = on_screen(win, plot.viewport()), grab_rgb(plot.viewport())
        assert np.array_equal(shown, fresh), (
            f"moment {moment}: on screen {int((shown != fresh).any(axis=2).sum())} px "
            "differ from a fresh paint")
        snaps[moment] = drawn[-1]
        pictures.setdefault(moment, []).append(without_legend(fit))
    assert len(pictures) >= 5    # (the recorded moments at or before 1, 11, ..., 137)
    firsts = [p[0] for p in pictures.values()]
    # each moment its own picture (its curve moved: ~3,000 px and more; its room: ~10 %)
    assert all(int((a != b).any(axis=2).sum()) > 500 for a, b in itertools.pairwise(firsts))
    for moment, (first, *again) in pictures.items():
        for later in again:
            assert np.array_equal(first, later), (
                f"moment {moment} again: {int((first != later).any(axis=2).sum())} px "
                "differ from its first picture")
    info = win.run_info
    paused = FitView(win.theme)
    qtbot.addWidget(paused)
    paused.resize(fit.size())
    paused.show()
    qtbot.waitExposed(paused)
    paused.set_run(info.config, info.data, info.param_names, info.run_id)
    paused.set_paused(True)
    for moment, snap in snaps.items():
        paused.show_snapshot(replace(snap, replay_of=None, done=False))
        flush_paint()
        qtbot.waitUntil(lambda: not paused._legend_timer.isActive(), timeout=5000)
        flush_paint()
        mine, replayed = without_legend(paused), pictures[moment][0]
        assert mine.shape == replayed.shape
        assert np.array_equal(mine, replayed), (
            f"moment {moment}: {int((mine != replayed).any(axis=2).sum())} px of the "
            "replayed picture differ from a paused run's")
    paused.shutdown()
