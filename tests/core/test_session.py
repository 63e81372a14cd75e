"""Session files round-trip exactly, refuse bad files with one line, and write atomically."""

from __future__ import annotations

import json
import math

import pytest

from core import session as S
from core.config import RunConfig
from core.session import Session, SessionError, load_session, save_session


def _row(model: str, train: float, unseen: float, **kw) -> dict:
    row = {"model": model, "days": 1, "units": 0, "layers": 0, "activation": "",
           "loss": "MAE", "optimizer": "gd", "lr": 0.05, "batch": "full", "updates": 300,
           "train_loss": train, "unseen_loss": unseen, "seconds": 0.25, "diverged": False,
           "lecture": "0.48k / 0.58k", "scale": 1000.0, "suffix": "k"}
    row.update(kw)
    return row


def _session() -> Session:
    config = RunConfig(days=7, lr=0.02, init=(0.5, -1.25), batch_size=8).to_dict()
    rows = [_row("1 day, linear", 480.123456789, 581.5),
            _row("7 days, linear", 380.0, 490.0, batch=8, optimizer="adam"),
            _row("1 day, linear", math.inf, math.inf, diverged=True, lecture="")]
    return Session(config=config, theme="projector", lecture_step=3, rows=rows,
                   zoom={"surface": [[-1.5, 2.25], [0.1, 3.0]], "loss": [[0.0, 1e6], [1, 2]]},
                   layout=S.encode_layout(b"\x00\xffQt state\x01"), clean=False)


def test_round_trip_is_exact(tmp_path):
    path = tmp_path / "lesson.json"
    original = _session()
    save_session(path, original)
    back = load_session(path)
    assert back == original
    assert back.run_config() == RunConfig(days=7, lr=0.02, init=(0.5, -1.25), batch_size=8)
    assert S.decode_layout(back.layout) == b"\x00\xffQt state\x01"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "function-lab-session" and doc["version"] == S.VERSION


def test_a_session_without_a_lecture_step_keeps_null(tmp_path):
    path = tmp_path / "s.json"
    save_session(path, Session(config=RunConfig().to_dict()))
    back = load_session(path)
    assert back.lecture_step is None and back.rows == [] and back.zoom == {}


@pytest.mark.parametrize("cut", [1, 10, 200, -40, -2])
def test_truncated_file_is_refused(tmp_path, cut):
    path = tmp_path / "cut.json"
    save_session(path, _session())
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:cut], encoding="utf-8")
    with pytest.raises(SessionError) as err:
        load_session(path)
    msg = str(err.value)
    assert msg.startswith("cut.json: ") and "\n" not in msg
    assert "truncated" in msg or "not a Function Lab session" in msg


@pytest.mark.parametrize(("content", "words"), [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe junk", "not UTF-8"),
    (b'{"format": "function-lab-session", "version": 1, "config": {,}}', "corrupt JSON"),
    (b'[1, 2, 3]', "not a Function Lab session"),
    (b'{"format": "something-else", "version": 1, "config": {}}', "not a Function Lab"),
    (b'{"format": "function-lab-session", "version": 4, "config": {}}', "newer Function Lab"),
    (b'{"format": "function-lab-session", "version": "1", "config": {}}', "bad version"),
    (b'{"format": "function-lab-session", "version": 1, "config": {"days": 0}}', "days"),
    (b'{"format": "function-lab-session", "version": 1, "config": {"colour": 1}}', "colour"),
    (b'{"format": "function-lab-session", "version": 1, "config": {}, "rows": [{"a": 1}]}',
     "table row 1 lacks"),
    (b'{"format": "function-lab-session", "version": 1, "config": {},'
     b' "zoom": {"fit": [[0, 1]]}}', "zoom of view 'fit'"),
    (b'{"format": "function-lab-session", "version": 1, "config": {}, "layout": "@@"}',
     "base64"),
    (b'{"format": "function-lab-session", "version": 1, "config": {}, "lecture_step": -1}',
     "lecture_step"),
    (b'{"format": "function-lab-session", "version": 2, "config": {}, "training": [1]}',
     "training"),
    (b'{"format": "function-lab-session", "version": 2, "config": {}, "training":'
     b' {"config": {}, "core": {"__ndarray__": "<f8", "shape": [2], "data": "AAAA"}}}',
     "holds 3 bytes"),
    (b'{"format": "function-lab-session", "version": 2, "config": {}, "builder": 3}',
     "builder"),
    (b'{"format": "function-lab-session", "version": 2, "config": {}, "pid": -4}', "pid"),
])
def test_bad_files_are_refused_with_one_line(tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(SessionError) as err:
        load_session(path)
    msg = str(err.value)
    assert msg.startswith("bad.json: ") and words in msg and "\n" not in msg


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(SessionError, match=r"nothing\.json: cannot read"):
        load_session(tmp_path / "nothing.json")


def test_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "keep.json"
    save_session(path, _session())
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(S.os, "fsync", broken_fsync)
    with pytest.raises(SessionError, match=r"keep\.json: cannot write .*No space left"):
        save_session(path, Session(config=RunConfig(days=28).to_dict()))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]   # no temp left
    monkeypatch.undo()
    assert load_session(path) == _session()


