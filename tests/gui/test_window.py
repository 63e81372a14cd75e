"""The main window as a lecturer uses it: play, change knobs live, click, diverge, close."""

from __future__ import annotations

import re
import threading

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QThread

from core.config import RunConfig
from gui.app import load_preset
from gui.app import main as app_main
from gui.main_window import MainWindow

# Any Qt warning fails a test, except the offscreen platform's note that it has no
# window manager to tell about size hints (docks ask for it).
pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

LINEAR = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                   lr=0.05, init=(0.0, 0.0))


def latest_update(win: MainWindow) -> int:
    return -1 if win.latest is None else win.latest.update


def wait_update(qtbot, win: MainWindow, n: int, timeout: int = 10000) -> None:
    qtbot.waitUntil(lambda: latest_update(win) >= n, timeout=timeout)


def drawn_items(view) -> int:
    """How many plot items in `view` hold data (curves, points, bars, images)."""
    return sum(_holds_data(item) for plot in view.findChildren(pg.PlotWidget)
               for item in plot.getPlotItem().items)


def _holds_data(item) -> bool:
    if isinstance(item, pg.ImageItem):
        return item.image is not None
    if isinstance(item, pg.PlotDataItem):
        return item.xData is not None and len(item.xData) > 0
    if isinstance(item, (pg.ScatterPlotItem, pg.BarGraphItem)):
        return item.boundingRect().width() > 0
    return False


def test_window_opens_with_every_view_showing_real_content(qtbot, open_window):
    win = open_window()
    frames = []
    win.frame_drawn.connect(frames.append)
    win.step()
    qtbot.waitUntil(lambda: any(s.update == 1 for s in frames), timeout=5000)
    win.record()
    for key in ("surface", "fit", "series", "loss"):
        assert drawn_items(win.views[key]) > 0, f"{key} view shows nothing"
    assert len(win.views["table"].rows()) == 1
    for key, dock in win.docks.items():
        assert dock.windowTitle(), key


def test_play_delivers_snapshots_and_the_losses_fall(qtbot, open_window):
    win = open_window()
    win.step()
    wait_update(qtbot, win, 1)
    first = win.latest
    frames = []
    win.frame_drawn.connect(frames.append)
    win.play()
    wait_update(qtbot, win, 200)
    win.pause()
    qtbot.waitUntil(lambda: not win.playing, timeout=2000)
    assert frames and all(s.update > 1 for s in frames[1:])
    assert win.latest.train_loss < 0.5 * first.train_loss
    assert win.latest.unseen_loss < 0.5 * first.unseen_loss


def test_learning_rate_change_mid_run_keeps_the_count_and_changes_the_step(qtbot, open_window):
    win = open_window()
    for n in (1, 2, 3):
        win.step()
        wait_update(qtbot, win, n)
    before = win.latest
    win.panel.lr.set_value(0.005)
    win.panel.lr.value_changed.emit(0.005)
    win.panel.flush()
    qtbot.waitUntil(lambda: win.latest.lr == 0.005, timeout=5000)
    assert win.latest.update == before.update == 3
    assert win.latest.run_id == before.run_id
    win.step()
    wait_update(qtbot, win, 4)
    after = win.latest
    np.testing.assert_allclose(after.step["w"], -0.005 * after.grad["w"], rtol=1e-6)
    ratio = np.linalg.norm(after.step["w"]) / np.linalg.norm(before.step["w"])
    assert ratio < 0.5    # 10x smaller learning rate; the gradient barely moved


def test_step_advances_exactly_one_update(qtbot, open_window):
    win = open_window()
    win.step()
    wait_update(qtbot, win, 1)
    win.step()
    wait_update(qtbot, win, 2)
    qtbot.wait(100)
    assert win.latest.update == 2
    assert not win.playing


def test_clicking_the_surface_moves_the_start(qtbot, open_window):
    win = open_window()
    win.step()
    wait_update(qtbot, win, 1)
    win.views["surface"].start_requested.emit(0.5, 2.0)
    qtbot.waitUntil(lambda: latest_update(win) == 0, timeout=5000)
    win.step()
    wait_update(qtbot, win, 1)
    np.testing.assert_allclose(win.latest.path[0], [0.5, 2.0])
    win.reset()   # Reset goes back to the clicked start, not to the preset's
    win.step()
    qtbot.waitUntil(lambda: latest_update(win) == 1 and win.latest.path[0][1] == 2.0,
                    timeout=5000)
    np.testing.assert_allclose(win.latest.path[0], [0.5, 2.0])
    assert win.panel.config == win.config   # a later live change does not start a new run


