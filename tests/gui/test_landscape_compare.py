"""The lecture's side-by-side landscapes: two trained depths, one colour scale, their
training and unseen losses on screen, one colour bar naming that scale's losses; the step
file and its option are checked."""

from __future__ import annotations

import json

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QApplication, QScrollArea

from core.config import RunConfig
from core.lecture_steps import LECTURE_DIR, StepError, load_steps, parse_step
from gui.theme import DARK, PROJECTOR, stylesheet
from gui.views.landscape_compare_view import LandscapeCompareView
from tests.gui.pixels import grab_rgb, rgb


def _heat(img: np.ndarray) -> int:
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return int((((g > 70) & (b > 90) & (r < 90)) | ((r > 150) & (g > 180) & (b < 90))).sum())


def test_two_depths_side_by_side_with_their_unseen_losses(qtbot):
    view = LandscapeCompareView(DARK)
    qtbot.addWidget(view)
    view.resize(1000, 500)
    view.show()
    cfg = RunConfig(days=7, model="relu", units=10, layers=1, optimizer="adam", lr=3e-3)
    view.compare(cfg, {"layers": [1, 3], "updates": 150, "grid": 11})
    assert view.busy()
    qtbot.waitUntil(lambda: not view.busy(), timeout=120000)
    results = view.results()
    assert [r.config.layers for r, _ in results] == [1, 3]
    img = grab_rgb(view)
    for (run, land), (label, plot, *_rest) in zip(results, view._panels, strict=True):
        geo = plot.geometry()
        panel = img[geo.top():geo.bottom(), geo.left() + plot.parentWidget().x():
                    geo.right() + plot.parentWidget().x()]
        assert _heat(panel) > 0.3 * panel.shape[0] * panel.shape[1]
        text = label.text()
        assert run.data.fmt(run.unseen_loss) in text and "unseen" in text
        assert land.loss[5, 5] == pytest.approx(run.train_loss, rel=1e-6)
    # One colour scale: both images share the same levels.
    lv = [panel[2].levels for panel in view._panels]
    np.testing.assert_allclose(lv[0], lv[1])
    view.shutdown()


def test_stopping_a_comparison_joins_its_thread(qtbot):
    view = LandscapeCompareView(DARK)
    qtbot.addWidget(view)
    view.compare(RunConfig(days=56, model="relu", units=100, layers=1),
                 {"layers": [1, 4], "updates": 5000, "grid": 41})
    qtbot.wait(200)
    view.shutdown()
    assert not view.busy()


def test_the_shipped_step_compares_one_and_four_layers():
    steps, errors = load_steps()
    assert errors == []
    step = next(s for s in steps if "landscapes" in s.name)
    assert step.views == ("landscapes",)
    assert step.options["landscapes"]["layers"] == [1, 4]
    raw = json.loads(next(LECTURE_DIR.glob("*landscapes*.json")).read_text(encoding="utf-8"))
    raw["options"]["landscapes"]["layers"] = [1]
    with pytest.raises(StepError, match="two layer counts"):
        parse_step("x.json", raw)
    raw["options"]["landscapes"] = {"layers": [1, 4], "colour": "red"}
    with pytest.raises(StepError, match="colour"):
        parse_step("x.json", raw)


