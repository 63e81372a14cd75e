"""Training and unseen loss against updates, with epoch boundaries.

The gap between the two curves is overfitting made visible; the epoch lines connect the
lecture's "update" and "epoch" (N / B updates per epoch). A log scale shows the late,
slow part of training, which a linear axis flattens. An optimizer race's racers (the
race view) draw their training-loss curves here too, each in its racer's colour, so the
class compares GD, momentum and Adam on the axes it reads every run's loss from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QSizePolicy, QWidget

from core.config import updates_per_epoch
from core.race import MAX_RACERS
from core.snapshot import Snapshot
from gui.theme import DARK, Theme, legible_on
from gui.views.base import (
    ColouredLine,
    Curve,
    GrowingCurve,
    SteadyStyle,
    View,
    cache_legend,
    cache_static,
    long_series,
    segmented,
    tame,
)

MAX_EPOCH_LINES = 50
TAIL_POINTS = 128  # a curve's newest drawn points at most, drawn apart from the rest
LOSS_FAR = 1e6     # losses beyond a million times the first are a diverged run's, not drawn


@dataclass(frozen=True)
class RacerCurve:
    """One racer's training-loss history as the race view hands it over (data unit):
    `name` (the optimizer: the race view lists each racer's η), `colour` its racer's,
    `loss` which loss it is ("mae" / "mse")."""

    name: str
    colour: str
    loss: str
    updates: np.ndarray
    train_loss: np.ndarray


class FollowedCurve(SteadyStyle):
    """A curve set anew each frame on a plot whose range follows the curves.

    pyqtgraph re-processes a clipped, auto-downsampled or range-limited curve at every
    change of the view's range (rounded outward, the loss axes move every few frames
    while a run grows): the same points again, since a range that holds all the data
    clips nothing and limits nothing, and the next frame's `setData` takes the new range
    in. Measured on the bench's window: ~4 such re-runs a frame on average. Zoomed by the
    user (no auto range), the curve is clipped and downsampled to the zoom as before.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        told = self.curve.informViewBoundsChanged      # its line's own, likewise

        def inform() -> None:
            if self._bounds_read():
                told()

        self.curve.informViewBoundsChanged = inform   # type: ignore[method-assign]

    def viewRangeChanged(self, vb: object = None, ranges: object = None,
                         changed: object = None) -> None:
        view = self.getViewBox()
        if isinstance(view, pg.ViewBox) and all(view.autoRangeEnabled()):
            return
        super().viewRangeChanged(vb, ranges, changed)

    def informViewBoundsChanged(self) -> None:
        """Tell the view box of new bounds only if its auto range reads them.

        The loss view's curves are added with ignoreBounds (its axes follow `_extent`),
        yet each `setData` (the item's and its line's) queued the view box's auto range
        again: every frame it went over its items' bounds and set the same range.
        In the bench's window (a run's snapshots drawn again, training paused,
        alternating passes in one process), the loss view's piece with the status line,
        linear 1 day: 2.78 -> 2.60 ms CPU."""
        if self._bounds_read():
            super().informViewBoundsChanged()

    def _bounds_read(self) -> bool:
        view = self.getViewBox()
        return view is None or self in getattr(view, "addedItems", (self,))


class TailCurve(Curve):
    """The newest points of a loss curve (`LossView._show_split`), in the plot with
    ignoreBounds: like `FollowedCurve`, a `setData` does not queue the view box's auto
    range, which does not read its bounds."""

    def informViewBoundsChanged(self) -> None:
        view = self.getViewBox()
        if view is None or self in getattr(view, "addedItems", (self,)):
            super().informViewBoundsChanged()


