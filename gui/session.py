"""Sessions in the window: File > Save / Open session, autosave, and the restore offer.

What goes into a session is read from the window (`capture`): settings, rows, zoom, layout,
the curve builder and the training itself, so a session continues the run exactly where
it was. A session is put back (`restore`) only after it was fully checked, its trainer
already rebuilt (`check_restorable`), so a bad file never changes the current state.
Autosave writes every 30 s and whenever a run ends or a row is recorded, into this app's
own autosave (`core.session.AutosaveSlot`). Quitting keeps the session when it holds
work (`has_work`: a trained update, a table row, a kept run or a race's racers): its final
state, a run still training stopped at its update as Save does, is written atomically as
the autosave marked clean; with nothing to keep the autosave goes. At start the autosaves
of apps that are gone are offered back, one at a time, newest first, on a non-modal bar
with Restore / Discard: the last session quit normally, and those of apps that were
killed or crashed (the machine died); a running app's autosave never is. No dialog on
quit: it never waits for an answer, and a test's or a script's close just keeps.
File > Reopen last session restores the newest of them as the bar's Restore does, also
after the bar was left unanswered or its session discarded: Discard takes it off the bar,
and it is deleted only when this app quits, so a discard is not the end of a lesson.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolBar,
    QWidget,
)

from core import session as S
from core.config import ConfigError, RunConfig, one_line
from core.session import AutosaveSlot, Orphan, Session, SessionError
from gui.window_api import VIEW_KEYS

if TYPE_CHECKING:
    from core.engine import Trainer
    from core.gallery import GalleryRun
    from gui.window_api import LabWindow

AUTOSAVE_MS = 30_000
SETTINGS_ENV = "FNLAB_SETTINGS_DIR"


def settings_dir() -> Path:
    """FNLAB_SETTINGS_DIR (tests) or the platform's per-user app data folder."""
    folder = os.environ.get(SETTINGS_ENV)
    if folder:
        return Path(folder)
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(loc or Path.home() / ".function-lab")


# ---- window <-> session ---------------------------------------------------------------------
def view_ranges(window: LabWindow) -> dict[str, list[list[float]]]:
    """Each view's visible range, for views that have a plot (`View.main_plot`)."""
    out = {}
    for key, view in window.views.items():
        plot = view.main_plot()
        if plot is not None:
            (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
            out[key] = [[float(x0), float(x1)], [float(y0), float(y1)]]
    return out


def apply_ranges(window: LabWindow, zoom: dict[str, list[list[float]]]) -> None:
    for key, ((x0, x1), (y0, y1)) in zoom.items():
        view = window.views.get(key)     # a saved key this window lacks is skipped
        plot = view.main_plot() if view is not None else None
        if plot is not None:
            plot.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)


def lecture_step(window: LabWindow) -> int | None:
    """The lecture step shown (0-based), if lecture mode is on and shows one."""
    return None if window.lecture is None else window.lecture.current_step()


def capture(window: LabWindow) -> Session:
    """The window's state as a Session, with the training as it stands."""
    return Session(config=window.config.to_dict(), theme=window.theme.name,
                   lecture_step=lecture_step(window), rows=window.table_view.rows(),
                   zoom=view_ranges(window), layout=S.encode_layout(window.saveState()),
                   training=window.training_state(),
                   builder=window.builder_view.state(),
                   # the kept runs and a race still going, its racers as they stand
                   gallery=window.gallery_view.session_runs(
                       *window.race_view.running_ends()))


def has_work(session: Session) -> bool:
    """Whether quitting keeps this session: something trained or recorded (a start that
    only looked, its run at update 0, leaves nothing to offer, as before)."""
    training = session.training
    return bool(session.rows or session.gallery
                or (training is not None and int(training.get("update", 0)) > 0))


