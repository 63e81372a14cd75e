"""A run's timeline: any recorded moment drawn again with the numbers the run had then."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

from core.config import RunConfig
from core.data import load_series, window
from core.engine import Trainer
from core.models import param_shapes
from core.timeline import PARAM_BUDGET, ParamLayout, Timeline, param_slots
from core.timeline import rows_mapped_in_small_pages as small_paged

REL = 1e-12


def _same(live, replay) -> None:
    """Everything a view draws from the two snapshots agrees to REL."""
    assert replay.update == live.update
    for key, value in live.params.items():
        np.testing.assert_array_equal(replay.params[key], value)
    for name in ("pred_train", "pred_unseen", "curve_x", "curve_y", "pieces"):
        a, b = getattr(live, name), getattr(replay, name)
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=REL, atol=REL * np.abs(a).max(), err_msg=name)
    assert replay.constant == pytest.approx(live.constant, rel=REL)
    assert replay.train_loss == pytest.approx(live.train_loss, rel=REL)
    assert replay.unseen_loss == pytest.approx(live.unseen_loss, rel=REL)
    assert replay.epoch == pytest.approx(live.epoch, rel=REL)
    tracked = [live.params[k] for k in ("w", "b")] if "w" in live.params else None
    if tracked is not None:
        assert tuple(replay.path[-1]) == (float(tracked[0][0]), float(tracked[1]))


def test_a_replayed_linear_moment_shows_what_the_live_run_showed_then():
    t = Trainer(RunConfig(loss="mae", limit_updates=6000))
    live = {}
    for _ in range(30):
        t.step()
        live[t.update] = t.snapshot()
    for n in (994, 1024, 1000):   # chunks of the worker's kind, past the first updates
        t.run(n)
        live[t.update] = t.snapshot()
    t.run(2000)
    assert t.timeline().moments()[-3:].tolist() == [5044, 5046, 5048]   # every 2nd late
    for k, snap in live.items():
        replay = t.snapshot_at(k)
        _same(snap, replay)
        assert replay.replay_of == t.update == 5048
        # the optimizer's state then is not kept: the 1-day model's exact gradient there
        # and the step the run recorded next are (from 2,048 on the next one is thinned out)
        for key in ("w", "b"):
            np.testing.assert_allclose(replay.grad[key], snap.grad[key], rtol=1e-9)
            if k < 2048:
                np.testing.assert_allclose(replay.step[key], snap.step[key], rtol=1e-9)
        assert (not replay.step) == (k >= 2048), k
    assert t.snapshot_at(3047).update == 3046
    # The loss view keeps the whole history and marks the moment; the path stops there.
    assert t.snapshot_at(7).hist_update[-1] == t.update
    assert len(t.snapshot_at(7).path) == 8
    # At or past the live end it is the live snapshot.
    assert t.snapshot_at(t.update).replay_of is None


def test_a_replayed_network_moment_shows_what_the_live_run_showed_then():
    cfg = RunConfig(model="relu", units=12, layers=1, loss="mse", batch_size=64,
                    limit_updates=2000)
    t = Trainer(cfg)
    live = {}
    for _ in range(5):
        t.step()
        live[t.update] = t.snapshot()
    for n in (16, 16, 40):
        t.run(n)
        live[t.update] = t.snapshot()
    t.run(200)
    for k, snap in live.items():
        _same(snap, t.snapshot_at(k))
    assert live[t.moment_at(77)].update == 77 and t.moment_at(100) == 96


def test_between_moments_the_newest_one_before_is_shown():
    t = Trainer(RunConfig(model="relu", units=8, limit_updates=500))
    t.run(100)    # a network keeps its parameters at the ends of its chunks
    tl = t.timeline()
    ups = tl.moments()
    assert ups[0] == 0 and ups[-1] == 100 and len(ups) < 100
    gap_start, gap_end = ups[1], ups[2]
    moment, params = tl.params_at(gap_end - 1)
    assert moment == gap_start
    assert t.snapshot_at(gap_end - 1).update == gap_start
    assert t.moment_step(gap_end - 1, 1) == gap_end and t.moment_step(gap_start, -1) == 0
    assert t.moment_step(0, -5) == 0 and t.moment_step(50, 10_000) == 100
    np.testing.assert_array_equal(params["W1"], t.snapshot_at(gap_start).params["W1"])


def test_the_timeline_copy_is_frozen_and_stays_as_taken():
    t = Trainer(RunConfig(loss="mse", limit_updates=3000))
    t.run(300)
    tl = t.timeline()
    expected = t.snapshot_at(123)
    t.run(2000)
    assert tl.live_update == 300 and tl.moments()[-1] == 300
    assert tl.path.shape == (301, 2) and tl.track == ("w1", "b")
    np.testing.assert_array_equal(tl.path_updates, np.arange(301))
    assert tl.updates[-1] == 300 and len(tl.train_loss) == len(tl.unseen_loss) == len(tl.updates)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tl.live_update = 5   # type: ignore[misc]
    replay = tl.snapshot(123)
    _same(expected, replay)
    assert replay.replay_of == 300


def test_a_new_start_or_tracked_pair_starts_a_new_timeline():
    t = Trainer(RunConfig(loss="mae", limit_updates=3000))
    t.run(50)
    t.set_start(0.5, 2.0)
    assert t.timeline().moments().tolist() == [0]
    t.run(20)
    t.track = ("b", "w1")
    tl = t.timeline()
    assert tl.path_updates.tolist() == [20] and tl.moments()[-1] == 20


def test_a_restored_run_replays_from_its_start():
    """A saved run keeps its timeline: restored, it replays every moment since update 0
    as the run had it (an older session without one starts its timeline where it was
    saved)."""
    t = Trainer(RunConfig(loss="mae", limit_updates=3000))
    t.run(40)
    early = t.snapshot_at(12)
    state = t.export_state()
    back = Trainer.from_state(state, t.data)
    back.run(10)
    assert back.timeline().moments().tolist() == list(range(51))
    _same(early, back.snapshot_at(12))
    t.run(5)
    _same(t.snapshot(), back.snapshot_at(45))
    state.pop("timeline")
    old = Trainer.from_state(state, t.data)
    assert old.timeline().moments().tolist() == [40]


@pytest.mark.parametrize("model,units,layers,days", [("relu", 1000, 1, 1),
                                                      ("relu", 100, 4, 56)])
def test_parameter_copies_stay_within_the_budget_after_50k_updates(model, units, layers,
                                                                  days):
    """The recorder a network's Trainer keeps, fed as the Trainer feeds it (a row at the end
    of each chunk of at most 16 updates) for 50,000 updates of the app's largest networks."""
    cfg = RunConfig(model=model, units=units, layers=layers, days=days)
    layout = ParamLayout.of(cfg, days)
    assert layout.size == sum(int(np.prod(s)) for s in
                              param_shapes(model, days, units, layers).values())
    row = np.zeros(layout.size, dtype=layout.dtype)
    full, late = param_slots(row.nbytes)
    line = Timeline(row, 0, full, late, layout.dtype)
    for end in range(16, 50_001, 16):
        line.add_rows(np.array([end]), (row + end)[None])
    assert line.nbytes <= PARAM_BUDGET
    ups = line.update_array()
    assert ups[-1] == 50_000 and len(ups) >= 2 * 200
    assert line.row_at(ups[-7])[1][0] == ups[-7]    # each kept row is its moment's
    # the first updates at full resolution, the rest spread over the whole run
    assert ups[1:6].tolist() == [16, 32, 48, 64, 80]
    assert np.diff(ups[-10:]).max() <= 50_000 / 100