class LossView(View):
    """Loss curves (data unit) with a log-y toggle and epoch boundaries."""

    title = "Loss curves"
    compact_legend_columns = None   # in a short window: named above the plot instead

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        bar = QWidget(self)
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        self.log_y = QCheckBox("log scale", bar)
        row.addWidget(self.log_y)
        self._epoch_note = ColouredLine(bar)
        self._epoch_note.setObjectName("viewNote")
        row.addWidget(self._epoch_note, 1)
        self._layout.addWidget(bar)
        self._plot = self._make_plot("update", "loss")
        self._add_legend(self._plot, (-10, 10))
        self._layout.addWidget(self._plot, 1)
        item = self._plot.getPlotItem()
        # Epoch lines are in the plot only while shown (`_show_epochs`): every item in a
        # plot gets two calls from Qt into Python each time the axes move, hidden or not.
        self._epoch_lines = [pg.InfiniteLine(angle=90, movable=False)
                             for _ in range(MAX_EPOCH_LINES)]
        for line in self._epoch_lines:
            line.setZValue(-1)     # under the curves, though added after them
        self._epochs_plotted = 0
        # Where a replayed moment is on the whole run's curves (hidden while live).
        self._moment = pg.InfiniteLine(angle=90, movable=False)
        self._moment.setVisible(False)
        item.addItem(self._moment, ignoreBounds=True)
        self._train = FollowedCurve(name="training loss")
        self._unseen = FollowedCurve(name="unseen loss")
        # Each curve's newest points, drawn by a line of their own (`_show_split`) just
        # above it: the training curve and its tail, then the unseen curve and its tail.
        self._tails = (TailCurve(), TailCurve())
        for curve, tail in zip((self._train, self._unseen), self._tails, strict=True):
            item.addItem(curve, ignoreBounds=True)
            long_series(curve)
            item.addItem(tail, ignoreBounds=True)
        # The race's racers: built once, named in the legend when a race (re)starts,
        # fed with setData from the window's frame timer (`show_racers`).
        self._racer_items = [FollowedCurve() for _ in range(MAX_RACERS)]
        for curve in self._racer_items:
            item.addItem(curve, ignoreBounds=True)
            long_series(curve)
        self._racers: tuple[RacerCurve, ...] = ()
        self._racers_drawn: tuple[RacerCurve, ...] | None = None
        self._racer_legend: tuple[tuple[str, str], ...] = ()
        self._racer_arrays: list[tuple[np.ndarray, np.ndarray]] = []
        self._main_arrays: tuple[np.ndarray, list[np.ndarray]] | None = None
        # The pixel grid the two curves were last thinned to (`_fit_curves`), and the
        # indices of the points each draws (None: all of them).
        self._fitted_for: tuple[float, ...] | None = None
        self._kept: list[np.ndarray | None] = [None, None]
        self._growing = [GrowingCurve(), GrowingCurve()]     # (what `_kept` is made from)
        # Per curve, what its settled part was last given (`_show_split`): the pixel grid
        # and its points (x, y as drawn), or None while the curve draws all of them.
        self._held: list[tuple[object, np.ndarray, np.ndarray] | None] = [None, None]
        self._new_curves = False
        self._epoch_text = ""
        # What auto-range sees instead of the curves: their extent rounded outward (see
        # `outward`), so the axes stay put while the curves grow by less than a step.
        self._extent = pg.PlotDataItem(pen=pg.mkPen(None))   # drawn with no pen: bounds only
        item.addItem(self._extent)
        self._shown_extent: tuple[float, float, float, float] | None = None
        self._per_epoch = 0
        self._epochs_shown = -1
        self._drawn: tuple[int, int, float, bool] | None = None
        self._restyle()
        cache_static(*self._epoch_lines)   # they move only when an epoch ends
        cache_legend(self._plot)
        self.log_y.toggled.connect(self._set_log)
        self._plot.getViewBox().sigTransformChanged.connect(self._fit_curves)

    @property
    def updates_per_epoch(self) -> int:
        return self._per_epoch

    # ----- View interface -----------------------------------------------------------------
    def _on_run(self) -> None:
        cfg, data = self._config, self._data
        n = len(data.y_train)
        self._per_epoch = updates_per_epoch(n, cfg.batch_size) if n else 1
        loss = cfg.loss.upper()
        unit = data.unit or "value"
        squared = f"{unit}²" if cfg.loss == "mse" else unit
        self._plot.setLabel("left", f"{loss} ({squared})")
        self._set_title(f"{loss} loss curves: training vs unseen")
        batch_text = "full batch" if cfg.batch_size is None else f"B = {cfg.batch_size:,}"
        self._epoch_text = (f"N = {n:,}, {batch_text}: 1 epoch = {self._per_epoch:,} "
                            f"update{'s' if self._per_epoch != 1 else ''}")
        self._epochs_shown = -1
        self._clear_items()
        self._plot.enableAutoRange()
        self._show_note()

    # ----- the race's curves ----------------------------------------------------------------
    def show_racers(self, curves: tuple[RacerCurve, ...]) -> None:
        """Each racer's training loss, in its colour (the newest race frame's; the same
        tuple again costs nothing). Drawn when its loss is the run's: MAE and MSE have
        different units, so a race on the other loss is named in the note instead."""
        if curves is self._racers_drawn or (not curves and not self._racers_drawn):
            return
        self._racers_drawn = self._racers = curves
        shown = self._shown_racers()
        legend = tuple((c.name, c.colour) for c in shown)
        if legend != self._racer_legend:
            self._relabel_racers(legend)
        log = self.log_y.isChecked()
        self._racer_arrays = []
        for i, item in enumerate(self._racer_items):
            if i < len(shown):
                x = np.asarray(shown[i].updates, dtype=np.float64)
                y = self._drawable(shown[i].train_loss, log, self._first_loss(shown[i]))
                item.setData(x, y, connect="finite")
                self._racer_arrays.append((x, y))
            elif item.xData is not None and len(item.xData):
                item.setData([], [])
        self._update_extent(log)
        self._show_note()
        self._settle()

    def racer_curves_drawn(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(updates, losses) of each racer's curve as drawn now (NaN where left out)."""
        return [(x.copy(), y.copy()) for x, y in self._racer_arrays]

    def _shown_racers(self) -> tuple[RacerCurve, ...]:
        loss = self._config.loss if self._config is not None else None
        return tuple(c for c in self._racers if c.loss == loss)

    @staticmethod
    def _first_loss(curve: RacerCurve) -> float:
        v = np.asarray(curve.train_loss, dtype=np.float64)
        v = v[np.isfinite(v)]
        return (float(abs(v[0])) or 1.0) if len(v) else 1.0

    def _relabel_racers(self, legend: tuple[tuple[str, str], ...]) -> None:
        """A new race: its racers' pens, and their names in their colours in the note
        above the plot (not in the legend: six more rows covered a small plot's curves
        at 1280 x 720)."""
        t = self.theme
        for item, (_, colour) in zip(self._racer_items, legend, strict=False):
            segmented(item, t.pen(legible_on(colour, t.background), t.line_width))
        self._racer_legend = legend

    def _show_note(self) -> None:
        """The epoch note, then the race's curves named in their colours (or why they are
        not drawn); in a short window the curves' names first. It changes only when a race
        or a run starts."""
        shown = self._shown_racers()
        other = [c for c in self._racers if c not in shown]
        t = self.theme
        pieces: list[tuple[str, str | None]] = []
        if self.compact:   # the legend's names, in the curves' colours, before the note
            pieces += [("━ training loss", legible_on(t.train_color, t.panel)), ("  ", None),
                       ("━ unseen loss", legible_on(t.unseen_color, t.panel))]
            if self._epoch_text:
                pieces.append(("  ·  ", None))
        pieces.append((self._epoch_text, None))
        if shown:
            pieces.append(("  ·  race:", None))
            for c in shown:
                pieces += [(" ", None), (f"━ {c.name}", legible_on(c.colour, t.panel))]
        if other and self._config is not None:
            pieces.append((f"  ·  the race's {other[0].loss.upper()} curves are not drawn "
                           f"on this run's {self._config.loss.upper()} axis", None))
        self._epoch_note.set_pieces(pieces)

    def _apply_compact(self, on: bool) -> None:
        """A short window: the curves are named in their colours on the note's line
        beside "log scale", not in a legend over the plot (at 1280 x 694 in the
        projector theme its two rows lay on the curves), and the note stays one line,
        ending in "…" at the view's edge (the whole note in its tooltip): wrapped, it took
        two of the plot's lines."""
        self._plot.getPlotItem().legend.setVisible(not on)
        note = self._epoch_note
        note.set_one_line(on)
        wide = QSizePolicy.Policy.Ignored if on else QSizePolicy.Policy.Preferred
        note.setSizePolicy(wide, QSizePolicy.Policy.Preferred)
        self._show_note()

    def _draw(self, snap: Snapshot) -> None:
        x = np.asarray(snap.hist_update, dtype=np.float64)
        log = self.log_y.isChecked()
        last = float(snap.hist_train[-1]) if len(snap.hist_train) else 0.0
        key = (len(x), int(x[-1]) if len(x) else -1, last, log)
        if key != self._drawn:     # the history grows only every few updates
            self._drawn = key
            self._set_curves(x, snap.hist_train, snap.hist_unseen, log)
        self._show_epochs(int(snap.update))
        replay = snap.replay_of is not None
        if replay:
            self._moment.setPos(float(snap.update))
        if self._moment.isVisible() != replay:
            self._moment.setVisible(replay)

    def _set_curves(self, x: np.ndarray, train: np.ndarray, unseen: np.ndarray,
                    log: bool) -> None:
        """Both curves, with a diverged run's huge or infinite losses left out (NaN gaps),
        so the axis keeps the part of the run that can be read."""
        first = np.asarray(train, dtype=np.float64)
        first = first[np.isfinite(first)]
        ref = (float(abs(first[0])) or 1.0) if len(first) else 1.0
        curves = [self._drawable(values, log, ref) for values in (train, unseen)]
        self._main_arrays = (x, curves)
        self._fitted_for, self._new_curves = None, True
        self._update_extent(log)
        # the range this frame shows, settled now: the curves are thinned to its pixels
        # (here, or by `_fit_curves` answering the range's move)
        self._plot.scene().prepareForPaint()
        self._fit_curves()

    def _fit_curves(self, *_: object) -> None:
        """The two curves drawn from the points that make their picture at the plot's
        present scale (`column_extremes`, for the new points: `GrowingCurve`): again when
        the scale or the plot's place on screen changes. Zoomed by the user, all the
        points (pyqtgraph clips them to the zoom and thins them itself)."""
        if self._main_arrays is None:
            return
        grid = self._pixel_grid()
        if grid is not None and grid == self._fitted_for:
            return
        self._fitted_for = grid
        new_data, self._new_curves = self._new_curves, False
        x, curves = self._main_arrays
        log = self.log_y.isChecked()
        for k, y in enumerate(curves):
            if k == 1 and not np.isfinite(y).any():
                continue          # (an unseen loss not known yet: the curve stays)
            keep = None
            if grid is not None:
                keep = self._growing[k].keep(x, y, grid, log)
                if len(keep) == len(x):
                    keep = None
            kept = self._kept[k]
            if not new_data and ((keep is None and kept is None) or (
                    keep is not None and kept is not None and np.array_equal(keep, kept))):
                continue
            self._kept[k] = keep
            if keep is None:
                self._show_split(k, grid, x, y)
            else:
                self._show_split(k, grid, x[keep], y[keep])

    def _show_split(self, k: int, grid: tuple[float, ...] | None, x: np.ndarray,
                    y: np.ndarray) -> None:
        """Curve `k`'s points drawn in two lines: the settled part by the curve (kept as
        a pixmap), the newest points, up to TAIL_POINTS, by its tail.

        A growing history changes only at its end, but drawn as one line the whole curve
        was drawn again every frame, and with it the plot under it: grid, axes' pixmaps,
        the other curve. Split, a frame redraws the tail's few pixel columns (the loss
        view's piece of a linear 1-day frame on the gui bench's window: 2.2-2.4 -> 1.1-1.2
        ms of the GUI thread's CPU, measured); the
        settled part is given the curve again only when the points it holds changed (a
        new pixel grid, a halved history) or the tail is full. The same segments in the
        same order (the tail starts at the settled part's last point). Zoomed by the
        user (`grid` None) or short, the curve draws all its points as before."""
        item, tail = (self._train, self._unseen)[k], self._tails[k]
        n = len(x)
        held = self._held[k]
        if grid is None or n < 2 * TAIL_POINTS:
            item.setData(x, y, connect="finite")
            if held is not None or (tail.xData is not None and len(tail.xData)):
                tail.setData([], [])
                cache_static(item.curve, on=False)    # (it changes with every frame)
            self._held[k] = None
            return
        m = 0 if held is None else len(held[1])
        if not (held is not None and held[0] == grid and n - m <= TAIL_POINTS and m < n
                and np.array_equal(x[:m], held[1])
                and np.array_equal(y[:m], held[2], equal_nan=True)):
            m = n - TAIL_POINTS // 4       # room for a few frames' new points
            self._held[k] = (grid, x[:m].copy(), y[:m].copy())
            if held is None:
                cache_static(item.curve)
            item.setData(x[:m], y[:m], connect="finite")
        ty = y[m - 1:]
        if self.log_y.isChecked():      # (the curve's own log mode maps its data so)
            with np.errstate(divide="ignore", invalid="ignore"):
                ty = np.log10(ty)
        tail.setData(x[m - 1:], ty, connect="finite")

    def _pixel_grid(self) -> tuple[float, float, float, float] | None:
        """(x scale, x offset, y scale, y offset) from the plot's data to the screen's
        device pixels, while the axes follow the curves; else None."""
        box = self._plot.getViewBox()
        if not all(box.autoRangeEnabled()):
            return None
        to_screen = self._train.deviceTransform_()
        if to_screen is None:
            return None
        ratio = self._plot.devicePixelRatioF()
        return (to_screen.m11() * ratio, to_screen.m31() * ratio,
                to_screen.m22() * ratio, to_screen.m32() * ratio)

    @staticmethod
    def _drawable(values: np.ndarray, log: bool, ref: float) -> np.ndarray:
        """A loss curve as drawn: on a log axis a loss is a few decades, so keep the
        explosion up to LOG_MAX (pyqtgraph takes 10 ** the axis range, which overflows
        near 1e308); on a linear one leave out what is far beyond the first loss."""
        if log:
            v = np.array(values, dtype=np.float64, copy=True)
            with np.errstate(invalid="ignore"):
                v[~np.isfinite(v) | (v <= 0) | (v > LOG_MAX)] = np.nan
            return v
        return tame(values, 0.0, ref, far=LOSS_FAR)[0]

    def _update_extent(self, log: bool) -> None:
        """The extent of the run's curves and the racers' together (`_set_extent`)."""
        pairs = list(self._racer_arrays)
        if self._main_arrays is not None:
            x, curves = self._main_arrays
            pairs += [(x, c) for c in curves]
        pairs = [(x, y) for x, y in pairs if len(x)]
        if pairs:
            self._set_extent(np.array([min(float(x[0]) for x, _ in pairs),
                                       max(float(x[-1]) for x, _ in pairs)]),
                             [y for _, y in pairs], log)

    def _set_extent(self, x: np.ndarray, curves: list[np.ndarray], log: bool) -> None:
        """Auto-range to the curves' extent: the loss axis rounded outward to ~3% steps,
        the updates axis to the next of a few round spans a decade (`updates_extent`).

        A growing curve otherwise moves both axes every frame, and an axis that moves is
        laid out and painted again (~1 ms each in Python, holding the GIL the worker
        needs; a frame that moves the updates axis cost 2-3 ms more CPU, measured). The
        loss stays within a step (~3%) of the plot's edges, the newest update in the right
        fifth of the plot.
        """
        ys = np.concatenate(curves)
        ys = ys[np.isfinite(ys)]
        if not len(ys) or not len(x):
            return
        if log:
            ys = np.log10(ys)
        x0, x1 = updates_extent(float(x[0]), float(x[-1]))
        y0, y1 = outward(float(ys.min()), float(ys.max()))
        if log:
            y0, y1 = 10.0 ** y0, 10.0 ** y1
        extent = (x0, x1, y0, y1)
        if extent != self._shown_extent:
            self._shown_extent = extent
            self._extent.setData([x0, x1], [y0, y1])

    def _clear_items(self) -> None:
        self._drawn = None
        self._shown_extent = None
        self._main_arrays = None
        self._fitted_for = None
        self._kept = [None, None]
        self._held = [None, None]
        for tail in self._tails:
            tail.setData([], [])
        self._racers_drawn = None     # the racers stay: drawn again at the next frame
        self._train.setData([], [])
        self._unseen.setData([], [])
        self._extent.setData([], [])
        self._moment.setVisible(False)
        self._plot_epoch_lines(0)
        self._epochs_shown = -1

    def _restyle(self) -> None:
        t = self.theme
        segmented(self._train, t.pen(t.train_color))
        segmented(self._unseen, t.pen(t.unseen_color))
        segmented(self._tails[0], t.pen(t.train_color))
        segmented(self._tails[1], t.pen(t.unseen_color))
        self._relabel_racers(self._racer_legend)
        if self.compact:
            self._show_note()      # the curves' names in the new theme's colours
        self._moment.setPen(t.pen(t.current, t.line_width))
        for line in self._epoch_lines:
            line.setPen(t.pen(t.grid, 1, style=pg.QtCore.Qt.PenStyle.DotLine))

    # ----- helpers ------------------------------------------------------------------------
    def _show_epochs(self, update: int) -> None:
        """Vertical lines at every epoch boundary, if there are few enough to read."""
        epochs = update // self._per_epoch if self._per_epoch > 1 else 0
        if epochs == self._epochs_shown:
            return
        self._epochs_shown = epochs
        shown = epochs if 0 < epochs <= MAX_EPOCH_LINES else 0
        for k, line in enumerate(self._epoch_lines[:shown]):
            line.setPos((k + 1) * self._per_epoch)
        self._plot_epoch_lines(shown)

    def _plot_epoch_lines(self, shown: int) -> None:
        """The first `shown` epoch lines in the plot, the others out of it.

        A hidden item still answers each move of the axes (two calls from Qt into Python,
        each of which may wait for the GIL): with all 50 lines kept in the plot and hidden
        (a full-batch run is past its 50th epoch at update 50), those were ~25 of ~300
        such calls a frame on the bench's windows (counted), for nothing drawn.
        """
        item = self._plot.getPlotItem()
        while self._epochs_plotted < shown:
            item.addItem(self._epoch_lines[self._epochs_plotted], ignoreBounds=True)
            self._epochs_plotted += 1
        while self._epochs_plotted > shown:
            self._epochs_plotted -= 1
            item.removeItem(self._epoch_lines[self._epochs_plotted])
        for k, line in enumerate(self._epoch_lines):
            line.setVisible(k < shown)

    def _set_log(self, on: bool) -> None:
        self._drawn = None
        self._held = [None, None]
        self._racers_drawn = None
        self._shown_extent = None
        self._plot.setLogMode(y=on)
        # decades read as 10^k; an SI prefix on top of them ("x1e+12") would garble them.
        # (pyqtgraph evaluates 10 ** the still-linear range here: an overflow to ignore)
        with np.errstate(over="ignore"):
            self._plot.getAxis("left").enableAutoSIPrefix(not on)
        self._plot.enableAutoRange()


LOG_MAX = 1e200      # the largest loss drawn on a log scale
EXTENT_STEP = 0.03   # the auto-ranged extent moves in steps of about this share of its span
FIRST_UPDATES = 10   # the least span of updates the axis shows
# The spans the updates axis takes, per decade: the newest update is always in the plot's
# right fifth, and a run that grows by a factor of 10 moves the axis 13 times (in ~3%
# steps: ~48 times; they moved the axis in 55-65% of the gui bench's frames).
UPDATE_SPANS = (1.0, 1.2, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0)


def updates_extent(first: float, last: float) -> tuple[float, float]:
    """The updates axis for a run recorded from update `first` to `last`: it starts at
    `first` and spans the smallest of UPDATE_SPANS x 10^k that holds `last` (at least
    FIRST_UPDATES: a run not yet trained reads 0 to 10 updates, not an axis of
    thousandths around update 0)."""
    span = max(last - first, FIRST_UPDATES)
    if not np.isfinite(span):
        return first, last
    power = 10.0 ** np.floor(np.log10(span))
    top = next(m * power for m in UPDATE_SPANS if m * power >= span * (1 - 1e-12))
    return first, first + float(top)


def outward(lo: float, hi: float) -> tuple[float, float]:
    """[lo, hi] widened to multiples of a round step (1, 2 or 5 x 10^k) of ~3% of its span."""
    span = hi - lo
    if not (np.isfinite(span) and span > 0):
        return lo, hi
    raw = EXTENT_STEP * span
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)
    top = float(np.ceil(hi / step) * step)
    return float(np.floor(lo / step) * step), top
