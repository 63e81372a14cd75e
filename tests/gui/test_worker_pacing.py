"""How the worker paces its chunks and snapshots (logic only; timings live in bench/).

One chunk per snapshot: a chunk ends when the next snapshot is due, snapshots leave at
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
    assert interval - 0.010 - 0.005 <= worker._chunk_seconds() <= interval - 0.010
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
