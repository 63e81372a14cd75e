"""Each running app owns its autosave; only an autosave whose app is gone is offered.

A real second process writes an autosave and keeps running: it is not offered. Killed
with SIGKILL (no clean-up runs): it is offered, once, to one claimer at a time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core import session as S
from core.config import RunConfig
from core.session import Session

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import sys, time
    from core import session as S
    from core.config import RunConfig
    from core.engine import Trainer
    trainer = Trainer(RunConfig(days=1, lr=0.05))
    trainer.run(25)
    slot = S.AutosaveSlot(sys.argv[1])
    slot.write(S.Session(config=trainer.config.to_dict(), training=trainer.export_state()))
    print(slot.path, flush=True)
    time.sleep(600)
""")


def _session(days: int = 1) -> Session:
    return Session(config=RunConfig(days=days).to_dict())


@pytest.fixture
def child(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        yield proc, Path(proc.stdout.readline().strip())
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        proc.stdout.close()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_running_apps_autosave_is_left_alone_and_a_killed_ones_is_offered(child, tmp_path):
    proc, path = child
    assert path.exists() and path.name.startswith(f"autosave-{proc.pid}-")
    assert S.claim_orphans(tmp_path) == []          # alive: never offered
    assert path.exists()

    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    orphans = S.claim_orphans(tmp_path)
    assert [o.path for o in orphans] == [path]
    orphan = orphans[0]
    assert orphan.session is not None and orphan.session.pid == proc.pid
    assert orphan.session.training is not None and orphan.session.training["update"] == 25
    assert S.claim_orphans(tmp_path) == []          # claimed: not offered twice at once
    orphan.release()                                # left unanswered: offered next time
    again = S.claim_orphans(tmp_path)
    assert [o.path for o in again] == [path]
    again[0].forget()
    assert sorted(os.listdir(tmp_path)) == []       # restored or discarded: gone


def test_two_apps_in_one_process_keep_two_autosaves(tmp_path):
    first, second = S.AutosaveSlot(tmp_path), S.AutosaveSlot(tmp_path)
    first.write(_session(1))
    second.write(_session(7))
    assert first.path != second.path
    assert S.claim_orphans(tmp_path) == []          # both locks held
    assert S.load_session(first.path).run_config().days == 1
    assert S.load_session(second.path).run_config().days == 7

    second.close()                                  # a normal exit leaves nothing
    assert not second.path.exists()
    first.abandon()                                 # as a crash would
    orphans = S.claim_orphans(tmp_path)
    assert [o.path for o in orphans] == [first.path]
    assert orphans[0].session is not None and not orphans[0].session.clean
    orphans[0].forget()
    assert os.listdir(tmp_path) == []


def test_the_newest_orphan_comes_first_and_a_corrupt_one_is_kept(tmp_path):
    old, new, bad = (S.AutosaveSlot(tmp_path) for _ in range(3))
    old.write(_session(7))
    new.write(_session(28))
    bad.path.write_text('{"format": "function-lab-session", "ver', encoding="utf-8")
    os.utime(old.path, (1e9, 1e9))
    os.utime(bad.path, (1.5e9, 1.5e9))
    for slot in (old, new, bad):
        slot.abandon()
    orphans = S.claim_orphans(tmp_path)
    assert [o.path for o in orphans] == [new.path, bad.path, old.path]
    broken = orphans[1]
    assert broken.session is None and "truncated" in broken.error
    kept = broken.quarantine()
    assert kept.name.endswith(".corrupt") and kept.read_text(encoding="utf-8").endswith("ver")
    for orphan in (orphans[0], orphans[2]):
        orphan.forget()
    assert os.listdir(tmp_path) == [kept.name]


def test_a_version_1_autosave_is_offered_only_if_unclean(tmp_path):
    legacy = S.autosave_path(tmp_path)
    doc = _session().to_dict()
    legacy.write_text(json.dumps(dict(doc, version=1, clean=True)), encoding="utf-8")
    assert S.claim_orphans(tmp_path) == []
    legacy.write_text(json.dumps(dict(doc, version=1, clean=False)), encoding="utf-8")
    orphans = S.claim_orphans(tmp_path)
    assert [o.path for o in orphans] == [legacy]
    orphans[0].forget()
    assert not legacy.exists()


def test_a_session_kept_on_quit_is_offered_and_its_lock_is_dropped(tmp_path):
    """A normal exit with work keeps its final state, marked clean; the next start
    claims it like a crashed app's (newest first), and a running app's is left alone."""
    quit_ = S.AutosaveSlot(tmp_path)
    quit_.write(_session(days=2))
    kept = quit_.keep(_session(days=7))
    running = S.AutosaveSlot(tmp_path)
    running.write(_session())
    (orphan,) = S.claim_orphans(tmp_path)
    assert orphan.path == kept and orphan.session.clean
    assert orphan.session.config["days"] == 7
    orphan.forget()
    assert not kept.exists()
    running.close()


def test_a_lock_file_without_its_autosave_is_cleaned_up(tmp_path):
    slot = S.AutosaveSlot(tmp_path)        # died before its first autosave
    slot.abandon()
    live = S.AutosaveSlot(tmp_path)        # running, nothing written yet
    assert S.claim_orphans(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == [live._lock.path.name]
    live.close()


def test_without_file_locks_the_writers_process_id_decides(tmp_path, monkeypatch):
    """Where files cannot be locked, an autosave is offered only when the process that
    wrote it no longer exists."""
    monkeypatch.setattr(S, "_flock", lambda: None)
    monkeypatch.setattr(S.sys, "platform", "unknown")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(30)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        assert S.pid_alive(alive.pid) and not S.pid_alive(dead.pid)
        for pid in (dead.pid, alive.pid):
            S.save_session(tmp_path / f"autosave-{pid}-0{S.AUTOSAVE_SUFFIX}",
                           Session(config=RunConfig().to_dict(), clean=False, pid=pid))
        orphans = S.claim_orphans(tmp_path)
        assert [o.session.pid for o in orphans if o.session] == [dead.pid]
    finally:
        alive.kill()
        alive.wait(30)


def test_a_quit_keeps_only_the_newest_sessions_of_apps_that_are_gone(tmp_path):
    """Sessions kept at quit pile up while the restore bar goes unanswered: a quit leaves
    the newest KEEP_SESSIONS of them, its own counted, a crash's autosave among them. A
    running app's autosave, one another app is offering now and version 1's file stay,
    however old, and count for nothing."""
    t0 = 1_700_000_000.0

    def kept(tag: str, age: int, clean: bool = True) -> Path:
        path = tmp_path / f"{S.AUTOSAVE_PREFIX}1{age}-{tag}{S.AUTOSAVE_SUFFIX}"
        S.save_session(path, Session(config=RunConfig(days=2).to_dict(), clean=clean))
        os.utime(path, (t0 - age, t0 - age))
        return path

    crash_new, clean_1, clean_2 = kept("crash", 10, clean=False), kept("a", 30), kept("b", 40)
    crash_old, clean_3 = kept("crashold", 50, clean=False), kept("c", 60)
    offered = kept("offered", 70)                 # claimed by another running app
    claim = S._Lock(S._lock_path(offered))
    assert claim.acquire()
    running = S.AutosaveSlot(tmp_path)
    running.write(_session())
    os.utime(running.path, (t0 - 80, t0 - 80))
    legacy = S.autosave_path(tmp_path)
    S.save_session(legacy, Session(config=RunConfig().to_dict(), clean=False))
    os.utime(legacy, (t0 - 90, t0 - 90))

    quit_ = S.AutosaveSlot(tmp_path)
    own = quit_.keep(_session(days=7))            # the newest: now
    left = {p.name for p in tmp_path.glob(f"*{S.AUTOSAVE_SUFFIX}")} | {legacy.name}
    assert left == {p.name for p in (own, crash_new, clean_1, offered, running.path, legacy)}
    for gone in (clean_2, crash_old, clean_3):    # their lock files went with them
        assert not S._lock_path(gone).exists()
    assert S.load_session(own).config["days"] == 7

    claim.release(delete=False)                   # the other app quit, leaving it
    again = S.AutosaveSlot(tmp_path)
    assert S.prune_kept(tmp_path) == [offered]    # 4 sessions of apps gone: the oldest goes
    newest = again.keep(_session(days=3))
    assert sorted(p.name for p in tmp_path.glob(f"{S.AUTOSAVE_PREFIX}*{S.AUTOSAVE_SUFFIX}")) \
        == sorted(p.name for p in (newest, own, crash_new, running.path))
    running.close()
