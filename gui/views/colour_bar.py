"""A heat map's colour bar: its look in a theme and the loss values it names.

One version for every loss map that shows a bar (the error surface, the side-by-side
landscapes): both colour their loss on a log-like scale, log10(L - lo + delta), so the
bar's labels are loss values placed where that scale puts them, as many as its height
has room for.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetrics

from gui.theme import Theme

BAR_LABEL_SPACE = 2         # px between two of the colour bar's labels, besides a line
BAR_AXIS_WIDTH = 45         # px: the colour bar's axis at least (pyqtgraph's width)
BAR_TICK_ROOM = 14          # px: the axis' tick and gap before a label
BAR_LABEL_TEMPLATE = "8.88k"   # as wide as most of its labels (3 digits and a unit)
# The loss values worth naming, as multiples of the map's lowest loss: dense near the
# valley (the values a class reads), sparse up the walls.
LOSS_FACTORS = (1.0, 1.02, 1.05, 1.1, 1.25, 1.5, 2, 3, 5, 10, 30, 100, 1e3, 1e4)

Ticks = list[tuple[float, str]]


def colour_bar(theme: Theme) -> pg.ColorBarItem:
    """A vertical colour bar in `theme`'s colour map, not draggable (the scale is the
    map's, not the class's to change)."""
    bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get(theme.colormap),
                          interactive=False, colorMapMenu=False)
    style_colour_bar(bar, theme)
    return bar


def style_colour_bar(bar: pg.ColorBarItem, theme: Theme) -> None:
    """The theme's colour map, and its foreground and axis font size on the labels (the
    projector's are larger); the bar is too narrow for an axis title beside its ticks."""
    bar.setColorMap(pg.colormap.get(theme.colormap))
    bar.axis.setPen(pg.mkPen(theme.foreground))
    bar.axis.setTextPen(pg.mkPen(theme.foreground))
    font = QFont()
    font.setPointSize(theme.font_pt)
    bar.axis.setStyle(tickFont=font)
    bar.axis.showLabel(False)


def loss_ticks(lo: float, hi: float, delta: float, fmt: Callable[[float], str],
               log: bool = True) -> Ticks:
    """The bar's candidate labels for a map coloured from `lo` to `hi`: (position on the
    bar's scale, `fmt(loss)`), lowest first. On the log-like scale a loss L sits at
    log10(L - lo + delta); on a linear one at L."""
    ticks = []
    for f in LOSS_FACTORS:
        val = lo * f if lo > 0 else lo + (hi - lo) * (f - 1) / 100
        if lo <= val <= hi:
            pos = math.log10(val - lo + delta) if log else val
            ticks.append((pos, fmt(val)))
    return ticks


def fit_bar_ticks(bar: pg.ColorBarItem, candidates: Ticks,
                  levels: tuple[float, float]) -> None:
    """Label `bar` with the candidate values that fit its height: each label a text
    line's height (and a little) above the last one, bottom up (the valley's values are
    the ones a class reads). A fixed share of the bar kept them apart on a tall bar only:
    a 1280 x 720 window's ~70 px bar drew "0.40k" over "0.38k"."""
    low, high = levels
    axis = bar.axis
    metrics = QFontMetrics(axis.style.get("tickFont") or axis.font())
    # Wide enough for the longest label in the theme's font: pyqtgraph's fixed 45 px
    # dropped every label of the projector's larger font. Sized for a typical label
    # from the theme's start, so new labels do not move the plot a layout pass after
    # it is drawn.
    width = max([BAR_AXIS_WIDTH] + [metrics.horizontalAdvance(label) + BAR_TICK_ROOM
                                    for label in (BAR_LABEL_TEMPLATE,
                                                  *(lab for _, lab in candidates))])
    if axis.width() != width:
        axis.setWidth(width)
    px = axis.geometry().height()
    span = high - low
    if px <= 0 or span <= 0:
        axis.setTicks([candidates[:1]])
        return
    gap = (metrics.height() + BAR_LABEL_SPACE) / px * span
    ticks: Ticks = []
    for pos, label in candidates:
        if not ticks or pos - ticks[-1][0] >= gap:
            ticks.append((pos, label))
    axis.setTicks([ticks])


def plain_fmt(v: float) -> str:
    return f"{v:.3g}"


def compact(v: float) -> str:
    """342,509 -> '343k', 1.2e7 -> '12M': short enough for the colour bar's ticks."""
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:.3g}"