def test_a_1000_relu_trainer_keeps_its_moments_within_the_budget():
    data = window(load_series("channel"), 1, None)
    t = Trainer(RunConfig(model="relu", units=1000, limit_updates=100), data)
    t.run(3)
    for _ in range(3):
        t.step()
    moments = t.timeline().moments()
    assert moments.tolist() == [0, 3, 4, 5, 6]
    assert t._moments.nbytes <= PARAM_BUDGET


def test_a_recording_is_never_copied_to_grow_and_counts_the_rows_it_wrote():
    """The rows live in one array sized for the policy's most rows: recording a long run
    writes into it (no copy in the training thread, no old copy left with the allocator),
    and `recorded_bytes` counts the rows written, which a long run's memory grows by."""
    kept = []
    for chunk in (1, 7, 250, 1024, 20_000):
        line = Timeline(np.zeros(3), 0, full=64, late=64)
        rows = line._p
        for start in range(0, 20_000, chunk):
            n = min(chunk, 20_000 - start)
            line.add_chunk(start, np.repeat(np.arange(start + 1, start + n + 1.0)[:, None],
                                            3, axis=1))
            assert line._p is rows
        assert len(line) <= 64 + 64 + 2
        assert line.recorded_bytes == len(line) * (8 + 3 * 8) <= line.nbytes
        ups = line.update_array()
        np.testing.assert_array_equal(line.rows(0, len(line))[:, 0], ups)
        kept.append(ups.tolist())
    # the same moments whatever the chunks: the first 65, then the spacing, then the newest
    assert all(k == kept[0] for k in kept)
    assert kept[0][:65] == list(range(65)) and kept[0][-1] == 20_000


