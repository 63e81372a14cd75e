"""The app under bad input, extreme settings and switches mid-training.

- Every file of the bad-CSV corpus imported through `MainWindow.import_csv`: a refused one
  shows one line in the banner and leaves the current run (run id, config) alone.
- Settings at their extremes pushed through `set_config`: a few updates or a clear banner,
  and the app keeps training afterwards.
- Closing, switching dataset or preset, and importing while training or while a network's
  slice is being computed: no thread left running, no Qt warning, and no frame of the
  old run drawn after the new run started (every view's drawn run id is checked).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import RunConfig
from core.data import DATASET_DIR
from gui.app import load_preset
from gui.main_window import MainWindow
from tests.core.test_csv_corpus import CSV, EXPECTED, TOO_SHORT

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

LINEAR = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                   lr=0.05, init=(0.0, 0.0))
NET = RunConfig(dataset="channel", days=1, model="relu", units=3, loss="mae",
                optimizer="adam", lr=0.01)


@pytest.fixture
def window(open_window):
    """A window per call; `open_window` checks at teardown that every thread stopped."""
    return lambda config=LINEAR: open_window(config, size=(1200, 800))


def spy_draws(win: MainWindow) -> list[tuple[str, int]]:
    """Record (view, run id) of every snapshot a view actually draws."""
    drawn: list[tuple[str, int]] = []
    for key, view in win.views.items():
        if not hasattr(view, "_draw"):
            continue
        original = view._draw

        def draw(snap, _orig=original, _key=key):
            drawn.append((_key, int(snap.run_id)))
            return _orig(snap)

        view._draw = draw
    return drawn


# --- the bad-CSV corpus through the app --------------------------------------------------

def test_every_corpus_file_imports_or_leaves_the_run_alone(qtbot, window):
    win = window()
    for name in sorted(EXPECTED):
        path = str(CSV / name)
        run, config = win.run_info.run_id, win.config
        ok = win.import_csv(path)
        if EXPECTED[name][0] == "load" and name not in TOO_SHORT:
            assert ok, (name, win.banner.text())
            qtbot.waitUntil(lambda p=path: win.run_info.config.dataset == p, timeout=10000)
            assert win.run_info.run_id != run
        else:
            assert not ok, name
            text = win.banner.text()
            assert text.startswith(f"Cannot import {name}: ") and "\n" not in text
            assert "Traceback" not in text
            qtbot.wait(5)
            assert win.run_info.run_id == run and win.config == config
        win.banner.dismiss()
    win.step()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.update >= 1, timeout=10000)


# --- settings at their extremes through the window -----------------------------------------

EXTREMES = [
    {"lr": 1e-9}, {"lr": 1e6}, {"batch_size": 1}, {"batch_size": 10**9},
    {"model": "relu", "units": 1, "optimizer": "adam", "lr": 0.01},
    {"model": "relu", "units": 4096, "optimizer": "adam", "lr": 0.01},
    {"model": "sigmoid", "units": 2, "layers": 10, "optimizer": "adam", "lr": 0.01},
    {"model": "relu", "units": 2, "layers": 1, "lr": 1e6, "optimizer": "gd"},
    {"days": 365}, {"days": 1},
]


def test_extreme_settings_train_or_diverge_and_the_app_keeps_working(qtbot, window):
    win = window()
    for change in EXTREMES:
        cfg = win.config.replace(**change)
        win.set_config(cfg)
        qtbot.waitUntil(lambda c=cfg: win.run_info.config == c or win.config == c,
                        timeout=15000)
        start = win.latest.update if win.latest is not None else 0
        for _ in range(3):
            win.step()
        qtbot.waitUntil(lambda s=start: win.latest is not None and (
            win.latest.update >= s + 3 or win.latest.diverged), timeout=15000)
        if win.latest.diverged:
            qtbot.waitUntil(lambda: "diverged" in win.banner.text(), timeout=5000)
            rows = win.views["table"].rows() if hasattr(win.views["table"], "rows") else None
            if rows is not None:
                assert rows[-1]["diverged"] is True
            win.banner.dismiss()
    # still alive: a sane run trains
    win.set_config(LINEAR)
    qtbot.waitUntil(lambda: win.run_info.config == LINEAR, timeout=10000)
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.update >= 20, timeout=10000)
    win.pause()


# --- switching mid-flight: no stale frame, no thread left -----------------------------------

def _switch_and_check(qtbot, win: MainWindow, switch) -> None:
    drawn = spy_draws(win)
    old = win.run_info.run_id
    switch()
    qtbot.waitUntil(lambda: win.run_info.run_id != old, timeout=15000)
    new = win.run_info.run_id
    mark = len(drawn)
    win.play()
    qtbot.waitUntil(lambda: any(r == new for _, r in drawn[mark:]), timeout=15000)
    qtbot.wait(100)
    assert all(r == new for _, r in drawn[mark:]), drawn[mark:]
    for key, view in win.views.items():
        if hasattr(view, "current_run_id") and key != "table":
            assert view.current_run_id in (None, new)


@pytest.mark.parametrize("config", [LINEAR, NET], ids=["linear", "network"])
def test_switch_dataset_preset_and_import_while_training(qtbot, window, config):
    win = window(config)
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.update >= 5, timeout=10000)
    if config.model != "linear":   # a slice is being computed right now (or just was)
        win.views["surface"].refresh_slice()
    _switch_and_check(qtbot, win, lambda: win.set_config(win.config.replace(dataset="births")))
    if config.model != "linear":
        win.views["surface"].refresh_slice()
    preset = load_preset("sigmoid-3" if config.model == "linear" else "linear-7day")
    _switch_and_check(qtbot, win, lambda: win.set_config(preset.config))
    good = str(DATASET_DIR / "wikipedia.csv")         # long enough for a 56-day preset
    _switch_and_check(qtbot, win, lambda: win.import_csv(good))
    assert win.run_info.config.dataset == good
    win.pause()


def test_close_while_training_and_while_a_slice_is_computed(qtbot, window):
    win = window(NET.replace(units=64, layers=2))
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.update >= 3, timeout=10000)
    win.views["surface"].refresh_slice()
    win.close()                                  # joined by the fixture's checks too
    assert not win.handle.running
    assert not win.views["surface"].busy()


def test_lecture_steps_while_training_leave_no_stale_frame(qtbot, window):
    lecture = pytest.importorskip("gui.lecture")
    from PySide6.QtWidgets import QApplication

    from core.lecture_steps import load_steps

    win = window()
    steps, _errors = load_steps()
    steps = [s for s in steps if not s.options.get("tables")][:4]
    if not steps:
        pytest.skip("no lecture steps without background tables")
    ctrl = lecture.LectureController(win, steps, [])
    try:
        drawn = spy_draws(win)
        for i in range(len(steps)):
            win.play()
            qtbot.wait(60)
            ctrl.go(i)
            qtbot.waitUntil(lambda: win.run_info.config.dataset == ctrl.step.config.dataset,
                            timeout=15000)
            qtbot.wait(150)
            mark, rid = len(drawn), win.run_info.run_id
            qtbot.wait(150)
            if win.run_info.run_id == rid:
                assert all(r == rid for _, r in drawn[mark:]), drawn[mark:]
    finally:
        win.pause()
        QApplication.instance().removeEventFilter(ctrl._filter)


def test_corpus_dir_is_the_one_the_core_tests_use():
    assert Path(CSV).is_dir() and len(list(Path(CSV).glob("*.csv"))) == len(EXPECTED)
