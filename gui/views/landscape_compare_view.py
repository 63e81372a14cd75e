"""Two networks' loss landscapes side by side (the lecture's "sharp or flat?" step).

`compare(config, spec)` trains the step's network with each number of layers in
`spec["layers"]` (e.g. 1 and 4 layers of 100 ReLU, as in the lecture's third table) in the
background, then draws each one's random filter-normalized plane (core.landscape) on one
shared colour scale, titled with its training and unseen loss, with one colour bar beside
them naming that scale's losses. Filter normalization puts both on the same +-1 axes, so
the width of the dark valley compares the minima.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from core.config import RunConfig
from core.snapshot import Snapshot
from gui.background import BackgroundJob
from gui.theme import DARK, Theme
from gui.views.base import View
from gui.views.colour_bar import (
    Ticks,
    colour_bar,
    compact,
    fit_bar_ticks,
    loss_ticks,
    style_colour_bar,
)
from gui.views.surface_view import set_contours

DEFAULT_LAYERS = (1, 4)
DEFAULT_UPDATES = 600
DEFAULT_GRID = 31
EDGE_TICK_ROOM = 12     # px above the plot: half a tick label at the largest theme font


class LandscapeCompareView(View):
    """Side-by-side landscapes of the same network at different depths."""

    title = "Loss landscapes side by side"

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self._set_title(self.title)
        row = QWidget(self)
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        self._panels: list[tuple[QLabel, pg.PlotWidget, pg.ImageItem, pg.PlotCurveItem,
                                 pg.ScatterPlotItem]] = []
        for _ in range(2):
            col = QWidget(row)
            lay = QVBoxLayout(col)
            lay.setContentsMargins(0, 0, 0, 0)
            label = QLabel("", col)
            label.setWordWrap(True)
            plot = self._make_plot("a1 (random direction 1)", "a2 (random direction 2)")
            plot.showGrid(x=False, y=False)
            # The range ends at the grid's edge, where a tick sits: the top one ('1.0')
            # was drawn half above the plot and cut at 1280 x 720. Room for its upper half.
            plot.getPlotItem().layout.setContentsMargins(1, EDGE_TICK_ROOM, 1, 1)
            # Its height is what is left: a pyqtgraph view's preferred size is its size
            # now, and the dock's scroll area asks a view with wrapped labels for its
            # preferred height, so a view never shrank again. Seen under Xvfb: after a
            # live switch to the projector (taller lecture header), the step scrolled,
            # its note and the maps' axis titles cut off.
            ignore_height(plot)
            image = pg.ImageItem()
            image.setZValue(-10)
            contours = pg.PlotCurveItem()
            centre = pg.ScatterPlotItem(symbol="o")
            for it in (image, contours, centre):
                plot.getPlotItem().addItem(it)
            lay.addWidget(label)
            lay.addWidget(plot, 1)
            box.addWidget(col, 1)
            self._panels.append((label, plot, image, contours, centre))
        box.addWidget(self._make_bar(row))
        self._layout.addWidget(row, 1)
        self._note = QLabel("", self)
        self._note.setObjectName("viewNote")
        self._note.setWordWrap(True)
        self._layout.addWidget(self._note)
        self._results: list[tuple[Any, Any]] = []
        self._job = BackgroundJob("fnlab-landscapes", nice=10, parent=self)
        self._job.item_ready.connect(self._on_item)
        self._job.failed.connect(self._on_failed)
        self._job.finished.connect(self._on_finished)
        self._pending = False      # until the job's last item and its end are drawn
        # The bar spans the maps' data area, whichever moves: the maps, or the bar's own
        # widget under its title (a live switch to the dark theme's smaller title font
        # left the bar 10 px below the maps at 1280 x 720).
        for _label, plot, *_rest in self._panels:
            plot.getViewBox().sigResized.connect(self._align_bar)
        self._bar_view.ci.geometryChanged.connect(self._align_bar)
        self._restyle()

    def _make_bar(self, row: QWidget) -> QWidget:
        """One colour bar right of both maps, for their one scale: the loss a colour is,
        read on either side. It drives both images' colour map and levels, so they cannot
        drift apart. Hidden (its room kept, so the maps do not move) until a map is drawn:
        before that its numbers would be the last comparison's, or none at all."""
        col = QWidget(row)
        lay = QVBoxLayout(col)
        lay.setContentsMargins(0, 0, 0, 0)
        self._bar_title = QLabel("loss L", col)
        self._bar_title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(self._bar_title)
        self._bar_view = pg.GraphicsLayoutWidget(col)
        ignore_height(self._bar_view)
        self._bar = colour_bar(self.theme)
        self._bar.setToolTip("the loss each colour is, on both maps (log-like scale, so the "
                             "valleys show)")
        self._bar.setImageItem([image for *_rest, image, _c, _p in self._panels])
        self._bar_view.ci.layout.setContentsMargins(0, 0, 0, 0)
        self._bar_view.addItem(self._bar)
        self._bar_ticks: tuple[Ticks, tuple[float, float]] = ([], (0.0, 1.0))
        self._bar.axis.geometryChanged.connect(self._fit_bar)
        lay.addWidget(self._bar_view, 1)
        keep = col.sizePolicy()
        keep.setRetainSizeWhenHidden(True)
        col.setSizePolicy(keep)
        self._bar_col = col
        col.hide()
        return col

    # ----- public -------------------------------------------------------------------------
    def compare(self, config: RunConfig, spec: dict[str, Any] | None = None) -> None:
        """Train and draw `config` with each of spec["layers"] (default 1 and 4)."""
        spec = spec or {}
        layers = tuple(int(v) for v in spec.get("layers", DEFAULT_LAYERS))[:2]
        updates = int(spec.get("updates", DEFAULT_UPDATES))
        grid = int(spec.get("grid", DEFAULT_GRID))
        self._results = []
        for label, _plot, image, contours, centre in self._panels:
            label.setText("training and computing...")
            image.clear()
            contours.setData([], [])
            centre.setData([], [])
        self._bar_col.hide()       # the last comparison's scale
        self._note.setText(
            f"{config.model} networks of {config.units} units, {config.days} days: "
            f"{' and '.join(str(n) for n in layers)} layers, {updates:,} updates each, "
            "then L(θ* + a1 δ1 + a2 δ2) over random filter-normalized directions. "
            "Same colour, same loss on both sides.")
        self._pending = True
        # Imported here: core.landscape_run loads torch, which would hold the GUI thread's
        # start-up for ~1 s (tests/gui/test_startup.py).
        from core.landscape_run import compare_landscapes

        self._job.start(lambda stop: compare_landscapes(config, layers, updates, grid, stop))

    def stop(self) -> None:
        self._job.stop()
        self._pending = False

    def results(self) -> list[tuple[Any, Any]]:
        """(run, landscape) of each network drawn so far."""
        return list(self._results)

    # ----- View interface -----------------------------------------------------------------
    def shutdown(self) -> None:
        self.stop()

    def busy(self) -> bool:
        """True until the comparison is drawn (its thread may end before its last item
        reaches the GUI thread)."""
        return self._pending or self._job.is_running()

    def _on_finished(self, token: int) -> None:
        if token == self._job.token:
            self._pending = False

    def _on_run(self) -> None:
        """The live run does not change what this view compares."""

    def _draw(self, snap: Snapshot) -> None:
        """Nothing follows the live run here."""

    def _restyle(self) -> None:
        t = self.theme
        line = pg.mkColor(t.foreground)
        line.setAlpha(110)
        for _label, _plot, _image, contours, centre in self._panels:
            contours.setPen(pg.mkPen(line, width=1))
            centre.setSize(2 * t.point_size + 4)
            centre.setPen(t.pen(t.background, 1.5))
            centre.setBrush(t.brush(t.current))
        self._bar_view.setBackground(t.background)
        style_colour_bar(self._bar, t)     # the maps' colour map too: the bar drives them
        self._fit_bar()
        if self._results:
            self._redraw()

    # ----- results ------------------------------------------------------------------------
    def _on_item(self, token: int, item: Any) -> None:
        if token != self._job.token:
            return
        self._results.append(item)
        self._redraw()

    def _on_failed(self, token: int, message: str) -> None:
        if token == self._job.token:
            self._note.setText(f"could not compare the landscapes: {message}")

    def _redraw(self) -> None:
        """Both maps on one log-like colour scale (the lower minimum to the larger 99th
        percentile), so the same colour is the same loss on both sides."""
        grids = [land.loss for _run, land in self._results]
        finite = np.concatenate([g[np.isfinite(g)] for g in grids])
        if finite.size == 0:
            return
        lo = float(finite.min())
        hi = max(float(np.percentile(g[np.isfinite(g)], 99)) for g in grids
                 if np.isfinite(g).any())
        delta = max(0.02 * (hi - lo), 1e-12 * max(abs(lo), 1.0))
        levels = (math.log10(delta), math.log10(hi - lo + delta))
        for (run, land), (label, plot, image, contours, centre) in zip(
                self._results, self._panels, strict=False):
            g = np.where(np.isfinite(land.loss), np.minimum(land.loss, hi), hi)
            v = np.log10(g - lo + delta)
            a1, a2 = land.a1, land.a2
            da, db = (a1[-1] - a1[0]) / (len(a1) - 1), (a2[-1] - a2[0]) / (len(a2) - 1)
            image.setImage(v.T, autoLevels=False)
            image.setRect(QRectF(a1[0] - da / 2, a2[0] - db / 2, a1[-1] - a1[0] + da,
                                 a2[-1] - a2[0] + db))
            set_contours(contours, a1, a2, v, levels)
            centre.setData([0.0], [0.0])
            plot.getViewBox().setRange(xRange=(a1[0], a1[-1]), yRange=(a2[0], a2[-1]),
                                       padding=0)
            fmt = run.data.fmt if run.config.loss == "mae" else (lambda x: f"{x:,.4g}")
            layers = run.config.layers
            label.setText(f"{layers} layer{'s' if layers > 1 else ''} of {run.config.units} "
                          f"{run.config.model}: training L = {fmt(run.train_loss)}, "
                          f"unseen L' = {fmt(run.unseen_loss)}"
                          + ("" if land.complete else " (computing...)"))
        self._bar.setLevels(levels)      # both images' levels (the bar drives them)
        run = self._results[0][0]
        fmt = run.data.fmt if run.config.loss == "mae" else compact
        self._bar_ticks = (loss_ticks(lo, hi, delta, fmt), levels)
        self._bar_title.setText(f"{run.config.loss.upper()} L")
        self._bar_col.show()
        self._fit_bar()
        self._align_bar()

    # ----- colour bar ---------------------------------------------------------------------
    def _fit_bar(self) -> None:
        """The bar's labels for its height now, and its column as wide as they ask."""
        fit_bar_ticks(self._bar, *self._bar_ticks)
        width = math.ceil(self._bar.effectiveSizeHint(Qt.SizeHint.PreferredSize).width())
        if self._bar_view.width() != width:
            self._bar_view.setFixedWidth(width)

    def _align_bar(self) -> None:
        """The bar from the top to the bottom of the maps' data area (not of their titles
        and axes), so its ends are the maps' ends of the scale side by side."""
        plot = self._panels[-1][1]
        area = plot.mapFromScene(plot.getViewBox().sceneBoundingRect()).boundingRect()
        top = self._bar_view.mapFromGlobal(plot.mapToGlobal(QPoint(0, area.top()))).y()
        bottom = self._bar_view.height() - self._bar_view.mapFromGlobal(
            plot.mapToGlobal(QPoint(0, area.bottom()))).y()
        inner = self._bar.getViewBox().geometry()
        margins = (max(0, round(top - inner.top())),
                   max(0, round(bottom - (self._bar.geometry().height() - inner.bottom()))))
        layout = self._bar_view.ci.layout
        _left, old_top, _right, old_bottom = layout.getContentsMargins()
        if (round(old_top), round(old_bottom)) != margins:
            layout.setContentsMargins(0, margins[0], 0, margins[1])


def ignore_height(widget: QWidget) -> None:
    """`widget` takes the height its layout has left, its own preferred height ignored
    (see the maps' comment in `LandscapeCompareView.__init__`)."""
    widget.setMinimumHeight(widget.minimumSizeHint().height())   # not 0 once ignored
    policy = widget.sizePolicy()
    policy.setVerticalPolicy(QSizePolicy.Policy.Ignored)
    widget.setSizePolicy(policy)
