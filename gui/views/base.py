"""What every view shares: the interface the main window drives, a title, themed plots.

The window calls `set_run` when a run starts and `show_snapshot` from a ~30 fps timer with
only the newest snapshot. Views build their plot items once and then only call `setData` /
`setImage`, so a frame stays cheap. A snapshot from an older run (a stale `run_id`) is
dropped, so a late frame of the previous run never paints over the new one.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QFont, QPainter, QPixmapCache
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QLabel, QVBoxLayout, QWidget

from core.config import RunConfig
from core.snapshot import Snapshot
from gui.theme import DARK, Theme


class ElidedLabel(QLabel):
    """One line of text that ends in "…" when its dock is narrower than the text (the
    whole text in its tooltip). A plain label's least width is its text's: five view
    titles at projector size made the window wider than a 1,920 px screen."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setText(text)

    def text(self) -> str:  # the whole text, as QLabel's text() would give it
        return self._full

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 12, hint.height())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event: Any) -> None:   # a new font from a theme's style sheet
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._elide()

    def _elide(self) -> None:
        margins = self.contentsMargins()
        width = max(0, self.width() - margins.left() - margins.right() - 8)
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width)
        if shown != super().text():
            super().setText(shown)


class ColouredLine(QLabel):
    """A note in pieces of text, some in colours of their own (curves named in their
    pens' colours): wrapped, or, with `set_one_line`, one line that ends in "…" at a word
    where the label is narrower (the whole text in its tooltip). Rich text cannot be
    elided by Qt, and a clipped one stopped mid-glyph at the view's edge (the loss view's
    "· N =" at 1280 x 720). `text()` is the whole text, plain."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self._pieces: tuple[tuple[str, str | None], ...] = ()
        self._one_line = False

    def text(self) -> str:  # the whole text, as a plain label's text() would give it
        return "".join(t for t, _ in self._pieces)

    def set_pieces(self, pieces: Sequence[tuple[str, str | None]]) -> None:
        """(text, colour or None for the label's own) pieces, shown in order."""
        pieces = tuple(pieces)
        if pieces != self._pieces:
            self._pieces = pieces
            self._show()

    def set_one_line(self, on: bool) -> None:
        self._one_line = on
        self.setWordWrap(not on)
        self._show()

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self._one_line:
            self._show()

    def changeEvent(self, event: Any) -> None:   # a new font from a theme's style sheet
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._show()

    def _show(self) -> None:
        whole = self.text()
        self.setToolTip(whole if self._one_line else "")
        keep, tail = len(whole), ""
        if self._one_line:
            metrics = self.fontMetrics()
            room = self.contentsRect().width() - 4
            if metrics.horizontalAdvance(whole) > room:
                # the longest run of whole words that fits with " …" after it
                ends = [i for i in range(1, len(whole)) if whole[i] == " " != whole[i - 1]]
                lo, hi = 0, len(ends)
                while lo < hi:
                    mid = (lo + hi + 1) // 2
                    if metrics.horizontalAdvance(whole[:ends[mid - 1]] + " …") <= room:
                        lo = mid
                    else:
                        hi = mid - 1
                keep, tail = (ends[lo - 1] if lo else 0), " …"
                while keep and whole[keep - 1] in " ·":     # no separator before "…"
                    keep -= 1
        parts, at = [], 0
        for text, colour in self._pieces:
            text = text[:max(0, keep - at)]
            at += len(text)
            if not text:
                continue
            text = html.escape(text)
            parts.append(f'<span style="color:{colour}">{text}</span>' if colour else text)
        # pre-wrap: the pieces' runs of spaces are kept (measured as they are drawn)
        shown = f'<span style="white-space:pre-wrap">{"".join(parts)}{tail}</span>'
        if shown != super().text():
            super().setText(shown)


class FillsItsScroll:
    """For a view in a scrolling dock (the optional docks): it fills the dock's height
    and scrolls only below its least height.

    A scroll area that resizes its widget asks a widget whose layout holds a wrapped
    label for its height at the viewport's width, and Qt's box layouts answer with their
    *preferred* height: the view was made taller than the dock and scrolled at any size
    (at 1280 x 720 the race's loss plot and the builder's error line were below the fold
    in a dock that had room for them at their least size). Answering -1 leaves the area
    its default: the viewport's height, at least the view's least size."""

    def heightForWidth(self, _width: int) -> int:
        return -1


# A plot sharing its height with a wrapped note keeps a data area (its view box, axes
# aside) at least this many px tall, or the note keeps one line
# (`NoteLabel.share_height_with`): at 1600 x 1000 in the projector theme a network slice's
# four-line note left its data area ~20 px, the series view's three lines 111.
NOTE_DATA_LEAST = 120


class NoteLabel(ElidedLabel):
    """A view's note under its plot: wrapped over the lines it needs, or one line ending
    in "…" with the whole text in its tooltip: in a short window (`set_short_window`, see
    `View.set_compact`; at 1280 x 694 the series view's three-line note left its plot
    ~40 px), and wherever its wrapped lines would leave the plot it shares its height with
    a data area under NOTE_DATA_LEAST px (`share_height_with`). `text()` is always the
    whole text."""

    _one_line = False
    _short_window = False
    _plot: pg.PlotWidget | None = None
    _watched: pg.PlotWidget | None = None   # the plot whose view box refits this note
    _least = NOTE_DATA_LEAST
    _probe: QLabel | None = None

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setObjectName("viewNote")
        self.setWordWrap(True)

    def share_height_with(self, plot: pg.PlotWidget | None,
                          least: int = NOTE_DATA_LEAST) -> None:
        """Wrap only where `plot` (laid out with this note, the two sharing their height)
        keeps a data area `least` px tall with the note wrapped; None: wrap wherever the
        window is not short."""
        if plot is not None and plot is not self._watched:
            # the data area settles after the view's own resize (pyqtgraph lays out its
            # plot later): fit again then (connected once, however often the plot is
            # given back after a None)
            plot.getPlotItem().getViewBox().sigResized.connect(self.fit)
            self._watched = plot
        if (plot, least) != (self._plot, self._least):
            self._plot, self._least = plot, least
            self.fit()

    def set_short_window(self, on: bool) -> None:
        self._short_window = on
        self.fit()

    def setText(self, text: str) -> None:
        if text != self.text():
            super().setText(text)
            self.fit()

    def fit(self) -> None:
        """One line or wrapped, for the room the note and its plot have now. The wrapped
        height is QLabel's own layout of the whole text in the note's style, measured by
        a hidden label (font metrics alone read 3 lines where the note wrapped 4). Call
        it after the view's layout changed size (`View.resizeEvent` does)."""
        short = self._short_window
        plot = self._plot
        if not short and plot is not None and self.isVisible():
            probe = self._probe
            if probe is None:
                probe = self._probe = QLabel(self.parentWidget())
                probe.setObjectName(self.objectName())   # the note's style sheet rules
                probe.setWordWrap(True)
                probe.hide()
            probe.ensurePolished()
            probe.setText(self.text())
            wrapped = probe.heightForWidth(self.width())
            area = plot.getPlotItem().getViewBox().height()
            axes = plot.height() - area if area > 0 else 0.0     # not laid out yet: none
            short = plot.height() + self.height() - wrapped - axes < self._least
        self.set_one_line(short)

    def set_one_line(self, on: bool) -> None:
        if on != self._one_line:
            self._one_line = on
            self.setWordWrap(not on)
            self._elide()
            self.updateGeometry()

    def changeEvent(self, event: Any) -> None:   # a theme's font: its lines' height
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.fit()

    def minimumSizeHint(self) -> QSize:
        return super().minimumSizeHint() if self._one_line else QLabel.minimumSizeHint(self)

    def sizeHint(self) -> QSize:
        return super().sizeHint() if self._one_line else QLabel.sizeHint(self)

    def _elide(self) -> None:
        if self._one_line:
            super()._elide()
        elif QLabel.text(self) != self._full:
            QLabel.setText(self, self._full)


# One row of legend entries in a short window: pyqtgraph fills a row up to this many.
LEGEND_ONE_ROW = 8
LEGEND_MARGIN = 10        # px between a legend and its plot's edges
# A legend's corners of its plot: (item and parent anchor, offset in px from the corner).
LEGEND_CORNERS = {
    "top-left": ((0, 0), (LEGEND_MARGIN, LEGEND_MARGIN)),
    "top-right": ((1, 0), (-LEGEND_MARGIN, LEGEND_MARGIN)),
    "bottom-left": ((0, 1), (LEGEND_MARGIN, -LEGEND_MARGIN)),
    "bottom-right": ((1, 1), (-LEGEND_MARGIN, -LEGEND_MARGIN))}
LEGEND_SAMPLE_PX = 3.0    # a line is looked at every this many pixels along it
LEGEND_WAIT_MS = 250      # legends are placed this long after the data last changed
LEGEND_LEAVE_OUT = 3      # covered points above which a legend named elsewhere is left out


def drawn_pixels(plot: pg.PlotWidget, items: Sequence[Any] | None = None,
                 y_range: tuple[float, float] | None = None) -> np.ndarray:
    """(n, 2) pixel positions in the plot's view box of what its visible data items (or
    those of `items`) draw: each scatter point, along each line a point every
    LEGEND_SAMPLE_PX (so a straight segment through a corner counts, not only its ends),
    and a grid over each label. With `y_range`, where they would be drawn were that the
    view's y range (the fitted function finds the room its legend needs without setting
    the range it had first and then the new one: two moves of its axes a frame)."""
    vb = plot.getViewBox()
    (x0, x1), (y0, y1) = vb.viewRange()
    now = (y0, y1)
    if y_range is not None:
        y0, y1 = y_range
    width, height = vb.width(), vb.height()
    if x1 <= x0 or y1 <= y0 or width <= 0 or height <= 0:
        return np.empty((0, 2))
    out = []
    for item in plot.getPlotItem().items if items is None else items:
        if isinstance(item, pg.TextItem) and item.isVisible():
            grid = _text_pixels(vb, item)     # a label over the data: its whole box
            if now != (y0, y1) and len(grid):  # its anchor moves, its box keeps its size
                at = item.pos().y()
                grid[:, 1] += ((y1 - at) / (y1 - y0) - (now[1] - at) / (now[1] - now[0])) \
                    * height
            out.append(grid)
            continue
        view = (x0, x1, y0, y1, width, height)
        if isinstance(item, CurveSet) and item.isVisible():
            out.extend(_lines_pixels(item.lines(), view))
            continue
        if not item.isVisible() or not isinstance(
                item, (pg.PlotDataItem, pg.PlotCurveItem, pg.ScatterPlotItem)):
            continue
        scatter = isinstance(item, pg.ScatterPlotItem)
        pen = None if scatter else item.opts.get("pen")
        line = pen is not None and pg.mkPen(pen).style() != Qt.PenStyle.NoPen
        dots = scatter or (isinstance(item, pg.PlotDataItem) and item.opts.get("symbol"))
        if not (line or dots):
            continue                      # drawn with no pen: bounds only
        x, y = item.getData()
        if x is None or y is None or len(x) == 0:
            continue
        out.append(_item_pixels(x, y, line, view))
    return np.concatenate(out) if out else np.empty((0, 2))


def _item_pixels(x: Any, y: Any, line: bool,
                 view: tuple[float, float, float, float, float, float]) -> np.ndarray:
    """(n, 2) view-box pixels of one item's points (`drawn_pixels`): the points, or
    along a line one every LEGEND_SAMPLE_PX."""
    x0, x1, y0, y1, width, height = view
    px = (np.asarray(x, dtype=float) - x0) / (x1 - x0) * width
    py = (y1 - np.asarray(y, dtype=float)) / (y1 - y0) * height
    ok = np.isfinite(px) & np.isfinite(py)
    px, py = px[ok], py[ok]
    if line and len(px) > 1:
        steps = np.hypot(np.diff(px), np.diff(py))
        along = np.concatenate(([0.0], np.cumsum(np.minimum(steps, 4 * (width + height)))))
        at = np.arange(0.0, along[-1] + LEGEND_SAMPLE_PX, LEGEND_SAMPLE_PX)
        px, py = np.interp(at, along, px), np.interp(at, along, py)
    return np.column_stack((px, py))


def _lines_pixels(lines: Sequence[tuple[np.ndarray, np.ndarray]],
                  view: tuple[float, float, float, float, float, float]) -> list[np.ndarray]:
    """`_item_pixels` of lines over one x (a `CurveSet`'s), the same numbers, the work
    up to the sampling done for all finite lines at once (a Python loop of a dozen numpy
    calls a line was ~1 ms for a network's 30 unit curves)."""
    if not lines:
        return []
    x = lines[0][0]
    if len(x) < 2 or any(xi is not x for xi, _ in lines):
        return [_item_pixels(xi, y, True, view) for xi, y in lines]
    x0, x1, y0, y1, width, height = view
    px = (np.asarray(x, dtype=float) - x0) / (x1 - x0) * width
    pys = (y1 - np.asarray([y for _, y in lines], dtype=float)) / (y1 - y0) * height
    whole = np.isfinite(pys).all(axis=1) & bool(np.isfinite(px).all())
    steps = np.hypot(np.diff(px)[None, :], np.diff(pys, axis=1))
    along = np.cumsum(np.minimum(steps, 4 * (width + height)), axis=1)
    out = []
    for i, (xi, y) in enumerate(lines):
        if not whole[i]:          # gaps: the line's finite points, as `_item_pixels`
            out.append(_item_pixels(xi, y, True, view))
            continue
        at_i = np.concatenate(([0.0], along[i]))
        at = np.arange(0.0, at_i[-1] + LEGEND_SAMPLE_PX, LEGEND_SAMPLE_PX)
        out.append(np.column_stack((np.interp(at, at_i, px), np.interp(at, at_i, pys[i]))))
    return out


def _text_pixels(vb: pg.ViewBox, item: pg.TextItem) -> np.ndarray:
    """A grid of points every LEGEND_SAMPLE_PX over a text item's box, in view-box pixels
    (a legend over "training | unseen" hides words, not only a few points)."""
    rect = vb.mapRectFromScene(item.sceneBoundingRect())
    if rect.width() <= 0 or rect.height() <= 0:
        return np.empty((0, 2))
    xs = np.arange(rect.left(), rect.right() + 1e-9, LEGEND_SAMPLE_PX)
    ys = np.arange(rect.top(), rect.bottom() + 1e-9, LEGEND_SAMPLE_PX)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack((gx.ravel(), gy.ravel()))


def legend_cover(plot: pg.PlotWidget, legend: pg.LegendItem, corner: str,
                 points: np.ndarray, size: tuple[float, float] | None = None,
                 reach: float = 0.0) -> int:
    """How many of `points` (view-box pixels) the legend would cover in `corner`, at its
    present size or at `size` (width, height). A point counts within `reach` px of the
    box: it is drawn as a dot or a line that wide around it (a projector's 8 px dot
    centred 3 px outside the box still shows under its edge)."""
    left, top, right, bottom = legend_box(plot, legend, corner, size, reach)
    inside = ((points[:, 0] >= left) & (points[:, 0] <= right)
              & (points[:, 1] >= top) & (points[:, 1] <= bottom))
    return int(inside.sum())


def legend_box(plot: pg.PlotWidget, legend: pg.LegendItem, corner: str,
               size: tuple[float, float] | None = None, reach: float = 0.0
               ) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) in view-box pixels: where a point is covered by the
    legend in `corner` (`legend_cover`)."""
    vb = plot.getViewBox()
    (ax, ay), (ox, oy) = LEGEND_CORNERS[corner]
    if size is None:
        size = legend.boundingRect().width(), legend.boundingRect().height()
    w, h = size
    left = ox if ax == 0 else vb.width() + ox - w
    top = oy if ay == 0 else vb.height() + oy - h
    return left - reach, top - reach, left + w + reach, top + h + reach


def _set_columns(legend: pg.LegendItem, n: int) -> None:
    """`n` entries a row, the legend's box measured at once."""
    legend.setColumnCount(n)
    legend.layout.invalidate()
    legend.layout.activate()
    legend.updateSize()


