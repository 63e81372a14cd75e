"""The error surface's colour bar: its labels, as they reach the screen.

At 1280 x 720 the surface's plot, and its colour bar with it, is ~70 px high; labels kept
7 % of the bar apart drew "0.40k" over "0.38k", and in the projector theme's larger font
pyqtgraph's fixed 45 px axis dropped every label.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QFontMetrics

from core.config import RunConfig
from core.engine import Trainer
from gui.theme import DARK, PROJECTOR
from gui.views.surface_view import SurfaceView
from tests.gui.pixels import grab_rgb, rgb, shown_view


def label_runs(view: SurfaceView) -> tuple[list[tuple[int, int]], int]:
    """The vertical runs of label ink right of the colour bar's ticks, in the grab, and a
    label line's height in the axis' font."""
    axis = view._bar.axis
    plot = view._plot
    rect = axis.sceneBoundingRect()
    top_left = plot.mapFromScene(rect.topLeft()) + plot.mapTo(view, QPoint(0, 0))
    bottom_right = plot.mapFromScene(rect.bottomRight()) + plot.mapTo(view, QPoint(0, 0))
    img = grab_rgb(view).astype(np.int16)
    # right of the tick marks (pyqtgraph's ticks are 5 px long, the text 2 px after them);
    # the axis' own rectangle reaches past the bar's ends for their labels
    line = QFontMetrics(axis.style.get("tickFont") or axis.font()).height()
    region = img[max(top_left.y(), 0): bottom_right.y(), top_left.x() + 9: bottom_right.x()]
    ink = (np.abs(region - rgb(view.theme.background)) > 60).any(axis=2)
    rows = ink.any(axis=1)
    runs, start = [], None
    for i, on in enumerate(rows):
        if on and start is None:
            start = i
        elif not on and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, len(rows)))
    return runs, line


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=lambda t: t.name)
@pytest.mark.parametrize("height", [190, 480])
def test_colour_bar_labels_show_apart_at_any_height(qtbot, theme, height):
    trainer = Trainer(RunConfig(lr=0.05, init=(0.0, 0.0)))
    trainer.run(5)
    view = shown_view(qtbot, SurfaceView(theme), trainer, size=(640, height))
    # at least the bar's two ends are named, in every theme and at every height (once the
    # layout has given the axis the width its labels asked for)
    qtbot.waitUntil(lambda: len(label_runs(view)[0]) >= 2, timeout=5_000)
    runs, line = label_runs(view)
    # each run of ink is one label: two labels drawn over each other make a taller run
    assert max(b - a for a, b in runs) <= line, (runs, line)
    # and as many as the taller bar has room for: more on the 480 px view
    if height == 480:
        assert len(runs) >= 3, runs
    view.shutdown()


def test_switching_to_the_projector_keeps_the_colour_bar_labels(qtbot):
    trainer = Trainer(RunConfig(lr=0.05, init=(0.0, 0.0)))
    trainer.run(5)
    view = shown_view(qtbot, SurfaceView(DARK), trainer, size=(640, 300))
    qtbot.waitUntil(lambda: len(label_runs(view)[0]) >= 2, timeout=5_000)
    view.apply_theme(PROJECTOR)
    qtbot.waitUntil(lambda: len(label_runs(view)[0]) >= 2, timeout=5_000)
    after, line = label_runs(view)
    assert max(b - a for a, b in after) <= line, (after, line)
    view.shutdown()
