"""Lecture mode: the controller that walks a MainWindow through the lecture's steps.

The steps themselves are data (core/lecture_steps.py reads and validates them); here they
become the window's config, visible docks and options, a clicker's keys turn the page and
the lecture's tables train in the background. `fnlab --lecture` starts in gui/app.py.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QDockWidget

from core.config import ConfigError, RunConfig, one_line
from core.gallery import train_runs
from core.lecture_steps import (
    LECTURE_DIR,
    LectureStep,
    builder_state,
    full_batch_path,
    lecture_table_rows,
    load_steps,
)
from core.losses import loss_value
from gui.background import BackgroundJob

if TYPE_CHECKING:
    from gui.main_window import MainWindow

NEXT_KEYS = {Qt.Key.Key_PageDown, Qt.Key.Key_Right, Qt.Key.Key_Space, Qt.Key.Key_Down}
PREV_KEYS = {Qt.Key.Key_PageUp, Qt.Key.Key_Left, Qt.Key.Key_Backspace, Qt.Key.Key_Up}
# What the "?" overlay lists while lecture mode holds these keys.
KEY_HINTS = [("Next lecture step", "PgDown  or  Space  or  Right  or  Down"),
             ("Previous lecture step", "PgUp  or  Backspace  or  Left  or  Up"),
             ("Present full screen / leave", "F11  (Esc leaves)")]
TAKEN_KEYS = frozenset({"PgDown", "PgUp", "Space", "Right", "Left", "Up", "Down",
                        "Backspace", "F11", "Esc"})
PLAY_KEY = "P"     # Play / Pause while Space turns the page


class KeyFilter(QObject):
    """Application-wide: the keys a presentation clicker sends always turn the page, even
    when a spin box has the focus (it would otherwise eat Page Up/Down and the arrows)."""

    def __init__(self, controller: LectureController) -> None:
        super().__init__()
        self._c = controller

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return False
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if not self._c.window.isActiveWindow() and not self._c.window.isVisible():
            return False
        key = event.key()
        ours = key in NEXT_KEYS or key in PREV_KEYS or key in (Qt.Key.Key_F11,
                                                                Qt.Key.Key_Escape)
        if not ours:
            return False
        if kind == QEvent.Type.ShortcutOverride:
            event.accept()   # the window's own Space / Right shortcuts stand aside
            return True
        if event.isAutoRepeat():
            return True
        if key in NEXT_KEYS:
            self._c.next()
        elif key in PREV_KEYS:
            self._c.prev()
        elif key == Qt.Key.Key_F11:
            self._c.toggle_presentation()
        elif key == Qt.Key.Key_Escape:
            if not self._c.presenting:
                return False
            self._c.toggle_presentation()
        return True


class LectureController(QObject):
    """Drives a MainWindow through the steps: config, visible docks, options, training."""

    step_changed = Signal(int)          # index of the step now shown
    step_ready = Signal(int)            # its entry training (and tables) finished

    def __init__(self, window: MainWindow, steps: list[LectureStep], errors: list[str] | None = None
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
        self._tables: BackgroundJob | None = None
        self._tables_done = True
        self._after_job: Callable[[], Any] | None = None
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
        self.panel.next_clicked.connect(self.next)
        self.panel.prev_clicked.connect(self.prev)
        self.panel.jump_requested.connect(self.go)
        self.panel.present_clicked.connect(self.toggle_presentation)
        self.panel.sliders.moved.connect(self._on_slider)
        builder = window.views.get("builder")
        if builder is not None:
            builder.fit_finished.connect(self._on_builder_fitted)
        surface = window.views.get("surface")
        if surface is not None and hasattr(surface, "start_requested"):
            surface.start_requested.connect(self._on_surface_click)

        w = window.worker
        w.run_started.connect(self._on_run_started)
        w.run_finished.connect(self._on_run_finished)
        window.frame_drawn.connect(self._on_frame)
        self._filter = KeyFilter(self)
        QApplication.instance().installEventFilter(self._filter)
        window.shortcut_overlay.add_hints(KEY_HINTS, TAKEN_KEYS)
        self._lent_keys: dict[QAction, list[QKeySequence]] = {}
        self._take_action_keys()
        if self.errors:
            window.show_banner("Lecture: " + " · ".join(self.errors))

    def _take_action_keys(self) -> None:
        """The menus show only keys that act: actions lose the keys the clicker takes (their
        menu entry would otherwise promise Space plays), and Play / Pause gets P."""
        portable = QKeySequence.SequenceFormat.PortableText
        for act in self.window.findChildren(QAction):
            keys = act.shortcuts()
            kept = [k for k in keys if k.toString(portable) not in TAKEN_KEYS]
            if len(kept) != len(keys):
                self._lent_keys[act] = keys
                act.setShortcuts(kept)
        play = self.window.play_action
        if not play.shortcuts():
            self._lent_keys.setdefault(play, [])
            play.setShortcuts([QKeySequence(PLAY_KEY)])

    def _give_back_action_keys(self) -> None:
        for act, keys in self._lent_keys.items():
            act.setShortcuts(keys)
        self._lent_keys = {}

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
        builder = self.window.views.get("builder")
        return bool(self.step is not None and self.step.options.get("builder")
                    and builder is not None and builder.fitting)

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
        self._tables_done = True
        self._run_id = None
        win.pause()
        self.panel.show_step(n, step)
        self._show_views(step)
        QTimer.singleShot(0, self.share_space)
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
        compare = win.views.get("landscapes")
        if compare is not None:
            compare.stop()
            if opts.get("landscapes"):
                compare.compare(step.config, opts["landscapes"])
        self.step_changed.emit(n)

    # ---- step parts -----------------------------------------------------------------------
    def _set_up_race(self, spec: dict[str, Any] | None) -> None:
        """An optimizer race on the step's 1-day surface; a step without one pauses it."""
        race = self.window.views.get("race")
        if race is None:
            return
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
        builder = self.window.views.get("builder")
        if builder is None:
            return
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
        if "builder" in want and "builder" not in win.docks:
            want.discard("builder")   # a window without the builder: show the fitted curve
            want.add("fit")
        for key, dock in win.docks.items():
            dock.setVisible(key in want)
        if "builder" in want:
            win.docks["builder"].raise_()   # it shares a tab with the fitted function
        for key in ("race", "gallery"):     # they share a tab with the error surface
            if key in want:
                win.docks[key].raise_()

    def share_space(self) -> None:
        """The lecture panel as tall as the step's text needs (at most 40 % of the
        window), the step's views sharing the rest evenly. The normal layout's proportions
        (a short series row under a tall surface) gave a 1280 x 720 projector a 150-px
        sliver of the error surface, and a fixed panel clipped a long caption."""
        win = self.window
        if not self.dock.isVisible() or self.dock.isFloating():
            return
        chrome = max(self.dock.height() - self.panel.height(), 0)   # the dock's title
        panel = min(self.panel.text_height() + chrome, int(win.height() * 0.4))
        win.resizeDocks([self.dock], [panel], Qt.Orientation.Vertical)
        shown = [d for k, d in win.docks.items()
                 if d is not self.dock and d.isVisible() and not d.isFloating()]
        if len(shown) > 1:
            win.resizeDocks(shown, [win.height()] * len(shown), Qt.Orientation.Vertical)

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
            QTimer.singleShot(0, self.share_space)    # a line more for the panel
        if step.updates > 0 or step.play:
            win.play()
        else:
            self._ready = True
            self.step_ready.emit(self.index)

    def _on_run_finished(self, end: Any) -> None:
        if self._run_id is not None and int(end.snapshot.run_id) >= self._run_id \
                and not self._ready:
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
                QTimer.singleShot(0, self.share_space)    # a line more for the panel
        # a step that only plays (no entry budget) is ready once it shows a few updates
        if not self._ready and step.updates == 0 and snap.update >= 3:
            self._ready = True
            if self._tables_done:
                self.step_ready.emit(self.index)

    def _apply_zoom(self, zoom: dict[str, Any]) -> None:
        import pyqtgraph as pg

        for name, box in zoom.items():
            view = self.window.views.get(name)
            if view is None or not isinstance(box, dict):
                continue
            plots = view.findChildren(pg.PlotWidget)
            if not plots:
                continue
            vb = plots[0].getViewBox()
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

    # ---- the lecture's tables ---------------------------------------------------------------
    def _start_tables(self, spec: Any) -> None:
        spec = spec if isinstance(spec, dict) else {}
        given = spec.get("net_updates")
        net_updates = None if given is None else int(given)   # None: the table's budget
        table = self.window.table_view
        table.clear_rows()
        dataset = self.step.config.dataset
        self._start_job("fnlab-lecture-tables", "Lecture tables", table.add_row,
                        lambda stop: lecture_table_rows(dataset, net_updates, stop),
                        lambda: self._show_story(table.rows()))

    def _show_story(self, rows: list[dict[str, Any]]) -> None:
        """The tables' verdicts under the step's text, the panel grown to hold them."""
        self.panel.show_values(story_html(rows))
        self.share_space()
        QTimer.singleShot(0, self.share_space)   # again once the label has laid out

    def _start_job(self, name: str, what: str, on_item: Callable[[Any], Any],
                   job_fn: Callable[[Callable[[], bool]], Any],
                   on_done: Callable[[], Any] | None = None) -> None:
        """The step's background work (the tables, the gallery's runs): the step is
        ready when it has finished; a failure goes to the banner."""
        self._tables_done = False
        self._after_job = on_done
        job = BackgroundJob(name, parent=self)
        job.item_ready.connect(lambda _token, item: on_item(item))
        job.failed.connect(lambda _token, text: self.window.show_banner(f"{what}: {text}"))
        job.finished.connect(self._on_tables_finished)
        self._tables = job
        job.start(job_fn)

    def _start_gallery(self, config: RunConfig, spec: dict[str, Any]) -> None:
        """Train the step's config once per learning rate (too small / good / too large)
        and replay the runs side by side in the gallery, synchronized by update (or
        overlay their loss curves). Runs the gallery already holds from this step are
        replayed, not trained again."""
        gallery = self.window.views.get("gallery")
        if gallery is None:
            return
        updates = int(spec.get("updates", 300))
        labels = {float(lr): str(label) for label, lr in spec["runs"]}
        wanted = [config.replace(lr=lr, limit_updates=updates, limit_epochs=None)
                  for lr in labels]
        origin = "lecture step"
        kept = {c: run.run_id for c in wanted if (run := gallery.find(c, origin))}

        def keep(item: Any) -> None:
            cfg, snap, data = item
            run = gallery.keep(cfg, snap, data, origin=origin,
                               name=f"η {cfg.lr:g}: {labels[cfg.lr]}")
            if run is not None:
                kept[cfg] = run.run_id

        def replay() -> None:
            gallery.set_speed(int(spec.get("speed", 100)))
            gallery.show_runs([kept[c] for c in wanted if c in kept],
                              str(spec.get("mode", "side")))
            gallery.scrub_to(0)
            if spec.get("play", True):
                gallery.play()

        todo = [c.lr for c in wanted if c not in kept]
        if not todo:
            replay()
            return
        self._start_job("fnlab-lecture-gallery", "Lecture runs", keep,
                        lambda stop: train_runs(config, todo, updates, stop), replay)

    def _on_tables_finished(self, _token: int) -> None:
        if self.sender() is not self._tables:
            return
        self._tables_done = True
        after, self._after_job = self._after_job, None
        if after is not None:
            after()
        if self._ready:
            self.step_ready.emit(self.index)

    def _stop_tables(self) -> None:
        if self._tables is not None:
            if self._tables.stop(5.0):    # joined: the job object can go
                self._tables.deleteLater()
            self._tables = None
        self._tables_done = True
        self._after_job = None

    # ---- presentation -------------------------------------------------------------------------
    def toggle_presentation(self) -> None:
        """Full screen in the projector theme, and back to how it was."""
        win = self.window
        if not self._presenting:
            self._theme_before = win.theme.name
            win.apply_theme("projector")
            self.panel.apply_theme(win.theme)
            win.showFullScreen()
            self._presenting = True
        else:
            win.showNormal()
            if self._theme_before:
                win.apply_theme(self._theme_before)
                self.panel.apply_theme(win.theme)
            self._presenting = False
        self.panel.set_presenting(self._presenting)

    def watch_close(self) -> None:
        """Stop with the window: its Close event (before its own shutdown) and app quit."""
        self.window.installEventFilter(self)
        QApplication.instance().aboutToQuit.connect(self.shutdown)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Close:
            self.shutdown()
        return False

    def shutdown(self) -> None:
        """Stop the tables thread and remove the key filter."""
        self._stop_tables()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._filter)
        self.window.shortcut_overlay.remove_hints(KEY_HINTS, TAKEN_KEYS)
        self._give_back_action_keys()


