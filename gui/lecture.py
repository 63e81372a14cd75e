"""Lecture mode: the lecture as an ordered list of steps a lecturer clicks through.

A step is data (resources/presets/lecture/NN-slug.json): a title, a caption with its
formula, a run config, which views show, how many updates to train on entry, and a few
options (errors drawn, w/b sliders, a full-batch reference path, the lecture's tables).
A broken file is named in one line and skipped; the other steps still open.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QThread, Signal
from PySide6.QtWidgets import QApplication, QDockWidget

from core.config import ConfigError, RunConfig

LECTURE_DIR = Path(__file__).resolve().parent.parent / "resources" / "presets" / "lecture"
STEP_KEYS = {"title", "caption", "formula", "config", "views", "updates", "speed", "play",
             "options"}
VIEW_NAMES = ("controls", "surface", "fit", "series", "loss", "table", "builder")
OPTION_KEYS = {"errors", "sliders", "reference_path", "tables", "zoom", "track", "start",
               "log_loss"}
NEXT_KEYS = {Qt.Key.Key_PageDown, Qt.Key.Key_Right, Qt.Key.Key_Space, Qt.Key.Key_Down}
PREV_KEYS = {Qt.Key.Key_PageUp, Qt.Key.Key_Left, Qt.Key.Key_Backspace, Qt.Key.Key_Up}
# What the "?" overlay lists while lecture mode holds these keys.
KEY_HINTS = [("Next lecture step", "PgDown  or  Space  or  Right  or  Down"),
             ("Previous lecture step", "PgUp  or  Backspace  or  Left  or  Up"),
             ("Present full screen / leave", "F11  (Esc leaves)")]
TAKEN_KEYS = frozenset({"PgDown", "PgUp", "Space", "Right", "Left", "Up", "Down",
                        "Backspace", "F11", "Esc"})


@dataclass(frozen=True)
class LectureStep:
    """One lecture step, validated."""

    name: str
    title: str
    caption: str
    formula: str
    config: RunConfig
    views: tuple[str, ...]
    updates: int = 0
    speed: float | None = None
    play: bool = False
    options: dict[str, Any] = field(default_factory=dict)


class StepError(ValueError):
    """One line naming the file and what is wrong with it."""


def _only(name: str, raw: dict[str, Any], known: set[str], what: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise StepError(f"{name}: unknown {what} {', '.join(unknown)}")


def parse_step(name: str, raw: Any) -> LectureStep:
    """Validate one step's JSON object; StepError names the problem."""
    if not isinstance(raw, dict):
        raise StepError(f"{name}: a step must be a JSON object")
    _only(name, raw, STEP_KEYS, "key(s)")
    for key in ("title", "caption"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise StepError(f"{name}: '{key}' must be a non-empty text")
    if not isinstance(raw.get("formula", ""), str):
        raise StepError(f"{name}: 'formula' must be a text")
    if not isinstance(raw.get("config"), dict):
        raise StepError(f"{name}: 'config' must be an object of run settings")
    try:
        config = RunConfig.from_dict(raw["config"])
    except ConfigError as exc:
        raise StepError(f"{name}: config: {exc}") from None
    views = raw.get("views")
    if not isinstance(views, list) or not views or not all(isinstance(v, str) for v in views):
        raise StepError(f"{name}: 'views' must be a list of view names")
    bad = [v for v in views if v not in VIEW_NAMES]
    if bad:
        raise StepError(f"{name}: unknown view(s) {', '.join(bad)} (known: "
                        f"{', '.join(VIEW_NAMES)})")
    updates = raw.get("updates", 0)
    if isinstance(updates, bool) or not isinstance(updates, int) or not 0 <= updates <= 10**7:
        raise StepError(f"{name}: 'updates' must be a whole number from 0 to 10,000,000")
    speed = raw.get("speed")
    if speed is not None and (isinstance(speed, bool) or not isinstance(speed, (int, float))
                              or not 0 < speed <= 1e6):
        raise StepError(f"{name}: 'speed' must be updates per second (> 0) or null")
    play = raw.get("play", False)
    if not isinstance(play, bool):
        raise StepError(f"{name}: 'play' must be true or false")
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise StepError(f"{name}: 'options' must be an object")
    _only(name, options, OPTION_KEYS, "option(s)")
    for key in ("track", "start"):
        v = options.get(key)
        if v is not None and (not isinstance(v, list) or len(v) != 2):
            raise StepError(f"{name}: option '{key}' must be a list of two values")
    if options.get("start") is not None and not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in options["start"]):
        raise StepError(f"{name}: option 'start' must be two numbers")
    if not isinstance(options.get("log_loss", False), bool):
        raise StepError(f"{name}: option 'log_loss' must be true or false")
    tables = options.get("tables")
    if tables is not None and not isinstance(tables, (bool, dict)):
        raise StepError(f"{name}: option 'tables' must be true or an object")
    return LectureStep(name, raw["title"].strip(), raw["caption"].strip(),
                       str(raw.get("formula", "")).strip(), config, tuple(views), updates,
                       None if speed is None else float(speed), play, dict(options))


