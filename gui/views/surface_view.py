# Over 450 lines: one plot in three modes sharing path, star, arrow, pickers.
"""The error surface: where gradient descent walks, and the step it is about to take.

For the lecture's 1-day linear model the exact loss L(w, b) is drawn as a heat map with
contour lines, the global minimum as a star, the descent path, the current point and the
step -eta * gradient as an arrow; a click starts descent from the clicked point. For any
other model the panel shows a 2-D slice through two parameters the user picks, computed
in a background thread (coarse first, then fine) and labeled as a slice, never blank.
"""

from __future__ import annotations

import math
from typing import Any

import contourpy
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, QRectF, Qt, Signal
from PySide6.QtGui import QFontMetrics, QTextOption
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QWidget

from core import models, surface
from core.config import RunConfig
from core.slices import local_minima, slice_window
from core.snapshot import Snapshot
from core.step_explained import StepExplained
from gui.theme import DARK, Theme
from gui.views.base import (
    Curve,
    MovingPoints,
    NoteLabel,
    View,
    cache_static,
    segmented,
    set_curve,
    text_item,
)
from gui.views.colour_bar import (
    colour_bar,
    compact,
    fit_bar_ticks,
    loss_ticks,
    plain_fmt,
    style_colour_bar,
)
from gui.views.flow_layout import FlowLayout
from gui.views.landscape_live import LivePiece
from gui.views.slice_worker import SliceWorker
from gui.views.step_arrows import set_arrow, step_line
from gui.views.surface_landscape import LandscapeMode

N_CONTOURS = 14
MAX_CHOICES = 300          # parameters offered in the pickers (a deep net has 30,000)
FAR_PARAM = 1e6            # before a slice's grid exists, parameters beyond this are off it
RECHECK_FRAMES = 15        # how often (in frames) to ask whether a slice is out of date
MESSAGE_MARGIN = 8         # px between a centred message and the data area's sides
PATH_DOTS = 120            # a path this short shows every update as a dot (zig-zags read)
LOCAL_LABEL_ANCHOR_Y = -0.35  # the local minimum's label sits just under its ◆
# Lines kept under the 1-day surface's plot for its note, by the view's height: a replayed
# moment's numbers (the gradient; the step as a sum, two lines at 10 pt in a 530-px view)
# show whole in the note's place in a view 320 px high or more; a small one (a 1280 x 720
# projector's lecture: 225 px) keeps its plot and shows the gradient's line. (The view's
# height, not the plot's: the room taken must not decide whether it is taken.)
NOTE_LINES = ((320, 3), (260, 2))


def thin_polyline(x: np.ndarray, y: np.ndarray, cell_x: float, cell_y: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A polyline's segments drawn once each: (x, y, connect) for `setData`.

    Segments whose ends fall in the same two (cell_x x cell_y) cells as an earlier
    segment's, and segments within one cell, are left out; what is left is drawn in the
    polyline's order, in chains where consecutive segments remain. With half-pixel cells
    the line drawn moves by less than half a pixel; a stroke covers a pixel once however
    often the path passes it. Segments with a NaN end (gaps) are not drawn, as before.
    """
    seg, keys = _segment_keys(x, y, cell_x, cell_y, 0)
    if not len(seg):                       # the whole path in one cell (or nothing)
        return _one_cell(x, y)
    _, first = np.unique(keys, axis=0, return_index=True)
    return _chains(x, y, seg[np.sort(first)])


def _segment_keys(x: np.ndarray, y: np.ndarray, cell_x: float, cell_y: float, start: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(indices i >= start of the segments i -> i + 1 that join two cells, each one's
    pair of cells as a row (a0, b0, a1, b1), the smaller cell first)."""
    with np.errstate(invalid="ignore"):
        cx, cy = np.floor(x[start:] / cell_x), np.floor(y[start:] / cell_y)
    ok = np.isfinite(cx) & np.isfinite(cy)
    seg = np.flatnonzero(ok[:-1] & ok[1:] & ((cx[:-1] != cx[1:]) | (cy[:-1] != cy[1:])))
    a = np.stack([cx[seg], cy[seg]], axis=1)
    b = np.stack([cx[seg + 1], cy[seg + 1]], axis=1)
    flip = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    a[flip], b[flip] = b[flip], a[flip].copy()
    return seg + start, np.concatenate([a, b], axis=1)


def _one_cell(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A path in one cell (or none): its first and last finite points."""
    ok = np.isfinite(x) & np.isfinite(y)
    keep = np.flatnonzero(ok)[[0, -1]] if ok.any() else np.zeros(0, dtype=np.int64)
    return x[keep], y[keep], np.ones(len(keep), dtype=bool)


def _chains(x: np.ndarray, y: np.ndarray, kept: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The segments i -> i + 1 for i in `kept` (ascending), drawn in chains."""
    starts = np.ones(len(kept), dtype=bool)
    starts[1:] = kept[1:] != kept[:-1] + 1       # not the continuation of the one before
    pairs = np.stack([kept, kept + 1], axis=1).ravel()
    emit = np.stack([starts, np.ones(len(kept), dtype=bool)], axis=1).ravel()
    first_of_chain = np.stack([starts, np.zeros(len(kept), dtype=bool)], axis=1).ravel()[emit]
    idx = pairs[emit]
    connect = np.ones(len(idx), dtype=bool)
    connect[:-1] = ~first_of_chain[1:]
    return x[idx], y[idx], connect


class GrowingPath:
    """`thin_polyline` of a path that grows at its end, frame after frame, worked out for
    the new segments only.

    The live path is the trainer's record: each snapshot has the last one's points and a
    few more (until the record halves, or the view zooms: then it is thinned whole).
    Thinning all ~1,400 points of the 1-day run again cost ~0.35 ms a frame (numpy calls
    on the whole path, measured alone), and the thinned path, the same after the run has
    converged, was set into its item anew each frame. `thin` returns what
    `thin_polyline` returns, and whether it differs from the last call's.
    """

    def __init__(self) -> None:
        self._x = np.empty(0)
        self._y = np.empty(0)
        self._cells = (0.0, 0.0)
        self._seen: set[tuple[float, ...]] = set()
        self._kept: list[int] = []
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def thin(self, x: np.ndarray, y: np.ndarray, cell_x: float, cell_y: float
             ) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], bool]:
        n = len(self._x)
        grown = (self._last is not None and (cell_x, cell_y) == self._cells
                 and len(x) >= n > 0 and np.array_equal(x[:n], self._x, equal_nan=True)
                 and np.array_equal(y[:n], self._y, equal_nan=True))
        if not grown:
            self._seen.clear()
            self._kept = []
        before = len(self._kept)
        start = n - 1 if grown else 0
        seg, keys = _segment_keys(x, y, cell_x, cell_y, start)
        for i, key in zip(seg.tolist(), map(tuple, keys.tolist()), strict=True):
            if key not in self._seen:
                self._seen.add(key)
                self._kept.append(i)
        self._x, self._y, self._cells = x.copy(), y.copy(), (cell_x, cell_y)
        if grown and len(self._kept) == before and self._kept and self._last is not None:
            return self._last, False
        self._last = (_chains(x, y, np.asarray(self._kept, dtype=np.int64)) if self._kept
                      else _one_cell(x, y))
        return self._last, True


