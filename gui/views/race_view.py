# Over 450 lines: one view; racers, timeline, step panel share the race shown.
"""The optimizer race: 2-6 optimizers from one start on the lecture's exact 1-day surface.

Why a view of its own: the race shows *why* optimizers behave differently (GD crawls
down the valley, momentum overshoots and swings back, Adam takes steps of one size), so
every racer needs its own trail, ball and loss curve on one shared surface. The racers
are `core.race.Race` (ordinary Trainers, the numbers of `fnlab train`), driven by one
background job (gui/background.py, the app's one threading idiom) that reads a mailbox
of commands between paced chunks and hands back immutable frames; this view keeps the
newest frame and draws it on a timer. A timeline under the plots replays any recorded
moment (drag back, step back and forth, play back at 0.25x to 10x); in step mode the
explanation panel shows the lecture's w1 = w0 - eta dL/dw with the current numbers and
the surface shows the gradient step, the momentum part and the step taken as arrows.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core import surface
from core.config import OPTIMIZERS, ConfigError, RunConfig, one_line
from core.optimizers import HAS_MOMENTUM
from core.race import MAX_RACERS, Race, Racer, critical_lr, racer_config
from core.results import result_row
from core.snapshot import Snapshot
from core.step_explained import Setting, StepExplained, explain_recorded
from core.timeline import Playback
from gui.background import BackgroundJob
from gui.theme import DARK, RACER_COLORS, Theme, legible_on
from gui.timeline_bar import TimelineBar
from gui.views.base import FillsItsScroll, LogLossAxis, View
from gui.views.loss_view import RacerCurve
from gui.views.step_arrows import set_arrow, step_html
from gui.views.surface_view import set_contours
from gui.worker import EXPORT_TIMEOUT, RunEnd

NAMES = {"gd": "GD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
         "rmsprop": "RMSProp", "adam": "Adam"}
DEFAULT_RACERS = (("gd", 0.05), ("momentum", 0.02), ("adam", 0.05), ("rmsprop", 0.02),
                  ("nesterov", 0.02), ("adagrad", 0.5))
SPEEDS = (("1 / s", 1), ("3 / s", 3), ("10 / s", 10), ("30 / s", 30), ("100 / s", 100),
          ("1,000 / s", 1000), ("max", 0))
FRAME_MS = 33
N_CONTOURS = 12
MAX_CHUNK = 1000        # updates per chunk at max speed (a linear update costs ~us)
PLOT_MIN_HEIGHT = (140, 120)   # the surface's and the loss plot's least heights (px)
PLOT_MIN_WIDTH = 400   # the plots' least width (px): the surface and loss curves are read


@dataclass(frozen=True)
class RacerFrame:
    """One racer at one moment, copied out of the worker thread."""

    optimizer: str
    lr: float
    updates: np.ndarray          # recorded update numbers (timeline)
    points: np.ndarray           # (n, 2) the tracked (w, b) at those updates
    snap: Snapshot               # the trainer's own snapshot (losses, gradient, next step)
    settings: tuple[Setting, ...] = ()   # its settings log (a replayed moment's η)
    every: int = 1               # the timeline's spacing of its later moments


@dataclass(frozen=True)
class RaceFrame:
    racers: tuple[RacerFrame, ...]
    done: bool
    epoch: int                    # which race (a new start or new racers: a new number)
    ends: tuple[RunEnd, ...] = ()   # once done: each racer's end, for the run gallery
    acked: int = 0                # commands of this race's inbox the race had taken


def _frame(race: Race, epoch: int, acked: int = 0) -> RaceFrame:
    out = []
    for t, line in zip(race.trainers, race.timelines, strict=True):
        out.append(RacerFrame(t.config.optimizer, t.config.lr, line.update_array(),
                              line.path(), t.snapshot(extras=False), t.settings_log,
                              line.every))
    # The timelines are copied here, in the race's thread, and only for a race that is
    # over (frames after that come only with a command: a few copies, not one a frame).
    return RaceFrame(tuple(out), race.done, epoch,
                     _ends(race, None, out) if race.done else (), acked)


def _ends(race: Race, replaced_by: list[RunConfig] | None,
          frames: list[RacerFrame] | None = None) -> tuple[RunEnd, ...]:
    """Each racer as a run that ended (`gui.worker.RunEnd`, what the gallery keeps): its
    own settings, last snapshot and full timeline; `replaced_by` the configs of the race
    that cut this one short, racer by racer. Only from the race's thread, or once it
    has stopped."""
    out = []
    for j, t in enumerate(race.trainers):
        snap = frames[j].snap if frames is not None else t.snapshot(extras=False)
        out.append(RunEnd(t.config, snap, t.data, t.timeline(),
                          None if replaced_by is None else replaced_by[j]))
    return tuple(out)


class EndsRequest:
    """A request for the racers as they stand (a session saved mid-race), answered in
    the race's thread between chunks."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ends: tuple[RunEnd, ...] = ()

    def answer(self, race: Race) -> None:
        self.ends = _ends(race, None)
        self.done.set()