def test_unserialisable_session_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "keep.json"
    save_session(path, _session())
    before = path.read_bytes()
    bad = Session(config=RunConfig().to_dict(), rows=[_row("x", 1.0, 2.0, extra=object())])
    with pytest.raises(SessionError, match=r"keep\.json: cannot save"):
        save_session(path, bad)
    assert path.read_bytes() == before


def test_a_version_1_file_still_opens(tmp_path):
    path = tmp_path / "old.json"
    doc = _session().to_dict()
    for key in ("training", "builder", "pid"):
        del doc[key]
    path.write_text(json.dumps(dict(doc, version=1)), encoding="utf-8")
    back = load_session(path)
    assert back.rows == _session().rows and back.training is None and back.builder is None


# ---- the run's timeline ------------------------------------------------------------------
TIMELINE_RUNS = {
    "linear-1day-momentum": RunConfig(dataset="channel", days=1, model="linear", loss="mae",
                                      optimizer="momentum", lr=0.02, init=(0.0, 0.0)),
    "relu-1day-adam": RunConfig(dataset="channel", days=1, model="relu", units=3, layers=1,
                                loss="mse", optimizer="adam", lr=0.003),
}


def _trained_with_a_live_change(config: RunConfig, updates: int = 2600):
    from core.engine import Trainer

    t = Trainer(config)
    t.run(300)
    t.apply(t.config.replace(lr=t.config.lr / 2))    # the settings log has two entries
    t.run(updates - 300)                             # past the first 2,048: thinned later
    return t


@pytest.mark.parametrize("name", list(TIMELINE_RUNS))
def test_a_sessions_timeline_comes_back_number_for_number(tmp_path, name):
    """Saved and opened (a restart), the run's timeline holds every number it held: each
    recorded update, tracked pair, parameter copy and loss, bit for bit, and the moments
    replay as before."""
    from core.engine import Trainer

    t = _trained_with_a_live_change(TIMELINE_RUNS[name])
    path = tmp_path / "run.json"
    save_session(path, Session(config=t.config.to_dict(), training=t.export_state()))
    back = Trainer.from_state(load_session(path).training)
    a, b = t.timeline(), back.timeline()
    for field in ("updates", "train_loss", "unseen_loss", "path", "path_updates",
                  "moment_updates", "moment_rows"):
        x, y = getattr(a, field), getattr(b, field)
        assert (x.dtype, x.shape) == (y.dtype, y.shape), field
        assert x.tobytes() == y.tobytes(), field
    assert a.moments()[0] == 0 and len(a.moments()) > 100
    assert back.settings_log == t.settings_log and len(t.settings_log) == 2
    for k in (0, 37, 299, 300, 2100, int(a.moments()[-2])):
        s, r = t.snapshot_at(k), back.snapshot_at(k)
        assert (s.update, s.lr, s.train_loss, s.unseen_loss) == \
            (r.update, r.lr, r.train_loss, r.unseen_loss)
        for key in s.params:
            assert s.params[key].tobytes() == r.params[key].tobytes()
        assert s.explained == r.explained


def test_a_linear_timeline_keeps_the_file_small(tmp_path):
    """The 1-day linear model's timeline (its tracked pair is all its parameters: stored
    once) adds under 100 kB for 5,000 updates."""
    t = _trained_with_a_live_change(TIMELINE_RUNS["linear-1day-momentum"], 5000)
    state = t.export_state()
    with_it, without = tmp_path / "with.json", tmp_path / "without.json"
    save_session(with_it, Session(config=t.config.to_dict(), training=state))
    save_session(without, Session(config=t.config.to_dict(),
                                  training={k: v for k, v in state.items() if k != "timeline"}))
    assert state["timeline"]["pairs"] == "moments"
    assert with_it.stat().st_size - without.stat().st_size < 100_000


def test_a_foreign_or_damaged_timeline_is_refused_with_one_line(tmp_path):
    from core.engine import Trainer

    config = TIMELINE_RUNS["linear-1day-momentum"]
    ours, theirs = Trainer(config), Trainer(config.replace(lr=0.01))
    ours.run(50)
    theirs.run(50)
    state = ours.export_state()
    foreign = dict(state, timeline=theirs.export_state()["timeline"])
    with pytest.raises(ValueError, match="belongs to another run") as err:
        Trainer.from_state(foreign)
    assert "\n" not in str(err.value)
    spaced = json.loads(json.dumps(S.encode_arrays(state)))
    spaced["timeline"]["moments"]["every"] = 3
    with pytest.raises(ValueError, match="does not fit this run") as err:
        Trainer.from_state(S.decode_arrays(spaced))
    assert "\n" not in str(err.value)
    # a compressed array whose bytes were damaged in the file
    path = tmp_path / "damaged.json"
    save_session(path, Session(config=config.to_dict(), training=state))
    doc = json.loads(path.read_text(encoding="utf-8"))
    ups = doc["training"]["timeline"]["moments"]["updates"]
    assert ups.get("zlib") is True
    ups["data"] = ups["data"][:12] + ("A" if ups["data"][12] != "A" else "B") + ups["data"][13:]
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SessionError, match=r"damaged\.json: .*compressed data") as err:
        load_session(path)
    assert "\n" not in str(err.value)
