"""A background job restarted while it runs (`BackgroundJob.start(join=False)`, the live
landscape's restarts): the GUI thread does not wait for the old job, whose items are
dropped; `stop()` joins every thread it started."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread

from gui.background import BackgroundJob


def test_a_restart_does_not_wait_for_the_job_before(qtbot):
    job = BackgroundJob("test-job")
    got: list[tuple[int, str]] = []
    job.item_ready.connect(lambda token, item: got.append((token, item)))
    release = threading.Event()
    entered = threading.Event()

    def stuck(_should_stop):       # ignores the stop request until released
        entered.set()
        assert release.wait(30)
        yield "old"

    def quick(_should_stop):
        yield "new"

    first = job.start(stuck)
    assert entered.wait(10)
    second = job.start(quick, join=False)      # returns while the first is still stuck
    old = [t for t in job.findChildren(QThread) if t.isRunning()]
    assert second != first and old and job.is_running()
    qtbot.waitUntil(lambda: (second, "new") in got, timeout=10000)
    assert job.is_running()                    # the old job is not forgotten
    threading.Timer(0.2, release.set).start()  # while stop() joins it
    assert job.stop(timeout=30)
    assert not job.is_running()
    assert not [t for t in job.findChildren(QThread) if t.isRunning()]
    qtbot.wait(20)
    assert got == [(second, "new")]            # the old job's late item was dropped


def test_a_job_that_outlives_its_stop_outlives_its_window_too(qtbot):
    """stop() gives up waiting for a job that has not reached its next check (a slice at
    a lower priority on busy cores): its thread leaves the object tree, so deleting the
    window it belonged to does not destroy a running QThread (which aborted a fresh
    clone's suite), and it is joined once it ends."""
    from PySide6.QtCore import QCoreApplication, QEvent, QObject

    from gui.background import _ORPHANS, reap_orphans

    window = QObject()
    job = BackgroundJob("test-slow", parent=window)
    got: list[str] = []
    job.item_ready.connect(lambda _token, item: got.append(item))
    release, entered = threading.Event(), threading.Event()

    def slow(_should_stop):
        entered.set()
        assert release.wait(30)
        yield "late"

    job.start(slow)
    assert entered.wait(10)
    assert not job.stop(timeout=0.05)          # gave up waiting
    running = [t for t, _r in _ORPHANS if t.isRunning()]
    assert running and not job.findChildren(QThread)
    window.deleteLater()                       # the window closes and is deleted
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    release.set()
    assert reap_orphans(timeout=10)
    qtbot.wait(20)
    assert got == []                           # its late item went nowhere
