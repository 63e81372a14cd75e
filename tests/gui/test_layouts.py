"""Saved layouts: lecture mode keeps its own, a layout with no live view is never
restored, View > Reset layout is in the menu and in the "?" overlay."""

from __future__ import annotations

import pytest

from core.config import RunConfig
from gui.app import open_lecture
from gui.window_api import LIVE_VIEWS

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints",
                                        "does not support raise")]

LINEAR = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                   lr=0.05, init=(0.0, 0.0))


def shown(win) -> set[str]:
    return {k for k, d in win.docks.items() if d.isVisible()}


def test_lecture_mode_keeps_its_own_layout(qtbot, open_window):
    lecture = open_window(LINEAR)
    controller = open_lecture(lecture, 0)
    qtbot.waitUntil(lambda: controller.ready, timeout=60000)
    one_view = shown(lecture)
    assert len(one_view & set(LIVE_VIEWS)) <= 2      # the lecture's first step
    lecture.close()
    plain = open_window(LINEAR)
    assert set(LIVE_VIEWS) | {"controls", "table"} <= shown(plain)
    plain.docks["loss"].hide()
    plain.close()
    again = open_window(LINEAR)                      # the normal layout is still its own
    assert "loss" not in shown(again) and {"surface", "fit", "series"} <= shown(again)


def test_a_layout_showing_no_live_view_is_never_restored(qtbot, open_window):
    win = open_window(LINEAR)
    for key, dock in win.docks.items():
        dock.setVisible(key == "table")
    table_only = win.saveState()
    win.close()                                       # saved like that
    again = open_window(LINEAR)
    assert set(LIVE_VIEWS) <= shown(again)
    assert not again.restore_layout(table_only)       # a session's layout too
    assert set(LIVE_VIEWS) <= shown(again)


def test_reset_layout_is_in_the_view_menu_and_the_overlay(qtbot, open_window):
    win = open_window(LINEAR)
    view_menu = next(a.menu() for a in win.menuBar().actions()
                     if a.text().replace("&", "") == "View")
    reset = next(a for a in view_menu.actions() if a.text() == "Reset layout")
    assert any(text == "Reset layout" for text, _keys in win.shortcut_overlay.entries())
    win.docks["surface"].hide()
    win.docks["fit"].setFloating(True)
    reset.trigger()
    qtbot.wait(100)
    assert set(LIVE_VIEWS) | {"controls", "table"} <= shown(win)
    assert not win.docks["fit"].isFloating()


@pytest.mark.parametrize("theme", ["dark", "projector"])
def test_a_networks_slice_controls_leave_the_fitted_function_its_half(qtbot, open_window,
                                                                      theme):
    """The error surface's controls for a network (kind of slice, two parameters, Refresh,
    log colours, 3-D) wrap in their dock: in one row they were the dock's least width and
    squeezed the fitted function beside it to 68 px."""
    from tests.gui.pixels import grab_rgb

    win = open_window(LINEAR.replace(model="relu", units=10, days=7, optimizer="adam",
                                     lr=0.01), theme=theme, size=(1600, 1000))
    qtbot.wait(300)
    surface, fit = win.docks["surface"], win.docks["fit"]
    both = surface.width() + fit.width()
    assert fit.width() >= 0.35 * both and surface.width() >= 0.35 * both, \
        (surface.width(), fit.width())
    # Every slice control is drawn whole inside the surface's dock.
    view = win.surface_view
    for w in (view._kind_combo, view._combo_a, view._combo_b, view._refresh):
        assert w.isVisible() and w.visibleRegion().boundingRect().size() == w.size()
    # and the fitted function's plot really shows: its area is not one flat colour.
    plot = win.views["fit"]._plots[0]
    img = grab_rgb(plot)
    assert img.shape[1] >= 0.3 * both
    assert len({tuple(p) for p in img.reshape(-1, 3)[::97]}) > 20


def test_the_open_shortcut_sheet_covers_the_window_after_a_resize(qtbot, open_window):
    """The "?" sheet follows the window's size (the window's resize moves it; no event
    filter on the window): opened, then the window made larger, its veil reaches the new
    bottom-right corner, which it did not cover before; closed, the corner is as without
    it."""
    from tests.gui.pixels import grab_rgb

    win = open_window(LINEAR, size=(1000, 700))
    win.shortcut_overlay.open()
    qtbot.wait(20)
    win.resize(1300, 860)
    qtbot.waitUntil(lambda: win.width() == 1300 and win.height() == 860, timeout=5000)
    qtbot.wait(20)
    veiled = grab_rgb(win)
    win.shortcut_overlay.close_overlay()
    qtbot.wait(20)
    bare = grab_rgb(win)
    def veiled_share(rows: slice, cols: slice) -> float:
        """Share of the pixels the veil changes (over the theme's own background it
        changes none: the sheet is that colour)."""
        return float((veiled[rows, cols] != bare[rows, cols]).any(axis=2).mean())

    inside = veiled_share(slice(600, 690), slice(700, 990))     # in the first 1000 x 700
    corner = veiled_share(slice(760, 850), slice(1000, 1290))   # only in the larger window
    assert inside > 0.3 and corner > 0.5 * inside
