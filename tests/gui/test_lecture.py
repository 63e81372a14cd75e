# Over 450 lines: one subject, lecture mode, each step checked on screen as a class sees it.
"""Lecture mode: a clicker walks the whole lecture forward and back, and each step's views
show what its caption promises."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from core.lecture_steps import LECTURE_DIR, load_steps
from gui.app import open_lecture
from gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
UPDATE_CAP = 300          # entry training per step in the walk (the real steps train more)


@pytest.fixture
def fast_steps(tmp_path) -> Path:
    """The shipped steps with smaller budgets, so the walk is quick."""
    folder = tmp_path / "lecture"
    folder.mkdir()
    for path in sorted(LECTURE_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        if "local-minimum" not in path.name:
            raw["updates"] = min(raw.get("updates", 0), UPDATE_CAP)
        if raw.get("speed"):
            raw["speed"] = 60
        cfg = raw["config"]
        if "tables" in raw.get("options", {}):
            raw["options"]["tables"] = {"net_updates": 600}  # the story holds from ~600
        elif cfg.get("units", 0) >= 100:
            cfg["units"] = 20
        (folder / path.name).write_text(json.dumps(raw), encoding="utf-8")
    return folder


@pytest.fixture
def lecture(qtbot, settings_dir):
    made = []

    def make(folder: Path = LECTURE_DIR, step: int = 0):
        win = MainWindow(theme="projector", persist=False)
        win.resize(1400, 900)
        win.show()
        ctl = open_lecture(win, step, folder)
        made.append((win, ctl))
        return win, ctl

    yield make
    for win, ctl in made:
        win.close()
        assert not win.handle.running
        assert ctl._tables is None


def wait_ready(qtbot, ctl, timeout: int = 60000) -> None:
    qtbot.waitUntil(lambda: ctl.ready, timeout=timeout)


def focus_a_spin_box(win) -> None:
    """Clickers must turn pages even when a spin box has the keyboard focus."""
    from PySide6.QtWidgets import QAbstractSpinBox

    boxes = win.panel.findChildren(QAbstractSpinBox)
    if boxes:
        boxes[0].setFocus()


def test_shipped_steps_load_without_errors_and_cover_the_lecture():
    steps, errors = load_steps()
    assert errors == []
    names = " ".join(s.name for s in steps)
    for slug in ("task", "model", "loss-mae", "loss-mse", "error-surface", "gradient-descent",
                 "lr-small", "lr-good", "lr-large", "local-minimum", "days-7", "days-28",
                 "days-56", "model-bias", "builder", "sigmoids", "batches", "relu",
                 "more-relus", "more-layers", "overfitting"):
        assert slug in names


def test_a_broken_step_file_is_named_in_one_line_and_the_others_still_load(tmp_path):
    for path in sorted(LECTURE_DIR.glob("*.json"))[:2]:
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "05-broken.json").write_text("{ not json", encoding="utf-8")
    (tmp_path / "06-badlr.json").write_text(json.dumps(
        {"title": "t", "caption": "c", "config": {"lr": -1}, "views": ["series"]}))
    (tmp_path / "07-badview.json").write_text(json.dumps(
        {"title": "t", "caption": "c", "config": {}, "views": ["nowhere"]}))
    steps, errors = load_steps(tmp_path)
    assert len(steps) == 2
    assert len(errors) == 3
    assert all("\n" not in e for e in errors)
    assert errors[0].startswith("05-broken.json: not valid JSON")
    assert errors[1].startswith("06-badlr.json: config: learning rate")
    assert errors[2].startswith("07-badview.json: unknown view(s) nowhere")


def test_a_broken_step_shows_a_banner_and_lecture_mode_still_opens(qtbot, lecture, tmp_path):
    shutil.copy(sorted(LECTURE_DIR.glob("*.json"))[0], tmp_path / "01-task.json")
    (tmp_path / "02-broken.json").write_text("[1, 2", encoding="utf-8")
    win, ctl = lecture(tmp_path)
    assert len(ctl.steps) == 1
    assert "02-broken.json" in win.banner.text()
    wait_ready(qtbot, ctl)


def test_walk_every_step_forward_and_back_with_the_clicker_keys(qtbot, lecture, fast_steps):
    win, ctl = lecture(fast_steps)
    n = len(ctl.steps)
    seen = {}
    forward = [Qt.Key.Key_PageDown, Qt.Key.Key_Right, Qt.Key.Key_Space]
    for i in range(n):
        assert ctl.index == i
        step = ctl.steps[i]
        wait_ready(qtbot, ctl, 120000)
        qtbot.waitUntil(lambda: win.latest is not None and win.latest.run_id == ctl._run_id,
                        timeout=10000)
        for key in step.views:
            assert win.docks[key].isVisible(), (step.name, key)
        hidden = [k for k in win.docks if k not in step.views]
        assert not any(win.docks[k].isVisible() for k in hidden), step.name
        seen[step.name.split("-", 1)[1].removesuffix(".json")] = check_step(qtbot, win, ctl)
        focus_a_spin_box(win)
        QTest.keyClick(win, forward[i % 3])
    assert ctl.index == n - 1            # past the end stays on the last step
    back = [Qt.Key.Key_PageUp, Qt.Key.Key_Left]
    for i in range(n - 1, 0, -1):
        QTest.keyClick(win, back[i % 2])
        assert ctl.index == i - 1
    assert win.views["table"].rows() is not None
    assert seen["lr-large"] == "diverged"
    assert seen["lr-compare"] == "three rates"


def check_step(qtbot, win, ctl) -> str:
    """What a step promises, checked on what the views show now."""
    step = ctl.step
    slug = step.name.split("-", 1)[1].removesuffix(".json")
    snap = win.latest
    if slug == "model":
        before = win.views["series"]._pred.copy()
        ctl.panel.sliders.w_slider.setValue(ctl.panel.sliders.w_slider.value() + 60)
        qtbot.waitUntil(lambda: win.latest.params["w"][0] > snap.params["w"][0] + 0.2,
                        timeout=10000)
        qtbot.waitUntil(lambda: not np.allclose(win.views["series"]._pred, before,
                                                equal_nan=True), timeout=10000)
        return "estimate moved"
    if slug in ("loss-mae", "loss-mse"):
        series = win.views["series"]
        qtbot.waitUntil(lambda: series.errors_shown() > 1000, timeout=10000)
        return "errors drawn"
    if slug == "lr-large":
        qtbot.waitUntil(lambda: win.latest.diverged, timeout=10000)
        return "diverged"
    if slug == "lr-compare":
        gallery = win.views["gallery"]
        assert [r.status for r in gallery.shown] == ["finished", "finished", "diverged"]
        return "three rates"
    if slug in ("lr-small", "lr-good"):
        assert not snap.diverged
        return "converging"
    if slug == "local-minimum":
        surf = win.views["surface"]
        assert surf.names == ("W1[1,1]", "W1[2,1]")
        return "slice"
    if slug == "batches":
        ref = win.views["surface"].reference_path()
        assert ref is not None and len(ref) > 10
        assert win.config.batch_size == 32
        return "reference path"
    if slug == "overfitting":   # the tables; which claims hold: tests/core/test_lecture_story
        rows = win.views["table"].rows()
        assert len(rows) == 12
        days = [r["unseen_loss"] for r in rows if r.get("table") == 1][:3]
        assert days[0] > days[1] > days[2]
        # under the caption: each claim said to hold or not, as decided from these rows
        from core.experiments import STORY_CLAIMS, story_checks
        from gui.lecture_notes import STORY_SHORT

        shown = _shown(ctl.panel.values)
        assert ctl.panel.values.isVisible() and ("Holds:" in shown or "NOT" in shown)
        failing = shown.split("Does NOT hold:")[1] if "NOT" in shown else ""
        checks = story_checks(rows)
        assert len(checks) == len(STORY_SHORT) == len(STORY_CLAIMS)
        for short, check in zip(STORY_SHORT, checks, strict=True):
            assert short in shown
            assert (short in failing) == bool(check["failed"]), check
        # a "Why:" line names only rows still learning at the end (their own histories)
        from core.experiments import STILL_LEARNING
        why = shown.split("Why:")[1].split(": ", 1)[-1] if "Why:" in shown else ""
        named = {re.sub(r" −[\d.]+ %$", "", part) for part in why.split(", ") if part}
        learning = {r["label"].removeprefix("56 days, ") for r in rows
                    if r["train_late_fall"] > STILL_LEARNING}
        assert named <= learning, (named, learning)
        return "tables"
    return "shown"


def test_space_and_arrows_turn_pages_even_with_a_focused_spin_box(qtbot, lecture, fast_steps):
    win, ctl = lecture(fast_steps)
    wait_ready(qtbot, ctl)
    focus_a_spin_box(win)
    QTest.keyClick(win.focusWidget() or win, Qt.Key.Key_PageDown)
    assert ctl.index == 1
    QTest.keyClick(win.focusWidget() or win, Qt.Key.Key_Left)
    assert ctl.index == 0


def test_lecture_step_screenshot_writes_a_png(tmp_path, settings_dir):
    out = tmp_path / "step3.png"
    proc = subprocess.run([sys.executable, "-m", "gui.app", "--lecture", "--step", "3",
                           "--screenshot", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = subprocess.run([sys.executable, "-m", "gui.app", "--lecture", "--step", "0",
                          "--screenshot", str(out)], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "--step" in bad.stderr


def test_the_shortcut_overlay_lists_the_clicker_keys(qtbot, lecture):
    win, ctl = lecture()
    wait_ready(qtbot, ctl)
    entries = dict(win.shortcut_overlay.entries())
    assert "Space" in entries["Next lecture step"]
    assert "PgUp" in entries["Previous lecture step"]
    assert "F11" in entries["Present full screen / leave"]
    # Space and Right turn pages here, so Play / Step are listed without them
    assert "Space" not in entries.get("Play / Pause", "")
    assert "Right" not in entries.get("Step one update", "")
    win.shortcut_overlay.open()
    assert "Next lecture step" in win.shortcut_overlay.label.text()
    win.shortcut_overlay.close_overlay()
    ctl.shutdown()
    assert "Next lecture step" not in dict(win.shortcut_overlay.entries())


def _menu_keys(win, title: str) -> dict[str, str]:
    """What a menu shows: each entry's text and the key text Qt draws beside it."""
    menu = next(a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == title)
    return {a.text(): a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            for a in menu.actions() if a.text()}


