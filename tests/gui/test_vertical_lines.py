"""Vertical lines (a `pg.InfiniteLine` turned 90 degrees) are drawn directly, not kept
as pixmaps (`cache_static`): Qt made their pixmap anew at every paint. The series view's
split between training and unseen days and the unseen region's edge are drawn where they
are, in both themes, pixel for pixel as when they were kept as pixmaps."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsItem

from gui.theme import DARK, PROJECTOR
from gui.views.series_view import SeriesView
from tests.gui.pixels import grab_rgb, shown_view


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=lambda t: t.name)
def test_the_split_line_is_drawn_without_a_pixmap(qtbot, trained, theme):
    trainer = trained(30, lr=0.05, init=(0.0, 0.0))
    view = shown_view(qtbot, SeriesView(theme), trainer)
    split = view._split
    lines = (split, *view._unseen_region.lines)
    assert all(line.cacheMode() == QGraphicsItem.CacheMode.NoCache for line in lines)
    plot = view._plot
    drawn = grab_rgb(plot)
    for line in lines:   # as they were drawn when kept as pixmaps
        line.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    assert np.array_equal(grab_rgb(plot), drawn)
    # the split line is on screen at its date, down the plot
    vb = plot.getViewBox()
    (_, _), (y0, y1) = vb.viewRange()
    top = plot.mapFromScene(vb.mapViewToScene(QPointF(split.value(), y1)))
    bottom = plot.mapFromScene(vb.mapViewToScene(QPointF(split.value(), y0)))
    x = round(top.x())
    split.hide()
    without = grab_rgb(plot)
    split.show()
    rows = slice(round(top.y()) + 2, round(bottom.y()) - 2)
    changed = (drawn[rows, x - 1:x + 2] != without[rows, x - 1:x + 2]).any(axis=(1, 2))
    assert changed.mean() > 0.3             # a dashed line: its dashes down the plot
    assert (drawn != without).any(axis=2)[:, : x - 3].sum() == 0   # and nothing else
    view.shutdown()
