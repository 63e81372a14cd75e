"""A legend's place is chosen from its size in each layout it could take; the size of the
one-row layout, not shown, is measured once for the legend's entries as they read and
remembered (`legend_size`): the legend as shown is not laid out again for it, and new
fonts or texts are measured again."""

from __future__ import annotations

import pytest

from gui.theme import DARK, PROJECTOR
from gui.views.base import LEGEND_ONE_ROW, legend_size, place_legend
from gui.views.loss_view import LossView


def _box(legend) -> tuple[float, float]:
    rect = legend.boundingRect()
    return rect.width(), rect.height()


def _entries_width(legend) -> float:
    """Each entry's sample and text side by side."""
    return sum(sample.width() + label.minimumWidth() for sample, label in legend.items)


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=lambda t: t.name)
def test_the_one_row_size_is_measured_once_per_texts_and_fonts(qtbot, theme):
    view = LossView(theme)
    qtbot.addWidget(view)
    view.resize(800, 560)
    view.show()
    plot = view._plot
    legend = plot.getPlotItem().legend
    assert len(legend.items) == 2 and legend.columnCount == 1
    shown = _box(legend)

    row = legend_size(legend, LEGEND_ONE_ROW)
    assert row[0] >= _entries_width(legend) and row[1] < shown[1]   # one row: wide, short
    for _ in range(5):                # placed again and again: nothing laid out again
        place_legend(plot, legend, "top-right")
        assert legend.columnCount == 1 and _box(legend) == shown
        assert legend_size(legend, LEGEND_ONE_ROW) == row

    view.apply_theme(PROJECTOR if theme is DARK else DARK)     # other fonts
    themed = legend_size(legend, LEGEND_ONE_ROW)
    assert abs(themed[0] - row[0]) > 10 and themed[0] >= _entries_width(legend)

    legend.items[0][1].setText("a much longer name of the training loss")
    longer = legend_size(legend, LEGEND_ONE_ROW)
    assert longer[0] > themed[0] + 50 and longer[0] >= _entries_width(legend)
    view.shutdown()
