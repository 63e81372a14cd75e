"""A session file: what a lecturer or student would hate to lose, as one JSON document.

Settings, theme, lecture step, loss-table rows, each view's zoom and the window layout.
Writes are atomic (a temporary file in the same folder, then `os.replace`), so a crash
mid-write leaves the previous file whole. Reads validate everything before returning, so
a truncated, corrupt or newer-version file is refused with one line and changes nothing.
The autosave helpers keep one such file in the settings folder with a "clean" flag that a
normal exit sets; an unclean autosave at start means the app or the machine died.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config import ConfigError, RunConfig
from core.results import COLUMNS

FORMAT = "function-lab-session"
VERSION = 1
AUTOSAVE_NAME = "autosave.fnlab-session.json"
MAX_BYTES = 64 * 1024 * 1024   # a session is kilobytes; anything huge is not one of ours


class SessionError(ValueError):
    """A session file that cannot be read or written; one line naming the file."""


@dataclass
class Session:
    """Everything a session file holds; `config` is a RunConfig dict."""

    config: dict[str, Any]
    theme: str = "dark"
    lecture_step: int | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    zoom: dict[str, list[list[float]]] = field(default_factory=dict)  # key -> [[x0,x1],[y0,y1]]
    layout: str | None = None        # base64 of QMainWindow.saveState()
    clean: bool = True               # False while the app that wrote it is still running

    def run_config(self) -> RunConfig:
        return RunConfig.from_dict(self.config)

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "config": self.config,
                "theme": self.theme, "lecture_step": self.lecture_step, "rows": self.rows,
                "zoom": self.zoom, "layout": self.layout, "clean": self.clean}


def encode_layout(state: bytes) -> str:
    return base64.b64encode(bytes(state)).decode("ascii")


def decode_layout(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# ---- writing -------------------------------------------------------------------------------
def save_session(path: str | Path, session: Session) -> None:
    """Write `session` to `path` atomically; on any failure the old file is untouched."""
    path = Path(path)
    try:
        text = json.dumps(session.to_dict(), indent=1, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise SessionError(f"{path.name}: cannot save the session ({exc})") from None
    _atomic_write(path, text)


def _atomic_write(path: Path, text: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    tmp_name = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:
        raise SessionError(f"{path.name}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


# ---- reading -------------------------------------------------------------------------------
def load_session(path: str | Path) -> Session:
    """Read and validate a session file; SessionError says which file and what is wrong."""
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SessionError(f"{name}: too large to be a session file ({size:,} bytes)")
        raw = path.read_bytes()
    except OSError as exc:
        raise SessionError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if not raw.strip():
        raise SessionError(f"{name}: the file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SessionError(f"{name}: not a session file (not UTF-8 text)") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        if not text.rstrip().endswith(("}", "]")):   # a whole document ends with a bracket
            raise SessionError(f"{name}: the file is truncated (ends at {where})") from None
        raise SessionError(f"{name}: corrupt JSON at {where}: {exc.msg}") from None
    try:
        return session_from_dict(doc)
    except SessionError as exc:
        raise SessionError(f"{name}: {exc}") from None


def session_from_dict(doc: Any) -> Session:
    """Validate a parsed document (messages without the file name)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SessionError("not a Function Lab session file (no \"format\": "
                           f"\"{FORMAT}\")")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SessionError(f"bad version {version!r} (expected a whole number >= 1)")
    if version > VERSION:
        raise SessionError(f"written by a newer Function Lab (session version {version}; "
                           f"this one reads up to {VERSION})")
    config = doc.get("config")
    if not isinstance(config, dict):
        raise SessionError("\"config\" must be an object of settings")
    try:
        RunConfig.from_dict(config)
    except ConfigError as exc:
        raise SessionError(f"bad settings: {exc}") from None
    theme = doc.get("theme", "dark")
    if not isinstance(theme, str):
        raise SessionError("\"theme\" must be a name")
    step = doc.get("lecture_step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
        raise SessionError(f"\"lecture_step\" must be a step number or null, got {step!r}")
    rows = _check_rows(doc.get("rows", []))
    zoom = _check_zoom(doc.get("zoom", {}))
    layout = doc.get("layout")
    if layout is not None:
        if not isinstance(layout, str):
            raise SessionError("\"layout\" must be base64 text or null")
        try:
            decode_layout(layout)
        except (binascii.Error, ValueError):
            raise SessionError("\"layout\" is not valid base64") from None
    clean = doc.get("clean", True)
    if not isinstance(clean, bool):
        raise SessionError("\"clean\" must be true or false")
    return Session(config=dict(config), theme=theme, lecture_step=step, rows=rows, zoom=zoom,
                   layout=layout, clean=clean)


def _check_rows(rows: Any) -> list[dict[str, Any]]:
    if not isinstance(rows, list):
        raise SessionError("\"rows\" must be a list of table rows")
    out = []
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            raise SessionError(f"table row {i} is not an object")
        missing = [c for c in COLUMNS if c not in row]
        if missing:
            raise SessionError(f"table row {i} lacks {', '.join(missing)}")
        out.append(dict(row))
    return out


def _check_zoom(zoom: Any) -> dict[str, list[list[float]]]:
    if not isinstance(zoom, dict):
        raise SessionError("\"zoom\" must be an object of view ranges")
    out: dict[str, list[list[float]]] = {}
    for key, rng in zoom.items():
        ok = (isinstance(rng, list) and len(rng) == 2
              and all(isinstance(a, list) and len(a) == 2 and all(_finite(v) for v in a)
                      for a in rng))
        if not ok:
            raise SessionError(f"zoom of view {key!r} must be [[x0, x1], [y0, y1]]")
        out[str(key)] = [[float(v) for v in a] for a in rng]
    return out


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# ---- autosave ------------------------------------------------------------------------------
def autosave_path(folder: str | Path) -> Path:
    return Path(folder) / AUTOSAVE_NAME


def write_autosave(folder: str | Path, session: Session, clean: bool = False) -> Path:
    """Save the running app's state; `clean=True` only on a normal exit."""
    session.clean = clean
    path = autosave_path(folder)
    save_session(path, session)
    return path


def pending_autosave(folder: str | Path) -> Session | None:
    """The autosave of an app that did not exit cleanly, if any.

    A clean or missing autosave gives None; an unreadable one raises SessionError (the
    caller keeps the file with `quarantine`, so nothing is deleted).
    """
    path = autosave_path(folder)
    if not path.exists():
        return None
    session = load_session(path)
    return None if session.clean else session


def quarantine(path: str | Path) -> Path:
    """Rename a bad file to NAME.corrupt (NAME.corrupt.1, ... if taken); never delete it."""
    path = Path(path)
    target = path.with_name(path.name + ".corrupt")
    n = 0
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt.{n}")
    os.replace(path, target)
    return target
