"""A left axis' title is drawn whole, short ("views per…") or not at all, never cut: under
the restore bar of a 1280 x 720 window the plots were so short that their titles read
"views per da" and "MAE (view", cut at both ends even at their smallest size."""

from __future__ import annotations

import numpy as np
import pytest

from gui.theme import PROJECTOR, apply_pyqtgraph
from gui.views.loss_view import LossView
from gui.views.series_view import SeriesView
from tests.gui.pixels import grab_rgb, rgb, shown_view


def title_drawn(view) -> tuple[str, bool, int]:
    """(the left axis' title as written, whether it lies within the axis' height in the
    grab, the ink pixels in its box)."""
    plot = view._plots[0]
    axis = plot.getPlotItem().getAxis("left")
    label = axis.label
    img = grab_rgb(plot).astype(int)
    top = plot.mapFromScene(axis.mapToScene(axis.boundingRect().topLeft())).y()
    bottom = plot.mapFromScene(axis.mapToScene(axis.boundingRect().bottomLeft())).y()
    box = plot.mapFromScene(label.mapRectToScene(label.boundingRect())).boundingRect()
    inside = top - 1 <= box.top() and box.bottom() <= bottom + 1
    crop = img[max(box.top(), 0):box.bottom(), max(box.left(), 0):box.right()]
    ink = int((np.abs(crop - rgb(PROJECTOR.background)).max(axis=2) > 100).sum()) \
        if label.isVisible() and crop.size else 0
    return (label.toPlainText().strip() if label.isVisible() else ""), inside, ink


@pytest.mark.parametrize(("kind", "full"), [(SeriesView, "views per day"),
                                            (LossView, "MAE (views)")])
def test_a_short_plots_axis_title_is_whole_short_or_absent(qtbot, trained, kind, full):
    apply_pyqtgraph(PROJECTOR)
    view = shown_view(qtbot, kind(PROJECTOR), trained(3, lr=0.01), size=(640, 150))
    qtbot.wait(50)
    text, inside, ink = title_drawn(view)
    if text:
        assert inside, text                   # not run past the axis' ends
        assert ink > 20                        # and drawn
        assert text == full or (text.endswith("…") and full.startswith(text[:-1])), text
    # given room again, the whole title comes back
    view.resize(640, 600)
    qtbot.wait(80)
    text, inside, ink = title_drawn(view)
    assert text == full and inside and ink > 20, (text, inside, ink)
    view.shutdown()
