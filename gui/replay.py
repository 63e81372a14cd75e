"""Replaying the window's run: the scrubber along the views' bottom and what it asks for.

Why: a lecturer stops a run and goes back to the moment the loss jumped, the fitted line
crossed the data or the dot left the valley, and every view must show that moment. The
run's timeline lives in its Trainer (`core.timeline`), in the worker thread; this
controller never reads it: it asks the worker for a moment's snapshot
(`TrainingWorker.request_moment`, a latest-wins mailbox command) and the answer comes
back on the worker's `snapshot_ready` signal like any snapshot, marked by its
`replay_of`, to be drawn by the window's frame timer. Pressing Play (or Step, Reset, a
new start) leaves the replay and trains on from the live state.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QDockWidget, QSizePolicy, QWidget

from core.timeline import Playback
from gui.timeline_bar import TimelineBar

if TYPE_CHECKING:
    from gui.window_api import LabWindow
    from gui.worker import TrainingWorker


class RunReplay(QObject):
    """The window's scrubber and its replay state (GUI thread only)."""

    def __init__(self, window: LabWindow) -> None:
        super().__init__(window)
        self._window = window
        self._replay: int | None = None       # update asked for while replaying
        self._moment: int | None = None       # the replayed moment last shown
        self._await_live = False              # a step forward may land on the live end
        self._playback: Playback | None = None
        self._clock = 0.0
        self._end = 0
        self.bar = TimelineBar()
        self.bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Along the bottom of the views, not under the controls: a bar across the whole
        # window took its height from the knobs (the update limit and seed fell below the
        # panel's fold at 1280 x 720). A dock without title or buttons, fixed in place.
        dock = QDockWidget("Timeline", window)
        dock.setObjectName("dock_timeline")
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        dock.setTitleBarWidget(QWidget(dock))
        dock.setWidget(self.bar)
        window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        self.dock = dock
        self.bar.scrubbed.connect(self.replay_to)
        self.bar.stepped.connect(self.step)
        self.bar.playback_clicked.connect(self.toggle_playback)
        self.bar.live_clicked.connect(self.leave)
        self.bar.factor.currentIndexChanged.connect(lambda _=0: self._restart_playback())
        menu = window.run_menu
        menu.addSeparator()
        window.add_action(menu, "Replay: step back", lambda: self.step(-1), ",",
                          extra=("Shift+Left",))
        window.add_action(menu, "Replay: step forward", lambda: self.step(1), ".",
                          extra=("Shift+Right",))
        window.add_action(menu, "Replay: play back / pause", self.toggle_playback, "B")
        window.add_action(menu, "Replay: back to live", self.leave, "L")

    # ----- state -------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """True while the views show a replayed moment (or one is on its way)."""
        return self._replay is not None

    @property
    def playing_back(self) -> bool:
        return self._playback is not None

    def _worker(self) -> TrainingWorker:
        return self._window.worker

    def _live_end(self) -> int | None:
        latest = self._window.latest
        return None if latest is None else int(latest.update)

    # ----- what the user asks for -----------------------------------------------------------
    def replay_to(self, update: int) -> None:
        """Show every view as the run was at `update` (its recorded moment at or before
        it); training pauses. At the live end the views follow the run again."""
        self._playback = None
        self._ask(int(update))

    def step(self, moments: int) -> None:
        """One recorded moment back (-1) or forward (+1) from the one shown."""
        end = self._live_end()
        if end is None or (self._replay is None and moments > 0):
            return          # live: nothing after the newest update
        self._pause_training()
        self._playback = None
        at = self._moment if self._replay is not None and self._moment is not None else end
        if self._replay is None:
            self._replay = at
        self._await_live = moments > 0
        self._worker().request_moment(at, int(moments))
        self._show_bar(at, end)

    def toggle_playback(self) -> None:
        """Play the run back from the shown moment (from its start when live) at the bar's
        factor of its training speed; again: pause the playback, staying at the moment."""
        if self._playback is not None:
            self._playback = None
            self._show_bar(self._replay or 0, self._end)
            return
        end = self._live_end()
        if end is None or end == 0:
            return
        start = self._replay if self._replay is not None and self._replay < end else 0
        self._start_playback(start, end)
        self._ask(start, keep_playback=True)

    def _start_playback(self, start: int, end: int) -> None:
        self._playback = Playback(start, end, self._window.speed, self.bar.replay_factor)
        self._clock = time.perf_counter()

    def _restart_playback(self) -> None:
        """A new factor takes effect from where the playback is."""
        if self._playback is not None:
            self._start_playback(int(self._playback.position), self._playback.end)

    def leave(self) -> None:
        """Back to the live run: the worker sends its live snapshot."""
        was = self._replay is not None
        self.forget()
        if was:
            self._worker().request_moment(None)

    def forget(self) -> None:
        """No replay any more (a new run: nothing to ask for)."""
        self._replay = self._moment = None
        self._playback = None
        self._await_live = False
        end = self._live_end()
        self._show_bar(end or 0, end or 0)

    def _pause_training(self) -> None:
        if self._window.playing:
            self._window.pause()

    def _ask(self, update: int, keep_playback: bool = False) -> None:
        end = self._live_end()
        if end is None:
            return
        if update >= end:
            self.leave()
            return
        self._pause_training()
        if not keep_playback:
            self._playback = None
        self._replay = update
        self._await_live = False
        self._worker().request_moment(update)
        self._show_bar(update, end)

    # ----- the window's hooks -----------------------------------------------------------------
    def take(self, snap: Any) -> bool:
        """A snapshot from the worker: True if the window should draw it. While replaying
        only replayed moments are drawn (a live one only when a step forward reached the
        live end); a replayed moment that arrives after the replay ended is dropped."""
        if snap.replay_of is None:
            if self._replay is None:
                return True
            if self._await_live:
                self.forget()
                return True
            return False
        if self._replay is None:
            return False
        self._moment = int(snap.update)
        self._end = int(snap.replay_of)
        self._await_live = False
        return True

    def tick(self) -> None:
        """Each frame: a playback moves on by the time since the last frame."""
        if self._playback is None:
            return
        now = time.perf_counter()
        self.advance(now - self._clock)
        self._clock = now

    def advance(self, seconds: float) -> None:
        """Move a playback on by `seconds` and ask for the moment it reached (one request a
        frame at most, only when it changed); at the live end the views follow the run."""
        playback = self._playback
        if playback is None:
            return
        update = playback.advance(seconds)
        if playback.finished:
            self.leave()
        elif update != self._replay:
            self._replay = update
            self._worker().request_moment(update)

    def show_position(self, snap: Any) -> None:
        """The bar after the window drew `snap`."""
        end = snap.replay_of if snap.replay_of is not None else snap.update
        self._end = int(end)
        self._show_bar(int(snap.update), int(end))

    def _show_bar(self, update: int, end: int) -> None:
        self.bar.show_position(update, end, replaying=self._replay is not None,
                               playing_back=self._playback is not None)
