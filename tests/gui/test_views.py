# Over 450 lines: one subject, the five views, sharing their open and shutdown helpers.
"""The five views, fed by real training runs: each shows real content, ignores stale runs,
and the surface answers clicks; the slice worker stops when asked; the table exports."""

from __future__ import annotations

import csv
import dataclasses
import re

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QThread
from PySide6.QtGui import QGuiApplication

from core import results
from core.config import RunConfig
from gui.theme import DARK, PROJECTOR, THEMES, apply_pyqtgraph, stylesheet
from gui.views.base import View
from gui.views.fit_view import MAX_PIECES, FitView
from gui.views.loss_view import LossView
from gui.views.series_view import SeriesView
from gui.views.slice_worker import SliceWorker
from gui.views.surface_view import SurfaceView
from gui.views.table_view import (
    COLUMNS,
    LossTableView,
    export_csv,
    export_markdown,
    lecture_reference,
)

ALL_VIEWS = (SurfaceView, FitView, SeriesView, LossView, LossTableView)


def _open(qtbot, cls, trainer, theme=DARK, size=(800, 560)) -> View:
    view = cls(theme)
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    view.set_run(trainer.config, trainer.data, trainer.param_names())
    return view


def _shutdown(view: View) -> None:
    view.shutdown()


# ---------------------------------------------------------------- error surface


def test_surface_of_one_day_model_shows_heat_map_minimum_path_and_step(qtbot, trained):
    trainer = trained(40, lr=0.05)
    view = _open(qtbot, SurfaceView, trainer)
    snap = trainer.snapshot()
    view.show_snapshot(snap)
    assert view.is_exact and view.names == ("w1", "b")
    assert view._image.image is not None and view._image.image.shape == (200, 200)
    cx, _ = view._contours.getData()
    assert cx is not None and len(cx) > 100
    sx, sy = view._star.getData()
    assert (sx[0], sy[0]) == (view._surface.w_star, view._surface.b_star)
    assert 0.5 < sx[0] < 1.5  # tomorrow's value is close to today's: w* is near 1
    px, py = view._path.getData()
    np.testing.assert_allclose(px, snap.path[:, 0])
    np.testing.assert_allclose(py, snap.path[:, 1])
    ax, ay = view._arrow_line.getData()     # the shaft, then the head's two strokes
    np.testing.assert_allclose(ax[:2], [snap.params["w"][0],
                                        snap.params["w"][0] + snap.step["w"][0]])
    np.testing.assert_allclose(ay[:2], [float(snap.params["b"]), float(snap.params["b"])
                                        + float(snap.step["b"])])
    assert "1-day linear" in view._title_label.text()


def test_the_live_step_arrow_shows_its_shaft_and_head_on_screen(qtbot, trained):
    """The surface's live step is drawn by `step_arrows.set_arrow`, as the race's and a
    replayed moment's arrows are: the shaft and both strokes of its head reach the grab
    in the arrow's colour."""
    from tests.gui.pixels import colour_mask, grab_rgb

    trainer = trained(3, lr=0.3, optimizer="momentum")
    view = _open(qtbot, SurfaceView, trainer)
    qtbot.waitExposed(view)
    view.show_snapshot(trainer.snapshot())
    qtbot.wait(20)
    ax, ay = view._arrow_line.getData()
    assert len(ax) == 6                      # shaft + two head strokes, one curve
    mask = colour_mask(grab_rgb(view), view.theme.arrow, tol=20)
    vb, plot = view._plot.getViewBox(), view._plot

    def arrow_pixels_near(x: float, y: float, r: int = 2) -> int:
        p = plot.mapTo(view, plot.mapFromScene(vb.mapViewToScene(QPointF(x, y))))
        return int(mask[p.y() - r:p.y() + r + 1, p.x() - r:p.x() + r + 1].sum())

    tip_x, tip_y = ax[1], ay[1]
    mid = ((ax[0] + tip_x) / 2, (ay[0] + tip_y) / 2)
    for x, y in (mid, (ax[3], ay[3]), (ax[5], ay[5])):
        # 3/4 of the way out along the shaft and each head stroke (clear of the dot)
        fx, fy = (x, y) if (x, y) == mid else (tip_x + 0.75 * (x - tip_x),
                                               tip_y + 0.75 * (y - tip_y))
        assert arrow_pixels_near(fx, fy) > 0, (fx, fy)
    view.shutdown()


def test_the_current_point_is_moved_frame_by_frame_and_drawn_where_the_run_is(qtbot):
    """The surface's current point follows the run moved, not rebuilt (its record kept,
    `set_curve`): at each of several frames of a run its colour is on screen around the
    run's (w, b), and gone from where it was when it moved further than its size."""
    from core.engine import Trainer
    from tests.gui.pixels import colour_mask, grab_rgb

    trainer = Trainer(RunConfig(lr=0.05, init=(0.0, 0.0)))
    view = _open(qtbot, SurfaceView, trainer)
    qtbot.waitExposed(view)
    view.show_snapshot(trainer.snapshot())
    record = view._current.data
    vb, plot = view._plot.getViewBox(), view._plot

    def at(w: float, b: float) -> tuple[int, int]:
        p = plot.mapTo(view, plot.mapFromScene(vb.mapViewToScene(QPointF(w, b))))
        return p.x(), p.y()

    def dot_pixels(x: int, y: int, r: int = 3) -> int:
        mask = colour_mask(grab_rgb(view), view.theme.current, tol=30)
        return int(mask[y - r:y + r + 1, x - r:x + r + 1].sum())

    before, moved_away = None, 0
    for updates in (1, 1, 40):
        trainer.run(updates)
        snap = trainer.snapshot()
        view.show_snapshot(snap)
        qtbot.wait(20)
        assert view._current.data is record          # moved, not rebuilt
        here = at(float(snap.params["w"][0]), float(snap.params["b"]))
        assert dot_pixels(*here) > 10, updates
        if before is not None and np.hypot(here[0] - before[0], here[1] - before[1]) > 25:
            assert dot_pixels(*before) == 0, updates  # not left behind
            moved_away += 1
        before = here
    assert moved_away
    view.shutdown()


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=["dark", "projector"])
def test_the_surfaces_placeholder_is_whole_inside_a_narrow_plot(qtbot, theme):
    """A first start on a 1280 x 720 screen (and the first second of any start) gives
    the error surface a ~330 px dock: its "start a run to see its error surface" ran off
    the plot's right edge. It wraps to the data area and stays centred in it, and the
    grab shows all of its ink inside that area, clear of its edges."""
    from tests.gui.pixels import grab_rgb

    view = SurfaceView(theme)
    qtbot.addWidget(view)
    view.resize(330, 300)
    view.show()
    qtbot.wait(50)
    vb = view._plot.getViewBox()
    area = view._plot.mapFromScene(vb.sceneBoundingRect()).boundingRect()
    shown = grab_rgb(view._plot).astype(int)
    view._message.hide()
    empty = grab_rgb(view._plot).astype(int)
    view._message.show()
    ink = np.abs(shown - empty).max(axis=2) > 40
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    assert len(cols) > 50, "the placeholder is not on screen"
    assert area.left() + 2 < cols[0] and cols[-1] < area.right() - 2, (cols[[0, -1]], area)
    assert area.top() + 2 < rows[0] and rows[-1] < area.bottom() - 2, (rows[[0, -1]], area)
    view.shutdown()


