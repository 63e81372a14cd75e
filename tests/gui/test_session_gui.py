"""Sessions in the window: save / open restores settings, rows and zoom; a killed app's
autosave is offered back on a bar and restores; a bad file changes nothing; the "?" overlay
lists the window's shortcuts."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core import session as S
from core.config import RunConfig
from gui.main_window import MainWindow
from gui.window_api import VIEW_KEYS

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

LINEAR = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                   lr=0.05, init=(0.0, 0.0))


def _steps(qtbot, win: MainWindow, n: int) -> None:
    start = -1 if win.latest is None else win.latest.update
    for k in range(1, n + 1):
        win.step()
        qtbot.waitUntil(lambda k=k: win.latest is not None and win.latest.update >= start + k,
                        timeout=10000)


def _fill(qtbot, win: MainWindow) -> None:
    """Two recorded rows and a 7-day run with its own learning rate."""
    _steps(qtbot, win, 3)
    win.record()
    win.set_config(LINEAR.replace(days=7, lr=0.02))
    qtbot.waitUntil(lambda: win.run_info.config.days == 7, timeout=10000)
    _steps(qtbot, win, 2)
    win.record()
    assert len(win.views["table"].rows()) == 2


def _zoom(win: MainWindow, key: str) -> list[float]:
    from gui.session import view_ranges

    return [v for axis in view_ranges(win)[key] for v in axis]


def test_save_and_open_restore_settings_rows_and_zoom(qtbot, open_window, tmp_path):
    win = open_window()
    _fill(qtbot, win)
    qtbot.waitUntil(lambda: not any(win.views[k].busy() for k in VIEW_KEYS), timeout=10000)
    from gui.session import apply_ranges

    apply_ranges(win, {"fit": [[-0.5, 9.5], [1.0, 7.0]]})
    saved_zoom = _zoom(win, "fit")
    path = tmp_path / "lesson.json"
    assert win.sessions.save(path)
    rows, config = win.views["table"].rows(), win.config

    other = open_window()
    assert other.config != config and other.views["table"].rows() == []
    assert other.sessions.open(path)
    qtbot.waitUntil(lambda: other.run_info.config == config, timeout=10000)
    assert other.config == config
    assert other.panel.config == config
    assert other.views["table"].rows() == rows
    qtbot.waitUntil(lambda: _zoom(other, "fit") == pytest.approx(saved_zoom, abs=1e-6),
                    timeout=10000)
    _steps(qtbot, other, 1)     # a frame drawn after the restore keeps the saved zoom
    assert _zoom(other, "fit") == pytest.approx(saved_zoom, abs=1e-6)


def test_a_bad_session_file_changes_nothing(qtbot, open_window, tmp_path):
    win = open_window()
    _steps(qtbot, win, 2)
    win.record()
    rows, config = win.views["table"].rows(), win.config
    good = tmp_path / "good.json"
    assert win.sessions.save(good)
    text = good.read_text(encoding="utf-8")
    cases = {"cut.json": text[: len(text) // 2],
             "newer.json": text.replace(f'"version": {S.VERSION}', '"version": 7'),
             "junk.json": "\x00\x01 not json"}
    for name, content in cases.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
        assert not win.sessions.open(tmp_path / name)
        assert win.banner.text().startswith(f"Session not opened: {name}: ")
        assert "\n" not in win.banner.text()
        assert win.views["table"].rows() == rows and win.config == config


def test_a_killed_apps_autosave_is_offered_and_restores(qtbot, settings_dir, open_window):
    first = MainWindow(LINEAR, theme="dark")
    first.resize(1400, 900)
    first.show()
    try:
        qtbot.waitUntil(lambda: first.run_info is not None, timeout=20000)
        _fill(qtbot, first)
        first.sessions.autosave()
        first.sessions.flush()
        rows, config = first.views["table"].rows(), first.config
        saved = first.sessions.slot.path
        assert not S.load_session(saved).clean
        assert not open_window().sessions.offering     # its app still runs
    finally:   # "killed": threads stopped and the lock gone, but no clean close
        first.sessions.slot.abandon()
        first.shutdown()
        first.deleteLater()

    win = open_window()
    assert win.sessions.offering
    bar = win.sessions.restore_bar
    assert bar.isVisible() and "2 table rows" in bar.label.text()
    assert "2 updates" in bar.label.text()
    # the offer survives this window's own autosaves until it is answered
    win.sessions.autosave()
    win.sessions.flush()
    assert saved.exists()
    qtbot.mouseClick(bar.restore_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible() and not win.sessions.offering
    qtbot.waitUntil(lambda: win.run_info.config == config, timeout=10000)
    assert win.views["table"].rows() == rows
    assert win.config == config
    assert not saved.exists()                          # answered: not offered again
    assert S.load_session(win.sessions.slot.path).rows == rows   # lives on in ours


def test_a_clean_exit_with_nothing_done_offers_nothing_and_discard_forgets(
        qtbot, settings_dir, open_window):
    win = open_window()
    own = win.sessions.slot.path
    win.sessions.autosave()
    win.sessions.flush()
    assert own.exists()
    win.close()
    assert not own.exists()              # nothing trained or recorded: nothing to keep
    again = open_window()
    assert not again.sessions.offering

    again.sessions.autosave()          # pretend this one dies too
    again.sessions.flush()
    again.sessions.slot.abandon()
    again.shutdown()
    third = open_window()
    assert third.sessions.offering
    qtbot.mouseClick(third.sessions.restore_bar.discard_button, Qt.MouseButton.LeftButton)
    assert not third.sessions.offering and third.views["table"].rows() == []
    fourth = open_window()
    assert not fourth.sessions.offering                # discarded: not offered again


def test_a_corrupt_autosave_is_kept_and_reported(qtbot, settings_dir, open_window):
    bad = settings_dir / f"autosave-1-dead{S.AUTOSAVE_SUFFIX}"
    bad.write_text('{"format": "function-lab-session", "ver', encoding="utf-8")
    win = open_window()
    assert not win.sessions.offering
    qtbot.waitUntil(lambda: "autosave could not be restored" in win.banner.text(),
                    timeout=3000)
    assert "truncated" in win.banner.text()
    kept = settings_dir / (bad.name + ".corrupt")
    assert kept.read_text(encoding="utf-8").endswith('"ver')


def test_question_mark_overlay_lists_the_shortcuts(qtbot, open_window, tmp_path):
    win = open_window()
    overlay = win.shortcut_overlay
    assert not overlay.isVisible()
    win.activateWindow()
    qtbot.keyClick(win, Qt.Key.Key_F1)
    qtbot.waitUntil(overlay.isVisible, timeout=3000)
    entries = dict(overlay.entries())
    assert entries["Play / Pause"] == "Space"
    assert entries["Step one update"] == "S  or  Right"
    assert "F1" in entries["Keyboard shortcuts"]
    text = overlay.label.text()
    assert "Play / Pause" in text and "Step one update" in text and "Ctrl+R" in text
    assert overlay.geometry() == win.rect()
    win.grab().save(str(tmp_path / "overlay.png"))
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert not overlay.isVisible()
    overlay.action.trigger()           # "?" and F1 are the same action
    assert overlay.isVisible()
    qtbot.keyClick(overlay, Qt.Key.Key_Question)
    assert not overlay.isVisible()


def test_the_lecture_step_is_read_from_the_lecture_controller():
    from types import SimpleNamespace

    from gui.lecture import LectureController
    from gui.session import lecture_step

    def window(index: int) -> SimpleNamespace:
        """A window in lecture mode at `index` of five steps (the controller's own method)."""
        ctl = SimpleNamespace(index=index, steps=[None] * 5)
        return SimpleNamespace(lecture=SimpleNamespace(
            current_step=lambda: LectureController.current_step(ctl)))

    assert lecture_step(SimpleNamespace(lecture=None)) is None           # no lecture mode
    assert lecture_step(window(-1)) is None
    assert lecture_step(window(4)) == 4


def test_autosave_writes_in_the_background_and_reports_failures(qtbot, open_window,
                                                                monkeypatch):
    """The GUI thread only takes the state; a slow disk never freezes the window, the
    newest state taken meanwhile is written next, and a failed write reaches the status."""
    import threading

    win = open_window()
    slot = win.sessions.slot
    gate, written = threading.Event(), []
    real_write = slot.write

    def slow_write(session):
        gate.wait(20)
        written.append(session.config["days"])
        return real_write(session)

    monkeypatch.setattr(slot, "write", slow_write)
    win.sessions.autosave()                 # returns while its write is held
    assert written == []
    win.set_config(LINEAR.replace(days=7))
    qtbot.waitUntil(lambda: win.run_info.config.days == 7, timeout=10000)
    win.sessions.autosave()
    win.sessions.autosave()                 # two states queued: only the newest counts
    gate.set()
    win.sessions.flush()
    assert written == [1, 7]
    assert S.load_session(slot.path).run_config().days == 7

    def broken_write(session):
        raise S.SessionError("autosave-x.json: cannot write (No space left on device)")

    monkeypatch.setattr(slot, "write", broken_write)
    win.sessions.autosave()
    win.sessions.flush()
    qtbot.waitUntil(lambda: "Autosave failed: autosave-x.json: cannot write (No space"
                    in win.statusBar().currentMessage(), timeout=5000)


def test_a_finished_run_is_autosaved_from_the_gui_thread(qtbot, open_window, monkeypatch):
    """The worker announces a run's end from its own thread; the autosave it causes runs
    in the GUI thread (a direct call from the worker waited on the worker itself)."""
    import threading

    win = open_window(LINEAR.replace(limit_updates=5))
    callers = []
    real_autosave = win.sessions.autosave

    def autosave() -> None:
        callers.append(threading.current_thread())
        real_autosave()

    monkeypatch.setattr(win.sessions, "autosave", autosave)
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.done and bool(callers),
                    timeout=20000)
    win.sessions.flush()
    assert callers and all(t is threading.main_thread() for t in callers)
    saved = S.load_session(win.sessions.slot.path)
    assert saved.training is not None and saved.training["update"] == 5
    assert saved.training["done"]