def loss_values_html(snap: Any, data: Any, used: str) -> str | None:
    """MAE and MSE of the estimate shown, side by side in the data's unit (MSE also as its
    square root, in views again), the step's own loss in bold; None before an estimate."""
    if snap.pred_train is None or len(snap.pred_train) != len(data.y_train):
        return None
    y = np.asarray(data.y_train, dtype=np.float64) * float(data.scale)
    pred = np.asarray(snap.pred_train, dtype=np.float64)
    mae, mse = loss_value("mae", pred, y), loss_value("mse", pred, y)
    unit = html.escape(data.unit or "value")
    parts = {"mae": f"MAE = {mae:,.0f} {unit}",
             "mse": f"MSE = {mse:,.0f} {unit}<sup>2</sup> &nbsp;(√MSE = {math.sqrt(mse):,.0f}"
                    f" {unit})"}
    shown = [f"<b>{text}</b>" if name == used else text for name, text in parts.items()]
    return "&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;".join(shown)


# `core.experiments.STORY_CLAIMS` in the few words a projected panel has room for
STORY_SHORT = ("more days help", "ReLUs beat the line by 3 %", "2-3 layers beat 1",
               "4 layers overfit", "training loss falls in every table")


def story_html(rows: list[dict[str, Any]]) -> str | None:
    """Which of the lecture's claims hold on the tables just trained and which do not,
    decided from those rows (`core.experiments.story_checks`, as `fnlab table` prints it),
    so the step never claims more than the numbers on screen show; None without rows."""
    from core.experiments import story_checks

    rows = [r for r in rows if "seed" in r and "table" in r]
    if not rows:
        return None
    checks = story_checks(rows)
    held = [STORY_SHORT[i] for i, c in enumerate(checks) if c["held"] and not c["failed"]]
    failed = [STORY_SHORT[i] for i, c in enumerate(checks) if c["failed"]]
    parts = [f"<b>{label}</b> {'; '.join(claims)}" for label, claims in
             (("Holds:", held), ("Does NOT hold:", failed)) if claims]
    return "<br>".join(parts)