def test_clicking_the_surface_asks_to_start_from_the_clicked_point(qtbot, trained):
    trainer = trained(10, lr=0.05)
    view = _open(qtbot, SurfaceView, trainer)
    qtbot.waitExposed(view)
    view.show_snapshot(trainer.snapshot())
    vb = view._plot.getViewBox()
    target = QPointF(1.3, -2.0)
    pixel = view._plot.mapFromScene(vb.mapViewToScene(target))
    with qtbot.waitSignal(view.start_requested, timeout=2000) as blocker:
        qtbot.mouseClick(view._plot.viewport(), Qt.MouseButton.LeftButton, pos=pixel)
    w, b = blocker.args
    px_w, px_b = vb.viewPixelSize()
    assert abs(w - 1.3) <= 2 * px_w
    assert abs(b + 2.0) <= 2 * px_b


def test_network_surface_is_a_labeled_slice_never_blank(qtbot, trained):
    trainer = trained(30, model="relu", units=3, optimizer="adam", lr=0.05)
    view = _open(qtbot, SurfaceView, trainer)
    picked = []
    view.track_requested.connect(lambda a, b: picked.append((a, b)))
    view.set_run(trainer.config, trainer.data, trainer.param_names())
    assert not view.is_exact
    assert picked == [("c[1]", "b")]
    assert view._message.isVisible() and "computing slice" in view._message.toPlainText()
    assert "slice through c[1], b" in view._title_label.text()
    view.show_snapshot(trainer.snapshot())
    qtbot.waitUntil(lambda: view._image.image is not None, timeout=10000)
    assert not view._message.isVisible()
    # The coarse preview is refined to the full grid.
    qtbot.waitUntil(lambda: view._image.image.shape == (41, 41), timeout=20000)
    view.shutdown()


def test_picking_two_parameters_requests_their_path_and_a_new_slice(qtbot, trained):
    trainer = trained(30, model="relu", units=3, optimizer="adam", lr=0.05)
    view = _open(qtbot, SurfaceView, trainer)
    view.show_snapshot(trainer.snapshot())
    with qtbot.waitSignal(view.track_requested, timeout=1000) as blocker:
        view.choose("W1[1,1]", "b1[1]")
    assert blocker.args == ["W1[1,1]", "b1[1]"]
    assert view._plot.getPlotItem().getAxis("bottom").labelText == "W1[1,1]"
    qtbot.waitUntil(lambda: view._image.image is not None, timeout=10000)
    # A run that tracks W1[1,1], b1[1] (as the worker makes it on the request): the next
    # frame draws its path.
    from core.engine import Trainer

    tracking = Trainer(trainer.config, trainer.data)
    tracking.track = ("W1[1,1]", "b1[1]")
    tracking.run(30)
    view.show_snapshot(tracking.snapshot())
    assert len(view._path.getData()[0]) == len(tracking.snapshot().path) == 31
    view.shutdown()
    assert not view.slice_worker.is_running()


def test_slice_is_recomputed_where_the_run_ends(qtbot):
    from core.engine import Trainer

    trainer = Trainer(RunConfig(days=7, lr=0.02, limit_updates=60))
    view = _open(qtbot, SurfaceView, trainer)
    trainer.run(1)
    view.show_snapshot(trainer.snapshot())
    qtbot.waitUntil(lambda: "update 1:" in view._note.text() and not view.busy(),
                    timeout=10000)
    trainer.run(100)
    final = trainer.snapshot()
    assert final.done and final.update == 60
    view.show_snapshot(final)
    qtbot.waitUntil(lambda: "update 60:" in view._note.text() and not view.busy(),
                    timeout=10000)
    view.shutdown()


def test_slice_worker_stops_mid_computation_and_leaves_no_thread(qtbot, trained):
    trainer = trained(5, days=7, model="relu", units=20, layers=2, optimizer="adam", lr=0.01)
    worker = SliceWorker()
    got = []
    worker.grid_ready.connect(lambda token, piece: got.append(piece))
    worker.start(model="relu", params=trainer.params(), x=trainer.data.x_train,
                 y=trainer.data.y_train, loss="mae", names=("W1[1,1]", "b1[1]"), n=400,
                 coarse=200, scale=trainer.data.scale)
    assert worker.is_running()
    worker.stop()
    assert not worker.is_running()
    assert not [t for t in worker.findChildren(QThread) if t.isRunning()]
    qtbot.wait(50)
    assert all(not piece.complete for piece in got)


# ---------------------------------------------------------------- fitted function


def test_fit_view_draws_points_curve_and_each_sigmoid_piece(qtbot, trained):
    trainer = trained(30, model="sigmoid", units=40, optimizer="adam", lr=0.05)
    view = _open(qtbot, FitView, trainer)
    snap = trainer.snapshot()
    view.show_snapshot(snap)
    assert view.mode == "curve"
    assert len(view._train_pts.data) == len(trainer.data.y_train)
    assert len(view._unseen_pts.data) == len(trainer.data.y_unseen)
    _, cy = view._curve.getData()
    np.testing.assert_allclose(cy, snap.curve_y)
    drawn = view._pieces.lines()
    assert len(drawn) == MAX_PIECES
    np.testing.assert_allclose(drawn[0][1], snap.pieces[0])
    # The curve is the constant plus the sum of all the pieces (drawn or not).
    np.testing.assert_allclose(snap.constant + snap.pieces.sum(axis=0), cy, rtol=1e-4,
                               atol=1e-3 * np.abs(cy).max())
    assert "first 30 of 40" in view._note.text()


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=["dark", "projector"])
def test_each_units_curve_shows_as_a_line_of_its_colour(qtbot, trained, theme):
    """A one-day ReLU network's unit curves, alone in the plot (the points and the sum
    hidden): in the grab (widget.grab()) each of the eight shows as a line in its own
    colour, ~a pen wide along it (1 px in the dark theme, 2.1 px on the projector:
    at least 0.6 px of ink per px of plot it spans)."""
    from gui.views.fit_view import PIECE_COLORS, piece_width
    from tests.gui.pixels import grab_rgb, rgb

    trainer = trained(30, model="relu", units=8, optimizer="adam", lr=0.05)
    view = _open(qtbot, FitView, trainer, theme=theme, size=(700, 420))
    view.show_snapshot(trainer.snapshot())
    for item in (view._train_pts, view._unseen_pts, view._curve, view._constant):
        item.hide()
    qtbot.wait(50)
    vb = view._plot.getViewBox()
    corner = view._plot.mapFromScene(vb.mapToScene(QPointF(0, 0)))
    img = grab_rgb(view._plot)[corner.y() + 2: corner.y() + int(vb.height()) - 2,
                               corner.x() + 2: corner.x() + int(vb.width()) - 2]
    img = img.astype(np.int16)
    bg = rgb(theme.background)
    alpha = 150 / 255
    colours = [bg + alpha * (rgb(c) - bg) for c in PIECE_COLORS]    # a line's full ink
    # each pixel that is not background goes to the nearest unit colour, if near one
    dist = np.stack([np.abs(img - c).sum(axis=2) for c in colours])
    nearest, best = dist.argmin(axis=0), dist.min(axis=0)
    inked = np.abs(img - bg).sum(axis=2) > 60
    width = piece_width(theme)
    (_, _), (y0, y1) = vb.viewRange()
    shown = []      # the units whose curve runs inside the plot for a good part of it
    for i in range(8):
        y = view._pieces.lines()[i][1]
        inside = (y > y0) & (y < y1)
        if inside.mean() > 0.3 and np.ptp(y[inside]) > 0.05 * (y1 - y0):
            shown.append(i)
    assert len(shown) >= 3, shown
    for i in shown:
        mine = inked & (nearest == i) & (best < 90)
        cols = np.flatnonzero(mine.any(axis=0))
        assert len(cols) > 60, (i, len(cols))     # a line (a unit is 0 beside its kink,
        # often below the data's range there)
        assert mine.sum() >= 0.6 * width * len(cols), (i, mine.sum(), len(cols))
    _shutdown(view)