def test_the_run_menu_shows_the_keys_that_act_in_lecture_mode(qtbot, lecture, fast_steps):
    win, ctl = lecture(fast_steps, step=5)       # gradient descent: a step that plays
    wait_ready(qtbot, ctl)
    shown = _menu_keys(win, "Run")
    assert "Space" not in " ".join(shown.values())
    assert shown["Play / Pause"] == "P"
    assert shown["Step one update"] == "S"
    win.pause()
    qtbot.waitUntil(lambda: not win.playing, timeout=5000)
    page = ctl.index
    QTest.keyClick(win, Qt.Key.Key_P)             # the key the menu shows plays ...
    qtbot.waitUntil(lambda: win.playing, timeout=5000)
    assert ctl.index == page
    QTest.keyClick(win, Qt.Key.Key_P)             # ... and pauses
    qtbot.waitUntil(lambda: not win.playing, timeout=5000)
    QTest.keyClick(win, Qt.Key.Key_Space)         # Space turns the page, as the overlay says
    assert ctl.index == page + 1
    ctl.shutdown()                                # out of lecture mode Space plays again
    assert _menu_keys(win, "Run")["Play / Pause"] == "Space"


def _one_step(tmp_path: Path, slug: str, **changes) -> Path:
    """A lecture folder holding only the shipped step `slug`, with `changes` applied."""
    folder = tmp_path / "one"
    folder.mkdir(exist_ok=True)
    path = next(LECTURE_DIR.glob(f"*{slug}*.json"))
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw.update(changes)
    (folder / path.name).write_text(json.dumps(raw), encoding="utf-8")
    return folder


