# Over 450 lines: one file format: its document, arrays, checks and the autosaves that write it.
"""A session file: what a lecturer or student would hate to lose, as one JSON document.

Settings, theme, lecture step, loss-table rows, each view's zoom, the window layout, the
curve builder and the training itself (`core.engine.Trainer.export_state`: parameters,
optimizer state, update count, loss history, path, and the run's timeline: every
recorded moment, so a restored run can be scrubbed back to its start), so that opening
it continues the run exactly where it was.

Arrays are stored bit for bit, as base64 of their little-endian bytes inside the JSON,
zlib-compressed when that saves at least a tenth (`encode_arrays`). Why not an .npz beside
the JSON: one file is written atomically and copied, mailed or autosaved as one, and
base64 costs a third more bytes, which compression wins back on what repeats. A 1-day
linear run's timeline (4,096 moments of (w, b) and their updates, the tracked pair being
the same numbers and stored once) adds about 70 kB. A network's timeline holds up to
64 MB of float32 parameter copies: arrays over COMPRESS_MAX bytes are stored raw, since
float noise compresses by under a tenth (8 % measured on a 2 x 100 ReLU's moments) at
~30 ms a MB. Writes are
atomic (a temporary file in the same folder, then `os.replace`), so a crash mid-write
leaves the previous file whole. Reads validate everything before returning, so a
truncated, corrupt or newer-version file is refused with one line and changes nothing.

Autosaves: each running app owns one autosave file (`AutosaveSlot`, named by its process
id and a random tag) and holds an exclusive lock on a lock file beside it for as long as it
runs; the operating system drops the lock when the process ends, however it ends. An
autosave whose lock can be taken belongs to an app that is gone (`claim_orphans`); one
whose lock is held belongs to a running app and is never offered. A normal exit keeps
what it had (`AutosaveSlot.keep`: the final state, marked clean, then the lock goes), so the
next start offers the last session back as it offers a crashed one; an exit with nothing
worth keeping deletes its autosave. Such a quit also prunes the folder to the newest
KEEP_SESSIONS sessions of apps that are gone (`prune_kept`): a running app's are not
touched.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import math
import os
import sys
import tempfile
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from core.config import ConfigError, RunConfig, one_line
from core.results import COLUMNS

FORMAT = "function-lab-session"
VERSION = 3                      # 2: the training, the curve builder, the writer's pid;
#                                  3: the run's timeline, zlib-compressed arrays
AUTOSAVE_NAME = "autosave.fnlab-session.json"   # version 1's single shared autosave
AUTOSAVE_PREFIX = "autosave-"
AUTOSAVE_SUFFIX = ".fnlab-session.json"
LOCK_SUFFIX = ".lock"
# A session with a big network's training (1,000 ReLUs x 4 layers with Adam: ~50 MB of
# base64) is large; anything bigger than this is not one of ours.
MAX_BYTES = 512 * 1024 * 1024
# Array dtypes a session may hold (float64 linear state, float32 network state, int64
# epoch orders, int8 signs, uint8 generator states).
DTYPES = ("<f8", "<f4", "<i8", "|i1", "|u1")
ARRAY_KEY = "__ndarray__"
COMPRESS_MAX = 4 * 2**20          # bytes: larger arrays are stored raw (see the docstring)
COMPRESS_GAIN = 0.9               # kept compressed only if at most this share of the size
KEEP_SESSIONS = 3
"""How many sessions of apps that are gone stay in the settings folder (the newest; a
quit prunes the rest, `prune_kept`). Each quit with work keeps one, and a big network's
is ~50 MB: a restore bar never answered let them pile up without end. Three still give
back the last lesson's session after a crash and two quits in between."""


class SessionError(ValueError):
    """A session file that cannot be read or written; one line naming the file."""