def test_a_short_plots_left_axis_title_is_drawn_whole_and_centred(qtbot, trained):
    """At 1280 x 720 in the projector theme the fitted function's plot is ~130 px tall:
    pyqtgraph cut its title to "y = views that da". The title shrinks to the axis (to
    3/4 of its size at most) and is drawn whole, in the grab, inside the plot."""
    from PySide6.QtCore import QRectF

    from gui.theme import for_screen
    from tests.gui.pixels import grab_rgb

    trainer = trained(5)
    view = _open(qtbot, FitView, trainer, theme=for_screen(PROJECTOR, 720), size=(640, 230))
    view.show_snapshot(trainer.snapshot())
    plot = view._plot
    qtbot.wait(50)
    axis = plot.getPlotItem().getAxis("left")
    label = axis.label
    assert label.toPlainText().strip().endswith("that day")
    assert label.boundingRect().width() > axis.height()     # longer than its axis
    shot = grab_rgb(plot)
    rect = plot.mapFromScene(label.mapToScene(label.boundingRect())).boundingRect()
    room = plot.mapFromScene(axis.mapToScene(QRectF(0, 0, axis.size().width(),
                                                  axis.size().height()))).boundingRect()
    assert rect.top() >= room.top() and rect.bottom() <= room.bottom(), (rect, room)
    # ... and the pixels of its column hold the title's ink from end to end of that rect
    column = shot[:, max(rect.left(), 0):rect.right() + 1]
    ink = (np.abs(column.astype(int) - column[0, 0]).max(axis=2) > 80).any(axis=1)
    rows = np.flatnonzero(ink)
    assert rows.min() >= rect.top() - 1 and rows.max() <= rect.bottom() + 1
    assert rows.max() - rows.min() >= 0.8 * rect.height(), (rows.min(), rows.max(), rect)
    _shutdown(view)


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=["dark", "projector"])
@pytest.mark.parametrize("days, model", [(1, "linear"), (7, "relu")])
def test_the_fitted_functions_legend_hides_no_data(qtbot, trained, theme, days, model):
    """A second start on a 1920 x 1080 projector (the restore bar above the docks): the
    legend lay on the top row of the one-day points, no corner of the ~490 x 210 px plot
    being free of them. It goes where the data is not, or the plot makes room above the
    data for it; the grab under its box shows none of the points or curves it names."""
    from tests.gui.pixels import ink_under_legend

    trainer = trained(3, days=days, model=model, units=10, optimizer="adam", lr=0.01) \
        if model != "linear" else trained(3, days=days)
    view = _open(qtbot, FitView, trainer, theme=theme, size=(590, 300))
    view.show_snapshot(trainer.snapshot())
    qtbot.wait(50)
    view.place_legends()          # as its timer does once the data stops changing
    assert view._plot.getPlotItem().legend.isVisible()
    assert ink_under_legend(view._plot) == 0
    _shutdown(view)


@pytest.mark.parametrize("theme, size", [(PROJECTOR, (590, 300)), (PROJECTOR, (500, 330)),
                                         (DARK, (440, 300))])
def test_a_paused_networks_predicted_points_are_not_under_the_legend(qtbot, trained, theme,
                                                                      size):
    """A 7-day network paused after 3,000 updates, its predicted points against the real
    ones: the room for the legend is made for the points as they stand (while it trains,
    only for the diagonal, which stays put). In the grab under the legend's box
    (widget.grab()) no point shows; before, 578 px of their ink did (590 x 300, projector)."""
    from tests.gui.pixels import ink_under_legend

    trainer = trained(3000, days=7, model="relu", units=10, optimizer="adam", lr=0.01)
    view = _open(qtbot, FitView, trainer, theme=theme, size=size)
    view.show_snapshot(trainer.snapshot())
    view.set_paused(True)         # as the window's Pause does
    qtbot.wait(50)
    view.place_legends()          # as its timer does once the data stops changing
    assert view._plot.getPlotItem().legend.isVisible()
    assert ink_under_legend(view._plot) == 0
    view.set_paused(False)        # playing again: the room is for the diagonal again
    view.place_legends()
    assert view._moment == "live"
    _shutdown(view)


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=["dark", "projector"])
def test_a_replayed_networks_fit_legend_hides_no_data(qtbot, theme):
    """A replayed moment of a one-day ReLU network, its pieces drawn: the room for the
    legend is found from everything drawn at that moment (the points, the curve, every
    piece); the grab under the legend's box shows none of it (widget.grab())."""
    from core.engine import Trainer
    from tests.gui.pixels import ink_under_legend

    trainer = Trainer(RunConfig(model="relu", units=100, optimizer="adam", lr=0.01))
    trainer.run(120)
    snap = trainer.snapshot_at(60)
    assert snap.replay_of == 120 and snap.pieces is not None
    view = _open(qtbot, FitView, trainer, theme=theme, size=(590, 300))
    view.show_snapshot(snap)
    qtbot.wait(50)
    view.place_legends()          # as its timer does once the data stops changing
    assert view._plot.getPlotItem().legend.isVisible()
    assert ink_under_legend(view._plot) == 0
    _shutdown(view)