def test_too_large_a_rate_shows_numbered_jumps_from_side_to_side(qtbot, lecture, tmp_path):
    win, ctl = lecture(_one_step(tmp_path, "lr-large", speed=200))
    wait_ready(qtbot, ctl)
    surface = win.views["surface"]
    star_w = surface._surface.w_star
    dots = surface.path_dots()
    assert len(dots) > 10
    numbers = surface.path_numbers()
    assert [int(t) for t, _, _ in numbers] == list(range(len(numbers)))
    assert len(numbers) >= 6, "fewer than six jumps shown before the path leaves"
    sides = [np.sign(a - star_w) for _, a, _ in numbers[1:]]
    assert all(s1 == -s0 for s0, s1 in pairwise(sides))
    gaps = [abs(a - star_w) for _, a, _ in numbers[1:]]     # each side's jumps grow
    assert all(g2 > g0 for g0, g2 in zip(gaps, gaps[2:], strict=False))
    assert numbers[1][1] > star_w                  # the caption: update 1 lands right
    assert "right" in ctl.step.caption


def test_a_step_is_ready_once_the_screen_shows_its_runs_end(qtbot, lecture, tmp_path):
    """A step that trains on entry is ready when a frame has drawn its run's last update,
    not when the run ends: the window draws that update on its next frame, after. Ready
    at once, a fresh clone's suite under load read a surface that showed the first
    update's dot only, and a screenshot would show a frame before the end. The status
    line grabbed the moment the step is ready (widget.grab()) is the one still shown
    later, and the frame drawn last is the run's end."""
    from tests.gui.pixels import grab_rgb

    win, ctl = lecture(_one_step(tmp_path, "lr-large", speed=200))
    assert not ctl.ready
    ends: list[int] = []
    drawn: list[int] = []
    at_ready: list[tuple[int, np.ndarray]] = []
    win.worker.run_finished.connect(lambda end: ends.append(end.snapshot.update))
    win.frame_drawn.connect(lambda snap: drawn.append(snap.update))
    # (the lecture hears of a frame before this test does: the frame that makes the step
    # ready is counted after it)
    ctl.step_ready.connect(lambda _i: at_ready.append((len(drawn), grab_rgb(win.statusBar()))))
    wait_ready(qtbot, ctl)
    assert len(at_ready) == 1 and ends
    before, status = at_ready[0]
    qtbot.wait(300)
    assert drawn[before:] and set(drawn[before:]) == {ends[-1]}, (drawn[before:], ends)
    assert np.array_equal(grab_rgb(win.statusBar()), status)


