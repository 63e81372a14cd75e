"""A saved run continues exactly: Trainer.export_state -> session file -> Trainer.from_state
gives the same parameters (bit for bit), optimizer state, update count, loss history and
path, and the next updates are the very updates the uninterrupted run takes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core import session as S
from core.config import RunConfig
from core.engine import Trainer
from core.session import Session

CASES = {
    # full-batch MAE: the compiled kernel with its incrementally kept gradient sum
    "linear-1day-mae-gd": RunConfig(days=1, loss="mae", optimizer="gd", lr=0.05,
                                    init=(0.0, 0.0)),
    "linear-7day-mse-adam": RunConfig(days=7, loss="mse", optimizer="adam", lr=3e-3),
    "linear-56day-mae-adam": RunConfig(days=56, loss="mae", optimizer="adam", lr=3e-3),
    "linear-28day-minibatch-momentum": RunConfig(days=28, loss="mse", optimizer="momentum",
                                                 lr=1e-4, batch_size=64, seed=3),
    "relu-3x8-adam": RunConfig(days=3, model="relu", units=8, layers=3, loss="mae",
                               optimizer="adam", lr=3e-3),
    "sigmoid-minibatch-momentum": RunConfig(days=7, model="sigmoid", units=5, loss="mse",
                                            optimizer="momentum", lr=3e-4, batch_size=100,
                                            seed=7),
    "linear-1day-mae-nesterov": RunConfig(days=1, loss="mae", optimizer="nesterov",
                                          lr=0.01),
    "linear-7day-rmsprop-minibatch": RunConfig(days=7, loss="mse", optimizer="rmsprop",
                                               lr=1e-3, batch_size=32, seed=2),
    "hard-sigmoid-adagrad-minibatch": RunConfig(days=2, model="hard-sigmoid", units=4,
                                                loss="mae", optimizer="adagrad", lr=1e-2,
                                                batch_size=50, seed=1),
}


def _same_run(a: Trainer, b: Trainer) -> None:
    """Every number the app shows or the next update uses, compared exactly."""
    pa, pb = a.params(), b.params()
    assert pa.keys() == pb.keys()
    for key in pa:
        assert pa[key].tobytes() == pb[key].tobytes(), key
    sa, sb = a.snapshot(), b.snapshot()
    assert (sa.update, sa.epoch, sa.done, sa.diverged, sa.stop_reason, sa.track) == \
        (sb.update, sb.epoch, sb.done, sb.diverged, sb.stop_reason, sb.track)
    for field in ("train_loss", "unseen_loss", "lr"):
        assert getattr(sa, field) == getattr(sb, field), field
    for field in ("hist_update", "hist_train", "hist_unseen", "path", "pred_train"):
        np.testing.assert_array_equal(getattr(sa, field), getattr(sb, field), err_msg=field)
    for key in sa.step:   # the update about to be taken (optimizer state and next batch)
        np.testing.assert_array_equal(sa.step[key], sb.step[key], err_msg=f"step {key}")


def _through_a_file(trainer: Trainer, tmp_path) -> Trainer:
    path = tmp_path / "run.json"
    S.save_session(path, Session(config=trainer.config.to_dict(),
                                 training=trainer.export_state()))
    back = S.load_session(path)
    assert back.training is not None
    return Trainer.from_state(back.training)


@pytest.mark.parametrize("name", list(CASES))
def test_a_saved_run_continues_exactly(name, tmp_path):
    config = CASES[name]
    original = Trainer(config)
    for n in (1, 3, 40, 250):           # odd chunkings: history and path spacing too
        original.run(n)
    original.apply(config.replace(lr=config.lr * 0.5))   # a live change before saving
    original.run(7)
    restored = _through_a_file(original, tmp_path)
    assert restored.update == original.update == 301
    assert restored.run_id != original.run_id
    _same_run(original, restored)
    original.step()
    restored.step()
    _same_run(original, restored)
    original.run(500)
    restored.run(500)
    _same_run(original, restored)


def test_a_finished_and_a_diverged_run_stay_so(tmp_path):
    done = Trainer(RunConfig(days=1, lr=0.05, limit_updates=30))
    done.run(100)
    back = _through_a_file(done, tmp_path)
    assert back.done and back.stop_reason == "reached the limit of 30 updates"
    _same_run(done, back)

    wild = Trainer(RunConfig(days=1, loss="mse", lr=50.0))
    wild.run(200)
    assert wild.diverged
    back = _through_a_file(wild, tmp_path)
    assert back.diverged and back.done and back.stop_reason == wild.stop_reason
    assert back.stop_reason.startswith("diverged")
    np.testing.assert_array_equal(back.snapshot().hist_train, wild.snapshot().hist_train)


def test_a_moved_start_and_another_track_are_kept(tmp_path):
    net = Trainer(RunConfig(days=1, model="relu", units=4, optimizer="adam", lr=3e-3))
    net.run(20)
    net.track = ("c[2]", "b")
    net.set_start(0.5, 1.25)
    net.run(33)
    back = _through_a_file(net, tmp_path)
    assert back.track == ("c[2]", "b")
    _same_run(net, back)


def test_a_state_that_does_not_fit_is_refused():
    trainer = Trainer(RunConfig(days=7))
    trainer.run(10)
    state = trainer.export_state()

    other_data = dict(state, config=RunConfig(days=7, dataset="births").to_dict())
    with pytest.raises(ValueError, match="data of births changed"):
        Trainer.from_state(other_data)
    wrong = dict(state, core=dict(state["core"], theta=np.zeros(3)))
    with pytest.raises(ValueError, match="parameters of shape"):
        Trainer.from_state(wrong)
    with pytest.raises(ValueError, match="training state version"):
        Trainer.from_state(dict(state, version=99))
    net = Trainer(RunConfig(days=7, model="relu", units=4))
    net_state = net.export_state()
    params = dict(net_state["core"]["params"], W1=np.zeros((5, 7), dtype=np.float32))
    with pytest.raises(ValueError, match="do not fit this network"):
        Trainer.from_state(dict(net_state, core=dict(net_state["core"], params=params)))


def test_arrays_round_trip_bit_for_bit():
    values = {"f8": np.array([0.1, -0.0, math.inf, math.nan, 5e-324]),
              "f4": np.arange(6, dtype=np.float32).reshape(2, 3) / 3,
              "i8": np.array([3, 1, 2], dtype=np.int64), "i1": np.array([-1, 0, 1], np.int8),
              "u1": np.array([0, 255], dtype=np.uint8), "empty": np.empty((0, 3))}
    back = S.decode_arrays(S.encode_arrays(values))
    for key, arr in values.items():
        assert back[key].dtype == arr.dtype and back[key].shape == arr.shape
        assert back[key].tobytes() == arr.tobytes()


@pytest.mark.parametrize(("doc", "words"), [
    ({"__ndarray__": "<c16", "shape": [1], "data": ""}, "unknown type"),
    ({"__ndarray__": "<f8", "shape": [-1], "data": ""}, "bad shape"),
    ({"__ndarray__": "<f8", "shape": [2], "data": "AAAA"}, "holds 3 bytes, not 16"),
    ({"__ndarray__": "<f8", "shape": [1], "data": "@@"}, "base64"),
])
def test_a_malformed_array_is_refused(doc, words):
    with pytest.raises(S.SessionError, match=words):
        S.decode_arrays({"core": {"theta": doc}})
