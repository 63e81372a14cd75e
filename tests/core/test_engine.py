"""The Trainer against exact answers: optima, gradients, epochs, live changes, divergence."""

import math
import types

import numpy as np
import pytest

from core.config import ConfigError, RunConfig
from core.engine import MAX_POINTS, Trainer, default_settings
from tests.core.linear_optimum import exact_linear_optimum


def channel_like(days: int, n_days: int = 500, split: int = 400, seed: int = 0):
    """A small series shaped like the channel (weekly cycle, trend, AR noise), scale 1000."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_days)
    week = np.array([1.06, 1.08, 1.07, 1.04, 0.97, 0.86, 0.92])[t % 7]
    ar = np.zeros(n_days)
    for i in range(1, n_days):
        ar[i] = 0.8 * ar[i - 1] + 0.05 * rng.standard_normal()
    v = 2.5 * 1.3 ** (t / 365) * week * np.exp(ar)
    x = np.stack([v[days - j:n_days - j] for j in range(1, days + 1)], axis=1)
    y = v[days:]
    train = np.arange(days, n_days) < split
    return types.SimpleNamespace(x_train=x[train], y_train=y[train], x_unseen=x[~train],
                                 y_unseen=y[~train], scale=1000.0, suffix="k", unit="views",
                                 name="test", days=days)


def cfg(**kw) -> RunConfig:
    return RunConfig(**kw)


def test_gradient_descent_reaches_least_squares():
    data = channel_like(1)
    w, b, best = exact_linear_optimum(data.x_train, data.y_train, "mse")
    t = Trainer(cfg(loss="mse", optimizer="gd", lr=0.02, limit_updates=20_000), data)
    t.run(10**9)
    assert t.done and not t.diverged
    assert t.train_loss() / 1e6 == pytest.approx(best, rel=1e-3)
    assert t.get_scalar("w1") == pytest.approx(w[0], abs=5e-3)
    assert t.get_scalar("b") == pytest.approx(b, abs=2e-2)


def test_lad_optimum_passes_through_d_plus_1_points_and_no_step_lowers_it():
    """The reference optimum is exact: it interpolates d + 1 points (an LAD vertex), and
    no small step from it in any of 400 directions (the axes and random ones) lowers the
    mean absolute error (the loss is convex, so a local minimum is the global one)."""
    data = channel_like(3)
    x, y = data.x_train, data.y_train
    n, d = x.shape
    w, b, best = exact_linear_optimum(x, y, "mae")
    theta = np.append(w, b)
    a = np.hstack([x, np.ones((n, 1))])
    r = a @ theta - y
    assert best == pytest.approx(float(np.mean(np.abs(r))), rel=1e-12)
    assert np.sum(np.abs(r) < 1e-9 * np.abs(y).max()) >= d + 1
    rng = np.random.default_rng(0)
    dirs = np.vstack([np.eye(d + 1), -np.eye(d + 1), rng.normal(size=(392, d + 1))])
    for step in (1e-3, 1e-6):
        moved = np.mean(np.abs((a @ (theta[:, None] + step * dirs.T)) - y[:, None]), axis=0)
        assert np.all(moved >= best * (1 - 1e-12))


@pytest.mark.parametrize("days", [1, 7])
def test_default_settings_reach_the_exact_optimum_within_one_percent(days):
    data = channel_like(days)
    for loss in ("mae", "mse"):
        settings = default_settings("linear", loss)
        t = Trainer(cfg(days=days, loss=loss, **settings), data)
        t.run(10**9)
        best = exact_linear_optimum(data.x_train, data.y_train, loss)[2]
        unit = 1e3 if loss == "mae" else 1e6
        assert t.train_loss() / unit <= best * 1.01


def test_plain_gd_reaches_the_lad_optimum():
    data = channel_like(1)
    best = exact_linear_optimum(data.x_train, data.y_train, "mae")[2]
    t = Trainer(cfg(loss="mae", optimizer="gd", lr=0.01, limit_updates=20_000), data)
    t.run(10**9)
    assert t.train_loss() / 1e3 <= best * 1.01


def _numeric_grad(trainer, names, h):
    out = {}
    for name in names:
        v = trainer.get_scalar(name)
        losses = []
        for sign in (1, -1):
            trainer.set_start(*_start_with(trainer, name, v + sign * h))
            losses.append(trainer._core.train_loss())
        trainer.set_start(*_start_with(trainer, name, v))
        out[name] = (losses[0] - losses[1]) / (2 * h)
    return out


def _start_with(trainer, name, value):
    w = trainer.get_scalar("w1")
    b = trainer.get_scalar("b")
    return (value, b) if name == "w1" else (w, value)


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_linear_gradient_matches_finite_differences(loss):
    data = channel_like(1)
    t = Trainer(cfg(loss=loss, init=(0.6, 0.3)), data)  # away from the MAE kinks
    g = t.snapshot(extras=False).grad
    num = _numeric_grad(t, ["w1", "b"], 1e-7)
    assert float(g["w"][0]) == pytest.approx(num["w1"], rel=1e-4)
    assert float(g["b"]) == pytest.approx(num["b"], rel=1e-4)


@pytest.mark.parametrize("model", ["sigmoid", "hard-sigmoid", "relu"])
def test_network_gradient_matches_finite_differences(model):
    data = channel_like(2, n_days=120, split=100)
    t = Trainer(cfg(days=2, model=model, units=3, layers=2, loss="mse"), data)
    snap = t.snapshot(extras=False)
    from core.models import forward_numpy, get_scalar, set_scalar

    params = snap.params
    for name in ("W1[1,1]", "b2[2]", "c[3]", "b"):
        def loss_at(v, name=name):
            p = {k: np.array(a, dtype=np.float64) for k, a in params.items()}
            set_scalar(p, name, v)
            e = forward_numpy(model, p, data.x_train) - data.y_train
            return float(np.mean(e * e))
        v, h = get_scalar(params, name), 1e-4
        num = (loss_at(v + h) - loss_at(v - h)) / (2 * h)
        got = get_scalar(snap.grad, name)
        assert got == pytest.approx(num, rel=2e-2, abs=1e-3), name


def test_a_mini_batch_epoch_takes_ceil_n_over_b_updates():
    data = channel_like(1)
    n = len(data.y_train)
    t = Trainer(cfg(batch_size=10, limit_epochs=2, optimizer="gd", lr=1e-3), data)
    assert t.updates_per_epoch == math.ceil(n / 10)
    t.run(10**9)
    assert t.update == 2 * math.ceil(n / 10)
    assert t.epoch == pytest.approx(2.0)
    assert t.done and "epochs" in t.stop_reason


def test_updates_per_epoch_as_in_the_lecture():
    x = np.linspace(1, 2, 10_000)[:, None]
    data = types.SimpleNamespace(x_train=x, y_train=x[:, 0], x_unseen=x[:0], y_unseen=x[:0, 0],
                                 scale=1.0)
    assert Trainer(cfg(batch_size=10), data).updates_per_epoch == 1000


def test_learning_rate_change_applies_without_reset():
    data = channel_like(1)
    base = cfg(loss="mse", optimizer="gd", lr=1e-3)
    t = Trainer(base, data)
    t.run(50)
    small = np.abs(t.snapshot(extras=False).step["w"][0])
    path_len = len(t.snapshot(extras=False).path)
    t.apply(base.replace(lr=2e-3))
    assert t.update == 50
    snap = t.snapshot(extras=False)
    assert np.abs(snap.step["w"][0]) == pytest.approx(2 * small, rel=1e-6)
    w_before = t.get_scalar("w1")
    t.step()
    assert t.update == 51
    assert t.get_scalar("w1") - w_before == pytest.approx(float(snap.step["w"][0]), rel=1e-9)
    assert len(t.snapshot(extras=False).path) == path_len + 1


def test_shape_change_is_refused_by_apply():
    t = Trainer(cfg(), channel_like(1))
    with pytest.raises(ConfigError):
        t.apply(t.config.replace(days=7))


@pytest.mark.parametrize("model,loss", [("linear", "mae"), ("linear", "mse"), ("relu", "mse")])
def test_divergence_is_caught_without_an_exception(model, loss):
    t = Trainer(cfg(model=model, loss=loss, lr=1e6), channel_like(1))
    t.run(500)
    assert t.diverged and t.done
    assert "lower the learning rate" in t.stop_reason
    assert t.update < 500
    t.snapshot()  # still publishes
    t.apply(t.config.replace(lr=1e-3))
    assert t.done  # a diverged run stays stopped until restarted
    t.set_start(0.0, 0.0)
    assert not t.diverged and t.update == 0


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_momentum_and_adam_lower_the_loss(optimizer):
    data = channel_like(7)
    t = Trainer(cfg(days=7, loss="mse", optimizer=optimizer, lr=1e-4 if optimizer ==
                    "momentum" else 1e-2), data)
    first = t.train_loss()
    t.run(3000)
    assert t.train_loss() < 0.1 * first and not t.diverged


def test_step_preview_is_the_actual_adam_update():
    t = Trainer(cfg(days=7, optimizer="adam", lr=1e-2, batch_size=32), channel_like(7))
    t.run(5)
    before = t.params()
    step = t.snapshot(extras=False).step
    t.step()
    after = t.params()
    np.testing.assert_allclose(after["w"] - before["w"], step["w"], rtol=1e-9, atol=1e-15)


def test_network_trains_and_its_step_preview_matches():
    data = channel_like(3, n_days=200, split=160)
    t = Trainer(cfg(days=3, model="relu", units=8, layers=2, optimizer="adam", lr=1e-2), data)
    first = t.train_loss()
    t.run(200)
    assert t.train_loss() < first
    before = t.params()
    step = t.snapshot(extras=False).step
    t.step()
    np.testing.assert_allclose(t.params()["W1"] - before["W1"], step["W1"], atol=2e-5)


def test_snapshot_fields_have_promised_shapes_and_units():
    data = channel_like(1)
    t = Trainer(cfg(model="sigmoid", units=4, loss="mae", optimizer="adam", lr=1e-2), data)
    t.run(30)
    s = t.snapshot()
    assert s.update == 30 and s.run_id == t.run_id and s.track == ("c[1]", "b")
    assert s.pred_train.shape == data.y_train.shape
    assert s.pred_unseen.shape == data.y_unseen.shape
    assert s.curve_x.shape == s.curve_y.shape == (200,)
    assert s.pieces.shape == (4, 200)
    np.testing.assert_allclose(s.pieces.sum(axis=0) + s.constant, s.curve_y, rtol=1e-9)
    mae = np.mean(np.abs(s.pred_train - data.y_train * 1000.0))
    assert s.train_loss == pytest.approx(mae, rel=1e-5)  # data unit (views)
    assert s.curve_x.max() == pytest.approx(1000.0 * max(data.x_train.max(),
                                                          data.x_unseen.max()))
    assert set(s.grad) == set(s.params) == set(s.step)
    assert s.path.shape[1] == 2 and len(s.hist_update) == len(s.hist_train)


def test_history_and_path_stay_bounded():
    """... and a trainer looked at after every call (its arrays made bit by bit, across
    the halvings) shows the history and path of one looked at only at the end."""
    data = channel_like(1)
    t, looked = (Trainer(cfg(loss="mse", optimizer="gd", lr=1e-3), data) for _ in range(2))
    for _ in range(30):
        t.run(3000)
        looked.run(3000)
        looked.snapshot(extras=False)
    s = t.snapshot(extras=False)
    assert s.update == 90_000
    assert len(s.path) <= MAX_POINTS + 1 and len(s.hist_update) <= MAX_POINTS + 1
    assert s.hist_update[-1] == 90_000 and np.all(np.diff(s.hist_update) > 0)
    assert s.path[-1, 0] == pytest.approx(t.get_scalar("w1"))
    seen = looked.snapshot(extras=False)
    for name in ("hist_update", "hist_train", "hist_unseen", "path"):
        np.testing.assert_array_equal(getattr(seen, name), getattr(s, name))


def test_run_ids_are_new_for_each_trainer():
    data = channel_like(1)
    assert Trainer(cfg(), data).run_id < Trainer(cfg(), data).run_id


def test_set_start_and_init_give_the_starting_point():
    t = Trainer(cfg(init=(0.5, 1.5)), channel_like(1))
    assert (t.get_scalar("w1"), t.get_scalar("b")) == (0.5, 1.5)
    t.run(10)
    t.set_start(-1.0, 2.0)
    assert t.update == 0 and (t.get_scalar("w1"), t.get_scalar("b")) == (-1.0, 2.0)
    assert len(t.snapshot(extras=False).path) == 1


def test_a_linear_runs_first_updates_are_each_in_the_loss_history():
    from core.engine import FINE_UPDATES

    data = channel_like(2, n_days=200, split=160)
    t = Trainer(cfg(days=2, loss="mse", optimizer="gd", lr=1e-3), data)
    t.run(FINE_UPDATES + 100)
    ups = t.snapshot(extras=False).hist_update.astype(int).tolist()
    assert ups[:FINE_UPDATES + 1] == list(range(FINE_UPDATES + 1))
    later = [u for u in ups if u > FINE_UPDATES]
    assert later and all(u % 16 == 0 for u in later[:-1])
    assert ups[-1] == FINE_UPDATES + 100


@pytest.mark.parametrize("model", ["linear", "relu"])
def test_set_start_moves_only_the_two_tracked_parameters(model):
    """A click on a 7-day model's surface of (w3, b) moves w3 and b; the other weights
    stay where training left them."""
    t = Trainer(cfg(model=model, days=7, units=4, loss="mse", optimizer="adam", lr=1e-2),
                channel_like(7))
    t.run(30)
    names = t.param_names()
    a, b = ("w3", "b") if model == "linear" else ("W1[2,3]", "c[1]")
    t.track = (a, b)
    before = {n: t.get_scalar(n) for n in names}
    t.set_start(0.25, -0.5)
    after = {n: t.get_scalar(n) for n in names}
    assert (after[a], after[b]) == (0.25, -0.5)
    assert {n: v for n, v in after.items() if n not in (a, b)} == \
        {n: v for n, v in before.items() if n not in (a, b)}
    assert t.update == 0


@pytest.mark.parametrize("model, units, layers", [("sigmoid", 12, 1), ("relu", 24, 1),
                                                  ("relu", 6, 2)])
def test_a_run_cut_into_any_chunks_has_the_same_histories_and_parameters(model, units,
                                                                          layers):
    """The same run taken 1, 7, 16 or 100 updates a call (the app's worker cuts its chunks
    by time), looked at after 1,904 and 2,300 updates: the loss history (updates, training
    and unseen losses), the tracked pair's timeline, the parameter moments both recorded
    and the parameters are the same bits, and so is the drawn path before its first
    thinning (after it, each call's last update stays in it: the calls show). Past the
    timeline's first 2,048 updates, so its later rows too."""
    data = channel_like(7)
    config = cfg(model=model, units=units, layers=layers, days=7, loss="mae",
                 optimizer="adam", lr=3e-3)
    runs = {}
    for size in (1, 7, 16, 100):
        t = Trainer(config, data)
        looks = []
        for look in (1_904, 2_300):
            while t.update < look:
                t.run(min(size, look - t.update), end_point=False)
            looks.append((t.snapshot(), t.timeline()))
        runs[size] = looks
    ref = runs[16]
    assert len(ref[1][1].updates) > 100 and len(ref[1][1].path_updates) > 2_048
    assert len(ref[0][0].path) == 1_905
    for size, looks in runs.items():
        for (snap, tl), (ref_snap, ref_tl) in zip(looks, ref, strict=True):
            assert snap.update == ref_snap.update and not snap.done, size
            for name in ("updates", "train_loss", "unseen_loss", "path", "path_updates"):
                a, b = getattr(tl, name), getattr(ref_tl, name)
                assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), (size, name)
            for key, value in ref_snap.params.items():
                assert snap.params[key].tobytes() == value.tobytes(), (size, key)
            common, i, j = np.intersect1d(tl.moment_updates, ref_tl.moment_updates,
                                          return_indices=True)
            assert len(common) > 100, size
            assert tl.moment_rows[i].tobytes() == ref_tl.moment_rows[j].tobytes(), size
        assert looks[0][0].path.tobytes() == ref[0][0].path.tobytes(), size