def critical_lr_html(data: Any, config: RunConfig) -> str:
    """The step's learning rate against the critical one of its surface (plain GD on the
    linear MSE loss diverges above 2 / lambda_max of the Hessian); MAE has none."""
    from core.race import critical_lr

    eta = config.lr
    if config.model != "linear" or config.loss != "mse":
        return (f"η = {eta:g}: the MAE loss is piecewise linear, so no learning rate is "
                "critical: too large a step zig-zags across the valley")
    crit = critical_lr(data)
    side = "above" if eta > crit else "below"
    return (f"critical η = 2 / λ<sub>max</sub> = <b>{crit:.4g}</b>; this step's η = {eta:g}"
            f" is {eta / crit:.2f}× it, {side}: gradient descent "
            + ("diverges" if eta > crit else "converges"))


def open_lecture(window: MainWindow, step: int = 0, folder: str | Path = LECTURE_DIR
                 ) -> LectureController:
    """Put `window` in lecture mode at `step` (0-based)."""
    steps, errors = load_steps(folder)
    window.use_layout("lecture")   # its one-view steps never become the app's layout
    controller = LectureController(window, steps, errors)
    controller.watch_close()
    window.lecture = controller
    controller.panel.apply_theme(window.theme)
    if steps:
        controller.go(max(0, min(step, len(steps) - 1)))
    else:
        window.show_banner("Lecture: no usable steps in " + str(folder))
    return controller


def ready_to_grab(window: MainWindow, controller: LectureController) -> bool:
    """The step trained, its tables filled, and every view idle (for screenshots)."""
    from gui.screenshot import views_idle

    return controller.ready and views_idle(window)
