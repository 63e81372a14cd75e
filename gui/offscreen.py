"""Qt's offscreen platform with a real screen size, for pictures, tests and benchmarks.

Qt-free (it only writes a file and returns a `QT_QPA_PLATFORM` value), so it can be set
before Qt is loaded: by `fnlab --screenshot`, by the tests' conftest and by bench/.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

OFFSCREEN_SCREEN = (1920, 1080)


def offscreen_platform(width: int = OFFSCREEN_SCREEN[0], height: int = OFFSCREEN_SCREEN[1],
                       folder: Path | None = None) -> str:
    """A `QT_QPA_PLATFORM` value for an offscreen screen of `width` x `height` pixels.

    Qt's offscreen plugin otherwise pretends an 800 x 600 screen, and the window keeps
    itself on its screen's free area (`MainWindow.fit_to_screen`): a picture, a test or a
    benchmark made offscreen would show a window squeezed to its least size, not what a
    real display shows. The screen's description goes to `folder` (a new temporary
    folder if None)."""
    folder = folder if folder is not None else Path(tempfile.mkdtemp(prefix="fnlab-screen-"))
    config = folder / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": "offscreen", "x": 0, "y": 0, "width": width, "height": height,
        "logicalDpiX": 96, "logicalDpiY": 96}]}), encoding="utf-8")
    return f"offscreen:configfile={config}"


def size_offscreen_screen(env: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Give a plain (or unset) offscreen platform in `env` a 1920 x 1080 screen; a
    display, or an offscreen screen already described, is left as it is."""
    if env.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
        env["QT_QPA_PLATFORM"] = offscreen_platform()
