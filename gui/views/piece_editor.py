"""One piece of the curve builder's model: its colour, kind, remove button and c, b, w sliders.

A piece is c * act(b + w x1) (core.pieces.Piece); the editor shows it and emits `changed`
when a hand moves a slider, so the builder redraws the sum.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.pieces import Piece
from gui.controls.float_slider import FloatSlider

SLIDER_STEPS = 1000


class PieceEditor(QFrame):
    """A piece's colour, kind, remove button and its c, b, w sliders."""

    changed = Signal()
    remove_requested = Signal()

    def __init__(self, piece: Piece, color: str, ranges: dict[str, tuple[float, float]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pieceEditor")
        self.kind = piece.kind
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        head = QHBoxLayout()
        self.swatch = QLabel()
        self.swatch.setFixedSize(14, 14)
        self.label = QLabel()
        self.label.setWordWrap(True)    # a card never wider than its column: it wraps
        self.remove = QPushButton("✕")
        self.remove.setToolTip("remove this piece")
        self.remove.setFixedWidth(34)
        self.remove.clicked.connect(self.remove_requested)
        head.addWidget(self.swatch)
        head.addWidget(self.label, 1)
        head.addWidget(self.remove)
        lay.addLayout(head)
        self.sliders: dict[str, FloatSlider] = {}
        for name, tip in (("c", "height"), ("b", "shift"), ("w", "slope")):
            s = FloatSlider(name, *ranges[name], getattr(piece, name), steps=SLIDER_STEPS)
            s.setToolTip(f"{name}: {tip}")
            s.value_changed.connect(self.changed)
            self.sliders[name] = s
            lay.addWidget(s)
        self.set_color(color)

    def set_color(self, color: str) -> None:
        self.color = color
        self.swatch.setStyleSheet(f"background: {color}; border-radius: 3px;")

    def set_title(self, index: int) -> None:
        fn = "max(0, b + w x₁)" if self.kind == "relu" else \
            ("hard sigmoid(b + w x₁)" if self.kind == "hard-sigmoid" else "sigmoid(b + w x₁)")
        self.label.setText(f"{index}. c · {fn}")

    def one_line_width(self) -> int:
        """The card's width with its title on one line (in its font now)."""
        self.ensurePolished()
        self.label.ensurePolished()
        head = self.layout().itemAt(0).layout()
        margins = self.layout().contentsMargins()
        text = self.label.fontMetrics().horizontalAdvance(self.label.text())
        return (margins.left() + margins.right() + 2 * self.frameWidth()
                + self.swatch.width() + text + self.remove.width()
                + 2 * max(head.spacing(), 0) + 2)

    def piece(self) -> Piece:
        s = self.sliders
        return Piece(self.kind, s["c"].value, s["b"].value, s["w"].value)

    def show_piece(self, piece: Piece) -> None:
        for name in ("c", "b", "w"):
            self.sliders[name].set_value(getattr(piece, name))