def _shown(label) -> str:
    """The text a rich-text label draws."""
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def _bar_pixel_width(view, x: float, y: float) -> int:
    """Width in pixels of the error bar through (x, y) (plot units) in a grab of `view`."""
    from PySide6.QtCore import QPointF

    from gui.views.series_view import error_bar_color

    plot = view._plot
    scene = plot.getViewBox().mapViewToScene(QPointF(x, y))
    at = plot.mapTo(view, plot.mapFromScene(scene))
    img = view.grab().toImage()
    want = error_bar_color(view.theme)

    def is_bar(px: int) -> bool:
        c = img.pixelColor(px, at.y())
        return abs(c.red() - want.red()) + abs(c.green() - want.green()) \
            + abs(c.blue() - want.blue()) < 30

    # a 1-px grid line may cross the bar: runs join over gaps of up to 2 px
    bar = [px for px in range(max(0, at.x() - 60), min(img.width(), at.x() + 61))
           if is_bar(px)]
    assert bar, "no bar colour around the bar's centre"
    runs, start = [], bar[0]
    for a, b in pairwise(bar):
        if b - a > 3:
            runs.append((start, a))
            start = b
    runs.append((start, bar[-1]))
    left, right = min(runs, key=lambda r: min(abs(r[0] - at.x()), abs(r[1] - at.x())))
    return right - left + 1


@pytest.mark.parametrize("theme", ["projector", "dark"])
def test_the_loss_step_draws_each_error_as_a_visible_bar(qtbot, lecture, theme):
    win, ctl = lecture(step=2)
    win.apply_theme(theme)
    wait_ready(qtbot, ctl)
    series = win.views["series"]
    qtbot.waitUntil(lambda: series.errors_shown() > 1000, timeout=10000)
    x, low, high = series.error_bars()
    (x0, x1), _ = series._plot.getViewBox().viewRange()
    seen = np.flatnonzero((x > x0) & (x < x1))
    tallest = seen[np.argmax((high - low)[seen])]
    width = _bar_pixel_width(series, x[tallest], 0.5 * (low[tallest] + high[tallest]))
    assert width >= 8, f"an error bar is {width} px wide"