def inward_anchor_y(y: float, anchor_y: float, height: float, y0: float, y1: float
                    ) -> float:
    """A label's vertical anchor at data height `y` (pyqtgraph's: 0 puts its top at y, 1
    its bottom; `height` in data units, the axis pointing up): `anchor_y`, or mirrored
    (1 - anchor_y, the other side of y) where the label would run past y0 or y1 and the
    other side keeps it inside."""
    def inside(a: float) -> bool:
        return y + (a - 1.0) * height >= y0 and y + a * height <= y1

    if inside(anchor_y) or not inside(1.0 - anchor_y):
        return anchor_y
    return 1.0 - anchor_y


class SurfaceView(LandscapeMode, View):
    """Heat map + contours of the loss over two parameters, with the descent drawn on it."""

    title = "Error surface"
    start_requested = Signal(float, float)
    track_requested = Signal(str, str)

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self._exact = True
        self._names: tuple[str, str] = ("w1", "b")
        self._surface: Any = None
        self._slice_params: np.ndarray | None = None
        self._slice_update = 0
        self._slice_loss = float("nan")
        self._frames = 0
        self._last_snap: Snapshot | None = None
        self._fmt = plain_fmt
        self._bar_label = "loss"
        self._box: tuple[float, float, float, float] | None = None   # grid's a0, a1, b0, b1
        self._diverged_shown = False
        self._numbers: list[pg.TextItem] = []     # update numbers beside a path's first dots
        self._paused = False        # the window's run is paused (`set_paused`)
        self._hold_slice = False    # after a click: keep the slice descent started on
        self._numbered = 0
        self._path_drawn: tuple[np.ndarray, np.ndarray, bool] | None = None   # unthinned
        self._growing = GrowingPath()        # the live path thinned (`_show_path`)
        self._path_set: np.ndarray | None = None   # the path item's x as _show_path set it

        bar = QWidget(self)
        row = FlowLayout(bar)   # wraps in a narrow dock instead of widening it
        named: list[QWidget] = [QLabel("slice through", bar)]
        self._combo_a = QComboBox(bar)
        self._combo_b = QComboBox(bar)
        named += [self._combo_a, QLabel("and", bar), self._combo_b]
        for w in named:
            row.addWidget(w)
        self._refresh = QPushButton("Refresh slice", bar)
        row.addWidget(self._refresh)
        self._pickers = bar
        self._layout.addWidget(bar)
        bar.hide()

        self._plot = self._make_plot("w", "b")
        self._plot.showGrid(x=False, y=False)
        self._layout.addWidget(self._plot, 1)
        self._note = NoteLabel("", self)   # one line in a short window (a slice's note
        self._layout.addWidget(self._note)  # took four and left its plot 24 px)

        item = self._plot.getPlotItem()
        self._image = pg.ImageItem()
        self._image.setZValue(-10)
        item.addItem(self._image)
        self._bar = colour_bar(theme)
        self._bar.setImageItem(self._image, insert_in=item)
        # The colour bar's labels: the values worth naming, and those that fit its height.
        self._bar_candidates: tuple[list[tuple[float, str]], tuple[float, float]] = (
            [], (0.0, 1.0))
        self._bar.axis.geometryChanged.connect(self._fit_bar_ticks)
        self._contours = Curve()
        self._path = Curve()
        self._dots = pg.ScatterPlotItem(symbol="o")
        self._star = pg.ScatterPlotItem(symbol="star")
        self._local = pg.ScatterPlotItem(symbol="d")      # a slice's other valleys
        self._local_label = text_item(theme, "", anchor=(0.5, LOCAL_LABEL_ANCHOR_Y))
        self._current = MovingPoints(symbol="o")   # moved each frame (`set_curve`)
        self._arrow_line = Curve()
        self._message = text_item(theme, "", anchor=(0.5, 0.5), size_pt=theme.title_pt)
        self._message.textItem.document().setDefaultTextOption(
            QTextOption(Qt.AlignmentFlag.AlignHCenter))     # its lines, once wrapped
        self._message_centred = True
        for z, it in zip((0, 1, 2, 3, 4, 5, 7, 8),
                         (self._contours, self._path, self._dots, self._local, self._star,
                          self._arrow_line, self._current, self._message), strict=True):
            it.setZValue(z)
            item.addItem(it, ignoreBounds=True)
        # A replayed moment of the 1-day run, explained as the race view does: -eta *
        # gradient, the part the optimizer added to it (momentum's) from its tip, and the
        # step taken (the path's next segment, in the path's colour).
        self._grad_arrow = Curve()
        self._extra_arrow = Curve()
        self._taken_arrow = Curve()
        for z, it in ((5.6, self._grad_arrow), (5.5, self._extra_arrow),
                      (5.4, self._taken_arrow)):      # the parts over the whole step
            it.setZValue(z)
            item.addItem(it, ignoreBounds=True)
        # ... and its numbers under the plot, in the note's place and at the note's height
        # for as long as the replay lasts: drawn over the surface they hid half of a
        # 1280 x 720 projector's (126 px high), and a label that took its own room would
        # shrink the plot when a replay starts (the views must not jump)
        self._explain = QLabel("", self)
        self._explain.setObjectName("viewNote")
        self._explain.setWordWrap(True)
        self._layout.addWidget(self._explain)
        self._explain.hide()
        self._fitted: tuple[Any, str] = (None, "")
        cache_static(self._image, self._contours, self._star, self._message)
        # a second path to compare with (lecture mode: full batch against mini-batches)
        self._reference = Curve()
        self._reference.setZValue(1.5)
        self._reference_label = text_item(theme, "", anchor=(0, 1))
        self._reference_label.setZValue(7)
        self._local_label.setZValue(7)
        for it in (self._reference, self._reference_label, self._local_label):
            item.addItem(it, ignoreBounds=True)
            it.hide()
        self._init_landscape(row, bar, named)
        self._restyle()

        self._plot.scene().sigMouseClicked.connect(self._on_click)
        self._plot.getViewBox().sigRangeChanged.connect(self._show_path)
        for signal in (self._plot.getViewBox().sigRangeChanged,
                       self._plot.getViewBox().sigResized):
            signal.connect(self._keep_message_in)
        self._worker = SliceWorker(self)
        self._worker.grid_ready.connect(self._on_grid)
        self._worker.failed.connect(self._on_failed)
        self._combo_a.activated.connect(self._on_pick)
        self._combo_b.activated.connect(self._on_pick)
        self._refresh.clicked.connect(self.refresh_slice)
        self._show_message("start a run to see its error surface")

    # ----- public extras ------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, str]:
        """The two parameters on the axes (("w1", "b") for the exact 1-day surface)."""
        return self._names

    @property
    def is_exact(self) -> bool:
        return self._exact

    @property
    def slice_worker(self) -> SliceWorker:
        return self._worker

    def choose(self, a: str, b: str) -> None:
        """Slice through parameters a and b (as if picked in the two boxes)."""
        self._set_combo(self._combo_a, a)
        self._set_combo(self._combo_b, b)
        self._on_pick()

    def set_reference_path(self, path: np.ndarray | None, label: str = "") -> None:
        """Draw `path` ((n, 2) in the axes' parameters) dashed beside the live path, labeled
        at its end; None removes it. Kept across frames until replaced."""
        if path is None or len(path) == 0:
            self._reference.setData([], [])
            self._reference.hide()
            self._reference_label.hide()
            return
        p = np.asarray(path, dtype=np.float64)
        self._reference.setData(p[:, 0], p[:, 1])
        self._reference.show()
        self._reference_label.setText(label)
        self._reference_label.setPos(float(p[-1, 0]), float(p[-1, 1]))
        self._reference_label.setVisible(bool(label))

    def set_path_numbers(self, count: int) -> None:
        """Write the update number beside each of the path's first `count` dots on the
        surface (0: none): a too-large η's jumps read 0, 1, 2 ... from side to side."""
        self._numbered = max(0, int(count))
        item = self._plot.getPlotItem()
        while len(self._numbers) < self._numbered:
            label = text_item(self.theme, "", anchor=(0.5, 1.3))
            label.setZValue(8)
            item.addItem(label, ignoreBounds=True)
            self._numbers.append(label)
        self._style_numbers()
        for label in self._numbers[self._numbered:]:
            label.hide()

    def path_numbers(self) -> list[tuple[str, float, float]]:
        """The update numbers written now: (text, a, b) each."""
        return [(lab.textItem.toPlainText(), lab.pos().x(), lab.pos().y())
                for lab in self._numbers if lab.isVisible()]

    def reference_path(self) -> np.ndarray | None:
        """The reference path drawn now, or None."""
        if not self._reference.isVisible() or self._reference.xData is None:
            return None
        return np.column_stack([self._reference.xData, self._reference.yData])

    def local_minimum_marks(self) -> list[tuple[float, float, str]]:
        """The local minima marked on the slice now: (a, b, label text)."""
        x, y = self._local.getData()
        text = self._local_label.textItem.toPlainText() if self._local_label.isVisible() else ""
        return [(float(a), float(b), text) for a, b in zip(x, y, strict=True)]

    @property
    def holding_slice(self) -> bool:
        """True after a click: the slice stays until Refresh or a new run."""
        return self._hold_slice

    def refresh_slice(self) -> None:
        """Recompute the slice at the newest parameters."""
        self._hold_slice = False
        if not self._exact and self._last_snap is not None:
            if self.kind == "named":
                self._start_slice(self._last_snap)
            else:
                self._start_landscape(self._last_snap)

    # ----- View interface -----------------------------------------------------------------
    def shutdown(self) -> None:
        self._worker.close()

    def busy(self) -> bool:
        return self._worker.is_running()

    def _on_run(self) -> None:
        cfg, data = self._config, self._data
        assert cfg is not None
        self._worker.stop()
        self._surface = None
        self._box = None
        self._slice_params = None
        self._last_snap = None
        self._hold_slice = False
        self._show_local([])
        # MAE is in the data unit ("0.48k"); MSE in its square, shown as a plain number.
        self._fmt = getattr(data, "fmt", plain_fmt) if cfg.loss == "mae" else compact
        self._bar_label = "MAE" if cfg.loss == "mae" else f"MSE ({data.unit or 'value'}²)"
        self._style_bar_label()
        self._clear_items()
        self._image.clear()
        self._contours.setData([], [])
        self._star.setData([], [])
        self._exact = cfg.is_linear and cfg.days == 1
        # a slice's note wraps only where its data area keeps NOTE_DATA_LEAST px
        self._note.share_height_with(None if self._exact else self._plot)
        self._keep_note_room()
        unit = f" ({data.suffix} {data.unit})" if getattr(data, "suffix", "") else ""
        if self._exact:
            self._pickers.hide()
            self._names = ("w1", "b")
            # the loss first: a narrow dock cuts a title's end
            self._set_title(f"{cfg.loss.upper()} error surface L(w, b): 1-day linear model")
            self._plot.setLabel("bottom", "w")
            self._plot.setLabel("left", f"b{unit}")
            surf = surface.linear_surface(data.x_train[:, 0], data.y_train, cfg.loss, n=200,
                                          scale=data.scale)
            self._surface = surf
            self._show_grid(surf.w, surf.b, surf.loss)
            self._star.setData([surf.w_star], [surf.b_star])
            self._note.setText(
                f"★ global minimum L = {self._fmt(surf.loss_star)} at w = {surf.w_star:.2f}, "
                f"b = {surf.b_star * data.scale:,.0f} {data.unit}.  Click to start there.")
            self._hide_message()
            self._landscape_run(False, 0)
            return
        self._pickers.show()
        choices = _pickable(self._param_names)
        a, b = models.default_track(cfg.model)   # what the trainer tracks from update 0
        for combo, default in ((self._combo_a, a), (self._combo_b, b)):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(choices)
            combo.blockSignals(False)
            self._set_combo(combo, default)
        self._names = (a, b)
        self._label_slice()
        self._show_message("computing slice...")
        self.track_requested.emit(a, b)
        self._landscape_run(not cfg.is_linear, len(self._param_names))

    def update_config(self, config: RunConfig) -> None:
        """The same run with another loss: the new loss's surface, through the same two
        parameters the user picked."""
        names = self._names
        super().update_config(config)
        if not self._exact and names != self._names:
            self.choose(*names)

    def _draw(self, snap: Snapshot) -> None:
        self._last_snap = snap
        if not self._exact and self._landscape_draw(snap):
            return
        a_name, b_name = self._names
        try:
            a = models.get_scalar(snap.params, a_name)
            b = models.get_scalar(snap.params, b_name)
            da = models.get_scalar(snap.step, a_name) if snap.step else 0.0
            db = models.get_scalar(snap.step, b_name) if snap.step else 0.0
        except (ValueError, KeyError, IndexError):
            return
        inside = self._inside(a, b)
        if inside:
            set_curve(self._current, [a], [b])
        else:
            set_curve(self._current, [], [])
        on_path = tuple(snap.track) == self._names or (
            self._exact and tuple(snap.track) in (("w", "b"), ("w1", "b")))
        if on_path and len(snap.path):
            px, py, clipped = self._clip_path(snap.path)
            self._path_drawn = (px, py, clipped)
            self._show_path()
            self._draw_dots(px, py)
        else:
            self._path_drawn = None
            self._path.setData([], [])
            set_curve(self._dots, [], [])
        if inside:
            self._draw_arrow(a, b, da, db)
        else:
            self._draw_arrow(0.0, 0.0, 0.0, 0.0)
        if self._exact:
            self._show_explained(snap.explained if inside and snap.replay_of is not None
                                 else None)
        self._show_diverged(bool(snap.diverged) or not inside)
        if not self._exact:
            self._frames += 1
            if self._slice_params is None:
                if not self._worker.is_running():
                    self._start_slice(snap)
            elif not self._hold_slice and self._slice_due(snap):
                self._start_slice(snap)

    def set_paused(self, paused: bool) -> None:
        """The window's run paused or playing again. Paused, the surface is sliced (or the
        landscape computed) at the parameters shown, as for a finished run: the lecturer
        talks over this picture, and while training it was only redone when the run had
        moved far (a 3 x 100 ReLU paused at update 431 showed the slice of update 363)."""
        if paused == self._paused:
            return
        self._paused = paused
        snap = self._last_snap
        if not paused or snap is None or self._exact or self._slice_params is None:
            return
        if self.kind == "named":
            if not self._hold_slice and self._moved_far(snap):
                self._start_slice(snap)
        elif self._moved_far(snap):
            self._start_landscape(snap)

    def _slice_due(self, snap: Snapshot) -> bool:
        """Whether this frame's snapshot gets a new slice: every RECHECK_FRAMES frames
        while the run trains, and at once when it has stopped (finished, or paused and
        drawing its own live state, not a replayed moment), if it has moved far from the
        slice (`_moved_far`)."""
        return (self._stopped(snap) or self._frames % RECHECK_FRAMES == 0) \
            and self._moved_far(snap)

    def _stopped(self, snap: Snapshot) -> bool:
        return snap.done or (self._paused and snap.replay_of is None)

    def _show_explained(self, e: StepExplained | None) -> None:
        """A replayed moment's update: −η∇L from the point, the optimizer's own part from
        its tip and the step taken, its numbers in the note's place under the plot. Plain
        full-batch GD steps by −η∇L: its one arrow (`_draw_arrow`) says it, as live."""
        vb = self._plot.getViewBox()
        items = (self._grad_arrow, self._extra_arrow, self._taken_arrow)
        same = e is not None and e.taken is not None and bool(
            np.allclose(e.taken, e.gradient_step, rtol=1e-6, atol=0.0))
        if e is None or same:
            for it in items:
                set_curve(it, [], [])
        else:
            self._draw_arrow(0.0, 0.0, 0.0, 0.0)
            gdw, gdb = e.gradient_step
            extra, taken = e.extra, e.taken
            set_arrow(self._grad_arrow, vb, e.w, e.b, gdw, gdb)
            if extra is None:
                set_curve(self._extra_arrow, [], [])
            else:
                set_arrow(self._extra_arrow, vb, e.w + gdw, e.b + gdb, extra[0], extra[1])
            if taken is None:
                set_curve(self._taken_arrow, [], [])
            else:
                set_arrow(self._taken_arrow, vb, e.w, e.b, taken[0], taken[1])
        if e is None:
            self._end_explained()
            return
        note, label = self._note, self._explain
        if not label.isVisible():
            label.setFixedHeight(max(note.height(), 1))
            note.hide()
            label.show()
        text = self._fit_label(step_line(e), max(note.width(), label.width()),
                               label.height())
        if label.text() != text:
            label.setText(text)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._keep_note_room()

    def _keep_note_room(self) -> None:
        """Lines under the 1-day surface's plot for its note or a replay's numbers, as
        many as the view's height allows (`NOTE_LINES`); kept live and in a replay
        alike, so a replay starting never changes the plot's size. (Wrapped or one line:
        the note itself, `NoteLabel.fit`.)"""
        note = self._note
        lines = next((n for least, n in NOTE_LINES if self.height() >= least), 1) \
            if self._exact else 1
        margins = note.contentsMargins()
        least = lines * note.fontMetrics().lineSpacing() + margins.top() + margins.bottom()
        if note.minimumHeight() != least:
            note.setMinimumHeight(least)

    def _end_explained(self) -> None:
        """The note again in its own place (a replay ended)."""
        if self._explain.isVisible():
            self._explain.hide()
            self._note.show()

    def _fit_label(self, text: str, width: int, height: int) -> str:
        """Set the replay label to the most of `text` that fits `width` x `height` pixels:
        the whole text, without its note, or its first line, each in the theme's size,
        less one, less three, or 8 pt (the sizes it had over the plot); else the first
        line cut short. The last answer is kept (a paused replay costs nothing)."""
        key = (text, width, height, self.theme.name)
        if key == self._fitted[0]:
            return self._fitted[1]
        label = self._explain
        margins = label.contentsMargins()
        inner = max(width - margins.left() - margins.right() - 8, 20)   # padding 0 4px
        room = height - margins.top() - margins.bottom()
        lines = text.split("\n")
        pt = self.theme.font_pt
        font = label.font()
        fitted = ""
        for candidate in dict.fromkeys(["\n".join(lines), "\n".join(lines[:2]), lines[0]]):
            for size in sorted({pt, max(pt - 1, 8), max(pt - 3, 8), 8}, reverse=True):
                font.setPointSize(size)
                box = QFontMetrics(font).boundingRect(
                    QRect(0, 0, inner, 10**6), int(Qt.TextFlag.TextWordWrap), candidate)
                if box.height() <= room:
                    fitted = candidate
                    break
            if fitted:
                break
        if not fitted:
            font.setPointSize(pt)
            fitted = QFontMetrics(font).elidedText(lines[0], Qt.TextElideMode.ElideRight,
                                                   inner)
        label.setFont(font)
        self._fitted = (key, fitted)
        return fitted

    @property
    def explanation_text(self) -> str:
        """The replayed update's numbers shown under the surface ("" when none are)."""
        return self._explain.text() if self._explain.isVisible() else ""

    def _clear_items(self) -> None:
        if self._diverged_shown:
            self._diverged_shown = False
            self._hide_message()
        self._path_drawn = None
        self._path.setData([], [])
        set_curve(self._dots, [], [])
        for label in self._numbers:
            label.hide()
        set_curve(self._current, [], [])
        self._arrow_line.setData([], [])
        for it in (self._grad_arrow, self._extra_arrow, self._taken_arrow):
            set_curve(it, [], [])
        self._end_explained()

    def _restyle(self) -> None:
        t = self.theme
        self._keep_note_room()    # the theme's font: its lines' height
        style_colour_bar(self._bar, t)
        self._style_bar_label()
        self._fit_bar_ticks()
        contour = pg.mkColor(t.foreground)
        contour.setAlpha(110)
        self._contours.setPen(pg.mkPen(contour, width=max(1.0, t.line_width / 2)))
        segmented(self._path, t.pen(t.path))
        self._dots.setSize(t.point_size + 3)
        self._dots.setPen(None)
        self._dots.setBrush(t.brush(t.path))
        self._style_numbers()
        self._curve.setPen(t.pen(t.estimate, t.line_width + 1))
        size = 3 * t.point_size + 6
        self._star.setSymbol("star")
        self._star.setSize(size)
        self._star.setPen(t.pen(t.background, 1.5))
        self._star.setBrush(t.brush(t.minimum))
        self._local.setSize(2 * t.point_size + 6)
        self._local.setPen(t.pen(t.background, 1.5))
        self._local.setBrush(t.brush(t.warning))
        self._style_label(self._local_label, 200)
        self._current.setSize(2 * t.point_size + 4)
        self._current.setPen(t.pen(t.background, 1.5))
        self._current.setBrush(t.brush(t.current))
        self._arrow_line.setPen(t.pen(t.arrow, t.line_width + 0.5))
        self._grad_arrow.setPen(t.pen(t.arrow, t.line_width + 0.5))
        self._taken_arrow.setPen(t.pen(t.path, t.line_width))
        self._fitted = (None, "")
        self._extra_arrow.setPen(t.pen(t.current, t.line_width,
                                       style=pg.QtCore.Qt.PenStyle.DashLine))
        self._reference.setPen(t.pen(t.estimate, t.line_width,
                                     style=pg.QtCore.Qt.PenStyle.DashLine))
        # on a box of the background, as the other labels over the surface: seen under
        # Xvfb (lecture step 19), "full batch" in the estimate's blue sat on the white
        # mini-batch path and could not be read
        self._style_label(self._reference_label, 200)
        self._reference_label.setColor(t.estimate)
        self._message.setColor(t.foreground)
        back = pg.mkColor(t.background)
        back.setAlpha(210)
        self._message.fill = pg.mkBrush(back)   # readable over any part of the heat map
        font = self._message.textItem.font()
        font.setPointSize(t.title_pt)
        self._message.setFont(font)
        self._keep_message_in()      # the new font's width
        if self._surface is not None:   # the new colours; the view stays where it was
            self._show_grid(*_grid_arrays(self._surface), frame=False)   # (a step's zoom)

    # ----- drawing helpers ----------------------------------------------------------------
    def _style_label(self, label: pg.TextItem, alpha: int, size_pt: int | None = None
                     ) -> None:
        """A label over the surface: the theme's text on its background (`alpha`
        opaque, readable over any part of the heat map), in the theme's size or
        `size_pt`."""
        t = self.theme
        label.setColor(t.foreground)
        back = pg.mkColor(t.background)
        back.setAlpha(alpha)
        label.fill = pg.mkBrush(back)
        font = label.textItem.font()
        font.setPointSize(size_pt or t.font_pt)
        label.setFont(font)

    def _style_numbers(self) -> None:
        t = self.theme
        back = pg.mkColor(t.background)
        back.setAlpha(200)
        for label in getattr(self, "_numbers", ()):
            label.setColor(t.foreground)
            label.fill = pg.mkBrush(back)
            font = label.textItem.font()
            font.setPointSize(t.font_pt)
            font.setBold(True)
            label.setFont(font)

    def _style_bar_label(self) -> None:
        # The bar is too narrow for an axis label beside its ticks (`style_colour_bar`):
        # the loss is named in the title and the tooltip instead.
        self._bar.setToolTip(f"{self._bar_label}: colour scale (log-like, so the valley shows)")

    def _fit_bar_ticks(self) -> None:
        """The bar's labels for its height now (`fit_bar_ticks`)."""
        fit_bar_ticks(self._bar, *self._bar_candidates)

    def _show_grid(self, a: np.ndarray, b: np.ndarray, loss: np.ndarray,
                   frame: bool = True) -> None:
        """Heat map (log-ish so the valley shows), contours computed once, colour bar;
        with `frame` the view shows the whole grid."""
        loss = np.asarray(loss, dtype=np.float64)
        finite = np.isfinite(loss)
        if not finite.any():
            self._show_message("the loss is not finite anywhere on this slice")
            return
        lo = float(loss[finite].min())
        hi = float(np.percentile(loss[finite], 99))
        delta = max(0.02 * (hi - lo), 1e-12 * max(abs(lo), 1.0))
        filled = np.where(finite, np.minimum(loss, hi), hi)
        if self.log_colours:
            v = np.log10(filled - lo + delta)
            levels = (math.log10(delta), math.log10(hi - lo + delta))
        else:
            v = filled
            levels = (lo, max(hi, lo + delta))
        da = (a[-1] - a[0]) / max(len(a) - 1, 1)
        db = (b[-1] - b[0]) / max(len(b) - 1, 1)
        self._image.setImage(v.T, autoLevels=False)
        self._image.setRect(QRectF(a[0] - da / 2, b[0] - db / 2, a[-1] - a[0] + da,
                                   b[-1] - b[0] + db))
        self._bar.setLevels(levels)
        self._bar_candidates = (loss_ticks(lo, hi, delta, self._fmt, self.log_colours),
                                levels)
        self._fit_bar_ticks()
        set_contours(self._contours, a, b, v, levels)
        self._box = (float(a[0]), float(a[-1]), float(b[0]), float(b[-1]))
        if frame:
            self._plot.getViewBox().setRange(xRange=(a[0], a[-1]), yRange=(b[0], b[-1]),
                                             padding=0)

    def _margin_box(self) -> tuple[float, float, float, float]:
        """The grid's extent plus one span on every side: where drawing still makes sense."""
        if self._box is None:   # no grid yet (a slice on its way): parameters are O(1-100)
            return (-FAR_PARAM, FAR_PARAM, -FAR_PARAM, FAR_PARAM)
        a0, a1, b0, b1 = self._box
        sa, sb = a1 - a0, b1 - b0
        return a0 - sa, a1 + sa, b0 - sb, b1 + sb

    def _inside(self, a: float, b: float) -> bool:
        box = self._margin_box()
        return box[0] <= a <= box[1] and box[2] <= b <= box[3]   # False for nan too

    def _clip_path(self, path: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """The path with points far off the grid (a diverged run's 1e100s) as NaN gaps."""
        px = np.array(path[:, 0], dtype=np.float64)
        py = np.array(path[:, 1], dtype=np.float64)
        box = self._margin_box()
        with np.errstate(invalid="ignore"):
            bad = ~((px >= box[0]) & (px <= box[1]) & (py >= box[2]) & (py <= box[3]))
        if bad.any():
            px[bad] = np.nan
            py[bad] = np.nan
            return px, py, True
        return px, py, False

    def _show_path(self, *_: object) -> None:
        """The live path as drawn: a long one with each of its segments drawn once to half
        a pixel (`thin_polyline`, for the points added since the last frame: `GrowingPath`),
        again at each zoom; not set again while it is the same.

        A converged run's path goes back and forth over the same few pixels at the
        minimum: the 1-day linear run's ~1,400 points cost ~1 ms a paint (measured on the
        bench's window), as much as each of the two loss curves. Short paths are drawn
        point for point.
        """
        drawn = self._path_drawn     # (a landscape kind's: its path on the plane)
        if drawn is None:
            return
        px, py, clipped = drawn
        connect: Any = "finite" if clipped else "all"
        if len(px) > PATH_DOTS:
            w, h = self._plot.getViewBox().viewPixelSize()
            if w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h):
                (px, py, connect), changed = self._growing.thin(px, py, w / 2, h / 2)
                if not changed and self._path.xData is self._path_set:
                    return       # the same line as the item draws now
        self._path.setData(px, py, connect=connect)
        self._path_set = self._path.xData

    def _draw_dots(self, px: np.ndarray, py: np.ndarray) -> None:
        """Each update of a short path as a dot: a step that overshoots to the other side
        of the valley reads as a jump, not as one line drawn over itself."""
        if len(px) > PATH_DOTS:
            set_curve(self._dots, [], [])    # (emptied again: nothing, see `set_curve`)
            return
        ok = np.isfinite(px) & np.isfinite(py)
        set_curve(self._dots, px[ok], py[ok])
        if not self._numbered:
            return
        if self._box is not None:
            a0, a1, b0, b1 = self._box
            with np.errstate(invalid="ignore"):
                ok &= (px >= a0) & (px <= a1) & (py >= b0) & (py <= b1)
        out = np.flatnonzero(~ok)
        shown = np.arange(min(self._numbered, int(out[0]) if len(out) else len(ok)))
        for k, label in enumerate(self._numbers[:self._numbered]):
            if k < len(shown):
                i = int(shown[k])
                label.setText(str(i))
                # a number by the plot's edge is written inward, not cut in half: at the
                # diverging step's left edge an '8' read as '3'
                self._place_inward(label, float(px[i]), float(py[i]), 1.3)
                label.show()
                label.updateTransform(force=True)   # see _show_local
            else:
                label.hide()

    def _place_inward(self, label: pg.TextItem, x: float, y: float, anchor_y: float
                      ) -> None:
        """`label` at (x, y), centred on x, or from x inward where centred it would run
        past the plot's left or right edge (and be cut there); on the other side of y
        (`anchor_y` mirrored: under the point instead of over it, or over instead of
        under) where it would run past the bottom or the top edge and fits there. A local
        minimum by the bottom edge (a 1280 x 720 window) had its label cut in half."""
        vb = self._plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        px, py = vb.viewPixelSize()
        rect = label.boundingRect()
        half = 0.5 * rect.width() * px
        edge = 0.0 if x - half < x0 else 1.0 if x + half > x1 else 0.5
        anchor_y = inward_anchor_y(y, anchor_y, rect.height() * py, y0, y1)
        if (label.anchor.x(), label.anchor.y()) != (edge, anchor_y):
            label.setAnchor((edge, anchor_y))
        label.setPos(x, y)

    def path_dots(self) -> np.ndarray:
        """The dots drawn now, (n, 2) in the axes' parameters."""
        x, y = self._dots.getData()
        return np.column_stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])

    def _show_local(self, minima: list[tuple[float, float, float]]) -> None:
        """Mark a slice's local minima (◆), the lowest of them labelled with its loss."""
        if not minima:
            set_curve(self._local, [], [])
            self._local_label.hide()
            return
        set_curve(self._local, [m[0] for m in minima], [m[1] for m in minima])
        a, b, loss = minima[0]
        self._local_label.setText(f"local minimum L = {self._fmt(loss)}")
        # written inward by the plot's edge: centred, a 1280 x 720 window cut it at the right
        self._place_inward(self._local_label, a, b, LOCAL_LABEL_ANCHOR_Y)
        self._local_label.show()
        # a TextItem set up while the view had another range keeps that scale until it is
        # painted, and is never painted while that scale puts it off screen
        self._local_label.updateTransform(force=True)

    def _show_diverged(self, on: bool) -> None:
        if on == self._diverged_shown:
            return
        self._diverged_shown = on
        if on:
            self._show_message("diverged: the steps left the surface; "
                               "lower the learning rate", corner=True)
        else:
            self._hide_message()

    def _draw_arrow(self, a: float, b: float, da: float, db: float) -> None:
        """The live step −η∇L (or the optimizer's step) from the current point, drawn as
        the race's and a replayed moment's arrows are; a huge step up to the margin."""
        set_arrow(self._arrow_line, self._plot.getViewBox(), a, b, da, db,
                  clip=self._margin_box())

    def _show_message(self, text: str, corner: bool = False) -> None:
        """Centred (computing...) or in a corner clear of the path and the star."""
        self._message.setText(text)
        self._message_centred = not corner
        self._wrap_message()
        if corner:
            anchor, pos = self._free_corner()
            self._message.setAnchor(anchor)
            self._message.setPos(*pos)
        else:
            self._message.setAnchor((0.5, 0.5))
            self._centre_message()
        self._message.show()

    def _wrap_message(self) -> None:
        """The message on as many lines as the data area's width needs: on one line the
        placeholder ran off a 330 px dock's plot (a 1280 x 720 screen, a start's first
        second)."""
        item = self._message.textItem
        item.setTextWidth(-1)
        room = self._plot.getViewBox().width() - 2 * MESSAGE_MARGIN
        if room > 0 and item.boundingRect().width() > room:
            item.setTextWidth(room)
        self._message.updateTextPos()

    def _centre_message(self) -> None:
        (x0, x1), (y0, y1) = self._plot.getViewBox().viewRange()
        self._message.setPos(0.5 * (x0 + x1), 0.5 * (y0 + y1))

    def _keep_message_in(self, *_: object) -> None:
        """A centred message stays whole and centred as the data area is resized or its
        range set (the range given to an empty plot changes after the message is shown)."""
        if self._message.isVisible() and self._message_centred:
            self._wrap_message()
            self._centre_message()

    def _free_corner(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(anchor, position) of the message in the corner of the plot whose box holds
        the fewest of the path's dots, update numbers and the star, the top-left one
        first: at the diverging step (1280 x 720, projector) the top-left message lay
        over the numbers 0, 2, 4, 6 its caption talks about."""
        vb = self._plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        px, py = vb.viewPixelSize()
        rect = self._message.boundingRect()
        w, h = rect.width() * px, rect.height() * py
        pad_x, pad_y = 2.0 * rect.height() * px, h      # a number beside or above its dot
        star_x, star_y = self._star.getData()
        pts = np.vstack([self.path_dots().reshape(-1, 2),
                         np.array([(a, b) for _, a, b in self.path_numbers()]).reshape(-1, 2),
                         np.column_stack([star_x, star_y]).astype(float).reshape(-1, 2)])
        mx, my = 0.02 * (x1 - x0), 0.02 * (y1 - y0)

        def covered(ax: float, ay: float) -> int:
            x = x0 + mx if ax == 0.0 else x1 - mx
            y = y1 - my if ay == 0.0 else y0 + my
            left, bottom = x - ax * w, y - (1.0 - ay) * h
            return int(((pts[:, 0] > left - pad_x) & (pts[:, 0] < left + w + pad_x)
                        & (pts[:, 1] > bottom - pad_y) & (pts[:, 1] < bottom + h + pad_y)).sum())

        ax, ay = min(((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)),
                     key=lambda c: covered(*c))
        return (ax, ay), (x0 + mx if ax == 0.0 else x1 - mx, y1 - my if ay == 0.0 else y0 + my)

    def _hide_message(self) -> None:
        self._message.hide()

    # ----- slices -------------------------------------------------------------------------
    def _label_slice(self, update: int | None = None) -> None:
        a, b = self._names
        at = "the current parameters" if update is None else f"the parameters of update {update:,}"
        loss = self._config.loss.upper() if self._config is not None else "loss"
        self._set_title(f"Error surface ({loss}): slice through {a}, {b} at the current "
                        "parameters")
        self._plot.setLabel("bottom", a)
        self._plot.setLabel("left", b)
        self._note.setText(f"Slice through {a}, {b} at {at}: every other parameter is held "
                           "fixed, so this is a cut through the surface, not all of it.")

    def _start_slice(self, snap: Snapshot) -> None:
        cfg, data = self._config, self._data
        if cfg is None or data is None:
            return
        path = snap.path if tuple(snap.track) == self._names else None
        try:
            centers, spans = slice_window(snap.params, self._names, path)
        except ValueError as exc:
            self._show_message(str(exc))
            return
        self._slice_params = _flat(snap.params)
        self._slice_update = snap.update
        self._slice_loss = float(snap.train_loss)
        self._worker.start(model=cfg.model, params=snap.params, x=data.x_train, y=data.y_train,
                           loss=cfg.loss, names=self._names, centers=centers, spans=spans,
                           n=41 if cfg.model != "linear" else 80, coarse=13, scale=data.scale)

    def _on_grid(self, token: int, piece: Any) -> None:
        if token != self._worker.token or self._exact:
            return
        if isinstance(piece, LivePiece):
            self._on_landscape_piece(piece)
            return
        if self.kind != "named" or tuple(piece.names) != self._names:
            return
        self._surface = piece
        self._show_grid(piece.a1, piece.a2, piece.loss)
        a_min, b_min, _ = piece.min_at
        self._star.setData([a_min], [b_min])
        self._hide_message()
        self._diverged_shown = False
        self._label_slice(self._slice_update)
        self._note.setText(self._note.text() + f"  ★ lowest point on this slice: "
                           f"{self._fmt(piece.min_at[2])}.")
        others = local_minima(piece)[1:] if piece.complete else []
        self._show_local(others)
        if others:
            self._note.setText(self._note.text() + f"  ◆ local minimum: "
                               f"{self._fmt(others[0][2])}; click it to descend from there.")
        if not piece.complete:
            self._note.setText(self._note.text() + "  (coarse preview, refining...)")

    def _on_failed(self, token: int, message: str) -> None:
        if token == self._worker.token:
            self._show_message(message)

    def _moved_far(self, snap: Snapshot) -> bool:
        """True when the slice no longer describes where the run is: the loss changed by
        over 10%, the parameters moved far, or the run ended (or paused) somewhere else."""
        if self._slice_params is None:
            return True
        if snap.update == self._slice_update:
            return False
        if self._stopped(snap) and not snap.diverged:
            return True
        ref = self._slice_loss
        if np.isfinite(snap.train_loss) and abs(snap.train_loss - ref) > 0.1 * abs(ref):
            return True
        now = _flat(snap.params)
        if now.shape != self._slice_params.shape or not np.isfinite(now).all():
            return False
        dist = float(np.linalg.norm(now - self._slice_params))
        return dist > 0.25 * (float(np.linalg.norm(self._slice_params)) + 1e-3)

    def _on_pick(self, *_: Any) -> None:
        a, b = self._combo_a.currentText(), self._combo_b.currentText()
        if not a or not b or a == b or (a, b) == self._names:
            return
        self._names = (a, b)
        self._on_pick_named()

    def _on_pick_named(self) -> None:
        """Show the slice through the two named parameters (new pick or kind)."""
        a, b = self._names
        self._worker.stop()
        self._surface = None
        self._box = None
        self._slice_params = None
        self._hold_slice = False
        self._show_local([])
        self._image.clear()
        self._contours.setData([], [])
        self._star.setData([], [])
        self._clear_items()
        self._label_slice()
        self._show_message("computing slice...")
        self.track_requested.emit(a, b)
        if self._last_snap is not None:
            self._start_slice(self._last_snap)

    def _on_click(self, ev: Any) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or self._config is None \
                or self.kind != "named":
            return
        vb = self._plot.getViewBox()
        pos = ev.scenePos()
        if not vb.sceneBoundingRect().contains(pos):
            return
        p = vb.mapSceneToView(pos)
        ev.accept()
        if not self._exact:
            # Descent from the click is drawn on the slice it was started on: the slice is
            # kept (Refresh slice recomputes it at the parameters reached).
            self._hold_slice = True
        self.start_requested.emit(float(p.x()), float(p.y()))

    @staticmethod
    def _set_combo(combo: QComboBox, text: str) -> None:
        i = combo.findText(text)
        if i < 0:
            combo.addItem(text)
            i = combo.count() - 1
        combo.setCurrentIndex(i)


def set_contours(item: Any, a: np.ndarray, b: np.ndarray, v: np.ndarray,
                 levels: tuple[float, float], n: int = N_CONTOURS) -> None:
    """Draw n contour lines of v (rows over b, columns over a) evenly between `levels`
    into one PlotCurveItem (line ends disconnected)."""
    xs, ys, conn = [], [], []
    gen = contourpy.contour_generator(x=a, y=b, z=v)
    for level in np.linspace(*levels, n + 2)[1:-1]:
        for line in gen.lines(level):
            if len(line) < 2:
                continue
            xs.append(line[:, 0])
            ys.append(line[:, 1])
            c = np.ones(len(line), dtype=bool)
            c[-1] = False
            conn.append(c)
    if xs:
        item.setData(np.concatenate(xs), np.concatenate(ys), connect=np.concatenate(conn))
    else:
        item.setData([], [])


def _pickable(names: list[str]) -> list[str]:
    """The parameters offered in the pickers: all of them, or the most telling first few."""
    if len(names) <= MAX_CHOICES:
        return list(names)
    first = [n for n in names if n == "b" or n.startswith("c[")][:100]
    hidden = [n for n in names if n.startswith("b1[")][:80]
    weights = [n for n in names if n.startswith("W1[")][:MAX_CHOICES - len(first) - len(hidden)]
    return first + hidden + weights


def _flat(params: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in params.values()])


def _grid_arrays(s: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return s.a1, s.a2, s.loss
