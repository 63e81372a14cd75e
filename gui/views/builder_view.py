# Over 450 lines: one view; plot, pieces, corners and Fit share the model.
"""The curve builder: "red curve = constant + sum of pieces", seen rather than told.

A piecewise-linear target (corners draggable) and a model made of a constant plus pieces
c * act(b + w x1) the user adds, removes and moves with sliders. Each piece is drawn
faint, the constant dashed and their sum bold red, all redrawn on every slider move (only
`setData`). "Fit" runs `core.pieces.Fitter` a few steps per timer tick so the pieces glide
into place and the GUI stays responsive; "Exact" builds the lecture's construction (one
hard sigmoid per segment, or one ReLU per corner); "Target from data" smooths the current
run's x1 -> y scatter into corners. All the maths lives in `core.pieces`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.pieces import (
    Fitter,
    Piece,
    PiecewiseLinear,
    builder_from_state,
    evaluate,
    exact_pieces,
    from_data,
    model_sum,
    new_piece,
    zigzag,
)
from core.snapshot import Snapshot
from gui.controls.float_slider import FloatSlider, short_number
from gui.theme import DARK, Theme
from gui.views.base import FillsItsScroll, View, style_plot
from gui.views.piece_editor import SLIDER_STEPS, PieceEditor

MAX_PIECES = 12
GRID_POINTS = 400
FIT_POINTS = 200
FIT_CHUNK = 20          # gradient steps per timer tick
FIT_TICK_MS = 30
FIT_MAX_STEPS = 4000
FIT_LR = 0.05
LEGEND_MIN = (600, 380)   # plot size (px) below which the legend is hidden
SIDE_WIDTH = (270, 380)   # the pieces' column: least and most width (px)
KIND_TEXT = {"hard-sigmoid": "hard sigmoid", "sigmoid": "sigmoid", "relu": "ReLU"}
# piece colours: mid-tone, saturated, readable on the dark and on the white background
PALETTE = ("#2a9df4", "#e69500", "#1fae7a", "#9b6bff", "#e0457b", "#7a9a00",
           "#00a3b4", "#c46a2f", "#5b7cfa", "#b8860b", "#d45fd4", "#3f9f3f")


class BuilderView(FillsItsScroll, View):
    """Target curve, constant, pieces and their sum, live; Fit / Exact / Target from data."""

    title = "Curve builder: red curve = constant + sum of pieces"
    model_changed = Signal()
    fit_finished = Signal()

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self._target = zigzag()
        self._constant = 0.0
        self._editors: list[PieceEditor] = []
        self._piece_curves: list[pg.PlotDataItem] = []
        self._handles: list[pg.TargetItem] = []
        self._moving_handle = False
        self._fitter: Fitter | None = None
        self._fit_losses: list[float] = []
        self._fit_timer = QTimer(self)
        self._fit_timer.setInterval(FIT_TICK_MS)
        self._fit_timer.timeout.connect(self._fit_tick)

        body = QHBoxLayout()
        body.setSpacing(6)
        self._layout.addLayout(body, 1)
        self.plot = self._make_plot("x₁", "y")
        body.addWidget(self.plot, 1)
        body.addWidget(self._build_side())

        item = self.plot.getPlotItem()
        self._target_curve = pg.PlotDataItem()
        self._constant_curve = pg.PlotDataItem()
        self._sum_curve = pg.PlotDataItem()
        self._target_curve.setZValue(1)
        self._constant_curve.setZValue(2)
        self._sum_curve.setZValue(5)
        for it in (self._target_curve, self._constant_curve, self._sum_curve):
            item.addItem(it)
        self._legend_piece = pg.PlotDataItem()   # a legend sample only, never plotted
        self._legend = self._add_legend(self.plot, (10, 10))
        self._legend.addItem(self._target_curve, "target (drag the corners)")
        self._legend.addItem(self._constant_curve, "constant")
        self._legend.addItem(self._legend_piece, "pieces c·act(b + w x₁)")
        self._legend.addItem(self._sum_curve, "sum = constant + pieces")

        self._restyle()
        self.set_target(self._target, keep_model=False)
        self._start_model()

    # ----- layout ---------------------------------------------------------------------
    def _build_side(self) -> QWidget:
        side = self._side = QWidget()
        side.setMinimumWidth(SIDE_WIDTH[0])
        side.setMaximumWidth(SIDE_WIDTH[1])
        lay = QVBoxLayout(side)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)

        add_row = QHBoxLayout()
        self.kind_box = QComboBox()
        for kind, text in KIND_TEXT.items():
            self.kind_box.addItem(text, kind)
        self.add_button = QPushButton("+ Add piece")
        self.add_button.clicked.connect(lambda: self.add_piece())
        add_row.addWidget(self.kind_box, 1)
        add_row.addWidget(self.add_button)
        lay.addLayout(add_row)

        self.constant_slider = FloatSlider("const", -1.0, 1.0, 0.0, steps=SLIDER_STEPS)
        self.constant_slider.setToolTip("the constant b the pieces are added to")
        self.constant_slider.value_changed.connect(self._on_constant)
        lay.addWidget(self.constant_slider)

        self._pieces_box = QWidget()
        self._pieces_layout = QVBoxLayout(self._pieces_box)
        self._pieces_layout.setContentsMargins(0, 0, 0, 0)
        self._pieces_layout.setSpacing(4)
        self._pieces_layout.addStretch(1)
        scroll = self._pieces_scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._pieces_box)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        lay.addWidget(scroll, 1)

        buttons = QGridLayout()
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("gradient descent (Adam) on every c, b, w and the constant")
        self.fit_button.clicked.connect(self.toggle_fit)
        self.exact_button = QPushButton("Exact")
        self.exact_button.setToolTip("the lecture's construction: one hard sigmoid per "
                                     "segment (or one ReLU per corner if ReLU is chosen)")
        self.exact_button.clicked.connect(lambda: self.exact())
        self.data_button = QPushButton("Target from data")
        self.data_button.setToolTip("smooth the current run's x₁ → y scatter into corners "
                                    "(a zig-zag when there is no run)")
        self.data_button.clicked.connect(self.target_from_data)
        buttons.addWidget(self.fit_button, 0, 0)
        buttons.addWidget(self.exact_button, 0, 1)
        buttons.addWidget(self.data_button, 1, 0, 1, 2)
        lay.addLayout(buttons)
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        lay.addWidget(self.error_label)
        return side

    # ----- the model ------------------------------------------------------------------
    @property
    def target(self) -> PiecewiseLinear:
        return self._target

    @property
    def constant(self) -> float:
        return self._constant

    @property
    def pieces(self) -> list[Piece]:
        return [e.piece() for e in self._editors]

    @property
    def fitting(self) -> bool:
        return self._fit_timer.isActive()

    @property
    def grid(self) -> np.ndarray:
        """The x values the curves are drawn at."""
        return self._grid

    def error(self) -> float:
        """MSE between the sum and the target over the target's corners' span."""
        x = self._fit_x()
        return float(np.mean((model_sum(self._constant, self.pieces, x) - self._target(x)) ** 2))

    def drawn_sum(self) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._sum_curve.getData()
        return np.asarray(x), np.asarray(y)

    def drawn_pieces(self) -> list[np.ndarray]:
        return [np.asarray(c.getData()[1]) for c in self._piece_curves]

    def drawn_constant(self) -> np.ndarray:
        return np.asarray(self._constant_curve.getData()[1])

    def set_model(self, constant: float, pieces: Sequence[Piece]) -> None:
        """Replace the constant and all pieces (stops a running fit)."""
        self.stop_fit()
        self._set_model(constant, pieces)

    def _set_model(self, constant: float, pieces: Sequence[Piece]) -> None:
        pieces = list(pieces)[:MAX_PIECES]
        kinds_same = [e.kind for e in self._editors] == [p.kind for p in pieces]
        if not kinds_same:
            while self._editors:
                self._drop_editor(len(self._editors) - 1)
            for p in pieces:
                self._append_editor(p)
        else:
            for editor, p in zip(self._editors, pieces, strict=True):
                editor.show_piece(p)
        self._constant = float(constant)
        self.constant_slider.set_value(self._constant)
        self._redraw()

    def add_piece(self, kind: str | None = None) -> Piece | None:
        """A new piece of `kind` (default: the one chosen in the box) in the middle."""
        if len(self._editors) >= MAX_PIECES:
            self._note(f"at most {MAX_PIECES} pieces")
            return None
        self.stop_fit()
        kind = kind or str(self.kind_box.currentData())
        lo, hi = float(self._target.xs[0]), float(self._target.xs[-1])
        span = hi - lo
        # each new piece a little to the right of the previous one, so they do not overlap
        center = lo + span * (0.3 + 0.15 * (len(self._editors) % 4))
        height = 0.3 * self._y_span() if kind != "relu" else 0.15 * self._y_span()
        piece = new_piece(kind, center, span / 5, height)
        self._append_editor(piece)
        self._redraw()
        return piece

    def remove_piece(self, index: int) -> None:
        if not 0 <= index < len(self._editors):
            return
        self.stop_fit()
        self._drop_editor(index)
        self._redraw()

    def set_piece_param(self, index: int, name: str, value: float) -> None:
        """What a slider move does, from code (lecture steps, tests)."""
        self.stop_fit()
        self._editors[index].sliders[name].set_value(value)
        self._redraw()

    def set_constant(self, value: float) -> None:
        self.stop_fit()
        self.constant_slider.set_value(value)
        self._constant = self.constant_slider.value
        self._redraw()

    def exact(self, kind: str | None = None) -> None:
        """Replace the pieces by the exact construction for the current target."""
        kind = kind or str(self.kind_box.currentData())
        kind = "relu" if kind == "relu" else "hard-sigmoid"
        constant, pieces = exact_pieces(self._target, kind)
        if len(pieces) > MAX_PIECES:
            self._note(f"this target needs {len(pieces)} pieces; showing the first "
                       f"{MAX_PIECES}")
        self.set_model(constant, pieces)

    # ----- the target -----------------------------------------------------------------
    def set_target(self, target: PiecewiseLinear, keep_model: bool = True) -> None:
        """Show a new target: corners, drawing grid, slider ranges and the plot's range."""
        self._target = target
        lo, hi = float(target.xs[0]), float(target.xs[-1])
        pad = 0.12 * (hi - lo)
        self._grid = np.linspace(lo - pad, hi + pad, GRID_POINTS)
        self._build_handles()
        self._update_ranges()
        self._fit_view()
        if self._fitter is not None:
            self._fitter.target = target
        if keep_model:
            self._redraw()

    def move_corner(self, index: int, x: float, y: float) -> None:
        """Move one corner (kept between its neighbours), as dragging its handle does."""
        self._target = self._target.moved(index, x, y)
        handle = self._handles[index]
        self._moving_handle = True
        handle.setPos(float(self._target.xs[index]), float(self._target.ys[index]))
        self._moving_handle = False
        if self._fitter is not None:
            self._fitter.target = self._target
        self._redraw()

    def target_from_data(self) -> None:
        """Corners from the current run's x1 -> y (training unit); a zig-zag without one."""
        data = self._data
        target = zigzag()
        target_from_run = False
        try:
            if data is not None and getattr(data, "x_train", None) is not None:
                x = np.asarray(data.x_train)[:, 0]
                target = from_data(x, np.asarray(data.y_train), corners=8)
                target_from_run = True
        except (ValueError, IndexError) as exc:
            self._note(f"cannot make a target from this data ({exc}); using a zig-zag")
        self.stop_fit()
        self.set_target(target)
        self._start_model()
        self._label_axes(data if target_from_run else None)

    def _label_axes(self, data: Any) -> None:
        """Plain x1, y for a sketch; the data's training unit (e.g. "k views") for data."""
        unit = ""
        if data is not None:
            suffix, name = getattr(data, "suffix", ""), getattr(data, "unit", "")
            unit = f" ({suffix} {name})".replace("( ", "(") if (suffix or name) else ""
        item = self.plot.getPlotItem()
        for axis, text in (("bottom", "x₁"), ("left", "y")):
            item.getAxis(axis).setLabel(text + unit)
        style_plot(self.plot, self._theme)

    def _fit_x(self) -> np.ndarray:
        return np.linspace(self._target.xs[0], self._target.xs[-1], FIT_POINTS)

    def _y_span(self) -> float:
        span = float(np.ptp(self._target.ys))
        return span if span > 0 else max(1.0, abs(float(self._target.ys[0])))

    def _start_model(self) -> None:
        """A constant at the target's start and three hard sigmoids that do not fit yet."""
        lo, hi = float(self._target.xs[0]), float(self._target.xs[-1])
        span = hi - lo
        h = 0.3 * self._y_span()
        pieces = [new_piece("hard-sigmoid", lo + span * f, span / 5, h) for f in (0.3, 0.5, 0.7)]
        self.set_model(float(self._target.ys[0]), pieces)

    def _build_handles(self) -> None:
        item = self.plot.getPlotItem()
        for h in self._handles:
            item.removeItem(h)
        self._handles = []
        t = self._theme
        for i, (x, y) in enumerate(zip(self._target.xs, self._target.ys, strict=True)):
            h = pg.TargetItem(pos=(float(x), float(y)), size=int(t.point_size * 2.6),
                              symbol="o", movable=True)
            h.setZValue(8)
            self._style_handle(h)
            h.sigPositionChanged.connect(lambda handle, i=i: self._on_handle(i, handle))
            item.addItem(h)
            self._handles.append(h)

    def _style_handle(self, h: pg.TargetItem) -> None:
        t = self._theme
        h.setPen(t.pen(t.foreground, 2))
        h.setBrush(t.brush(t.background, 220))
        h.hoverPen = t.pen(t.accent, 3)
        h.hoverBrush = t.brush(t.accent, 120)

    def _on_handle(self, index: int, handle: pg.TargetItem) -> None:
        if self._moving_handle:
            return
        pos = handle.pos()
        self.move_corner(index, pos.x(), pos.y())

    def _update_ranges(self) -> None:
        ys = self._target.ys
        y_span = self._y_span()
        self.constant_slider.set_range(float(ys.min()) - y_span, float(ys.max()) + y_span)
        for editor in self._editors:
            for name, rng in self._ranges(editor.kind).items():
                editor.sliders[name].set_range(*rng)

    def _ranges(self, kind: str) -> dict[str, tuple[float, float]]:
        lo, hi = float(self._target.xs[0]), float(self._target.xs[-1])
        span = hi - lo
        c_max = 1.5 * self._y_span()
        w_max = 4 * abs(new_piece(kind, 0.0, span / 5, 1.0).w)
        b_max = w_max * max(abs(lo - span / 2), abs(hi + span / 2)) + 3.0
        return {"c": (-c_max, c_max), "b": (-b_max, b_max), "w": (-w_max, w_max)}

    def _fit_view(self) -> None:
        ys = self._target.ys
        y_pad = 0.25 * self._y_span()
        self.plot.setXRange(float(self._grid[0]), float(self._grid[-1]), padding=0)
        self.plot.setYRange(float(min(ys.min(), 0.0)) - y_pad, float(ys.max()) + y_pad,
                            padding=0)

    # ----- editors --------------------------------------------------------------------
    def _append_editor(self, piece: Piece) -> None:
        color = PALETTE[len(self._editors) % len(PALETTE)]
        editor = PieceEditor(piece, color, self._ranges(piece.kind))
        editor.changed.connect(self._on_slider)
        editor.remove_requested.connect(lambda e=editor: self.remove_piece(
            self._editors.index(e)))
        self._pieces_layout.insertWidget(len(self._editors), editor)
        self._editors.append(editor)
        curve = pg.PlotDataItem()
        curve.setZValue(3)
        self.plot.getPlotItem().addItem(curve)
        self._piece_curves.append(curve)
        self._renumber()

    def _drop_editor(self, index: int) -> None:
        editor = self._editors.pop(index)
        self._pieces_layout.removeWidget(editor)
        editor.setParent(None)
        editor.deleteLater()
        curve = self._piece_curves.pop(index)
        self.plot.getPlotItem().removeItem(curve)
        self._renumber()

    def _renumber(self) -> None:
        for i, (editor, curve) in enumerate(zip(self._editors, self._piece_curves,
                                                strict=True)):
            color = PALETTE[i % len(PALETTE)]
            editor.set_color(color)
            editor.set_title(i + 1)
            curve.setPen(self._theme.pen(color, self._theme.line_width * 0.8, alpha=190))
        self.add_button.setEnabled(len(self._editors) < MAX_PIECES)
        self._fit_side()

    def _fit_side(self) -> None:
        """The pieces' column as wide as a card with its title on one line, within
        SIDE_WIDTH (narrower, the title wraps). A card wider than the column was cut at
        its right edge, the scroll area having no horizontal bar (at 1280 x 720 in the
        projector theme: the remove buttons and the slider values half gone)."""
        bar = self._pieces_scroll.verticalScrollBar().sizeHint().width()
        widest = max((e.one_line_width() for e in self._editors), default=0)
        self._side.setMinimumWidth(min(max(SIDE_WIDTH[0], widest + bar + 2), SIDE_WIDTH[1]))

    def _on_slider(self) -> None:
        self.stop_fit()
        self._redraw()

    def _on_constant(self, value: float) -> None:
        self.stop_fit()
        self._constant = float(value)
        self._redraw()

    # ----- drawing --------------------------------------------------------------------
    def _redraw(self) -> None:
        x = self._grid
        pieces = self.pieces
        for curve, p in zip(self._piece_curves, pieces, strict=True):
            curve.setData(x, evaluate(p, x))
        self._constant_curve.setData(x, np.full(x.shape, self._constant))
        self._sum_curve.setData(x, model_sum(self._constant, pieces, x))
        self._target_curve.setData(x, self._target(x))
        self._show_error()
        self.legends_later()
        self.model_changed.emit()

    def _show_error(self) -> None:
        n = len(self._editors)
        state = ""
        if self._fitter is not None:
            state = f" · fitting, step {self._fitter.steps_done:,}"
        self.error_label.setText(
            f"{n} piece{'s' if n != 1 else ''} · mean squared error to the target "
            f"{short_number(self.error())}{state}")

    def _note(self, text: str) -> None:
        self.error_label.setText(text)

    def _restyle(self) -> None:
        t = self._theme
        lw = t.line_width
        self._target_curve.setPen(t.pen(t.foreground, lw * 2.6, alpha=70))
        self._constant_curve.setPen(t.pen(t.foreground, lw * 0.8, alpha=200,
                                          style=Qt.PenStyle.DashLine))
        self._sum_curve.setPen(t.pen(t.real, lw * 1.5))
        self._legend_piece.setPen(t.pen(PALETTE[0], lw * 0.8, alpha=190))
        for h in self._handles:
            self._style_handle(h)
        if self._editors:
            self._renumber()
        self.fit_button.setStyleSheet(
            f"QPushButton {{ background: {t.accent}; color: {t.background};"
            f" font-weight: bold; }}")
        self.setStyleSheet(f"QFrame#pieceEditor {{ border: 1px solid {t.grid};"
                           f" border-radius: 4px; }}")

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._fit_side()      # in the fonts of the theme and screen it shows in

    def resizeEvent(self, event: Any) -> None:
        """In a small dock the legend would cover the curves: show it only with room."""
        super().resizeEvent(event)
        size = self.plot.size()
        self._legend.setVisible(size.width() >= LEGEND_MIN[0] and size.height() >= LEGEND_MIN[1])

    # ----- fitting --------------------------------------------------------------------
    def toggle_fit(self) -> None:
        if self.fitting:
            self.stop_fit()
        else:
            self.start_fit()

    def start_fit(self) -> None:
        """Animate gradient descent on every c, b, w and the constant until it settles."""
        self.stop_fit()
        scale = max(self._y_span(), 1e-9)
        self._fitter = Fitter(self._constant, self.pieces, self._target, self._fit_x(),
                              lr=FIT_LR * max(1.0, scale / 4), method="adam",
                              max_step=max(1.0, scale))
        self._fit_losses = []
        self.fit_button.setText("Stop")
        self._fit_timer.start()

    def stop_fit(self) -> None:
        if self._fitter is None and not self._fit_timer.isActive():
            return
        self._fit_timer.stop()
        self._fitter = None
        self.fit_button.setText("Fit")
        self._show_error()
        self.fit_finished.emit()

    def _fit_tick(self) -> None:
        fitter = self._fitter
        if fitter is None:
            self._fit_timer.stop()
            return
        losses = fitter.run(FIT_CHUNK)
        self._fit_losses += losses
        self._set_model(fitter.constant, fitter.pieces)
        done = (not losses or not np.isfinite(losses[-1])
                or fitter.steps_done >= FIT_MAX_STEPS or self._settled())
        if done:
            self.stop_fit()

    def _settled(self) -> bool:
        """The loss is (near) zero or has stopped improving over the last ~400 steps."""
        h = self._fit_losses
        scale = self._y_span() ** 2
        if h and h[-1] < 1e-10 * scale:
            return True
        window = 400
        return len(h) > window and h[-window] - h[-1] < 1e-4 * max(h[-window], 1e-12)

    # ----- the View interface ---------------------------------------------------------
    def show_snapshot(self, snap: Snapshot) -> None:
        """The builder has its own model; training snapshots do not change it."""

    def _draw(self, snap: Snapshot) -> None:
        """Never called (see `show_snapshot`)."""

    def _on_run(self) -> None:
        self.data_button.setEnabled(True)

    def _clear_items(self) -> None:
        self.stop_fit()

    def shutdown(self) -> None:
        self.stop_fit()

    def busy(self) -> bool:
        return self.fitting

    def state(self) -> dict[str, Any]:
        """Everything the builder shows, as plain data (sessions, lecture steps)."""
        return {"target": {"xs": self._target.xs.tolist(), "ys": self._target.ys.tolist()},
                "constant": self._constant,
                "pieces": [{"kind": p.kind, "c": p.c, "b": p.b, "w": p.w}
                           for p in self.pieces]}

    def restore_state(self, state: dict[str, Any]) -> None:
        """The inverse of `state`; ValueError (nothing changed) for a malformed dict."""
        target, constant, pieces = builder_from_state(state)
        self.stop_fit()
        self.set_target(target, keep_model=False)
        self.set_model(constant, pieces)
        # pieces of one kind (the ReLU step's two ReLUs): "+ Add piece" and Exact make
        # that kind too, as the box then says, not the hard sigmoid it started with
        kinds = {p.kind for p in pieces}
        if len(kinds) == 1:
            self.kind_box.setCurrentIndex(self.kind_box.findData(kinds.pop()))
