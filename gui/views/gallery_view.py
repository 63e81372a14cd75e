# Over 450 lines: one dock; the run list, the side-by-side panes and the overlay share
# the runs picked and the replay's update.
"""The run gallery: the session's finished runs, replayed side by side or overlaid.

Why: a class compares runs ("too small, good, too large"), and one run at a time hides
the comparison. Every run that ends (its limit, a divergence, or cut short by new settings
or Reset) is kept in a `core.gallery.Gallery`; pick 2-4 and replay them synchronized by
update: each gets a small surface (its path up to update k, a dot at k; a network's
surface is the slice at its final parameters, which the pane says, and its dot is a ring
before the final update) over its loss curve (a marker at k), one scrubber and Play at a
few speeds drive them all; or overlay their training or unseen loss curves, or both, in
one plot (a dot on each at the scrubbed update). Runs can be renamed (double-click the
name), pinned, deleted and exported (CSV / JSON of the history, through the Export menu's
idiom: errors go to the banner). The replay panes are built the first time they are needed.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from core import surface
from core.gallery import (
    Gallery,
    GalleryRun,
    end_status,
    race_origin,
    racer_name,
    run_from_timeline,
    run_to_dict,
)
from core.snapshot import Snapshot
from gui.background import BackgroundJob
from gui.theme import DARK, Theme, legible_on
from gui.views.base import (
    CountAxis,
    ElidedLabel,
    LogLossAxis,
    View,
    cache_axes,
    cache_static,
    segmented,
    style_plot,
    text_item,
)
from gui.views.surface_view import set_contours

MAX_SHOWN = 4
MIN_REPLAY_PX = 130      # less height than this: say so instead of drawing slivers
PICK_HINT = ("tick \"show\" on 2 to 4 runs to replay them side by side, or to overlay "
             "their loss curves")
SMALL_HINT = ("too little room to replay here: make this dock taller, or double-click "
              "its title bar to float it")
MODES = (("side", "side by side"), ("overlay", "overlay loss curves"))
# Which losses the overlay draws, from each run's recorded history: the training loss
# (solid), the unseen loss (dashed, as in a pane), or both (a class sees which run
# generalises, not only which one fits).
CURVES = (("train", "training loss"), ("unseen", "unseen loss"),
          ("both", "training + unseen"))
# The runs' colours, from the theme's own (distinct on both themes' backgrounds).
RUN_COLOR_FIELDS = ("estimate", "real", "train_color", "minimum")
SPEEDS = (("30 / s", 30), ("100 / s", 100), ("300 / s", 300), ("1,000 / s", 1000),
          ("10,000 / s", 10000))
DEFAULT_SPEED = 1
TICK_MS = 33
MAX_TICK_SECONDS = 0.25  # a stall (a slice drawn, a busy machine) is not made up at once
SURFACE_N = 120          # exact 1-day surface per pane (MAE: ~4 ms)
SLICE_N = 25             # a network's slice per pane (background)
COLUMNS = ("show", "pin", "name", "ended", "settings", "training loss", "unseen loss")
NAME_COLUMN = 2
STATUS_TEXT = {"finished": "finished", "diverged": "✕ diverged", "stopped": "stopped",
               "reset": "reset"}


def run_colors(theme: Theme) -> list[str]:
    return [getattr(theme, f) for f in RUN_COLOR_FIELDS]


def shown_colors(runs: list[GalleryRun], theme: Theme) -> list[str]:
    """Each shown run's colour: its own (a racer's race colour: the race and its replay
    agree) unless a run before it already has that colour (two races' GD racers, both
    red), else the first of the theme's run colours not taken. As drawn on the error
    surface; loss plots draw it in a shade legible on their background (`legible_on`)."""
    out: list[str] = []
    for run in runs:
        own = run.color.lower()
        if own and own not in out:
            out.append(own)
            continue
        free = [c for c in run_colors(theme) if c.lower() not in out]
        out.append((free or run_colors(theme))[0].lower())
    return out


class RunPane(QWidget):
    """One run of a side-by-side replay: its surface with the path to update k and a dot
    at k, over its loss curve with a marker at k."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.run: GalleryRun | None = None
        self.color = "#ffffff"
        self._box: tuple[float, float, float, float] | None = None   # the surface's grid
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.title = ElidedLabel("", self)     # narrow panes cut the name, not the window
        # A network's surface is a slice through its two tracked parameters with the rest
        # at their final values: this line says so, and what the dot is before the end.
        self.slice_note = ElidedLabel("", self)
        self.slice_note.setObjectName("viewNote")
        self.slice_note.setVisible(False)
        self.surface = pg.PlotWidget(parent=self)
        self.loss = pg.PlotWidget(parent=self, axisItems={"left": LogLossAxis(),
                                                          "bottom": CountAxis("bottom")})
        for plot in (self.surface, self.loss):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMinimumSize(40, 40)
        self.surface.setMouseEnabled(x=False, y=False)
        self.loss.setLogMode(y=True)
        self.loss.showGrid(x=True, y=True, alpha=0.18)
        self._grid = lay
        self._wide: bool | None = None
        self._arrange(False)
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        self.contours = pg.PlotCurveItem()
        self.path = pg.PlotCurveItem()
        self.dot = pg.ScatterPlotItem(symbol="o")
        self.star = pg.ScatterPlotItem(symbol="star")      # an exact surface's minimum
        self.message = text_item(theme, "", anchor=(0.5, 0.0))   # at the top: off the star
        for z, item in enumerate((self.contours, self.star, self.path, self.dot,
                                  self.message)):
            item.setZValue(z)
            self.surface.addItem(item, ignoreBounds=True)
        self.surface.addItem(self.image)
        self.curve = pg.PlotDataItem()
        self.unseen = pg.PlotDataItem()
        self.marker = pg.ScatterPlotItem(symbol="o")
        self.cursor = pg.InfiniteLine(angle=90, movable=False)
        for item in (self.unseen, self.curve, self.cursor, self.marker):
            self.loss.addItem(item)
        # What stays while the replay moves, kept as pixmaps: a frame then repaints only
        # the path, the dot, the marker and the cursor (see `cache_static`).
        cache_static(self.image, self.contours, self.star, self.curve, self.unseen)
        for plot in (self.surface, self.loss):
            cache_axes(plot)
        self.restyle(theme)

    def _arrange(self, wide: bool) -> None:
        """Surface over loss curve, or side by side when the pane is wide and short (a
        small dock on a 1280 x 720 projector squeezed the stacked plots to slivers)."""
        if wide == self._wide:
            return
        self._wide = wide
        lay = self._grid
        for w in (self.title, self.slice_note, self.surface, self.loss):
            lay.removeWidget(w)
        for i in range(4):
            lay.setRowStretch(i, 0)
            lay.setColumnStretch(i, 0)
        if wide:
            lay.addWidget(self.title, 0, 0, 1, 2)
            lay.addWidget(self.slice_note, 1, 0, 1, 2)
            lay.addWidget(self.surface, 2, 0)
            lay.addWidget(self.loss, 2, 1)
            lay.setRowStretch(2, 1)
            lay.setColumnStretch(0, 1)
            lay.setColumnStretch(1, 1)
        else:
            lay.addWidget(self.title, 0, 0)
            lay.addWidget(self.slice_note, 1, 0)
            lay.addWidget(self.surface, 2, 0)
            lay.addWidget(self.loss, 3, 0)
            lay.setRowStretch(2, 3)
            lay.setRowStretch(3, 2)
            lay.setColumnStretch(0, 1)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        size = event.size()
        self._arrange(size.width() > 1.5 * size.height())

    def restyle(self, theme: Theme) -> None:
        self._theme = theme
        for plot in (self.surface, self.loss):
            style_plot(plot, theme)
        self.contours.setPen(theme.pen(theme.foreground, 1, alpha=70))
        self.star.setBrush(theme.brush(theme.minimum))
        self.star.setPen(theme.pen(theme.background, 1))
        self.star.setSize(theme.point_size * 3.2)
        self.message.setColor(theme.foreground)
        self.cursor.setPen(theme.pen(theme.foreground, 1, alpha=140))
        self.image.setColorMap(pg.colormap.get(theme.colormap))
        self._paint_run()

    @property
    def loss_color(self) -> str:
        """The run's colour on the loss plot: a shade legible on its background (the
        projector's white plots), as the race's loss curves draw it."""
        return legible_on(self.color, self._theme.background)

    def _paint_run(self) -> None:
        t, c, lc = self._theme, self.color, self.loss_color
        segmented(self.path, t.pen(c))      # a long zig-zag path: segments paint faster
        self.dot.setPen(t.pen(t.path, 2))
        self.dot.setBrush(t.brush(c))
        self.dot.setSize(t.point_size * 2.6)
        self.curve.setPen(t.pen(lc))
        self.unseen.setPen(t.pen(lc, alpha=110, style=Qt.PenStyle.DashLine))
        self.marker.setPen(t.pen(t.path, 2))
        self.marker.setBrush(t.brush(lc))
        self.marker.setSize(t.point_size * 2.2)

    def show_run(self, run: GalleryRun, color: str) -> None:
        self.run, self.color = run, color
        self._paint_run()
        self.title.setText(f"{run.name} · {STATUS_TEXT[run.status]} at update "
                           f"{run.final_update:,}")
        self.title.setStyleSheet(
            f"color: {legible_on(color, self._theme.panel)}; font-weight: bold;")
        self.surface.setLabel("bottom", run.track[0])
        self.surface.setLabel("left", run.track[1])
        self.slice_note.setVisible(not run.exact_surface)
        self.loss.setLabel("bottom", "update")
        self.loss.setLabel("left", f"{run.config.loss.upper()} (log)")
        x = run.updates.astype(np.float64)
        self.curve.setData(x, _positive(run.train_loss), connect="finite")
        self.unseen.setData(x, _positive(run.unseen_loss), connect="finite")
        self.image.clear()
        self.contours.setData([], [])
        self.star.setData([], [])
        self._box = None
        self.message.setText("")

    def show_grid(self, a: np.ndarray, b: np.ndarray, loss: np.ndarray,
                  star: tuple[float, float] | None = None) -> None:
        """A heat map of the loss (log-like, so the valley shows) with contours, and the
        global minimum as a star where it is known (the exact 1-day surface)."""
        self.star.setData(*(([star[0]], [star[1]]) if star else ([], [])))
        loss = np.asarray(loss, dtype=np.float64)
        finite = np.isfinite(loss)
        if not finite.any():
            self.message.setText("no finite loss on this surface")
            return
        lo, hi = float(loss[finite].min()), float(np.percentile(loss[finite], 99))
        delta = max(0.02 * (hi - lo), 1e-12 * max(abs(lo), 1.0))
        v = np.log10(np.where(finite, np.minimum(loss, hi), hi) - lo + delta)
        levels = (math.log10(delta), math.log10(hi - lo + delta))
        da, db = (a[-1] - a[0]) / (len(a) - 1), (b[-1] - b[0]) / (len(b) - 1)
        self.image.setImage(v.T, levels=levels)
        self.image.setRect(QRectF(a[0] - da / 2, b[0] - db / 2, a[-1] - a[0] + da,
                                  b[-1] - b[0] + db))
        set_contours(self.contours, a, b, v, levels, n=10)
        self.surface.setRange(xRange=(a[0], a[-1]), yRange=(b[0], b[-1]), padding=0)
        self._box = (float(a[0]), float(a[-1]), float(b[0]), float(b[-1]))
        self.message.setPos(0.5 * (a[0] + a[-1]), b[-1])
        self.message.setText("")

    def _inside(self, point: np.ndarray) -> bool:
        if self._box is None:
            return True
        a0, a1, b0, b1 = self._box
        return a0 <= point[0] <= a1 and b0 <= point[1] <= b1

    def say(self, text: str) -> None:
        self.message.setText(text)
        (x0, x1), (_, y1) = self.surface.getViewBox().viewRange()
        self.message.setPos((x0 + x1) / 2, y1)

    def show_at(self, update: int) -> None:
        """Path up to `update`, dot and marker at it (a run that ended sooner stays at
        its last update). On a network's slice (the other parameters at their final
        values) the dot is filled only at the final update, where the slice passes
        through the run's parameters; before it the dot is a ring: the two parameters
        were there, but the rest of the network was elsewhere, and the loss drawn under
        the ring is not the run's loss then."""
        run = self.run
        if run is None:
            return
        i, point = run.point_at(update)
        on_slice = run.exact_surface or update >= run.final_update
        if not run.exact_surface:
            self.slice_note.setText(
                f"slice at the final parameters (update {run.final_update:,})" +
                ("" if on_slice else f"; ring: update {min(update, run.final_update):,}, "
                 "the rest then differed"))
        if point is None:
            self.path.setData([], [])
            self.dot.setData([], [])
        else:
            pts = run.path[:i + 1]
            ok = np.isfinite(pts).all(axis=1)
            self.path.setData(pts[ok, 0], pts[ok, 1])
            inside = bool(np.isfinite(point).all()) and self._inside(point)
            t = self._theme
            self.dot.setData([point[0]] if inside else [], [point[1]] if inside else [],
                             pen=t.pen(t.path, 2) if on_slice else t.pen(self.color, 3),
                             brush=t.brush(self.color) if on_slice else pg.mkBrush(None))
            # two lines: one was wider than a pane's plot at 1280 x 720 and read
            # 'pdate 64: off the pictur'
            self.message.setText("" if inside or self._box is None else
                                 f"update {run.path_updates[i]:,}:\noff the picture")
        u, train, _ = run.loss_at(update)
        self.cursor.setPos(min(update, run.final_update))
        if math.isfinite(train) and train > 0:
            self.marker.setData([u], [math.log10(train)])
        else:
            self.marker.setData([], [])


