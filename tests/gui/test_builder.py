"""The curve builder as a lecturer uses it: sliders, dragged corners, Fit, Exact."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import RunConfig
from core.data import load_builtin, window
from core.pieces import evaluate, model_sum
from gui.theme import DARK, PROJECTOR
from gui.views.builder_view import MAX_PIECES, SLIDER_STEPS, BuilderView

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


@pytest.fixture
def builder(qtbot):
    view = BuilderView(DARK)
    qtbot.addWidget(view)
    view.resize(1100, 650)
    view.show()
    yield view
    view.shutdown()
    assert not view.fitting


def assert_sum_is_drawn_exactly(view: BuilderView) -> None:
    x, y = view.drawn_sum()
    np.testing.assert_array_equal(x, view.grid)
    np.testing.assert_array_equal(y, model_sum(view.constant, view.pieces, x))
    # and it is what the faint pieces and the dashed constant add up to, point by point
    total = view.drawn_constant().copy()
    for piece_y in view.drawn_pieces():
        total = total + piece_y
    np.testing.assert_array_equal(y, total)


def test_sum_is_constant_plus_pieces_at_every_x_after_slider_moves(builder):
    builder.add_piece("sigmoid")
    builder.add_piece("relu")
    rng = np.random.default_rng(0)
    for editor in builder._editors:
        for slider in editor.sliders.values():
            before = slider.value
            slider.set_position(int(rng.integers(0, SLIDER_STEPS + 1)))
            assert slider.value != before or slider.slider.value() == SLIDER_STEPS // 2
            assert_sum_is_drawn_exactly(builder)
    builder.constant_slider.set_position(SLIDER_STEPS // 4)
    assert builder.constant == pytest.approx(builder.constant_slider.value)
    assert_sum_is_drawn_exactly(builder)


def test_the_c_slider_changes_the_height_and_b_shifts(builder):
    editor = builder._editors[0]
    before = builder.drawn_pieces()[0].copy()
    builder.set_piece_param(0, "c", 2 * editor.piece().c)
    np.testing.assert_allclose(builder.drawn_pieces()[0], 2 * before)
    p = editor.piece()
    builder.set_piece_param(0, "b", p.b - p.w * 1.0)   # shift right by one unit of x1
    np.testing.assert_allclose(builder.drawn_pieces()[0], evaluate(p, builder.grid - 1.0),
                               atol=1e-12)


def test_dragging_a_corner_changes_the_target(builder):
    target = builder.target
    handle = builder._handles[2]
    handle.setPos(float(target.xs[2]) + 0.5, float(target.ys[2]) - 3.0)   # what a drag does
    moved = builder.target
    assert moved.xs[2] == pytest.approx(target.xs[2] + 0.5)
    assert moved.ys[2] == pytest.approx(target.ys[2] - 3.0)
    x, y = builder._target_curve.getData()
    np.testing.assert_array_equal(y, moved(x))
    # a corner cannot pass its neighbour: it stops just before it, and so does its handle
    handle.setPos(float(target.xs[4]) + 5.0, 0.0)
    assert builder.target.xs[2] < builder.target.xs[3]
    assert handle.pos().x() == pytest.approx(builder.target.xs[2])
    assert_sum_is_drawn_exactly(builder)


def test_pieces_are_added_and_removed(builder):
    n = len(builder.pieces)
    curves = len(builder.plot.getPlotItem().items)
    builder.kind_box.setCurrentIndex(builder.kind_box.findData("relu"))
    builder.add_button.click()
    assert [p.kind for p in builder.pieces][-1] == "relu"
    assert len(builder.plot.getPlotItem().items) == curves + 1
    builder._editors[0].remove.click()
    assert len(builder.pieces) == n
    assert len(builder.plot.getPlotItem().items) == curves
    assert_sum_is_drawn_exactly(builder)
    while len(builder.pieces) < MAX_PIECES:
        builder.add_piece("sigmoid")
    assert builder.add_piece() is None and not builder.add_button.isEnabled()
    while builder.pieces:
        builder.remove_piece(0)
    x, y = builder.drawn_sum()
    np.testing.assert_array_equal(y, np.full(x.shape, builder.constant))


def test_fit_lowers_the_error_and_ends_by_itself(qtbot, builder):
    before = builder.error()
    with qtbot.waitSignal(builder.fit_finished, timeout=30000):
        builder.fit_button.click()
        assert builder.fitting and builder.fit_button.text() == "Stop"
    assert not builder.fitting and builder.fit_button.text() == "Fit"
    assert builder.error() < 0.5 * before
    assert_sum_is_drawn_exactly(builder)


def test_fit_stops_cleanly_when_asked(qtbot, builder):
    builder.start_fit()
    qtbot.waitUntil(lambda: builder._fitter is not None and builder._fitter.steps_done > 0,
                    timeout=5000)
    builder.fit_button.click()          # "Stop"
    assert not builder.fitting
    frozen = (builder.constant, builder.pieces)
    qtbot.wait(150)
    assert (builder.constant, builder.pieces) == frozen
    # touching a slider while fitting hands control back to the lecturer
    builder.start_fit()
    qtbot.waitUntil(lambda: builder._fitter is not None and builder._fitter.steps_done > 0,
                    timeout=5000)
    builder._editors[0].sliders["c"].set_position(10)
    assert not builder.fitting


@pytest.mark.parametrize("kind", ["hard-sigmoid", "relu"])
def test_exact_matches_the_target(builder, kind):
    builder.move_corner(1, 2.5, 0.0)
    builder.exact(kind)
    assert all(p.kind == kind for p in builder.pieces)
    x, y = builder.drawn_sum()
    np.testing.assert_allclose(y, builder.target(x), atol=1e-9)
    assert builder.error() < 1e-18


def test_target_from_data_follows_the_runs_scatter(builder):
    data = window(load_builtin("channel"), 1)
    builder.set_run(RunConfig(), data, ["w1", "b"], 1)
    builder.data_button.click()
    t = builder.target
    x1 = data.x_train[:, 0]
    assert x1.min() <= t.xs[0] and t.xs[-1] <= x1.max()
    near = np.abs(x1 - t.xs[3]) < 0.3
    assert abs(t.ys[3] - data.y_train[near].mean()) < 0.5
    assert_sum_is_drawn_exactly(builder)


def test_state_round_trips_and_both_themes_apply(builder):
    builder.add_piece("relu")
    builder.move_corner(0, -0.5, 2.0)
    state = builder.state()
    other = BuilderView(PROJECTOR)
    try:
        other.restore_state(state)
        assert other.state() == state
        with pytest.raises(ValueError, match="curve-builder"):
            other.restore_state({"pieces": []})
        assert other.state() == state
    finally:
        other.shutdown()
        other.deleteLater()
    builder.apply_theme(PROJECTOR)
    builder.apply_theme(DARK)
    assert_sum_is_drawn_exactly(builder)


def test_a_restored_set_of_relus_adds_and_shows_relus(builder, qapp):
    """The lecture's ReLU step restores two ReLUs: its kind box said "hard sigmoid", and
    "+ Add piece" and Exact made hard sigmoids in a step about ReLUs."""
    from tests.gui.pixels import grab_rgb

    box = builder.kind_box
    shown = {}
    for kind in ("relu", "hard-sigmoid"):
        box.setCurrentIndex(box.findData(kind))
        qapp.processEvents()
        shown[kind] = grab_rgb(box)
    builder.add_piece("relu")
    builder.add_piece("relu")
    state = builder.state()
    state["pieces"] = [p for p in state["pieces"] if p["kind"] == "relu"]
    assert len(state["pieces"]) == 2
    assert box.currentData() == "hard-sigmoid"
    builder.restore_state(state)
    qapp.processEvents()
    now = grab_rgb(box)
    assert (now != shown["hard-sigmoid"]).any()
    assert (now == shown["relu"]).all()
    builder.add_piece()
    builder.exact()
    assert {p.kind for p in builder.pieces} == {"relu"}


def test_window_docks_the_builder_hidden_with_a_view_menu_toggle(qtbot, open_window):
    win = open_window()
    dock = win.docks["builder"]
    assert not dock.isVisible()
    dock.toggleViewAction().trigger()
    builder = win.views["builder"]
    qtbot.waitUntil(builder.isVisible, timeout=2000)    # its tab is in front of the fit view
    assert builder.data_button.isEnabled()
    builder.target_from_data()     # the window's run gave it the channel data
    assert builder.target.xs[0] > 1.0
    assert "k views" in builder.plot.getPlotItem().getAxis("bottom").labelText
    win.reset_layout()
    assert not dock.isVisible() and win.docks["fit"].isVisible()