def test_the_mse_step_shows_mae_and_mse_side_by_side_with_their_values(qtbot, lecture):
    from core.data import load_builtin, window

    win, ctl = lecture(step=3)
    wait_ready(qtbot, ctl)
    assert ctl.step.config.loss == "mse"
    qtbot.waitUntil(lambda: ctl.panel.values.isVisible() and "MAE" in _shown(ctl.panel.values),
                    timeout=10000)
    text = _shown(ctl.panel.values)
    cfg = ctl.step.config
    data = window(load_builtin(cfg.dataset), cfg.days, cfg.split)
    w, b = cfg.init
    e = (b + w * data.x_train[:, 0] - data.y_train) * data.scale
    mae, mse = float(np.mean(np.abs(e))), float(np.mean(e * e))
    assert f"MAE = {mae:,.0f} views" in text
    assert f"MSE = {mse:,.0f} views2" in text                 # views² (2 set as a power)
    assert f"√MSE = {np.sqrt(mse):,.0f} views" in text
    assert abs(win.latest.train_loss - mse) < 1e-6 * mse       # the trainer's own MSE
    label = ctl.panel.values
    assert label.height() < 2 * label.fontMetrics().height()   # one line: side by side
    img = label.grab().toImage()
    fg = label.palette().windowText().color()
    ink = sum(1 for px in range(0, img.width(), 2) for py in range(0, img.height(), 2)
              if abs(img.pixelColor(px, py).lightness() - fg.lightness()) < 40)
    assert ink > 50, "the values are not drawn"


def test_two_relus_are_fitted_into_a_flat_ramp_flat_hard_sigmoid(qtbot, lecture):
    step = next(i for i, s in enumerate(load_steps()[0]) if "relu" in s.name
                and "two" in s.title.lower())
    win, ctl = lecture(step=step)
    wait_ready(qtbot, ctl)
    builder = win.views["builder"]
    qtbot.waitUntil(lambda: not builder.fitting, timeout=60000)
    assert win.docks["builder"].isVisible()
    pieces = builder.drawn_pieces()
    assert [p.kind for p in builder.pieces] == ["relu", "relu"]
    x, total = builder.drawn_sum()
    t = builder.target
    inside = (x >= t.xs[0]) & (x <= t.xs[-1])
    rise = float(np.ptp(total[inside]))
    assert rise > 0.5 * float(np.ptp(t.ys))
    for k, y in enumerate(pieces):           # alive: each is zero somewhere, moves elsewhere
        y = y[inside]
        assert np.mean(np.abs(y) < 1e-6 * rise) > 0.1, f"ReLU {k + 1} never switches off"
        assert np.ptp(y) > 0.3 * rise, f"ReLU {k + 1} is dead (flat)"
    thirds = np.array_split(np.flatnonzero(inside), 5)
    first, last = total[thirds[0]], total[thirds[-1]]
    middle = total[thirds[2]]
    assert np.ptp(first) < 0.03 * rise and np.ptp(last) < 0.03 * rise     # flat, flat
    assert np.all(np.diff(middle) > 0) and np.ptp(middle) > 0.1 * rise     # ramp
    assert abs(float(np.mean(last)) - float(np.mean(first)) - rise) < 0.05 * rise
    # both pieces reach the screen in their own colours (alpha 190 over the background)
    from PySide6.QtGui import QColor

    from gui.views.builder_view import PALETTE

    img = builder.plot.grab().toImage()
    back = QColor(builder.theme.background)
    for colour in PALETTE[:2]:
        c = QColor(colour)
        want = [round(a * 190 / 255 + b * 65 / 255) for a, b in
                ((c.red(), back.red()), (c.green(), back.green()), (c.blue(), back.blue()))]
        hits = sum(1 for px in range(img.width()) for py in range(0, img.height(), 2)
                   if abs(img.pixelColor(px, py).red() - want[0])
                   + abs(img.pixelColor(px, py).green() - want[1])
                   + abs(img.pixelColor(px, py).blue() - want[2]) < 40)
        assert hits > 100, f"piece colour {colour} not on screen ({hits} px)"