def legend_size(legend: pg.LegendItem, n: int) -> tuple[float, float]:
    """(width, height) of `legend` laid out `n` entries a row: measured by laying it out
    so once for its entries as they read now (texts and fonts), then remembered.

    Trying the one-row layout by laying the legend out again, twice a placement (to one
    row and back), cost ~0.7 ms of the GUI thread's ~1.4 ms a placement and moved every
    entry (each legend is placed every LEGEND_WAIT_MS while a run trains; measured on
    the gui bench's window, linear 1 day). It was not a steady measure either: the
    legend keeps the width it had, so each one-row layout came out wider than the last
    (426, 568, 716, 827 px for the same two entries); the first, from the legend as
    shown, is kept.
    """
    entries = tuple((label.text, label.opts.get("size"), label.opts.get("bold"),
                     label.opts.get("italic"), label.item.font().key())
                    for _sample, label in legend.items)
    sizes: dict[tuple[object, ...], tuple[float, float]] | None = getattr(
        legend, "_measured_sizes", None)
    if sizes is None:
        sizes = {}
        legend._measured_sizes = sizes   # type: ignore[attr-defined]
    key = (n, entries)
    if key not in sizes:
        columns = legend.columnCount
        if columns != n:
            _set_columns(legend, n)
        rect = legend.boundingRect()
        sizes[key] = (rect.width(), rect.height())
        if columns != n:
            _set_columns(legend, columns)
    return sizes[key]