def test_fit_view_shows_the_weight_of_each_day_for_a_seven_day_line(qtbot, trained):
    trainer = trained(200, days=7, lr=0.01)
    view = _open(qtbot, FitView, trainer)
    snap = trainer.snapshot()
    view.show_snapshot(snap)
    assert view.mode == "weights"
    np.testing.assert_allclose(view._bars.opts["height"], snap.params["w"])
    np.testing.assert_allclose(view._bars.opts["x"], np.arange(1, 8))
    assert "days before" in view._title_label.text()
    assert "b = " in view._note.text()
    view.set_run(trainer.config, trainer.data, trainer.param_names())  # a new run: bars reset
    np.testing.assert_allclose(view._bars.opts["height"], np.zeros(7))


def test_fit_view_shows_predicted_against_real_for_a_many_day_network(qtbot, trained):
    trainer = trained(20, days=28, model="relu", units=10, optimizer="adam", lr=0.01)
    view = _open(qtbot, FitView, trainer)
    snap = trainer.snapshot()
    view.show_snapshot(snap)
    assert view.mode == "scatter"
    pts = view._unseen_pts.getData()
    np.testing.assert_allclose(pts[0], trainer.data.y_unseen * trainer.data.scale)
    np.testing.assert_allclose(pts[1], snap.pred_unseen)
    assert view._diagonal.isVisible()


# ---------------------------------------------------------------- series, loss curves


def test_series_view_opens_on_the_first_weeks_of_the_unseen_period(qtbot, trained):
    trainer = trained(20, lr=0.05)
    view = _open(qtbot, SeriesView, trainer)
    snap = trainer.snapshot()
    view.show_snapshot(snap)
    data = trainer.data
    _, real = view._real.getOriginalDataset()
    assert len(real) == len(data.y_train) + len(data.y_unseen)
    _, est = view._estimate.getOriginalDataset()
    np.testing.assert_allclose(est[len(data.y_train):], snap.pred_unseen)
    (x0, x1), _ = view._plot.getViewBox().viewRange()
    first_unseen = data.dates_unseen[0].astype("datetime64[s]").astype(float)
    assert x0 < first_unseen < x1
    assert 35 <= (x1 - x0) / 86400 <= 70


@pytest.mark.parametrize("width", [420, 1200], ids=["narrow", "wide"])
def test_the_series_labels_either_side_of_the_split_are_whole_or_not_shown(
        qtbot, trained, width):
    """A 1280 x 720 window opens the series on a week of training days, too narrow for
    "◀ training": it was cut at the plot's left edge ("raining"). Each label is drawn
    whole or not at all (the grab's ink where it is drawn spans its whole width); on a
    wide plot both are drawn."""
    from tests.gui.pixels import grab_rgb, shown_view

    view = shown_view(qtbot, SeriesView(), trained(20, lr=0.05), size=(width, 300))
    qtbot.wait(50)
    widths = {}
    for label in (view._train_label, view._unseen_label):
        shown = grab_rgb(view._plot).astype(int)
        on = label.isVisible()
        label.hide()
        qtbot.wait(20)
        bare = grab_rgb(view._plot).astype(int)
        view._place_labels()
        ink = np.argwhere(np.abs(shown - bare).max(axis=2) > 60)
        full = view._plot.mapFromScene(label.mapRectToScene(label.boundingRect())
                                       ).boundingRect().width()
        widths[label] = (on, int(np.ptp(ink[:, 1])) + 1 if len(ink) else 0, full)
        if on:
            assert len(ink) and np.ptp(ink[:, 1]) + 1 >= 0.75 * full, widths[label]
        else:
            assert not len(ink), widths[label]
    if width >= 1200:
        assert all(on for on, _, _ in widths.values()), widths
    view.shutdown()