@dataclass
class Session:
    """Everything a session file holds; `config` is a RunConfig dict."""

    config: dict[str, Any]
    theme: str = "dark"    # the theme it was saved in: a record; a restore keeps the
                           # window's own (the screen's, gui.session.restore)
    lecture_step: int | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    zoom: dict[str, list[list[float]]] = field(default_factory=dict)  # key -> [[x0,x1],[y0,y1]]
    layout: str | None = None        # base64 of QMainWindow.saveState()
    clean: bool = True               # False while the app that wrote it is still running
    training: dict[str, Any] | None = None   # Trainer.export_state() (numpy arrays inside)
    builder: dict[str, Any] | None = None    # the curve builder's state (plain data)
    pid: int | None = None           # the process that wrote it (autosaves)
    gallery: list[dict[str, Any]] | None = None   # the run gallery's runs (numpy inside)

    def run_config(self) -> RunConfig:
        return RunConfig.from_dict(self.config)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (arrays encoded, see `encode_arrays`)."""
        return {"format": FORMAT, "version": VERSION, "config": self.config,
                "theme": self.theme, "lecture_step": self.lecture_step, "rows": self.rows,
                "zoom": self.zoom, "layout": self.layout, "clean": self.clean,
                "training": encode_arrays(self.training), "builder": self.builder,
                "pid": self.pid, "gallery": encode_arrays(self.gallery)}

    def __eq__(self, other: object) -> bool:
        """Field by field, arrays compared bit for bit (numpy's == is elementwise)."""
        if not isinstance(other, Session):
            return NotImplemented
        return _same(self.__dict__, other.__dict__)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


# ---- arrays, bit for bit -------------------------------------------------------------------
def encode_arrays(obj: Any) -> Any:
    """`obj` with every numpy array (and numpy scalar) replaced by JSON-safe data: an
    array becomes {"__ndarray__": dtype, "shape": [...], "data": base64 of its
    little-endian bytes}, so float64 parameters come back to the last bit; with
    "zlib": true the bytes are zlib-compressed (level 1: a linear timeline's update
    numbers shrink 5x, its floats by a sixth, in about a millisecond)."""
    if isinstance(obj, np.ndarray):
        arr = obj.astype(obj.dtype.newbyteorder("<"), order="C", copy=False)  # keeps 0-d
        if arr.dtype.str not in DTYPES:
            raise SessionError(f"cannot store an array of type {arr.dtype}")
        raw = arr.tobytes()
        doc: dict[str, Any] = {ARRAY_KEY: arr.dtype.str, "shape": list(arr.shape)}
        if 64 <= len(raw) <= COMPRESS_MAX:
            packed = zlib.compress(raw, 1)
            if len(packed) <= COMPRESS_GAIN * len(raw):
                raw = packed
                doc["zlib"] = True
        doc["data"] = base64.b64encode(raw).decode("ascii")
        return doc
    if isinstance(obj, dict):
        return {str(k): encode_arrays(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [encode_arrays(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def decode_arrays(obj: Any) -> Any:
    """The inverse of `encode_arrays`; SessionError for a malformed array."""
    if isinstance(obj, dict):
        if ARRAY_KEY in obj:
            return _decode_array(obj)
        return {k: decode_arrays(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode_arrays(v) for v in obj]
    return obj


def _decode_array(doc: dict[str, Any]) -> np.ndarray:
    dtype, shape, data = doc.get(ARRAY_KEY), doc.get("shape"), doc.get("data")
    if dtype not in DTYPES:
        raise SessionError(f"an array of unknown type {dtype!r} in the training")
    if not (isinstance(shape, list) and all(isinstance(n, int) and not isinstance(n, bool)
                                            and n >= 0 for n in shape)):
        raise SessionError(f"an array with a bad shape {shape!r} in the training")
    if not isinstance(data, str):
        raise SessionError("an array without its data in the training")
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise SessionError("an array's data is not valid base64") from None
    dt = np.dtype(dtype)
    packed = doc.get("zlib", False)
    if packed is not False:
        if packed is not True:
            raise SessionError(f"an array with a bad \"zlib\" flag {packed!r}")
        # never more than the shape says: a damaged or hostile stream cannot fill memory
        inflate = zlib.decompressobj()
        try:
            raw = inflate.decompress(raw, dt.itemsize * math.prod(shape) + 1)
        except zlib.error:
            raise SessionError("an array's compressed data is damaged") from None
        if not inflate.eof:
            raise SessionError("an array's compressed data is damaged or too long")
    if len(raw) != dt.itemsize * math.prod(shape):
        raise SessionError(f"an array of shape {shape} holds {len(raw)} bytes, not "
                           f"{dt.itemsize * math.prod(shape)}")
    return np.frombuffer(raw, dtype=dt).reshape(shape).astype(dt.newbyteorder("="))


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
    training = doc.get("training")
    if training is not None:
        if not isinstance(training, dict) or not isinstance(training.get("config"), dict):
            raise SessionError("\"training\" must be a saved run with its settings")
        training = decode_arrays(training)
    builder = doc.get("builder")
    if builder is not None and not isinstance(builder, dict):
        raise SessionError("\"builder\" must be the curve builder's state or null")
    pid = doc.get("pid")
    if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0):
        raise SessionError(f"\"pid\" must be a process id or null, got {pid!r}")
    return Session(config=dict(config), theme=theme, lecture_step=step, rows=rows, zoom=zoom,
                   layout=layout, clean=clean, training=training, builder=builder, pid=pid,
                   gallery=_check_gallery(doc.get("gallery")))


def _check_gallery(runs: Any) -> list[dict[str, Any]] | None:
    """The run gallery's saved runs, each checked (`core.gallery.Gallery.read`)."""
    if runs is None:
        return None
    if not isinstance(runs, list) or not all(isinstance(r, dict) for r in runs):
        raise SessionError("\"gallery\" must be a list of saved runs")
    from core.gallery import Gallery

    runs = decode_arrays(runs)
    try:
        Gallery().read(runs)
    except ValueError as exc:
        raise SessionError(one_line(exc)) from None
    return runs


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
    """Version 1's single autosave (still read: an unclean one is offered once)."""
    return Path(folder) / AUTOSAVE_NAME


def _lock_path(autosave: Path) -> Path:
    return autosave.with_name(autosave.name[: -len(AUTOSAVE_SUFFIX)] + LOCK_SUFFIX)


class _Lock:
    """An exclusive, non-blocking lock on a file, dropped by the OS when the process ends
    (flock on POSIX, msvcrt.locking on Windows). Without either, `held` is False and the
    writer's process id decides (`pid_alive`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None

    @staticmethod
    def supported() -> bool:
        return _flock() is not None or sys.platform == "win32"

    def acquire(self) -> bool:
        """True if this process now holds the lock; False if another holder has it."""
        fh = open(self.path, "a+b")   # noqa: SIM115 - held open for the lock's life
        try:
            flock = _flock()
            if flock is not None:
                import fcntl

                flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            elif sys.platform == "win32":
                import msvcrt

                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    @property
    def held(self) -> bool:
        return self._fh is not None

    def release(self, delete: bool) -> None:
        """Drop the lock (deleting the lock file first if `delete`)."""
        if delete:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None


def _flock() -> Any:
    try:
        import fcntl
    except ImportError:
        return None
    return fcntl.flock


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (used only where files cannot be locked)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32   # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x100000, False, pid)   # SYNCHRONIZE
        if not handle:
            return False
        try:
            return kernel32.WaitForSingleObject(handle, 0) == 0x102   # WAIT_TIMEOUT
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class AutosaveSlot:
    """This app's own autosave: `autosave-<pid>-<tag>.fnlab-session.json`, with the lock
    beside it held from construction to `close` (or the process's end)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.pid = os.getpid()
        stem = f"{AUTOSAVE_PREFIX}{self.pid}-{uuid.uuid4().hex[:8]}"
        self.path = self.folder / f"{stem}{AUTOSAVE_SUFFIX}"
        self._lock = _Lock(self.folder / f"{stem}{LOCK_SUFFIX}")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            held = self._lock.acquire()
        except OSError as exc:
            raise SessionError(f"{self.folder}: cannot keep an autosave there "
                               f"({exc.strerror or exc})") from None
        if not held and _Lock.supported():
            raise SessionError(f"{self._lock.path.name}: cannot lock the autosave")

    def write(self, session: Session) -> Path:
        """Save the running app's state (unclean: the app is running)."""
        session.clean, session.pid = False, self.pid
        save_session(self.path, session)
        return self.path

    def keep(self, session: Session) -> Path:
        """A normal exit with work to keep: the final state, marked clean, replaces the
        autosave (atomically: a failed write leaves the last autosave whole, offered as an
        unclean one), and the lock goes; the next start offers it as the last session."""
        session.clean, session.pid = True, self.pid
        try:
            save_session(self.path, session)
            prune_kept(self.folder, own=self.path)
        finally:
            self._lock.release(delete=False)
        return self.path

    def close(self) -> None:
        """A normal exit with nothing to keep: the autosave and its lock go."""
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        self._lock.release(delete=True)

    def abandon(self) -> None:
        """Drop the lock but keep the file, as a crash would (tests, `kill -9`)."""
        self._lock.release(delete=False)


@dataclass
class Orphan:
    """An autosave whose app is gone, claimed by this process (its lock held) so that no
    other app offers it at the same time. `session` is None when it could not be read
    (`error` says why)."""

    path: Path
    session: Session | None
    error: str | None
    _lock: _Lock

    def forget(self) -> None:
        """Restored or discarded: delete the file and its lock."""
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        self._lock.release(delete=True)

    def quarantine(self) -> Path:
        """Unreadable: keep it as NAME.corrupt (never deleted) and drop the lock."""
        kept = quarantine(self.path)
        self._lock.release(delete=True)
        return kept

    def release(self) -> None:
        """Leave it for a later start (the lock is dropped; the file stays)."""
        self._lock.release(delete=False)


def claim_orphans(folder: str | Path) -> list[Orphan]:
    """The autosaves in `folder` whose app is no longer running, newest first, each
    claimed: those of apps that died (unclean) and the sessions apps kept when they quit
    (clean, `AutosaveSlot.keep`). An autosave whose lock another process (or another
    window of this one) holds belongs to a running app and is left alone; a clean
    version-1 autosave (the single shared file, marked clean on a normal exit) has
    nothing to offer."""
    folder = Path(folder)
    found: list[tuple[float, Orphan]] = []
    names = sorted(folder.glob(f"{AUTOSAVE_PREFIX}*{AUTOSAVE_SUFFIX}"))
    legacy = autosave_path(folder)
    if legacy.exists():
        names.append(legacy)
    for path in names:
        lock = _Lock(_lock_path(path))
        try:
            if not lock.acquire():
                continue                  # its app is running (or another app claimed it)
            mtime = path.stat().st_mtime
        except OSError:                   # gone meanwhile (its app closed normally)
            lock.release(delete=False)
            continue
        try:
            session: Session | None = load_session(path)
            error = None
        except SessionError as exc:
            session, error = None, str(exc)
        if session is not None and ((session.clean and path == legacy) or (
                not session.clean and not _Lock.supported() and session.pid is not None
                and session.pid != os.getpid() and pid_alive(session.pid))):
            lock.release(delete=False)    # nothing to offer, or its writer still runs
            continue
        found.append((mtime, Orphan(path, session, error, lock)))
    _drop_stale_locks(folder)
    found.sort(key=lambda item: -item[0])
    return [orphan for _, orphan in found]


def prune_kept(folder: str | Path, own: Path | None = None,
               keep: int = KEEP_SESSIONS) -> list[Path]:
    """Delete all but the `keep` newest autosaves of apps that are gone (the sessions
    kept at quit and those of apps that crashed, offered or not), `own` (this app's,
    just kept) counting as one of them; returns what went. One whose lock is held (a
    running app's autosave, or one another app is offering now) is never touched nor
    counted, and neither is version 1's single file. So a crash's autosave goes only
    when `keep` newer sessions exist. Files are not read: the mtime orders them."""
    folder = Path(folder)
    found: list[tuple[float, str, Path]] = []
    for path in folder.glob(f"{AUTOSAVE_PREFIX}*{AUTOSAVE_SUFFIX}"):
        with contextlib.suppress(OSError):
            found.append((path.stat().st_mtime, path.name, path))
    found.sort(reverse=True)
    left, gone = keep, []
    for _, _, path in found:
        if path == own:
            left -= 1
            continue
        lock = _Lock(_lock_path(path))
        try:
            if not lock.acquire():
                continue                  # its app runs, or another app offers it
        except OSError:
            continue
        if not _Lock.supported() and _writer_alive(path):
            lock.release(delete=False)
            continue
        if left > 0:
            left -= 1
            lock.release(delete=False)
            continue
        try:
            os.unlink(path)
        except OSError:
            lock.release(delete=False)
            continue
        lock.release(delete=True)
        gone.append(path)
    return gone


def _writer_alive(path: Path) -> bool:
    """Where files cannot be locked: whether the process named in an autosave's name
    (`autosave-<pid>-<tag>`) still runs (then it may be that app's live autosave)."""
    pid = path.name[len(AUTOSAVE_PREFIX):].split("-", 1)[0]
    return not pid.isdigit() or pid_alive(int(pid))


def _drop_stale_locks(folder: Path) -> None:
    """Lock files left without an autosave (an app that died before its first autosave)."""
    for lock_file in folder.glob(f"{AUTOSAVE_PREFIX}*{LOCK_SUFFIX}"):
        stem = lock_file.name[: -len(LOCK_SUFFIX)]
        if (folder / f"{stem}{AUTOSAVE_SUFFIX}").exists():
            continue
        lock = _Lock(lock_file)
        with contextlib.suppress(OSError):
            if lock.acquire():
                lock.release(delete=True)


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