def offer_text(session: Session, ended: float | None, more: int) -> str:
    """The restore bar's question: how the session ended (`ended`: when a normally quit
    session was kept, as a timestamp; None: its app did not close normally) and what it
    holds, in the words of the views (updates, table rows, runs kept in the gallery)."""
    def count(n: int, what: str) -> str:
        return f"{n:,} {what}{'s' if n != 1 else ''}"

    run = session.training
    parts = [f"{session.config.get('model', '?')} on {session.config.get('dataset', '?')}"]
    if run is not None:
        parts.append(count(int(run["update"]), "update"))
    parts.append(count(len(session.rows), "table row"))
    if session.gallery:
        parts.append(count(len(session.gallery), "kept run"))
    what = ", ".join(parts)
    if ended is None:
        text = f"Function Lab did not close normally. Restore that session ({what})?"
    else:
        stamp = time.localtime(ended)
        when = time.strftime("%H:%M" if stamp[:3] == time.localtime()[:3]
                             else "%Y-%m-%d %H:%M", stamp)
        text = f"Restore your last session, quit at {when} ({what})?"
    return text + (f" ({more} more after this one)" if more > 0 else "")


@dataclass
class Restorable:
    """A checked session with what `restore` needs already built."""

    session: Session
    config: RunConfig
    trainer: Trainer | None           # continues the saved run (None: start afresh)
    gallery: list[GalleryRun] | None = None   # the run gallery's runs, rebuilt


def check_restorable(session: Session) -> Restorable:
    """Everything `restore` needs, checked (and the saved run rebuilt) before anything
    changes; SessionError says what does not fit."""
    try:
        config = session.run_config()
    except ConfigError as exc:
        raise SessionError(f"bad settings: {exc}") from None
    from core.data import list_datasets
    from core.engine import Trainer
    from core.pieces import builder_from_state

    if config.dataset not in {i.name for i in list_datasets()} \
            and not Path(config.dataset).is_file():
        raise SessionError(f"its data file {config.dataset} is missing")
    if session.builder is not None:
        try:
            builder_from_state(session.builder)
        except ValueError as exc:
            raise SessionError(f"bad curve builder: {exc}") from None
    trainer = None
    if session.training is not None:
        try:
            trainer = Trainer.from_state(session.training)
        except (ValueError, KeyError, TypeError, OSError) as exc:   # ConfigError, DataError
            raise SessionError(f"its training cannot be continued ({one_line(exc)})") \
                from None
        if config.replace(init=None).needs_new_run(trainer.config.replace(init=None)):
            raise SessionError("its training belongs to other settings than its own")
    gallery = None
    if session.gallery is not None:
        from core.gallery import Gallery

        try:
            gallery = Gallery().read(session.gallery)
        except ValueError as exc:
            raise SessionError(one_line(exc)) from None
    return Restorable(session, config, trainer, gallery)


def restore(window: LabWindow, ready: Restorable) -> None:
    """Put a checked session (`check_restorable`) into the window."""
    session, config = ready.session, ready.config
    # Lecture mode's docks (one view a step) are its own: a session it kept on quit puts
    # them back only into lecture mode, never into the normal window's layout.
    if session.layout and (session.lecture_step is None) == (window.lecture is None):
        window.restore_layout(S.decode_layout(session.layout))
    # The theme stays the window's: it belongs to the screen in front of the class (a
    # setting the window remembers), not to the work. A session quit at home in the dark
    # theme, reopened on the projector, keeps the projector's picture. Applied again, it
    # shares the restored docks out for its fonts, as at a start in it.
    window.apply_theme(window.theme.name)
    if Path(config.dataset).is_file():   # an imported CSV: a choice with a readable name
        window.panel.add_dataset(config.dataset, f"{Path(config.dataset).stem} (imported)")
    table = window.table_view
    table.clear_rows()
    for row in session.rows:
        table.add_row(row)
    step = session.lecture_step
    if step is not None and window.lecture is not None:
        window.lecture.go(step)
    if session.builder is not None:
        window.builder_view.restore_state(session.builder)
    if ready.gallery is not None:
        window.gallery_view.set_runs(ready.gallery)
    window.restore_run(config, ready.trainer)
    if session.zoom:
        _ZoomAfterRun(window, session.zoom)


