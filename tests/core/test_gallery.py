"""The run gallery's store, headless: bounded memory with the oldest unpinned run dropped
first, renames and pins, a saved list that restores every number, and the learning-rate
runs trained as `fnlab train` trains them."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from core.config import RunConfig
from core.engine import Trainer
from core.gallery import (
    Gallery,
    end_status,
    race_origin,
    racer_name,
    run_from_dict,
    run_from_timeline,
    run_to_dict,
    train_runs,
)

CFG = RunConfig(dataset="channel", days=1, model="linear", loss="mse", optimizer="gd",
                lr=0.03, init=(0.2, 2.0))


@pytest.fixture(scope="module")
def lr_runs():
    return list(train_runs(CFG, (0.0005, 0.03, 0.045), 300))


def _run(gallery: Gallery, snap, timeline, cfg=CFG, status="finished"):
    return run_from_timeline(gallery.new_id(), gallery.default_name(cfg), cfg, snap,
                             timeline, status)


def test_learning_rate_runs_are_the_trainers_own_numbers(lr_runs):
    _, snap, _ = lr_runs[1]
    alone = Trainer(CFG.replace(lr=0.03, limit_updates=300))
    alone.run(300)
    assert snap.update == 300 and snap.train_loss == alone.snapshot().train_loss
    assert lr_runs[2][1].diverged and not lr_runs[0][1].diverged
    assert [c.lr for c, _, _ in lr_runs] == [0.0005, 0.03, 0.045]


def test_the_path_is_the_timelines_with_the_update_of_every_point(lr_runs):
    _, snap, timeline = lr_runs[1]
    run = _run(Gallery(), snap, timeline)
    assert len(run.path) == 301 and run.path_updates.tolist() == list(range(301))
    i, point = run.point_at(120)
    assert i == 120 and np.array_equal(point, snap.path[120])
    # a long run: the timeline's thinned points keep their own updates
    long = Trainer(CFG.replace(limit_updates=6000))
    long.run(6000)
    run = _run(Gallery(), long.snapshot(), long.timeline())
    assert run.path_updates[-1] == 6000 and len(run.path) < 6001
    k = int(run.path_updates[len(run.path) // 2])
    _, moment = long.timeline().params_at(k)
    i, point = run.point_at(k)
    assert run.path_updates[i] == k
    assert point.tolist() == [float(moment["w"][0]), float(moment["b"])]


def test_the_oldest_unpinned_run_is_dropped_first(lr_runs):
    _, snap, timeline = lr_runs[0]
    g = Gallery(max_runs=3)
    runs = [_run(g, snap, timeline) for _ in range(4)]
    g.add(runs[0])
    g.pin(runs[0].run_id, True)
    g.add(runs[1])
    g.add(runs[2])
    dropped = g.add(runs[3])
    assert [r.run_id for r in dropped] == [runs[1].run_id]
    assert [r.run_id for r in g.runs] == [runs[0].run_id, runs[2].run_id, runs[3].run_id]
    assert "3 of at most 3 runs" in g.bounds_note()
    # the byte bound: the data set is counted once, however many runs share it
    one = g.nbytes() - sum(r.nbytes() for r in g.runs)
    assert one == sum(getattr(timeline.data, k).nbytes
                      for k in ("x_train", "y_train", "x_unseen", "y_unseen"))
    small = Gallery(max_bytes=runs[0].nbytes() * 2 + one)
    for r in runs[:3]:
        small.add(r)
    assert len(small.runs) == 2


def test_a_run_that_ends_again_keeps_its_name_and_pin(lr_runs):
    _, snap, timeline = lr_runs[0]
    g = Gallery()
    run = _run(g, snap, timeline)
    g.add(run)
    g.rename(run.run_id, "  too   small ")
    g.pin(run.run_id, True)
    g.add(run)
    assert len(g.runs) == 1 and g.runs[0].name == "too small" and g.runs[0].pinned
    with pytest.raises(ValueError, match="cannot be empty"):
        g.rename(run.run_id, "   ")
    g.delete(run.run_id)
    assert g.runs == []


def test_how_a_run_ended(lr_runs):
    _, finished, _ = lr_runs[1]
    _, diverged, _ = lr_runs[2]
    trainer = Trainer(CFG)
    trainer.run(5)
    cut = trainer.snapshot()
    assert end_status(finished, None, CFG) == "finished"
    assert end_status(diverged, None, CFG) == "diverged"
    assert end_status(cut, CFG.replace(days=7), CFG) == "stopped"
    assert end_status(cut, CFG, CFG) == "reset"


def test_a_saved_gallery_restores_every_number(lr_runs):
    g = Gallery()
    for cfg, snap, timeline in lr_runs:
        g.add(_run(g, snap, timeline, cfg, end_status(snap, None, cfg)))
    g.pin(g.runs[1].run_id, True)
    text = json.dumps(g.to_list())         # what a session file holds
    back = Gallery()
    back.set_runs(back.read(json.loads(text)))
    assert len(back.runs) == 3
    for a, b in zip(g.runs, back.runs, strict=True):
        assert (a.name, a.status, a.config, a.track, a.final_update, a.pinned, a.scale,
                a.suffix, a.unit, a.seconds) == (b.name, b.status, b.config, b.track,
                                                 b.final_update, b.pinned, b.scale,
                                                 b.suffix, b.unit, b.seconds)
        for key in ("updates", "train_loss", "unseen_loss", "path", "path_updates"):
            np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
        assert a.params.keys() == b.params.keys()
        for k in a.params:
            np.testing.assert_array_equal(a.params[k], b.params[k])
    # JSON has no inf: a non-finite number is saved as its text and read back exactly
    run = g.runs[2]
    odd = run_to_dict(run)
    odd["history"]["train_loss"][-1] = "inf"
    assert math.isinf(run_from_dict(json.loads(json.dumps(odd)), 9).final_train)
    with pytest.raises(ValueError, match="unknown run status"):
        run_from_dict({**run_to_dict(g.runs[0]), "status": "lost"}, 1)


def test_a_runs_own_colour_is_saved_and_a_session_without_colours_still_reads(lr_runs):
    """A racer's race colour goes into a session and comes back; a session saved before
    runs had colours reads with none (the gallery colours such a run by its place); a
    colour that is not #rrggbb is refused with a message."""
    cfg, snap, timeline = lr_runs[0]
    run = replace(_run(Gallery(), snap, timeline, cfg, "finished"), color="#ff3b30")
    doc = json.loads(json.dumps(run_to_dict(run)))
    assert run_from_dict(doc, 1).color == "#ff3b30"
    old = {k: v for k, v in doc.items() if k != "color"}
    assert run_from_dict(old, 2).color == ""
    with pytest.raises(ValueError, match="#rrggbb"):
        run_from_dict({**doc, "color": "red; font-size: 90px"}, 3)


