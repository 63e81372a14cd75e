"""Real values (red) and the model's estimate (blue) over time, as the lecture plots 2021.

The view opens on the first six weeks of the unseen period, where the lecture shows that
the 1-day model's estimate is the real curve shifted by one day; the user can zoom out to
the whole series. Training and unseen periods are shaded and split by a labeled line.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from core.snapshot import Snapshot
from gui.theme import DARK, Theme
from gui.views.base import (
    NoteLabel,
    SteadyStyle,
    View,
    cache_legend,
    cache_static,
    epoch_seconds,
    long_series,
    segmented,
    tame,
    text_item,
)
from gui.views.date_axis import DateAxis

DAY = 86400.0
OPENING_DAYS = 45          # 2021-01-01 .. 2021-02-14 in the lecture
ERROR_BAR_DAYS = 0.6       # an error bar's width: 60% of the day it belongs to


class SeriesView(View):
    """Real vs estimated values with a date axis, training and unseen periods marked."""

    title = "Real vs estimated"
    legend_named_elsewhere = True    # "red = real, blue = the model's estimate"

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self._plot = self._make_plot("date", "value",
                                     axisItems={"bottom": DateAxis()})
        self._add_legend(self._plot, (-10, 10))
        style_axes = self._plot.getPlotItem()
        self._layout.addWidget(self._plot, 1)
        self._note = NoteLabel("start a run to compare its estimate with the real values",
                               self)
        self._layout.addWidget(self._note)
        self._note.share_height_with(self._plot)   # three lines left it ~85 px (projector)

        self._unseen_region = pg.LinearRegionItem(movable=False)
        self._unseen_region.setZValue(-20)
        self._split = pg.InfiniteLine(angle=90, movable=False)
        self._train_label = text_item(theme, "training", anchor=(1.05, 0))
        self._unseen_label = text_item(theme, "unseen", anchor=(-0.05, 0))
        self._real = SteadyStyle(name="real", skipFiniteCheck=True)
        self._estimate = SteadyStyle(name="estimate")   # new data every frame
        for it in (self._unseen_region, self._split, self._real, self._estimate):
            style_axes.addItem(it)
        long_series(self._real)
        long_series(self._estimate)
        for it in (self._train_label, self._unseen_label):
            style_axes.addItem(it, ignoreBounds=True)
        self._x_all = np.empty(0)
        self._n_train = 0
        self._pred = np.empty(0)
        self._real_all = np.empty(0)
        self._real_range = (0.0, 1.0)
        self._period = ""
        self._off_chart = False
        # e_n as bars between real and estimate (lecture mode's loss step), ERROR_BAR_DAYS
        # wide so each day's gap reads on a projector (a 1-px line did not)
        self._errors = pg.BarGraphItem(x=[], y0=[], height=[], width=ERROR_BAR_DAYS * DAY)
        self._errors.setZValue(-5)
        self._errors.setVisible(False)
        style_axes.addItem(self._errors)
        self._restyle()
        # what does not move while training: drawn once, then blitted. The real values
        # too (its curve: a PlotDataItem paints through its child): they change only with
        # the run's data or a zoom, and each frame's estimate repainted them under it
        # (~0.35 ms CPU a frame, as much as the estimate's own paint).
        cache_static(self._unseen_region, *self._unseen_region.lines, self._split,
                     self._train_label, self._unseen_label, self._real.curve)
        cache_legend(self._plot)
        self._plot.getViewBox().sigRangeChanged.connect(self._place_labels)
        self._plot.getViewBox().sigResized.connect(self._place_labels)   # the same days, px

    # ----- View interface -----------------------------------------------------------------
    def _on_run(self) -> None:
        data = self._data
        s = float(data.scale)
        t_train = epoch_seconds(data.dates_train)
        t_unseen = epoch_seconds(data.dates_unseen)
        self._x_all = np.concatenate([t_train, t_unseen])
        self._n_train = len(t_train)
        self._pred = np.full(len(self._x_all), np.nan)
        real = np.concatenate([data.y_train, data.y_unseen]) * s
        self._real_all = real
        self._real.setData(self._x_all, real)
        finite = real[np.isfinite(real)]
        self._real_range = ((float(finite.min()), float(finite.max())) if len(finite)
                            else (0.0, 1.0))
        self._off_chart = False
        self._set_bars(np.empty(0), np.empty(0), np.empty(0))
        self._estimate.setData([], [])
        split_t = float(epoch_seconds(np.asarray([data.split]))[0]) + 0.5 * DAY
        self._split.setPos(split_t)
        end = float(self._x_all[-1]) + DAY if len(self._x_all) else split_t
        self._unseen_region.setRegion((split_t, max(end, split_t)))
        self._unseen_region.setVisible(len(t_unseen) > 0)
        unit = data.unit or "value"
        self._plot.setLabel("left", f"{unit} per day")
        first = str(data.dates_train[0]) if len(t_train) else "?"
        self._train_label.setText("◀ training")
        self._unseen_label.setText("unseen ▶" if len(t_unseen) else "no unseen data")
        period = f"training {first} … {data.split} ({len(t_train):,} days)"
        if len(t_unseen):
            period += (f", unseen {data.dates_unseen[0]} … {data.dates_unseen[-1]} "
                       f"({len(t_unseen):,} days, shaded)")
        self._set_title(f"Real vs estimated: {data.name}, red = real, blue = the model's "
                        "estimate")
        self._period = (f"{period}. Opens on the first six weeks of the unseen period; "
                        "scroll to zoom out.")
        self._note.setText(self._period)
        self._zoom_opening(real)

    def _draw(self, snap: Snapshot) -> None:
        if snap.pred_train is None or snap.pred_unseen is None:
            return
        n = self._n_train
        if len(snap.pred_train) != n or len(snap.pred_unseen) != len(self._pred) - n:
            return
        self._pred[:n] = snap.pred_train
        self._pred[n:] = snap.pred_unseen
        pred, off = tame(self._pred, *self._real_range)
        self._pred = pred          # the error bars (lecture mode) use it too
        if off:
            self._estimate.setData(self._x_all, pred, connect="finite", skipFiniteCheck=False)
        else:
            self._estimate.setData(self._x_all, pred, connect="all", skipFiniteCheck=True)
        if off != self._off_chart:
            self._off_chart = off
            self._note.setText("The estimate left the chart (training diverged): lower the "
                               "learning rate." if off else self._period)
        if self._errors.isVisible():
            self._draw_errors()

    def _clear_items(self) -> None:
        self._estimate.setData([], [])
        if self._off_chart:
            self._off_chart = False
            self._note.setText(self._period)
        self._set_bars(np.empty(0), np.empty(0), np.empty(0))

    # ----- errors e_n (additive, used by lecture mode) ---------------------------------------
    def show_errors(self, on: bool) -> None:
        """Draw each day's error e_n as a vertical bar from the real value to the estimate."""
        self._errors.setVisible(bool(on))
        if on:
            self._draw_errors()
        else:
            self._set_bars(np.empty(0), np.empty(0), np.empty(0))

    def errors_shown(self) -> int:
        """How many e_n bars are drawn (0 when hidden or before an estimate exists)."""
        x = self._errors.opts.get("x")
        return 0 if not self._errors.isVisible() or x is None else len(x)

    def error_bars(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The bars drawn: (centre time, low end, high end) each, in the axes' units."""
        o = self._errors.opts
        x, y0, h = (np.asarray(o.get(k) if o.get(k) is not None else [], dtype=np.float64)
                    for k in ("x", "y0", "height"))
        return x, y0, y0 + h

    def _set_bars(self, x: np.ndarray, low: np.ndarray, high: np.ndarray) -> None:
        self._errors.setOpts(x=x, y0=low, height=high - low, width=ERROR_BAR_DAYS * DAY)

    def _draw_errors(self) -> None:
        ok = np.isfinite(self._pred) & np.isfinite(self._real_all[:len(self._pred)]) \
            if len(self._real_all) == len(self._pred) else np.zeros(0, dtype=bool)
        if not ok.any():
            self._set_bars(np.empty(0), np.empty(0), np.empty(0))
            return
        real, pred = self._real_all[ok], self._pred[ok]
        self._set_bars(self._x_all[ok], np.minimum(real, pred), np.maximum(real, pred))

    def _restyle(self) -> None:
        t = self.theme
        segmented(self._real, t.pen(t.real, t.line_width))
        segmented(self._estimate, t.pen(t.estimate, t.line_width))
        self._errors.setOpts(pen=None, brush=pg.mkBrush(error_bar_color(t)))
        self._unseen_region.setBrush(t.brush(t.unseen_color, 40))
        for line in self._unseen_region.lines:
            line.setPen(t.pen(t.unseen_color, 0, alpha=0))
        self._split.setPen(t.pen(t.foreground, 1.5, alpha=200,
                                 style=pg.QtCore.Qt.PenStyle.DashLine))
        for label in (self._train_label, self._unseen_label):
            label.setColor(t.foreground)
            font = label.textItem.font()
            font.setPointSize(t.font_pt)
            label.setFont(font)
        self._place_labels()                  # the theme's font: another width
        self._apply_compact(self.compact)     # the theme's axis style shows the label again

    def _apply_compact(self, on: bool) -> None:
        """A short window: no "date" under the dates (its ticks say it)."""
        self._plot.getPlotItem().getAxis("bottom").showLabel(not on)

    # ----- helpers ------------------------------------------------------------------------
    def _zoom_opening(self, real: np.ndarray) -> None:
        """The lecture's view: the first ~6 weeks after the split (or the last weeks)."""
        n = self._n_train
        if len(self._x_all) == 0:
            return
        start = n - 7 if n < len(self._x_all) else max(0, len(self._x_all) - OPENING_DAYS)
        start = max(0, start)
        stop = min(len(self._x_all), start + OPENING_DAYS + 7)
        seg = real[start:stop]
        lo, hi = float(np.nanmin(seg)), float(np.nanmax(seg))
        pad = 0.15 * (hi - lo + 1e-9)
        self._plot.getViewBox().setRange(xRange=(self._x_all[start], self._x_all[stop - 1]),
                                         yRange=(lo - pad, hi + pad), padding=0)
        self._place_labels()

    def _place_labels(self, *_: object) -> None:
        """"◀ training" and "unseen ▶" at the top, either side of the split; a label
        that would not fit whole between the split and the plot's edge is hidden, not cut:
        a 1280 x 720 window opens on a week of training days, and showed "raining"."""
        vb = self._plot.getViewBox()
        (x0, x1), (_, y1) = vb.viewRange()
        x = self._split.value()
        px = vb.viewPixelSize()[0]
        self._train_label.setPos(x, y1)
        self._unseen_label.setPos(x, y1)
        self._train_label.setVisible(bool(x - _beside(self._train_label, px) >= x0))
        self._unseen_label.setVisible(bool(x + _beside(self._unseen_label, px) <= x1))


def _beside(label: pg.TextItem, px: float) -> float:
    """How far `label` reaches from its position, in data units of `px` per pixel: its
    width and the gap its anchor leaves (an anchor of 1.05 or -0.05: 1.05 widths)."""
    return (abs(label.anchor.x() - 0.5) + 0.5) * label.boundingRect().width() * px


def error_bar_color(theme: Theme) -> QColor:
    """Opaque grey halfway between the theme's text and background: apart from the red real
    curve and the blue estimate (the projector's arrow red was one with the real curve)."""
    fg, bg = QColor(theme.foreground), QColor(theme.background)
    return QColor(*((a + b) // 2 for a, b in ((fg.red(), bg.red()), (fg.green(), bg.green()),
                                             (fg.blue(), bg.blue()))))