def load_steps(folder: str | Path = LECTURE_DIR) -> tuple[list[LectureStep], list[str]]:
    """The steps in order (index.json's list, else by file name) and one message per
    broken file."""
    folder = Path(folder)
    errors: list[str] = []
    index = folder / "index.json"
    if index.is_file():
        try:
            names = json.loads(index.read_text(encoding="utf-8"))
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValueError("it must be a list of file names")
            files = [folder / n for n in names]
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            errors.append(f"index.json: cannot read the step list ({_one_line(exc)})")
            files = sorted(p for p in folder.glob("*.json") if p.name != "index.json")
    else:
        files = sorted(folder.glob("*.json"))
    steps = []
    for path in files:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            errors.append(f"{path.name}: listed in index.json but missing")
            continue
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            errors.append(f"{path.name}: not valid JSON ({_one_line(exc)})")
            continue
        try:
            steps.append(parse_step(path.name, raw))
        except StepError as exc:
            errors.append(str(exc))
    return steps, errors


def full_batch_path(config: RunConfig, updates: int, data: Any = None) -> Any:
    """The path full-batch gradient descent takes from the same start (headless, cheap for
    the 1-day linear model): what the noisy mini-batch path is compared with."""
    import numpy as np

    from core.engine import Trainer

    cfg = config.replace(batch_size=None, limit_updates=max(1, updates), limit_epochs=None)
    trainer = Trainer(cfg, data)
    trainer.run(max(1, updates))
    return np.asarray(trainer.snapshot(extras=False).path, dtype=np.float64)