def test_a_session_file_keeps_the_gallery_bit_for_bit_and_refuses_a_bad_run(lr_runs,
                                                                            tmp_path):
    from core.session import Session, SessionError, load_session, save_session

    g = Gallery()
    for cfg, snap, timeline in lr_runs:
        g.add(_run(g, snap, timeline, cfg, end_status(snap, None, cfg)))
    path = tmp_path / "s.json"
    save_session(path, Session(config=CFG.to_dict(), gallery=g.to_list(arrays=True)))
    back = Gallery().read(load_session(path).gallery)
    for a, b in zip(g.runs, back, strict=True):
        for key in ("updates", "train_loss", "unseen_loss", "path", "path_updates"):
            assert getattr(a, key).tobytes() == getattr(b, key).tobytes()
        assert all(a.params[k].tobytes() == b.params[k].tobytes() for k in a.params)
        assert (a.name, a.status, a.config) == (b.name, b.status, b.config)
    doc = json.loads(path.read_text())
    doc["gallery"][1]["status"] = "lost"
    path.write_text(json.dumps(doc))
    with pytest.raises(SessionError, match=r"^s\.json: gallery run 2: unknown run status"):
        load_session(path)


def test_a_race_keeps_each_racer_as_a_named_run_and_a_session_brings_every_number_back(
        tmp_path):
    """The racers of a race that ended (one diverged) are kept as runs of their own,
    named for their race; saved and read back, every number is the same, races go on
    being numbered after the kept ones, and the runs read back get ids no trainer of this
    process has (the gallery replaces a run that ends again by its id: a restored run
    sharing a later trainer's id was overwritten by that run's end)."""
    from core.data import load_series, window
    from core.race import Race, Racer, critical_lr
    from core.session import Session, load_session, save_session

    data = window(load_series("channel"), 1, None)
    base = RunConfig(loss="mse", limit_updates=60)
    racers = [Racer("gd", 3.0 * critical_lr(data)), Racer("momentum", 0.02, 0.8),
              Racer("adam", 0.05)]
    race = Race(base, racers, data, (0.2, 2.0))
    while not race.done:
        race.run(25)
    g = Gallery()
    number = g.next_race()
    for t in race.trainers:
        snap = t.snapshot(extras=False)
        g.add(run_from_timeline(t.run_id, racer_name(number, t.config), t.config, snap,
                                t.timeline(), end_status(snap, None, t.config),
                                race_origin(number)))
    assert number == 1 and g.next_race() == 2
    assert [r.name for r in g.runs] == [
        f"race 1: gd η {racers[0].lr:g}", "race 1: momentum η 0.02 μ 0.8",
        "race 1: adam η 0.05"]
    assert [r.status for r in g.runs] == ["diverged", "finished", "finished"]
    assert all(r.exact_surface and r.config.init == (0.2, 2.0) for r in g.runs)
    path = tmp_path / "race.json"
    save_session(path, Session(config=base.to_dict(), gallery=g.to_list(arrays=True)))
    back = Gallery()
    back.set_runs(back.read(load_session(path).gallery))
    for a, b in zip(g.runs, back.runs, strict=True):
        assert (a.name, a.status, a.origin, a.config, a.final_update, a.seconds) == \
            (b.name, b.status, b.origin, b.config, b.final_update, b.seconds)
        for key in ("updates", "train_loss", "unseen_loss", "path", "path_updates"):
            assert getattr(a, key).tobytes() == getattr(b, key).tobytes(), key
        assert all(a.params[k].tobytes() == b.params[k].tobytes() for k in a.params)
    assert back.next_race() == 2
    later = Trainer(base).run_id
    restored = [r.run_id for r in back.runs]
    assert min(restored) > max(t.run_id for t in race.trainers)
    assert later not in restored and later > max(restored)
