"""Sessions in the window: File > Save / Open session, autosave, and the restore offer.

What goes into a session is read from the window (`capture`), and a session is put back
(`restore`) only after it was fully validated, so a bad file never changes the current
state. Autosave writes every 30 s and whenever a run ends or a row is recorded; a normal
close marks it clean. An unclean autosave at start (the app or the machine died) is moved
aside and offered back on a non-modal bar with Restore / Discard: never a blocking dialog.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QObject, QStandardPaths, Qt, QTimer
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
from core.config import ConfigError, RunConfig
from core.session import Session, SessionError

if TYPE_CHECKING:
    from gui.main_window import MainWindow

AUTOSAVE_MS = 30_000
RECOVERED_NAME = "autosave.recovered.json"
SETTINGS_ENV = "FNLAB_SETTINGS_DIR"


def settings_dir() -> Path:
    """FNLAB_SETTINGS_DIR (tests) or the platform's per-user app data folder."""
    folder = os.environ.get(SETTINGS_ENV)
    if folder:
        return Path(folder)
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(loc or Path.home() / ".function-lab")


# ---- window <-> session ---------------------------------------------------------------------
def view_ranges(window: MainWindow) -> dict[str, list[list[float]]]:
    """Each view's visible range, for views that have a plot."""
    out = {}
    for key, view in window.views.items():
        plots = view.findChildren(pg.PlotWidget)
        if plots:
            (x0, x1), (y0, y1) = plots[0].getViewBox().viewRange()
            out[key] = [[float(x0), float(x1)], [float(y0), float(y1)]]
    return out


def apply_ranges(window: MainWindow, zoom: dict[str, list[list[float]]]) -> None:
    for key, ((x0, x1), (y0, y1)) in zoom.items():
        view = window.views.get(key)
        plots = view.findChildren(pg.PlotWidget) if view is not None else []
        if plots:
            plots[0].getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)


def lecture_step(window: MainWindow) -> int | None:
    """The lecture step shown (0-based), if lecture mode is on and shows one."""
    return None if window.lecture is None else window.lecture.current_step()


def capture(window: MainWindow) -> Session:
    """The window's state as a Session."""
    return Session(config=window.config.to_dict(), theme=window.theme.name,
                   lecture_step=lecture_step(window), rows=window.table_view.rows(),
                   zoom=view_ranges(window), layout=S.encode_layout(window.saveState()))


def check_restorable(session: Session) -> RunConfig:
    """Everything `restore` needs, checked before anything changes."""
    try:
        config = session.run_config()
    except ConfigError as exc:
        raise SessionError(f"bad settings: {exc}") from None
    from core.data import list_datasets

    if config.dataset not in {i.name for i in list_datasets()} \
            and not Path(config.dataset).is_file():
        raise SessionError(f"its data file {config.dataset} is missing")
    return config


def restore(window: MainWindow, session: Session) -> None:
    """Put `session` into the window (validate with `check_restorable` first)."""
    config = check_restorable(session)
    if session.layout:
        window.restoreState(S.decode_layout(session.layout))
    window.apply_theme(session.theme)
    if Path(config.dataset).is_file():   # an imported CSV: a choice with a readable name
        window.panel.add_dataset(config.dataset, f"{Path(config.dataset).stem} (imported)")
    table = window.table_view
    table.clear_rows()
    for row in session.rows:
        table.add_row(row)
    step = session.lecture_step
    if step is not None and window.lecture is not None:
        window.lecture.go(step)
    window.set_config(config)
    if session.zoom:
        _ZoomAfterRun(window, session.zoom)


