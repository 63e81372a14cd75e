"""What the window's tools may use of the window: its view keys and a typed interface.

The replay scrubber, the Export menu, sessions, lecture mode and the screenshot mode each
work on the main window, and the window builds them. They depend on `LabWindow` (a
`typing.Protocol` that gui/main_window.py's `MainWindow` fulfils), never on
gui/main_window.py itself, so no import runs in a circle and each tool says exactly what
it needs. Lecture mode is seen by the window and sessions only as a `LectureMode`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from PySide6.QtCore import QByteArray, QObject, Qt, SignalInstance
    from PySide6.QtGui import QAction, QPixmap
    from PySide6.QtWidgets import QDockWidget, QMenu, QMenuBar, QStatusBar, QToolBar

    from core.config import RunConfig
    from core.snapshot import Snapshot
    from gui.controls.panel import ControlPanel
    from gui.shortcuts import ShortcutOverlay
    from gui.theme import Theme
    from gui.views.base import View
    from gui.views.builder_view import BuilderView
    from gui.views.gallery_view import GalleryView
    from gui.views.landscape_compare_view import LandscapeCompareView
    from gui.views.loss_view import LossView
    from gui.views.race_view import RaceView
    from gui.views.series_view import SeriesView
    from gui.views.surface_view import SurfaceView
    from gui.views.sweep_view import SweepView
    from gui.views.table_view import LossTableView
    from gui.worker import RunInfo, TrainingWorker

LIVE_VIEWS = ("surface", "fit", "series", "loss")   # a layout must show at least one
# The views that show the main run (and "controls", which drive it): its scrubber is shown
# with them; the race, gallery, builder, table and landscapes show runs of their own.
MAIN_RUN_VIEWS = (*LIVE_VIEWS, "controls")
VIEW_KEYS = ("surface", "fit", "series", "loss", "table")
# Docked but hidden until the View menu (or a lecture step) shows them; each is a tab
# beside the view it belongs with.
OPTIONAL_VIEWS = ("builder", "race", "landscapes", "sweep", "gallery")


@runtime_checkable
class LectureMode(Protocol):
    """Lecture mode as the window and sessions see it (gui/lecture.py's controller)."""

    def current_step(self) -> int | None:
        """The step shown (0-based), None before the first is shown."""
        ...

    def go(self, n: int) -> None:
        """Show step n (0-based) and train it."""
        ...

    def share_space(self) -> None:
        """Share the window among the step's panel and views (after a theme's fonts)."""
        ...


@runtime_checkable
class LabWindow(Protocol):
    """The main window as its tools use it; `MainWindow` is the one implementation."""

    # ---- parts --------------------------------------------------------------------------
    views: dict[str, View]              # every view, keyed as VIEW_KEYS + OPTIONAL_VIEWS
    docks: dict[str, QDockWidget]       # the views' docks and "controls"
    timeline_dock: QDockWidget          # the main run's scrubber (gui.replay)
    panel: ControlPanel
    surface_view: SurfaceView
    series_view: SeriesView
    loss_view: LossView
    table_view: LossTableView
    builder_view: BuilderView
    race_view: RaceView
    landscapes_view: LandscapeCompareView
    sweep_view: SweepView
    gallery_view: GalleryView
    shortcut_overlay: ShortcutOverlay
    lecture: LectureMode | None         # set by lecture mode
    file_menu: QMenu
    run_menu: QMenu
    quit_action: QAction
    play_action: QAction
    frame_drawn: SignalInstance         # the snapshot just drawn
    theme_changed: SignalInstance       # a Theme applied (the menu, presentation, a screen)

    # ---- state --------------------------------------------------------------------------
    @property
    def worker(self) -> TrainingWorker: ...
    @property
    def config(self) -> RunConfig: ...
    @property
    def latest(self) -> Snapshot | None: ...
    @property
    def run_info(self) -> RunInfo | None: ...
    @property
    def playing(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    @property
    def speed(self) -> float | None: ...
    @property
    def theme(self) -> Theme: ...

    # ---- commands -----------------------------------------------------------------------
    def play(self) -> None: ...
    def pause(self) -> None: ...
    def reset(self) -> None: ...
    def set_config(self, config: RunConfig) -> None: ...
    def set_speed(self, speed: float | None) -> None: ...
    def set_start(self, w: float, b: float) -> None: ...
    def show_banner(self, text: str) -> None: ...
    def apply_theme(self, name: str, relayout: bool = True) -> None: ...
    def use_layout(self, name: str) -> None: ...
    def restore_layout(self, state: Any) -> bool: ...
    def restore_run(self, config: RunConfig, trainer: Any = None) -> None: ...
    def training_state(self) -> dict[str, Any] | None: ...
    def add_action(self, menu: Any, text: str, slot: Any, shortcut: Any = None,
                   extra: tuple[str, ...] = ()) -> QAction: ...

    # ---- Qt's own (QMainWindow), as the tools call them ----------------------------------
    def statusBar(self) -> QStatusBar: ...
    def menuBar(self) -> QMenuBar: ...
    def addDockWidget(self, area: Qt.DockWidgetArea, dock: QDockWidget) -> None: ...
    def resizeDocks(self, docks: list[QDockWidget], sizes: list[int],
                    orientation: Qt.Orientation) -> None: ...
    def setCorner(self, corner: Qt.Corner, area: Qt.DockWidgetArea) -> None: ...
    def addToolBar(self, area: Qt.ToolBarArea, bar: QToolBar) -> None: ...
    def addToolBarBreak(self, area: Qt.ToolBarArea) -> None: ...
    def saveState(self) -> QByteArray: ...
    def grab(self) -> QPixmap: ...
    def findChildren(self, kind: Any) -> list[Any]: ...
    def installEventFilter(self, watcher: QObject) -> None: ...
    def isActiveWindow(self) -> bool: ...
    def isVisible(self) -> bool: ...
    def showFullScreen(self) -> None: ...
    def showNormal(self) -> None: ...
    def height(self) -> int: ...
    def resize(self, w: int, h: int) -> None: ...
    def show(self) -> None: ...
