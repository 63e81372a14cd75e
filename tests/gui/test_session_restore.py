"""A session brings the run back exactly where it was: File > Open in a fresh window, and
the restore offered after the app was killed with SIGKILL (a real second process).

Every number is compared: parameters bit for bit, the update count, the loss history, the
path, the step about to be taken, the table rows, the status line's text and the curve
builder; then one more update in the restored run and in the uninterrupted one must agree,
and Play continues from there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.config import RunConfig
from core.engine import Trainer
from gui.live_label import LiveLabel
from gui.main_window import MainWindow

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = {
    "linear-7day-adam-minibatch": RunConfig(days=7, loss="mae", optimizer="adam", lr=3e-3,
                                            batch_size=64, seed=5),
    "relu-2x6-momentum": RunConfig(days=3, model="relu", units=6, layers=2, loss="mse",
                                   optimizer="momentum", lr=3e-4),
}


def status_text(win: MainWindow) -> str:
    return win.statusBar().findChild(LiveLabel).text()


def _settle(qtbot, win: MainWindow) -> Any:
    """Paused, the newest snapshot drawn: what the user sees now."""
    qtbot.waitUntil(lambda: not win.playing and win.latest is not None
                    and win.latest.run_id == win.run_info.run_id
                    and "paused" in status_text(win)
                    and f"update {win.latest.update:,} " in status_text(win), timeout=20000)
    qtbot.wait(150)        # anything still in flight arrives and is drawn
    qtbot.waitUntil(lambda: f"update {win.latest.update:,} " in status_text(win),
                    timeout=10000)
    return win.latest


def _same_snapshot(a: Any, b: Any) -> None:
    assert (a.update, a.epoch, a.done, a.diverged, a.track) == \
        (b.update, b.epoch, b.done, b.diverged, b.track)
    assert (a.train_loss, a.unseen_loss, a.lr) == (b.train_loss, b.unseen_loss, b.lr)
    for key in a.params:
        assert a.params[key].tobytes() == b.params[key].tobytes(), key
        np.testing.assert_array_equal(a.step[key], b.step[key], err_msg=f"step {key}")
    for name in ("hist_update", "hist_train", "hist_unseen", "path"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def _step(qtbot, win: MainWindow) -> Any:
    before = win.latest.update
    win.step()
    qtbot.waitUntil(lambda: win.latest.update == before + 1, timeout=10000)
    return _settle(qtbot, win)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_open_continues_the_run_exactly(qtbot, open_window, tmp_path, name):
    config = CONFIGS[name]
    win = open_window(config)
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.update >= 150,
                    timeout=30000)
    win.pause()
    _settle(qtbot, win)
    win.record()
    win.set_config(config.replace(lr=config.lr / 2))    # a live change: same run
    for _ in range(3):
        _step(qtbot, win)
    builder = win.views["builder"]
    builder.add_piece("relu")
    builder.set_constant(1.5)
    saved = _settle(qtbot, win)
    shown = status_text(win)
    path = tmp_path / "lesson.json"
    assert win.sessions.save(path)

    other = open_window()
    assert other.latest.update == 0 or other.config != win.config
    assert other.sessions.open(path)
    qtbot.waitUntil(lambda: other.latest is not None and other.run_info.config == win.config
                    and other.latest.run_id == other.run_info.run_id, timeout=20000)
    restored = _settle(qtbot, other)
    _same_snapshot(saved, restored)
    assert restored.update == saved.update > 150
    assert status_text(other) == shown                   # the same line, number for number
    assert other.views["table"].rows() == win.views["table"].rows()
    assert other.panel.config == win.panel.config == win.config
    assert other.views["builder"].state() == builder.state()

    _same_snapshot(_step(qtbot, win), _step(qtbot, other))   # the very next update
    assert status_text(other) == status_text(win)

    other.play()                                         # Play continues from there
    qtbot.waitUntil(lambda: other.latest.update > saved.update + 5, timeout=20000)
    other.pause()
    assert other.latest.run_id == other.run_info.run_id


CHILD = textwrap.dedent("""
    import sys, time
    from core import session as S
    from core.config import RunConfig
    from core.engine import Trainer
    config = RunConfig(days=7, loss="mae", optimizer="adam", lr=3e-3, batch_size=64, seed=5)
    trainer = Trainer(config)
    for n in (1, 30, 200):
        trainer.run(n)
    rows = [{"model": "killed", "days": 7, "units": 0, "layers": 0, "activation": "",
             "loss": "MAE", "optimizer": "adam", "lr": 3e-3, "batch": 64, "updates": 231,
             "train_loss": 1.0, "unseen_loss": 2.0, "seconds": 0.5, "diverged": False,
             "lecture": "", "scale": 1000.0, "suffix": "k"}]
    slot = S.AutosaveSlot(sys.argv[1])
    slot.write(S.Session(config=config.to_dict(), rows=rows,
                         training=trainer.export_state()))
    print(slot.path, flush=True)
    time.sleep(600)
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_restore_after_kill_9_continues_the_run_exactly(qtbot, settings_dir, open_window):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(settings_dir)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        autosave = Path(child.stdout.readline().strip())
        assert autosave.exists()
        alive = open_window()
        assert not alive.sessions.offering               # its app still runs
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(30)
        child.stdout.close()

    win = open_window()
    assert win.sessions.offering
    assert "231 updates" in win.sessions.restore_bar.label.text()
    qtbot.mouseClick(win.sessions.restore_bar.restore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.run_info.config.days == 7 and win.latest is not None
                    and win.latest.run_id == win.run_info.run_id, timeout=20000)
    restored = _settle(qtbot, win)
    assert not autosave.exists()

    uninterrupted = Trainer(CONFIGS["linear-7day-adam-minibatch"])
    for n in (1, 30, 200):
        uninterrupted.run(n)
    _same_snapshot(uninterrupted.snapshot(), restored)
    assert f"update 231   epoch {restored.epoch:,.2f}" in status_text(win)
    assert [r["model"] for r in win.views["table"].rows()] == ["killed"]
    uninterrupted.step()
    _same_snapshot(uninterrupted.snapshot(), _step(qtbot, win))
