"""What the class sees: the window's pixels, not its widgets' flags.

Each test grabs the window (or counts what really happened) the way a user would notice
it: a banner is a band of its colour with readable text in the grab, whatever the theme
or the saved layout.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.config import RunConfig
from core.lecture_steps import LECTURE_DIR
from core.results import format_loss
from gui import export
from gui.app import open_lecture
from tests.gui.pixels import bounding_box, colour_mask, grab_rgb, text_contrast

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints",
                                         "does not support raise")]

LINEAR = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                   lr=0.05, init=(0.0, 0.0))
THEMES = ("dark", "projector")


def settle(qtbot, ms: int = 150) -> None:
    qtbot.wait(ms)


def banner_on_screen(qtbot, win) -> tuple[int, int, int, int]:
    """The banner's band in a grab of the whole window; fails if it is not there."""
    settle(qtbot)
    img = grab_rgb(win)
    box = bounding_box(colour_mask(img, win.theme.warning, tol=6))
    assert box is not None, "no banner colour anywhere in the window"
    top, left, bottom, right = box
    assert bottom - top >= 20, f"banner band only {bottom - top} px tall"
    assert right - left >= img.shape[1] // 2, f"banner band only {right - left} px wide"
    ratio = text_contrast(img[top + 2:bottom - 2, left + 4:right - 4])
    assert ratio >= 4.5, f"banner text contrast {ratio:.2f}:1"
    return box


@pytest.mark.parametrize("theme", THEMES)
def test_a_bad_csv_shows_its_banner_in_the_grab(qtbot, open_window, tmp_path, theme):
    win = open_window(LINEAR, theme=theme)
    bad = tmp_path / "notes.csv"
    bad.write_text("hello world\nthis is text\n", encoding="utf-8")
    assert not win.import_csv(str(bad))
    top, _, _, _ = banner_on_screen(qtbot, win)
    assert top < win.height() // 4           # across the top, above the views
    win.banner.dismiss()
    settle(qtbot)
    assert bounding_box(colour_mask(grab_rgb(win), win.theme.warning, tol=6)) is None


@pytest.mark.parametrize("theme", THEMES)
def test_the_banner_shows_with_any_saved_layout(qtbot, open_window, settings_dir, theme):
    """Layouts saved with the banner shown, with one view left, with docks floated."""
    first = open_window(LINEAR, theme=theme)
    first.show_banner("an old message")
    settle(qtbot)
    with_banner = first.saveState()
    for key, dock in first.docks.items():
        dock.setVisible(key == "table")
    only_table = first.saveState()
    first.docks["surface"].show()
    first.docks["surface"].setFloating(True)
    floating = first.saveState()
    first.close()
    for state in (with_banner, only_table, floating):
        win = open_window(LINEAR, theme=theme)
        win.restoreState(state)
        win.banner.sync()
        win.banner.dismiss()
        win.show_banner("Cannot import views.csv: row 3: 'ten' is not a number")
        banner_on_screen(qtbot, win)
        win.close()


def test_a_divergence_banner_reaches_the_screen(qtbot, open_window):
    win = open_window(LINEAR.replace(loss="mse"))
    win.set_config(LINEAR.replace(loss="mse", lr=1e5))
    qtbot.waitUntil(lambda: win.config.lr == 1e5, timeout=5000)
    win.play()
    qtbot.waitUntil(lambda: "diverged" in win.banner.text(), timeout=10000)
    banner_on_screen(qtbot, win)


def test_a_divergence_banner_leaves_with_its_run(qtbot, open_window):
    """The message is about the run that diverged: a new run that does not play (a
    lecture's tables step) must not keep showing it."""
    win = open_window(LINEAR.replace(loss="mse", lr=1e5))
    win.play()
    qtbot.waitUntil(lambda: "diverged" in win.banner.text(), timeout=10000)
    banner_on_screen(qtbot, win)
    win.set_config(LINEAR.replace(days=7))
    qtbot.waitUntil(lambda: win.run_info.config.days == 7, timeout=10000)
    settle(qtbot)
    img = grab_rgb(win)
    assert bounding_box(colour_mask(img, win.theme.warning, tol=6)) is None


def test_a_lecture_step_error_banner_reaches_the_screen(qtbot, open_window, tmp_path):
    shutil.copy(sorted(LECTURE_DIR.glob("*.json"))[0], tmp_path / "01-task.json")
    (tmp_path / "02-broken.json").write_text(json.dumps({"title": "t"}), encoding="utf-8")
    win = open_window(theme="projector", persist=False)
    controller = open_lecture(win, 0, tmp_path)
    try:
        assert "02-broken.json" in win.banner.text()
        banner_on_screen(qtbot, win)
    finally:
        controller.shutdown()


def test_an_export_error_banner_reaches_the_screen(qtbot, open_window, tmp_path,
                                                   monkeypatch):
    win = open_window()
    target = tmp_path / "missing-folder" / "window.png"
    monkeypatch.setattr(export, "_ask_path", lambda *_a, **_k: str(target))
    export.window_png_dialog(win)
    assert "Export failed" in win.banner.text()
    banner_on_screen(qtbot, win)


def test_no_banner_shows_when_there_is_no_message(qtbot, open_window):
    for theme in THEMES:
        win = open_window(LINEAR, theme=theme)
        settle(qtbot)
        img = grab_rgb(win)
        assert bounding_box(colour_mask(img, win.theme.warning, tol=6)) is None
        assert np.isfinite(img.mean())
        win.close()


def test_clicking_a_seven_day_surface_moves_only_the_two_shown_parameters(qtbot,
                                                                          open_window):
    from PySide6.QtCore import QPointF, Qt

    win = open_window(LINEAR.replace(days=7, loss="mse", optimizer="adam", lr=0.01))
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.update >= 30,
                    timeout=10000)
    win.pause()
    surface = win.views["surface"]
    surface.choose("w3", "b")
    qtbot.waitUntil(lambda: tuple(win.latest.track) == ("w3", "b"), timeout=5000)
    qtbot.waitUntil(lambda: not surface.busy(), timeout=30000)
    before = win.latest.params
    plot = surface._plot
    vb = plot.getViewBox()
    rect = vb.sceneBoundingRect()
    scene_point = QPointF(rect.left() + 0.3 * rect.width(), rect.top() + 0.6 * rect.height())
    pixel = plot.mapFromScene(scene_point)
    target = vb.mapSceneToView(plot.mapToScene(pixel))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=pixel)
    qtbot.waitUntil(lambda: win.latest.update == 0, timeout=5000)
    after = win.latest.params
    w_before, w_after = np.ravel(before["w"]), np.ravel(after["w"])
    assert w_after[2] == pytest.approx(target.x(), abs=1e-9)
    assert float(after["b"]) == pytest.approx(target.y(), abs=1e-9)
    others = [i for i in range(7) if i != 2]
    np.testing.assert_array_equal(w_after[others], w_before[others])
    # the status line tells the loss the trainer has at the clicked point
    qtbot.waitUntil(lambda: "update 0 " in win.status_text, timeout=5000)
    data = win.run_info.data
    shown = format_loss(win.latest.train_loss, data.scale, data.suffix)
    assert f"training loss L = {shown}" in win.status_text