def place_legend(plot: pg.PlotWidget, legend: pg.LegendItem, current: str,
                 one_row: bool = True, reach: float = 0.0) -> tuple[str, int]:
    """Move `legend` to the corner of `plot` where it covers least of what is drawn, in
    its column layout or on one row if that covers less (a short plot has no free
    corner for a legend a row per entry tall); it stays put unless another place covers
    clearly less, or nothing. Returns its corner and how many drawn points it covers there."""
    points = drawn_pixels(plot)
    columns = legend.columnCount
    layouts = [columns] + ([LEGEND_ONE_ROW] if one_row and columns < len(legend.items)
                           else [])
    cover = {}
    for n in layouts:
        size = legend_size(legend, n) if n != columns else None
        cover.update({(c, n): legend_cover(plot, legend, c, points, size, reach)
                      for c in LEGEND_CORNERS})
    here = (current, columns)
    best = min(cover, key=lambda k: (cover[k], k != here, k[1] != columns))
    if not (cover[best] < cover[here] - max(2, 0.2 * cover[here])
            or cover[best] == 0 < cover[here]):     # a place that hides nothing wins
        best = here
    if legend.columnCount != best[1]:
        _set_columns(legend, best[1])
    anchor, offset = LEGEND_CORNERS[best[0]]
    legend.anchor(itemPos=anchor, parentPos=anchor, offset=offset)
    return best[0], cover[best]


class View(QWidget):
    """Base class of the five views; subclasses draw in `_draw(snap)`."""

    title: str = ""
    # Legend entries a row in a short window (`set_compact`); None: the view decides.
    compact_legend_columns: int | None = LEGEND_ONE_ROW
    # The view's title names its curves' colours: a legend with no free place is left out
    legend_named_elsewhere = False

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(type(self).__name__)
        self._theme = theme
        self._config: RunConfig | None = None
        self._data: Any = None
        self._param_names: list[str] = []
        self._run_id: int | None = None
        self._retired: set[int] = set()
        self._plots: list[pg.PlotWidget] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.setSpacing(2)
        self._title_label = ElidedLabel(self.title, self)
        self._title_label.setObjectName("viewTitle")
        self._layout.addWidget(self._title_label)
        self._compact = False
        self._legend_corner: dict[int, str] = {}     # id(plot) -> its legend's corner
        self._legends_left_out: set[int] = set()     # id(plot): hidden for want of room
        self._legend_timer = QTimer(self)
        self._legend_timer.setSingleShot(True)
        self._legend_timer.setInterval(LEGEND_WAIT_MS)
        self._legend_timer.timeout.connect(self.place_legends)

    # ----- the interface the window uses -------------------------------------------------
    def set_run(self, config: RunConfig, data: Any, param_names: list[str],
                run_id: int | None = None) -> None:
        """A new run started; `run_id` (optional) pins which snapshots belong to it.

        Without `run_id`, the first snapshot whose id was not seen before this call is
        taken as the new run's.
        """
        if self._run_id is not None:
            self._retired.add(self._run_id)
        self._config = config
        self._data = data
        self._param_names = list(param_names)
        self._run_id = run_id
        self._on_run()

    def update_config(self, config: RunConfig) -> None:
        """A live change (loss, batch size) the trainer has applied to the same run:
        rebuild what shows the config (titles, axes, the surface of the new loss)."""
        if self._config is None or self._data is None:
            return
        self._config = config
        self._on_run()

    def show_snapshot(self, snap: Snapshot) -> None:
        """Draw `snap` if it belongs to the current run; must be cheap."""
        if not self._accept(snap):
            return
        self._draw(snap)
        self._settle()
        self.legends_later()

    def legends_later(self) -> None:
        """Place the legends once the data has stopped changing for LEGEND_WAIT_MS (one
        timer start a frame at most, not a search)."""
        if self._legend_corner and not self._legend_timer.isActive():
            self._legend_timer.start()

    def place_legends(self) -> None:
        """Each legend in the corner of its plot where it covers least of the data: a
        fixed corner lay over the fitted function's points, the series' last weeks and
        the builder's curves on a 1280 x 720 projector."""
        for plot in self._plots:
            legend = plot.getPlotItem().legend
            key = id(plot)
            left_out = key in self._legends_left_out
            if legend is None or key not in self._legend_corner or not (
                    legend.isVisible() or left_out):
                continue
            # a short window's legends keep the rows `set_compact` gave them
            corner, cover = place_legend(plot, legend, self._legend_corner[key],
                                         one_row=not self._compact, reach=self.reach)
            self._legend_corner[key] = corner
            if self.legend_named_elsewhere:     # no free place: the title says it
                leave_out = cover > LEGEND_LEAVE_OUT
                legend.setVisible(not leave_out)
                (self._legends_left_out.add if leave_out else
                 self._legends_left_out.discard)(key)

    @property
    def reach(self) -> float:
        """How far (px) a drawn point's ink reaches from it: half a dot or a line."""
        return max(self._theme.point_size, self._theme.line_width + 1) / 2

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.legends_later()
        for note in self.findChildren(NoteLabel):   # its plot's height changed
            note.fit()

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        for plot in self._plots:
            style_plot(plot, theme)
        self._restyle()
        for plot in self._plots:   # samples kept as pixmaps: redraw them in the new pens
            legend = plot.getPlotItem().legend
            for sample, _label in legend.items if legend is not None else ():
                sample.update()

    def set_compact(self, on: bool) -> None:
        """A short window (the normal window on a 1280 x 720 screen, `MainWindow`
        decides): the plots before their captions. Legends take one row (or
        `compact_legend_columns` a row) instead of a row per entry (they covered the
        short plots' curves), notes one line; subclasses
        drop what else repeats (`_apply_compact`)."""
        if on == self._compact:
            return
        self._compact = on
        columns = self.compact_legend_columns
        for plot in self._plots if columns is not None else ():
            legend = plot.getPlotItem().legend
            if legend is not None:
                legend.setColumnCount(columns if on else 1)
        for note in self.findChildren(NoteLabel):
            note.set_short_window(on)
        self._apply_compact(on)

    @property
    def compact(self) -> bool:
        return self._compact

    def _apply_compact(self, on: bool) -> None:
        """What else a view leaves out in a short window (`set_compact`)."""

    def shutdown(self) -> None:
        """Stop and join background work (views without any have nothing to do)."""

    def busy(self) -> bool:
        """True while background work (e.g. a surface slice) is still running."""
        return False

    def clear(self) -> None:
        """Forget what the run drew (items stay, emptied); the data-dependent parts stay."""
        self._clear_items()

    def main_plot(self) -> pg.PlotWidget | None:
        """The view's main plot (its first PlotWidget), whose range sessions save, lecture
        steps zoom and the Export menu writes; None for a view without one (the table)."""
        plots = self.findChildren(pg.PlotWidget)
        return plots[0] if plots else None

    # ----- for subclasses -----------------------------------------------------------------
    @property
    def theme(self) -> Theme:
        return self._theme

    @property
    def current_run_id(self) -> int | None:
        return self._run_id

    def _accept(self, snap: Snapshot) -> bool:
        if self._config is None:
            return False
        rid = int(snap.run_id)
        if self._run_id is None:
            if rid in self._retired:
                return False
            self._run_id = rid
            return True
        if rid == self._run_id:
            return True
        # Run ids grow: a newer id without set_run (e.g. a restart from a clicked point)
        # belongs to the same data, an older one is a late frame of a finished run.
        if rid > self._run_id and rid not in self._retired:
            self._retired.add(self._run_id)
            self._run_id = rid
            return True
        return False

    def _on_run(self) -> None:
        """Rebuild what depends on the data and the model (fast: < 50 ms)."""

    def _draw(self, snap: Snapshot) -> None:
        raise NotImplementedError

    def _restyle(self) -> None:
        """Recolour items after a theme change."""

    def _clear_items(self) -> None:
        """Empty the per-run items."""

    def _make_plot(self, x_label: str, y_label: str, **kw: Any) -> pg.PlotWidget:
        bottom = CountAxis("bottom") if x_label == "update" else QuietAxis("bottom")
        kw["axisItems"] = {"left": FittingAxis("left"), "bottom": bottom,
                           "right": QuietAxis("right"), "top": QuietAxis("top"),
                           **kw.get("axisItems", {})}
        plot = pg.PlotWidget(parent=self, **kw)
        plot.hideAxis("top")     # as pyqtgraph's own; an axis passed in starts shown
        plot.hideAxis("right")
        plot.setMenuEnabled(False)
        plot.setLabel("bottom", x_label)
        plot.setLabel("left", y_label)
        plot.showGrid(x=True, y=True, alpha=0.18)
        style_plot(plot, self._theme)
        cache_axes(plot)
        # The plot paints every pixel of its background: Qt need not repaint the view and
        # the dock (style-sheet frames and titles) behind it each frame.
        plot.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        unindexed(plot)
        self._plots.append(plot)
        return plot

    def _settle(self) -> None:
        """Apply pending auto-ranges now, before Qt paints.

        pyqtgraph settles a view's range at the start of its paint; a range that moves then
        dirties the scene again and the view is painted twice per frame.
        """
        for plot in self._plots:
            plot.scene().prepareForPaint()

    def _add_legend(self, plot: pg.PlotWidget, offset: tuple[int, int]) -> pg.LegendItem:
        legend = plot.addLegend(offset=offset)
        style_plot(plot, self._theme)
        self._legend_corner[id(plot)] = ("top-" if offset[1] >= 0 else "bottom-") + (
            "left" if offset[0] >= 0 else "right")
        return legend

    def _set_title(self, text: str) -> None:
        self._title_label.setText(text)