def race_job(race: Race, inbox: queue.Queue, epoch: int):
    """The race's loop for a BackgroundJob: commands from `inbox` between chunks, updates
    paced to the chosen rate (0 = as fast as it goes), a frame after each chunk.

    Commands: ("play", bool), ("rate", per_second), ("step", n), ("lr", i, lr),
    ("start", w, b), ("ends", EndsRequest)."""

    def job(should_stop):
        playing, rate, owed = False, 10.0, 0.0
        last = shown = time.perf_counter()
        dirty = False
        acked = 0
        yield _frame(race, epoch)
        while not should_stop():
            changed = False
            steps = 0
            while True:
                try:
                    cmd = inbox.get_nowait()
                except queue.Empty:
                    break
                changed = True
                acked += 1
                if cmd[0] == "play":
                    playing, owed = bool(cmd[1]), 0.0
                    last = time.perf_counter()
                elif cmd[0] == "rate":
                    rate, owed = float(cmd[1]), 0.0
                elif cmd[0] == "step":
                    steps += int(cmd[1])
                elif cmd[0] == "lr":
                    race.set_lr(int(cmd[1]), float(cmd[2]))
                elif cmd[0] == "start":
                    race.set_start(float(cmd[1]), float(cmd[2]))
                elif cmd[0] == "ends":
                    cmd[1].answer(race)
            now = time.perf_counter()
            n = steps
            if playing and not race.done:
                if rate <= 0:
                    n += MAX_CHUNK
                else:
                    owed += (now - last) * rate
                    n += int(owed)
                    owed -= int(owed)
            last = now
            if n and not race.done:
                race.run(n)
                changed = True
            dirty = dirty or changed
            if dirty and (not playing or now - shown >= FRAME_MS / 1000.0 or race.done):
                shown, dirty = now, False
                yield _frame(race, epoch, acked)
            # Flat out, a short sleep still hands the GIL to the GUI thread between chunks
            # (a numpy update loop holds it); paced, the loop wakes twice a frame.
            time.sleep(0.001 if playing and rate <= 0 else FRAME_MS / 2000.0)

    return job


