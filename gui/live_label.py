"""A label for text that changes every frame: the status line, the fitted line's numbers.

A QLabel asks every parent up to the main window to lay out again on each `setText`; with
five docks that relayout costs ~1 ms a frame. `LiveLabel` only repaints itself, and asks
for a new layout only when its (wrapped) text needs another height. It keeps QLabel's
`text` / `setText` / `setWordWrap` names, so it stands in where a QLabel was.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QStyle, QStyleOption, QWidget

TALL = 100_000   # height of the box text is wrapped in when measuring


class LiveLabel(QWidget):
    """Plain text in the widget's font and colours (style sheets apply), on its own background."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = text
        self._wrap = False
        self._widest = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        # Paints its own background: new text does not repaint the widgets behind it.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # QLabel's name
        if text == self._text:
            return
        before = self.height_for(self.width()) if self._wrap else 0
        self._text = text
        if self._wrap and self.height_for(self.width()) != before:
            self.updateGeometry()
        self.update()

    def setWordWrap(self, on: bool) -> None:  # QLabel's name
        self._wrap = bool(on)
        policy = self.sizePolicy()
        policy.setHeightForWidth(self._wrap)
        self.setSizePolicy(policy)
        self.updateGeometry()

    def wordWrap(self) -> bool:  # QLabel's name
        return self._wrap

    # ----- layout -------------------------------------------------------------------------
    def _flags(self) -> int:
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        if self._wrap:
            flags |= Qt.TextFlag.TextWordWrap
        return int(flags)

    def height_for(self, width: int) -> int:
        """The height the text needs at `width` (margins included)."""
        m = self.contentsMargins()
        inner = max(1, width - m.left() - m.right())
        box = self.fontMetrics().boundingRect(QRect(0, 0, inner, TALL), self._flags(),
                                              self._text or " ")
        return box.height() + m.top() + m.bottom()

    def hasHeightForWidth(self) -> bool:
        return self._wrap

    def heightForWidth(self, width: int) -> int:
        return self.height_for(width) if self._wrap else super().heightForWidth(width)

    def sizeHint(self) -> QSize:
        m = self.contentsMargins()
        fm = self.fontMetrics()
        width = fm.horizontalAdvance(self._text) + m.left() + m.right()
        if self._wrap:
            width = min(width, 40 * fm.averageCharWidth())
        return QSize(width, self.height_for(width))

    def set_widest(self, text: str) -> None:
        """The longest text this label will show: its least width, measured in its font
        of the moment (a theme's larger type widens it). New text never asks for a
        layout, so without it a longer text is cut: "update 2,626 of 2" in the projector
        theme, its least width measured once in the smaller type it started in."""
        if text != self._widest:
            self._widest = text
            self.updateGeometry()

    def minimumSizeHint(self) -> QSize:
        m = self.contentsMargins()
        widest = self.fontMetrics().horizontalAdvance(self._widest) + 8 if self._widest else 10
        return QSize(m.left() + m.right() + widest, self.fontMetrics().height() + m.top()
                     + m.bottom())

    def changeEvent(self, event: QEvent) -> None:   # a theme's font: another least width
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.updateGeometry()

    # ----- painting -----------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        opt = QStyleOption()
        opt.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, opt, p, self)
        p.setFont(self.font())
        p.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        p.drawText(self.contentsRect(), self._flags(), self._text)
        p.end()