@pytest.mark.parametrize("theme", ["projector", "dark"])
def test_the_sigmoid_step_shows_every_piece_whole_and_the_constant_uncovered(
        qtbot, lecture, theme):
    from PySide6.QtCore import QPointF

    step = next(i for i, s in enumerate(load_steps()[0]) if "sigmoids" in s.name)
    win, ctl = lecture(step=step)
    win.apply_theme(theme)
    wait_ready(qtbot, ctl)
    fit = win.views["fit"]
    qtbot.wait(300)
    vb = fit._plot.getViewBox()
    (_, _), (y0, y1) = vb.viewRange()
    pieces = [y for _, y in fit._pieces.lines()]
    assert len(pieces) == ctl.step.config.units
    for k, y in enumerate(pieces):
        assert y0 <= float(np.min(y)) and float(np.max(y)) <= y1, f"piece {k + 1} is cut off"
    cx, cy = fit._constant.getData()
    legend = fit.legend_rect()
    left = vb.mapViewToScene(QPointF(float(cx[0]), float(cy[0])))
    right = vb.mapViewToScene(QPointF(float(cx[-1]), float(cy[-1])))
    covered = legend.top() <= left.y() <= legend.bottom() and \
        legend.left() < right.x() and left.x() < legend.right()
    assert not covered, "the legend covers the dashed constant"


def test_the_local_minimum_is_marked_and_a_click_descends_there_on_the_same_slice(
        qtbot, lecture):
    from PySide6.QtCore import QPointF

    from core.models import get_scalar
    from core.slices import local_minima

    step = next(i for i, s in enumerate(load_steps()[0]) if "local-minimum" in s.name)
    win, ctl = lecture(step=step)
    wait_ready(qtbot, ctl)
    surface = win.views["surface"]
    qtbot.waitUntil(lambda: not surface.busy() and bool(surface.local_minimum_marks()),
                    timeout=60000)
    (a, b, text), = surface.local_minimum_marks()[:1]
    slice_ = surface._surface
    star_a, star_b, star_loss = slice_.min_at
    local_loss = local_minima(slice_)[1][2]
    assert local_loss > star_loss
    assert text == f"local minimum L = {surface._fmt(local_loss)}"
    run_id, names = win.latest.run_id, surface.names
    view_range = surface._plot.getViewBox().viewRange()
    # click the diamond where it is drawn
    plot = surface._plot
    at = plot.mapFromScene(plot.getViewBox().mapViewToScene(QPointF(a, b)))
    first = np.array(win.latest.path[0])
    QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: not np.allclose(win.latest.path[0], first) and win.latest.done,
                    timeout=60000)
    snap = win.latest
    assert snap.run_id == run_id, "the click started a new run"
    assert surface.names == names and surface._surface is slice_, "the slice changed"
    assert np.allclose(surface._plot.getViewBox().viewRange(), view_range), "the view moved"
    assert np.allclose(snap.path[0], (a, b), atol=0.05 * abs(view_range[0][1]
                                                            - view_range[0][0]))
    end = np.array([get_scalar(snap.params, names[0]), get_scalar(snap.params, names[1])])
    to_local = np.hypot(*(end - (a, b)))
    to_star = np.hypot(*(end - (star_a, star_b)))
    assert to_local < to_star, "descent from the local minimum left its valley"


def test_the_tables_long_model_labels_fit_their_column(qtbot, lecture):
    """Rows added while the table is hidden, the theme switched live, a small window: every
    label of the lecture's tables is drawn whole (the delegate elides what does not fit)."""
    from PySide6.QtWidgets import QStyle

    from core.experiments import lecture_tables
    from core.results import result_row

    win, ctl = lecture()
    wait_ready(qtbot, ctl)      # the worker is up (a window closed before it is may not join)
    win.resize(1280, 720)
    table = win.views["table"]
    win.docks["table"].hide()
    for exp in lecture_tables("channel"):
        snap = type("S", (), dict(lr=exp.config.lr, update=600, train_loss=480.0,
                                  unseen_loss=580.0, seconds=1.0, diverged=False))()
        row = result_row(exp.config, snap)
        row["model"] = f"table {exp.table}: {exp.label}"
        table.add_row(row)
    for theme in ("projector", "dark", "projector"):
        win.apply_theme(theme)
        win.docks["table"].show()
        qtbot.waitUntil(lambda: table.table.isVisible())
        qtbot.wait(100)
        view = table.table
        metrics = view.fontMetrics()
        margin = 2 * (view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None,
                                                view) + 1)
        model = view.model()
        for r in range(model.rowCount()):
            text = model.data(model.index(r, 0))
            width = view.visualRect(model.index(r, 0)).width()
            assert metrics.horizontalAdvance(text) + margin <= width, \
                f"{theme}: {text!r} needs {metrics.horizontalAdvance(text) + margin} px, " \
                f"its column is {width}"
        win.docks["table"].hide()


