"""File > Reopen last session: the way back to a kept session after its restore bar was
left unanswered or its session discarded, restored as the bar's Restore does, number for
number; and a quit leaves only the newest kept sessions, however many went unanswered."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core import session as S
from core.config import RunConfig
from tests.gui.pixels import colour_mask, grab_rgb, text_contrast
from tests.gui.test_quit_keeps_session import _kept_files, _same_numbers
from tests.gui.test_session_restore import _settle

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints",
                                        "does not support raise",   # the menu popped up
                                        "does not support grabbing the keyboard")]

NONE_TIP = "No last session to reopen"


def _curve_columns(win) -> int:
    """Columns of the loss view where the training loss curve is drawn (pixels)."""
    img = grab_rgb(win.views["loss"])
    return int(colour_mask(img, win.theme.train_color, tol=30).any(axis=0).sum())


def _menu_row_contrast(qtbot, win) -> tuple[float, float]:
    """The File menu popped up: the contrast of Open session's text and Reopen's."""
    menu = win.file_menu
    menu.popup(win.mapToGlobal(win.rect().topLeft()))
    qtbot.waitUntil(lambda: not menu.visibleRegion().isEmpty(), timeout=5000)
    img = grab_rgb(menu)
    menu.hide()

    def row(action) -> float:
        r = menu.actionGeometry(action)
        return text_contrast(img[r.top():r.bottom(), r.left():r.right()])

    return row(win.sessions.open_action), row(win.sessions.reopen_action)


def _reopen_and_compare(qtbot, win, before, state) -> None:
    """Reopen from the File menu; the run comes back with the numbers it had at quit."""
    action = win.sessions.reopen_action
    assert action in win.file_menu.actions() and action.isEnabled()
    assert action.toolTip().startswith("Restore your last session, quit at ")
    fresh = _curve_columns(win)                      # the fresh run: its name, no curve
    action.trigger()
    qtbot.waitUntil(lambda: win.latest is not None and win.run_info is not None
                    and win.latest.run_id == win.run_info.run_id
                    and win.latest.update == before.update, timeout=20000)
    restored = _settle(qtbot, win)
    _same_numbers(before, restored)
    now = win.training_state()
    assert S._same(now["core"], state["core"])      # parameters, optimizer: bit for bit
    assert now["update"] == state["update"]
    for key in ("hist", "path", "timeline"):
        assert S._same(now[key], state[key]), key
    assert len(restored.hist_update) == len(before.hist_update)
    # what reaches the user: the restored loss history drawn across the loss view
    qtbot.waitUntil(lambda: _curve_columns(win) > fresh + 100, timeout=10000)
    assert not action.isEnabled() and action.toolTip().startswith(NONE_TIP)
    assert not win.sessions.offering and not win.sessions.restore_bar.isVisible()


def test_reopen_last_session_after_a_discard_and_with_the_bar_ignored(
        qtbot, settings_dir, open_window):
    first = open_window(RunConfig(days=7, lr=0.02))
    assert not first.sessions.reopen_action.isEnabled()          # nothing kept yet
    assert first.sessions.reopen_action.toolTip().startswith(NONE_TIP)
    enabled, disabled = _menu_row_contrast(qtbot, first)
    assert enabled >= 7 and 2 <= disabled <= enabled / 2    # dimmed, not hidden
    first.play()
    qtbot.waitUntil(lambda: first.latest.update >= 60, timeout=20000)
    first.pause()
    before = _settle(qtbot, first)
    state = first.training_state()
    first.close()
    (kept,) = _kept_files(settings_dir)

    second = open_window()                       # Discard, then File > Reopen
    assert second.sessions.offering
    qtbot.mouseClick(second.sessions.restore_bar.discard_button, Qt.MouseButton.LeftButton)
    assert not second.sessions.restore_bar.isVisible() and kept.exists()
    _reopen_and_compare(qtbot, second, before, state)
    assert not kept.exists()                      # restored: it lives in this app's now
    second.close()                                # ... and is kept again at this quit

    third = open_window()                        # the bar left unanswered
    assert third.sessions.offering and third.sessions.restore_bar.isVisible()
    _reopen_and_compare(qtbot, third, before, state)


def test_a_quit_leaves_the_newest_kept_sessions_only(qtbot, settings_dir, open_window):
    """Four sessions left unanswered by earlier starts, offered again and ignored: this
    quit keeps its own and the two newest of them, so KEEP_SESSIONS in all."""
    old = []
    for age in range(4):
        path = settings_dir / f"{S.AUTOSAVE_PREFIX}1{age}-old{S.AUTOSAVE_SUFFIX}"
        S.save_session(path, S.Session(config=RunConfig(days=age + 1).to_dict()))
        stamp = path.stat().st_mtime - 600 * (age + 1)
        os.utime(path, (stamp, stamp))
        old.append(path)
    win = open_window()
    assert win.sessions.restore_bar.label.text().endswith("(3 more after this one)")
    win.step()
    qtbot.waitUntil(lambda: win.latest.update == 1, timeout=10000)
    own = win.sessions.slot.path
    win.close()
    assert _kept_files(settings_dir) == sorted([own, *old[:S.KEEP_SESSIONS - 1]])
    assert np.all([S.load_session(p).clean for p in _kept_files(settings_dir)])


def test_reopening_a_session_keeps_the_theme_the_window_shows(qtbot, settings_dir,
                                                               open_window):
    """A lecturer who started on the projector theme and reopens a session quit in the
    dark theme (at home) keeps the projector picture: the theme belongs to the screen in
    front of the class, remembered as a setting, not to the work a session holds."""
    first = open_window(RunConfig(days=7, lr=0.02), theme="dark")
    first.play()
    qtbot.waitUntil(lambda: first.latest.update >= 30, timeout=20000)
    first.pause()
    before = _settle(qtbot, first)
    first.close()

    second = open_window(theme="projector")
    white = colour_mask(grab_rgb(second.views["loss"]), "#ffffff", tol=8).mean()
    assert white > 0.3                               # the projector's white plot
    second.sessions.reopen_action.trigger()
    qtbot.waitUntil(lambda: second.latest is not None and second.run_info is not None
                    and second.latest.run_id == second.run_info.run_id
                    and second.latest.update == before.update, timeout=20000)
    _settle(qtbot, second)
    assert second.theme.name == "projector"
    assert second.theme_actions["projector"].isChecked()
    shot = grab_rgb(second.views["loss"])
    assert colour_mask(shot, "#ffffff", tol=8).mean() > 0.3          # still white ...
    assert colour_mask(shot, "#14161b", tol=8).mean() < 0.01         # ... not dark