MIN_LABEL_SCALE = 0.75    # the projector's 12-pt axis titles down to 9 pt, no smaller


NO_PREFIX_BELOW_1 = ((1e9, float("inf")),)   # where a unitless axis takes an SI prefix


class QuietAxis(pg.AxisItem):
    """An axis that sets its title again only when the title's text changes.

    pyqtgraph writes an axis's title anew (HTML parsed and laid out, the axis resized) at
    every move of its range, to follow the SI prefix ("update (x1e+06)"), which changes
    far more rarely: a loss plot following a run moves its updates axis about every other
    frame (two `setHtml` calls a move, ~0.1 ms CPU each, measured). The tick labels are
    redrawn at every move as before.
    """

    _label_html: str | None = None
    _bounds: tuple[Any, ...] = ()      # (what `boundingRect` depends on ..., the rect)
    whole_numbers = False              # ticks at whole numbers only (a count of days)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[Any]:
        """pyqtgraph's ticks; on an axis of `whole_numbers`, none between them: a wide
        plot of the lecture's day weights labelled "0.5 1 1.5 ... 7.5" days before."""
        levels = super().tickValues(minVal, maxVal, size)
        if not self.whole_numbers:
            return levels
        whole = [(spacing, values) for spacing, values in levels if spacing >= 1]
        return whole or [(1.0, [float(v) for v in range(math.ceil(minVal),
                                                        math.floor(maxVal) + 1)])]

    def setLabel(self, text: str | None = None, units: str | None = None,
                 unitPrefix: str | None = None, siPrefixEnableRanges: Any = None,
                 **kw: Any) -> None:
        """pyqtgraph's, with no SI prefix below 1 unless asked: a unitless axis whose
        values stay under 1 was written in thousandths, and the lecture's 7-day weights
        (w1 = 0.71) read "600" beside "weight w_j (x0.001)" on the projector. Huge values
        (a diverging MSE) keep theirs. (pyqtgraph resets the ranges at every title.)"""
        super().setLabel(text, units, unitPrefix,
                         siPrefixEnableRanges=siPrefixEnableRanges or NO_PREFIX_BELOW_1, **kw)

    def boundingRect(self) -> QRectF:
        """pyqtgraph's bounds (the axis, and its view box where it draws a grid), worked
        out again only when they can change: the axis' or its view box's geometry (both
        in the plot's layout), the grid, the ticks' length or the labels' overhang.

        Qt asks every axis for them ~3 times a frame (the paint's exposed region, the
        cached pixmap's size), a Python call each: pyqtgraph maps both geometries anew
        each time, another Python call into the view box among a dozen Qt calls
        (~30 calls a frame on the gui bench's window, ~1.5 ms of the GUI thread's time
        under the profiler)."""
        view = self.linkedView() if self.grid is not False else None
        style = self.style
        key = (self.geometry(), None if view is None else view.geometry(), self.grid,
               style["tickLength"], style["hideOverlappingLabels"])
        bounds = self._bounds
        if bounds[:-1] != key:
            bounds = self._bounds = (*key, super().boundingRect())
        return QRectF(bounds[-1])     # a copy: a caller may change the rect it gets

    def _updateLabel(self) -> None:
        html = self.labelString()
        if html == self._label_html:
            self.picture = None     # new ticks for the new range (as pyqtgraph's does)
            self.update()
            return
        self._label_html = html
        super()._updateLabel()


