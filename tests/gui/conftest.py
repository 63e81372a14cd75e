"""Shared GUI-test setup: offscreen Qt, a private settings folder, windows that must close
cleanly, and trained runs cached for the whole session."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Offscreen, on a 1920 x 1080 screen as a lecture hall's projector (Qt's offscreen plugin
# alone pretends 800 x 600, smaller than the window's least size).
from gui.offscreen import size_offscreen_screen

size_offscreen_screen()


@pytest.fixture(autouse=True)
def _delete_closed_windows() -> Iterator[None]:
    """After each test, delete every main window it closed.

    Python cannot free a closed window on its own: lambdas connected to its actions and
    docks hold it, and Qt holds the lambdas (a cycle through C++ that the garbage
    collector does not see). Each leaked window (1,100 widgets) stayed in the application,
    and every later window's stylesheet was applied to all of them: building a window
    took 2.4 s fresh and 10 s after eight others. Deleting the C++ side drops the
    connections and the whole window with them. A window a module-scoped fixture keeps
    open is left alone."""
    yield
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow

    app = QApplication.instance()
    if app is None:
        return
    closed = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isHidden()]
    for win in closed:
        win.deleteLater()
    if closed:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()


@pytest.fixture
def settings_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own settings file; the user's are never read or written."""
    from gui.main_window import SETTINGS_ENV

    folder = tmp_path / "settings"
    folder.mkdir()
    monkeypatch.setenv(SETTINGS_ENV, str(folder))
    return folder


@pytest.fixture
def open_window(qtbot: Any, settings_dir: Path) -> Iterator[Callable[..., Any]]:
    """`open_window(config=1-day linear, theme="dark", size=(1400, 900), speed=None, **kw)`:
    a shown MainWindow whose first run has started and sent its first snapshot. At
    teardown every window is closed, and no thread any of them started (Python or
    QThread) may still run, nor a view be busy."""
    from PySide6.QtCore import QThread
    from PySide6.QtWidgets import QApplication

    from core.config import RunConfig
    from gui.main_window import MainWindow

    baseline = set(threading.enumerate())
    windows: list[MainWindow] = []

    def make(config: RunConfig | None = None, theme: str = "dark",
             size: tuple[int, int] = (1400, 900), **kw: Any) -> MainWindow:
        if config is None:
            config = RunConfig(dataset="channel", days=1, model="linear", loss="mae",
                               optimizer="gd", lr=0.05, init=(0.0, 0.0))
        kw.setdefault("speed", None)   # flat out unless a test is about the speed
        win = MainWindow(config, theme=theme, **kw)
        windows.append(win)
        win.resize(*size)
        win.show()
        # the run's first snapshot too: it follows `run_started` once the worker has made
        # it, and tests read `win.latest` (two fresh clones' suites read None there)
        qtbot.waitUntil(lambda: win.run_info is not None and win.latest is not None,
                        timeout=20000)
        return win

    yield make
    for win in windows:
        win.close()
        assert not win.handle.running
        assert not any(v.busy() for v in win.views.values() if hasattr(v, "busy"))
    QApplication.processEvents()
    # a background job that had not reached its next check when its window closed ends
    # on its own, out of the closed window's object tree (`gui.background`)
    from gui.background import reap_orphans
    assert reap_orphans(timeout=30.0)
    extra = [t for t in threading.enumerate() if t not in baseline and t.is_alive()]
    assert not extra, extra
    app = QApplication.instance()
    assert not [t for t in app.findChildren(QThread) if t.isRunning()]
    # a window sets the app's style sheet for its theme; the next test's views start
    # from none, as when run alone (a projector window left its fonts to a later test)
    app.setStyleSheet("")


@pytest.fixture(scope="session")
def trained() -> Callable[..., object]:
    """`trained(updates, **config)` -> a `core.engine.Trainer` after that many updates.

    Cached per (updates, config) for the session: treat the trainer as read-only, or make
    your own when a test changes it.
    """
    from core.config import RunConfig
    from core.engine import Trainer

    cache: dict[tuple, Trainer] = {}

    def make(updates: int = 50, **config: object) -> Trainer:
        key = (updates, tuple(sorted(config.items())))
        if key not in cache:
            trainer = Trainer(RunConfig(**config))
            trainer.run(updates)
            cache[key] = trainer
        return cache[key]

    return make
