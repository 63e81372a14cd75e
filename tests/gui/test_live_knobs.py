"""Live changes, compared where the class reads them: the knob, the status line, the
surface's and loss view's names, the table row, and the trainer's own numbers (the next
step's size, the loss it reports)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core.config import RunConfig, updates_per_epoch
from core.engine import Trainer
from core.results import format_loss
from gui.views.table_view import COLUMNS

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

LINEAR = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                   lr=0.05, init=(0.0, 0.0))


def shown_row(win, i: int = -1) -> dict[str, str]:
    """A table row as its cells read on screen."""
    model = win.views["table"].table.model()
    r = model.rowCount() + i if i < 0 else i
    return {c: str(model.index(r, k).data()) for k, c in enumerate(COLUMNS)}


def step_once(qtbot, win) -> tuple[object, object]:
    """(snapshot before, snapshot after) one Step."""
    qtbot.waitUntil(lambda: win.latest is not None, timeout=5000)
    before = win.latest
    win.step()
    qtbot.waitUntil(lambda: win.latest.update == before.update + 1, timeout=5000)
    qtbot.wait(100)   # the frame that draws it
    return before, win.latest


def moved(a, b) -> np.ndarray:
    return np.array([np.ravel(b.params["w"])[0] - np.ravel(a.params["w"])[0],
                     float(b.params["b"]) - float(a.params["b"])])


def planned(snap) -> np.ndarray:
    return np.array([np.ravel(snap.step["w"])[0], float(snap.step["b"])])


def record(qtbot, win) -> dict[str, str]:
    n = len(win.views["table"].rows())
    QTest.keyClick(win, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(win.views["table"].rows()) == n + 1, timeout=5000)
    return shown_row(win)


def test_a_typed_learning_rate_is_the_one_that_trains_and_is_recorded(qtbot, open_window):
    win = open_window(LINEAR)
    step_once(qtbot, win)
    box = win.panel.lr.edit
    box.setFocus()
    box.selectAll()
    QTest.keyClicks(box, "0,005")          # a decimal comma, and no Enter
    row = record(qtbot, win)               # Ctrl+R while the box still has the focus
    assert box.text() == "0.005"
    assert row["lr"] == "0.005"
    # The status line shows what the worker confirms (its next frame): give it that frame.
    qtbot.waitUntil(lambda: "η = 0.005" in win.status_text, timeout=2000)
    before, after = step_once(qtbot, win)
    assert after.lr == 0.005
    grad = np.array([np.ravel(before.grad["w"])[0], float(before.grad["b"])])
    np.testing.assert_allclose(planned(before), -0.005 * grad, rtol=1e-9)
    np.testing.assert_allclose(moved(before, after), planned(before), rtol=1e-6)


def test_a_bad_typed_learning_rate_is_named_and_the_box_shows_the_one_in_use(qtbot,
                                                                            open_window):
    win = open_window(LINEAR)
    box = win.panel.lr.edit
    box.setFocus()
    box.selectAll()
    QTest.keyClicks(box, "fast")
    win.play()
    qtbot.waitUntil(lambda: "is not a number" in win.banner.text(), timeout=5000)
    assert box.text() == "0.05"
    # (the banner may come before the run's first snapshot: a fresh clone's suite saw it)
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.update > 0, timeout=5000)
    assert win.latest.lr == 0.05


def test_mae_to_mse_changes_the_surface_the_axes_the_status_and_the_row(qtbot, open_window):
    win = open_window(LINEAR)
    for _ in range(3):
        step_once(qtbot, win)
    win.panel.loss.setCurrentIndex(win.panel.loss.findData("mse"))
    win.panel.flush()
    qtbot.waitUntil(lambda: win.config.loss == "mse", timeout=5000)
    before, after = step_once(qtbot, win)
    assert before.update == 3                      # the same run goes on
    surface, loss = win.views["surface"], win.views["loss"]
    assert "MSE" in surface._title_label.text() and "MAE" not in surface._title_label.text()
    assert surface._bar.toolTip().startswith("MSE")
    assert "MSE" in loss._title_label.text()
    assert loss._plot.getPlotItem().getAxis("left").labelText.startswith("MSE")
    assert "MSE" in win.status_text and "MAE" not in win.status_text
    # the surface drawn is the MSE surface: its minimum is the least-squares line's
    data = win.run_info.data
    x, y = data.x_train[:, 0], data.y_train
    w_ls = np.polyfit(x, y, 1)[0]
    assert surface._surface.w_star == pytest.approx(w_ls, rel=1e-6)
    # the trainer's loss is the MSE at its parameters, and the row shows that number
    check = Trainer(win.config.replace(init=None), data)
    check.set_start(float(np.ravel(after.params["w"])[0]), float(after.params["b"]))
    assert after.train_loss == pytest.approx(check.train_loss(), rel=1e-6)
    row = record(qtbot, win)
    assert row["loss"] == "MSE"
    shown = format_loss(after.train_loss, data.scale, data.suffix)
    assert row["train_loss"] == shown
    assert f"training loss L = {shown}" in win.status_text


def test_optimizer_and_batch_changes_agree_everywhere(qtbot, open_window):
    win = open_window(LINEAR)
    step_once(qtbot, win)
    win.panel.optimizer.setCurrentIndex(win.panel.optimizer.findData("adam"))
    win.panel.flush()
    qtbot.waitUntil(lambda: win.config.optimizer == "adam", timeout=5000)
    before, after = step_once(qtbot, win)
    # Adam's first step after the switch is lr in each coordinate (its state was reset)
    np.testing.assert_allclose(np.abs(moved(before, after)), [0.05, 0.05], rtol=1e-3)
    assert "Adam" in win.status_text
    assert record(qtbot, win)["optimizer"] == "adam"

    win.panel.full_batch.setChecked(False)
    win.panel.batch.setValue(64)
    win.panel.flush()
    qtbot.waitUntil(lambda: win.config.batch_size == 64, timeout=5000)
    before, after = step_once(qtbot, win)
    n = len(win.run_info.data.y_train)
    assert after.epoch - before.epoch == pytest.approx(1 / updates_per_epoch(n, 64))
    assert "B = 64" in win.status_text
    assert "B = 64" in win.views["loss"]._epoch_note.text()
    assert record(qtbot, win)["batch"] == "64"