def test_a_saved_session_replays_from_its_start_after_a_restart(qtbot, open_window,
                                                               tmp_path):
    """A session keeps the run's timeline: opened in a new window (a restart), the run
    can be scrubbed back to update 5 and every view shows the parameters it had then."""
    win = open_window(LINEAR.replace(optimizer="momentum", lr=0.02, limit_updates=200))
    win.play()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.done, timeout=30000)
    kept = win.views["gallery"].gallery.runs[-1]          # the run's own timeline
    w5, b5 = (float(v) for v in kept.path[kept.path_updates.tolist().index(5)])
    path = tmp_path / "lesson.json"
    assert win.sessions.save(path)
    win.close()
    other = open_window()
    assert other.sessions.open(path)
    qtbot.waitUntil(lambda: other.latest is not None and other.latest.update == 200,
                    timeout=20000)
    with qtbot.waitSignal(other.frame_drawn, timeout=10000,
                          check_params_cb=lambda s: s.replay_of == 200 and s.update == 5):
        other.replay.replay_to(5)
    qtbot.waitUntil(lambda: "replaying update 5 of 200" in other.status_text, timeout=5000)
    drawn = other.surface_view._current.getData()
    assert (float(drawn[0][0]), float(drawn[1][0])) == (w5, b5)
    assert "∂L/∂w" in other.surface_view.explanation_text