class CountAxis(QuietAxis):
    """An axis of counts (updates) whose tick labels stay short: 200k, 1.5M.

    pyqtgraph writes a tick as its number in full ("%g"): a run's updates axis read
    "200000400000600000800000" at 1280 x 720 in the projector theme, five labels run
    together, and past a million "1e+06", which a class does not read as a count. Below
    10,000 the labels are pyqtgraph's own."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return count_labels([v * scale for v in values], spacing * scale) \
            or super().tickStrings(values, scale, spacing)


def count_labels(values: list[float], spacing: float) -> list[str]:
    """Tick labels for counts `spacing` apart in thousands (k) or millions (M), with as
    many decimals as the spacing needs and none to spare ("0.5M", "1M", "1.5M"); empty
    where the largest is under 10,000 (plain numbers read well there)."""
    top = max((abs(v) for v in values), default=0.0)
    if top < 1e4 or spacing <= 0:
        return []
    unit, suffix = (1e6, "M") if top >= 1e6 else (1e3, "k")
    decimals = max(0, -math.floor(math.log10(spacing / unit) + 1e-9))
    out = []
    for v in values:
        text = f"{v / unit:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        out.append("0" if text in ("0", "-0") else text + suffix)
    return out


class FittingAxis(QuietAxis):
    """A left axis whose title shrinks to the plot's height (to MIN_LABEL_SCALE at most)
    and stays centred: pyqtgraph cuts a title longer than the axis at both ends, and at
    1280 x 720 in the projector theme a 130-px fitted-function plot read "y = views that
    da" and a short series plot "views per da". Still too long at MIN_LABEL_SCALE, it is
    written short, whole words and "…" ("views per…"), or not at all where not even its
    first word fits (a 1280 x 720 window's plots under the restore bar read "MAE (view"
    and "views per da")."""

    _shortened: bool | str = False   # written short now (`_shorten`), or "hidden"

    def resizeEvent(self, ev: Any = None) -> None:
        super().resizeEvent(ev)
        if self.label is None:
            return
        if self._shortened:      # from the whole title again: the room may have grown
            self.label.setHtml(self.labelString())
            if self._shortened == "hidden":
                self.label.setVisible(True)
            self._shortened = False
        width = self.label.boundingRect().width()
        height = self.size().height()
        scale = 1.0 if width <= height else max(height / width, MIN_LABEL_SCALE)
        if scale * width > height and self.labelText and height > 0:
            width = self._shorten(height / scale)
        if scale != self.label.scale():
            self.label.setScale(scale)
        self.label.setPos(self.label.pos().x(), int(height / 2 + scale * width / 2))

    def _shorten(self, room: float) -> float:
        """Write the title as its most leading whole words that fit `room` px (unscaled)
        with "…"; hidden if none does. Its width as written."""
        self._shortened = True
        # in the title's own colour and size (pyqtgraph's span), as plain text
        style = ";".join(f"{k}: {v}" for k, v in self.labelStyle.items())
        words = self.label.toPlainText().split()
        for k in range(len(words) - 1, 0, -1):
            short = " ".join(words[:k]).rstrip(" (=,:;") + "…"
            self.label.setHtml(f"<span style='{style}'>{html.escape(short)}</span>")
            if self.label.boundingRect().width() <= room:
                return self.label.boundingRect().width()
        if self.label.isVisible():
            self._shortened = "hidden"
            self.label.setVisible(False)
        return 0.0

    def _updateLabel(self) -> None:
        super()._updateLabel()
        self.resizeEvent()


class LogLossAxis(FittingAxis):
    """A loss axis on a log scale: powers of ten as they are (no "x1e+15" prefix), and
    of many ticks only those at 1, 2 and 5 times a power of ten labelled (all nine in a
    small pane wrote over each other: the gallery's panes, the race's loss plot at
    1280 x 720)."""

    def __init__(self, orientation: str = "left") -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = super().logTickStrings(values, scale, spacing)
        if len(values) <= 5:
            return out
        keep = {1, 2, 5} if len(values) <= 20 else {1}
        return [text if round(10 ** (v % 1)) % 10 in keep or round(10 ** (v % 1)) == 10
                else "" for v, text in zip(values, out, strict=True)]


def style_plot(plot: pg.PlotWidget, theme: Theme) -> None:
    """Background, axis colours and fonts of one plot from `theme`."""
    plot.setBackground(theme.background)
    font = QFont()
    font.setPointSize(theme.font_pt)
    item = plot.getPlotItem()
    for name in ("left", "bottom", "right", "top"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(theme.foreground, width=1))
        axis.setTextPen(pg.mkPen(theme.foreground))
        # an axis only ever widens for its tick labels: start from pyqtgraph's initial
        # room, so a smaller theme's axes are as narrow as when the app starts in it
        axis.textWidth, axis.textHeight = 30, 18
        axis.setStyle(tickFont=font)
        # the title's style is kept for a title set later too (`setLabel(text)` keeps it):
        # a gallery pane names its axes after it is styled, and its titles came out in
        # pyqtgraph's default size, 9 px tall under the projector's 14 px tick labels
        axis.labelStyle = {"color": theme.foreground, "font-size": f"{theme.font_pt + 1}pt"}
        label = axis.labelText
        if label:
            axis.setLabel(label, units=axis.labelUnits or None, **axis.labelStyle)
    legend = item.legend
    if legend is not None:
        legend.setLabelTextColor(theme.foreground)
        legend.setLabelTextSize(f"{theme.font_pt}pt")
        legend.setBrush(theme.brush(theme.panel, 200))
        legend.setPen(theme.pen(theme.grid, 1))
        # pyqtgraph stores the new colour and size in each label but draws them only at
        # its next setText: without this a live switch to the projector theme left the
        # dark theme's light grey legend text on white
        for _sample, label in legend.items:
            label.setText(label.text)
            label.resize(label.preferredSize())   # a smaller font: the box shrinks too
        legend.layout.invalidate()
        legend.layout.activate()
        legend.updateSize()


def unindexed(plot: pg.PlotWidget) -> None:
    """The plot's scene keeps no spatial index of its items (Qt's default is a BSP tree).

    A plot holds a few dozen items, nearly all children of its one top-level item (the
    plot), so the tree finds nothing a walk of that item would not; but every curve, point
    or arrow that moves in a frame takes it out of the tree and puts it back, through its
    bounds, a Python call each. Unindexed, a frame's GUI thread (the bench's window, a
    run's snapshots drawn again with training paused, alternating passes in one process)
    cost 6.53 -> 6.35 ms CPU (linear 1 day) and 6.21 -> 6.05 ms (3 x 100 ReLU)."""
    plot.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)


def one_rect_updates(plot: pg.PlotWidget) -> None:
    """Repaint the plot in one rectangle around everything that changed, not in the
    exact region of it (pyqtgraph's `MinimalViewportUpdate`).

    Qt clips a paint to the region it repaints: two or three rectangles when the fitted
    function's curves moved and its points' pixmap did not. Through such a clip Qt's
    raster engine strokes antialiased lines span by span, several times slower: the 30
    unit curves of a replayed 1,000-ReLU moment took 3.5-16 ms of the GUI thread's CPU
    in a paint clipped to two or three rectangles, 0.9-1.4 ms in one (the paint engine's
    system clip read at each paint, the replay bench's window). Set on the fitted
    function's plot, its paint in a replayed frame took 6.6-6.8 -> 4.7-4.9 ms CPU (the
    bench's window, 2 x 30 replayed moments timed per view, old and new alternating,
    load 2.2-2.8). What lies under the rectangle is repainted too, mostly from pixmaps.
    """
    plot.setViewportUpdateMode(pg.QtWidgets.QGraphicsView.ViewportUpdateMode
                               .BoundingRectViewportUpdate)


def cache_axes(plot: pg.PlotWidget) -> None:
    """Keep each axis as a pixmap until its range or style changes.

    Replaying an axis's tick labels costs ~3 ms per axis and frame; a frame whose ranges
    did not move (the series, fit and surface views, most frames) then blits the pixmap.
    """
    item = plot.getPlotItem()
    cache_static(*(item.getAxis(name) for name in ("left", "bottom", "right", "top")))


def segmented(item: pg.PlotCurveItem | pg.PlotDataItem, pen: pg.QtGui.QPen) -> None:
    """Draw a long curve in `pen` as separate antialiased segments with flat ends.

    Qt strokes a wide antialiased polyline that crosses itself as one big polygon: a noisy
    2,000-point loss curve costs ~12 ms a paint, the same as line segments ~1 ms. Flat
    ends meet like the polyline's joins (square or round ends overlap, and their
    antialiased edges would bead along a flat curve). Opaque pens only: a translucent
    one would darken where segments meet.
    """
    pen = pg.QtGui.QPen(pen)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    curve = item.curve if isinstance(item, pg.PlotDataItem) else item
    curve.setSegmentedLineMode("on")
    item.setPen(pen)


def set_curve(item: pg.PlotCurveItem | pg.ScatterPlotItem, x: Any, y: Any,
              **kwargs: Any) -> None:
    """`item.setData(x, y)`, with the curve (or set of points) hidden while it is empty
    and shown when drawn (for items whose visibility nothing else decides).

    Qt asks every visible item of a view for its bounds when it paints, a Python call
    each: the fitted-function view's 30 unit curves, unused by a linear model or a deep
    network, were ~30 of a frame's ~290 calls from Qt into Python (counted on the bench's
    window), each of which can wait for the GIL while the training thread holds it. Qt
    skips a hidden item. An empty scatter is even painted: its bounds are a speck at the
    origin, where a 1-day path starts, so the path's repaint takes it in (~0.2 ms CPU of
    set-up for nothing). Setting an empty item empty again costs nothing.
    """
    empty = len(x) == 0
    if empty and not item.isVisible() and _holds_nothing(item):
        return
    if not kwargs and _one_plain_point(item, x):
        move_points(item, np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    else:
        item.setData(x, y, **kwargs)
    item.setVisible(not empty)


def _one_plain_point(item: pg.PlotCurveItem | pg.ScatterPlotItem, x: Any) -> bool:
    """A scatter of one point in its item's own style, to be moved to one point: a
    marker that follows the run (the surface's current point). Moved, not set anew:
    `setData` rebuilds the point's record and style (~0.2 ms CPU a frame on the bench's
    window, measured), for the same dot one step further."""
    if not isinstance(item, pg.ScatterPlotItem) or len(x) != 1 or len(item.data) != 1:
        return False
    point = item.data[0]
    return (point["pen"] is None and point["brush"] is None and point["symbol"] is None
            and point["size"] == -1 and point["data"] is None)


def _holds_nothing(item: pg.PlotCurveItem | pg.ScatterPlotItem) -> bool:
    if isinstance(item, pg.ScatterPlotItem):
        return len(item.data) == 0
    return item.xData is None or len(item.xData) == 0


def long_series(item: pg.PlotDataItem) -> None:
    """Draw only the visible days, at most a few points per pixel (min and max of each).

    pyqtgraph 0.14 ignores `clipToView` / `autoDownsample` given to the constructor and
    `PlotItem.addItem` imposes the plot's own (off) settings: call this after adding.
    """
    item.setClipToView(True)
    item.setDownsampling(auto=True, method="peak")


class Curve(pg.PlotCurveItem):
    """pyqtgraph's line item, its bounds worked out in a few numpy calls.

    Qt asks each line for its bounds several times a frame, and pyqtgraph works them out
    anew after every `setData` and every move of the axes: nanmin and nanmax of both
    coordinates under a warnings filter, then the pen's width in data units through
    `pixelVectors` (45-100 us a time, 6-9 times a frame on the gui bench's window). Here
    the data's extent is kept until the data changes (a move of the axes changes only
    the pen's padding), NaN is skipped by `fmin` / `fmax` (no warnings to filter), and an
    unrotated view's pixel comes straight from the device transform. The same rectangle
    as pyqtgraph's; anything else (a fill level, a part of the data) goes pyqtgraph's way.
    """

    def viewTransformChanged(self) -> None:
        self._boundingRect = None      # the data's extent (`_boundsCache`) stays
        self.prepareGeometryChange()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None
                   ) -> tuple[float | None, float | None]:
        cache = self._boundsCache[ax]
        if cache is not None and cache[0] == (frac, orthoRange):
            return cache[1]
        opts = self.opts
        if frac < 1.0 or orthoRange is not None or opts["fillLevel"] is not None \
                or opts["shadowPen"] is not None:
            return super().dataBounds(ax, frac, orthoRange)
        d = self.xData if ax == 0 else self.yData
        if d is None or len(d) == 0:
            return (None, None)
        b = float(np.fmin.reduce(d)), float(np.fmax.reduce(d))
        if math.isinf(b[0]) or math.isinf(b[1]):     # as pyqtgraph: infinities left out
            d = d[np.isfinite(d)]
            if len(d) == 0:
                return (None, None)
            b = float(d.min()), float(d.max())
        pen = opts["pen"]
        if pen is not None and not pen.isCosmetic() and pen.style() != Qt.PenStyle.NoPen:
            b = (b[0] - pen.widthF() * 0.7072, b[1] + pen.widthF() * 0.7072)
        self._boundsCache[ax] = [(frac, orthoRange), b]
        return b

    def boundingRect(self) -> QRectF:
        rect = self._boundingRect
        if rect is not None:
            return rect
        if self.clickable or self.opts["shadowPen"] is not None:
            return super().boundingRect()
        xmn, xmx = self.dataBounds(0)
        if xmn is None or xmx is None:
            return QRectF()
        ymn, ymx = self.dataBounds(1)
        if ymn is None or ymx is None:
            return QRectF()
        px = py = 0.0
        pad = self.pixelPadding()
        if pad > 0:
            dt = self.deviceTransform_()
            if dt is None:
                px = py = 0.0
            elif dt.m12() == 0 and dt.m21() == 0:
                px, py = pad / abs(dt.m11()), pad / abs(dt.m22())
            else:
                return super().boundingRect()
        self._boundingRect = QRectF(xmn - px, ymn - py, 2 * px + xmx - xmn, 2 * py + ymx - ymn)
        return self._boundingRect


class CurveSet(pg.GraphicsObject):
    """Several lines over the same x, each in its own pen, as one plot item: a one-day
    network's unit curves c_i act(b_i + w_i x1) (`FitView`).

    As 30 pyqtgraph curves, each unit was an item of its own to Qt and pyqtgraph: its
    data set anew, its bounds asked for again and again, its paint a Python call, every
    frame, for lines that change together. Measured in the replay bench's window (1-day
    1,000 ReLU, 2 x 30 replayed moments, GUI-thread CPU per view, 30 curves and this
    alternating 3 rounds, load 5.5-7.9): the fitted function's paint 3.8-4.8 -> 2.6-3.3
    ms, its data 1.1-1.6 -> 0.5-0.8 ms. Each line is drawn as pyqtgraph draws a
    translucent curve (every unit's pen is): its path (`arrayToQPath`, with gaps at NaN)
    stroked in its pen, in the order given, so the picture is the same. Hidden while it
    holds no line (Qt then skips it, `set_curve`).
    """

    def __init__(self) -> None:
        super().__init__()
        self._x: np.ndarray = np.empty(0)
        self._ys: list[np.ndarray] = []
        self._gaps: list[bool] = []             # a line with NaN: connect="finite"
        self._pens: list[Any] = []
        self._paths: list[Any] | None = None
        self._extent: tuple[float, float, float, float] | None = None   # the data's
        self._rect: QRectF | None = None
        self._antialias = bool(pg.getConfigOption("antialias"))   # as a PlotCurveItem's
        self.setVisible(False)

    def set_pens(self, pens: Sequence[Any]) -> None:
        """Line i's pen is pens[i % len(pens)]."""
        self._pens = [pg.mkPen(pen) for pen in pens]
        self._changed()

    def set_lines(self, x: Any, ys: Sequence[np.ndarray], gaps: Sequence[bool]) -> None:
        """Lines (x, ys[i]); `gaps[i]`: ys[i] has NaN, drawn as gaps."""
        self._x = np.asarray(x)
        self._ys = list(ys)
        self._gaps = list(gaps)
        self._paths = None
        self._extent = None
        self.informViewBoundsChanged()
        self._changed()
        self.setVisible(bool(self._ys) and len(self._x) > 0)

    def lines(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each line's (x, y), as drawn."""
        return [(self._x, y) for y in self._ys]

    def _changed(self) -> None:
        self._rect = None
        self.prepareGeometryChange()
        self.update()

    def _pen(self, i: int) -> Any:
        return self._pens[i % len(self._pens)] if self._pens else pg.mkPen()

    def _data_extent(self) -> tuple[float, float, float, float] | None:
        if self._extent is None and self._ys and len(self._x):
            ys = np.concatenate(self._ys)
            ys = ys[np.isfinite(ys)]
            xs = self._x[np.isfinite(self._x)]
            if len(ys) and len(xs):
                self._extent = (float(xs.min()), float(xs.max()), float(ys.min()),
                                float(ys.max()))
        return self._extent

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: Any = None
                   ) -> tuple[float | None, float | None]:
        """The lines' extent along `ax` (for the view's auto-range), of their points
        inside `orthoRange` along the other axis if given; the theme's pens are cosmetic,
        their width in pixels (`pixelPadding`)."""
        if orthoRange is None:
            extent = self._data_extent()
            if extent is None:
                return (None, None)
            return (extent[0], extent[1]) if ax == 0 else (extent[2], extent[3])
        if not self._ys or not len(self._x):
            return (None, None)
        ys = np.asarray(self._ys, dtype=float)
        xs = np.broadcast_to(np.asarray(self._x, dtype=float), ys.shape)
        along, other = (xs, ys) if ax == 0 else (ys, xs)
        keep = (other >= orthoRange[0]) & (other <= orthoRange[1]) & np.isfinite(along)
        if not keep.any():
            return (None, None)
        return float(along[keep].min()), float(along[keep].max())

    def pixelPadding(self) -> float:
        return max((pen.widthF() * 0.7072 for pen in self._pens[:len(self._ys)]
                    if pen.style() != Qt.PenStyle.NoPen), default=0.0)

    def viewTransformChanged(self) -> None:
        self._rect = None       # the pens' padding in data units
        self.prepareGeometryChange()

    def boundingRect(self) -> QRectF:
        if self._rect is not None:
            return self._rect
        extent = self._data_extent()
        if extent is None:
            return QRectF()
        xmn, xmx, ymn, ymx = extent
        px = py = 0.0
        pad = self.pixelPadding()
        if pad > 0:
            vx, vy = self.pixelVectors()
            px = 0.0 if vx is None else vx.length() * pad
            py = 0.0 if vy is None else vy.length() * pad
        self._rect = QRectF(xmn - px, ymn - py, 2 * px + xmx - xmn, 2 * py + ymx - ymn)
        return self._rect

    def paint(self, p: QPainter, *_: Any) -> None:
        if not self._ys or not len(self._x):
            return
        if self._paths is None:
            self._paths = [pg.functions.arrayToQPath(
                self._x, y, connect="finite" if gap else "all")
                for y, gap in zip(self._ys, self._gaps, strict=True)]
        export = self._exportOpts
        p.setRenderHint(QPainter.RenderHint.Antialiasing,
                        export.get("antialias", True) if export is not False
                        else self._antialias)
        for i, path in enumerate(self._paths):
            pen = self._pen(i)
            if pen.style() != Qt.PenStyle.NoPen:
                p.setPen(pen)
                p.drawPath(path)


class SteadyStyle(pg.PlotDataItem):
    """A curve set anew every frame in the same style: its line item gets the new data
    only, not its pens and fill again.

    pyqtgraph 0.14 hands a PlotDataItem's whole style to its curve at every `setData`
    (`updateItems` forces it): a new copy of the pen, the shadow pen, the fill level and
    brush, each with its own invalidation and update, for a style that changes only with
    the theme. Given again only when one of them changed (`setPen`, a theme), the curve
    draws the same; points (a symbol) and an item drawn with no pen go pyqtgraph's way.
    """

    _STYLE = ("pen", "shadowPen", "fillLevel", "fillOutline", "fillBrush", "antialias",
              "stepMode")
    _styled: tuple[Any, ...] | None = None     # the style the curve was last given

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # its line a `Curve` (cheap bounds), in pyqtgraph's line's place under its points
        line, self.curve = self.curve, Curve()
        self.curve.setParentItem(self)
        self.curve.stackBefore(self.scatter)
        self.curve.sigClicked.connect(self.sigClicked)
        line.setParentItem(None)
        self.updateItems(styleUpdate=True)     # data given to the constructor, if any

    def updateItems(self, styleUpdate: bool = True) -> None:
        opts = self.opts
        style = tuple(opts.get(k) for k in self._STYLE)
        steady = self._styled is not None and len(style) == len(self._styled) and all(
            a is b for a, b in zip(style, self._styled, strict=True))
        if not steady or opts["symbol"] is not None or opts["pen"] is None:
            super().updateItems(styleUpdate)
            # (pyqtgraph gives the curve its style only along with data to draw)
            self._styled = style if self._getDisplayDataset() is not None else None
            return
        dataset = self._getDisplayDataset()
        if dataset is None:
            self.curve.hide()
            self.scatter.hide()
            return
        connect = opts["connect"] if dataset.connect is None else dataset.connect
        skip = opts["skipFiniteCheck"]
        if isinstance(connect, str) and connect == "auto":     # as pyqtgraph decides it
            connect, skip = ("all", True) if dataset.containsNonfinite is False \
                else ("finite", False)
        self.curve.setData(x=dataset.x, y=dataset.y, connect=connect, skipFiniteCheck=skip)
        self.curve.show()


FLAT_PX = 0.25   # a pixel column whose points span less than this is drawn as one point


def column_extremes(col: np.ndarray, y: np.ndarray, y_px: np.ndarray) -> np.ndarray:
    """Indices of the points of a curve that draw its picture: in each pixel column its
    first, lowest, highest and last point, in the order they come (the first alone where
    the column's points span under FLAT_PX); a NaN gap stays one NaN.

    `col` is each point's pixel column, `y` its value and `y_px` its height in pixels
    (both finite or both NaN). A curve of several points a pixel is, in each column, a
    stroke from its lowest to its highest point, entered and left where its first and
    last points are: the same picture drawn from at most four points a column (the
    "M4" reduction of line charts), and a converged run's flat stretch from one. Qt
    strokes each segment of a wide antialiased pen on its own (~0.4 us each): the loss
    view's 1,294-point curves (linear 1 day on the gui bench's window, ~3 points a pixel,
    flat to a pixel after the first updates) cost 1.6 ms a paint, 0.7 ms from the ~390
    points kept.
    """
    n = len(y)
    if n < 3:
        return np.arange(n)
    finite = np.isfinite(y)
    cut = np.flatnonzero((col[1:] != col[:-1]) | (finite[1:] != finite[:-1])) + 1
    starts = np.concatenate(([0], cut))
    ends = np.concatenate((cut, [n]))
    group = np.repeat(np.arange(len(starts)), ends - starts)
    order = np.lexsort((y, group))           # by column run, then by value
    low, high = order[starts], order[ends - 1]
    picks = np.sort(np.stack([starts, low, high, ends - 1], axis=1), axis=1)
    keep = np.ones(picks.shape, dtype=bool)
    keep[:, 1:] = picks[:, 1:] != picks[:, :-1]
    with np.errstate(invalid="ignore"):
        one = ~finite[starts] | (np.abs(y_px[high] - y_px[low]) < FLAT_PX)
    keep[one, 1:] = False
    return picks[keep]


class GrowingCurve:
    """`column_extremes` of a curve that grows at its end, frame after frame, worked out
    again only from the pixel column where it changed since the last frame.

    A loss history is the last snapshot's and a few points more (or its last point
    replaced); going over all ~1,300 points again each frame cost more Python than the
    paint it saved (~0.3 ms a frame for the two loss curves, measured in the bench's
    window). A new scale, a history that changed earlier (halved) or one whose updates
    do not grow is worked out whole; the indices are those of the whole curve's.
    """

    def __init__(self) -> None:
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._key: tuple[object, ...] | None = None
        self._keep = np.empty(0, dtype=np.int64)

    def keep(self, x: np.ndarray, y: np.ndarray, scale: tuple[float, float, float, float],
             log: bool) -> np.ndarray:
        """Indices of the points drawn; `scale` maps (x, y) to device pixels (x scale,
        x offset, y scale, y offset), `log` that y is drawn as log10(y)."""
        sx, dx, sy, dy = scale
        with np.errstate(invalid="ignore", divide="ignore"):
            col = np.floor(sx * x + dx)
            y_px = sy * (np.log10(y) if log else y) + dy
        start = self._unchanged(x, y, col, (scale, log))
        keep = column_extremes(col[start:], y[start:], y_px[start:]) + start
        if start:
            keep = np.concatenate([self._keep[self._keep < start], keep])
        self._x, self._y, self._key, self._keep = x.copy(), y.copy(), (scale, log), keep
        return keep

    def _unchanged(self, x: np.ndarray, y: np.ndarray, col: np.ndarray,
                   key: tuple[object, ...]) -> int:
        """The first point of the first pixel column that changed since the last call
        (0: all of them)."""
        if key != self._key:
            return 0
        m = min(len(x), len(self._x))
        old_y = self._y[:m]
        with np.errstate(invalid="ignore"):
            same = (x[:m] == self._x[:m]) & ((y[:m] == old_y) | (np.isnan(y[:m]) & np.isnan(old_y)))
        changed = np.flatnonzero(~same)
        start = int(changed[0]) if len(changed) else m
        while start > 0 and (start == len(x) or col[start - 1] == col[start]):
            start -= 1       # back to where the column of the first changed point begins
        return start


class MovingPoints(pg.ScatterPlotItem):
    """Points with one style that move every frame: their bounds are computed once per move.

    Qt asks an item for its bounds a dozen times a frame; the scatter's own answer maps
    its pixel-sized padding through the view each time, a score of Qt calls that each let
    the training thread take the GIL (measured: the predicted-vs-real points cost ~1 ms a
    frame alone, ~3.5 ms while a network trains). The bounds change only when the points
    move or the view zooms.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._rect: Any = None
        # `_paint_many`'s fragments, apart from those pyqtgraph's own paint rewrites
        self._many = pg.Qt.internals.PrimitiveArray(QPainter.PixmapFragment, 10)
        self._many_key: tuple[Any, ...] | None = None
        super().__init__(*args, **kwargs)

    def boundingRect(self) -> Any:
        if self._rect is None:
            self._rect = super().boundingRect()
        return self._rect

    def prepareGeometryChange(self) -> None:
        self._rect = None
        super().prepareGeometryChange()

    def viewTransformChanged(self) -> None:
        self._rect = None
        super().viewTransformChanged()

    def paint(self, p: QPainter, option: Any, widget: Any = None) -> None:
        if not (self._paint_one(p, widget) or self._paint_many(p, widget)):
            super().paint(p, option, widget)

    def _paint_one(self, p: QPainter, widget: Any) -> bool:
        """One point (the surface's current point, moved every frame) drawn as
        pyqtgraph's paint draws it, its symbol's pixmap at the point's device position
        (`QPainter.drawPixmapFragments` with one fragment is that `drawPixmap`), without
        the arrays pyqtgraph builds for many: ~0.2 ms CPU a frame for one dot, measured
        on the gui bench's window. Points outside the view are clipped by the view box,
        as pyqtgraph's culled ones are not drawn. False where pyqtgraph's paint is
        needed (several points, an export, a symbol not rendered yet, a new
        device-pixel ratio)."""
        data = self.data
        opts = self.opts
        if len(data) != 1 or opts["pxMode"] is not True or not opts["useCache"] \
                or self._exportOpts is not False or opts.get("compositionMode") is not None:
            return False
        atlas = self.fragmentAtlas
        dpr = atlas.devicePixelRatio()
        source = data["sourceRect"][0]
        if source["w"] == 0 or (widget is not None and widget.devicePixelRatioF() != dpr):
            return False
        at = p.transform().map(QPointF(float(data["x"][0]), float(data["y"][0])))
        x = min(max(at.x(), -2.0 ** 30), 2.0 ** 30)
        y = min(max(at.y(), -2.0 ** 30), 2.0 ** 30)
        if not (math.isfinite(x) and math.isfinite(y)):
            return True          # pyqtgraph's paint culls a NaN point: nothing drawn
        w, h = int(source["w"]), int(source["h"])
        p.resetTransform()
        p.drawPixmap(QRectF(x - 0.5 * w / dpr, y - 0.5 * h / dpr, w / dpr, h / dpr),
                     atlas.pixmap, QRectF(int(source["x"]), int(source["y"]), w, h))
        return True


    def _paint_many(self, p: QPainter, widget: Any) -> bool:
        """Many points of one style (a network's predicted-vs-real points, moved every
        frame) drawn as pyqtgraph's paint draws them: its device positions (the same
        arithmetic as `pg.functions.transformCoordinates`, clipped the same) and its
        atlas fragment, one `drawPixmapFragments` call. pyqtgraph's paint also culls
        the points beyond the view first, ~20 numpy calls on the record array (~0.5 ms
        CPU a paint for the 56-day points, measured on the gui bench's window); the view
        box clips its children to its shape, so a point it culls is not seen here either
        (points with a NaN coordinate are left out, as its culling leaves them out).
        False where pyqtgraph's paint is needed (points of several styles, an export, a
        symbol not rendered yet, a new device-pixel ratio)."""
        data = self.data
        opts = self.opts
        if len(data) < 2 or opts["pxMode"] is not True or not opts["useCache"] \
                or self._exportOpts is not False or opts.get("compositionMode") is not None:
            return False
        atlas = self.fragmentAtlas
        dpr = atlas.devicePixelRatio()
        if widget is not None and widget.devicePixelRatioF() != dpr:
            return False
        rects = data["sourceRect"]
        first = rects[0]
        if first["w"] == 0 or not bool(np.all(rects == first)):
            return False
        t = p.transform()
        x, y = data["x"], data["y"]
        with np.errstate(all="ignore"):          # a NaN or infinite point: left out below
            dx = t.m11() * x + t.m21() * y + t.m31()
            dy = t.m12() * x + t.m22() * y + t.m32()
        finite = np.isfinite(dx) & np.isfinite(dy)
        if not finite.all():
            dx, dy = dx[finite], dy[finite]
        frags = self._fragments(len(dx), first, dpr)
        np.clip(dx, -2.0 ** 30, 2.0 ** 30, out=frags[:, 0])
        np.clip(dy, -2.0 ** 30, 2.0 ** 30, out=frags[:, 1])
        p.resetTransform()
        p.drawPixmapFragments(*self._many.drawargs(), atlas.pixmap)
        return True

    def _fragments(self, n: int, rect: Any, dpr: float) -> np.ndarray:
        """The fragment array for `n` points drawn from the atlas' `rect`, in
        pyqtgraph's layout: the source rectangle and scale written when they change
        (`_paint_many` writes the positions)."""
        self._many.resize(n)
        frags = self._many.ndarray()
        key = (int(rect["x"]), int(rect["y"]), int(rect["w"]), int(rect["h"]), dpr, n,
               frags.ctypes.data)
        if key != self._many_key:
            frags[:, 2:6] = key[:4]
            frags[:, 6:10] = [1 / dpr, 1 / dpr, 0.0, 1.0]
            self._many_key = key
        return frags


def move_points(item: pg.ScatterPlotItem, x: np.ndarray, y: np.ndarray) -> None:
    """New positions for the same points, keeping their (shared) style.

    `setData` rebuilds every point's style record (~1.3 ms for 1,400 points, every frame
    in the predicted-vs-real view); points that only move need their coordinates and
    bounds refreshed. Another number of points goes through `setData`.
    """
    data = item.data
    if len(data) != len(x) or len(x) != len(y):
        item.setData(x, y)
        return
    data["x"] = x
    data["y"] = y
    item.prepareGeometryChange()
    item.informViewBoundsChanged()
    item.bounds = [None, None]
    item.invalidate()
    item.sigPlotChanged.emit(item)


# Item pixmaps share Qt's pixmap cache (10 MB by default): the axes with their grids, the
# heat map and the data points of five views at projector size need several times that,
# and a full cache silently repaints every item every frame.
PIXMAP_CACHE_KB = 96 * 1024


def cache_static(*items: QGraphicsItem, on: bool = True) -> None:
    """Keep items that change only with the run (heat map, contours, data points) as pixmaps.

    A frame then blits them instead of replaying thousands of points; Qt redraws the
    pixmap when the item changes or the view is zoomed. `on=False` for items that start
    changing every frame (a pixmap redrawn each frame costs more than drawing).

    A rotated item (a vertical `pg.InfiniteLine` is a horizontal one turned 90 degrees)
    is drawn directly: Qt makes its pixmap anew at every paint of its view (the series'
    split line and the unseen region's edge were drawn into a new pixmap and blitted
    every frame, measured), more work than drawing it.
    """
    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    for item in items:
        rotated = item.rotation() % 360 != 0 or item.transform().isRotating()
        item.setCacheMode(cached if on and not rotated else QGraphicsItem.CacheMode.NoCache)
    if on and QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:
        QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)


def cache_legend(plot: pg.PlotWidget) -> None:
    """The legend and its samples and labels as pixmaps: the curves under it redraw the
    legend's area every frame, and each sample's paint is a Python call."""
    legend = plot.getPlotItem().legend
    if legend is None:
        return
    stack = [legend]
    while stack:
        item = stack.pop()
        cache_static(item)
        stack.extend(item.childItems())


def text_item(theme: Theme, text: str = "", anchor: tuple[float, float] = (0, 0),
              size_pt: int | None = None) -> pg.TextItem:
    """A label in the theme's colours (sizes in points so it reads on a projector)."""
    item = pg.TextItem(text=text, color=theme.foreground, anchor=anchor)
    font = QFont()
    font.setPointSize(size_pt or theme.font_pt)
    item.setFont(font)
    return item


FAR = 1e3   # values beyond FAR times the data's span from it are off any sensible chart


def tame(values: object, lo: float, hi: float, far: float = FAR) -> tuple[np.ndarray, bool]:
    """`values` as float64 with non-finite ones and those far outside [lo, hi] as NaN.

    A diverged run publishes 1e100s and infs; Qt painting such coordinates takes seconds
    per frame, so the views draw NaN gaps (connect="finite") and say "diverged" in words.
    Returns (values, whether any was masked).
    """
    v = np.array(values, dtype=np.float64, copy=True)
    span = max(hi - lo, abs(hi), abs(lo), 1e-12)
    with np.errstate(invalid="ignore"):
        bad = ~((v >= lo - far * span) & (v <= hi + far * span))
    if bad.any():
        v[bad] = np.nan
        return v, True
    return v, False


def epoch_seconds(dates: np.ndarray) -> np.ndarray:
    """datetime64[D] -> float64 seconds since 1970 (what the date axis expects)."""
    return np.asarray(dates, dtype="datetime64[D]").astype("datetime64[s]").astype(np.float64)
