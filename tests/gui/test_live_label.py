"""LiveLabel: text that changes every frame repaints without laying the window out again."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.live_label import LiveLabel


class LayoutRequests(QObject):
    """Counts the LayoutRequest events a widget receives."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def _window(qtbot, label: QWidget) -> tuple[QWidget, LayoutRequests]:
    win = QWidget()
    lay = QVBoxLayout(win)
    lay.addWidget(label)
    lay.addWidget(QWidget(), 1)
    win.resize(300, 200)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    counter = LayoutRequests()
    win.installEventFilter(counter)
    qtbot.wait(20)
    counter.count = 0
    return win, counter


def test_a_qlabel_relayouts_its_window_on_every_new_text(qtbot) -> None:
    label = QLabel("update 1")
    _, counter = _window(qtbot, label)
    label.setText("update 2")
    qtbot.wait(20)
    assert counter.count >= 1


def test_live_label_new_text_repaints_without_relayout(qtbot) -> None:
    label = LiveLabel("update 1   loss 0.48k")
    _, counter = _window(qtbot, label)
    for i in range(2, 12):
        label.setText(f"update {i}   loss 0.{i}k")
    qtbot.wait(20)
    assert counter.count == 0
    assert label.text() == "update 11   loss 0.11k"


def test_wrapped_live_label_grows_when_its_text_needs_more_lines(qtbot) -> None:
    label = LiveLabel("short")
    label.setWordWrap(True)
    win, counter = _window(qtbot, label)
    one_line = label.height()
    label.setText("a much longer note that cannot fit on one line of a narrow label " * 3)
    qtbot.waitUntil(lambda: label.height() > one_line, timeout=2000)
    assert counter.count >= 1
    assert label.height() >= label.heightForWidth(label.width()) - 1
    assert win.isVisible()