class RaceView(FillsItsScroll, View):
    """Racers' controls, the shared surface with trails, the loss curves and a timeline."""

    title = "Optimizer race"
    rows_ready = Signal(list)     # loss-table rows, one per racer, when a race ends
    # A race that ended, or that a new race replaced after it ran: one `RunEnd` per
    # racer, for the run gallery (each racer is kept as a run of its own), and each
    # racer's colour in the race (the gallery draws it in the same one).
    racers_ended = Signal(list, list)

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self._race: Race | None = None
        self._inbox: queue.Queue = queue.Queue()
        self._sent = 0             # commands put in this race's inbox (frames ack them)
        self._job = BackgroundJob("race", parent=self)
        self._job.item_ready.connect(self._on_item)
        self._job.failed.connect(self._on_failed)
        self._slots: list[int] = []     # the grid row of each racer of the current race
        self._default_start: tuple[float, float] | None = None
        self._data_key: tuple[Any, ...] | None = None
        self._stale = False         # data arrived while hidden: (re)start when shown
        self._frame: RaceFrame | None = None
        self._drawn: RaceFrame | None = None
        self._epoch = 0
        self._reported: set[tuple[int, int]] = set()   # (race, racer) rows already sent
        self._kept_epoch = 0        # the newest race whose racers went to the gallery
        self._curves: tuple[RacerCurve, ...] = ()
        self._scrub: int | None = None     # None: follow the live end
        self.explained: StepExplained | None = None   # the update the panel explains
        self._replay: Playback | None = None   # while playing back
        self._playing = False
        self._loss_name = "mae"
        self._data: Any = None
        self._surface: Any = None
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._tick)   # runs while the view is shown

    # ----- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        top = QHBoxLayout()
        self._layout.addLayout(top, 1)
        # The racers' controls and the explanation scroll in their own column: in the
        # view's height they made its least height 535 px, and a 1280 x 720 projector's
        # dock (413 px) scrolled the whole view, the loss plot below the fold.
        self._side = QWidget(self)
        side = QVBoxLayout(self._side)
        side.setContentsMargins(0, 0, 4, 0)     # a little air before its scroll bar
        self._side_scroll = QScrollArea(self)
        self._side_scroll.setWidgetResizable(True)
        self._side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._side_scroll.setWidget(self._side)
        top.addWidget(self._side_scroll, 0)
        grid = QGridLayout()
        side.addLayout(grid)
        for col, text in enumerate(("", "optimizer", "learning rate η", "momentum μ")):
            grid.addWidget(QLabel(text, self), 0, col)
        self._rows: list[tuple[QCheckBox, QComboBox, QDoubleSpinBox, QDoubleSpinBox]] = []
        for i in range(MAX_RACERS):
            on = QCheckBox(self)
            on.setChecked(i < 3)
            kind = QComboBox(self)
            for name in OPTIMIZERS:
                kind.addItem(NAMES[name], name)
            kind.setCurrentIndex(OPTIMIZERS.index(DEFAULT_RACERS[i][0]))
            lr = QDoubleSpinBox(self)
            lr.setDecimals(5)
            lr.setRange(1e-5, 100.0)
            lr.setSingleStep(0.005)
            lr.setValue(DEFAULT_RACERS[i][1])
            mu = QDoubleSpinBox(self)
            mu.setDecimals(2)
            mu.setRange(0.0, 0.99)
            mu.setSingleStep(0.05)
            mu.setValue(0.9)
            for col, w in enumerate((on, kind, lr, mu)):
                grid.addWidget(w, i + 1, col)
            kind.currentIndexChanged.connect(lambda _=0, r=i: self._on_kind(r))
            lr.editingFinished.connect(lambda r=i: self._on_lr(r))
            self._rows.append((on, kind, lr, mu))
            self._on_kind(i)
        form = QGridLayout()
        side.addLayout(form)
        form.addWidget(QLabel("loss", self), 0, 0)
        self._loss = QComboBox(self)
        self._loss.addItem("MAE |y - ŷ|", "mae")
        self._loss.addItem("MSE (y - ŷ)²", "mse")
        self._loss.currentIndexChanged.connect(lambda _=0: self._on_loss())
        form.addWidget(self._loss, 0, 1)
        form.addWidget(QLabel("updates", self), 1, 0)
        self._budget = QSpinBox(self)
        self._budget.setRange(1, 1_000_000)
        self._budget.setValue(500)
        form.addWidget(self._budget, 1, 1)
        form.addWidget(QLabel("speed", self), 2, 0)
        self._speed = QComboBox(self)
        for text, rate in SPEEDS:
            self._speed.addItem(text, rate)
        self._speed.setCurrentIndex(3)
        self._speed.currentIndexChanged.connect(
            lambda _=0: self._send("rate", self._speed.currentData()))
        form.addWidget(self._speed, 2, 1)
        buttons = QHBoxLayout()
        side.addLayout(buttons)
        self._start_button = QPushButton("New race", self)
        self._start_button.clicked.connect(self.new_race)
        self._play_button = QPushButton("Play", self)
        self._play_button.clicked.connect(self.toggle_play)
        self._step_button = QPushButton("Step", self)
        self._step_button.clicked.connect(self.step)
        for b in (self._start_button, self._play_button, self._step_button):
            buttons.addWidget(b)
        # What the race says in words (the critical rate, one update explained, how the
        # race went): under the controls, or in a column of its own beside them where
        # the view is too short for both and wide enough for two columns (`_arrange`).
        self._words = QWidget(self)
        words = QVBoxLayout(self._words)
        words.setContentsMargins(0, 0, 0, 0)
        self._critical = QLabel(self)
        self._critical.setWordWrap(True)
        words.addWidget(self._critical)
        self._explain_pick = QComboBox(self)
        self._explain_pick.currentIndexChanged.connect(lambda _=0: self._redraw())
        words.addWidget(QLabel("one update, explained:", self))
        words.addWidget(self._explain_pick)
        self._explain = QLabel(self)
        self._explain.setTextFormat(Qt.TextFormat.RichText)
        self._explain.setWordWrap(True)
        self._explain.setMinimumWidth(260)
        words.addWidget(self._explain)
        self._status = QLabel(self)
        self._status.setWordWrap(True)
        words.addWidget(self._status)
        words.addStretch(1)
        side.addWidget(self._words)
        side.addStretch(1)
        self._top = top
        self._arranging = False
        self._side.installEventFilter(self)     # its size hint changed: _fit_side
        self._words.installEventFilter(self)    # longer or shorter texts: _arrange

        plots = QVBoxLayout()
        top.addLayout(plots, 1)
        self._plot = self._make_plot("w", "b")
        self._plot.setMouseEnabled(x=False, y=False)
        self._image = pg.ImageItem()
        self._image.setColorMap(pg.colormap.get(self._theme.colormap))
        self._plot.addItem(self._image)
        self._contours = pg.PlotCurveItem()
        self._plot.addItem(self._contours)
        self._star = pg.ScatterPlotItem(symbol="star", size=18)
        self._plot.addItem(self._star)
        self._trails: list[pg.PlotCurveItem] = []
        for _ in range(MAX_RACERS):
            trail = pg.PlotCurveItem()
            self._plot.addItem(trail)
            self._trails.append(trail)
        # All balls in one item, drawn above every trail (one setData a frame).
        self._balls = pg.ScatterPlotItem(size=14, pen=pg.mkPen("#000000", width=2))
        self._plot.addItem(self._balls)
        self._shown_racers = 0
        # The explained update: -eta * gradient, the momentum part, the step taken.
        self._arrows = [pg.PlotCurveItem() for _ in range(3)]
        for a in self._arrows:
            self._plot.addItem(a)
        self._plot.scene().sigMouseClicked.connect(self._on_click)
        # Readable heights at least (below them the whole view scrolls in its dock): the
        # racers' curves overlap in a loss plot much shorter than this
        self._plot.setMinimumHeight(PLOT_MIN_HEIGHT[0])
        self._plot.setMinimumWidth(PLOT_MIN_WIDTH)
        plots.addWidget(self._plot, 3)
        self._loss_plot = self._make_plot("update", "training loss",   # log: its ticks say
                                          axisItems={"left": LogLossAxis()})
        self._loss_plot.setLogMode(y=True)
        # PlotDataItems: they follow the plot's log mode (a bare curve item would not)
        self._loss_curves = [self._loss_plot.plot() for _ in range(MAX_RACERS)]
        self._marker = pg.InfiniteLine(angle=90)
        self._loss_plot.addItem(self._marker)
        self._loss_plot.setMinimumHeight(PLOT_MIN_HEIGHT[1])
        plots.addWidget(self._loss_plot, 2)
        # Under both columns, not under the plots alone: the bar's least width (489-563
        # px) then no longer adds to the racers' column, and the race reads in a dock
        # ~880 px wide (its least width was 882 px dark, 1,072 projector).
        self._bar = TimelineBar(self)     # the window's scrubber, for the racers
        self._bar.scrubbed.connect(self.scrub_to)
        self._bar.stepped.connect(self.scrub_by)
        self._bar.playback_clicked.connect(self.replay)
        self._bar.live_clicked.connect(self.follow_live)
        self._layout.addWidget(self._bar)
        self._restyle()
        self._fit_side()

    # ----- the interface the window uses ---------------------------------------------------
    def set_run(self, config: RunConfig, data: Any, param_names: list[str],
                run_id: int | None = None) -> None:
        """Keep the main run's data for the race's 1-day window. The race itself starts
        when the view is shown (a hidden race costs nothing): another dataset or split
        starts it again."""
        from core.data import window

        self._config = config
        key = (config.dataset, config.column, config.split)
        if key == self._data_key and self._data is not None:
            return
        try:
            self._data = data if data.days == 1 else window(data.series, 1, config.split)
        except (ValueError, AttributeError) as exc:
            self._data = None
            self._status.setText(f"no race on this data: {one_line(exc)}")
            return
        self._data_key = key
        self._base = RunConfig(dataset=config.dataset, column=config.column,
                               split=config.split)
        self._stale = True
        if self.isVisible():
            self._on_loss()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._timer.start()
        if self._stale and self._data is not None:
            self._on_loss()

    def hideEvent(self, event: Any) -> None:
        super().hideEvent(event)
        self._timer.stop()

    def show_snapshot(self, snap: Snapshot) -> None:
        """The main run's snapshots are not the race's: nothing to draw."""

    def shutdown(self) -> None:
        self._timer.stop()
        self._job.stop()

    def busy(self) -> bool:
        """True while the race's picture is still to change on its own: a race playing
        and not over, a command sent that no frame has answered yet, a frame not yet
        drawn or a replay going on. The race's thread lives on after the race ends
        (waiting for a Step, a new start or a new rate), so a running thread is not
        work: counted as busy, every wait for idle views after the race step waited
        out its whole timeout (60 s a screenshot)."""
        if not self._job.is_running():
            return False
        frame = self._frame
        if frame is None or frame.acked < self._sent:
            return True
        if self.isVisible() and (self._replay is not None or frame is not self._drawn):
            return True
        return self._playing and not frame.done

    # ----- racers ---------------------------------------------------------------------------
    def racers(self) -> list[tuple[int, Racer]]:
        """(row, racer) for every ticked row."""
        out = []
        for i, (on, kind, lr, mu) in enumerate(self._rows):
            if on.isChecked():
                out.append((i, Racer(kind.currentData(), lr.value(), mu.value())))
        return out

    def _on_kind(self, i: int) -> None:
        _, kind, _, mu = self._rows[i]
        mu.setEnabled(kind.currentData() in HAS_MOMENTUM)

    def _on_lr(self, i: int) -> None:
        """A racer's learning rate applies at its next update (no new race)."""
        if i in self._slots:
            self._send("lr", self._slots.index(i), self._rows[i][2].value())

    def _on_loss(self) -> None:
        self._loss_name = self._loss.currentData()
        data = self._data
        if data is None:
            return
        self._stale = False
        self._surface = surface.linear_surface(data.x_train[:, 0], data.y_train,
                                               self._loss_name, n=160, scale=data.scale)
        self._show_surface()
        if self._loss_name == "mse":
            crit = critical_lr(data)
            self._critical.setText(
                f"Critical learning rate (MSE): plain GD converges for η < {crit:.4g} and "
                f"diverges above: 2 / λ_max of the loss's Hessian.")
        else:
            self._critical.setText(
                "MAE has no critical learning rate: the loss is piecewise linear, so a "
                "too-large step does not blow up but zig-zags across the valley.")
        self.new_race()

    def new_race(self, start: tuple[float, float] | None = None) -> None:
        """Start the ticked racers from `start` (default: the model's usual start)."""
        if self._data is None:
            return
        start = start if start is not None else self._default_start
        chosen = self.racers()
        if len(chosen) < 2:
            self._status.setText("tick at least two optimizers to race")
            return
        base = self._base.replace(loss=self._loss_name, limit_updates=self._budget.value())
        stopped = self._job.stop()
        if stopped and self._race is not None:    # joined: its trainers can be read here
            # each racer "replaced by" itself in the new race: from another start, or
            # on other data, it was stopped; the same race again, it was reset
            again = [racer_config(base, Racer(t.config.optimizer, t.config.lr,
                                              t.config.momentum), start)
                     for t in self._race.trainers]
            self._keep(_ends(self._race, again), self._epoch)
        self._epoch += 1
        self._slots = [i for i, _ in chosen]
        try:
            race = Race(base, [r for _, r in chosen], self._data, start)
        except ConfigError as exc:
            self._status.setText(one_line(exc))
            return
        self._race = race
        # The updates axis spans the whole race from its start: with no curve drawn yet
        # pyqtgraph's auto range read -400 ... -200 (a lone marker at update 0).
        self._loss_plot.getViewBox().enableAutoRange(x=False)
        self._loss_plot.setXRange(0, base.limit_updates, padding=0.02)
        self._frame = self._drawn = None
        self._shown_racers = -1
        self._curves = ()
        self._scrub = None
        self._replay = None
        self._inbox = queue.Queue()
        self._sent = 0
        self._explain_pick.blockSignals(True)
        self._explain_pick.clear()
        for i, r in chosen:
            self._explain_pick.addItem(f"{NAMES[r.optimizer]} (η {r.lr:g})", i)
        self._explain_pick.blockSignals(False)
        self._send("rate", self._speed.currentData())
        self._send("play", self._playing)
        self._job.start(race_job(race, self._inbox, self._epoch))
        self._status.setText(f"{len(chosen)} racers from one start; click the surface to "
                             "start them all from another point")

    def _send(self, *cmd: Any) -> None:
        self._sent += 1
        self._inbox.put(cmd)

    def configure(self, racers: list[tuple[str, float]], loss: str = "mae",
                  start: tuple[float, float] | None = None, updates: int = 500,
                  speed: int = 30, play: bool = True) -> None:
        """Set up a race as a lecture step asks (racers as (optimizer, lr)) and start it
        (now, or as soon as the step's run brings the data)."""
        for i, (on, kind, lr, _) in enumerate(self._rows):
            on.setChecked(i < len(racers))
            if i < len(racers):
                kind.setCurrentIndex(OPTIMIZERS.index(racers[i][0]))
                lr.setValue(float(racers[i][1]))
        self._budget.setValue(int(updates) or 1)
        self._default_start = None if start is None else (float(start[0]), float(start[1]))
        self.set_speed(int(speed))
        self._playing = bool(play)
        self._play_button.setText("Pause" if self._playing else "Play")
        self._loss.blockSignals(True)
        self._loss.setCurrentIndex(max(self._loss.findData(loss), 0))
        self._loss.blockSignals(False)
        self._on_loss()

    def pause(self) -> None:
        if self._playing:
            self.toggle_play()

    def set_speed(self, per_second: int) -> None:
        """Updates a second per racer (0: as fast as it goes), as the speed box offers."""
        self._speed.setCurrentIndex(max(self._speed.findData(per_second), 0))

    def toggle_play(self) -> None:
        self._playing = not self._playing
        self._play_button.setText("Pause" if self._playing else "Play")
        if self._playing:
            self.follow_live()
        self._send("play", self._playing)

    def step(self) -> None:
        """One update for every racer (step mode: the explanation shows its numbers)."""
        if self._playing:
            self.toggle_play()
        self.follow_live()
        self._send("step", 1)

    # ----- timeline -------------------------------------------------------------------------
    def scrub_to(self, update: int) -> None:
        """Show every racer as it was at `update` (its recorded moment at or before it)."""
        if self._playing:
            self.toggle_play()
        self._replay = None
        self._scrub = min(max(int(update), 0), self.shown_update_live())
        self._redraw()

    def scrub_by(self, moments: int) -> None:
        """Step back or forth by recorded moments of the explained racer."""
        frame = self._frame
        if frame is None:
            return
        r = self._explained(frame)
        ups = r.updates
        now = self._scrub if self._scrub is not None else int(ups[-1])
        i = int(np.searchsorted(ups, now, side="right")) - 1 + moments
        self.scrub_to(int(ups[min(max(i, 0), len(ups) - 1)]))

    def follow_live(self) -> None:
        self._scrub = None
        self._replay = None
        self._redraw()

    def replay(self) -> None:
        """Play the recorded race back from the start at the chosen factor of the speed
        (a race run flat out: as if at 300 updates a second); again: pause there."""
        if self._replay is not None:
            self._replay = None
            self._redraw()
            return
        if self._playing:
            self.toggle_play()
        rate = self._speed.currentData() or 300
        self._replay = Playback(0, self.shown_update_live(), rate, self._bar.replay_factor)
        self._scrub = 0
        self._redraw()

    def shown_update(self) -> int | None:
        """The update the views show now (None before the first frame)."""
        if self._frame is None:
            return None
        return self._scrub if self._scrub is not None else self.shown_update_live()

    def shown_points(self) -> list[tuple[int, float, float]]:
        """(update, w, b) each racer's ball is drawn at."""
        frame, k = self._frame, self.shown_update()
        if frame is None or k is None:
            return []
        out = []
        for r in frame.racers:
            i = max(int(np.searchsorted(r.updates, k, side="right")) - 1, 0)
            out.append((int(r.updates[i]), float(r.points[i, 0]), float(r.points[i, 1])))
        return out

    # ----- drawing --------------------------------------------------------------------------
    def racer_curves(self) -> tuple[RacerCurve, ...]:
        """Each racer's training-loss history in its colour, from the newest frame (the
        same tuple until a new frame arrives): what the window's loss view draws."""
        return self._curves

    def _on_item(self, token: int, frame: Any) -> None:
        if token == self._job.token and frame.epoch == self._epoch:
            self._frame = frame
            self._curves = tuple(
                RacerCurve(NAMES[r.optimizer], RACER_COLORS[slot],
                           self._loss_name, r.snap.hist_update, r.snap.hist_train)
                for slot, r in zip(self._slots, frame.racers, strict=True))
            if frame.ends and frame.epoch > self._kept_epoch:
                self._keep(frame.ends, frame.epoch)
            self._report(frame)      # here, not when drawn: a race behind a tab ends too

    def _on_failed(self, token: int, message: str) -> None:
        if token == self._job.token:
            self._status.setText(f"the race stopped: {message}")

    def _tick(self) -> None:
        if self._replay is not None and self._frame is not None:
            k = self._replay.advance(FRAME_MS / 1000.0)
            if self._replay.finished:
                self._replay = None
                self._scrub = None
            else:
                self._scrub = k
            self._redraw()
        elif self._frame is not self._drawn:
            self._redraw()

    def shown_update_live(self) -> int:
        frame = self._frame
        return 0 if frame is None else max(int(r.updates[-1]) for r in frame.racers)

    def _explained(self, frame: RaceFrame) -> RacerFrame:
        row = self._explain_pick.currentData()
        i = self._slots.index(row) if row in self._slots else 0
        return frame.racers[min(i, len(frame.racers) - 1)]

    def _redraw(self) -> None:
        frame = self._frame
        self._drawn = frame
        if frame is None:
            return
        k = self.shown_update()
        live_end = self.shown_update_live()
        theme = self._theme
        slots = self._slots
        n = len(frame.racers)
        if n != self._shown_racers:       # a new race: restyle, empty the unused items
            for j in range(MAX_RACERS):
                if j >= n:
                    self._trails[j].setData([], [])
                    self._loss_curves[j].setData([], [])
                else:
                    colour = RACER_COLORS[slots[j]]
                    self._trails[j].setPen(theme.pen(colour, theme.line_width))
                    self._loss_curves[j].setPen(theme.pen(
                        legible_on(colour, theme.background), theme.line_width))
            self._shown_racers = n
            self._ball_brushes = [pg.mkBrush(RACER_COLORS[slots[j]]) for j in range(n)]
        bx, by = [], []
        for j, r in enumerate(frame.racers):
            end = max(int(np.searchsorted(r.updates, k, side="right")), 1)
            pts = r.points[:end]
            self._trails[j].setData(pts[:, 0], pts[:, 1])
            bx.append(pts[-1, 0])
            by.append(pts[-1, 1])
            hu, ht = r.snap.hist_update, r.snap.hist_train
            ok = np.isfinite(ht) & (ht > 0)
            self._loss_curves[j].setData(hu[ok], ht[ok])
        self._balls.setData(bx, by, brush=self._ball_brushes)
        self._marker.setPos(k)
        self._bar.show_position(k, live_end, replaying=self._scrub is not None,
                                playing_back=self._replay is not None)
        self._draw_explanation(frame, k)

    def _draw_explanation(self, frame: RaceFrame, k: int) -> None:
        """The explained racer's update at the moment shown, as arrows on the surface and
        numbers in the panel: live, the step its optimizer is about to take; scrubbed
        back, the recorded moment's (`core.step_explained`: the exact gradient there and
        the step the racer took next)."""
        r = self._explained(frame)
        live = self._scrub is None or k >= int(r.updates[-1])
        scale = float(self._data.scale)
        unit = f" (b in {self._data.unit}/{scale:g})" if scale != 1 else ""
        if live:
            s = r.snap
            e = StepExplained(
                update=s.update, optimizer=r.optimizer, lr=r.lr, w=float(r.points[-1, 0]),
                b=float(r.points[-1, 1]), grad=(float(s.grad["w"][0]), float(s.grad["b"])),
                taken=(float(s.step["w"][0]), float(s.step["b"])))
        else:
            fallback = Setting(k, r.optimizer, r.lr, 0.0, None)
            e = explain_recorded(self._loss_name, self._data.x_train[:, 0],
                                 self._data.y_train, r.updates, r.points, k, r.settings,
                                 fallback, r.every)
        self.explained = e
        theme = self._theme
        gdw, gdb = e.gradient_step
        self._arrow(0, e.w, e.b, gdw, gdb, theme.pen(theme.arrow, theme.line_width))
        extra = e.extra
        if extra is not None:
            self._arrow(1, e.w + gdw, e.b + gdb, extra[0], extra[1],
                        theme.pen(theme.current, theme.line_width, style=Qt.PenStyle.DashLine))
        else:
            self._arrows[1].setData([], [])
        if e.taken is not None:
            self._arrow(2, e.w, e.b, e.taken[0], e.taken[1],
                        theme.pen("#ffffff" if theme.name == "dark" else "#000000",
                                  theme.line_width))
        else:
            self._arrows[2].setData([], [])
        html = step_html(NAMES[e.optimizer], e, unit)
        if live and e.optimizer not in HAS_MOMENTUM and e.optimizer != "gd":
            html += ("<br>step taken: each coordinate scaled by its own running "
                     "gradient size (not −η∇L)")
        self._explain.setText(html)

    def _arrow(self, i: int, x: float, y: float, dx: float, dy: float, pen: Any) -> None:
        """A line with a head, drawn as one segmented curve (no per-frame items)."""
        if set_arrow(self._arrows[i], self._plot.getViewBox(), x, y, dx, dy):
            self._arrows[i].setPen(pen)

    def _report(self, frame: RaceFrame) -> None:
        """When a racer ends (its updates done, or diverged), its row goes to the loss
        table, once: a racer that diverged early is in the table while the others run."""
        over = bool(frame.ends) and frame.epoch <= self._kept_epoch
        notes = [f"{NAMES[r.optimizer]} (η {r.lr:g}) diverged at update {r.snap.update:,}"
                 for r in frame.racers if r.snap.diverged]
        if notes and not over:
            notes.append("the others go on")
        # every frame of a race that is over says so (one more frame of it may come, after
        # a session's save asked the race for its racers)
        if over:
            notes.append("the race is over: every racer is kept in the run gallery")
            if self._playing:       # the button said "Pause" beside "the race is over"
                self._playing = False
                self._play_button.setText("Play")
        if notes:
            self._status.setText("; ".join(notes))
        if self._race is None:
            return
        rows = []
        for j, (r, t) in enumerate(zip(frame.racers, self._race.trainers, strict=True)):
            if not r.snap.done or (frame.epoch, j) in self._reported:
                continue
            self._reported.add((frame.epoch, j))
            row = result_row(t.config, r.snap, self._data)
            row["model"] = f"race: {row['model']}, {NAMES[r.optimizer]}"
            rows.append(row)
        if rows:
            self.rows_ready.emit(rows)

    def running_ends(self) -> tuple[list[RunEnd], list[str]]:
        """A race not over (running or paused) and not yet kept: each racer as it stands
        (its settings, snapshot and whole timeline, taken in the race's thread between
        chunks: the GUI waits at most a chunk) and its colour, racers that took no
        update left out; ([], []) without one. A saved session keeps them as the run
        gallery would (`GalleryView.session_runs`)."""
        race = self._race
        if race is None or self._epoch <= self._kept_epoch:
            return [], []
        if self._job.is_running():
            request = EndsRequest()
            self._send("ends", request)
            if not request.done.wait(EXPORT_TIMEOUT):
                return [], []
            ends = request.ends
        else:                     # stopped (it failed): no other thread touches it
            ends = _ends(race, None)
        kept = [(e, RACER_COLORS[slot]) for e, slot in zip(ends, self._slots, strict=True)
                if e.snapshot.update > 0]
        return [e for e, _ in kept], [c for _, c in kept]

    def _keep(self, ends: tuple[RunEnd, ...], epoch: int) -> None:
        """Send a race's racers to the run gallery, once per race (a race that ran no
        update has nothing to keep: the gallery skips it)."""
        if epoch <= self._kept_epoch or not ends:
            return
        self._kept_epoch = epoch
        self.racers_ended.emit(list(ends), [RACER_COLORS[slot] for slot in self._slots])

    def _show_surface(self) -> None:
        s = self._surface
        if s is None:
            return
        loss = np.asarray(s.loss, dtype=np.float64)
        lo, hi = float(loss.min()), float(np.percentile(loss, 99))
        delta = max(0.02 * (hi - lo), 1e-12)
        v = np.log10(np.minimum(loss, hi) - lo + delta)
        a, b = s.w, s.b
        da, db = (a[-1] - a[0]) / (len(a) - 1), (b[-1] - b[0]) / (len(b) - 1)
        self._image.setImage(v.T, autoLevels=True)
        self._image.setRect(QRectF(a[0] - da / 2, b[0] - db / 2, a[-1] - a[0] + da,
                                   b[-1] - b[0] + db))
        set_contours(self._contours, a, b, v, (float(v.min()), float(v.max())), N_CONTOURS)
        self._star.setData([s.w_star], [s.b_star])
        self._plot.getViewBox().setRange(xRange=(a[0], a[-1]), yRange=(b[0], b[-1]),
                                         padding=0)
        self._plot.setLabel("left", "b" + (f" ({self._data.unit} / {self._data.scale:g})"
                                           if self._data.scale != 1 else ""))
        self._set_title(f"Optimizer race on the exact 1-day {self._loss_name.upper()} "
                        "surface")

    def _on_click(self, ev: Any) -> None:
        """A click on the surface starts every racer from there."""
        if ev.button() != Qt.MouseButton.LeftButton or self._surface is None:
            return
        vb = self._plot.getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        self.new_race((float(p.x()), float(p.y())))

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if watched in (self._side, self._words) and \
                event.type() == QEvent.Type.LayoutRequest:
            self._fit_side()      # new fonts (a theme, a screen) or longer texts
            self._arrange()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """The words under the controls if both fit the column's height; else beside
        them, as wide as the controls, if the controls and the words each fit it and the
        plots keep PLOT_MIN_WIDTH; else under them, the column scrolling. In lecture step
        11 on a 1920 x 1080 projector (a 1600 x 1000 window, 671 px dock under the
        step's text) one column scrolled with the explanation at its fold."""
        if self._arranging:
            return
        words, side = self._words, self._side.layout()
        beside = words.parentWidget() is not self._side
        gap = side.spacing()
        controls = self._side.sizeHint().height() - (0 if beside else
                                                     words.sizeHint().height() + gap)
        width = self._side.sizeHint().width()
        room = self._side_scroll.height()
        margins = self._layout.contentsMargins()
        spare = self.width() - margins.left() - margins.right() \
            - self._side_scroll.minimumWidth() - 2 * self._top.spacing()
        under = controls + gap + words.heightForWidth(width) <= room
        two = not under and controls <= room and words.heightForWidth(width) <= room \
            and spare - width >= PLOT_MIN_WIDTH
        if two == beside:
            return
        self._arranging = True
        try:
            if two:
                side.removeWidget(words)
                words.setFixedWidth(width)
                self._top.insertWidget(1, words)
            else:
                self._top.removeWidget(words)
                words.setMinimumWidth(0)
                words.setMaximumWidth(16777215)
                side.insertWidget(side.count() - 1, words)    # before its stretch
        finally:
            self._arranging = False

    def _fit_side(self) -> None:
        """The controls' column as wide as its controls (in the fonts now) and its bar."""
        bar = self._side_scroll.verticalScrollBar().sizeHint().width()
        self._side_scroll.setMinimumWidth(self._side.sizeHint().width() + bar)

    def _restyle(self) -> None:
        theme = self._theme
        for i, (on, *_rest) in enumerate(self._rows):
            # the racer's colour in a shade that stands out from the panel: on the
            # projector's light panel the white racer's box was invisible
            colour = legible_on(RACER_COLORS[i], theme.panel)
            # A styled indicator loses Qt's check mark: a racer in the race is its box
            # filled with its colour, one left out an empty frame (with the frame alone,
            # every box looked the same, on or off).
            on.setStyleSheet(
                f"QCheckBox::indicator {{ border: 3px solid {colour}; width: 14px; "
                f"height: 14px; background: {theme.panel}; }}"
                f"QCheckBox::indicator:checked {{ background: {colour}; }}")
        self._image.setColorMap(pg.colormap.get(theme.colormap))
        self._contours.setPen(theme.pen(theme.foreground, 1.0, alpha=90))
        self._star.setBrush(pg.mkBrush(theme.minimum))
        self._star.setPen(pg.mkPen("#000000", width=1.5))
        self._marker.setPen(theme.pen(theme.foreground, 1.0, alpha=150))
        self._shown_racers = -1     # pens follow the theme at the next draw
        self._redraw()