def test_a_bad_or_foreign_timeline_changes_nothing(qtbot, open_window, tmp_path):
    """A session whose timeline is damaged or another run's is refused with one line on
    screen; the run, the knobs and the table stay as they were."""
    import json

    win = open_window()
    _steps(qtbot, win, 3)
    win.record()
    config, run_id = win.config, win.run_info.run_id
    good, other = tmp_path / "good.json", tmp_path / "other.json"
    assert win.sessions.save(good)
    _steps(qtbot, win, 2)
    assert win.sessions.save(other)
    doc, theirs = (json.loads(p.read_text(encoding="utf-8")) for p in (good, other))
    foreign = json.loads(json.dumps(doc))
    foreign["training"]["timeline"] = theirs["training"]["timeline"]
    spaced = json.loads(json.dumps(doc))
    spaced["training"]["timeline"]["moments"]["every"] = 3
    rows = win.views["table"].rows()
    for name, content in {"foreign.json": foreign, "spaced.json": spaced}.items():
        (tmp_path / name).write_text(json.dumps(content), encoding="utf-8")
        assert not win.sessions.open(tmp_path / name)
        text = win.banner.text()
        assert text.startswith(f"Session not opened: {name}: ") and "timeline" in text
        assert "\n" not in text and win.banner.isVisible()
        assert win.views["table"].rows() == rows and win.config == config
        assert win.run_info.run_id == run_id
