"""The surface's current point, one point moved every frame, is painted by a short path
of its own (`MovingPoints._paint_one`): pixel for pixel what pyqtgraph's paint of the
same point draws, in both themes, at whole and fractional pixels, at the plot's edge and
outside it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest

from core.config import RunConfig
from core.engine import Trainer
from gui.theme import DARK, PROJECTOR
from gui.views.base import set_curve
from gui.views.surface_view import SurfaceView
from tests.gui.pixels import grab_rgb, shown_view


class Counted:
    """A paint short path (`MovingPoints._paint_one` / `_paint_many`) that counts the
    paints it drew, swapped in and out with pyqtgraph's paint (the short path says no)."""

    def __init__(self, monkeypatch: Any, cls: type, name: str) -> None:
        self.drawn = 0
        self._patch, self._cls, self._name = monkeypatch, cls, name
        self._own = getattr(cls, name)

    def ours(self) -> None:
        def counted(item: Any, p: Any, widget: Any) -> bool:
            drawn = self._own(item, p, widget)
            self.drawn += drawn
            return drawn

        self._patch.setattr(self._cls, self._name, counted)

    def theirs(self) -> None:
        self._patch.setattr(self._cls, self._name, lambda item, p, widget: False)

    def same_both_ways(self, view: Any, what: object) -> np.ndarray:
        """The view's grab with the short path, asserted equal to pyqtgraph's."""
        self.ours()
        ours = grab_rgb(view)
        self.theirs()
        theirs = grab_rgb(view)
        assert np.array_equal(ours, theirs), what
        return ours


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=lambda t: t.name)
def test_the_moved_point_is_drawn_as_pyqtgraph_draws_it(qtbot, monkeypatch, theme):
    trainer = Trainer(RunConfig(lr=0.05, init=(0.0, 0.0)))
    trainer.run(5)
    view = shown_view(qtbot, SurfaceView(theme), trainer)
    point = view._current
    (x0, x1), (y0, y1) = view._plot.getViewBox().viewRange()
    width, height = x1 - x0, y1 - y0
    spots = [(0.5, 0.5), (0.3137, 0.7071), (0.0, 0.5), (1.0, 0.999), (0.5001, 0.0),
             (1.2, 0.5), (-0.5, -0.5)]           # inside, on the edges, outside the plot
    short = Counted(monkeypatch, type(point), "_paint_one")
    for fx, fy in spots:
        set_curve(point, [x0 + fx * width], [y0 + fy * height])
        short.same_both_ways(view, (fx, fy))
    # the short path drew the five on or inside the plot (Qt paints no item wholly
    # outside its view box's clip)
    assert short.drawn >= 5
    # the dot is on screen where it is inside (not a blank picture both ways)
    set_curve(point, [x0 + 0.5 * width], [y0 + 0.5 * height])
    with_dot = grab_rgb(view)
    point.setVisible(False)
    assert (with_dot != grab_rgb(view)).any(axis=2).sum() > 20
    pg.QtWidgets.QApplication.processEvents()
    view.shutdown()


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=lambda t: t.name)
def test_many_moved_points_are_drawn_as_pyqtgraph_draws_them(qtbot, monkeypatch, trained,
                                                             theme):
    """A network's predicted-vs-real points (`MovingPoints._paint_many`): pixel for
    pixel what pyqtgraph's paint draws, at the trained predictions, moved, partly
    outside the plot, with a NaN, and zoomed in (most points beyond the view)."""
    from gui.views.fit_view import FitView

    trainer = trained(20, model="relu", units=10, days=7)
    view = shown_view(qtbot, FitView(theme), trainer)
    points = view._train_pts
    assert len(points.data) > 100 and view.mode == "scatter"
    x, y = points.getData()
    (x0, x1), (y0, y1) = view._plot.getViewBox().viewRange()
    short = Counted(monkeypatch, type(points), "_paint_many")
    drawn = short.same_both_ways(view, "trained")
    moved = y + 0.1373 * (y1 - y0)           # the next frame's points: some beyond the top
    set_curve(points, x, moved)
    assert not np.array_equal(short.same_both_ways(view, "moved"), drawn)   # on screen
    with_nan = moved.copy()
    with_nan[::7] = np.nan
    set_curve(points, x, with_nan)
    short.same_both_ways(view, "NaN")
    view._plot.getViewBox().setRange(xRange=(x0, x0 + 0.2 * (x1 - x0)),
                                     yRange=(y0, y0 + 0.3 * (y1 - y0)), padding=0)
    short.same_both_ways(view, "zoomed")
    assert short.drawn >= 4 * 2         # the unseen points too, each time
    # the points are on screen (not a blank picture both ways)
    set_curve(points, x, y)
    view._plot.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
    with_points = grab_rgb(view)
    points.setVisible(False)
    assert (with_points != grab_rgb(view)).any(axis=2).sum() > 200
    pg.QtWidgets.QApplication.processEvents()
    view.shutdown()