class _ZoomAfterRun(QObject):
    """Views set their own range when a run starts or a surface arrives: apply the saved
    zoom now, and again once the (new) run has drawn a frame and no view that draws the
    run is busy (an optional view's own work, a race or a fit, does not count)."""

    def __init__(self, window: LabWindow, zoom: dict[str, list[list[float]]]) -> None:
        super().__init__(window)
        self._window, self._zoom = window, zoom
        apply_ranges(window, zoom)
        self._tries = 0
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def _poll(self) -> None:
        w = self._window
        self._tries += 1
        ready = (w.latest is not None and w.run_info is not None
                 and w.latest.run_id >= w.run_info.run_id
                 and not any(w.views[k].busy() for k in VIEW_KEYS))
        if ready or self._tries > 200:   # 10 s at most
            self._timer.stop()
            apply_ranges(w, self._zoom)
            self.deleteLater()


# ---- the restore offer ----------------------------------------------------------------------
class RestoreBar(QFrame):
    """'Your last session did not end normally' with Restore and Discard."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("restoreBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 4, 6, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.restore_button = QPushButton("Restore")
        self.discard_button = QPushButton("Discard")
        lay.addWidget(self.label, 1)
        lay.addWidget(self.restore_button)
        lay.addWidget(self.discard_button)


# ---- the controller -------------------------------------------------------------------------
class SessionController(QObject):
    """File menu entries, this app's autosave and the restore offer for one window."""

    autosave_failed = Signal(str)   # from the writer thread; shown in the status line

    def __init__(self, window: LabWindow, autosave: bool = True,
                 folder: Path | None = None) -> None:
        super().__init__(window)
        self._window = window
        self.folder = folder or settings_dir()
        self.slot: AutosaveSlot | None = None
        self._write_lock = threading.Lock()
        self._queued: tuple[AutosaveSlot, Session] | None = None
        self._writer: threading.Thread | None = None   # the last writer started
        self._writing = False                            # ... and it is still writing
        self.autosave_failed.connect(self._on_autosave_failed)
        self._orphans: list[Orphan] = []      # claimed, not yet answered; [0] is offered
        # discarded on the bar, newest first (offers go newest first), deleted at quit
        self._discarded: list[Orphan] = []
        self._add_menu_entries()
        self._bar = QToolBar("Restore session")
        self._bar.setObjectName("restoreSessionBar")
        self._bar.setMovable(False)
        self._bar.toggleViewAction().setVisible(False)
        self.restore_bar = RestoreBar()
        self._bar.addWidget(self.restore_bar)
        window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self._bar)
        self._bar.hide()
        self.restore_bar.restore_button.clicked.connect(self.restore_pending)
        self.restore_bar.discard_button.clicked.connect(self.discard_pending)
        self._timer = QTimer(self)
        self._timer.setInterval(AUTOSAVE_MS)
        self._timer.timeout.connect(self.autosave)
        if autosave:
            try:   # our own autosave first, so the search below never claims it
                self.slot = AutosaveSlot(self.folder)
            except SessionError as exc:
                self._tell(f"Autosave is off: {exc}")
                return
            self._offer_previous()
            # A bound method of this QObject, so the call is queued to the GUI thread: a
            # lambda would run in the worker's thread, which would then wait for itself in
            # `training_state()`.
            window.worker.run_finished.connect(self._autosave_after_run)
            window.table_view.row_added.connect(self.autosave)
            self._timer.start()

    @property
    def autosave_enabled(self) -> bool:
        return self.slot is not None

    # ---- menu ---------------------------------------------------------------------------
    def _add_menu_entries(self) -> None:
        w = self._window
        file_menu, quit_action = w.file_menu, w.quit_action
        self.save_action = file_menu.addAction("Save session…", self.save_dialog)
        self.open_action = file_menu.addAction("Open session…", self.open_dialog)
        self.reopen_action = file_menu.addAction("Reopen last session", self.reopen_last)
        for act in (self.save_action, self.open_action, self.reopen_action):
            file_menu.removeAction(act)                   # keep Quit last
            file_menu.insertAction(quit_action, act)
        file_menu.insertSeparator(quit_action)
        file_menu.setToolTipsVisible(True)   # only actions given a tooltip show one
        self._update_reopen()

    def save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self._window, "Save session",
                                              "lesson.fnlab.json",
                                              "Function Lab sessions (*.json)")
        if path:
            self.save(path)

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._window, "Open session", "",
                                              "Function Lab sessions (*.json);;All files (*)")
        if path:
            self.open(path)

    # ---- commands -----------------------------------------------------------------------
    def save(self, path: str | Path) -> bool:
        try:
            S.save_session(path, capture(self._window))
        except SessionError as exc:
            self._window.show_banner(f"Session not saved: {exc}")
            return False
        self._window.statusBar().showMessage(f"Session saved to {Path(path).name}", 5000)
        return True

    def open(self, path: str | Path) -> bool:
        """Load, check, then restore; a bad file changes nothing and says why."""
        try:
            ready = check_restorable(S.load_session(path))
        except SessionError as exc:
            msg = str(exc)
            name = Path(path).name
            self._window.show_banner("Session not opened: "
                                     + (msg if msg.startswith(name) else f"{name}: {msg}"))
            return False
        restore(self._window, ready)
        self.autosave()
        return True

    @Slot(object)
    def _autosave_after_run(self, _end: object) -> None:
        self.autosave()

    def autosave(self) -> None:
        """Take the window's state now and write it in the background: a big network's
        session is tens of MB (1,000 x 4 ReLUs: 49 MB, measured 2.7 s to encode and write
        at load 16), which in the GUI thread froze the window every 30 s. One write at a
        time; a state taken during a write is written next (only the newest). A plain
        thread, not a `gui.background.BackgroundJob`: starting a job joins the one before
        it, and a new state must never wait in the GUI thread for a write under way."""
        if self.slot is None or self._window.closed:
            return
        session = capture(self._window)
        with self._write_lock:
            self._queued = (self.slot, session)
            if not self._writing:
                self._writing = True
                self._writer = threading.Thread(target=self._write_queued,
                                                name="fnlab-autosave")
                self._writer.start()

    def _write_queued(self) -> None:
        """The writer thread: write queued states until none is left (no widget here)."""
        while True:
            with self._write_lock:
                job, self._queued = self._queued, None
                if job is None:
                    self._writing = False
                    return
            slot, session = job
            try:
                slot.write(session)
            except SessionError as exc:
                self.autosave_failed.emit(str(exc))

    @Slot(str)
    def _on_autosave_failed(self, message: str) -> None:
        self._window.statusBar().showMessage(f"Autosave failed: {message}", 10000)

    def flush(self) -> None:
        """Wait until the autosave taken last is on disk (the GUI thread, which alone
        starts writers, waits here: the writer finishes every queued state, then ends)."""
        if self._writer is not None:
            self._writer.join()

    def close_clean(self) -> None:
        """A normal exit (before the window stops its threads): the session, taken now,
        is kept for the next start if it holds work (`has_work`), else this app's
        autosave goes; unanswered offers stay for next time. Whatever fails here (the
        state cannot be taken, the worker does not answer with a run it has trained, the
        write fails) leaves the last autosave, offered next time as an unclean one: the
        quit goes on, and nothing is deleted that was not kept."""
        self._timer.stop()
        for orphan in self._orphans:
            orphan.release()
        for orphan in self._discarded:
            orphan.forget()
        self._orphans, self._discarded = [], []
        slot, self.slot = self.slot, None
        if slot is None:
            self.flush()
            return
        try:
            session = capture(self._window)
        except Exception as exc:   # a quit must not fail: say why, keep the last autosave
            session, problem = None, one_line(exc)
        else:
            latest = self._window.latest
            trained = latest is not None and latest.update > 0
            problem = "the run's state did not arrive" \
                if session.training is None and trained else None
        self.flush()
        if session is not None and problem is None and not has_work(session):
            slot.close()
            return
        try:
            if session is None or problem is not None:
                raise SessionError(problem or "no state")
            slot.keep(session)
        except SessionError as exc:   # the window is going: stderr is all that is left
            slot.abandon()
            print(f"fnlab: the session was not kept ({exc}); its last autosave is "
                  "offered at the next start", file=sys.stderr)

    # ---- restore offer ------------------------------------------------------------------
    def _offer_previous(self) -> None:
        for orphan in S.claim_orphans(self.folder):
            if orphan.session is not None:
                self._orphans.append(orphan)
                continue
            try:
                kept = orphan.quarantine().name
            except OSError:
                kept = orphan.path.name
                orphan.release()
            self._tell(f"The autosave could not be restored ({orphan.error}); it is kept "
                       f"as {kept}.")
        self._show_offer()

    def _show_offer(self) -> None:
        self._update_reopen()
        pending = self.pending
        if pending is None:
            self._bar.hide()
            return
        self.restore_bar.label.setText(offer_text(pending, _ended(self._orphans[0]),
                                                  len(self._orphans) - 1))
        self._bar.show()

    def _update_reopen(self) -> None:
        """File > Reopen last session: enabled when a kept session is left, its tooltip
        the bar's words for it; disabled, the tooltip says why there is none."""
        newest = self._newest()
        act = self.reopen_action
        act.setEnabled(newest is not None)
        if newest is None or newest.session is None:
            act.setToolTip("No last session to reopen: Function Lab keeps one when it "
                           "quits with a run trained or a row recorded")
        else:
            act.setToolTip(offer_text(newest.session, _ended(newest), 0))

    def _tell(self, text: str) -> None:
        # a banner shown before the window is shown stays hidden: show it once shown
        QTimer.singleShot(0, self, lambda: self._window.show_banner(text))

    @property
    def pending(self) -> Session | None:
        """The session offered for restoring now, if any."""
        return self._orphans[0].session if self._orphans else None

    @property
    def offering(self) -> bool:
        return self.pending is not None

    def _newest(self) -> Orphan | None:
        """The newest kept session this app holds: one discarded here was offered before
        any still on the bar, so it is newer."""
        return (self._discarded or self._orphans or [None])[0]

    def restore_pending(self) -> bool:
        """The bar's Restore: the session it offers."""
        return bool(self._orphans) and self._restore(self._orphans.pop(0))

    def reopen_last(self) -> bool:
        """File > Reopen last session: the newest kept session, offered or discarded,
        restored as the bar's Restore does."""
        newest = self._newest()
        if newest is None:
            return False
        (self._discarded if newest in self._discarded else self._orphans).remove(newest)
        return self._restore(newest)

    def _restore(self, orphan: Orphan) -> bool:
        """Restore a claimed session (taken off its list): restored, it lives on in this
        app's autosave and its file goes; if it cannot be, it stays on disk for later."""
        try:
            if orphan.session is None:   # never offered (see `_offer_previous`)
                raise SessionError(orphan.error or "unreadable")
            ready = check_restorable(orphan.session)
        except SessionError as exc:
            self._window.show_banner(f"The autosave could not be restored: {exc}")
            orphan.release()      # kept on disk, offered again next time
            self._show_offer()
            return False
        restore(self._window, ready)
        self.autosave()           # the state lives in this app's autosave now
        self.flush()
        orphan.forget()
        self._show_offer()
        return True

    def discard_pending(self) -> None:
        """The bar's Discard: off the bar; still reopenable until this app quits."""
        if self._orphans:
            self._discarded.append(self._orphans.pop(0))
        self._show_offer()


def _ended(orphan: Orphan) -> float | None:
    """When a session kept at quit was written (None: its app did not close normally)."""
    if orphan.session is None or not orphan.session.clean:
        return None
    try:
        return orphan.path.stat().st_mtime
    except OSError:
        return time.time()