@pytest.mark.parametrize("lr", [2.0, 12.0])
def test_a_divergence_between_history_points_stops_one_call_where_chunked_calls_stop(lr):
    """One call of many updates passes through the chunk ends inside the compiled call,
    with the trainer's divergence test at each: a run that diverges after a live change
    stops at the same update, for the same reason, with the same histories and
    parameters as a run whose calls end at those chunk ends."""
    data = channel_like(7)
    config = cfg(model="relu", units=30, days=7, loss="mse", optimizer="gd", lr=1e-3)
    whole, chunked = Trainer(config, data), Trainer(config, data)
    for t in (whole, chunked):
        t.run(37)
        t.apply(config.replace(lr=lr))
    whole.run(3_000)
    while not chunked.done:
        chunked.run(16 - chunked.update % 16)   # each call one chunk: none inside it
    assert whole.diverged and 40 < whole.update < 200
    assert (whole.update, whole.stop_reason) == (chunked.update, chunked.stop_reason)
    a, b = whole.timeline(), chunked.timeline()
    for name in ("updates", "train_loss", "unseen_loss", "path", "moment_updates",
                 "moment_rows"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    for key, value in chunked.params().items():
        assert whole.params()[key].tobytes() == value.tobytes(), key


@pytest.mark.parametrize("model", ["linear", "relu"])
def test_an_end_point_left_for_a_look_gives_what_a_call_ending_there_gives(model):
    """The app's worker runs its chunks with end_point=False (a network's history point
    costs a pass over the unseen data) and looks every second or third chunk: every
    snapshot, timeline and export then holds the numbers of a trainer whose calls ended
    at the looks, and the chunk ends nobody looked at are left out of the history."""
    data = channel_like(1)
    config = cfg(model=model, units=8, loss="mae", optimizer="adam", lr=1e-2)
    chunked, whole = Trainer(config, data), Trainer(config, data)
    # a linear run keeps each of its first FINE_UPDATES updates: the chunks start past them
    from core.engine import FINE_UPDATES

    skip = FINE_UPDATES if model == "linear" else 0
    chunked.run(skip)
    whole.run(skip)
    looks = [("snapshot", 3), ("timeline", 2), ("export", 5), ("moment", 1), ("snapshot", 1)]
    for look, chunks in looks:
        for _ in range(chunks):
            chunked.run(37, end_point=False)
        whole.run(37 * chunks)
        if look == "snapshot":
            a, b = chunked.snapshot(), whole.snapshot()
            for name in ("hist_update", "hist_train", "hist_unseen", "path", "pred_train",
                         "pred_unseen", "curve_y"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            for name in ("params", "grad", "step"):
                for key in b.params:
                    np.testing.assert_array_equal(getattr(a, name)[key], getattr(b, name)[key])
            assert (a.update, a.train_loss, a.unseen_loss) == \
                (b.update, b.train_loss, b.unseen_loss)
            assert a.hist_update[-1] == a.update
            if model != "linear":   # the unseen outputs are the newest parameters' own
                from core.net_engine import forward_float32

                np.testing.assert_array_equal(
                    a.pred_unseen, forward_float32(model, a.params, data.x_unseen) * 1000.0)
        elif look == "timeline":
            a, b = chunked.timeline(), whole.timeline()
            for name in ("updates", "train_loss", "unseen_loss"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            assert a.updates[-1] == chunked.update
        elif look == "moment":   # a replayed moment carries the whole history
            a, b = chunked.snapshot_at(chunked.update - 40), whole.snapshot_at(whole.update - 40)
            for name in ("hist_update", "hist_train", "hist_unseen", "pred_train"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            assert a.hist_update[-1] == chunked.update
        else:
            a, b = chunked.export_state(), whole.export_state()
            np.testing.assert_array_equal(a["hist"], b["hist"])
            assert a["hist"][-1, 0] == chunked.update
    # 7 chunks ended at updates nobody looked at: none of them is in the history
    ups = set(chunked.snapshot(extras=False).hist_update.astype(int).tolist())
    unlooked = {skip + 37 * k for k in range(1, 13)} - {skip + 37 * k
                                                        for k in (3, 5, 10, 11, 12)}
    assert not {u for u in unlooked if u % 16} & ups
    assert len({u for u in unlooked if u % 16}) >= 5   # the check saw some


def test_a_linear_chunk_cap_changes_no_number_and_a_worker_call_is_one_kernel_call(
        monkeypatch):
    """Full-batch MAE runs its updates in compiled calls of up to LINEAR_CHUNK: a call of
    the app's worker (~2,600 updates, 1 day) is one of them (each gives the GIL up and
    takes it back from the GUI thread), and the cap changes no number of the run."""
    from core import engine

    data = channel_like(1)
    config = cfg(loss="mae", optimizer="adam", lr=1e-2)
    runs = {}
    for cap in (1024, engine.LINEAR_CHUNK):
        monkeypatch.setattr(engine, "LINEAR_CHUNK", cap)
        t = Trainer(config, data)
        t.run(10_000)                          # past the chunks' growth from the start
        calls = []
        run = t._core.run
        monkeypatch.setattr(t._core, "run",
                            lambda n, run=run, calls=calls: calls.append(n) or run(n))
        t.run(2_600)
        runs[cap] = (t.snapshot(), calls, t.timeline())
    (small, small_calls, small_line), (big, big_calls, big_line) = \
        runs[1024], runs[engine.LINEAR_CHUNK]
    assert small_calls == [1024, 1024, 552] and big_calls == [2_600]
    for name in ("hist_update", "hist_train", "hist_unseen", "path", "pred_train"):
        np.testing.assert_array_equal(getattr(small, name), getattr(big, name))
    for key in big.params:
        np.testing.assert_array_equal(small.params[key], big.params[key])
    for name in ("moment_updates", "moment_rows", "path", "path_updates"):   # replay's
        np.testing.assert_array_equal(getattr(small_line, name), getattr(big_line, name))
