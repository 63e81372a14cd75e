"""The scrubber: a run's updates on a slider, step back / forward, play back, back to live.

Why a widget of its own: the window's run and the optimizer race both replay what they
recorded (`core.timeline`), and a lecturer should find one control that behaves the same
in both. The bar only says what the user asked for (signals); its owner decides what a
moment is and draws it, and tells the bar where it is with `show_position`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSlider,
    QComboBox,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QWidget,
)

from core.timeline import REPLAY_FACTORS
from gui.live_label import LiveLabel


class HandleSlider(QSlider):
    """A slider that repaints when its handle moves on screen, not at every new range.

    While a run trains live its end grows every frame and the handle stays at the right
    end: QSlider repainted itself each frame for the new range, and, not being opaque, the
    timeline bar, its dock and the window behind it too (4 widget paints a frame, measured
    with a paint counter on the bench's window). `set_position` still sets the range and
    the value every frame, so a click or a drag reads the run's current end.
    """

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self._painted: QRect | None = None    # where the last paint drew the handle
        self._quiet = False

    def set_position(self, value: int, maximum: int) -> None:
        """Range 0..`maximum` and `value` (unless the user holds the handle), without
        signals; repainted only if the handle is drawn elsewhere now."""
        self.blockSignals(True)
        self._quiet = True
        try:
            self.setRange(0, max(maximum, 0))
            if not self.isSliderDown():
                self.setValue(min(value, maximum))
        finally:
            self._quiet = False
            self.blockSignals(False)
        if self._painted is None or self._handle() != self._painted:
            self.update()

    def _handle(self) -> QRect:
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        return self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                           QStyle.SubControl.SC_SliderHandle, self)

    def sliderChange(self, change: QAbstractSlider.SliderChange) -> None:
        if self._quiet and change in (QAbstractSlider.SliderChange.SliderRangeChange,
                                      QAbstractSlider.SliderChange.SliderValueChange):
            return     # QAbstractSlider's only work here is update(): set_position decides
        super().sliderChange(change)

    def paintEvent(self, event: Any) -> None:
        self._painted = self._handle()
        super().paintEvent(event)


class TimelineBar(QWidget):
    """◀ step back, the slider over updates 0..N, step ▶, "update k of N", Play back at
    0.25x to 10x, Live."""

    scrubbed = Signal(int)      # the slider was dragged (or clicked) to this update
    stepped = Signal(int)       # -1 / +1: one recorded moment back / forward
    playback_clicked = Signal()
    live_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelineBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        # Small arrow buttons and a label as wide as a lecture's runs need: the bar sits in
        # the race view too, whose least width must stay within a 1,280 px window.
        self.back = QToolButton(self)
        self.back.setText("◀")
        self.back.setToolTip("step back one recorded update")
        self.back.clicked.connect(lambda: self.stepped.emit(-1))
        self.forward = QToolButton(self)
        self.forward.setText("▶")
        self.forward.setToolTip("step forward one recorded update")
        self.forward.clicked.connect(lambda: self.stepped.emit(1))
        self.slider = HandleSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("drag back to replay any recorded update in every view")
        self.slider.sliderMoved.connect(self.scrubbed.emit)
        # a click or a key on the slider moves it too (not only a drag)
        self.slider.actionTriggered.connect(self._on_action)
        self.position = LiveLabel("", self)     # new text every frame: no relayout
        self.factor = QComboBox(self)
        for f in REPLAY_FACTORS:
            self.factor.addItem(f"{f:g}x", f)
        self.factor.setCurrentIndex(REPLAY_FACTORS.index(1.0))
        self.factor.setToolTip("playback speed: the run's own training speed times this")
        self.playback = QPushButton("Play back", self)
        self.playback.setToolTip("replay the run from the shown update")
        self.playback.clicked.connect(self.playback_clicked.emit)
        self.live = QPushButton("Live", self)
        self.live.setToolTip("back to the run as it is now")
        self.live.clicked.connect(self.live_clicked.emit)
        for w in (self.back, self.slider, self.forward, self.position, self.factor,
                  self.playback, self.live):
            lay.addWidget(w, 1 if w is self.slider else 0)
        self.show_position(0, 0, replaying=False, playing_back=False)

    def _on_action(self, action: int) -> None:
        if action != QSlider.SliderAction.SliderMove.value:   # page steps: clicks, keys
            self.scrubbed.emit(self.slider.sliderPosition())

    @property
    def replay_factor(self) -> float:
        return float(self.factor.currentData())

    def set_replay_factor(self, factor: float) -> None:
        self.factor.setCurrentIndex(max(self.factor.findData(factor), 0))

    def show_position(self, update: int, end: int, replaying: bool,
                      playing_back: bool) -> None:
        """The slider at `update` of 0..`end`; the label and buttons say whether the
        views show a replayed moment or the live run."""
        s = self.slider
        if s.maximum() != end or (s.value() != update and not s.isSliderDown()):
            # (a held slider stays under the pointer: the moment shown may be a recorded
            # one just before it)
            s.set_position(update, end)
        text = (f"replaying {update:,} of {end:,}" if replaying
                else f"update {update:,} of {end:,}")
        # room for the longest text at this many updates' digits (at least 99,999): a
        # new layout only when the run's count gains a digit
        most = "9" * max(5, len(str(end)))
        self.position.set_widest(f"replaying {int(most):,} of {int(most):,}")
        if self.position.text() != text:
            self.position.setText(text)
        self.playback.setText("Pause replay" if playing_back else "Play back")
        self.live.setEnabled(replaying)