class _ZoomAfterRun(QObject):
    """Views set their own range when a run starts or a surface arrives: apply the saved
    zoom now, and again once the (new) run has drawn a frame and no view is busy."""

    def __init__(self, window: MainWindow, zoom: dict[str, list[list[float]]]) -> None:
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
                 and not any(v.busy() for v in w.views.values()))
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
    """File menu entries, autosave and the restore offer for one window."""

    def __init__(self, window: MainWindow, autosave: bool = True,
                 folder: Path | None = None) -> None:
        super().__init__(window)
        self._window = window
        self.folder = folder or settings_dir()
        self.autosave_enabled = autosave
        self.pending: Session | None = None
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
            self._offer_previous()
            window.worker.run_finished.connect(lambda *_: self.autosave())
            window.table_view.row_added.connect(self.autosave)
            self._timer.start()

    # ---- menu ---------------------------------------------------------------------------
    def _add_menu_entries(self) -> None:
        w = self._window
        file_menu, quit_action = w.file_menu, w.quit_action
        self.save_action = file_menu.addAction("Save session…", self.save_dialog)
        self.open_action = file_menu.addAction("Open session…", self.open_dialog)
        for act in (self.save_action, self.open_action):   # keep Quit last
            file_menu.removeAction(act)
            file_menu.insertAction(quit_action, act)
        file_menu.insertSeparator(quit_action)

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
        """Load, validate, then restore; a bad file changes nothing and says why."""
        try:
            session = S.load_session(path)
            check_restorable(session)
        except SessionError as exc:
            msg = str(exc)
            name = Path(path).name
            self._window.show_banner("Session not opened: "
                                     + (msg if msg.startswith(name) else f"{name}: {msg}"))
            return False
        restore(self._window, session)
        self.autosave()
        return True

    def autosave(self) -> None:
        """Write the autosave (unclean: the app is running); errors only in the status."""
        if not self.autosave_enabled or self._window.closed:
            return
        try:
            S.write_autosave(self.folder, capture(self._window), clean=False)
        except SessionError as exc:
            self._window.statusBar().showMessage(f"Autosave failed: {exc}", 10000)

    def close_clean(self) -> None:
        """A normal exit: the last state, marked clean, so no restore is offered."""
        if not self.autosave_enabled:
            return
        self._timer.stop()
        # nothing to tell on the way out: on failure the unclean copy stays as it was
        with contextlib.suppress(SessionError):
            S.write_autosave(self.folder, capture(self._window), clean=True)

    # ---- restore offer ------------------------------------------------------------------
    def _offer_previous(self) -> None:
        auto = S.autosave_path(self.folder)
        recovered = self.folder / RECOVERED_NAME
        try:
            pending = S.pending_autosave(self.folder)
            if pending is not None:   # move it aside: our own autosaves must not overwrite it
                os.replace(auto, recovered)
            elif recovered.exists():  # offered before, neither restored nor discarded
                pending = S.load_session(recovered)
        except SessionError as exc:
            bad = auto if auto.exists() else recovered
            kept = S.quarantine(bad) if bad.exists() else bad
            self._tell(f"The autosave could not be restored ({exc}); it is kept as "
                       f"{kept.name}.")
            return
        except OSError as exc:
            self._tell(f"The autosave could not be moved aside: {exc}")
            return
        if pending is None:
            return
        self.pending = pending
        rows = len(pending.rows)
        self.restore_bar.label.setText(
            "Function Lab did not close normally last time. Restore that session "
            f"({pending.config.get('model', '?')} on {pending.config.get('dataset', '?')}, "
            f"{rows} table row{'s' if rows != 1 else ''})?")
        self._bar.show()

    def _tell(self, text: str) -> None:
        # a banner shown before the window is shown stays hidden: show it once shown
        QTimer.singleShot(0, self, lambda: self._window.show_banner(text))

    @property
    def offering(self) -> bool:
        return self.pending is not None

    def restore_pending(self) -> bool:
        session, self.pending = self.pending, None
        self._bar.hide()
        if session is None:
            return False
        try:
            check_restorable(session)
        except SessionError as exc:
            self._window.show_banner(f"The autosave could not be restored: {exc}")
            return False
        restore(self._window, session)
        (self.folder / RECOVERED_NAME).unlink(missing_ok=True)
        self.autosave()
        return True

    def discard_pending(self) -> None:
        self.pending = None
        self._bar.hide()
        (self.folder / RECOVERED_NAME).unlink(missing_ok=True)