def test_the_learning_rate_step_replays_the_three_rates_side_by_side(qtbot, lecture,
                                                                     tmp_path):
    """Too small / good / too large as one picture: three small multiples, each with its
    own dot at the shared update, played from update 0; shown again, the step replays the
    same runs instead of training new ones."""
    from tests.gui.pixels import colour_mask, grab_rgb

    win, ctl = lecture(_one_step(tmp_path, "lr-compare"))
    wait_ready(qtbot, ctl)
    gallery = win.views["gallery"]
    qtbot.waitUntil(lambda: not gallery.visibleRegion().isEmpty(), timeout=5000)
    runs = gallery.shown
    assert [r.name for r in runs] == ["η 0.0005: too small", "η 0.03: good",
                                      "η 0.047: too large"]
    assert [r.status for r in runs] == ["finished", "finished", "diverged"]
    assert gallery.playing
    qtbot.waitUntil(lambda: gallery.shown_update >= 4, timeout=10000)
    gallery.pause()
    gallery.scrub_to(4)         # the large rate is still on the picture
    qtbot.wait(50)
    for pane in gallery._panes[:3]:
        _, point = pane.run.point_at(4)
        vb = pane.surface.getPlotItem().getViewBox()
        p = pane.surface.mapFromScene(vb.mapViewToScene(QPointF(*point)))
        img = grab_rgb(pane.surface)
        patch = img[p.y() - 4:p.y() + 5, p.x() - 4:p.x() + 5]
        assert colour_mask(patch, pane.color, tol=40).sum() > 40, pane.run.name
    ids = [r.run_id for r in runs]
    ctl.go(0)
    ctl.go(len(ctl.steps) - 1)
    wait_ready(qtbot, ctl)
    assert [r.run_id for r in gallery.shown] == ids


def test_the_normal_window_after_lecture_mode_opens_in_its_own_proportions(
        qtbot, settings_dir, fast_steps, monkeypatch):
    """`fnlab --lecture` opens lecture mode as the window first shows; the normal layout
    it set aside was then the docks as Qt first put them (the Controls panel half the
    window) and the next normal start opened that way. Now it opens as a window that
    never saw a lecture: the same panel width, and an error surface as wide, in the grab."""
    from gui.main_window import SETTINGS_ENV
    from tests.gui.pixels import grab_rgb

    def normal_window() -> tuple[int, int]:
        win = MainWindow(theme="projector")
        win.resize(1280, 720)
        win.show()
        qtbot.waitUntil(lambda: win.run_info is not None, timeout=20000)
        qtbot.wait(300)
        shot = grab_rgb(win)
        plot = win.surface_view._plot
        at = plot.mapTo(win, plot.rect().topLeft())
        crop = shot[at.y():at.y() + plot.height(), at.x():at.x() + plot.width()]
        drawn = int((crop.astype(float).std(axis=(0, 2)) > 10).sum())   # columns drawn
        panel = win.docks["controls"].width()
        win.close()
        return panel, drawn

    win = MainWindow(theme="projector")
    win.resize(1280, 720)
    win.show()
    ctl = open_lecture(win, 0, fast_steps)     # at once, as `fnlab --lecture` does
    qtbot.waitUntil(lambda: ctl.ready, timeout=60000)
    win.close()
    panel, drawn = normal_window()
    fresh = settings_dir / "fresh"             # a machine that never saw a lecture
    fresh.mkdir()
    monkeypatch.setenv(SETTINGS_ENV, str(fresh))
    before = normal_window()
    assert abs(panel - before[0]) <= 4, (panel, before)
    assert drawn >= before[1] - 4, (drawn, before)


