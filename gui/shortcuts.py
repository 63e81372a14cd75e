"""The "?" overlay: every keyboard shortcut of the window, over the window, on demand.

The list is collected from the window's QActions each time it opens, so it stays true as
menus add actions; keys handled by an event filter instead (lecture mode's clicker keys)
are added with `add_hints`, and the actions' keys they take over are left out. ? or F1
opens it; ?, F1, Esc or a click closes it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QKeySequence, QPainter
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from gui.theme import Theme

OPEN_KEYS = ("?", "F1")


def action_shortcuts(window: QWidget, taken: frozenset[str] = frozenset()
                     ) -> list[tuple[str, str]]:
    """(what it does, keys) for every action of `window` that has a shortcut, menu order;
    keys in `taken` (another handler's) are left out."""
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str]] = []
    for act in window.findChildren(QAction):
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in act.shortcuts()]
        keys = [k for k in keys if k and k not in taken]
        text = act.text().replace("&&", "\0").replace("&", "").replace("\0", "&").strip()
        text = text.rstrip("…").rstrip(".").strip()
        if not keys or not text:
            continue
        entry = (text, "  or  ".join(keys))
        if entry not in seen:
            seen.add(entry)
            out.append(entry)
    return out


class ShortcutOverlay(QWidget):
    """A semi-transparent sheet over the whole window listing the shortcuts."""

    def __init__(self, window: QWidget, theme: Callable[[], Theme]) -> None:
        """`theme()`: the window's theme when the overlay opens (it may have changed)."""
        super().__init__(window)
        self._window = window
        self._theme = theme
        self.setObjectName("shortcutOverlay")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        lay = QVBoxLayout(self)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.label, 1, Qt.AlignmentFlag.AlignCenter)
        self._hints: list[tuple[str, str]] = []
        self._taken: frozenset[str] = frozenset()
        self.hide()

    def add_hints(self, hints: list[tuple[str, str]], taken: set[str] | frozenset[str]
                  ) -> None:
        """Shortcuts an event filter handles (listed first); `taken`: the keys it takes
        from the window's actions (key names as QKeySequence writes them, e.g. "Space")."""
        self._hints = list(hints) + [h for h in self._hints if h not in hints]
        self._taken = self._taken | frozenset(taken)

    def remove_hints(self, hints: list[tuple[str, str]], taken: set[str] | frozenset[str]
                     ) -> None:
        self._hints = [h for h in self._hints if h not in hints]
        self._taken = self._taken - frozenset(taken)

    def entries(self) -> list[tuple[str, str]]:
        return self._hints + action_shortcuts(self._window, self._taken)

    def open(self) -> None:
        theme = self._theme()
        fg, accent, pt = theme.foreground, theme.accent, theme.title_pt + 2
        rows = "".join(
            f"<tr><td align='right' style='padding:4px 18px; color:{accent};'>"
            f"<b>{html.escape(keys)}</b></td><td style='padding:4px 18px;'>"
            f"{html.escape(text)}</td></tr>" for text, keys in self.entries())
        self.label.setText(
            f"<div style='color:{fg}; font-size:{pt}pt;'>"
            f"<p align='center' style='font-size:{pt + 6}pt;'><b>Keyboard shortcuts</b></p>"
            f"<table cellspacing='0'>{rows}</table>"
            f"<p align='center' style='font-size:{pt - 2}pt;'>Esc or ? closes this</p></div>")
        self.setGeometry(self._window.rect())
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def close_overlay(self) -> None:
        self.hide()

    def toggle(self) -> None:
        if self.isVisible():
            self.close_overlay()
        else:
            self.open()

    def paintEvent(self, event: Any) -> None:
        colour = QColor(self._theme().background)
        colour.setAlpha(225)
        painter = QPainter(self)
        painter.fillRect(self.rect(), colour)
        painter.end()

    def keyPressEvent(self, event: Any) -> None:
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Question, Qt.Key.Key_F1):
            self.close_overlay()
            event.accept()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: Any) -> None:
        self.close_overlay()
        event.accept()

    def follow_window(self) -> None:
        """Cover the window again (its `resizeEvent` calls this). An event filter on the
        window was a Python call for every event the window gets, 4-5 a frame while a
        run plays (update requests, paints; counted), each taking the GIL back from the
        training thread."""
        if self.isVisible():
            self.setGeometry(self._window.rect())


def install_shortcut_overlay(window: QMainWindow, theme: Callable[[], Theme]
                             ) -> ShortcutOverlay:
    """The overlay plus a Help > Keyboard shortcuts action (? and F1) on `window`."""
    overlay = ShortcutOverlay(window, theme)
    help_menu = window.menuBar().addMenu("&Help")   # the last menu; only this adds it
    act = QAction("Keyboard shortcuts", window)
    act.setShortcuts([QKeySequence(k) for k in OPEN_KEYS])
    act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    act.triggered.connect(overlay.toggle)
    help_menu.addAction(act)
    overlay.action = act
    return overlay
