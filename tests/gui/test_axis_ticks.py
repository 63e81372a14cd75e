"""Tick labels in the data's own numbers: an axis whose values stay below 1 (the lecture's
day weights, 0.71, -0.07, ...) was written in thousandths, "600" beside a title ending
"(x0.001)": pyqtgraph's automatic SI prefix for unitless axes below 1."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPainter

from gui.theme import DARK, PROJECTOR
from gui.views.fit_view import FitView
from tests.gui.pixels import grab_rgb, shown_view


def painted_ticks(axis) -> list[str]:
    """The tick texts the axis paints at its current range (its own draw specs)."""
    image = QImage(10, 10, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in specs[2] if text]


def test_the_day_weights_axis_reads_in_weights_not_thousandths(qtbot, trained):
    trainer = trained(200, days=7, lr=0.01)
    view = shown_view(qtbot, FitView(PROJECTOR), trainer, size=(900, 420))
    qtbot.wait(50)
    assert view.mode == "weights"
    img = grab_rgb(view)           # the axis as it reaches the screen, laid out and drawn
    assert img.std() > 10
    axis = view._plot.getPlotItem().getAxis("left")
    ticks = [float(t.replace("−", "-")) for t in painted_ticks(axis)]
    weights = np.asarray(trainer.snapshot().params["w"], dtype=float)
    # the tallest bar (about 0.7) lies within the labelled ticks' span, in the same unit
    assert ticks and max(ticks) <= 2 * float(np.abs(weights).max()), ticks
    assert max(ticks) >= 0.5 * float(weights.max()), ticks
    assert "x0.001" not in axis.labelString() and axis.autoSIPrefixScale == 1.0
    view.shutdown()


def test_the_days_axis_labels_whole_days_only(qtbot, trained):
    """j counts days: on a wide plot (the dark theme at 1920 x 1080, 1,600 px) pyqtgraph
    labelled half days too, "0.5 1 1.5 ... 7.5: the value j days before". The weights'
    bottom axis labels whole days only; back on the one-day curve it labels as before."""
    trainer = trained(200, days=7, lr=0.01)
    view = shown_view(qtbot, FitView(DARK), trainer, size=(1600, 420))
    qtbot.wait(50)
    assert view.mode == "weights" and grab_rgb(view).std() > 10
    axis = view._plot.getPlotItem().getAxis("bottom")
    days = [float(t) for t in painted_ticks(axis)]
    assert len(days) >= 5 and all(d == int(d) for d in days), days
    one_day = trained(20, lr=0.05)
    view.set_run(one_day.config, one_day.data, one_day.param_names())
    view.show_snapshot(one_day.snapshot())
    qtbot.wait(50)
    assert view.mode == "curve" and grab_rgb(view).std() > 10
    assert len(painted_ticks(axis)) >= 3
    view.shutdown()