def test_the_formula_takes_the_theme_chosen_from_the_menu(qtbot, lecture, fast_steps):
    """A theme switched from the View menu in lecture mode restyles the lecture panel too:
    its formula was left in the theme it opened in (the dark theme's light blue on the
    projector's white)."""
    from gui.theme import THEMES
    from tests.gui.pixels import colour_mask, grab_rgb

    n = next(i for i, s in enumerate(load_steps(fast_steps)[0]) if s.formula)
    win, ctl = lecture(fast_steps, n)
    wait_ready(qtbot, ctl)

    def inked(theme: str) -> int:
        return int(colour_mask(grab_rgb(ctl.panel.formula), THEMES[theme].accent).sum())

    # the ink is the theme's accent: its own colour exactly in the glyphs' cores, the
    # other theme's at most where an edge's blend happens to pass near it
    for theme, other in (("projector", "dark"), ("dark", "projector"), ("projector", "dark")):
        win.apply_theme(theme)
        qtbot.wait(50)
        assert inked(theme) > 50 and inked(other) < inked(theme) / 10, theme


def test_a_steps_zoom_on_the_surface_survives_a_theme_switch(qtbot, lecture, fast_steps):
    """The step's zoom into the error surface stays through a theme switched from the
    menu and back (it was reset to the whole grid): the plot painted after each switch
    spans the step's zoom."""
    from tests.gui.pixels import grab_rgb

    steps = load_steps(fast_steps)[0]
    n = next(i for i, s in enumerate(steps) if s.options.get("zoom", {}).get("surface"))
    win, ctl = lecture(fast_steps, n)
    wait_ready(qtbot, ctl)
    win.pause()
    qtbot.wait(100)
    plot = win.surface_view.main_plot()
    zoom = steps[n].options["zoom"]["surface"]
    for theme in ("dark", "projector"):
        win.apply_theme(theme)
        qtbot.wait(100)
        assert grab_rgb(plot).std() > 10      # painted: a heat map, not a blank
        (x0, x1), (y0, y1) = plot.getPlotItem().vb.viewRange()
        assert np.allclose([x0, x1, y0, y1], [*zoom["x"], *zoom["y"]], atol=1e-6), theme


def test_a_short_step_after_a_long_one_gives_the_views_the_panels_spare_height(
        qtbot, lecture, tmp_path):
    """At 1280 x 720 the panel kept the tallest earlier step's height (Qt's dock layout
    grows the top area on request, never shrinks it): after the race's long text the
    weights step's panel was 320 px, half of it empty, and its series plot 40 rows."""
    from tests.gui.pixels import grab_rgb

    folder = tmp_path / "two"
    folder.mkdir()
    long = json.loads((LECTURE_DIR / "01-task.json").read_text(encoding="utf-8"))
    long["caption"] = " ".join([long["caption"]] * 4)      # the race's six lines and more
    (folder / "01-long.json").write_text(json.dumps(long), encoding="utf-8")
    short = json.loads(next(LECTURE_DIR.glob("*days-7.json")).read_text(encoding="utf-8"))
    short["updates"] = 20
    (folder / "02-short.json").write_text(json.dumps(short), encoding="utf-8")
    win, ctl = lecture(folder)
    win.resize(1280, 720)
    wait_ready(qtbot, ctl)
    qtbot.wait(200)
    tall = ctl.dock.height()
    ctl.go(1)
    wait_ready(qtbot, ctl)
    qtbot.wait(300)
    shot = grab_rgb(win)

    def rows(widget) -> tuple[int, np.ndarray]:
        at = widget.mapTo(win, widget.rect().topLeft()).y()
        return at, shot[at:at + widget.height(), :win.width()]

    # The panel's grab: no gap between its lines of text (or under the last) taller
    # than two lines (the kept height was spread between the title, caption and formula).
    _, panel = rows(ctl.panel)
    ink = (np.abs(panel.astype(int) - panel[-1, -1]).max(axis=2) > 60).any(axis=1)
    gaps = np.diff(np.flatnonzero(np.r_[True, ink, True])) - 1
    line = ctl.panel.fontMetrics().height()
    assert gaps.max() <= 2 * line, (tall, ctl.dock.height(), gaps.max(), line)
    # ... and the series plot below it shows a picture at least 75 rows tall (89 here).
    _, series = rows(win.views["series"]._plots[0])
    drawn = int((series.astype(float).std(axis=(1, 2)) > 10).sum())
    assert drawn >= 75, (tall, ctl.dock.height(), drawn)
