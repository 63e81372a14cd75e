"""The surface's current point, one point moved every frame, is painted by a short path
of its own (`MovingPoints._paint_one`): pixel for pixel what pyqtgraph's paint of the
same point draws, in both themes, at whole and fractional pixels, at the plot's edge and
outside it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from core.config import RunConfig
from core.engine import Trainer
from gui.theme import DARK, PROJECTOR
from gui.views.base import set_curve
from gui.views.surface_view import SurfaceView
from tests.gui.pixels import grab_rgb


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=lambda t: t.name)
def test_the_moved_point_is_drawn_as_pyqtgraph_draws_it(qtbot, monkeypatch, theme):
    trainer = Trainer(RunConfig(lr=0.05, init=(0.0, 0.0)))
    view = SurfaceView(theme)
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    view.set_run(trainer.config, trainer.data, trainer.param_names())
    qtbot.waitExposed(view)
    trainer.run(5)
    view.show_snapshot(trainer.snapshot())
    point = view._current
    (x0, x1), (y0, y1) = view._plot.getViewBox().viewRange()
    width, height = x1 - x0, y1 - y0
    spots = [(0.5, 0.5), (0.3137, 0.7071), (0.0, 0.5), (1.0, 0.999), (0.5001, 0.0),
             (1.2, 0.5), (-0.5, -0.5)]           # inside, on the edges, outside the plot
    fast_paints = 0
    own = type(point)._paint_one

    def counted(self, p, widget):
        nonlocal fast_paints
        drawn = own(self, p, widget)
        fast_paints += drawn
        return drawn

    for fx, fy in spots:
        set_curve(point, [x0 + fx * width], [y0 + fy * height])
        monkeypatch.setattr(type(point), "_paint_one", counted)
        ours = grab_rgb(view)
        monkeypatch.setattr(type(point), "_paint_one", lambda self, p, widget: False)
        theirs = grab_rgb(view)
        assert np.array_equal(ours, theirs), (fx, fy)
    # the short path drew the five on or inside the plot (Qt paints no item wholly
    # outside its view box's clip)
    assert fast_paints >= 5
    # the dot is on screen where it is inside (not a blank picture both ways)
    set_curve(point, [x0 + 0.5 * width], [y0 + 0.5 * height])
    with_dot = grab_rgb(view)
    point.setVisible(False)
    assert (with_dot != grab_rgb(view)).any(axis=2).sum() > 20
    pg.QtWidgets.QApplication.processEvents()
    view.shutdown()
