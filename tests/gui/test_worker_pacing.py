"""How the worker paces its chunks and snapshots (logic only; timings live in bench/).

A chunk ends when the next snapshot is due (or after CHUNK_SECONDS), snapshots leave at
most ~30 a second and within SNAPSHOT_SHARE of the worker's time, and a chunk that ends
a little early still publishes instead of running a tiny chunk to fill the gap.
"""

from __future__ import annotations

import time

import pytest

from core.config import RunConfig
from core.engine import Trainer
from gui.worker import (
    CHUNK_SECONDS,
    MIN_CHUNK_SECONDS,
    PUBLISH_INTERVAL,
    PUBLISH_SLACK,
    SNAPSHOT_SHARE,
    TrainingWorker,
)

LINEAR = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                   lr=0.05, init=(0.0, 0.0))


@pytest.fixture
def worker(qtbot):
    w = TrainingWorker(LINEAR)
    w._trainer = Trainer(LINEAR)
    sent: list = []
    w.snapshot_ready.connect(sent.append)
    w.sent = sent
    return w


def test_a_chunk_ends_when_the_next_snapshot_is_due(worker) -> None:
    worker._snap_cost = 0.004                      # interval: 0.004 / share
    interval = max(PUBLISH_INTERVAL, 0.004 / SNAPSHOT_SHARE)
    worker._last_publish = time.perf_counter() - 0.010
    due = interval - 0.010
    assert min(CHUNK_SECONDS, due - 0.005) <= worker._chunk_seconds() <= min(CHUNK_SECONDS, due)
    worker._last_publish = time.perf_counter()     # just published: a whole (capped) chunk
    assert worker._chunk_seconds() == pytest.approx(min(CHUNK_SECONDS, interval), abs=0.005)
    worker._last_publish = time.perf_counter() - 1.0   # overdue: the shortest chunk
    assert worker._chunk_seconds() == MIN_CHUNK_SECONDS


def test_a_snapshot_leaves_when_nearly_due_but_never_faster_than_30_a_second(worker
                                                                             ) -> None:
    worker._snap_cost = 0.0                        # cheap snapshots: the 30/s cap rules
    worker._last_publish = time.perf_counter() - (PUBLISH_INTERVAL - PUBLISH_SLACK / 2)
    worker._publish()
    assert worker.sent == []                       # due within the slack, but too soon
    worker._last_publish = time.perf_counter() - PUBLISH_INTERVAL - 0.001
    worker._publish()
    assert len(worker.sent) == 1
    worker._snap_cost = 0.008                      # dear snapshots: their share rules
    interval = 0.008 / SNAPSHOT_SHARE
    worker._last_publish = time.perf_counter() - (interval - 3 * PUBLISH_SLACK)
    worker._publish()
    assert len(worker.sent) == 1                   # not yet due
    worker._last_publish = time.perf_counter() - (interval - PUBLISH_SLACK / 2)
    worker._publish()
    assert len(worker.sent) == 2                   # nearly due: goes now


def test_frames_space_the_snapshots_of_a_run_that_needs_the_gil(qtbot) -> None:
    """A run whose updates hold the GIL (a linear MSE run: numpy between the updates) flat
    out: snapshots no faster than the GUI draws them in FRAME_SHARE of the time. A compiled
    run (GIL released: linear MAE, a network) and a paced run keep ~30 a second."""
    from gui.worker import FRAME_SAMPLE_MAX, FRAME_SHARE, SLOWEST_FRAMES

    numpy_run = RunConfig(dataset="channel", days=7, model="linear", loss="mse")
    w = TrainingWorker(numpy_run)
    w._trainer = Trainer(numpy_run)
    assert not w._trainer.gil_free
    for _ in range(40):
        w.report_frame(0.008)                      # the GUI: 8 ms a frame
    assert w._frame_cost == pytest.approx(0.008, rel=1e-3)
    w._last_publish = time.perf_counter()
    due = w._snapshot_due_in()
    assert 0.008 / FRAME_SHARE - 0.005 <= due <= 0.008 / FRAME_SHARE
    for _ in range(40):
        w.report_frame(0.5)                        # a slow stretch (a slice computed)
    assert w._frame_cost == pytest.approx(FRAME_SAMPLE_MAX, rel=1e-3)
    w._last_publish = time.perf_counter()
    assert w._snapshot_due_in() <= SLOWEST_FRAMES   # still ~12 snapshots a second
    w.set_speed(50.0)                              # slow motion: frames are not the limit
    w._process_commands()
    assert w._snapshot_due_in() <= PUBLISH_INTERVAL

    net = RunConfig(dataset="channel", days=7, model="relu", units=4, layers=1)
    for config in (LINEAR, net):
        compiled = TrainingWorker(config)
        compiled._trainer = Trainer(config)
        assert compiled._trainer.gil_free
        compiled.report_frame(0.012)
        compiled._frame_cost = 0.012
        compiled._last_publish = time.perf_counter()
        assert compiled._snapshot_due_in() <= PUBLISH_INTERVAL