class TablesThread(QThread):
    """Trains the lecture's three tables in the background, one row at a time; stoppable
    between updates (checked every few dozen)."""

    row_ready = Signal(object)     # a result row for the loss table
    failed = Signal(str)

    def __init__(self, dataset: str = "channel", net_updates: int = 300,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fnlab-lecture-tables")
        self._dataset = dataset
        self._net_updates = net_updates
        self._stop = threading.Event()

    def stop(self, timeout_ms: int = 3000) -> bool:
        self._stop.set()
        return self.wait(timeout_ms)

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # shown as a banner, never a traceback
            self.failed.emit(_one_line(exc))

    def _run(self) -> None:
        from core.data import load_series, window
        from core.engine import Trainer
        from core.experiments import lecture_tables
        from core.results import result_row

        series = load_series(self._dataset)
        exps = lecture_tables(self._dataset, net_updates=self._net_updates)
        data: dict[int, Any] = {}
        done: dict[str, Any] = {}
        for exp in exps:
            if self._stop.is_set():
                return
            key = exp.config.to_json()
            if key not in done:
                cfg = exp.config
                if cfg.days not in data:
                    data[cfg.days] = window(series, cfg.days, cfg.split)
                trainer = Trainer(cfg, data[cfg.days])
                while not trainer.done:
                    if self._stop.is_set():
                        return
                    trainer.run(25)
                done[key] = (trainer.snapshot(extras=False), trainer.data)
            snap, d = done[key]
            row = result_row(exp.config, snap, d)
            row["model"] = f"table {exp.table}: {exp.label}"
            row["table"] = exp.table
            self.row_ready.emit(row)


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

    def __init__(self, window: Any, steps: list[LectureStep], errors: list[str] | None = None
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
        self._tables: TablesThread | None = None
        self._tables_done = True
        self._presenting = False
        self._theme_before: str | None = None
        self._zoom_pending: dict[str, Any] = {}

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

        w = window.worker
        w.run_started.connect(self._on_run_started)
        w.run_finished.connect(self._on_run_finished)
        window.frame_drawn.connect(self._on_frame)
        self._filter = KeyFilter(self)
        QApplication.instance().installEventFilter(self._filter)
        overlay = getattr(window, "shortcut_overlay", None)
        if overlay is not None:
            overlay.add_hints(KEY_HINTS, TAKEN_KEYS)
        if self.errors:
            window.show_banner("Lecture: " + " · ".join(self.errors))

    # ---- navigation ---------------------------------------------------------------------
    @property
    def step(self) -> LectureStep | None:
        return self.steps[self.index] if 0 <= self.index < len(self.steps) else None

    @property
    def ready(self) -> bool:
        """The current step's entry training and background tables have finished."""
        return self._ready and self._tables_done

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
        opts = step.options
        series = win.views["series"]
        if hasattr(series, "show_errors"):
            series.show_errors(bool(opts.get("errors")))
        surface = win.views["surface"]
        if hasattr(surface, "set_reference_path"):
            surface.set_reference_path(None, "")
        self.panel.sliders.setVisible(bool(opts.get("sliders")))
        loss_view = win.views["loss"]
        if hasattr(loss_view, "log_y"):   # a loss that explodes reads on a log scale
            loss_view.log_y.setChecked(bool(opts.get("log_loss")))
        self._zoom_pending = dict(opts.get("zoom") or {})
        config = step.config
        if step.updates > 0:
            config = config.replace(limit_updates=step.updates, limit_epochs=None)
        win.worker.set_speed(step.speed)
        self._awaiting = config
        # Every step starts a fresh run, even when only a live setting (lr) differs.
        fresh = not win.config.needs_new_run(config)
        win.set_config(config)
        if fresh:
            win.reset()
        if opts.get("tables"):
            self._start_tables(opts["tables"])
        self.step_changed.emit(n)

    # ---- step parts -----------------------------------------------------------------------
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

    def _on_run_started(self, info: Any) -> None:
        step = self.step
        if step is None or self._awaiting is None or info.config != self._awaiting:
            return
        self._awaiting = None
        self._run_id = int(info.run_id)
        win = self.window
        opts = step.options
        track = opts.get("track")
        if track:
            surface = win.views["surface"]
            if hasattr(surface, "choose") and not surface.is_exact:
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

    def _on_frame(self, snap: Any) -> None:
        step = self.step
        if step is None or self._run_id is None or int(snap.run_id) < self._run_id:
            return
        if self._zoom_pending:
            self._apply_zoom(self._zoom_pending)
            self._zoom_pending = {}
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
            self.window.show_banner(f"Lecture: no full-batch path ({_one_line(exc)})")
            return
        surface = self.window.views["surface"]
        surface.set_reference_path(path, "full batch")

    def _on_slider(self, w: float, b: float) -> None:
        self.window.set_start(w, b)

    # ---- the lecture's tables ---------------------------------------------------------------
    def _start_tables(self, spec: Any) -> None:
        spec = spec if isinstance(spec, dict) else {}
        net_updates = int(spec.get("net_updates", 300))
        table = self.window.views["table"]
        table.clear_rows()
        self._tables_done = False
        thread = TablesThread(self.step.config.dataset, net_updates)
        thread.row_ready.connect(table.add_row)
        thread.failed.connect(lambda text: self.window.show_banner(f"Lecture tables: {text}"))
        thread.finished.connect(self._on_tables_finished)
        self._tables = thread
        thread.start()

    def _on_tables_finished(self) -> None:
        if self.sender() is not self._tables:
            return
        self._tables_done = True
        if self._ready:
            self.step_ready.emit(self.index)

    def _stop_tables(self) -> None:
        if self._tables is not None:
            self._tables.stop(5000)
            self._tables = None
        self._tables_done = True

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
        overlay = getattr(self.window, "shortcut_overlay", None)
        if overlay is not None:
            overlay.remove_hints(KEY_HINTS, TAKEN_KEYS)


def open_lecture(window: Any, step: int = 0, folder: str | Path = LECTURE_DIR
                 ) -> LectureController:
    """Put `window` in lecture mode at `step` (0-based)."""
    steps, errors = load_steps(folder)
    controller = LectureController(window, steps, errors)
    controller.watch_close()
    window.lecture = controller
    controller.panel.apply_theme(window.theme)
    if steps:
        controller.go(max(0, min(step, len(steps) - 1)))
    else:
        window.show_banner("Lecture: no usable steps in " + str(folder))
    return controller


def step_number_error(step: int | None, folder: str | Path = LECTURE_DIR) -> str | None:
    """One line if `step` (1-based) is not a lecture step, else None."""
    if step is None:
        return None
    steps, _ = load_steps(folder)
    if not 1 <= step <= len(steps):
        return f"--step must be from 1 to {len(steps)}, got {step}"
    return None


def ready_to_grab(window: Any, controller: LectureController) -> bool:
    """The step trained, its tables filled, and every view idle (for screenshots)."""
    from gui.screenshot import views_idle

    return controller.ready and views_idle(window)


def run_lecture(app: Any, args: Any) -> int:
    """`fnlab --lecture [--step N] [--screenshot FILE.png]`."""
    import sys

    from gui.main_window import MainWindow
    from gui.screenshot import SIZE, wait_until

    step = (args.step or 1) - 1
    if not args.screenshot:
        from core.runtime import settle_garbage_collector

        window = MainWindow(theme=args.theme)
        window.show()
        open_lecture(window, step)
        settle_garbage_collector()
        return int(app.exec())
    window = MainWindow(theme=args.theme or "projector", persist=False)
    try:
        window.resize(*SIZE)
        window.show()
        controller = open_lecture(window, step)
        if not wait_until(lambda: controller.ready, args.timeout):
            print(f"fnlab: step {step + 1} did not finish within {args.timeout:g} s",
                  file=sys.stderr)
            return 1
        wait_until(lambda: ready_to_grab(window, controller), min(args.timeout, 60.0))
        wait_until(lambda: False, 0.5)    # let the last frame and repaints land
        path = Path(args.screenshot)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(path)):
            print(f"fnlab: cannot write {path}", file=sys.stderr)
            return 1
        print(f"{path}: lecture step {step + 1} / {len(controller.steps)}: "
              f"{controller.step.title}")
        return 0
    finally:
        window.close()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
