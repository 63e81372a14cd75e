"""The slice thread's CPU class: a picture already on screen is recomputed in the idle
class (only on a core the GUI and the training threads leave free), the first picture of
a run, kind or pick at SLICE_NICE, and an idle-class request that brings nothing for
STARVED_S starts again at SLICE_NICE (`gui.views.slice_worker`)."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from gui.views import slice_worker
from gui.views.slice_worker import SLICE_NICE, SliceWorker

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the idle CPU class is Linux's")


def _policy() -> tuple[int, int]:
    """(scheduling policy, nice value) of the calling thread."""
    tid = threading.get_native_id()
    return os.sched_getscheduler(tid), os.getpriority(os.PRIO_PROCESS, tid)


def test_run_when_idle_puts_only_the_calling_thread_in_the_idle_class():
    from core.runtime import run_when_idle

    main = _policy()
    seen: list[tuple[int, int]] = []

    def body() -> None:
        assert run_when_idle()
        seen.append(_policy())

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen[0][0] == os.SCHED_IDLE
    assert _policy() == main


def test_a_picture_on_screen_is_recomputed_in_the_idle_class(qtbot):
    worker = SliceWorker()
    got: list[tuple[int, tuple[int, int]]] = []
    worker.grid_ready.connect(lambda token, piece: got.append((token, piece)))

    def policy(should_stop):
        yield _policy()

    nice = (os.SCHED_OTHER, max(SLICE_NICE, _policy()[1]))
    first = worker.start(compute=policy)
    qtbot.waitUntil(lambda: len(got) == 1, timeout=10000)
    again = worker.start(compute=policy)        # the picture is on screen now
    qtbot.waitUntil(lambda: len(got) == 2, timeout=10000)
    worker.stop()                               # a new run, kind or pick
    new = worker.start(compute=policy)
    qtbot.waitUntil(lambda: len(got) == 3, timeout=10000)
    assert [token for token, _ in got] == [first, again, new]
    assert got[0][1] == nice and got[2][1] == nice
    assert got[1][1][0] == os.SCHED_IDLE
    worker.close()


def test_an_idle_request_that_starves_starts_again_at_slice_nice(qtbot, monkeypatch):
    monkeypatch.setattr(slice_worker, "STARVED_S", 0.2)
    worker = SliceWorker()
    got: list[tuple[int, tuple[int, int]]] = []
    worker.grid_ready.connect(lambda token, piece: got.append((token, piece)))
    ran: list[tuple[int, int]] = []

    def starved_when_idle(should_stop):
        """As if the cores were busy with other programs: nothing in the idle class."""
        ran.append(_policy())
        if ran[-1][0] == os.SCHED_IDLE:
            while not should_stop():
                time.sleep(0.01)
            return
        yield ran[-1]

    worker.start(compute=starved_when_idle)
    qtbot.waitUntil(lambda: len(got) == 1, timeout=10000)
    starved = worker.start(compute=starved_when_idle)
    qtbot.waitUntil(lambda: len(got) == 2, timeout=10000)
    assert [p for p, _ in ran] == [os.SCHED_OTHER, os.SCHED_IDLE, os.SCHED_OTHER]
    assert got[1][0] == worker.token and got[1][0] != starved
    assert got[1][1][0] == os.SCHED_OTHER
    worker.start(compute=starved_when_idle)     # a grid came: idle again
    qtbot.waitUntil(lambda: len(got) == 3, timeout=10000)
    assert [p for p, _ in ran] == [os.SCHED_OTHER, os.SCHED_IDLE, os.SCHED_OTHER,
                                   os.SCHED_IDLE, os.SCHED_OTHER]
    worker.close()
