"""`fnlab` (the app): QApplication, theme, presets, and the offscreen screenshot mode.

`fnlab --preset NAME --screenshot FILE.png [--updates N]` renders a preset to a picture
for slides and the README; bad arguments end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.config import ConfigError, RunConfig
from core.runtime import settle_garbage_collector, use_engine_threads

if TYPE_CHECKING:
    from gui.lecture import LectureController
    from gui.window_api import LabWindow

EXIT_USAGE = 2
# Set (to anything) by bench/bench_startup.py: print when the first window painted, close.
STARTUP_PROBE_ENV = "FNLAB_STARTUP_PROBE"
DEFAULT_PRESET = "linear-1day"
PRESET_DIR = Path(__file__).resolve().parent.parent / "resources" / "presets"


class UsageError(Exception):
    """A one-line message for stderr."""


@dataclass(frozen=True)
class Preset:
    """A named starting point: a config and how many updates make its picture."""

    name: str
    title: str
    config: RunConfig
    updates: int | None


def list_presets() -> list[str]:
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def load_preset(name: str) -> Preset:
    """A preset by name (resources/presets/NAME.json) or by path."""
    path = Path(name)
    if not path.suffix:
        path = PRESET_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(list_presets()) or "none"
        raise UsageError(f"no preset {name!r} (known: {known})")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{path.name}: cannot read preset ({exc})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("config", {}), dict):
        raise UsageError(f"{path.name}: a preset is a JSON object with a 'config' object")
    try:
        config = RunConfig.from_dict(raw.get("config", {}))
    except ConfigError as exc:
        raise UsageError(f"{path.name}: {exc}") from None
    updates = raw.get("updates")
    if updates is not None and (not isinstance(updates, int) or updates < 1):
        raise UsageError(f"{path.name}: 'updates' must be a positive whole number")
    return Preset(path.stem, str(raw.get("title", path.stem)), config, updates)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="fnlab", description="Function Lab: the desktop app. Headless "
                "commands: fnlab train | table | sweep | race | landscape | datasets.")
    p.add_argument("--preset", help="a preset name (resources/presets/NAME.json) or a path")
    p.add_argument("--screenshot", metavar="FILE.png",
                   help="render offscreen, train, save the window to FILE.png and exit")
    p.add_argument("--updates", type=int, help="updates to train before the screenshot")
    p.add_argument("--theme", choices=("dark", "projector"), help="default: the last used")
    p.add_argument("--lecture", action="store_true",
                   help="open lecture mode (resources/presets/lecture/) at step 1")
    p.add_argument("--step", type=int, metavar="N",
                   help="with --lecture: open (or with --screenshot render) step N")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="screenshot mode: give up after this many seconds")
    return p


def main(argv: list[str] | None = None, started: float | None = None) -> int:
    """The app; `started`: when the process began (`fnlab` passes its own start), from
    which the start-up probe counts (default: now)."""
    started = time.perf_counter() if started is None else started
    args_in = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(args_in)
        preset = load_preset(args.preset) if args.preset else None
        if args.updates is not None and args.updates < 1:
            raise UsageError("--updates must be a positive whole number")
        if args.screenshot and not args.screenshot.lower().endswith(".png"):
            raise UsageError("--screenshot needs a .png file name")
        if args.step is not None and not args.lecture:
            raise UsageError("--step needs --lecture")
        if args.lecture:
            from core.lecture_steps import step_number_error

            if step_number_error(args.step):
                raise UsageError(step_number_error(args.step))
    except UsageError as exc:
        print(f"fnlab: {exc}", file=sys.stderr)
        return EXIT_USAGE

    # One BLAS thread, Qt painting in the GUI thread (core.runtime); before numpy's import.
    use_engine_threads()
    if args.screenshot:   # without a display, the launcher (`fnlab`) has said so and ended
        from gui.offscreen import offscreen_platform

        os.environ["QT_QPA_PLATFORM"] = offscreen_platform()

    from PySide6.QtCore import qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen"):
            qInstallMessageHandler(_quiet_offscreen)
        app = QApplication([sys.argv[0] if sys.argv else "fnlab"])
    app.setApplicationName("Function Lab")
    app.setOrganizationName("FunctionLab")

    from gui.main_window import MainWindow

    # Without a preset the app opens where the lecture starts: y = b + w x1 on the surface.
    config = (preset or load_preset(DEFAULT_PRESET)).config
    if args.lecture:
        return run_lecture(app, args)
    if args.screenshot:
        from gui.screenshot import render

        updates = args.updates or (preset.updates if preset else None) or 300
        config = config.replace(limit_updates=updates, limit_epochs=None)
        window = MainWindow(config, theme=args.theme or "dark", persist=False)
        try:
            ok, message = render(window, Path(args.screenshot), updates, args.timeout)
        finally:
            window.close()
        if not ok:
            print(f"fnlab: {message}", file=sys.stderr)
            return 1
        print(message)
        return 0

    window = MainWindow(config, theme=args.theme)
    window.show()
    if os.environ.get(STARTUP_PROBE_ENV):
        _probe_start_up(app, window, started, built=time.perf_counter())
    settle_garbage_collector()
    return _exit_code(app.exec())


def _exit_code(code: int) -> int:
    """The event loop's exit code, once the background jobs told to stop that had not
    ended when their window closed have ended (`gui.background.reap_orphans`)."""
    from gui.background import reap_orphans

    reap_orphans(timeout=5.0)
    return int(code)


def run_lecture(app: Any, args: argparse.Namespace) -> int:
    """`fnlab --lecture [--step N] [--screenshot FILE.png]`: the window in lecture mode,
    or (with --screenshot) step N trained, its tables filled, saved as a picture."""
    from gui.main_window import MainWindow
    from gui.screenshot import SIZE, wait_until

    step = (args.step or 1) - 1
    if not args.screenshot:
        window = MainWindow(theme=args.theme)
        window.show()
        open_lecture(window, step)
        settle_garbage_collector()
        return _exit_code(app.exec())
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


def open_lecture(window: LabWindow, step: int = 0, folder: str | Path | None = None
                 ) -> LectureController:
    """Put `window` in lecture mode at `step` (0-based), with the steps of `folder`
    (default: resources/presets/lecture/)."""
    from core.lecture_steps import LECTURE_DIR, load_steps
    from gui.lecture import LectureController

    folder = LECTURE_DIR if folder is None else folder
    steps, errors = load_steps(folder)
    window.use_layout("lecture")   # its one-view steps never become the app's layout
    controller = LectureController(window, steps, errors)
    controller.watch_close()
    window.lecture = controller
    if steps:
        controller.go(max(0, min(step, len(steps) - 1)))
    else:
        window.show_banner("Lecture: no usable steps in " + str(folder))
    return controller


def ready_to_grab(window: LabWindow, controller: LectureController) -> bool:
    """The step trained, its tables filled, and every view idle (for screenshots)."""
    from gui.screenshot import views_idle

    return controller.ready and views_idle(window)


def _probe_start_up(app: Any, window: Any, started: float, built: float) -> None:
    """For the start-up bench: one line when the window first painted (seconds since
    `fnlab` began), then close the window (joining the worker) and quit."""
    from PySide6.QtCore import QTimer

    def painted() -> None:
        now = time.perf_counter()
        print(f"fnlab: first window painted {now - started:.3f} s after start "
              f"(window built at {built - started:.3f} s; CPU {time.process_time():.3f} s)",
              flush=True)
        QTimer.singleShot(0, window.close)   # after the paint, not inside it
        QTimer.singleShot(0, app.quit)

    window.first_painted.connect(painted)



def _quiet_offscreen(_mode: object, _context: object, message: str) -> None:
    """Offscreen has no window manager to tell about docks' size hints: not news."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