def _mapping_flags(address: int) -> list[str] | None:
    """The VmFlags of the mapping holding `address` in /proc/self/smaps (Linux)."""
    try:
        with open("/proc/self/smaps") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    inside = False
    for line in lines:
        head = line.split()[0]
        if "-" in head and ":" not in head:
            lo, hi = (int(x, 16) for x in head.split("-"))
            inside = lo <= address < hi
        elif inside and line.startswith("VmFlags:"):
            return line.split()[1:]
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's smaps")
def test_a_networks_moments_are_written_into_small_pages_not_huge_ones():
    """A 3 x 100 ReLU's parameter timeline (67 MB, a row written at each chunk's end):
    its memory is advised away from huge pages, whose first write may stall on the
    kernel's compaction (numpy asks for them for every array of 4 MB or more), and its
    rows still read back as written."""
    config = RunConfig(days=56, model="relu", units=100, layers=3, optimizer="adam",
                       lr=0.003, limit_updates=50)
    trainer = Trainer(config, window(load_series("channel"), 56))
    trainer.run(40)
    rows = trainer._moments._p
    assert rows.nbytes > 32 << 20
    for row in (1, len(rows) // 2, len(rows) - 1):   # numpy advises from a page boundary
        flags = _mapping_flags(rows[row].ctypes.data)
        assert flags is not None
        assert "nh" in flags and "hg" not in flags
    update, params = trainer.timeline().params_at(40)
    assert update == 40
    for name, now in trainer.params().items():
        np.testing.assert_array_equal(params[name], np.asarray(now, np.float32))
    # a small array is numpy's own
    assert small_paged((4, 3), np.float64).shape == (4, 3)


def test_replay_bytes_grow_with_the_moments_a_run_keeps():
    series = load_series("channel")
    config = RunConfig(days=7, model="relu", units=8, optimizer="adam", lr=1e-3)
    trainer = Trainer(config, window(series, 7))
    first = trainer.replay_bytes()
    trainer.run(300)
    tl = trainer.timeline()
    row = tl.moment_rows.shape[1] * tl.moment_rows.itemsize + 8
    assert trainer.replay_bytes() - first >= (len(tl.moment_updates) - 1) * row


@pytest.mark.parametrize("full, late", [(2048, 2048), (5, 6)])
def test_chunks_and_single_rows_are_kept_as_the_general_append_keeps_them(full, late):
    """`add_chunk` and `add_row` write in place when no thinning is due (the trainer's
    chunk of network updates); the rows, their updates and the spacing are those of the
    general `_append` over the same chunks, through the first rows, the later ones and
    every thinning."""
    rng = np.random.default_rng(3)
    fast = Timeline((0.0, 0.0), 0, full, late)
    slow = Timeline((0.0, 0.0), 0, full, late)
    update = 0
    for _ in range(900):
        n = int(rng.choice([1, 3, 7, 16, 64]))
        traj = rng.standard_normal((n, 2))
        if rng.random() < 0.3:
            fast.add_row(update + n, traj[-1])
            slow._append(np.array([update + n]), traj[-1:])
        else:
            fast.add_chunk(update, traj)
            ups = np.arange(update + 1, update + n + 1)
            early = min(max(slow.full + 1 - len(slow), 0), n)
            on = (ups % slow.every == 0) | (np.arange(n) < early)
            on[-1] = True
            slow._append(ups[on], traj[on])
        update += n
        a, b = fast.export(), slow.export()
        assert a["every"] == b["every"]
        np.testing.assert_array_equal(a["updates"], b["updates"])
        assert a["rows"].tobytes() == b["rows"].tobytes()
    assert len(slow) > full and slow.every > 2   # the later rows were thinned
