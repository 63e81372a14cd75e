"""The function the model found, drawn so its parts can be seen.

One-day models: the data as points (x1 = the value the day before, y = the value) and the
model's curve; for one-hidden-layer networks also each unit's piece c_i * act(b_i + w_i x1)
and the constant b, faint, so "curve = constant + sum of pieces" is visible. More days:
the linear model's weight per day (the lecture's 7-day weights), or, for a network, the
prediction against the real value with the y = x diagonal (points on it are perfect).
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from core.snapshot import Snapshot
from gui.live_label import LiveLabel
from gui.mathtext import plain
from gui.theme import DARK, Theme, legible_on
from gui.views.base import (
    LEGEND_CORNERS,
    LEGEND_MARGIN,
    LEGEND_ONE_ROW,
    Curve,
    CurveSet,
    MovingPoints,
    View,
    cache_legend,
    cache_static,
    drawn_pixels,
    legend_box,
    legend_size,
    move_points,
    one_rect_updates,
    tame,
)

MAX_PIECES = 30
FAR_WEIGHT = 1e3     # a day's weight beyond this is a diverged run's; bars stop there
ROOM_STEP = 0.1      # the y range grows by this much of itself at a time for the legend
PIECE_COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
                "#ff7f0e")


def piece_width(theme: Theme) -> float:
    """The pen width of a unit's curve: 0.6 of the theme's lines, and 1 px where that is
    under 1.5 px (the dark theme's 1.2). Qt strokes a pen of 1 px or less with its fast
    cosmetic stroker and a wider one through its general stroker: the 30 curves of a
    one-day network cost 2-3 ms more CPU a frame at 1.2 px than at 1 px (replayed frames,
    1,000 ReLU, 30 pieces: 10.5-11.4 against 13.2-13.5 ms for the view's piece); a fifth
    of a pixel thinner is not seen. The projector's 2.1 px stay."""
    width = theme.line_width * 0.6
    return width if width >= 1.5 else 1.0


class FitView(View):
    """Points + fitted curve (1 day), weights per day (linear), or predicted vs real."""

    title = "Fitted function"
    # In a short window the entries are named in their colours above the plot instead:
    # at 1280 x 720 the plot is ~100 px tall, and its legend (two rows of two) lay on the
    # data in every corner, with no room above the data to be made for it.
    compact_legend_columns = None

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self._mode = "curve"          # "curve" | "weights" | "scatter"
        self._plot = self._make_plot("x1", "y")
        self._add_legend(self._plot, (LEGEND_MARGIN, LEGEND_MARGIN))
        self._names = QLabel(self)       # the legend's entries, in a short window
        self._names.setTextFormat(Qt.TextFormat.RichText)
        self._names.setContentsMargins(4, 0, 4, 0)
        self._names.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._names.hide()
        self._layout.addWidget(self._names)
        self._layout.addWidget(self._plot, 1)
        # the line's numbers change every frame: a label that does not relayout the window
        self._note = LiveLabel("start a run to see the function it finds", self)
        self._note.setObjectName("viewNote")
        self._note.setContentsMargins(4, 0, 4, 0)
        self._note.setWordWrap(True)
        self._layout.addWidget(self._note)
        self._scale = 1.0
        self._y_range = (0.0, 1.0)      # the data's values: what "off the chart" is measured by
        self._off_chart = False
        self._saved_note = ""
        self._suffix = ""
        self._unit = ""
        self._user_zoomed = False   # the user's own zoom is never overridden
        self._runs = 0        # runs shown, and the (run, sizes) the legend's room is for
        self._room_for: tuple[object, ...] | None = None
        self._room: tuple[float, float] | None = None   # the y top before and after it
        self._moment: tuple[object, ...] | str = "live"
        self._paused = False     # the window's run is paused (`set_paused`)
        self._plot.getViewBox().sigRangeChangedManually.connect(self._on_user_zoom)
        # One rectangle repainted, around all that changed (`one_rect_updates`)
        one_rect_updates(self._plot)

        item = self._plot.getPlotItem()
        self._train_pts = MovingPoints(name="training data")
        self._unseen_pts = MovingPoints(name="unseen data")
        self._pieces = CurveSet()      # each unit's curve (the first MAX_PIECES)
        self._constant = Curve(name="constant b")
        self._curve = Curve(name="model")
        self._bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self._bias_line = pg.InfiniteLine(angle=0, movable=False)
        self._diagonal = Curve(name="perfect: y = x")
        for it in (self._train_pts, self._unseen_pts, self._pieces, self._constant,
                   self._bars, self._bias_line, self._diagonal, self._curve):
            item.addItem(it)
        self._legend_items = (self._train_pts, self._unseen_pts, self._constant, self._curve,
                              self._diagonal)
        self._restyle()
        cache_static(self._bias_line, self._diagonal)
        self._set_mode("curve")

    @property
    def mode(self) -> str:
        return self._mode

    # ----- View interface -----------------------------------------------------------------
    def _on_run(self) -> None:
        cfg, data = self._config, self._data
        assert cfg is not None
        self._scale = float(data.scale)
        self._suffix, self._unit = data.suffix, data.unit
        unit = data.unit or "value"
        self._clear_items()
        ys = np.concatenate([data.y_train, data.y_unseen]) * self._scale
        ys = ys[np.isfinite(ys)]
        self._y_range = (float(ys.min()), float(ys.max())) if len(ys) else (0.0, 1.0)
        self._off_chart = False
        self._user_zoomed = False
        self._runs += 1        # the legend's room is found again (`_make_room`)
        self._room = None
        if cfg.days == 1:
            self._set_mode("curve")
            # Only one-hidden-layer networks are "a constant + a sum of pieces".
            self._constant.setVisible(not cfg.is_linear and cfg.layers == 1)
            self._rebuild_legend()
            s = self._scale
            self._train_pts.setData(data.x_train[:, 0] * s, data.y_train * s)
            self._unseen_pts.setData(data.x_unseen[:, 0] * s, data.y_unseen * s)
            self._plot.setLabel("bottom", f"x1 = {unit} the day before")
            self._plot.setLabel("left", f"y = {unit} that day")
            what = "line y = b + w x1" if cfg.is_linear else "curve"
            self._set_title(f"Fitted function: the model's {what} over the data")
            if cfg.is_linear:
                self._note.setText("Each point is one day: the value the day before (x1) "
                                   "against the value that day (y).")
            else:
                shown = min(cfg.units, MAX_PIECES)
                more = f" (first {shown} of {cfg.units} drawn)" if cfg.units > shown else ""
                if cfg.layers == 1:
                    self._note.setText(plain(
                        f"model curve = constant b (dashed) + the sum of {cfg.units} pieces "
                        f"c_i {_act(cfg.model)}(b_i + w_i x1) (faint){more}."))
                else:
                    self._note.setText(f"{cfg.layers} hidden layers: the pieces are no longer "
                                       "single units, only the whole curve is drawn.")
            ys = np.concatenate([data.y_train, data.y_unseen]) * s
            xs = np.concatenate([data.x_train[:, 0], data.x_unseen[:, 0]]) * s
            lo = min(0.0, float(ys.min())) if not cfg.is_linear else float(ys.min())
            self._plot.setRange(xRange=(float(xs.min()), float(xs.max())),
                                yRange=(lo, float(ys.max())), padding=0.05)
        elif cfg.is_linear:
            self._set_mode("weights")
            self._plot.setLabel("bottom", "j: the value j days before")
            self._plot.setLabel("left", plain("weight w_j"))
            self._set_title(f"Fitted function: weight of the value j days before "
                            f"({cfg.days} days)")
            self._plot.setXRange(0.3, cfg.days + 0.7, padding=0.02)
            self._plot.getViewBox().enableAutoRange(axis="y")
            self._bars.setOpts(x=np.arange(1, cfg.days + 1, dtype=float),
                               height=np.zeros(cfg.days), width=0.8)
        else:
            self._set_mode("scatter")
            s = self._scale
            y_all = np.concatenate([data.y_train, data.y_unseen]) * s
            lo, hi = float(y_all.min()), float(y_all.max())
            self._diagonal.setData([lo, hi], [lo, hi])
            self._plot.setLabel("bottom", f"real {unit}")
            self._plot.setLabel("left", f"predicted {unit}")
            self._set_title(f"Fitted function: predicted vs real ({cfg.days} days)")
            self._note.setText("Each point is one day; on the diagonal the prediction is "
                               "exact. Unseen points far from it are the model's misses.")
            self._plot.setRange(xRange=(lo, hi), yRange=(lo, hi), padding=0.05)

    def _draw(self, snap: Snapshot) -> None:
        self._draw_items(snap)
        # the moment the legend's room is for: the run's first frame while it trains, a
        # paused run's update, a finished run's end, a replayed update (a tuple compared,
        # unless one changed)
        self._moment = ("replay", snap.update) if snap.replay_of is not None else (
            "done" if snap.done else ("paused", snap.update) if self._paused else "live")
        self._make_room()

    def set_paused(self, paused: bool) -> None:
        """The window's run paused or playing again. Paused, the picture holds still while
        the lecturer talks over it: the legend's room is found for everything drawn, as
        for a finished run (while it trains, only for what stays put, so a 7-day
        network's predicted points could lie under the legend: 578 px of their ink in a
        590 x 300 px view, projector theme, 3,000 updates)."""
        if paused == self._paused:
            return
        self._paused = paused
        if self._moment == "live" or (isinstance(self._moment, tuple)
                                      and self._moment[0] == "paused"):
            self._moment = ("paused",) if paused else "live"
            self.legends_later()

    def _draw_items(self, snap: Snapshot) -> None:
        if self._mode == "curve":
            if snap.curve_x is None or snap.curve_y is None:
                return
            lo, hi = self._y_range
            cx = snap.curve_x
            y, off = tame(snap.curve_y, lo, hi)
            self._curve.setData(cx, y, connect="finite" if off else "all")
            pieces = snap.pieces
            if pieces is not None and snap.constant is not None:
                k = min(len(pieces), MAX_PIECES)
                lines = [tame(pieces[i], lo, hi) for i in range(k)]
                self._pieces.set_lines(cx, [y for y, _ in lines], [bad for _, bad in lines])
                c, bad = tame([snap.constant, snap.constant], lo, hi)
                self._constant.setData(cx[[0, -1]], c, connect="finite" if bad else "all")
                self._keep_pieces_in_view(k)
            self._show_off_chart(off or snap.diverged)
            if self._off_chart:
                return
            if pieces is None and self._config is not None and self._config.is_linear:
                w = float(np.ravel(snap.params["w"])[0])
                b = float(snap.params["b"]) * self._scale
                self._note.setText(f"y = b + w x1 with w = {w:.3f}, b = {_num(b)} "
                                   f"{self._unit}")
        elif self._mode == "weights":
            w = np.ravel(snap.params["w"]).astype(np.float64)
            self._show_off_chart(bool(snap.diverged or not np.isfinite(w).all()
                                      or np.abs(w).max(initial=0.0) > FAR_WEIGHT))
            self._bars.setOpts(height=np.clip(np.nan_to_num(w), -FAR_WEIGHT, FAR_WEIGHT))
            if self._off_chart:
                return
            b = float(snap.params["b"]) * self._scale
            self._note.setText(plain(f"b = {_num(b)} {self._unit};  w_1 = {w[0]:.2f}"
                                     + (f", w_2 = {w[1]:.2f}" if len(w) > 1 else ""))
                               + f";  sum of weights = {float(w.sum()):.2f}")
        elif snap.pred_train is not None and snap.pred_unseen is not None:
            s = self._scale
            lo, hi = self._y_range
            any_off = False
            for pts, real, pred in ((self._train_pts, self._data.y_train, snap.pred_train),
                                    (self._unseen_pts, self._data.y_unseen, snap.pred_unseen)):
                p, off = tame(pred, lo, hi)
                any_off |= off
                if off:
                    keep = np.isfinite(p)
                    real, p = real[keep], p[keep]
                move_points(pts, real * s, p)
            self._show_off_chart(any_off or snap.diverged)

    def _on_user_zoom(self, *_: object) -> None:
        self._user_zoomed = True

    def _keep_pieces_in_view(self, k: int) -> None:
        """Widen the y range (never narrow it) so no piece is cut off below or above the
        axes: a piece with c < 0 lies under the data."""
        if self._user_zoomed:
            return
        ys = [y for _, y in self._pieces.lines()[:k]]
        ys.append(self._constant.getData()[1])
        ys = [y for y in ys if y is not None and len(y)]
        if not ys:
            return
        y = np.concatenate(ys)
        y = y[np.isfinite(y)]
        if not len(y):
            return
        (_, _), (y0, y1) = self._plot.getViewBox().viewRange()
        lo, hi = float(y.min()), float(y.max())
        if lo >= y0 and hi <= y1:
            return
        pad = 0.05 * (max(hi, y1) - min(lo, y0))
        self._plot.setYRange(min(lo - pad, y0), max(hi + pad, y1), padding=0)

    def place_legends(self) -> None:
        """The legend in the corner of its plot where it covers least of what is drawn
        (`View.place_legends`), once the plot has room for it (`_make_room`)."""
        self._make_room()
        super().place_legends()

    def _make_room(self) -> None:
        """If every corner of the plot covers some of what is drawn (a one-day cloud of
        points fills a 490 x 210 px plot to its corners), the y range grows a tenth at a
        time until one is free, the data keeping at least half the plot. Found anew from
        the range before it for each run, plot size, legend size and moment (`_draw`):
        while a run trains, for what stays put (a range that followed the moving curve
        would jump); a paused, finished or replayed update's, for everything drawn (a
        replayed update gets the room a run trained to it gets, whatever came before)."""
        legend = self._plot.getPlotItem().legend
        if legend is None or not legend.isVisible() or self._user_zoomed \
                or self._mode == "weights":       # (the bars follow their autorange)
            return
        vb = self._plot.getViewBox()
        # its sizes in a column and on one row, the layouts `place_legend` picks from
        # (measured once per fonts; not the one it has now, which tells of the past)
        layouts = {legend.columnCount} if self.compact else {1, LEGEND_ONE_ROW}
        sizes = tuple(legend_size(legend, n) for n in sorted(layouts))
        key = (self._runs, self._mode, round(vb.width()), round(vb.height()), sizes,
               self._moment)
        if key == self._room_for:
            return
        self._room_for = key
        (_, _), (y0, now) = vb.viewRange()
        y1 = now
        if self._room is not None and np.isclose(now, self._room[1], rtol=1e-9, atol=0):
            y1 = self._room[0]       # the room made before undone
        self._room = None
        top = self._room_top(legend, sizes, y0, y1)
        if top != y1:
            self._room = (y1, top)
        # The range is set once, and only if it moves: undone and made again, the same
        # room moved the axes twice a frame and drew them and the data points' pixmap
        # anew (a replayed 1,000-ReLU moment, where most moments keep the room).
        if top != now:
            self._plot.setYRange(y0, top, padding=0)

    def _room_top(self, legend: pg.LegendItem, sizes: tuple[tuple[float, float], ...],
                  y0: float, y1: float) -> float:
        """The top of the y range (from `y1`, a tenth of it at a time) at which some
        corner of the plot leaves the legend's box free (`_make_room`); `y1` if none
        does."""
        vb = self._plot.getViewBox()
        height = vb.height()
        # while a run trains, what stays put (the data points; predicted vs real: the
        # diagonal), else everything drawn
        still = (self._diagonal,) if self._mode == "scatter" else (self._train_pts,
                                                                    self._unseen_pts)
        points = drawn_pixels(self._plot, still if self._moment == "live" else None,
                              y_range=(y0, y1))
        if not len(points) or y1 <= y0 or height <= 0:
            return y1
        ys = y1 - points[:, 1] / height * (y1 - y0)     # back to the data's values
        most = float(ys.max()) * 2 - y0      # the data's top half way up the plot
        # Each box's points picked once by x, which a taller range does not move (the
        # 1,000-ReLU moment's ~7,300 points were compared with all 8 boxes at each step)
        boxes = [legend_box(self._plot, legend, corner, size, self.reach)
                 for corner in LEGEND_CORNERS for size in sizes]
        columns = [ys[(points[:, 0] >= left) & (points[:, 0] <= right)]
                   for left, _, right, _ in boxes]
        for k in range(11):
            top = y1 + k * ROOM_STEP * (y1 - y0)
            if top > most and k:
                break
            for (_, upper, _, lower), column in zip(boxes, columns, strict=True):
                py = (top - column) / (top - y0) * height
                if not ((py >= upper) & (py <= lower)).any():
                    return top
        return y1

    def legend_rect(self) -> pg.QtCore.QRectF:
        """Where the legend is drawn (scene pixels)."""
        return self._plot.getPlotItem().legend.sceneBoundingRect()

    def _show_off_chart(self, off: bool) -> None:
        """Say in words that a diverged model left the chart (its numbers mean nothing)."""
        if off == self._off_chart:
            return
        self._off_chart = off
        if off:
            self._saved_note = self._note.text()
            self._note.setText("Training diverged: the model left the chart. Lower the "
                               "learning rate and press Play.")
        else:
            self._note.setText(self._saved_note)

    def _clear_items(self) -> None:
        self._pieces.set_lines([], [], [])
        self._constant.setData([], [])
        self._curve.setData([], [])
        if self._mode == "scatter":
            self._train_pts.setData([], [])
            self._unseen_pts.setData([], [])
        x = self._bars.opts.get("x")
        self._bars.setOpts(height=np.zeros(0 if x is None else len(x)))

    def _restyle(self) -> None:
        t = self.theme
        size = t.point_size
        self._train_pts.setPen(None)
        self._train_pts.setBrush(t.brush(t.train_color, 120))
        self._train_pts.setSize(size)
        self._unseen_pts.setPen(None)
        self._unseen_pts.setBrush(t.brush(t.unseen_color, 150))
        self._unseen_pts.setSize(size)
        self._curve.setPen(t.pen(t.real, t.line_width + 1))
        self._pieces.set_pens([t.pen(colour, piece_width(t), alpha=150)
                               for colour in PIECE_COLORS])
        self._constant.setPen(t.pen(t.foreground, max(1.0, t.line_width * 0.7), alpha=170,
                                    style=pg.QtCore.Qt.PenStyle.DashLine))
        self._bars.setOpts(brush=t.brush(t.estimate), pen=t.pen(t.foreground, 1))
        self._bias_line.setPen(t.pen(t.foreground, 1, alpha=160))
        self._diagonal.setPen(t.pen(t.foreground, 1.5, alpha=170,
                                    style=pg.QtCore.Qt.PenStyle.DashLine))
        # The theme's font changes the legend's size: its entries anew (pyqtgraph's
        # legend keeps the widths of the larger font it had: 156 px against 135 started
        # in the theme, and no corner was free for the wider box), then its place found
        # again (a finished run draws no more frames that would).
        self._rebuild_legend()
        self.legends_later()

    # ----- helpers ------------------------------------------------------------------------
    def _set_mode(self, mode: str) -> None:
        self._mode = mode
        curve, weights, scatter = mode == "curve", mode == "weights", mode == "scatter"
        for it, on in ((self._train_pts, curve or scatter), (self._unseen_pts, curve or scatter),
                       (self._curve, curve), (self._constant, curve), (self._bars, weights),
                       (self._bias_line, weights), (self._diagonal, scatter)):
            it.setVisible(on)
        # (empty, it stays hidden: `CurveSet`)
        self._pieces.setVisible(curve and bool(self._pieces.lines()))
        # the weights' axis counts days: no "2.5 days before" on a wide plot
        self._plot.getPlotItem().getAxis("bottom").whole_numbers = weights
        # one-day data points stay put; predicted-vs-real points move every frame
        cache_static(self._train_pts, self._unseen_pts, on=curve)
        self._rebuild_legend()

    def _rebuild_legend(self) -> None:
        legend = self._plot.getPlotItem().legend
        legend.clear()
        shown = [it for it in self._legend_items if it.isVisible()]
        for it in shown:
            legend.addItem(it, it.name())
        legend.setVisible(bool(shown) and not self.compact)
        cache_legend(self._plot)
        self._name_entries()

    def _apply_compact(self, on: bool) -> None:
        """A short window: the legend's entries named on a line above the plot, in
        their colours, not in a legend over the data."""
        self._rebuild_legend()

    def _name_entries(self) -> None:
        """The line above the plot naming the legend's entries (a short window only):
        a dot for points, a line for curves, a dashed one for dashed curves."""
        t = self.theme
        marks = ((self._train_pts, "●", t.train_color), (self._unseen_pts, "●", t.unseen_color),
                 (self._constant, "╌", t.foreground), (self._curve, "━", t.real),
                 (self._diagonal, "╌", t.foreground))
        text = "  ".join(f'<span style="color:{legible_on(colour, t.panel)}">{mark}</span> '
                         f"{html.escape(item.name())}"
                         for item, mark, colour in marks if item.isVisible())
        self._names.setText(text)
        self._names.setToolTip(QTextDocumentFragment.fromHtml(text).toPlainText())
        self._names.setVisible(self.compact and bool(text))


def _act(model: str) -> str:
    return {"relu": "ReLU", "sigmoid": "sigmoid", "hard-sigmoid": "hard sigmoid"}.get(model,
                                                                                     model)


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
