"""Lecture mode: the controller that walks a MainWindow through the lecture's steps.

The steps themselves are data (core/lecture_steps.py reads and validates them); here they
become the window's config, visible docks and options. Around the controller: the
clicker's keys (gui/lecture_keys.py), the step's background work, the lecture's tables
and the gallery's runs (gui/lecture_jobs.py), and the numbers under a step's text
(gui/lecture_notes.py). `fnlab --lecture` starts in gui/app.py (`open_lecture`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QDockWidget, QWidget

from core.config import ConfigError, RunConfig, one_line
from core.lecture_steps import LectureStep, builder_state, full_batch_path
from gui.lecture_jobs import StepJob, gallery_job, tables_job
from gui.lecture_keys import ClickerKeys
from gui.lecture_notes import critical_lr_html, loss_values_html, story_html
from gui.window_api import MAIN_RUN_VIEWS

if TYPE_CHECKING:
    from gui.window_api import LabWindow


NO_LIMIT = (1 << 24) - 1   # Qt's QWIDGETSIZE_MAX, which PySide6 does not export

class LectureController(QObject):
    """Drives a MainWindow through the steps: config, visible docks, options, training."""

    step_changed = Signal(int)          # index of the step now shown
    step_ready = Signal(int)            # its entry training (and tables) finished

    def __init__(self, window: LabWindow, steps: list[LectureStep], errors: list[str] | None = None
                 ) -> None:
        super().__init__(window)
        from gui.lecture_panel import LecturePanel

        self.window = window
        self.steps = steps
        self.errors = list(errors or [])
        self.index = -1
        self._awaiting: RunConfig | None = None
        self._run_id: int | None = None
        self._ready = False
        # The newest live frame drawn (run id, update), and the end of the step's run
        # while no frame shows it yet: the step is ready once the class sees its end.
        self._drawn: tuple[int, int] = (-1, -1)
        self._end: tuple[int, int] | None = None
        self._tables: StepJob | None = None     # the step's background job, if any
        self._tables_done = True
        self._presenting = False
        self._theme_before: str | None = None
        self._zoom_pending: dict[str, Any] = {}
        self._data: Any = None

        self.panel = LecturePanel(steps)
        dock = QDockWidget("Lecture", window)
        dock.setObjectName("dock_lecture")
        dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, dock)
        window.resizeDocks([dock], [230], Qt.Orientation.Vertical)
        self.dock = dock
        # share_space caps the docked panel at its text's height; floating, it is free
        dock.topLevelChanged.connect(
            lambda floating: floating and dock.setMaximumHeight(NO_LIMIT))
        self._hide_dock_titles()
        self.panel.next_clicked.connect(self.next)
        self.panel.prev_clicked.connect(self.prev)
        self.panel.jump_requested.connect(self.go)
        self.panel.present_clicked.connect(self.toggle_presentation)
        self.panel.sliders.moved.connect(self._on_slider)
        window.builder_view.fit_finished.connect(self._on_builder_fitted)
        window.surface_view.start_requested.connect(self._on_surface_click)

        w = window.worker
        w.run_started.connect(self._on_run_started)
        w.run_finished.connect(self._on_run_finished)
        window.frame_drawn.connect(self._on_frame)
        # The panel is the controller's, not the window's: every theme the window takes
        # (its View menu too, not only presentation) restyles it.
        window.theme_changed.connect(self.panel.apply_theme)
        self.panel.apply_theme(window.theme)
        self._filter = ClickerKeys(window, self.next, self.prev, self.toggle_presentation,
                                   lambda: self._presenting)
        self._filter.install()
        if self.errors:
            window.show_banner("Lecture: " + " · ".join(self.errors))

    # ---- navigation ---------------------------------------------------------------------
    @property
    def step(self) -> LectureStep | None:
        return self.steps[self.index] if 0 <= self.index < len(self.steps) else None

    def current_step(self) -> int | None:
        """The step shown (0-based), None before the first is shown (sessions save it)."""
        return self.index if 0 <= self.index < len(self.steps) else None

    @property
    def ready(self) -> bool:
        """The current step's entry training and background tables have finished."""
        return self._ready and self._tables_done and not self._builder_fitting()

    def _builder_fitting(self) -> bool:
        return bool(self.step is not None and self.step.options.get("builder")
                    and self.window.builder_view.fitting)

    @property
    def presenting(self) -> bool:
        return self._presenting

    def next(self) -> None:
        if self.index + 1 < len(self.steps):
            self.go(self.index + 1)

    def prev(self) -> None:
        if self.index > 0:
            self.go(self.index - 1)

    def go(self, n: int) -> None:
        """Show step n (0-based): settings, views, options, then train."""
        if not 0 <= n < len(self.steps):
            return
        self.index = n
        step = self.steps[n]
        win = self.window
        self._stop_tables()
        self._ready = False
        self._end = None
        self._tables_done = True
        self._run_id = None
        win.pause()
        self.panel.show_step(n, step)
        self._show_views(step)
        # (the dock as the call's context: a call still queued when the window closes, as
        # a frame drawn in pieces may leave one, is dropped with the dock, not run on it)
        QTimer.singleShot(0, self.dock, self.share_space)
        opts = step.options
        win.series_view.show_errors(bool(opts.get("errors")))
        surface = win.surface_view
        surface.set_reference_path(None, "")
        surface.set_path_numbers(int(opts.get("path_numbers", 0)))
        self.panel.sliders.setVisible(bool(opts.get("sliders")))
        self._set_up_builder(opts.get("builder"))
        self._set_up_race(opts.get("race"))
        self.panel.show_values(None)
        self._data = None
        # a loss that explodes reads on a log scale
        win.loss_view.log_y.setChecked(bool(opts.get("log_loss")))
        self._zoom_pending = dict(opts.get("zoom") or {})
        config = step.config
        if step.updates > 0:
            config = config.replace(limit_updates=step.updates, limit_epochs=None)
        win.set_speed(step.speed)
        self._awaiting = config
        # Every step starts a fresh run, even when only a live setting (lr) differs.
        fresh = not win.config.needs_new_run(config)
        win.set_config(config)
        if fresh:
            win.reset()
        if opts.get("tables"):
            self._start_tables(opts["tables"])
        if opts.get("gallery"):
            self._start_gallery(step.config, opts["gallery"])
        win.landscapes_view.stop()
        if opts.get("landscapes"):
            win.landscapes_view.compare(step.config, opts["landscapes"])
        self.step_changed.emit(n)

    # ---- step parts -----------------------------------------------------------------------
    def _set_up_race(self, spec: dict[str, Any] | None) -> None:
        """An optimizer race on the step's 1-day surface; a step without one pauses it."""
        race = self.window.race_view
        if not spec:
            race.pause()
            return
        race.configure([(str(n), float(lr)) for n, lr in spec["racers"]],
                       loss=spec.get("loss", "mae"), start=spec.get("start"),
                       updates=int(spec.get("updates", 500)),
                       speed=int(spec.get("speed", 30)), play=bool(spec.get("play", True)))

    def _set_up_builder(self, spec: dict[str, Any] | None) -> None:
        """The curve builder's target and starting pieces; with "fit", gradient descent
        moves the pieces into place on screen (the step is ready when it settles)."""
        builder = self.window.builder_view
        if not spec:
            builder.stop_fit()    # a fit left running by the previous step
            return
        builder.restore_state(builder_state(spec))
        if spec.get("fit"):
            builder.start_fit()

    def _show_views(self, step: LectureStep) -> None:
        """Show exactly the step's docks; the window owns every view, the builder included."""
        win = self.window
        want = set(step.views)
        for key, dock in win.docks.items():
            dock.setVisible(key in want)
        # The main run's scrubber only beside a view of the main run: under the race (or
        # the builder, the table ...) it read "update 0 of 0", a second bar under the
        # race's own, and took 38 px of a 720 px projector.
        win.timeline_dock.setVisible(bool(want & set(MAIN_RUN_VIEWS)))
        if "builder" in want:
            win.docks["builder"].raise_()   # it shares a tab with the fitted function
        for key in ("race", "gallery"):     # they share a tab with the error surface
            if key in want:
                win.docks[key].raise_()

    def _hide_dock_titles(self) -> None:
        """No dock title bars in lecture mode: each view's own title already says what it
        shows ("MSE error surface L(w, b): 1-day linear model" under "Error surface"), the
        steps choose which views are shown, and on a 1280 x 720 projector the three title
        rows (~28 px each) were the difference between a 60-px sliver of error surface and
        a readable one, and a caption cut short."""
        for dock in (self.dock, *self.window.docks.values()):
            dock.setTitleBarWidget(QWidget(dock))

    def _panel_wanted(self) -> int:
        """The lecture dock's height for the step's whole text, at most 40 % of the
        window."""
        chrome = max(self.dock.height() - self.panel.height(), 0)   # the dock's frame
        return min(self.panel.text_height() + chrome, int(self.window.height() * 0.4))

    def share_space(self) -> None:
        """The lecture panel as tall as the step's text needs (at most 40 % of the
        window), the step's views sharing the rest evenly. The normal layout's proportions
        (a short series row under a tall surface) gave a 1280 x 720 projector a 150-px
        sliver of the error surface, and a fixed panel clipped a long caption."""
        win = self.window
        if not self.dock.isVisible() or self.dock.isFloating():
            return
        panel = self._panel_wanted()
        # No taller than its text: Qt's dock layout grows the top dock area on request but
        # does not shrink it again, and hands the area spare height when it lays out the
        # views, so the panel kept the tallest earlier step's height (the race's 268 px at
        # the next steps' 190, 308 px at the weights steps, whose series plot was squeezed
        # to 40 px at 1280 x 720).
        self.dock.setMaximumHeight(panel)
        win.resizeDocks([self.dock], [panel], Qt.Orientation.Vertical)
        # Lay the window out now: until then every dock reads its old height, and the
        # views' shares below (taken from those) would pin the panel at its old height.
        win.layout().activate()
        # Qt's dock layout may hand out a few pixels less than asked (its separators):
        # measured 245 of 255 at 1280 x 720, the last line of the verdicts cut. Ask again
        # for what is missing.
        if 0 < panel - self.dock.height() < panel:
            win.resizeDocks([self.dock], [2 * panel - self.dock.height()],
                            Qt.Orientation.Vertical)
            win.layout().activate()
        shown = [d for k, d in win.docks.items()
                 if d is not self.dock and d.isVisible() and not d.isFloating()]
        if len(shown) > 1:
            # Even shares of the height they have now: asking each for more (the window's
            # height) took it from the panel, down to the panel's least height, and cut
            # the caption at 1280 x 720.
            share = sum(d.height() for d in shown) // len(shown)
            win.resizeDocks(shown, [share] * len(shown), Qt.Orientation.Vertical)
            win.layout().activate()
        self._share_rows(shown)

    def _share_rows(self, shown: list[QDockWidget]) -> None:
        """Views side by side in one row get even widths. Qt keeps a hidden dock's last
        width and hands the row's spare width to whichever dock it likes: at 'More ReLUs'
        (after the steps with the controls and the curve builder) the series got 355 of
        1,280 px beside a 920-px loss plot, its "◀ training" label cut to "ining". The
        controls keep their own width (they sit in their own column)."""
        win = self.window
        rows: dict[int, list[QDockWidget]] = {}
        for dock in shown:
            if dock is not win.docks.get("controls"):
                rows.setdefault(dock.y(), []).append(dock)
        for row in rows.values():
            if len(row) > 1:
                share = sum(d.width() for d in row) // len(row)
                win.resizeDocks(row, [share] * len(row), Qt.Orientation.Horizontal)

    def _on_run_started(self, info: Any) -> None:
        step = self.step
        if step is None or self._awaiting is None or info.config != self._awaiting:
            return
        self._awaiting = None
        self._run_id = int(info.run_id)
        self._data = info.data
        win = self.window
        opts = step.options
        track = opts.get("track")
        if track:
            surface = win.surface_view
            if not surface.is_exact:
                surface.choose(str(track[0]), str(track[1]))
            win.worker.set_track(str(track[0]), str(track[1]))
        start = opts.get("start")
        if start:
            win.worker.set_start(float(start[0]), float(start[1]))
        if opts.get("sliders"):
            init = info.config.init or (0.0, 0.0)
            self.panel.sliders.set_values(init[0], init[1], info.data)
        if opts.get("reference_path"):
            self._show_reference(step, info)
        if opts.get("critical_lr"):
            self.panel.show_values(critical_lr_html(info.data, step.config))
            QTimer.singleShot(0, self.dock, self.share_space)    # a line more for the panel
        if step.updates > 0 or step.play:
            win.play()
        else:
            self._ready = True
            self.step_ready.emit(self.index)

    def _on_run_finished(self, end: Any) -> None:
        """The step's run ended: ready once a frame has drawn its end. The window draws
        the last snapshot on its next frame timer, a view at a time, after this signal:
        ready at once, a screenshot or a test read the views a frame early (a fresh
        clone's suite under load saw the first update's path only, `lr-large`)."""
        snap = end.snapshot
        if self._run_id is not None and int(snap.run_id) >= self._run_id \
                and not self._ready:
            self._end = (int(snap.run_id), int(snap.update))
            if self._drawn >= self._end:
                self._end_shown()

    def _end_shown(self) -> None:
        self._end = None
        self._ready = True
        if self._tables_done:
            self.step_ready.emit(self.index)

    def _on_surface_click(self, *_: float) -> None:
        """A step that trained on entry descends from a clicked point at once (the window
        has set the start; its budget of updates runs again from there)."""
        if self.step is not None and self.step.updates > 0:
            self.window.play()

    def _on_builder_fitted(self) -> None:
        if self.step is not None and self.step.options.get("builder") and self.ready:
            self.step_ready.emit(self.index)

    def _on_frame(self, snap: Any) -> None:
        if snap.replay_of is None:
            self._drawn = (int(snap.run_id), int(snap.update))
            if self._end is not None and self._drawn >= self._end:
                self._end_shown()
        step = self.step
        if step is None or self._run_id is None or int(snap.run_id) < self._run_id:
            return
        if self._zoom_pending:
            self._apply_zoom(self._zoom_pending)
            self._zoom_pending = {}
        if step.options.get("errors") and self._data is not None:
            first = self.panel.values.isHidden()
            self.panel.show_values(loss_values_html(snap, self._data, step.config.loss))
            if first:
                QTimer.singleShot(0, self.dock, self.share_space)    # a line more for the panel
        # a step that only plays (no entry budget) is ready once it shows a few updates
        if not self._ready and step.updates == 0 and snap.update >= 3:
            self._end_shown()

    def _apply_zoom(self, zoom: dict[str, Any]) -> None:
        for name, box in zoom.items():
            view = self.window.views.get(name)      # a step file's key may name no view
            plot = view.main_plot() if view is not None else None
            if plot is None or not isinstance(box, dict):
                continue
            vb = plot.getViewBox()
            kw = {}
            if isinstance(box.get("x"), list) and len(box["x"]) == 2:
                kw["xRange"] = tuple(float(v) for v in box["x"])
            if isinstance(box.get("y"), list) and len(box["y"]) == 2:
                kw["yRange"] = tuple(float(v) for v in box["y"])
            if kw:
                vb.setRange(padding=0, **kw)

    def _show_reference(self, step: LectureStep, info: Any) -> None:
        n = step.updates or 300
        try:
            path = full_batch_path(info.config, n, info.data)
        except (ConfigError, ValueError) as exc:
            self.window.show_banner(f"Lecture: no full-batch path ({one_line(exc)})")
            return
        surface = self.window.surface_view
        surface.set_reference_path(path, "full batch")

    def _on_slider(self, w: float, b: float) -> None:
        self.window.set_start(w, b)

    # ---- the step's background work --------------------------------------------------------
    def _start_tables(self, spec: Any) -> None:
        self._start_job(tables_job(self.window, self.step.config.dataset, spec,
                                   self._show_story))

    def _show_story(self, rows: list[dict[str, Any]]) -> None:
        """The tables' verdicts under the step's text, the panel grown to hold them."""
        self.panel.show_values(story_html(rows))
        self.share_space()
        QTimer.singleShot(0, self.dock, self.share_space)   # again once the label has laid out

    def _start_gallery(self, config: RunConfig, spec: dict[str, Any]) -> None:
        self._start_job(gallery_job(self.window, config, spec))

    def _start_job(self, job: StepJob | None) -> None:
        """The step's background work (the tables, the gallery's runs): the step is
        ready when it has ended; a failure goes to the banner."""
        if job is None:
            return
        self._tables_done = False
        job.setParent(self)          # kept (and its thread with it) until joined
        job.ended.connect(self._on_tables_finished)
        self._tables = job
        job.start()

    def _on_tables_finished(self) -> None:
        if self.sender() is not self._tables:
            return
        self._tables_done = True
        if self._ready:
            self.step_ready.emit(self.index)

    def _stop_tables(self) -> None:
        if self._tables is not None:
            self._tables.stop(5.0)
            self._tables = None
        self._tables_done = True

    # ---- presentation -------------------------------------------------------------------------
    def toggle_presentation(self) -> None:
        """Full screen in the projector theme, and back to how it was."""
        win = self.window
        if not self._presenting:
            self._theme_before = win.theme.name
            win.apply_theme("projector")
            win.showFullScreen()
            self._presenting = True
        else:
            win.showNormal()
            if self._theme_before:
                win.apply_theme(self._theme_before)
            self._presenting = False
        self.panel.set_presenting(self._presenting)

    def watch_close(self) -> None:
        """Stop with the window: its Close event (before its own shutdown) and app quit."""
        self.window.installEventFilter(self)
        self.dock.installEventFilter(self)
        QApplication.instance().aboutToQuit.connect(self.shutdown)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Close:
            self.shutdown()
        elif (obj is self.dock and event.type() == QEvent.Type.Resize
              and self.dock.height() < self._panel_wanted() - 1):
            # Squeezed by Qt (a banner shown above the docks, the window resized): share
            # again once the layout has settled, as the text no longer fits.
            QTimer.singleShot(0, self.dock, self.share_space)
        return False

    def shutdown(self) -> None:
        """Stop the step's background job and give the clicker's keys back."""
        self._stop_tables()
        self._filter.release()
