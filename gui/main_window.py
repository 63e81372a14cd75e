# Over 450 lines: the glue: docks, menus, worker signals, frame timer, each short.
"""The main window: control panel, five rearrangeable views, banner, status line, menus.

The window is glue. The panel makes configs, the worker trains, the views draw. Snapshots
arrive on a queued signal; only the newest is kept, and a ~30 fps timer draws it once,
so a fast worker can never flood the GUI thread.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QTabBar,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.config import ConfigError, RunConfig, one_line
from core.results import loss_equals
from gui.controls.number_controls import DEFAULT_SPEED
from gui.controls.panel import OPTIMIZER_NAMES, ControlPanel
from gui.live_label import LiveLabel
from gui.session import SETTINGS_ENV
from gui.theme import THEMES, Theme, apply_pyqtgraph, for_screen, readable_on, stylesheet
from gui.window_api import LIVE_VIEWS, OPTIONAL_VIEWS, VIEW_KEYS, LectureMode
from gui.worker import RunEnd, RunInfo, WorkerHandle, start_is_init

if TYPE_CHECKING:
    from gui.session import SessionController
    from gui.views.base import View
    from gui.views.builder_view import BuilderView
    from gui.views.fit_view import FitView
    from gui.views.gallery_view import GalleryView
    from gui.views.landscape_compare_view import LandscapeCompareView
    from gui.views.loss_view import LossView
    from gui.views.race_view import RaceView
    from gui.views.series_view import SeriesView
    from gui.views.surface_view import SurfaceView
    from gui.views.sweep_view import SweepView
    from gui.views.table_view import LossTableView

FRAME_MS = 33
FRAME_EARLY_MS = 3      # a snapshot this much before a frame's time is drawn at once
# The worker (and with it torch, numba and the data: ~1 s of imports holding the GIL)
# starts once the window has painted, so it does not delay the first window; at most this
# long after show() where the platform sends no paint.
FIRST_PAINT_WAIT_MS = 500
DEFAULT_SIZE = (1600, 1000)   # then fitted to the screen's free area
COMPACT_HEIGHT = 800          # px: a shorter normal window shows its views compact
# The race, opened in the normal window: its least share of the views' width and height
# (0.6 of the height left the series plot ~30 px at 1600 x 1000, projector; 0.7 of the
# width gives the race's surface ~500 px at 1600 x 1000, dark, the fitted function ~370).
RACE_SHARE = (0.7, 0.52)
# The side-by-side landscapes are no tab: a hidden tab beside the surface left a stray tab
# bar over the controls.
OPTIONAL_TITLES: dict[str, tuple[str, str | None]] = {
    "builder": ("Curve builder", "fit"), "race": ("Optimizer race", "surface"),
    "landscapes": ("Loss landscapes", None), "sweep": ("Sweep", "surface"),
    "gallery": ("Run gallery", "surface")}


def make_settings() -> QSettings:
    """The user's settings, or a private file when FNLAB_SETTINGS_DIR is set (tests)."""
    folder = os.environ.get(SETTINGS_ENV)
    if folder:
        return QSettings(str(Path(folder) / "FunctionLab.ini"), QSettings.Format.IniFormat)
    return QSettings("FunctionLab", "FunctionLab")


class Banner(QFrame):
    """A coloured, dismissable message across the top: divergence, import errors.

    It lives in a toolbar above the docks, where no dock layout can cover or squeeze it.
    A toolbar shows a widget only through the action `QToolBar.addWidget` returns
    (QWidget.show()/hide() on the widget itself leave it unlaid-out and unpainted: the
    bug where `isVisible()` was true and the window showed nothing), so the banner is
    shown and hidden through that action, together with its toolbar.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setObjectName("bannerText")
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("dismiss")
        close.setAutoRaise(True)
        close.clicked.connect(self.dismiss)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self._close = close
        self._bar: QToolBar | None = None
        self._action: QAction | None = None

    def place_in(self, bar: QToolBar) -> None:
        """Put the banner in `bar` (hidden until a message comes)."""
        self._bar = bar
        self._action = bar.addWidget(self)
        self._action.setVisible(False)
        bar.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        if self._action is None:
            self.show()
            return
        self._action.setVisible(True)
        self._bar.show()
        self.updateGeometry()

    def dismiss(self) -> None:
        if self._action is None:
            self.hide()
            return
        self._action.setVisible(False)
        self._bar.hide()

    def sync(self) -> None:
        """The toolbar shows exactly when a message does (a restored window state may
        have saved it either way)."""
        if self._bar is not None:
            self._bar.setVisible(self._action.isVisible())

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def sizeHint(self) -> QSize:
        """As tall as the wrapped message needs at the width the window gives it (a
        toolbar asks only for a size hint, never for a height for a width)."""
        hint = super().sizeHint()
        window = self.window()
        width = (window.width() if window is not None and window is not self else
                 hint.width()) - 16
        margins = self.layout().contentsMargins()
        text_width = max(100, width - self._close.sizeHint().width() - margins.left()
                         - margins.right() - self.layout().spacing())
        height = max(self.label.heightForWidth(text_width), self._close.sizeHint().height())
        # narrow: the toolbar must never widen the window for a long message
        return QSize(min(hint.width(), 400), height + margins.top() + margins.bottom())

    def minimumSizeHint(self) -> QSize:
        return QSize(200, super().minimumSizeHint().height())

    def apply_theme(self, theme: Theme) -> None:
        self.setStyleSheet(
            f"QFrame#banner {{ background: {theme.warning}; border-radius: 4px; }}"
            f"QFrame#banner QLabel, QFrame#banner QToolButton {{ background: transparent;"
            f" color: {readable_on(theme.warning)}; font-weight: bold;"
            f" font-size: {theme.title_pt}pt; }}")
        self.updateGeometry()


def create_views(theme: Theme) -> dict[str, View]:
    """The five views, keyed as VIEW_KEYS, and the optional ones (OPTIONAL_VIEWS)."""
    from gui.views.builder_view import BuilderView
    from gui.views.fit_view import FitView
    from gui.views.gallery_view import GalleryView
    from gui.views.landscape_compare_view import LandscapeCompareView
    from gui.views.loss_view import LossView
    from gui.views.race_view import RaceView
    from gui.views.series_view import SeriesView
    from gui.views.surface_view import SurfaceView
    from gui.views.sweep_view import SweepView
    from gui.views.table_view import LossTableView

    return {"surface": SurfaceView(theme), "fit": FitView(theme), "series": SeriesView(theme),
            "loss": LossView(theme), "table": LossTableView(theme),
            "builder": BuilderView(theme), "race": RaceView(theme),
            "landscapes": LandscapeCompareView(theme),
            "sweep": SweepView(theme), "gallery": GalleryView(theme)}


def builtin_datasets() -> list[tuple[str, str]]:
    from core.data import list_datasets

    return [(i.name, i.title + (" (synthetic)" if i.synthetic else "")) for i in list_datasets()]


@dataclass
class _Frame:
    """A frame being drawn: its snapshot, the views still to draw it (the last one draws
    the status line and the timeline too), and the GUI thread's seconds on it so far."""

    snap: Any
    views: list[View]
    seconds: float = 0.0


