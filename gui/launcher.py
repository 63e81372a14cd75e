"""The `fnlab` console script: headless subcommands go to core.cli, anything else opens the app.

Kept free of Qt imports so `fnlab table` works on a machine without a display. It tunes
the process (core.runtime: thread settings before numpy or torch is imported, glibc's
memory setting) so the CLI trains the way the app does. Before Qt is loaded it checks that
a window can open: without a display it says so in one line (and how to render
screenshots offscreen) and exits 3; when Qt's X11 plugin lacks system libraries (Qt would
abort, naming the wrong one) it names them and the apt / dnf packages that bring them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from core.runtime import keep_freed_memory, use_engine_threads

# When `fnlab` began (this module is the console script's first import): the start-up
# probe (gui.app, FNLAB_STARTUP_PROBE) counts from here; handed to gui.app's `main`.
STARTED = time.perf_counter()

HEADLESS = {"train", "race", "table", "sweep", "datasets", "landscape"}
# The headless commands that start no process of their own (`table` and `sweep` own a Dask
# cluster, whose exit handlers must run): as the `fnlab` command, they end without the
# interpreter's teardown once their output is flushed (see `end_now`).
ENDS_AT_ONCE = {"train", "race", "datasets", "landscape"}
EXIT_NO_DISPLAY = 3
SCREENSHOT_HINT = "QT_QPA_PLATFORM=offscreen fnlab --screenshot shot.png"

# The shared libraries Qt's X11 (xcb) platform plugin loads, and the package that brings
# each: (Debian / Ubuntu, Fedora). On a fresh desktop the first few are often missing, and
# Qt then aborts naming the plugin, not the library.
XCB_PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libSM.so.6": ("libsm6", "libSM"),
    "libICE.so.6": ("libice6", "libICE"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def _uses_a_display() -> bool:
    """Linux and the BSDs draw through X11 or Wayland; macOS and Windows need neither."""
    return not sys.platform.startswith(("darwin", "win32", "cygwin"))


def display_problem(args: list[str], env: Mapping[str, str] = os.environ) -> str | None:
    """Why the window cannot open here (one line), or None. A screenshot renders
    offscreen and a chosen QT_QPA_PLATFORM is the user's call: neither is checked."""
    if "--screenshot" in args or any(a.startswith("--screenshot=") for a in args):
        return None
    if env.get("QT_QPA_PLATFORM") or not _uses_a_display():
        return None
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return ("fnlab: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the app "
                "cannot open a window; run it in a desktop session, or render pictures "
                f"offscreen: {SCREENSHOT_HINT}")
    wayland = env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland"
    if not wayland:
        return missing_xcb_message(missing_xcb_libraries())
    return None


def xcb_plugin_files() -> list[Path]:
    """Qt's xcb platform plugin and its integration library, inside PySide6 (found
    without importing it, so nothing of Qt is loaded yet)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    qt = Path(next(iter(spec.submodule_search_locations))) / "Qt"
    files = [qt / "plugins" / "platforms" / "libqxcb.so", *sorted((qt / "lib").glob(
        "libQt6XcbQpa.so*"))]
    return [f for f in files if f.is_file()]


def run_ldd(path: Path) -> str:
    """`ldd path`'s output ("" when ldd is not there or fails)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return ""
    try:
        done = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=20,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout


def missing_libraries(ldd_output: str) -> list[str]:
    """The libraries ldd could not find ("libxcb-cursor.so.0 => not found")."""
    return _NOT_FOUND.findall(ldd_output)


def missing_xcb_libraries() -> list[str]:
    """Libraries the xcb plugin needs and the system lacks, in a stable order."""
    missing: set[str] = set()
    for path in xcb_plugin_files():
        missing.update(missing_libraries(run_ldd(path)))
    return sorted(missing)


def missing_xcb_message(missing: list[str]) -> str | None:
    """One line naming the missing libraries and the packages to install for them."""
    if not missing:
        return None
    apt = sorted({XCB_PACKAGES[m][0] for m in missing if m in XCB_PACKAGES})
    dnf = sorted({XCB_PACKAGES[m][1] for m in missing if m in XCB_PACKAGES})
    unknown = [m for m in missing if m not in XCB_PACKAGES]
    how = []
    if apt:
        how.append(f"Debian/Ubuntu: sudo apt install {' '.join(apt)}")
        how.append(f"Fedora: sudo dnf install {' '.join(dnf)}")
    if unknown:
        how.append(f"and the packages that provide {', '.join(unknown)}")
    return (f"fnlab: Qt cannot open a window: the system lacks {', '.join(missing)} "
            f"(needed by Qt's X11 plugin). Install them ({'; '.join(how)}), or render "
            f"pictures offscreen: {SCREENSHOT_HINT}")


def end_now(code: int) -> NoReturn:
    """End the process with `code` after flushing stdout and stderr, skipping the
    interpreter's teardown (as core.fork_server does). Unloading numba and LLVM took
    ~0.23 s of CPU after `fnlab train --days 1` had printed its result, and paging in
    their destructors' code made the end the process's peak memory (0.6 MB over it)."""
    for stream in (sys.stdout, sys.stderr):
        # a reader that has gone (`fnlab train | head -1`), or a closed stream
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """The `fnlab` command (argv None: the process's own arguments) or a call with argv;
    only the command itself ends a finished headless command at once (`end_now`)."""
    use_engine_threads()
    keep_freed_memory()
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in HEADLESS:
        from core.cli import main as cli_main

        code = cli_main(args)
        if argv is None and args[0] in ENDS_AT_ONCE:
            end_now(code)
        return code
    if args and args[0] in {"-h", "--help"} and len(args) == 1:
        from core.cli import main as cli_main

        return cli_main(["--help"])
    problem = display_problem(args)
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    from gui.app import main as app_main

    return app_main(args, started=STARTED)


if __name__ == "__main__":
    sys.exit(main())