def test_loss_view_marks_epochs_and_switches_to_log_scale(qtbot, trained):
    trainer = trained(40, lr=0.05, batch_size=100)
    view = _open(qtbot, LossView, trainer)
    snap = trainer.snapshot()
    view.show_snapshot(snap)
    per_epoch = -(-len(trainer.data.y_train) // 100)
    assert view.updates_per_epoch == per_epoch == trainer.updates_per_epoch
    lines = [ln for ln in view._epoch_lines if ln.isVisible()]
    assert [ln.value() for ln in lines] == [per_epoch * k for k in
                                           range(1, 40 // per_epoch + 1)]
    x, y = view._train.getOriginalDataset()
    assert len(x) == len(snap.hist_update) and x.dtype == np.float64
    np.testing.assert_allclose(y, snap.hist_train)
    view.log_y.setChecked(True)
    assert view._plot.getPlotItem().ctrl.logYCheck.isChecked()
    view.show_snapshot(snap)
    assert len(view._unseen.getOriginalDataset()[0]) == len(snap.hist_update)


def _label_runs(ink: np.ndarray, gap: int = 5) -> list[tuple[int, int]]:
    """(first, last) columns of each run of inked columns, runs apart by `gap` px or more
    (the letters of one label are closer than that)."""
    cols = np.flatnonzero(ink.any(axis=0))
    if len(cols) == 0:
        return []
    breaks = np.flatnonzero(np.diff(cols) >= gap)
    starts = np.concatenate(([cols[0]], cols[breaks + 1]))
    ends = np.concatenate((cols[breaks], [cols[-1]]))
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


@pytest.mark.parametrize("updates, suffix", [(900_000, "k"), (2_600_000, "M")])
def test_a_long_runs_update_axis_labels_stay_apart_at_720(qtbot, trained, updates, suffix):
    """The updates axis of a long run, the projector theme at 1280 x 720 (the loss pane
    ~360 px wide): its tick labels are short counts, apart on screen. They ran together
    ("200000400000600000800000") when written in full. Read off the window as it paints
    (widget.grab()): the label row of the axis holds one ink run per tick, none touching."""
    from tests.gui.pixels import grab_rgb

    trainer = trained(40, lr=0.05)
    view = _open(qtbot, LossView, trainer, theme=PROJECTOR, size=(360, 230))
    view.show_snapshot(trainer.snapshot())
    plot = view._plot
    plot.setXRange(0, updates, padding=0.02)
    axis = plot.getPlotItem().getAxis("bottom")
    ticks = [v for _spacing, values in axis.tickValues(0, updates, axis.width())[:1]
             for v in values if 0 <= v <= updates]
    qtbot.wait(50)
    img = grab_rgb(plot).astype(np.int16)
    corner = plot.mapFromScene(axis.mapToScene(QPointF(0, 0)))   # the axis, not its grid
    top, left = corner.y(), max(0, corner.x())
    band = img[top + 2: top + 2 + int(axis.textHeight) + 6, left: left + int(axis.width())]
    background = np.median(band.reshape(-1, 3), axis=0)
    ink = np.abs(band - background).sum(axis=2) > 150
    runs = _label_runs(ink)
    widths = [b - a + 1 for a, b in runs]
    assert max(widths) < 60, widths       # "200000400000" alone is over 100 px wide
    labels = axis.tickStrings(ticks, 1.0, ticks[1] - ticks[0])
    assert labels[0] == "0" and len(labels) >= 3
    assert all(re.fullmatch(rf"\d+(\.\d)?{suffix}", t) for t in labels[1:]), labels
    assert len(runs) >= len(labels) - 1, (runs, labels)


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=["dark", "projector"])
def test_a_noisy_loss_curve_is_drawn_from_fewer_points_with_the_same_envelope(
        qtbot, trained, theme):
    """A mini-batch run's noisy curves, ~5 points a pixel, are drawn from each pixel
    column's first, lowest, highest and last point: in every column the curves' ink
    reaches as high and as low as when all the points are drawn (within a pixel, there
    or in the column beside it), and the picture differs in a few antialiased edge
    pixels at most. A view made wider with the run paused draws them again from its
    new columns."""
    trainer = trained(40_000, lr=0.05, batch_size=32)     # ~1,700 points
    snap = trainer.snapshot()
    n = len(snap.hist_update)
    view = _open(qtbot, LossView, trainer, theme, size=(440, 320))
    view.show_snapshot(snap)
    drawn = [len(curve.getData()[0]) for curve in (view._train, view._unseen)]
    assert n > 1500 and max(drawn) < 0.7 * n, (drawn, n)
    _same_envelope_as_every_point(qtbot, view, snap)
    view.shutdown()
    view = _open(qtbot, LossView, trainer, theme, size=(440, 320))
    view.show_snapshot(snap)
    narrow = len(view._train.getData()[0])
    view.resize(760, 320)                   # paused: no new snapshot comes
    qtbot.waitUntil(lambda: len(view._train.getData()[0]) > narrow + 100, timeout=2000)
    _same_envelope_as_every_point(qtbot, view, snap)
    view.shutdown()


def test_the_lecture_mini_batch_runs_loss_curve_is_noisy_to_its_end(qtbot):
    """Lecture step 19: 300 updates of batches of 32. Its history held each update up to
    256, then every 16th: on screen the noise stopped at update 256 and three points drew
    a smooth line to 300, as if the batches' noise ended there. Each pixel column of the
    last 40 updates hold as much curve ink as 40 updates before them."""
    from core.engine import Trainer
    from tests.gui.pixels import colour_mask, grab_rgb

    config = RunConfig(dataset="channel", days=1, model="linear", loss="mae",
                       optimizer="gd", lr=0.05, batch_size=32, init=(0.2, 2.0))
    trainer = Trainer(config)
    trainer.run(300)
    view = _open(qtbot, LossView, trainer, DARK, size=(900, 420))
    view.show_snapshot(trainer.snapshot())
    qtbot.wait(50)
    img = grab_rgb(view._plot)
    ink = colour_mask(img, DARK.train_color, tol=40)

    def ink_in(lo: float, hi: float) -> int:
        vb = view._plot.getPlotItem().getViewBox()
        x0 = view._plot.mapFromScene(vb.mapViewToScene(QPointF(lo, 0))).x()
        x1 = view._plot.mapFromScene(vb.mapViewToScene(QPointF(hi, 0))).x()
        return int(ink[:, x0:x1].sum())

    late, middle = ink_in(260, 298), ink_in(200, 238)
    assert middle > 200
    assert late >= 0.8 * middle, (late, middle)   # 256: 238 against 453
    view.shutdown()


def _same_envelope_as_every_point(qtbot, view: LossView, snap) -> None:
    """The loss view's curves as drawn now against all their points drawn (see the test
    above); leaves the curves empty."""
    from tests.gui.pixels import grab_rgb

    def grab() -> np.ndarray:
        qtbot.wait(20)
        return grab_rgb(view._plot).astype(np.int16)

    # Legends left out of the compared pictures: each moves to its plot's freest corner
    # 250 ms after the data last changed, so where it sits tells of the grabs' timing.
    legend = view._plot.getPlotItem().legend
    shown = legend is not None and legend.isVisible()
    if shown:
        legend.hide()
    thinned = grab()
    x = np.asarray(snap.hist_update, dtype=np.float64)
    for tail in view._tails:     # (the newest points' lines: each curve drawn whole now)
        tail.setData([], [])
    view._train.setData(x, snap.hist_train, connect="finite")
    view._unseen.setData(x, snap.hist_unseen, connect="finite")
    full = grab()
    view._train.setData([], [])
    view._unseen.setData([], [])
    bare = grab()
    if shown:
        legend.show()

    def ink(img: np.ndarray) -> np.ndarray:
        return np.abs(img - bare).max(axis=2) > 40

    def reach(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each column's topmost and bottommost ink row (none: past the image)."""
        rows = np.arange(mask.shape[0])[:, None]
        return (np.where(mask, rows, 10**6).min(axis=0),
                np.where(mask, rows, -10**6).max(axis=0))

    def beside(v: np.ndarray, pick: object) -> np.ndarray:
        """Per column, `pick` of its value and its two neighbours'."""
        return pick(np.stack([v, np.roll(v, 1), np.roll(v, -1)]), axis=0)

    a, b = ink(full), ink(thinned)
    cols = np.flatnonzero(a.any(axis=0))
    assert len(cols) > 200 and np.array_equal(cols, np.flatnonzero(b.any(axis=0)))
    (top_a, low_a), (top_b, low_b) = reach(a), reach(b)
    assert np.median((low_a - top_a)[cols]) >= 4        # a noisy band, not a thin line
    # A near-vertical stroke (the first updates' fall) may step to the next column a few
    # rows sooner or later: each picture reaches as high and as low as the other, within
    # a pixel, in the same column or the one beside it.
    # Within a pixel, or half the pen where it is wider (the projector's 3.5 px stroke,
    # antialiased, once reached 2 px lower drawn whole than thinned in one column).
    tol = max(1, round(view.theme.line_width / 2))
    for (top, low), (top_o, low_o) in (((top_a, low_a), (top_b, low_b)),
                                       ((top_b, low_b), (top_a, low_a))):
        assert (top[cols] >= beside(top_o, np.min)[cols] - tol).all()
        assert (low[cols] <= beside(low_o, np.max)[cols] + tol).all()
    assert np.mean(np.abs(top_a - top_b)[cols] <= 1) > 0.9
    assert np.mean(np.abs(low_a - low_b)[cols] <= 1) > 0.9
    # pixels whose colour is not in the other picture there nor a pixel to the side
    changed = np.logical_and.reduce([np.abs(full - np.roll(thinned, k, axis=1)).max(axis=2) > 60
                                     for k in (-1, 0, 1)])
    assert int(changed.sum()) <= 0.03 * int(a.sum()), (int(changed.sum()), int(a.sum()))


def test_a_growing_loss_curve_keeps_the_points_its_whole_history_keeps(trained):
    """The loss curves are thinned again only from the pixel column where they changed
    (`GrowingCurve`): frame after frame of a growing history, with its newest point
    replaced, a gap, a halved record, updates that go back, a new scale and a log axis,
    the points kept are those `column_extremes` keeps of the whole history."""
    from gui.views.base import GrowingCurve, column_extremes

    snap = trained(60_000, lr=0.05, batch_size=32).snapshot()
    x = np.asarray(snap.hist_update, dtype=np.float64)
    y = np.array(snap.hist_train, dtype=np.float64)
    y[300:304] = np.nan
    scale, wider = (0.0073, 60.2, -0.05, 240.0), (0.011, 60.2, -0.05, 240.0)
    n = len(x)
    frames = [(x[:end], y[:end], scale, False) for end in range(5, n, 97)]
    back = np.concatenate([x[: n - 40], x[: n // 2 : 8]])     # updates that go back
    frames += [(back, np.resize(y, len(back)), scale, False)]
    replaced = y[: n - 40].copy()
    replaced[-1] *= 1.5                                  # the newest point made anew
    frames += [(x[: n - 40], replaced, scale, False), (x, y, scale, False),
               (x[::2], y[::2], scale, False),            # the record halved
               (x, y, wider, False), (x, y, wider, True), (x, y, wider, True)]
    growing = GrowingCurve()
    for xs, ys, (sx, dx, sy, dy), log in frames:
        got = growing.keep(xs, ys, (sx, dx, sy, dy), log)
        with np.errstate(invalid="ignore", divide="ignore"):
            want = column_extremes(np.floor(sx * xs + dx), ys,
                                   sy * (np.log10(ys) if log else ys) + dy)
        np.testing.assert_array_equal(got, want)


def test_a_run_not_yet_trained_shows_whole_updates_from_zero(qtbot, trained):
    """Before the first update the curves are one point: the axis reads updates 0 to 10,
    not thousandths of an update around 0 ("update (x0.001)", -400 ... 400)."""
    trainer = trained(0)
    view = _open(qtbot, LossView, trainer)
    view.show_snapshot(trainer.snapshot())
    image = view.grab().toImage()          # paints the axis as the screen shows it
    assert not image.isNull()
    axis = view.main_plot().getAxis("bottom")
    lo, hi = axis.range
    major = [v for v in axis.tickValues(lo, hi, axis.width())[0][1] if lo <= v <= hi]
    assert "0.001" not in axis.labelString() and axis.autoSIPrefixScale == 1.0
    assert min(major) == 0 and max(major) >= 10 and hi < 20


def test_a_diverged_run_is_drawn_without_errors(qtbot, trained):
    trainer = trained(40, lr=5.0, loss="mse")
    snap = trainer.snapshot()
    assert snap.diverged
    views = [_open(qtbot, cls, trainer) for cls in (SurfaceView, FitView, SeriesView, LossView)]
    for v in views:
        v.show_snapshot(snap)
    views[3].log_y.setChecked(True)
    views[3].show_snapshot(snap)
    x, _ = views[3]._train.getOriginalDataset()
    assert len(x) == len(snap.hist_update)
    for v in views:
        v.grab()
        v.shutdown()


def _huge(a, big: float) -> np.ndarray:
    """An array shaped like `a` running from -big to +big, with an inf at the end."""
    out = np.linspace(-big, big, np.size(a)).reshape(np.shape(a))
    out.flat[-1] = np.inf
    return out


@pytest.mark.parametrize("big", [1e8, 1e100, 1e300])
def test_a_run_that_blew_up_draws_nothing_far_off_and_says_diverged(qtbot, trained, big):
    """1e100s and infs from a diverged run never reach pyqtgraph: Qt would paint them for
    minutes. What is drawn stays near the data; the views say "diverged" in words."""
    trainer = trained(40, lr=5.0, loss="mse", model="sigmoid", units=3, optimizer="gd")
    snap = trainer.snapshot(extras=True)
    snap = dataclasses.replace(
        snap, diverged=True, params={k: np.full(np.shape(v), big) for k, v in snap.params.items()},
        step={k: np.full(np.shape(v), -big) for k, v in snap.params.items()},
        path=np.array([[0.0, 0.0], [big, -big], [-big, big], [np.inf, np.nan]]),
        track=("w1", "b"), hist_update=np.array([0.0, 1.0, 2.0, 3.0]),
        hist_train=np.array([1e6, 1e9, big, np.inf]), hist_unseen=np.array([1e6, 1e9, big, np.nan]),
        pred_train=_huge(snap.pred_train, big), pred_unseen=_huge(snap.pred_unseen, big),
        curve_y=_huge(snap.curve_y, big), pieces=_huge(snap.pieces, big), constant=big)
    data = trainer.data
    y_max = 2e3 * float(np.max(np.abs(np.concatenate([data.y_train, data.y_unseen])))) \
        * data.scale
    views = [_open(qtbot, cls, trainer) for cls in (SurfaceView, FitView, SeriesView, LossView)]
    for v in views:
        v.show_snapshot(snap)
    surface, fit, series, loss = views

    def drawn(item) -> np.ndarray:
        _, y = item if isinstance(item, tuple) else item.getData()
        y = np.asarray([] if y is None else y, dtype=np.float64)
        return y[np.isfinite(y)]

    assert surface._message.isVisible() and "diverged" in surface._message.toPlainText()
    assert len(surface._current.getData()[0]) == 0
    assert all(np.abs(drawn(it)).max(initial=0) <= y_max
               for it in (fit._curve, *fit._pieces.lines(), fit._constant, series._estimate))
    assert "diverged" in fit._note.text() and "diverged" in series._note.text()
    train = drawn(loss._train)
    assert 0 < len(train) < 4 and train.max() <= 1e12
    loss.log_y.setChecked(True)
    loss.show_snapshot(snap)
    for v in views:
        v.grab()
        v.shutdown()


# ---------------------------------------------------------------- stale runs, themes


def test_snapshots_of_an_older_run_are_ignored(qtbot, trained):
    old = trained(20, lr=0.05)
    new = trained(20, lr=0.05, seed=1)
    assert new.run_id != old.run_id
    views = [_open(qtbot, cls, old) for cls in (LossView, SeriesView, FitView)]
    for v in views:
        v.show_snapshot(old.snapshot())
        v.set_run(new.config, new.data, new.param_names())
        v.clear()
        v.show_snapshot(old.snapshot())
    assert len(views[0]._train.getOriginalDataset()[0] or []) == 0
    assert len(views[1]._estimate.getOriginalDataset()[0] or []) == 0
    assert views[2]._curve.getData()[0] is None or len(views[2]._curve.getData()[0]) == 0
    snap = new.snapshot()
    for v in views:
        v.show_snapshot(snap)
    assert len(views[0]._train.getOriginalDataset()[0]) == len(snap.hist_update)
    assert views[0].current_run_id == new.run_id


def test_an_explicit_run_id_pins_the_run(qtbot, trained):
    trainer = trained(20, lr=0.05)
    view = _open(qtbot, LossView, trainer)
    view.set_run(trainer.config, trainer.data, trainer.param_names(), run_id=10**9)
    view.show_snapshot(trainer.snapshot())
    assert len(view._train.getOriginalDataset()[0] or []) == 0


@pytest.mark.parametrize("theme_name", sorted(THEMES))
def test_every_view_renders_real_content_in_both_themes(qtbot, trained, theme_name, tmp_path):
    theme = THEMES[theme_name]
    apply_pyqtgraph(theme)
    trainer = trained(60, model="relu", units=4, optimizer="adam", lr=0.05)
    for cls in ALL_VIEWS:
        view = _open(qtbot, cls, trainer, theme=DARK)
        view.apply_theme(theme)
        view.setStyleSheet(stylesheet(theme))
        snap = trainer.snapshot()
        if isinstance(view, LossTableView):
            view.add_row(results.result_row(trainer.config, snap, trainer.data))
        view.show_snapshot(snap)
        qtbot.wait(10)
        image = view.grab().toImage()
        path = tmp_path / f"{cls.__name__}.png"
        assert image.save(str(path))
        # Never a blank panel: a rendered view has many colours.
        colors = {image.pixel(x, y) for x in range(0, image.width(), 7)
                  for y in range(0, image.height(), 7)}
        assert len(colors) > 20, cls.__name__
        view.shutdown()
    bg = view.palette().color(view.backgroundRole()) if theme is PROJECTOR else None
    assert bg is None or bg.lightness() > 200


def test_projector_theme_is_light_with_larger_fonts_and_thicker_lines():
    assert PROJECTOR.font_pt > DARK.font_pt and PROJECTOR.line_width > DARK.line_width
    assert f"{PROJECTOR.font_pt}pt" in stylesheet(PROJECTOR)
    with pytest.raises(dataclasses.FrozenInstanceError):
        DARK.font_pt = 30  # type: ignore[misc]


# ---------------------------------------------------------------- loss table


def _row(**kw) -> dict:
    config = RunConfig(**kw)
    snap = type("S", (), dict(lr=config.lr, update=1000, train_loss=480.0, unseen_loss=580.0,
                              seconds=1.25, diverged=False))()
    return results.result_row(config, snap)


def test_table_rows_copy_delete_and_the_lecture_column(qtbot):
    view = LossTableView()
    qtbot.addWidget(view)
    view.add_row(_row())
    view.add_row(_row(days=7))
    view.add_row(_row(days=3, loss="mse"))
    assert [r["days"] for r in view.rows()] == [1, 7, 3]
    model = view.table.model()
    col = COLUMNS.index("train_loss")
    assert model.data(model.index(0, col)) == "0.48k"
    assert model.data(model.index(1, COLUMNS.index("lecture"))) == "0.38k / 0.49k"
    assert model.data(model.index(2, COLUMNS.index("lecture"))) == ""
    view.table.selectRow(1)
    text = view.copy_selected()
    assert QGuiApplication.clipboard().text() == text
    lines = text.strip().split("\n")
    assert len(lines) == 2 and lines[1].split("\t")[0] == "7 days, linear"
    view.delete_selected()
    assert [r["days"] for r in view.rows()] == [1, 3]
    view.clear()  # a view's per-run clear keeps the finished runs' rows
    assert len(view.rows()) == 2
    view.clear_rows()
    assert view.rows() == []
    with pytest.raises(ValueError, match="unseen_loss"):
        view.add_row({"model": "x"})


def test_table_shows_a_mean_over_seeds_with_its_spread(qtbot):
    view = LossTableView()
    qtbot.addWidget(view)
    view.add_row({**_row(days=56), "train_spread": 6.0, "unseen_spread": 12.0,
                  "seeds": [0, 1, 2]})
    model = view.table.model()
    assert model.data(model.index(0, COLUMNS.index("train_loss"))) == "0.48k ± 0.006k"
    assert model.data(model.index(0, COLUMNS.index("unseen_loss"))) == "0.58k ± 0.012k"
    assert "0.58k ± 0.012k" in view.copy_selected()


def test_record_button_asks_for_a_row(qtbot):
    view = LossTableView()
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.record_requested, timeout=1000):
        view.record_button.click()


def test_table_exports_valid_csv_and_markdown(tmp_path):
    rows = [_row(), _row(days=56, model="relu", units=100, layers=3)]
    export_csv(rows, tmp_path / "t.csv")
    with open(tmp_path / "t.csv", newline="", encoding="utf-8") as fh:
        read = list(csv.DictReader(fh))
    assert len(read) == 2 and float(read[0]["train_loss"]) == 480.0
    assert read[1]["lecture"] == "0.14k / 0.38k"
    export_markdown(rows, tmp_path / "t.md")
    md = (tmp_path / "t.md").read_text(encoding="utf-8").strip().split("\n")
    assert len(md) == 4 and md[1].startswith("|---")
    assert all(line.count("|") == md[0].count("|") for line in md)
    assert "0.48k" in md[2]


def test_lecture_reference_names_the_lectures_numbers():
    assert lecture_reference(RunConfig()) == ("0.48k", "0.58k")
    assert lecture_reference(RunConfig(days=56, model="relu", units=100, layers=4)) == (
        "0.10k", "0.44k")
    assert lecture_reference(RunConfig(days=5)) is None
    assert set(COLUMNS) == set(results.COLUMNS)


def test_a_slice_thread_runs_below_the_gui_and_training_threads():
    """lower_priority raises only the calling thread's nice value (Linux)."""
    import os
    import sys
    import threading

    from core.runtime import lower_priority
    from gui.views.slice_worker import SLICE_NICE

    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread nice values are a Linux feature")
    main_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[int] = []

    def body() -> None:
        assert lower_priority(SLICE_NICE)
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen == [max(main_nice, SLICE_NICE)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_nice


def test_a_long_path_drawn_thinned_looks_as_drawn_point_for_point(qtbot, trained):
    """The surface draws each segment of a long path once (a converged run goes back and
    forth over the same pixels at the minimum): the picture is the full path's."""
    from tests.gui.pixels import grab_rgb

    def grab() -> np.ndarray:
        qtbot.wait(20)
        return grab_rgb(view._plot).astype(np.int16)

    trainer = trained(1500, lr=0.05)
    view = _open(qtbot, SurfaceView, trainer)
    snap = trainer.snapshot()
    view.show_snapshot(snap)
    view._current.setData([], [])           # the path alone, each time
    view._arrow_line.setData([], [])
    # and nothing that may change between the grabs on its own time: the surface still
    # being computed, the legend taking the corner the data leave freest a moment later
    # (a suite run at load 4-5 saw 16,000 pixels differ)
    qtbot.waitUntil(lambda: not view.busy(), timeout=20000)
    legend = view._plot.getPlotItem().legend
    if legend is not None:
        legend.hide()
    drawn = view._path.getData()
    assert len(drawn[0]) < len(snap.path) // 4
    thinned = grab()
    view._path.setData([], [])
    bare = grab()
    view._path.setData(snap.path[:, 0], snap.path[:, 1], connect="all")
    full = grab()
    path_px = int((np.abs(full - bare).max(axis=2) > 30).sum())
    assert path_px > 200                    # the path is there to compare
    off = int((np.abs(thinned - full).max(axis=2) > 60).sum())
    assert off <= 0.02 * path_px, (off, path_px)
    view.shutdown()


def test_a_growing_path_thinned_frame_by_frame_is_the_path_thinned_whole(trained):
    """The live path is thinned for its new points only (`GrowingPath`): at every frame
    of a growing path, across a gap off the surface, a record that changed other than by
    growing (the gap gone) and a zoom, the line drawn is `thin_polyline` of the whole
    path, point for point; the same frame again is said to be unchanged."""
    from gui.views.surface_view import GrowingPath, thin_polyline

    path = trained(6000, lr=0.05).snapshot().path
    far = np.array(path, dtype=np.float64)
    far[700:705] = np.nan                                # a diverged stretch: a gap
    growing = GrowingPath()
    shown: tuple | None = None
    last: tuple | None = None
    fine, zoomed = (0.003, 0.03), (0.01, 0.2)
    n = len(path)
    frames = ([(far, end, fine) for end in range(150, n - 300, 37)]
              + [(path, end, fine) for end in (n - 300, n - 300, n - 250)]   # gap gone
              + [(path, end, zoomed) for end in (n - 250, n - 200, n, n)])
    for points, end, cells in frames:
        x, y = points[:end, 0].copy(), points[:end, 1].copy()
        got, changed = growing.thin(x, y, *cells)
        want = thin_polyline(x, y, *cells)
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)
        if not changed:                       # then the item keeps what it draws
            for a, b in zip(got, shown, strict=True):
                np.testing.assert_array_equal(a, b)
        same = last is not None and last[0] is points and last[1:] == (end, cells)
        assert not (same and changed)         # the same frame again: nothing new
        shown, last = tuple(np.copy(a) for a in got), (points, end, cells)


def test_path_dots_hidden_while_empty_are_drawn_again(qtbot):
    """A long path has no dots, and its empty dot item is hidden (an empty scatter was
    painted every frame); the next short path's dots are on screen again."""
    from core.engine import Trainer
    from gui.views.base import set_curve
    from tests.gui.pixels import grab_rgb

    def grab() -> np.ndarray:
        qtbot.wait(20)
        return grab_rgb(view._plot).astype(np.int16)

    config = RunConfig(lr=0.05, init=(0.0, 0.0))
    long_run = Trainer(config)
    long_run.run(400)
    view = _open(qtbot, SurfaceView, long_run)
    view.show_snapshot(long_run.snapshot())
    assert len(view.path_dots()) == 0 and not view._dots.isVisible()
    short_run = Trainer(config)
    short_run.run(20)
    view.set_run(short_run.config, short_run.data, short_run.param_names())
    view.show_snapshot(short_run.snapshot())
    assert len(view.path_dots()) == 21
    with_dots = grab()
    set_curve(view._dots, [], [])
    without = grab()
    assert int((np.abs(with_dots - without).max(axis=2) > 60).sum()) > 100
    view.shutdown()


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=["dark", "projector"])
@pytest.mark.parametrize("side", ["left", "right", "bottom", "top"])
def test_a_local_minimum_by_the_plots_edge_is_labelled_whole(qtbot, trained, theme, side):
    """The local minimum's label, written centred under its mark, was cut at the plot's
    right edge in a 1280 x 720 window, and at its bottom edge where the minimum lay low:
    by an edge it is written inward (over its mark by the bottom), every letter of it
    inside the data area (the grab of the plot shows it whole)."""
    from tests.gui.pixels import grab_rgb, shown_view

    apply_pyqtgraph(theme)
    view = shown_view(qtbot, SurfaceView(theme), trained(30, lr=0.05), size=(460, 360))
    qtbot.waitUntil(lambda: not view.busy() and not view._legend_timer.isActive(),
                    timeout=20000)
    qtbot.wait(50)
    vb = view._plot.getViewBox()
    (x0, x1), (y0, y1) = vb.viewRange()
    at = x0 + {"left": 0.01, "right": 0.99}.get(side, 0.5) * (x1 - x0)
    height = y0 + {"bottom": 0.01, "top": 0.99}.get(side, 0.5) * (y1 - y0)
    bare = grab_rgb(view._plot).astype(int)
    view._show_local([(at, height, 1234.5)])
    qtbot.wait(20)
    shot = grab_rgb(view._plot).astype(int)
    label = view._local_label
    assert label.isVisible()
    # where the label drew: pixels that changed, beside the diamond's few
    ink = np.argwhere(np.abs(shot - bare).max(axis=2) > 60)
    box = vb.mapRectToScene(vb.boundingRect())
    top_left = view._plot.mapFromScene(box.topLeft())
    bottom_right = view._plot.mapFromScene(box.bottomRight())
    text = view._plot.mapFromScene(label.mapRectToScene(label.boundingRect())).boundingRect()
    assert len(ink) > 50, "nothing drawn"
    assert top_left.x() <= text.left() and text.right() <= bottom_right.x(), \
        (text.left(), text.right(), top_left.x(), bottom_right.x())
    assert top_left.x() - 1 <= ink[:, 1].min() and ink[:, 1].max() <= bottom_right.x() + 1
    assert top_left.y() <= text.top() and text.bottom() <= bottom_right.y(), \
        (text.top(), text.bottom(), top_left.y(), bottom_right.y())
    assert top_left.y() - 1 <= ink[:, 0].min() and ink[:, 0].max() <= bottom_right.y() + 1
    view.shutdown()


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=["dark", "projector"])
def test_the_reference_paths_label_sits_on_a_box_of_the_background(qtbot, trained, theme):
    """Lecture step 19 labels its full-batch path "full batch" where it ends, on top of
    the mini-batch path (white in the dark theme): the blue text was drawn straight on it
    and could not be read. It is written on a box of the theme's background, as the other
    labels over the surface: inside the label the grab is mostly that background."""
    from tests.gui.pixels import grab_rgb, rgb, shown_view

    apply_pyqtgraph(theme)
    view = shown_view(qtbot, SurfaceView(theme), trained(30, lr=0.05), size=(460, 360))
    qtbot.waitUntil(lambda: not view.busy(), timeout=20000)
    vb = view._plot.getViewBox()
    (x0, x1), (y0, y1) = vb.viewRange()
    mid = (0.5 * (x0 + x1), 0.5 * (y0 + y1))
    view.set_reference_path(np.array([[x0 + 0.1 * (x1 - x0), mid[1]], mid]), "full batch")
    qtbot.wait(50)
    shot = grab_rgb(view._plot).astype(int)
    label = view._reference_label
    box = view._plot.mapFromScene(label.mapRectToScene(label.boundingRect())).boundingRect()
    inside = shot[box.top() + 2:box.bottom() - 1, box.left() + 2:box.right() - 1]
    assert inside.size
    near_back = np.abs(inside - rgb(theme.background)).max(axis=2) < 60
    assert near_back.mean() > 0.6, near_back.mean()
    view.shutdown()