def test_divergent_learning_rate_shows_the_banner_and_the_app_still_trains(
        qtbot, open_window):
    win = open_window(LINEAR.replace(loss="mse"))
    win.set_config(LINEAR.replace(loss="mse", lr=1e5))
    qtbot.waitUntil(lambda: win.config.lr == 1e5, timeout=5000)
    win.play()
    qtbot.waitUntil(lambda: "diverged" in win.banner.text(), timeout=10000)
    assert "Lower the learning rate" in win.banner.text()
    assert any(r["diverged"] for r in win.views["table"].rows())
    # its losses read as the power of ten they passed (or "diverged"), not "7.17e+25k",
    # in the status line and the loss table alike
    from gui.views.table_view import cell_text

    qtbot.waitUntil(lambda: "· diverged" in win.status_text, timeout=5000)
    assert "e+" not in win.status_text
    assert re.search(r"training loss L (> 10[⁰¹²³⁴⁵⁶⁷⁸⁹]+|= diverged) ", win.status_text)
    row = next(r for r in win.views["table"].rows() if r["diverged"])
    assert re.fullmatch(r"> 10[⁰¹²³⁴⁵⁶⁷⁸⁹]+|diverged", cell_text(row, "train_loss"))
    win.panel.lr.set_value(0.01)
    win.panel.lr.value_changed.emit(0.01)
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.lr == 0.01
                    and win.latest.update >= 50 and not win.latest.diverged, timeout=10000)
    assert np.isfinite(win.latest.train_loss)
    assert not win.banner.isVisible()


def test_a_new_model_shape_starts_a_new_run_and_keeps_the_old_row(qtbot, open_window):
    win = open_window()
    win.play()
    wait_update(qtbot, win, 20)
    old = win.run_info.run_id
    win.panel.days.setValue(7)
    win.panel.flush()
    qtbot.waitUntil(lambda: win.run_info.run_id != old, timeout=10000)
    assert win.run_info.config.days == 7
    rows = win.views["table"].rows()
    assert len(rows) == 1 and rows[0]["days"] == 1 and rows[0]["updates"] >= 20


def test_a_bad_csv_shows_a_banner_and_leaves_the_run_alone(qtbot, open_window, tmp_path):
    win = open_window()
    bad = tmp_path / "views.csv"
    bad.write_text("date,views\n2021-01-01,10\n2021-01-02,ten\n", encoding="utf-8")
    run = win.run_info.run_id
    assert not win.import_csv(str(bad))
    assert "views.csv" in win.banner.text()
    win.step()
    wait_update(qtbot, win, 1)
    assert win.run_info.run_id == run


def test_an_imported_csv_becomes_a_dataset_and_trains(qtbot, open_window, tmp_path):
    win = open_window()
    days = np.arange("2019-01-01", "2021-06-30", dtype="datetime64[D]")
    temps = 12 + 8 * np.sin(np.arange(days.size) * 2 * np.pi / 365.25) - 10
    good = tmp_path / "temperature.csv"
    lines = [f"{d},{v:.2f}\n" for d, v in zip(days, temps, strict=True)]
    good.write_text("date,celsius\n" + "".join(lines), encoding="utf-8")
    assert win.import_csv(str(good))
    qtbot.waitUntil(lambda: win.run_info.config.dataset == str(good), timeout=10000)
    win.step()
    wait_update(qtbot, win, 1)
    assert np.isfinite(win.latest.train_loss)


def test_closing_during_training_leaves_no_running_thread(qtbot, settings_dir):
    before = {t for t in threading.enumerate() if not isinstance(t, threading._DummyThread)}
    win = MainWindow(LINEAR.replace(model="relu", units=20, days=7, optimizer="adam",
                                    lr=0.003), theme="dark")
    win.show()
    qtbot.waitUntil(lambda: win.run_info is not None, timeout=20000)
    win.play()
    wait_update(qtbot, win, 5)
    win.close()
    assert not win.handle.running
    assert not win.handle.thread.isRunning()
    for thread in win.findChildren(QThread):
        assert not thread.isRunning()
    after = {t for t in threading.enumerate() if not isinstance(t, threading._DummyThread)}
    assert {t for t in after - before if t.is_alive()} == set()


