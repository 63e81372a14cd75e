"""The lecture panel: the step's title, caption and formula in large type, a step list to
jump anywhere, previous / next, "k / n", a presentation toggle, and the w / b sliders of
the model step (moving one restarts descent from that point, so the estimate follows)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.controls.float_slider import FloatSlider
from gui.mathtext import rich
from gui.theme import DARK, Theme

SLIDER_STEPS = 400
W_RANGE = (-0.5, 2.0)          # w in the training unit (w* ~ 1)
B_RANGE = (-2.0, 4.0)          # b in the training unit (thousands of views, b* ~ 0.1)


class WBSliders(QWidget):
    """Two sliders for y = b + w x1; `moved(w, b)` in the training unit (b reads in the
    data's unit)."""

    moved = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self._scale = 1000.0
        self._unit = "views"
        self.w = FloatSlider("w", *W_RANGE, 0.0, steps=SLIDER_STEPS, grow=False,
                             fmt=lambda w: f"w = {w:.2f}")
        self.b = FloatSlider("b", *B_RANGE, 0.0, steps=SLIDER_STEPS, grow=False,
                             fmt=self._b_text)
        for s in (self.w, self.b):
            s.name_label.setObjectName("lectureSliderName")
            s.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            s.slider.setMinimumWidth(260)
            s.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            s.value_changed.connect(self._changed)
            lay.addWidget(s)
        self.w_slider, self.b_slider = self.w.slider, self.b.slider
        self._align()

    def values(self) -> tuple[float, float]:
        return self.w.value, self.b.value

    def set_values(self, w: float, b: float, data: Any = None) -> None:
        """Show (w, b) without emitting `moved` (a step's start)."""
        if data is not None:
            self._scale = float(getattr(data, "scale", 1.0))
            self._unit = str(getattr(data, "unit", ""))
        self.w.set_value(w)
        self.b.set_value(b)
        self._align()

    def _align(self) -> None:
        """One width for both value labels, so the two sliders end at the same x."""
        width = max(120, *(s.text.sizeHint().width() for s in (self.w, self.b)))
        for s in (self.w, self.b):
            s.text.setMinimumWidth(width)

    def _b_text(self, b: float) -> str:
        return f"b = {b * self._scale:,.0f} {self._unit}"

    def _changed(self, _value: float) -> None:
        self._align()
        self.moved.emit(*self.values())


class LecturePanel(QWidget):
    """What the class reads: the step's caption and formula; what the lecturer clicks."""

    next_clicked = Signal()
    prev_clicked = Signal()
    jump_requested = Signal(int)
    present_clicked = Signal()

    def __init__(self, steps: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lecturePanel")
        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 4, 8, 4)
        text = QVBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("lectureTitle")
        self.title.setWordWrap(True)
        self.caption = QLabel()
        self.caption.setObjectName("lectureCaption")
        self.caption.setWordWrap(True)
        self.formula = QLabel()
        self.formula.setObjectName("lectureFormula")
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        # the loss of the estimate shown, in the losses the step compares (MAE / MSE)
        self.values = QLabel()
        self.values.setObjectName("lectureValues")
        self.values.setWordWrap(True)   # unwrapped, a long line widened the window off screen
        self.values.hide()
        for label in (self.title, self.caption, self.formula, self.values):
            label.setTextFormat(Qt.TextFormat.RichText)   # indices drawn as indices
        self.sliders = WBSliders(self)
        self.sliders.hide()
        for wdg in (self.title, self.caption, self.formula, self.values, self.sliders):
            text.addWidget(wdg)
        outer.addLayout(text, 1)

        nav = QVBoxLayout()
        self.steps_box = QComboBox()
        self.steps_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for i, step in enumerate(steps):
            self.steps_box.addItem(f"{i + 1}. {step.title}")
        self.steps_box.activated.connect(self.jump_requested.emit)
        row = QHBoxLayout()
        self.prev_button = QPushButton("◀ Prev")
        self.next_button = QPushButton("Next ▶")
        self.counter = QLabel("0 / 0")
        self.counter.setObjectName("lectureCounter")
        self.counter.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.present_button = QPushButton("Present (F11)")
        for b in (self.prev_button, self.next_button, self.present_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row.addWidget(self.prev_button)
        row.addWidget(self.counter)
        row.addWidget(self.next_button)
        nav.addWidget(self.steps_box)
        nav.addLayout(row)
        nav.addWidget(self.present_button)
        nav.addStretch(1)
        outer.addLayout(nav)
        self.prev_button.clicked.connect(self.prev_clicked.emit)
        self.next_button.clicked.connect(self.next_clicked.emit)
        self.present_button.clicked.connect(self.present_clicked.emit)
        self._n = len(steps)
        self.setMinimumHeight(190)   # title, a two-line caption and the formula, unclipped
        self.apply_theme(DARK)

    def show_step(self, index: int, step: Any) -> None:
        self.title.setText(rich(step.title))
        self.caption.setText(rich(step.caption))
        self.formula.setText(rich(step.formula))
        self.formula.setVisible(bool(step.formula))
        self.counter.setText(f"{index + 1} / {self._n}")
        with QSignalBlocker(self.steps_box):
            self.steps_box.setCurrentIndex(index)
        self.prev_button.setEnabled(index > 0)
        self.next_button.setEnabled(index + 1 < self._n)

    def text_height(self) -> int:
        """The height the step's text needs at the panel's present width."""
        lay = self.layout()
        width = max(self.width(), 1)
        need = (lay.totalHeightForWidth(width) if lay.hasHeightForWidth()
                else lay.totalSizeHint().height())
        return max(need, self.minimumHeight())

    def show_values(self, html: str | None) -> None:
        """One line of loss values (rich text) under the formula; None hides it."""
        if html is None:
            self.values.hide()
            return
        if html != self.values.text():
            self.values.setText(html)
        self.values.show()

    def set_presenting(self, on: bool) -> None:
        self.present_button.setText("Leave presentation (F11)" if on else "Present (F11)")

    def apply_theme(self, theme: Theme) -> None:
        t = theme
        self.setStyleSheet(
            f"QLabel#lectureTitle {{ font-size: {t.title_pt + 6}pt; font-weight: bold; }}"
            f"QLabel#lectureCaption {{ font-size: {t.title_pt + 2}pt; }}"
            f"QLabel#lectureFormula {{ font-size: {t.title_pt + 4}pt; color: {t.accent};"
            f" font-family: 'DejaVu Serif', serif; font-style: italic; }}"
            f"QLabel#lectureValues {{ font-size: {t.title_pt + 2}pt; }}"
            f"QLabel#lectureCounter {{ font-size: {t.title_pt}pt; font-weight: bold;"
            f" min-width: 70px; }}"
            f"QLabel#lectureSliderName {{ font-size: {t.title_pt + 2}pt; font-style: italic;"
            f" font-weight: bold; }}")