def _positive(values: np.ndarray) -> np.ndarray:
    """Losses for a log axis: non-finite and non-positive ones as gaps."""
    v = np.asarray(values, dtype=np.float64).copy()
    with np.errstate(invalid="ignore"):
        v[~(np.isfinite(v) & (v > 0))] = np.nan
    return v


class GalleryView(View):
    """The kept runs as a list; 2-4 picked replay side by side or overlaid."""

    title = "Run gallery: every finished run, replayed side by side"
    export_requested = Signal(object, str)     # (GalleryRun, ".csv" or ".json")

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None,
                 gallery: Gallery | None = None) -> None:
        super().__init__(theme, parent)
        self.gallery = gallery or Gallery()
        self.mode = "side"
        self.curves = "train"
        self._shown: list[GalleryRun] = []
        self._update = 0
        self._playing = False
        self._played = 0.0              # fraction of an update carried between ticks
        self._last_tick = 0.0
        self._filling = False
        # run id -> (a1, a2, loss grid, star or None), or why there is none
        self._surfaces: dict[int, tuple[Any, ...] | str] = {}
        self._panes: list[RunPane] = []
        self._overlay: pg.PlotWidget | None = None
        self._slices = BackgroundJob("gallery-slices", nice=5, parent=self)
        self._slices.item_ready.connect(self._on_slice)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._build()

    # ---- building ----------------------------------------------------------------------
    def _build(self) -> None:
        split = QSplitter(Qt.Orientation.Vertical, self)
        top = QWidget(split)
        top_lay = QGridLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(COLUMNS), top)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NAME_COLUMN + 2, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._on_item_changed)
        top_lay.addWidget(self.table, 0, 0, 1, 6)
        top_lay.setColumnStretch(5, 1)
        self._fit_table_minimum()
        self.mode_box = QComboBox(top)
        self.mode_box.addItems([text for _, text in MODES])
        self.mode_box.setToolTip("the ticked runs side by side, or their loss curves in one "
                                 "plot")
        self.mode_box.currentIndexChanged.connect(lambda i: self.set_mode(MODES[i][0]))
        self.curves_box = QComboBox(top)
        self.curves_box.addItems([text for _, text in CURVES])
        self.curves_box.setToolTip("the overlay's curves: training loss (solid), unseen "
                                   "loss (dashed), or both, from each run's history")
        self.curves_box.currentIndexChanged.connect(
            lambda i: self.set_curves(CURVES[i][0]))
        self.curves_box.setVisible(False)          # only the overlay has curves to choose
        self.delete_button = QPushButton("Delete", top)
        self.csv_button = QPushButton("CSV…", top)
        self.json_button = QPushButton("JSON…", top)
        self.delete_button.setToolTip("delete the selected runs")
        self.csv_button.setToolTip("export the selected run's loss history as CSV")
        self.json_button.setToolTip("export everything kept about the selected run as JSON")
        self.delete_button.clicked.connect(self.delete_selected)
        self.csv_button.clicked.connect(lambda: self._export(".csv"))
        self.json_button.clicked.connect(lambda: self._export(".json"))
        for i, b in enumerate((self.mode_box, self.curves_box, self.delete_button,
                               self.csv_button, self.json_button)):
            top_lay.addWidget(b, 1, i)
        self.note = ElidedLabel("", top)    # beside the buttons: the replay keeps the room
        self.note.setObjectName("viewNote")
        top_lay.addWidget(self.note, 1, 5)
        bottom = QWidget(split)
        lay = QGridLayout(bottom)
        lay.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget(bottom)
        self.side = QWidget(self.stack)
        self.side_layout = QHBoxLayout(self.side)
        self.side_layout.setContentsMargins(0, 0, 0, 0)
        self.stack.addWidget(self.side)
        self.hint = QLabel(PICK_HINT, self.stack)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.stack.addWidget(self.hint)
        self.stack.setCurrentWidget(self.hint)
        lay.addWidget(self.stack, 0, 0, 1, 4)
        self.stack.installEventFilter(self)
        self.play_button = QPushButton("Play", bottom)
        self.play_button.clicked.connect(self.toggle_play)
        self.scrubber = QSlider(Qt.Orientation.Horizontal, bottom)
        self.scrubber.setRange(0, 0)
        self.scrubber.valueChanged.connect(self.scrub_to)
        self.speed = QComboBox(bottom)
        for text, _ in SPEEDS:
            self.speed.addItem(text)
        self.speed.setCurrentIndex(DEFAULT_SPEED)
        self.at_label = QLabel("update 0", bottom)
        lay.addWidget(self.play_button, 1, 0)
        lay.addWidget(self.scrubber, 1, 1)
        lay.addWidget(self.at_label, 1, 2)
        lay.addWidget(self.speed, 1, 3)
        lay.setRowStretch(0, 1)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        self._split = split
        self._split_moved = False        # once the user drags it, the split is theirs
        split.splitterMoved.connect(lambda *_: setattr(self, "_split_moved", True))
        # the scroll bar comes and goes with the columns' width: the list's share follows
        self.table.horizontalScrollBar().rangeChanged.connect(lambda *_: self._share_split())
        self.at_label.setMinimumWidth(self.at_label.fontMetrics().horizontalAdvance(
            "update 100,000"))
        self._layout.addWidget(split, 1)
        self._refresh_table()

    def _ensure_panes(self, n: int) -> None:
        """Build the replay panes the first time they are needed."""
        while len(self._panes) < n:
            pane = RunPane(self._theme, self.side)
            self._panes.append(pane)
            self.side_layout.addWidget(pane, 1)
        if self._overlay is None:
            self._overlay = self._make_plot("update", "loss (log)",
                                            axisItems={"left": LogLossAxis()})
            self._overlay.setParent(self.stack)
            self._overlay.setLogMode(y=True)
            self._add_legend(self._overlay, (-10, 10))
            self._overlay_cursor = pg.InfiniteLine(angle=90, movable=False)
            self._overlay.addItem(self._overlay_cursor)
            self._overlay_curves: list[pg.PlotDataItem] = []
            # (run, "train" or "unseen", colour) of each curve, in the same order
            self._overlay_kinds: list[tuple[GalleryRun, str, str]] = []
            # each drawn curve's value at the scrubbed update, in its run's colour
            self._overlay_dots = pg.ScatterPlotItem(symbol="o")
            self._overlay_dots.setZValue(10)
            self._overlay.addItem(self._overlay_dots)
            self.stack.addWidget(self._overlay)
            self._restyle_overlay()

    # ---- the window's interface -------------------------------------------------------
    def _draw(self, snap: Snapshot) -> None:
        """Nothing follows the live run; kept runs arrive through `keep`."""

    def keep(self, config: Any, snap: Snapshot, timeline: Any, replaced_by: Any = None,
             origin: str = "", name: str | None = None, color: str = ""
             ) -> GalleryRun | None:
        """Keep a run that ended (`snap` its last snapshot, `timeline` its
        `Trainer.timeline()`); `replaced_by` is the config that cut it short, if one
        did; `color` the colour it was drawn in, if it had its own (a racer's). A run
        that never updated is not kept."""
        if snap is None or snap.update <= 0:
            return None
        status = end_status(snap, replaced_by, config)
        old = self.gallery.get(int(snap.run_id))
        if old is not None:
            name = old.name
        name = name or self.gallery.default_name(config)
        run = run_from_timeline(int(snap.run_id), name, config, snap, timeline, status,
                                origin, color)
        dropped = self.gallery.add(run)
        self._surfaces.pop(run.run_id, None)
        for gone in dropped:
            self._surfaces.pop(gone.run_id, None)
        self._refresh_table()
        note = self.gallery.bounds_note()
        if dropped:
            names = ", ".join(f"'{r.name}'" for r in dropped)
            note = (f"dropped the oldest unpinned run(s) {names} to stay within "
                    f"{self.gallery.max_runs} runs / {self.gallery.max_bytes / 2**20:.0f} "
                    f"MB (pin a run to keep it) · {note}")
        self.note.setText(note)
        if any(r.run_id == run.run_id for r in self._shown):
            self._show_runs([self.gallery.get(r.run_id) or r for r in self._shown])
        return run

    def keep_race(self, ends: list[Any], colors: list[str]) -> list[GalleryRun]:
        """Keep a race's racers (`gui.worker.RunEnd`s), each as a run of its own: named
        for its race and what told it apart ("race 2: adam η 0.05"), its race as its
        origin, its race colour (`colors`, racer by racer) as its own. Races are numbered
        on from the ones kept (a reopened session too)."""
        number = self.gallery.next_race()
        kept = [self.keep(e.config, e.snapshot, e.timeline, e.replaced_by,
                          race_origin(number), racer_name(number, e.config), color)
                for e, color in zip(ends, colors, strict=True)]
        return [run for run in kept if run is not None]

    def session_runs(self, ends: list[Any], colors: list[str]) -> list[dict[str, Any]]:
        """The kept runs as a session saves them (numpy arrays, bit for bit), and a race
        still going when it is saved (`RaceView.running_ends`): its racers as they stand,
        named and numbered as the race will be kept, each "stopped" at its update (or
        diverged, or finished, if it did), in its colour. The gallery itself is not
        changed: the race goes on and is kept when it ends."""
        number = self.gallery.next_race()
        racers = []
        for e, color in zip(ends, colors, strict=True):
            status = end_status(e.snapshot, None, e.config)
            racers.append(run_from_timeline(
                int(e.snapshot.run_id), racer_name(number, e.config), e.config, e.snapshot,
                e.timeline, "stopped" if status == "reset" else status,
                race_origin(number), color))
        return self.gallery.to_list(arrays=True) + [run_to_dict(r, arrays=True)
                                                   for r in racers]

    def set_runs(self, runs: list[GalleryRun]) -> None:
        """Replace the kept runs (a session), each with its data loaded again for its
        surface (a run whose data file is gone replays its path without one)."""
        self.pause()
        self._shown = []
        self._surfaces = {}
        loaded: dict[tuple[Any, ...], Any] = {}
        self.gallery.set_runs([replace(r, data=_data_for(r.config, loaded)) for r in runs])
        self.show_runs([])
        self.note.setText(self.gallery.bounds_note())

    def find(self, config: Any, origin: str) -> GalleryRun | None:
        """The newest kept run of exactly `config` from `origin` (a lecture step shown
        again replays its runs instead of training them again)."""
        return next((r for r in reversed(self.gallery.runs)
                     if r.config == config and r.origin == origin), None)

    def shutdown(self) -> None:
        self._timer.stop()
        self._slices.stop()

    def busy(self) -> bool:
        return self._slices.is_running()

    # ---- the list ------------------------------------------------------------------------
    def _refresh_table(self) -> None:
        self._fill_table()
        self._share_split()

    def _fill_table(self) -> None:
        """One row per kept run: a "show" box picks it for the replay (2-4), a "pin" box
        keeps it from being dropped; the name is edited by a double-click. Selecting rows
        (for Delete and export) does not change what the replay shows."""
        self._filling = True
        chosen = set(self.selected_ids())
        shown = {r.run_id for r in self._shown}
        # a swatch by each name: the colour a shown run is drawn in, or a run's own
        colors = {r.run_id: c for r, c in zip(self._shown,
                                               shown_colors(self._shown, self._theme),
                                               strict=True)}
        checkable = (Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
                     | Qt.ItemFlag.ItemIsSelectable)
        self.table.setRowCount(len(self.gallery.runs))
        for row, run in enumerate(self.gallery.runs):
            for col, on in ((0, run.run_id in shown), (1, run.pinned)):
                box = QTableWidgetItem("")
                box.setFlags(checkable)
                box.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                box.setData(Qt.ItemDataRole.UserRole, run.run_id)
                self.table.setItem(row, col, box)
            ended = STATUS_TEXT[run.status] + (
                f" at update {run.final_update:,}" if run.status == "diverged" else "") + (
                f" ({run.origin})" if run.origin else "")
            fmt = _loss_fmt(run)
            texts = (run.name, ended, run.describe(), fmt(run.final_train),
                     fmt(run.final_unseen))
            for col, text in enumerate(texts, start=NAME_COLUMN):
                item = QTableWidgetItem(text)
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                if col == NAME_COLUMN:
                    flags |= Qt.ItemFlag.ItemIsEditable
                    item.setToolTip("double-click to rename")
                    swatch = colors.get(run.run_id) or run.color
                    if swatch:
                        item.setData(Qt.ItemDataRole.DecorationRole, QColor(
                            legible_on(swatch, self._theme.background)))
                item.setFlags(flags)
                if col == NAME_COLUMN + 1 and run.status == "diverged":
                    item.setForeground(pg.mkColor(self._theme.warning))
                self.table.setItem(row, col, item)
            if run.run_id in chosen:
                self.table.selectRow(row)
        self._filling = False

    def _row_run(self, row: int) -> int:
        return int(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole))

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self._row_run(row) for row in rows if self.table.item(row, 0) is not None]

    def select(self, run_ids: list[int]) -> None:
        """Select these rows (for Delete and export)."""
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row, run in enumerate(self.gallery.runs):
            if run.run_id in run_ids:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        run_id = self._row_run(item.row())
        if item.column() == 0:
            ids = [r.run_id for r in self._shown if r.run_id != run_id]
            if item.checkState() == Qt.CheckState.Checked:
                if len(ids) >= MAX_SHOWN:
                    self.note.setText(f"at most {MAX_SHOWN} runs replay side by side: "
                                      "untick one first")
                else:
                    ids.append(run_id)
            self.show_runs(ids)
        elif item.column() == 1:
            self.gallery.pin(run_id, item.checkState() == Qt.CheckState.Checked)
        elif item.column() == NAME_COLUMN:
            self.rename(run_id, item.text())

    def rename(self, run_id: int, name: str) -> None:
        try:
            self.gallery.rename(run_id, name)
        except ValueError as exc:
            self.note.setText(str(exc))
        self.show_runs([r.run_id for r in self._shown])

    def delete_selected(self) -> None:
        gone = set(self.selected_ids())
        for run_id in gone:
            self.gallery.delete(run_id)
            self._surfaces.pop(run_id, None)
        self.show_runs([r.run_id for r in self._shown if r.run_id not in gone])
        self.note.setText(self.gallery.bounds_note())

    def _export(self, suffix: str) -> None:
        ids = self.selected_ids()
        if len(ids) != 1:
            self.note.setText("select one run (click its row) to export its history")
            return
        run = self.gallery.get(ids[0])
        if run is not None:
            self.export_requested.emit(run, suffix)

    # ---- replay ------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        """"side" (small multiples) or "overlay" (one loss plot)."""
        self.mode = mode
        self._sync_mode_box()
        self._show_runs(self._shown)

    def set_curves(self, curves: str) -> None:
        """The overlay's curves: "train", "unseen" or "both"."""
        self.curves = curves
        self._sync_mode_box()
        if self.mode == "overlay":
            self._show_runs(self._shown)

    def _sync_mode_box(self) -> None:
        for box, choices, value in ((self.mode_box, MODES, self.mode),
                                    (self.curves_box, CURVES, self.curves)):
            index = [m for m, _ in choices].index(value)
            if box.currentIndex() != index:
                box.blockSignals(True)
                box.setCurrentIndex(index)
                box.blockSignals(False)
        self.curves_box.setVisible(self.mode == "overlay")

    def show_runs(self, run_ids: list[int], mode: str | None = None) -> None:
        """Replay these runs (their "show" boxes ticked; at most MAX_SHOWN)."""
        if mode is not None:
            self.mode = mode
            self._sync_mode_box()
        runs = [r for r in (self.gallery.get(i) for i in run_ids) if r][:MAX_SHOWN]
        self._shown = runs
        self._refresh_table()
        self._show_runs(runs)
        self._scroll_to_shown()

    def _scroll_to_shown(self) -> None:
        """The list's first shown run at its top: a lecture step's three runs came after
        the walk's earlier ones, and the list showed an older, unrelated run."""
        ids = {r.run_id for r in self._shown}
        rows = [i for i, run in enumerate(self.gallery.runs) if run.run_id in ids]
        item = self.table.item(rows[0], NAME_COLUMN) if rows else None
        if item is not None:
            self.table.scrollToItem(item, QAbstractItemView.ScrollHint.PositionAtTop)

    @property
    def shown(self) -> list[GalleryRun]:
        return list(self._shown)

    def _show_runs(self, runs: list[GalleryRun]) -> None:
        self._shown = runs
        if len(runs) < 2:
            self.pause()
            self._place()
            return
        self._ensure_panes(len(runs))
        colors = shown_colors(runs, self._theme)
        last = max(r.final_update for r in runs)
        self.scrubber.blockSignals(True)
        self.scrubber.setRange(0, last)
        self._update = min(self._update, last) if self._update else last
        self.scrubber.setValue(self._update)
        self.scrubber.blockSignals(False)
        if self.mode == "overlay":
            self._show_overlay(runs, colors)
        else:
            for i, pane in enumerate(self._panes):
                pane.setVisible(i < len(runs))
                if i < len(runs):
                    pane.show_run(runs[i], colors[i])
                    self._show_surface(pane, runs[i])
        self._place()
        self.scrub_to(self._update)

    def _place(self) -> None:
        """Show the replay (side by side or overlaid) if 2-4 runs are ticked and it has
        room, else a line saying what to do: in a short dock (a 1280 x 720 projector's
        default layout) the small multiples would be unreadable slivers."""
        if len(self._shown) < 2:
            self.hint.setText(PICK_HINT)
            target: QWidget = self.hint
        elif self.stack.height() < MIN_REPLAY_PX:
            self.hint.setText(SMALL_HINT)
            target = self.hint
        else:
            target = self._overlay if self.mode == "overlay" else self.side
        if target is not None and self.stack.currentWidget() is not target:
            self.stack.setCurrentWidget(target)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._share_split()

    def _share_split(self) -> None:
        """The list gets a quarter of the height, more if the runs it replays need it
        while the replay keeps MIN_REPLAY_PX (at least its header and a row, at most
        what its runs need); the replay the rest. A quarter of a 1280 x 720 projector's
        dock showed one row of a lecture step's three runs."""
        self._fit_table_minimum()
        if self._split_moved:
            return
        total = sum(self._split.sizes()) or self._split.height()
        top_min = self._split.widget(0).minimumSizeHint().height()
        rows = self.table.verticalHeader().defaultSectionSize()
        want = top_min + rows * max(0, min(len(self.gallery.runs), 6) - 1)
        shown = top_min + rows * max(0, len(self._shown) - 1)
        replay = MIN_REPLAY_PX + self.play_button.sizeHint().height() + 8
        top = max(top_min, min(want, max(total // 4, min(shown, total - replay))))
        self._split.setSizes([top, max(total - top, 0)])

    def _fit_table_minimum(self) -> None:
        """The header and a whole row at least (the splitter gives the list more when
        there is room), measured now: the window's style sheet makes the header taller
        than it was when the list was built (the old minimum cut the last of three
        racers' rows), and in a narrow dock the horizontal scroll bar takes a row's half."""
        table = self.table
        bar = table.horizontalScrollBar()        # shown when its range is not empty
        table.setMinimumHeight(table.horizontalHeader().sizeHint().height()
                               + table.verticalHeader().defaultSectionSize()
                               + (bar.sizeHint().height() if bar.maximum() > 0 else 0)
                               + 2 * table.frameWidth() + 2)
        table.parentWidget().layout().invalidate()    # its minimum follows at once

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if obj is self.stack and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _show_overlay(self, runs: list[GalleryRun], colors: list[str]) -> None:
        """Each run's recorded loss history in its colour: training solid, unseen dashed
        (which of them: `curves`); the legend's last two lines say which is which."""
        plot = self._overlay
        assert plot is not None
        legend = plot.getPlotItem().legend
        for curve in self._overlay_curves:
            plot.removeItem(curve)
        legend.clear()
        self._overlay_curves = []
        self._overlay_kinds = []
        kinds = {"train": ("train",), "unseen": ("unseen",), "both": ("train", "unseen")}
        for run, own in zip(runs, colors, strict=False):
            color = legible_on(own, self._theme.background)    # on the plot, as in a pane
            for kind in kinds[self.curves]:
                # one legend entry per run: its first curve carries the name
                name = (f"{run.name} ({STATUS_TEXT[run.status]})"
                        if kind == kinds[self.curves][0] else None)
                pen = (self._theme.pen(color) if kind == "train" else
                       self._theme.pen(color, style=Qt.PenStyle.DashLine))
                values = run.train_loss if kind == "train" else run.unseen_loss
                curve = pg.PlotDataItem(run.updates.astype(np.float64), _positive(values),
                                        connect="finite", pen=pen, name=name)
                plot.addItem(curve)
                self._overlay_curves.append(curve)
                self._overlay_kinds.append((run, kind, color))
        if self.curves == "both":     # the key to the two line styles, under the runs
            fg = self._theme.foreground
            legend.addItem(pg.PlotDataItem(pen=self._theme.pen(fg)), "training loss")
            legend.addItem(pg.PlotDataItem(pen=self._theme.pen(
                fg, style=Qt.PenStyle.DashLine)), "unseen loss")
        loss = runs[0].config.loss.upper()
        plot.setLabel("left", {"train": f"training {loss} (log)",
                               "unseen": f"unseen {loss} (log)",
                               "both": f"{loss} (log)"}[self.curves])
        self.legends_later()

    def _overlay_dots_at(self, update: int) -> None:
        """A dot on every overlaid curve at `update` (a run that ended sooner: at its last
        recorded loss), so the values at the scrubber can be read off the curves."""
        xs, ys, brushes = [], [], []
        for run, kind, color in self._overlay_kinds:
            u, train, unseen = run.loss_at(update)
            value = train if kind == "train" else unseen
            if math.isfinite(value) and value > 0:
                xs.append(float(u))
                ys.append(math.log10(value))
                brushes.append(self._theme.brush(color))
        t = self._theme
        self._overlay_dots.setData(xs, ys, brush=brushes, pen=t.pen(t.path, 2),
                                   size=t.point_size * 2.2)

    def _show_surface(self, pane: RunPane, run: GalleryRun) -> None:
        got = self._surfaces.get(run.run_id)
        if got is None and run.exact_surface and run.data is not None:
            d = run.data
            s = surface.linear_surface(d.x_train[:, 0], d.y_train, run.config.loss,
                                       n=SURFACE_N, scale=d.scale)
            got = self._surfaces[run.run_id] = (s.w, s.b, s.loss, (s.w_star, s.b_star))
        if isinstance(got, tuple):
            pane.show_grid(*got)
        elif isinstance(got, str):
            pane.say(got)
        elif run.data is None:
            pane.say("no data loaded: path only")
        else:
            pane.say("computing slice…")
            self._start_slices()

    def _start_slices(self) -> None:
        """Slices of the networks shown (through their two tracked parameters, at their
        final parameters), computed one after another in the background."""
        todo = [r for r in self._shown if r.run_id not in self._surfaces
                and not r.exact_surface and r.data is not None]
        if not todo:
            return

        def job(should_stop: Any):  # type: ignore[no-untyped-def]
            from core.slices import slice_surface, slice_window

            for run in todo:
                try:
                    centers, spans = slice_window(run.params, run.track, run.path)
                    sl = slice_surface(run.config.model, run.params, run.data.x_train,
                                       run.data.y_train, run.config.loss, run.track,
                                       centers, spans, n=SLICE_N, should_stop=should_stop,
                                       scale=run.data.scale)
                except (ValueError, KeyError, IndexError) as exc:
                    yield run.run_id, f"no slice: {exc}"
                    continue
                if sl is None:
                    return
                yield run.run_id, (sl.a1, sl.a2, sl.loss, None)

        self._slices.start(job)

    def _on_slice(self, token: int, item: Any) -> None:
        if token != self._slices.token:
            return
        run_id, got = item
        self._surfaces[run_id] = got
        for pane in self._panes:
            if pane.isVisible() and pane.run is not None and pane.run.run_id == run_id:
                if isinstance(got, tuple):
                    pane.show_grid(*got)
                    pane.show_at(self._update)
                else:
                    pane.say(got)

    def scrub_to(self, update: int) -> None:
        """Show every picked run at `update` (the scrubber follows)."""
        self._update = int(update)
        if self.scrubber.value() != self._update:
            self.scrubber.blockSignals(True)
            self.scrubber.setValue(self._update)
            self.scrubber.blockSignals(False)
        self.at_label.setText(f"update {self._update:,}")
        if self.mode == "overlay" and self._overlay is not None:
            self._overlay_cursor.setPos(self._update)
            self._overlay_dots_at(self._update)
        else:
            for pane in self._panes:
                if pane.isVisible() or pane.run in self._shown:
                    pane.show_at(self._update)

    @property
    def shown_update(self) -> int:
        return self._update

    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if len(self._shown) < 2:
            return
        if self._update >= self.scrubber.maximum():
            self.scrub_to(0)
        self._playing = True
        self._played = 0.0
        self._last_tick = time.perf_counter()
        self.play_button.setText("Pause")
        self._timer.start()

    def pause(self) -> None:
        self._playing = False
        self.play_button.setText("Play")
        self._timer.stop()

    @property
    def playing(self) -> bool:
        return self._playing

    def set_speed(self, per_second: int) -> None:
        """Replay at the offered speed closest to `per_second` updates a second."""
        rates = [abs(math.log(rate / max(per_second, 1))) for _, rate in SPEEDS]
        self.speed.setCurrentIndex(rates.index(min(rates)))

    def _tick(self) -> None:
        """Advance by the wall time since the last tick at the chosen speed (a frame
        that took longer does not slow the replay), at most MAX_TICK_SECONDS of it."""
        now = time.perf_counter()
        elapsed = min(now - self._last_tick, MAX_TICK_SECONDS)
        self._last_tick = now
        per_second = SPEEDS[self.speed.currentIndex()][1]
        self._played += per_second * elapsed
        step = int(self._played)
        self._played -= step
        target = min(self._update + step, self.scrubber.maximum())
        if step:
            self.scrub_to(target)
        if target >= self.scrubber.maximum():
            self.pause()

    # ---- theme -----------------------------------------------------------------------------
    def _restyle(self) -> None:
        for pane in self._panes:
            pane.restyle(self._theme)
        self._restyle_overlay()
        self._refresh_table()
        if self._shown:
            self._show_runs(self._shown)

    def _restyle_overlay(self) -> None:
        if self._overlay is not None:
            self._overlay_cursor.setPen(self._theme.pen(self._theme.foreground, 1, alpha=140))


def _data_for(config: Any, loaded: dict[tuple[Any, ...], Any]) -> Any:
    """The windowed data of a saved run's settings (shared by runs on the same data), or
    None if it cannot be loaded."""
    from core.data import load_series, window

    key = (config.dataset, config.column, config.split, config.days)
    if key not in loaded:
        try:
            loaded[key] = window(load_series(config.dataset, config.column), config.days,
                                 config.split)
        except (ValueError, OSError):
            loaded[key] = None
    return loaded[key]


def _loss_fmt(run: GalleryRun) -> Any:
    """A loss as the loss table and the status line write it ("0.48k", "> 10²⁸" for one
    that ran away, "diverged" for inf)."""
    from core.results import format_loss

    return lambda v: format_loss(v, run.scale, run.suffix)
