"""The PySide6 6.12 trap: painting busy plots must not eat references to None.

PySide6 6.12.0 on Python 3.11 drops a reference to None on some paint paths; after
enough repaints None's refcount reaches zero and the interpreter aborts mid-lecture. The
project pins PySide6 below 6.12 on Python < 3.12; this test catches a regression (a
looser pin, a new wheel) long before a class sees it.
"""

from __future__ import annotations

import sys

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPainterPath


def test_repainting_a_busy_plot_keeps_none_alive(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(640, 400)
    rng = np.random.default_rng(0)
    x = np.linspace(0.0, 10.0, 5000)
    curves = [plot.plot(pen=pg.mkPen(c, width=2)) for c in ("r", "b", "y")]
    scatter = pg.ScatterPlotItem(size=4)
    plot.addItem(scatter)
    plot.grab()   # first paint builds caches; count from a warm state
    before = sys.getrefcount(None)
    for i in range(60):
        for k, curve in enumerate(curves):
            curve.setData(x, np.sin(x * (k + 1) + i * 0.1) + rng.normal(0, 0.05, x.size))
        scatter.setData(rng.normal(size=300), rng.normal(size=300))
        plot.grab()
    after = sys.getrefcount(None)
    assert after >= before - 20, f"None lost {before - after} references in 60 repaints"


def test_painter_paths_do_not_eat_none(qtbot):
    before = sys.getrefcount(None)
    for _ in range(200):
        path = QPainterPath()
        path.moveTo(0, 0)
        for j in range(200):
            path.lineTo(j, (j * 7) % 13)
        path.boundingRect()
    assert sys.getrefcount(None) >= before - 20