def _in_view(view: LandscapeCompareView, item: object) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of a graphics item of the colour bar, in view pixels,
    within the bar's own widget (the axis' rectangle reaches past it)."""
    host = view._bar_view
    rect = host.mapFromScene(item.sceneBoundingRect()).boundingRect() & host.rect()
    at = host.mapTo(view, rect.topLeft())
    return at.y(), at.x(), at.y() + rect.height(), at.x() + rect.width()


def _ink_runs(rows: np.ndarray) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, on in enumerate([*rows, False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _beside_the_maps(view: LandscapeCompareView) -> None:
    """The bar is right of both maps and spans their data area; the maps square-ish."""
    bar_top, bar_left, bar_bottom, _right = _in_view(view, view._bar.getViewBox())
    for _label, plot, *_rest in view._panels:
        vb = plot.getViewBox()
        rect = plot.mapFromScene(vb.sceneBoundingRect()).boundingRect()
        at = plot.mapTo(view, rect.topLeft())
        assert bar_left > at.x() + rect.width()
        assert abs(bar_top - at.y()) <= 3 and abs(bar_bottom - (at.y() + rect.height())) <= 3, (
            bar_top, bar_bottom, at.y(), rect.height())
        assert rect.width() >= 0.9 * rect.height(), rect


def test_one_colour_bar_names_both_maps_losses_and_follows_the_theme(qtbot):
    """One bar right of both maps, over their data area: the colour map's gradient, and
    labels that are losses of the shared scale drawn where the scale puts them; nothing
    while a new comparison computes; the projector's foreground after a live switch."""
    view = LandscapeCompareView(DARK)
    qtbot.addWidget(view)
    view.resize(1280, 460)        # the view's room in a 1280 x 720 lecture window
    view.show()
    cfg = RunConfig(days=7, model="relu", units=10, layers=1, optimizer="adam", lr=3e-3)
    view.compare(cfg, {"layers": [1, 3], "updates": 150, "grid": 11})
    qtbot.waitUntil(lambda: not view.busy(), timeout=120000)
    qtbot.wait(50)                # the bar's place follows the maps' last layout
    img = grab_rgb(view).astype(np.int16)
    results = view.results()
    bar_top, bar_left, bar_bottom, bar_right = _in_view(view, view._bar.getViewBox())
    # right of both maps, spanning their data area, and the maps still square-ish
    _beside_the_maps(view)
    # the gradient: the colour map's low end at the bottom, its high end at the top
    lut = pg.colormap.get(DARK.colormap).getLookupTable(nPts=256).astype(np.int16)
    mid = (bar_left + bar_right) // 2
    column = img[bar_top + 3: bar_bottom - 3, mid]
    assert np.abs(column[-1] - lut[0]).max() <= 25, (column[-1], lut[0])
    assert np.abs(column[0] - lut[-1]).max() <= 25, (column[0], lut[-1])
    assert len({tuple(c) for c in column}) > 20
    # its labels: losses between the lowest and the clipped highest of the shared scale,
    # named in the run's unit, each drawn as one line of ink at its place on the bar
    grids = [land.loss[np.isfinite(land.loss)] for _run, land in results]
    lo = min(float(g.min()) for g in grids)
    hi = max(float(np.percentile(g, 99)) for g in grids)
    low, high = view._bar.levels()
    delta = 10 ** low
    ticks = view._bar.axis._tickLevels[0]
    assert len(ticks) >= 3, ticks
    fmt = results[0][0].data.fmt
    for pos, text in ticks:
        loss = 10 ** pos + lo - delta
        assert lo - 1e-9 <= loss <= hi * (1 + 1e-9), (loss, lo, hi)
        assert text == fmt(loss)
    ax_top, _ax_left, ax_bottom, ax_right = _in_view(view, view._bar.axis)
    labels = img[ax_top: ax_bottom, bar_right + 9: ax_right]
    ink = (np.abs(labels - rgb(DARK.foreground)) < 40).all(axis=2)
    runs = _ink_runs(ink.any(axis=1))
    assert len(runs) == len(ticks), (runs, ticks)
    for (a, b), (pos, _text) in zip(runs, sorted(ticks, reverse=True), strict=True):
        y = bar_top + (high - pos) / (high - low) * (bar_bottom - bar_top)
        assert abs(ax_top + (a + b) / 2 - y) <= 4, (a, b, y)
    # a live switch to the projector: its foreground on the labels, its colour map
    app = QApplication.instance()
    app.setStyleSheet(stylesheet(PROJECTOR))     # as the window does: the labels' fonts
    view.apply_theme(PROJECTOR)
    qtbot.wait(50)                # its larger font: a wider axis, the bar moved left
    img = grab_rgb(view).astype(np.int16)
    bar_top, bar_left, bar_bottom, bar_right = _in_view(view, view._bar.getViewBox())
    ax_top, _ax_left, ax_bottom, ax_right = _in_view(view, view._bar.axis)
    mid = (bar_left + bar_right) // 2
    _beside_the_maps(view)
    labels = img[ax_top: ax_bottom, bar_right + 9: ax_right]
    assert (np.abs(labels - rgb(PROJECTOR.foreground)) < 40).all(axis=2).sum() > 50
    assert (np.abs(labels - rgb(PROJECTOR.background)) < 8).all(axis=2).mean() > 0.8
    lut = pg.colormap.get(PROJECTOR.colormap).getLookupTable(nPts=256).astype(np.int16)
    assert np.abs(img[bar_bottom - 4, mid] - lut[0]).max() <= 25
    # and back to the dark theme's smaller title: the bar still spans the maps
    app.setStyleSheet(stylesheet(DARK))
    view.apply_theme(DARK)
    qtbot.wait(50)
    try:
        _beside_the_maps(view)
    finally:
        app.setStyleSheet("")
    # a new comparison: no numbers until its first map is drawn
    _top, bar_left, _bottom, _right = _in_view(view, view._bar.getViewBox())
    ax_top, _ax_left, ax_bottom, ax_right = _in_view(view, view._bar.axis)
    view.compare(cfg, {"layers": [1, 3], "updates": 5000, "grid": 41})
    img = grab_rgb(view).astype(np.int16)
    place = img[ax_top: ax_bottom, bar_left: ax_right]
    # one plain colour there (the view's own: no style sheet in this test), no gradient or
    # numbers
    assert (np.abs(place - place[0, 0]) < 8).all(axis=2).mean() > 0.99
    view.shutdown()


def test_the_view_shrinks_with_its_dock_after_a_theme_switch(qtbot):
    """In its dock's scroll area the view takes the room there is: after a live switch to
    the projector the lecture's header grew, the dock shrank, and the view kept its old
    height (a pyqtgraph view prefers its size now), scrolled, its note cut off."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    view = LandscapeCompareView(DARK)
    scroll.setWidget(view)
    qtbot.addWidget(scroll)
    scroll.resize(1280, 480)
    scroll.show()
    cfg = RunConfig(days=7, model="relu", units=10, layers=1, optimizer="adam", lr=3e-3)
    view.compare(cfg, {"layers": [1, 3], "updates": 150, "grid": 11})
    qtbot.waitUntil(lambda: not view.busy(), timeout=120000)
    qtbot.wait(50)
    view.apply_theme(PROJECTOR)
    scroll.resize(1280, 440)
    qtbot.wait(100)
    img = grab_rgb(scroll).astype(np.int16)
    note = view._note.geometry()
    at = view.mapTo(scroll, note.topLeft())
    assert at.y() + note.height() <= img.shape[0], (at.y(), note.height(), img.shape)
    text = img[at.y(): at.y() + note.height(), at.x(): at.x() + note.width()]
    assert (np.abs(text - rgb(PROJECTOR.foreground)) < 60).all(axis=2).sum() > 100
    view.shutdown()