def test_theme_and_layout_are_remembered(qtbot, settings_dir):
    win = MainWindow(LINEAR, theme="projector")
    win.show()
    win.docks["loss"].hide()
    win.close()
    again = MainWindow(LINEAR)
    try:
        assert again.theme.name == "projector"
        assert not again.docks["loss"].isVisibleTo(again)
    finally:
        again.close()
    assert (settings_dir / "FunctionLab.ini").is_file()


def test_every_preset_loads():
    for name in ("linear-1day", "linear-7day", "relu-3layers", "sigmoid-3"):
        preset = load_preset(name)
        assert preset.updates and preset.updates > 0
        assert preset.title


@pytest.mark.parametrize("argv", [["--preset", "no-such-preset"], ["--updates", "0"],
                                  ["--theme", "neon"], ["--screenshot", "out.jpg"]])
def test_bad_arguments_exit_2_with_one_line(argv, capsys):
    assert app_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("fnlab: ") and err.count("\n") == 1


def test_screenshot_cli_trains_the_preset_and_saves_the_window(qtbot, settings_dir, tmp_path):
    out = tmp_path / "shot.png"
    assert app_main(["--preset", "linear-1day", "--updates", "20", "--screenshot",
                     str(out)]) == 0
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() >= 1200 and image.height() >= 800
    assert not (settings_dir / "FunctionLab.ini").exists()   # screenshots leave no settings


def test_the_started_app_settles_the_garbage_collector():
    """After start-up the collector only scans new objects (a full pass over the app's
    ~250,000 took up to ~90 ms with the GIL held)."""
    import gc

    from core.runtime import settle_garbage_collector

    assert gc.get_freeze_count() == 0
    try:
        settle_garbage_collector()
        assert gc.get_freeze_count() > 10_000     # every object alive now is set aside
        tracked = len(gc.get_objects())
        assert tracked < gc.get_freeze_count() / 10   # a full pass now scans only new ones
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


def test_the_window_and_lecture_mode_fulfil_the_interface_their_tools_use(open_window):
    """Replay, export, sessions, lecture mode and screenshots depend on
    `gui.window_api.LabWindow`, not on MainWindow: every member it names is there."""
    from gui.lecture import LectureController
    from gui.window_api import LabWindow, LectureMode

    win = open_window()
    names = set(LabWindow.__annotations__) | {
        n for n in vars(LabWindow) if not n.startswith("_")}
    assert [n for n in sorted(names) if not hasattr(win, n)] == []
    assert isinstance(win, LabWindow)
    assert issubclass(LectureController, LectureMode)


def test_a_network_played_at_once_draws_its_path_from_update_zero(qtbot, open_window):
    """Play pressed before the surface has picked the network's pair to track: the path
    still starts at update 0 (the pair travels with the run's start), and the dot of
    update 0 is drawn where the untouched network's pair sits."""
    from PySide6.QtCore import QPointF

    from core.engine import Trainer
    from core.models import get_scalar
    from tests.gui.pixels import colour_mask, grab_rgb

    win = open_window()
    config = LINEAR.replace(model="relu", units=3, optimizer="adam", lr=0.05,
                            limit_updates=30, init=None)
    win.set_config(config)
    win.play()                      # at once: the run has not even reached the views
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.done
                    and win.run_info.config == config, timeout=20000)
    surface = win.surface_view
    qtbot.waitUntil(lambda: surface._image.image is not None and not surface.busy(),
                    timeout=20000)
    snap = win.latest
    assert tuple(snap.track) == surface.names == ("c[1]", "b")
    start = Trainer(config, win.run_info.data).params()      # the network at update 0
    first = [get_scalar(start, name) for name in surface.names]
    assert len(snap.path) == 31                               # updates 0..30, every one
    np.testing.assert_allclose(snap.path[0], first, rtol=1e-9, atol=1e-12)

    plot = surface._plot
    qtbot.wait(50)
    scene = plot.getViewBox().mapViewToScene(QPointF(*first))
    at = plot.mapTo(surface, plot.mapFromScene(scene))
    img = grab_rgb(surface)
    # a filled dot, not a line passing by: the 5 x 5 pixels at its centre are the path's
    dot = colour_mask(img[at.y() - 2:at.y() + 3, at.x() - 2:at.x() + 3],
                      surface.theme.path, tol=40)
    assert dot.mean() > 0.9, dot
