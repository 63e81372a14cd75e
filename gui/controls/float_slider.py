"""One number on a slider, with its name and its value as text: the app's float slider.

Used by the curve builder (a piece's c, b, w and the constant: the range grows to fit any
value a fit reaches) and by the lecture's w / b sliders (a fixed range, the value shown in
the data's unit). The learning rate has its own log-scale slider (number_controls.py).
superqt's QLabeledDoubleSlider was weighed: its label is an editable spin box with fixed
decimals, which fits neither a "b = 1,234 views" label nor the builder's 3-significant-
digit one, so this stays a small QSlider wrapper.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QWidget

STEPS = 1000


def short_number(v: float) -> str:
    """Three significant digits, or scientific notation for big numbers."""
    return f"{v:.3g}" if abs(v) < 1e4 else f"{v:.2e}"


class FloatSlider(QWidget):
    """A float on an integer QSlider of `steps` positions over [lo, hi].

    `grow=True`: a value set from outside beyond the range widens it symmetrically about 0
    (the builder's pieces); `grow=False`: the slider clamps it (the lecture's w / b)."""

    value_changed = Signal(float)

    def __init__(self, name: str, lo: float, hi: float, value: float, *,
                 steps: int = STEPS, grow: bool = True,
                 fmt: Callable[[float], str] = short_number,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._lo, self._hi = float(lo), float(hi)
        self._value = float(value)
        self._steps, self._grow, self._fmt = int(steps), grow, fmt
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(6)
        self.name_label = QLabel(name)
        self.name_label.setMinimumWidth(24)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, self._steps)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.text = QLabel()
        self.text.setMinimumWidth(64)
        self.text.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(self.name_label)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.text)
        self.set_value(value)
        self.slider.valueChanged.connect(self._on_slider)

    @property
    def value(self) -> float:
        return self._value

    @property
    def range(self) -> tuple[float, float]:
        return self._lo, self._hi

    def set_range(self, lo: float, hi: float) -> None:
        self._lo, self._hi = float(lo), float(hi)
        self.set_value(self._value)

    def set_format(self, fmt: Callable[[float], str]) -> None:
        """How the value reads beside the slider (e.g. in the data's unit)."""
        self._fmt = fmt
        self.text.setText(fmt(self._value))

    def set_value(self, value: float) -> None:
        """Show `value` (no signal); outside the range it widens it or is clamped."""
        v = float(value)
        if not math.isfinite(v):
            return
        if self._grow and not self._lo <= v <= self._hi:
            reach = max(abs(self._lo), abs(self._hi), 1.25 * abs(v))
            self._lo, self._hi = min(self._lo, -reach), max(self._hi, reach)
        elif not self._grow:
            v = min(max(v, self._lo), self._hi)
        self._value = v
        pos = round((v - self._lo) / (self._hi - self._lo) * self._steps)
        self.slider.blockSignals(True)
        self.slider.setValue(int(pos))
        self.slider.blockSignals(False)
        self.text.setText(self._fmt(v))

    def set_position(self, pos: int) -> None:
        """Move the slider as a hand would (emits `value_changed`)."""
        self.slider.setValue(int(pos))

    def _on_slider(self, pos: int) -> None:
        self._value = self._lo + (self._hi - self._lo) * pos / self._steps
        self.text.setText(self._fmt(self._value))
        self.value_changed.emit(self._value)
