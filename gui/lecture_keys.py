"""Lecture mode's keys: a presentation clicker turns the page, whatever has the focus.

A clicker sends Page Up / Page Down (some send the arrows, Space or Backspace); F11
presents full screen, Esc leaves it. `ClickerKeys` filters them application-wide (a spin
box with the focus would otherwise eat Page Up/Down and the arrows), lists them on the
"?" overlay, and takes them from the window's menu actions while lecture mode runs
(their menu entries would otherwise promise that Space plays); Play / Pause gets P.
`release()` gives everything back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from gui.window_api import LabWindow

NEXT_KEYS = {Qt.Key.Key_PageDown, Qt.Key.Key_Right, Qt.Key.Key_Space, Qt.Key.Key_Down}
PREV_KEYS = {Qt.Key.Key_PageUp, Qt.Key.Key_Left, Qt.Key.Key_Backspace, Qt.Key.Key_Up}
# What the "?" overlay lists while lecture mode holds these keys.
KEY_HINTS = [("Next lecture step", "PgDown  or  Space  or  Right  or  Down"),
             ("Previous lecture step", "PgUp  or  Backspace  or  Left  or  Up"),
             ("Present full screen / leave", "F11  (Esc leaves)")]
TAKEN_KEYS = frozenset({"PgDown", "PgUp", "Space", "Right", "Left", "Up", "Down",
                        "Backspace", "F11", "Esc"})
PLAY_KEY = "P"     # Play / Pause while Space turns the page


class ClickerKeys(QObject):
    """The clicker's keys for one window in lecture mode: `next()` / `prev()` turn the
    page, `toggle_presentation()` goes full screen and back, `presenting()` says which."""

    def __init__(self, window: LabWindow, next_step: Callable[[], None],
                 prev_step: Callable[[], None], toggle_presentation: Callable[[], None],
                 presenting: Callable[[], bool]) -> None:
        super().__init__()
        self._window = window
        self._next, self._prev = next_step, prev_step
        self._toggle, self._presenting = toggle_presentation, presenting
        self._lent: dict[QAction, list[QKeySequence]] = {}

    def install(self) -> None:
        """Filter the keys application-wide, list them on the overlay, take them from
        the window's actions."""
        QApplication.instance().installEventFilter(self)
        self._window.shortcut_overlay.add_hints(KEY_HINTS, TAKEN_KEYS)
        self._take_action_keys()

    def release(self) -> None:
        """Undo `install`: the filter goes, the actions get their keys back."""
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._window.shortcut_overlay.remove_hints(KEY_HINTS, TAKEN_KEYS)
        for act, keys in self._lent.items():
            act.setShortcuts(keys)
        self._lent = {}

    def _take_action_keys(self) -> None:
        """The menus show only keys that act: actions lose the keys the clicker takes, and
        Play / Pause gets P."""
        portable = QKeySequence.SequenceFormat.PortableText
        for act in self._window.findChildren(QAction):
            keys = act.shortcuts()
            kept = [k for k in keys if k.toString(portable) not in TAKEN_KEYS]
            if len(kept) != len(keys):
                self._lent[act] = keys
                act.setShortcuts(kept)
        play = self._window.play_action
        if not play.shortcuts():
            self._lent.setdefault(play, [])
            play.setShortcuts([QKeySequence(PLAY_KEY)])

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return False
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if not self._window.isActiveWindow() and not self._window.isVisible():
            return False
        key = event.key()
        ours = key in NEXT_KEYS or key in PREV_KEYS or key in (Qt.Key.Key_F11,
                                                                Qt.Key.Key_Escape)
        if not ours:
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()   # the window's own Space / Right shortcuts stand aside
            return True
        if event.isAutoRepeat():
            return True
        if key in NEXT_KEYS:
            self._next()
        elif key in PREV_KEYS:
            self._prev()
        elif key == Qt.Key.Key_F11:
            self._toggle()
        elif key == Qt.Key.Key_Escape:
            if not self._presenting():
                return False
            self._toggle()
        return True