def flush_paint() -> None:
    """Deliver what drawing posted, now: the scenes' dirty items, then the window's update
    request, then the paint and its flush to the screen (three rounds)."""
    for _ in range(3):
        QCoreApplication.sendPostedEvents()


class MainWindow(QMainWindow):
    """Owns the worker thread and the views; `shutdown()` (or closing) stops both. Its
    tools (replay, export, sessions, lecture mode) see it as a `gui.window_api.LabWindow`."""

    frame_drawn = Signal(object)   # the snapshot just drawn (tests, screenshots)
    first_painted = Signal()       # the window's first paint (start-up bench)
    theme_changed = Signal(object)  # the Theme just applied (what the window does not own)

    def __init__(self, config: RunConfig | None = None, theme: str | None = None,
                 persist: bool = True, speed: float | None = DEFAULT_SPEED,
                 layout: str = "main") -> None:
        """`speed`: updates per second to start with (None: as fast as possible);
        `layout`: whose saved dock layout this window keeps ("main", or "lecture" for
        lecture mode, so that its one-view steps never become the normal app's layout)."""
        super().__init__()
        self.setWindowTitle("Function Lab: machine learning is looking for a function")
        self._settings = make_settings() if persist else None
        if theme is None:
            theme = str(self._settings.value("theme", "dark")) if self._settings else "dark"
        self._theme = self._theme_for_screen(theme)
        self._follows_screen = False
        apply_pyqtgraph(self._theme)
        self._config = config or RunConfig()
        self._active: RunConfig = self._config     # config of the run being trained
        self._run: RunInfo | None = None
        self._pending: Any = None                  # newest undrawn snapshot
        self._latest: Any = None                   # newest snapshot of the current run
        self._recorded: set[tuple[int, int]] = set()
        self._rate = (time.perf_counter(), 0, 0.0)  # (t, update, updates/s) for the status
        self._playing = False
        self._closed = False
        self._painted = False
        # Set by the classroom tools below and by lecture mode (gui/lecture.open_lecture).
        self.sessions: SessionController | None = None
        self._lecture: LectureMode | None = None
        self._record_pending = False
        self._proportion_pending = False
        # the docks' sizes before the race took its room (given back when it leaves)
        self._before_race: tuple[list[int], list[int]] | None = None

        self._build_banner()
        self.views = create_views(self._theme)
        # The views others drive (lecture mode, sessions, export), typed; all are also in
        # `views`, by key.
        v = self.views
        self.fit_view: FitView = v["fit"]  # type: ignore[assignment]
        self.surface_view: SurfaceView = v["surface"]  # type: ignore[assignment]
        self.series_view: SeriesView = v["series"]  # type: ignore[assignment]
        self.loss_view: LossView = v["loss"]  # type: ignore[assignment]
        self.table_view: LossTableView = v["table"]  # type: ignore[assignment]
        self.builder_view: BuilderView = v["builder"]  # type: ignore[assignment]
        self.race_view: RaceView = v["race"]  # type: ignore[assignment]
        self.landscapes_view: LandscapeCompareView = v["landscapes"]  # type: ignore[assignment]
        self.sweep_view: SweepView = v["sweep"]  # type: ignore[assignment]
        self.gallery_view: GalleryView = v["gallery"]  # type: ignore[assignment]
        self.panel = ControlPanel(self._config, builtin_datasets())
        self._build_docks()
        self._build_menus()
        self._status = LiveLabel("starting…")   # changes every frame: no relayout
        self.statusBar().addWidget(self._status, 1)
        self._default_state = self.saveState()
        self.resize(*DEFAULT_SIZE)
        self._layout_name = layout
        restored = self._settings is not None and self._restore_settings()
        self.apply_theme(self._theme.name, relayout=not restored)

        self.handle = WorkerHandle(self._config)
        w = self.handle.worker
        self.set_speed(speed)
        w.run_started.connect(self._on_run_started)
        w.snapshot_ready.connect(self._on_snapshot)
        w.run_finished.connect(self._on_run_finished)
        w.run_left.connect(self._keep_in_gallery)
        w.config_applied.connect(self._on_config_applied)
        w.playing_changed.connect(self._on_playing)
        w.error.connect(self._on_worker_error)

        p = self.panel
        p.config_changed.connect(self._on_config)
        p.invalid.connect(self.show_banner)
        p.import_requested.connect(self.import_csv)
        p.play_clicked.connect(self.toggle_play)
        p.step_clicked.connect(self.step)
        p.reset_clicked.connect(self.reset)
        # The worker's methods are called here, in the GUI thread (they only post to its
        # mailbox): connected to the worker itself, a signal would be queued to the worker
        # thread's event loop, which never runs while it trains (the Speed slider did
        # nothing that way).
        p.speed_changed.connect(self.set_speed)
        self.surface_view.start_requested.connect(self.set_start)
        self.surface_view.track_requested.connect(self.set_track)
        self.table_view.record_requested.connect(self.record)
        self.race_view.rows_ready.connect(self._add_race_rows)
        self.race_view.racers_ended.connect(self.gallery_view.keep_race)
        # a clicked sweep cell opens its run in the main views
        self.sweep_view.open_requested.connect(self._open_sweep_cell)
        self._origins: dict[int, str] = {}           # run id -> where the run came from
        self._next_origin: tuple[RunConfig, str] | None = None

        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._draw_frame)
        self._timer.start()
        self._frame: _Frame | None = None            # the frame being drawn, in pieces
        self.frame_seconds = 0.0                     # the GUI thread's, for the last one
        # a zero timer, not a posted call: `flush_paint` would run a posted one at once
        self._piece_timer = QTimer(self)
        self._piece_timer.setSingleShot(True)
        self._piece_timer.setInterval(0)
        self._piece_timer.timeout.connect(self._draw_piece)
        # A snapshot that comes a frame or more after the last frame began is drawn at once
        # (`_draw_soon`), the frame timer's phase moved to it.
        self._frame_started = 0.0
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self._draw_frame)
        self._install_classroom_tools()
        QTimer.singleShot(0, self._start_worker_after_paint)

    # ---- start-up ---------------------------------------------------------------------
    def _start_worker_after_paint(self) -> None:
        """Start the worker now if the window is not shown (yet), else once it painted."""
        if self._painted or not self.isVisible():
            self._start_worker()
        else:
            QTimer.singleShot(FIRST_PAINT_WAIT_MS, self._start_worker)

    def _start_worker(self) -> None:
        if not self._closed and not self.handle.started:
            self.handle.start()

    def paintEvent(self, event: Any) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()
            QTimer.singleShot(0, self._start_worker)

    def _install_classroom_tools(self) -> None:
        """Export menu, the replay scrubber, sessions (autosave only when persisting) and the
        "?" overlay."""
        from gui.export import install_export_menu
        from gui.replay import RunReplay
        from gui.session import SessionController
        from gui.shortcuts import install_shortcut_overlay

        self.replay = RunReplay(self)
        self.timeline_dock = self.replay.dock
        install_export_menu(self)
        self.sessions = SessionController(self, autosave=self._settings is not None)
        self.shortcut_overlay = install_shortcut_overlay(self, lambda: self._theme)

    # ---- layout -----------------------------------------------------------------------
    def _build_banner(self) -> None:
        bar = QToolBar("Messages")
        bar.setObjectName("bannerBar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.toggleViewAction().setVisible(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.banner = Banner()
        self.banner.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.banner.place_in(bar)
        self._banner_bar = bar
        # docks take the whole window: the central widget is an empty, hidden stand-in
        central = QWidget()
        central.setMaximumSize(0, 0)
        self.setCentralWidget(central)
        central.hide()
        self.setDockNestingEnabled(True)

    def _build_docks(self) -> None:
        self.docks: dict[str, QDockWidget] = {}
        controls = QDockWidget("Controls", self)
        controls.setObjectName("dock_controls")
        holder = QWidget()
        holder.setObjectName("controlsHolder")
        lay = QVBoxLayout(holder)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.panel, 1)
        self.panel.run_box.setContentsMargins(8, 0, 8, 8)
        lay.addWidget(self.panel.run_box)
        controls.setWidget(holder)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, controls)
        self.docks["controls"] = controls
        for key in VIEW_KEYS:
            view = self.views[key]
            dock = QDockWidget(view.title or key, self)
            dock.setObjectName(f"dock_{key}")
            dock.setWidget(view)
            self.docks[key] = dock
        d = self.docks
        area = Qt.DockWidgetArea.RightDockWidgetArea
        self.addDockWidget(area, d["surface"])
        self.splitDockWidget(d["surface"], d["table"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["surface"], d["series"], Qt.Orientation.Vertical)
        self.splitDockWidget(d["surface"], d["fit"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["series"], d["loss"], Qt.Orientation.Horizontal)
        self._build_optional_docks()

    def _build_optional_docks(self) -> None:
        """The curve builder (a tab beside the fit view), the optimizer race (beside the
        surface) and the side-by-side landscapes: hidden, raised when shown.

        A dock joins its neighbour's tabs when it is first shown, not while the window is
        built: docks tabified and hidden before the first show left Qt's first tab bar
        (with a hidden dock's tab) drawn over the controls, a stale bar no layout removed.
        """
        for key in OPTIONAL_VIEWS:
            view = self.views[key]
            title, beside = OPTIONAL_TITLES[key]
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{key}")
            # These views hold many controls (the race's six racers and its explanation:
            # 917 x 535 px at least): bare, their least size made the window 1,357 x 965
            # on a 1280 x 720 screen. In a scroll area they scroll in a small dock instead.
            scroll = QScrollArea(dock)
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(view)
            dock.setWidget(scroll)
            self.docks[key] = dock
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
            dock.hide()
            dock.visibilityChanged.connect(
                lambda on, d=dock, b=beside: on and self._join_tabs(d, b))
        race = self.docks["race"]
        race.visibilityChanged.connect(
            lambda on: QTimer.singleShot(0, self.give_race_room if on else self._race_left))
        race.topLevelChanged.connect(lambda _floating: QTimer.singleShot(0, self._race_left))

    def _join_tabs(self, dock: QDockWidget, beside: str | None) -> None:
        """Put a shown optional dock in its neighbour's tabs (once) and bring it forward
        after Qt has shown it (a shown tab is not necessarily the current one)."""
        other = self.docks.get(beside) if beside is not None else None
        if other is not None and not dock.isFloating() \
                and other not in self.tabifiedDockWidgets(dock):
            self.tabifyDockWidget(other, dock)
        QTimer.singleShot(0, dock.raise_)

    def give_race_room(self) -> None:
        """The race, shown or raised in the normal window, gets the room it is read in:
        its column at least as wide as the race's least width (the racers' controls
        beside the plots' least width) and at least RACE_SHARE of the views' width and
        of their height. In the default layout's share (634 x 376 px at
        1600 x 1000) the race scrolled sideways, its surface ~180 px wide and cut, its
        loss plot tiny. Lecture mode shares its steps' space itself; a floating race has
        its own window."""
        dock = self.docks["race"]
        if self._lecture is not None or self._closed or dock.isFloating() \
                or not dock.isVisible():
            return
        if self._before_race is None:
            # the top row's height is the fitted function's (the race's lacks its tab bar)
            self._before_race = ([dock.width(), self.docks["fit"].width()],
                                 [self.docks[k].height() for k in ("fit", "series", "table")])
        scroll = dock.widget()
        chrome = dock.width() - scroll.viewport().width()
        if not scroll.verticalScrollBar().isVisible():   # room for one, should it come
            chrome += scroll.verticalScrollBar().sizeHint().width()
        need = self.race_view.minimumSizeHint().width() + chrome
        fit = self.docks["fit"]
        if not fit.isHidden() and not fit.isFloating():
            both = dock.width() + fit.width()
            wide = min(max(need, int(both * RACE_SHARE[0])), both - fit.minimumSizeHint().width())
            self.resizeDocks([dock, fit], [wide, both - wide], Qt.Orientation.Horizontal)
        below = [self.docks[k] for k in ("series", "table")
                 if not self.docks[k].isHidden() and not self.docks[k].isFloating()]
        if below:
            total = dock.height() + sum(d.height() for d in below)
            tall = int(total * RACE_SHARE[1])
            rest = [max(1, (total - tall) * d.height()
                        // max(sum(b.height() for b in below), 1)) for d in below]
            self.resizeDocks([dock, *below], [tall, *rest], Qt.Orientation.Vertical)

    def _race_left(self) -> None:
        """The race closed, floated or behind the error surface's tab: the docks it grew
        into get their sizes back (the surface, its tab partner, takes the race's), so
        the window's other views are as they were before it was shown."""
        dock = self.docks["race"]
        if self._before_race is None or self._closed or self._lecture is not None \
                or (dock.isVisible() and not dock.isFloating()):
            return
        widths, heights = self._before_race
        self._before_race = None
        d = self.docks
        for keys, sizes, orient in ((("surface", "fit"), widths, Qt.Orientation.Horizontal),
                                    (("fit", "series", "table"), heights,
                                     Qt.Orientation.Vertical)):
            keep = [(d[k], n) for k, n in zip(keys, sizes, strict=True)
                    if not d[k].isHidden() and not d[k].isFloating()]
            if len(keep) > 1:
                self.resizeDocks([k for k, _ in keep], [n for _, n in keep], orient)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        self.file_menu = file_menu = mb.addMenu("&File")
        self._action(file_menu, "Import CSV…", self.import_csv, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Save screenshot…", self.save_screenshot_dialog, "Ctrl+Shift+S")
        file_menu.addSeparator()
        self.quit_action = self._action(file_menu, "Quit", self.close,
                                        QKeySequence.StandardKey.Quit)

        view_menu = mb.addMenu("&View")
        theme_menu = view_menu.addMenu("Theme")
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for name, text in (("dark", "Dark (laptop)"), ("projector", "Projector (light, large)")):
            act = QAction(text, self, checkable=True)
            act.triggered.connect(lambda _=False, n=name: self.apply_theme(n))
            group.addAction(act)
            theme_menu.addAction(act)
            self.theme_actions[name] = act
        view_menu.addSeparator()
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        self._action(view_menu, "Reset layout", self.reset_layout, "Ctrl+Shift+L")

        self.run_menu = run_menu = mb.addMenu("&Run")
        self.play_action = self._action(run_menu, "Play / Pause", self.toggle_play, "Space")
        step = self._action(run_menu, "Step one update", self.step, "S")
        step.setShortcuts([QKeySequence("S"), QKeySequence("Right")])
        self._action(run_menu, "Reset", self.reset, "R")
        self._action(run_menu, "Record row in table", self.record, "Ctrl+R")

    def _action(self, menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
        return self.add_action(menu, text, slot, shortcut)

    def add_action(self, menu: Any, text: str, slot: Any, shortcut: Any = None,
                   extra: tuple[str, ...] = ()) -> QAction:
        """A menu entry with its window-wide shortcut (and `extra` keys for it)."""
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcuts([QKeySequence(shortcut), *(QKeySequence(k) for k in extra)])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def reset_layout(self) -> None:
        """Every view docked and shown (the optional ones hidden), in proportion to the
        window."""
        self.restoreState(self._default_state)
        self.banner.sync()
        for key, dock in self.docks.items():
            dock.setVisible(key not in OPTIONAL_VIEWS)
            dock.setFloating(False)
        self._proportion_later()

    def _proportion_later(self) -> None:
        """Share the docks out once the theme's fonts are in effect: Qt re-polishes the
        widgets of a new style sheet lazily, and docks sized from the old fonts' hints
        were reshuffled afterwards (the panel took 44% of a 1,280 px window)."""
        self._proportion_pending = True
        if self.isVisible():
            QTimer.singleShot(0, self._proportion_now)

    def _proportion_now(self) -> None:
        if self._proportion_pending and not self._closed:
            self._proportion_pending = False
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            if self._lecture is not None:
                # the step's own shares, not the normal layout's (a live theme switch
                # gave 'More ReLUs' the normal 60:40 series and loss), and the panel's
                # height for the new fonts (after a switch to the projector at 1280 x 720
                # the caption kept the dark theme's height, its last line cut)
                self._lecture.share_space()
            else:
                self.proportion_docks()   # the size stays (a screenshot's is set on purpose)
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
            self._hide_stray_tab_bars()

    def _hide_stray_tab_bars(self) -> None:
        """A tab group whose other docks are hidden (the optional views) can leave its tab
        bar drawn over the views after a relayout (seen with the race beside the surface:
        "Error surface | Optimizer race" over the series view): hide a tab bar that
        stands for fewer than two shown docks."""
        shown = {d.windowTitle() for d in self.docks.values()
                 if not d.isHidden() and not d.isFloating()}
        for bar in self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if bar.isVisible() and sum(bar.tabText(i) in shown
                                       for i in range(bar.count())) < 2:
                bar.hide()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        # Only a shown window has its frame (title bar, borders): keep it on the screen.
        QTimer.singleShot(0, self.fit_to_screen)
        handle = self.windowHandle()
        if handle is not None and not self._follows_screen:
            # Dragged onto the projector's screen: the theme's sizes for that screen.
            handle.screenChanged.connect(lambda _screen: self.apply_theme(self._theme.name))
            self._follows_screen = True
        if self._proportion_pending:
            QTimer.singleShot(0, self._proportion_now)
        else:   # a restored layout
            QTimer.singleShot(0, self._hide_stray_tab_bars)

    @property
    def lecture(self) -> LectureMode | None:
        """Lecture mode's controller while the window is in lecture mode (gui/app.py's
        `open_lecture` sets it)."""
        return self._lecture

    @lecture.setter
    def lecture(self, controller: LectureMode | None) -> None:
        self._lecture = controller
        self._update_compact()

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._update_compact()
        overlay = getattr(self, "shortcut_overlay", None)   # (made after the first resize)
        if overlay is not None:
            overlay.follow_window()

    def _update_compact(self) -> None:
        """The normal window under COMPACT_HEIGHT (a 1280 x 720 screen's 694 px) shows
        its views compact (`View.set_compact`: one-row legends, one-line notes), so the
        short plots keep their room: the series plot was ~40 px tall there, the loss
        curves under their legend. Lecture mode lays its steps out itself."""
        on = self._lecture is None and self.height() < COMPACT_HEIGHT
        for view in self.views.values():
            view.set_compact(on)
        self.panel.set_compact(on)

    def proportion_docks(self) -> None:
        """Share the window among the docks as the default layout does, for this window's
        size and this theme's fonts: the panel as wide as its knobs, then the surface and
        the fitted function side by side, the series and the loss curves, the table.
        Starting in a theme and switching to it give the same picture."""
        d = self.docks
        width, height = max(self.width(), 1), max(self.height(), 1)
        shown = {k for k, dock in d.items() if not dock.isHidden() and not dock.isFloating()}

        def share(keys: list[str], parts: list[float], orient: Qt.Orientation) -> None:
            pairs = [(d[k], p) for k, p in zip(keys, parts, strict=True) if k in shown]
            if pairs:
                self.resizeDocks([p[0] for p in pairs], [max(1, int(p[1])) for p in pairs],
                                 orient)

        horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        panel = min(self.panel.sizeHint().width(), width // 3)
        share(["controls", "surface"], [panel, width - panel], horizontal)
        rest = width - panel
        share(["surface", "fit"], [rest * 0.5, rest * 0.5], horizontal)
        share(["series", "loss"], [rest * 0.6, rest * 0.4], horizontal)
        share(["surface", "series", "table"], [height * 0.44, height * 0.34, height * 0.22],
              vertical)

    def apply_theme(self, name: str, relayout: bool = True) -> None:
        """Colours and fonts of `name`; the window stays on its screen, and with
        `relayout` the docks are shared out again for the new fonts (as at a start in
        this theme)."""
        theme = self._theme_for_screen(name)
        self._theme = theme
        apply_pyqtgraph(theme)
        app = QApplication.instance()
        if app is not None:
            app.setStyleSheet(stylesheet(theme))
        for view in self.views.values():
            view.apply_theme(theme)
        self.banner.apply_theme(theme)
        self.panel.play.setStyleSheet(
            f"QPushButton {{ background: {theme.accent}; color: {theme.background};"
            f" font-weight: bold; }}")
        self.panel.updateGeometry()
        self.fit_to_screen()
        if relayout:
            self._proportion_later()
        self.theme_actions[theme.name].setChecked(True)
        if self._settings is not None:
            self._settings.setValue("theme", theme.name)
        self.theme_changed.emit(theme)

    def _theme_for_screen(self, name: str) -> Theme:
        """Theme `name` with its sizes for this window's screen (`theme.for_screen`)."""
        screen = self.screen() or QApplication.primaryScreen()
        base = THEMES.get(name, THEMES["dark"])
        return base if screen is None else for_screen(base, screen.availableGeometry().height())

    def fit_to_screen(self) -> None:
        """Keep the window on its screen's free area (a saved size from a larger screen, a
        theme with larger fonts): every view and control stays on screen."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None or self.isFullScreen() or self.isMaximized():
            return
        free = screen.availableGeometry()
        frame = self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        width = min(self.width(), free.width() - extra_w)
        height = min(self.height(), free.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        x = min(max(frame.x(), free.x()), free.x() + free.width() - width - extra_w)
        y = min(max(frame.y(), free.y()), free.y() + free.height() - height - extra_h)
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)

    @property
    def theme(self) -> Theme:
        return self._theme

    # ---- settings ---------------------------------------------------------------------
    def _layout_key(self, what: str) -> str:
        return f"layout/{self._layout_name}/{what}"

    def _restore_settings(self) -> bool:
        """This layout's saved geometry and docks; True if a usable layout was restored.
        (A single "window_state" key once held lecture mode's one-view layouts; it is
        dropped.)"""
        s = self._settings
        for old in ("geometry", "window_state"):
            s.remove(old)
        geometry = s.value(self._layout_key("geometry"))
        if geometry is not None:
            self.restoreGeometry(geometry)
            self.fit_to_screen()
        state = s.value(self._layout_key("state"))
        return state is not None and self.restore_layout(state)

    def restore_layout(self, state: Any) -> bool:
        """Restore a saved dock layout unless it would show none of the live views (then
        the default layout); False if it was refused."""
        self.restoreState(state)
        self.banner.sync()
        if any(not self.docks[k].isHidden() for k in LIVE_VIEWS):
            return True
        self.reset_layout()
        return False

    def use_layout(self, name: str) -> None:
        """Keep the docks under `name` from now on (lecture mode: "lecture"): the current
        layout is saved under its own name first, and `name`'s is restored if saved."""
        if name == self._layout_name:
            return
        # Not yet shared out (`fnlab --lecture` opens lecture mode as the window first
        # shows): the docks stand as Qt first put them (the panel half the window), not
        # as anyone arranged them. Saved, the next normal start opened that way.
        self._save_settings(state=not self._proportion_pending)
        self._layout_name = name
        if self._settings is not None:
            state = self._settings.value(self._layout_key("state"))
            if state is not None:
                self.restore_layout(state)

    def _save_settings(self, state: bool = True) -> None:
        """The window's geometry, theme and (with `state`) its docks' layout."""
        if self._settings is None:
            return
        self._settings.setValue(self._layout_key("geometry"), self.saveGeometry())
        if state:
            self._settings.setValue(self._layout_key("state"), self.saveState())
        self._settings.setValue("theme", self._theme.name)
        self._settings.sync()

    # ---- commands ---------------------------------------------------------------------
    @property
    def worker(self) -> Any:
        return self.handle.worker

    @property
    def config(self) -> RunConfig:
        return self._active

    @property
    def latest(self) -> Any:
        return self._latest

    @property
    def run_info(self) -> RunInfo | None:
        return self._run

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def closed(self) -> bool:
        """True once the window shut down (its worker joined): nothing more to save."""
        return self._closed

    def play(self) -> None:
        """Train on from the live state (a replay ends)."""
        self.panel.flush()
        self.replay.leave()
        self.worker.play()

    def pause(self) -> None:
        self.worker.pause()

    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def step(self) -> None:
        self.panel.flush()
        self.replay.leave()
        self.worker.step()

    def reset(self) -> None:
        self.panel.flush()
        self.replay.leave()
        self.worker.reset()

    def set_speed(self, speed: float | None) -> None:
        """Train at `speed` updates per second (None: as fast as possible); the Speed
        control shows it."""
        self.panel.speed.set_speed(speed)
        self.worker.set_speed(speed)

    @property
    def speed(self) -> float | None:
        return self.panel.speed.speed()

    def set_track(self, a: str, b: str) -> None:
        """Show the parameters `a` and `b` of the run on the surface."""
        self.worker.set_track(a, b)

    def set_start(self, w: float, b: float) -> None:
        """Descend from (w, b); for the 1-day linear model it becomes the run's init."""
        self.panel.flush()
        self.replay.leave()
        self.worker.set_start(w, b)
        if start_is_init(self._active):
            self._active = self._active.replace(init=(float(w), float(b)))
            self._config = self._active
            self.panel.set_init(self._active.init)

    def _add_race_rows(self, rows: list[dict[str, Any]]) -> None:
        """A finished race: one loss-table row per racer."""
        for row in rows:
            self.table_view.add_row(row)

    def record(self) -> None:
        """Add the current run, as it stands, to the loss table: with the knobs as they
        show (a typed number included), so a live change the trainer has not applied yet
        is recorded from the first snapshot that has it."""
        self.panel.flush()
        if self._latest is None or self._run is None:
            return
        if self._live_change_pending():
            self._record_pending = True
            return
        self._add_row(self._active, self._latest, self._run.data)

    def _live_change_pending(self) -> bool:
        return self._config != self._active and not self._active.needs_new_run(self._config)

    def set_config(self, config: RunConfig) -> None:
        """Show `config` in the panel and train it (a preset, a test)."""
        self.panel.show_config(config)
        self._on_config(config)

    def training_state(self) -> dict[str, Any] | None:
        """The run as it stands (`core.engine.Trainer.export_state`, taken in the worker
        thread after the commands already given): what a session saves."""
        return self.worker.export_state()

    def restore_run(self, config: RunConfig, trainer: Any = None) -> None:
        """Continue a saved run, paused: `trainer` is `Trainer.from_state(...)`, built and
        checked by the caller; without one, `config` starts afresh. The knobs show
        `config`; the run it replaces gets no table row (a session brings its own)."""
        self.panel.show_config(config)
        self._config = self._active = config
        if trainer is None:
            self.worker.new_run(config)
        else:
            self.worker.adopt(trainer, config)

    def show_banner(self, text: str) -> None:
        self.banner.show_message(text)

    def import_csv(self, path: str | None = None) -> bool:
        """Validate a CSV before anything changes; on success train on it."""
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Import a daily series", "",
                                                  "CSV files (*.csv *.txt);;All files (*)")
            if not path:
                return False
        from core.data import load_series, window

        try:
            series = load_series(path)
            window(series, self.panel.config.days, None)
        except (ValueError, OSError, ConfigError) as exc:  # DataError is a ValueError
            self.show_banner(f"Cannot import {Path(path).name}: {one_line(exc)}")
            return False
        self.panel.add_dataset(path, f"{series.name} (imported)")
        self.panel.select_dataset(path)
        self.panel.flush()
        return True

    def save_screenshot_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save screenshot", "function-lab.png",
                                              "PNG images (*.png)")
        if path:
            self.grab().save(path)

    # ---- worker events ----------------------------------------------------------------
    def _on_config(self, config: RunConfig) -> None:
        if self._active.needs_new_run(config):
            if self._latest is not None and self._run is not None \
                    and self._latest.update > 0:
                self._add_row(self._active, self._latest, self._run.data, once=True)
            self.worker.new_run(config)
        else:   # `_active` follows when the trainer has it (`_on_config_applied`)
            self.worker.apply(config)
        self._config = config

    def _on_config_applied(self, config: RunConfig) -> None:
        """The trainer now trains with `config`: the status line, the table and the views
        (the surface of the new loss, the axes' names, the epoch note) say so from the
        snapshot that follows, never before it."""
        old = self._active
        self._active = config
        self._show_critical_lr()
        if self._run is None or config.needs_new_run(self._run.config):
            return
        self._run = replace(self._run, config=config)
        if (config.loss, config.batch_size) != (old.loss, old.batch_size):
            for view in self.views.values():
                view.update_config(config)

    def _open_sweep_cell(self, config: RunConfig) -> None:
        """Train a clicked sweep cell's run in the main views; the gallery keeps it
        marked as a sweep cell's."""
        self._next_origin = (config, "sweep cell")
        self.set_config(config)

    def _keep_in_gallery(self, end: RunEnd) -> None:
        """A run that ended, or that new settings or Reset cut short, goes to the gallery
        with its timeline."""
        self.gallery_view.keep(end.config, end.snapshot, end.timeline, end.replaced_by,
                               self._origins.get(int(end.snapshot.run_id), ""))

    def _on_run_started(self, info: RunInfo) -> None:
        if self._next_origin is not None and self._next_origin[0] == info.config:
            self._origins[info.run_id] = self._next_origin[1]
            self._next_origin = None
        self._run = info
        self._active = info.config
        self._dismiss_divergence()
        self._pending = None
        self._latest = None
        self.replay.forget()
        self._rate = (time.perf_counter(), 0, 0.0)
        for view in self.views.values():
            view.set_run(info.config, info.data, info.param_names, info.run_id)
        self.panel.set_train_count(len(info.data.y_train))
        self._show_critical_lr()

    def _show_critical_lr(self) -> None:
        """Mark on the learning-rate control where plain GD starts to diverge (a linear
        model with MSE: its loss is quadratic); MAE and networks have no such rate."""
        from core.race import critical_lr

        cfg, run = self._active, self._run
        if run is None or cfg.model != "linear":
            self.panel.lr.set_critical(None, "")
        elif cfg.loss == "mse":
            crit = critical_lr(run.data)
            self.panel.lr.set_critical(crit, f"GD diverges above η = {crit:.4g} (2/λmax)")
        else:
            self.panel.lr.set_critical(None, "MAE: no critical η (piecewise linear loss)")

    def _on_snapshot(self, snap: Any) -> None:
        if snap.replay_of is not None:   # a replayed moment the scrubber asked for
            if self.replay.take(snap):
                self._pending = snap
                self._draw_soon()
            return
        self._latest = snap
        if self.replay.take(snap):
            self._pending = snap
            self._draw_soon()
        if self._record_pending and not self._live_change_pending() and self._run is not None \
                and snap.run_id == self._run.run_id:
            self._record_pending = False
            self._add_row(self._active, snap, self._run.data)

    def _on_run_finished(self, end: RunEnd) -> None:
        snap = end.snapshot
        self._add_row(self._active, snap, end.data, once=True)
        self._keep_in_gallery(end)
        if snap.diverged:
            self.show_banner(
                f"Training diverged at update {snap.update:,}: loss became inf. Lower the "
                "learning rate and press Play.")

    def _on_playing(self, playing: bool) -> None:
        if self._closed:     # the worker's last word, queued as it stopped: nothing to draw
            return
        self._playing = playing
        self.panel.set_playing(playing)
        self.fit_view.set_paused(not playing)
        self.surface_view.set_paused(not playing)
        if playing:
            self._dismiss_divergence()

    def _dismiss_divergence(self) -> None:
        """A divergence message is about the run that diverged: gone once training goes on
        or another run starts (a lecture's tables step showed step 9's banner)."""
        if self.banner.isVisible() and "diverged" in self.banner.text():
            self.banner.dismiss()

    def _on_worker_error(self, text: str) -> None:
        self.show_banner(text)
        if self._run is not None:   # the knobs go back to what is actually training
            self.panel.show_config(self._active)
            self._config = self._active

    def _add_row(self, config: RunConfig, snap: Any, data: Any, once: bool = False) -> None:
        key = (snap.run_id, snap.update)   # a run continued past its limit ends again
        if once and key in self._recorded:
            return
        from core.results import result_row

        self._recorded.add(key)
        self.table_view.add_row(result_row(config, snap, data))

    # ---- drawing ----------------------------------------------------------------------
    def _draw_soon(self) -> None:
        """Draw a snapshot that has just come in without waiting for the frame timer, if
        the last frame began at least a frame ago (never more often than the timer, which
        every frame restarts).

        The worker sends a snapshot as its chunk of updates ends and then trains the next
        chunk without the GIL. Drawn at once, the frame's pieces (Python, holding the GIL)
        run while that chunk trains; drawn at the timer's tick, at a phase that drifts
        against the worker's, a chunk often ended inside a frame and its thread waited
        for the GIL (4 % of a 3 x 100 ReLU's time in the app). A class also sees each
        update up to a frame sooner."""
        if self._frame is not None or self._soon.isActive():
            return
        if time.perf_counter() - self._frame_started >= (FRAME_MS - FRAME_EARLY_MS) / 1e3:
            self._soon.start()

    def _draw_frame(self) -> None:
        """The frame timer: the newest snapshot, drawn one view at a time (`_draw_piece`).

        Drawn at once, a frame held the GUI thread 7-10 ms (every view's new data and its
        paint), and a click or a key waited that long; in pieces, the event loop answers
        between two views. Measured in the bench's window (5 ms ticks, load ~4 of other
        work, this process first in line for a core), tick lateness p95 6.9-11.4 ->
        1.6-3.5 ms, frames the same within the noise (7.7-11.2 ms whole, 8.5-11.4 in
        pieces); two views a piece were no cheaper and 3.5-5.0 ms late."""
        self.replay.tick()
        if self.docks["loss"].isVisible():   # the racers' curves, while the race is open
            open_race = self.docks["race"].toggleViewAction().isChecked()
            self.loss_view.show_racers(self.race_view.racer_curves() if open_race else ())
        snap = self._pending
        if snap is None or self._frame is not None:   # (the last frame is still drawn)
            return
        self._pending = None
        self._frame_started = time.perf_counter()
        self._timer.start()     # restarted: its next tick a frame after this one began
        self._frame = _Frame(snap, [view for key, view in self.views.items()
                                    if key != "table" and self.docks[key].isVisible()])
        self._draw_piece()

    def _draw_piece(self) -> None:
        """One piece of the frame: a view's new data and its paint; the last piece also
        draws the status line and the timeline (a piece of their own cost a window update
        more: ~0.3 ms of the GUI thread on an X server). The next piece waits behind the
        events that came in."""
        frame = self._frame
        if frame is None:
            return
        t0 = time.perf_counter()
        if frame.views:
            frame.views.pop(0).show_snapshot(frame.snap)
        if not frame.views:
            self._show_status(frame.snap)
            self.replay.show_position(frame.snap)
        flush_paint()
        frame.seconds += time.perf_counter() - t0
        if frame.views:
            self._piece_timer.start()
            return
        self._frame = None
        self.frame_seconds = frame.seconds
        self.frame_drawn.emit(frame.snap)
        # the worker spaces its snapshots by what a frame costs the GUI thread
        if self.handle.running:
            self.worker.report_frame(frame.seconds)

    def _show_status(self, snap: Any) -> None:
        now = time.perf_counter()
        t0, u0, rate = self._rate
        replay = snap.replay_of is not None
        if not replay and (now - t0 >= 0.5 or snap.update < u0):
            rate = max(0.0, (snap.update - u0) / (now - t0)) if snap.update >= u0 else 0.0
            self._rate = (now, snap.update, rate)
        data = self._run.data if self._run is not None else None

        def equals(value: float) -> str:   # "L = 0.48k", but "L > 10²⁸"
            return loss_equals(value, data.scale, data.suffix) if data is not None \
                else f"= {value:g}"

        speed = f"{rate:,.0f} updates/s" if self._playing else "paused"
        state = " · diverged" if snap.diverged else (" · done" if snap.done else "")
        cfg = self._active   # what the trainer trains with, as the snapshot's lr is
        batch = "full batch" if cfg.batch_size is None else f"B = {cfg.batch_size:,}"
        where = f"update {snap.update:,}"
        if replay:
            where = f"replaying update {snap.update:,} of {snap.replay_of:,}"
            speed, state = f"Play: train on from {snap.replay_of:,}", ""
        self._status.setText(
            f"{where}   epoch {snap.epoch:,.2f}   training loss L "
            f"{equals(snap.train_loss)}   unseen loss L' {equals(snap.unseen_loss)}   "
            f"{cfg.loss.upper()} · {OPTIMIZER_NAMES.get(cfg.optimizer, cfg.optimizer)} · "
            f"η = {snap.lr:g} · {batch}   {speed}{state}")

    @property
    def status_text(self) -> str:
        """The status line as it reads now."""
        return self._status.text()

    # ---- closing ----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the timer, join the worker (< 1 s) and every view's background threads."""
        if self._closed:
            return
        self._closed = True
        self._timer.stop()
        self._piece_timer.stop()
        self._soon.stop()
        self._frame = None
        self.handle.stop(1000)
        for view in self.views.values():
            view.shutdown()
        if self.sessions is not None:   # an autosave being written (its own thread)
            self.sessions.flush()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_settings()
        if self.sessions is not None and not self._closed:
            self.sessions.close_clean()
        self.shutdown()
        super().closeEvent(event)
