"""Two compound knobs: a log-scale learning-rate slider with its exact number, and speed.

A learning rate spans eight orders of magnitude, so the slider moves in log10 steps while
the number beside it holds the exact value; each follows the other without echo loops.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

LR_MIN, LR_MAX = 1e-6, 10.0
LR_TICKS_PER_DECADE = 40

# Speeds in updates per second; the last position means "as fast as possible".
SPEEDS: tuple[float | None, ...] = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000,
                                    None)
# The default 1-day model (lr 0.03) comes within 5 % of its minimum in ~480 updates on the
# shipped channel data: ~5 s at 100 / s, a descent a class can watch (at 200 / s: 2.4 s).
DEFAULT_SPEED = 100.0


CRITICAL_COLOR = "#e53935"


class _MarkedSlider(QSlider):
    """A slider with one red mark across its groove (the critical learning rate)."""

    def __init__(self, orientation: Qt.Orientation) -> None:
        super().__init__(orientation)
        self.mark: int | None = None

    def paintEvent(self, event: object) -> None:
        super().paintEvent(event)
        if self.mark is None or not self.minimum() <= self.mark <= self.maximum():
            return
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = self.width() - handle.width()
        x = handle.width() // 2 + QStyle.sliderPositionFromValue(
            self.minimum(), self.maximum(), self.mark, span)
        painter = QPainter(self)
        painter.setPen(QPen(QColor(CRITICAL_COLOR), 3))
        painter.drawLine(x, 1, x, self.height() - 2)
        painter.end()


class LearningRateControl(QWidget):
    """Log slider 1e-6..10 plus an exact-number field kept in sync, and (for a quadratic
    loss) a red mark where plain gradient descent starts to diverge."""

    value_changed = Signal(float)
    invalid = Signal(str)

    def __init__(self, value: float = 0.01, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = _MarkedSlider(Qt.Orientation.Horizontal)
        lo, hi = math.log10(LR_MIN), math.log10(LR_MAX)
        self.slider.setRange(round(lo * LR_TICKS_PER_DECADE), round(hi * LR_TICKS_PER_DECADE))
        self.slider.setToolTip("learning rate, log scale from 1e-6 to 10")
        self.edit = QLineEdit()
        # no validator: it would swallow Enter on text it finds "intermediate" (a decimal
        # comma, "1e-"), leaving a number in the box that is not the one training
        self.edit.setFixedWidth(90)
        self.edit.setToolTip("exact learning rate (eta); Enter to apply")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        lay = QHBoxLayout()
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.edit)
        column.addLayout(lay)
        self.critical_note = QLabel()
        self.critical_note.setObjectName("hint")
        self.critical_note.setWordWrap(True)
        self.critical_note.hide()
        column.addWidget(self.critical_note)
        self.critical: float | None = None
        self._value = value
        self.set_value(value)
        self.slider.valueChanged.connect(self._from_slider)
        self.edit.editingFinished.connect(self.commit)

    def value(self) -> float:
        return self._value

    def set_critical(self, value: float | None, note: str) -> None:
        """Mark `value` on the slider (None: no mark) and say `note` under it."""
        self.critical = value
        self.slider.mark = (None if value is None or value <= 0 else
                            round(math.log10(value) * LR_TICKS_PER_DECADE))
        self.slider.update()
        self.critical_note.setText(note)
        self.critical_note.setVisible(bool(note))

    def set_value(self, value: float) -> None:
        """Show `value` without emitting (used when a preset or config arrives)."""
        self._value = float(value)
        self.slider.blockSignals(True)
        clamped = min(max(value, LR_MIN), LR_MAX)
        self.slider.setValue(round(math.log10(clamped) * LR_TICKS_PER_DECADE))
        self.slider.blockSignals(False)
        self.edit.setText(_fmt_lr(value))

    def _from_slider(self, pos: int) -> None:
        value = float(f"{10 ** (pos / LR_TICKS_PER_DECADE):.3g}")
        self._value = value
        self.edit.setText(_fmt_lr(value))
        self.value_changed.emit(value)

    def commit(self) -> None:
        """Take the number in the box (Enter, leaving the box, or Play / Step / Record
        while it is still being typed); a bad one is named and the box shows the value
        in use again, so box and training never disagree."""
        text = self.edit.text().strip()
        if text == _fmt_lr(self._value):
            return
        try:
            value = _parse_lr(text)
        except ValueError:
            self.invalid.emit(f"learning rate: {text!r} is not a number")
            self.edit.setText(_fmt_lr(self._value))
            return
        if not math.isfinite(value) or value <= 0:
            self.invalid.emit("learning rate must be a positive number")
            self.edit.setText(_fmt_lr(self._value))
            return
        if value == self._value:
            self.edit.setText(_fmt_lr(value))
            return
        self.set_value(value)
        self.value_changed.emit(value)


def _parse_lr(text: str) -> float:
    """A typed learning rate; a lone comma is a decimal comma ("0,005" is 0.005, not 5)."""
    text = text.replace(" ", "")
    text = text.replace(",", "") if "." in text else text.replace(",", ".")
    return float(text)


def _fmt_lr(value: float) -> str:
    return f"{value:.6g}"


class SpeedControl(QWidget):
    """Updates per second, from slow motion (1/s) to as fast as possible.

    A fresh window starts at DEFAULT_SPEED, where a class can follow gradient descent;
    the "max" button beside the slider is the one click to full speed.
    """

    speed_changed = Signal(object)   # float | None

    def __init__(self, speed: float | None = DEFAULT_SPEED,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, len(SPEEDS) - 1)
        self.slider.setToolTip("updates per second: slow motion to follow a path step by "
                               "step, up to as fast as the machine goes")
        self.label = QLabel()
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("5,000 / s"))
        self.max_button = QToolButton()
        self.max_button.setText("max")
        self.max_button.setToolTip("as fast as the machine goes")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)
        lay.addWidget(self.max_button)
        self._speed: float | None = speed
        self.set_speed(speed)
        self.slider.valueChanged.connect(self._changed)
        self.max_button.clicked.connect(lambda: self._choose(None))

    def speed(self) -> float | None:
        return self._speed

    def set_speed(self, speed: float | None) -> None:
        """Show `speed` (any positive value, or None for max) without emitting."""
        self._speed = None if speed is None else float(speed)
        idx = len(SPEEDS) - 1 if speed is None else min(
            range(len(SPEEDS) - 1), key=lambda i: abs(math.log(SPEEDS[i] / speed)))
        with QSignalBlocker(self.slider):
            self.slider.setValue(idx)
        self._show()

    def _show(self) -> None:
        s = self._speed
        self.label.setText("max speed" if s is None else f"{s:,g} / s")
        self.max_button.setEnabled(s is not None)

    def _choose(self, speed: float | None) -> None:
        self.set_speed(speed)
        self.speed_changed.emit(speed)

    def _changed(self, pos: int) -> None:
        self._choose(SPEEDS[pos])
