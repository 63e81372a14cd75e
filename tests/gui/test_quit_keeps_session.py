"""Quitting keeps the session: every run of it (a finished one, one cut short, a race's
racers, the run still training) comes back at the next start, offered on the restore bar
as a crashed app's autosave is, and restores number for number. A start that only looked
keeps nothing, and the next one looks as it always did."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QPoint, Qt

from core import session as S
from core.config import RunConfig
from core.engine import Trainer
from tests.gui.pixels import grab_rgb, text_contrast
from tests.gui.test_gallery_view import LIMITED, _raced, _same_runs
from tests.gui.test_session_restore import _settle

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

CUT_SHORT = LIMITED.replace(days=7, lr=0.02, limit_updates=None)
TRAINING = LIMITED.replace(days=2, lr=0.03, limit_updates=None)


def _kept_files(folder) -> list:
    return sorted(folder.glob(f"{S.AUTOSAVE_PREFIX}*{S.AUTOSAVE_SUFFIX}"))


def _new_run(qtbot, win, config: RunConfig) -> None:
    win.set_config(config)
    qtbot.waitUntil(lambda: win.run_info.config == config and win.latest is not None
                    and win.latest.run_id == win.run_info.run_id, timeout=10000)


def _quit_with_runs(qtbot, open_window):
    """A window with a finished run, a race's racers and a run cut short in its gallery,
    a recorded row, and a run training flat out when it quits."""
    win = open_window(LIMITED)
    gallery = win.views["gallery"].gallery
    win.play()
    qtbot.waitUntil(lambda: len(gallery.runs) == 1, timeout=20000)
    racers = _raced(win, qtbot)
    _new_run(qtbot, win, CUT_SHORT)
    win.play()
    qtbot.waitUntil(lambda: win.latest.update >= 20, timeout=20000)
    _new_run(qtbot, win, TRAINING)     # CUT_SHORT goes to the gallery, stopped
    recorded = len(win.table_view.rows())   # a row per racer, then this run's
    win.record()
    qtbot.waitUntil(lambda: len(win.table_view.rows()) == recorded + 1, timeout=10000)
    win.play()
    qtbot.waitUntil(lambda: win.latest.update >= 40, timeout=20000)
    assert win.playing
    runs = list(gallery.runs)
    assert [r.status for r in runs] == ["finished"] + [r.status for r in racers] \
        + ["stopped"]
    rows = win.table_view.rows()
    win.close()                        # File > Quit: while the run trains
    assert not win.handle.running
    return runs, rows


def test_quitting_keeps_every_run_and_the_next_start_restores_them_number_for_number(
        qtbot, settings_dir, open_window):
    runs, rows = _quit_with_runs(qtbot, open_window)
    (kept,) = _kept_files(settings_dir)
    session = S.load_session(kept)
    assert session.clean
    update = session.training["update"]
    assert update >= 40                # the training, stopped at its update

    win = open_window()
    assert win.sessions.offering
    bar = win.sessions.restore_bar
    text = bar.label.text()
    assert text.startswith("Restore your last session, quit at ")
    assert (f"(linear on channel, {update:,} updates, {len(rows)} table rows, "
            f"{len(runs)} kept runs)?" in text)
    qtbot.mouseClick(bar.restore_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible() and not win.sessions.offering
    qtbot.waitUntil(lambda: win.run_info.config == TRAINING and win.latest is not None
                    and win.latest.run_id == win.run_info.run_id, timeout=20000)
    restored = _settle(qtbot, win)
    assert not kept.exists()           # answered: not offered again

    # the run that was training: its parameters and optimizer state bit for bit those of
    # the same run never stopped; its loss history, path and timeline (from update 0,
    # for the replay) those it had when it quit
    uninterrupted = Trainer(TRAINING)
    uninterrupted.run(update)
    _same_numbers(uninterrupted.snapshot(), restored)
    state = win.training_state()
    assert S._same(state["core"], uninterrupted.export_state()["core"])
    for key in ("hist", "path", "timeline", "track", "ref", "update", "seconds"):
        assert S._same(state[key], session.training[key]), key
    assert state["timeline"]["moments"] and restored.hist_update[0] == 0
    # the finished run, the racers and the run cut short: names, colours, every array
    _same_runs(runs, win.views["gallery"].gallery.runs)
    assert win.table_view.rows() == rows
    assert win.panel.config == TRAINING
    win.step()                         # and it trains on from there, as the old one would
    qtbot.waitUntil(lambda: win.latest.update == update + 1, timeout=10000)
    uninterrupted.step()
    _same_numbers(uninterrupted.snapshot(), _settle(qtbot, win))


def _same_numbers(a, b) -> None:
    """The same update, losses, parameters and step about to be taken, bit for bit (the
    loss history's sampling follows the chunks a window trained in, not the run)."""
    assert (a.update, a.epoch, a.done, a.diverged, a.track, a.train_loss, a.unseen_loss,
            a.lr) == (b.update, b.epoch, b.done, b.diverged, b.track, b.train_loss,
                      b.unseen_loss, b.lr)
    for key in a.params:
        assert a.params[key].tobytes() == b.params[key].tobytes(), key
        assert a.step[key].tobytes() == b.step[key].tobytes(), key


def test_the_next_start_shows_the_offer_on_screen(qtbot, settings_dir, open_window):
    first = open_window()
    first.step()
    qtbot.waitUntil(lambda: first.latest.update == 1, timeout=10000)
    first.close()
    win = open_window()
    bar = win.sessions.restore_bar
    qtbot.waitUntil(lambda: not bar.visibleRegion().isEmpty(), timeout=5000)
    img = grab_rgb(win)
    box = bar.rect().translated(bar.mapTo(win, QPoint(0, 0)))
    assert box.top() < win.height() // 5 and box.width() > win.width() // 2   # on top
    for part in (bar.label, bar.restore_button, bar.discard_button):
        r = part.rect().translated(part.mapTo(win, QPoint(0, 0)))
        region = img[r.top():r.bottom(), r.left():r.right()]
        assert text_contrast(region) >= 3.0, part.objectName() or part.text()
    stamp = time.strftime("%H:%M", time.localtime(_kept_files(settings_dir)[0]
                                                  .stat().st_mtime))
    assert bar.label.text() == (f"Restore your last session, quit at {stamp} (linear on "
                                "channel, 1 update, 0 table rows)?")


def test_a_start_that_only_looked_keeps_nothing(qtbot, settings_dir, open_window):
    """Nothing trained, recorded or kept: the quit leaves no file, and the next start has
    no bar: its views as tall as before."""
    win = open_window()
    win.sessions.autosave()
    win.sessions.flush()
    assert len(_kept_files(settings_dir)) == 1
    surface = win.docks["surface"].geometry()
    win.close()
    assert _kept_files(settings_dir) == []
    again = open_window()
    assert not again.sessions.offering and not again.sessions.restore_bar.isVisible()
    assert again.docks["surface"].geometry() == surface


def _refuse_write(path, session):
    raise S.SessionError(f"{path.name}: cannot write (No space left on device)")


def _refuse_capture(window):
    raise RuntimeError("a view could not say its state")


@pytest.mark.parametrize("failing", ["write", "capture"])
def test_a_failed_quit_save_leaves_the_last_autosave_to_offer(
        qtbot, settings_dir, open_window, monkeypatch, failing):
    """The disk refuses the quit's write, or the state cannot be taken: the autosave
    taken before stays, offered next time as an app that did not close normally; the
    quit itself goes through and joins its threads."""
    import gui.session as G

    win = open_window()
    win.step()
    qtbot.waitUntil(lambda: win.latest.update == 1, timeout=10000)
    win.sessions.autosave()
    win.sessions.flush()
    with monkeypatch.context() as patch:   # (the settings folder stays patched)
        if failing == "write":
            patch.setattr(S, "save_session", _refuse_write)
        else:
            patch.setattr(G, "capture", _refuse_capture)
        win.close()
    assert not win.handle.running and win.isHidden()
    (left,) = _kept_files(settings_dir)
    assert not S.load_session(left).clean
    again = open_window()
    assert again.sessions.restore_bar.label.text().startswith(
        "Function Lab did not close normally.")


def test_a_lecture_sessions_one_view_layout_stays_out_of_the_normal_window(
        qtbot, open_window, tmp_path):
    """Lecture mode quit on a step that shows only the surface: restored in the normal
    window, the run comes back and every view stays on screen (the step's layout is
    lecture mode's own)."""
    from gui.session import capture
    from gui.window_api import LIVE_VIEWS

    win = open_window()
    win.step()
    qtbot.waitUntil(lambda: win.latest.update == 1, timeout=10000)
    for key in LIVE_VIEWS:
        win.docks[key].setVisible(key == "surface")
    session = capture(win)
    session.lecture_step = 4
    S.save_session(tmp_path / "lecture.json", session)
    other = open_window()
    assert other.sessions.open(tmp_path / "lecture.json")
    qtbot.waitUntil(lambda: other.latest is not None and other.latest.update == 1,
                    timeout=10000)
    qtbot.wait(100)
    for key in LIVE_VIEWS:
        assert not other.views[key].visibleRegion().isEmpty(), key
