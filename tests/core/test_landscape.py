"""Loss landscapes (core.landscape): the numbers a class sees are the network's real losses.

Checked against the trainer's own training loss, a float64 numpy forward pass, and the
`loss-landscapes` package (PyPI) evaluating the same network, directions and grid points.
"""

import json

import numpy as np
import pytest
import torch

from core import landscape as ls
from core.cli import main
from core.config import RunConfig
from core.landscape_run import build_plane, train_recording
from core.losses import loss_value
from core.models import forward_numpy


def _config(**kw):
    base = dict(days=7, model="relu", units=10, layers=2, optimizer="adam", lr=3e-3,
                limit_updates=300)
    base.update(kw)
    return RunConfig(**base)


@pytest.fixture(scope="module")
def run():
    return train_recording(_config())


def _numpy_loss(run, params):
    d = run.data
    return loss_value(run.config.loss, forward_numpy(run.config.model, params, d.x_train),
                      d.y_train)


@pytest.mark.parametrize("kind", ls.KINDS)
def test_the_grid_at_the_trained_point_is_the_models_training_loss(run, kind):
    plane = build_plane(kind, run)
    d = run.data
    land = ls.landscape(run.config.model, plane, d.x_train, d.y_train, "mae", 21,
                        run.trajectory, scale=d.scale)
    if kind == "interpolate":
        j = int(np.argmin(np.abs(land.a1 - 1.0)))
        assert land.a1[j] == pytest.approx(1.0, abs=1e-12)
        at_center = land.loss[0, j]
    else:
        assert land.a1[10] == 0.0 and land.a2[10] == 0.0
        at_center = land.loss[10, 10]
    assert at_center == pytest.approx(run.train_loss, rel=1e-6)
    assert land.center_loss == pytest.approx(run.train_loss, rel=1e-6)


@pytest.mark.parametrize("model", ["sigmoid", "hard-sigmoid", "relu"])
@pytest.mark.parametrize("pointwise", [False, True])
def test_every_grid_point_is_the_float64_forward_pass(model, pointwise, monkeypatch):
    """Batched and point-by-point evaluation both give the numpy float64 loss (to float32
    rounding) at points off the axes, for every activation and 1-3 layers."""
    monkeypatch.setattr(ls, "POINTWISE_MACS", 0 if pointwise else 10**12)
    rng = np.random.default_rng(3)
    for layers in (1, 3):
        cfg = _config(model=model, layers=layers, units=6, limit_updates=40)
        r = train_recording(cfg)
        plane = ls.random_plane(r.params, seed=layers)
        ev = ls.PlaneEvaluator(model, plane, r.data.x_train, r.data.y_train, "mse")
        assert ev.pointwise is pointwise
        a1, a2 = rng.uniform(-1, 1, 7), rng.uniform(-1, 1, 7)
        got = ev.losses(a1, a2)
        want = [loss_value("mse", forward_numpy(model, plane.point(u, v), r.data.x_train),
                           r.data.y_train) for u, v in zip(a1, a2, strict=True)]
        np.testing.assert_allclose(got, want, rtol=2e-5)


def test_random_directions_are_filter_normalized_and_leave_biases(run):
    plane = ls.random_plane(run.params, seed=7)
    trained = ls.unit_norms(run.params)
    assert set(trained) == {"W1", "W2", "c"}
    for d in (plane.d1, plane.d2):
        norms = ls.unit_norms(d)
        for key, want in trained.items():
            np.testing.assert_allclose(norms[key], want, rtol=1e-12)
        for key in ("b1", "b2", "b"):
            assert not np.any(d[key])
    assert not np.allclose(ls.flatten(plane.d1), ls.flatten(plane.d2))
    # The same seed gives the same plane (a class sees the same picture again).
    again = ls.random_plane(run.params, seed=7)
    np.testing.assert_array_equal(ls.flatten(again.d1), ls.flatten(plane.d1))


def test_pca_directions_are_orthonormal_and_the_end_is_the_origin(run):
    plane = build_plane("pca", run)
    d1, d2 = ls.flatten(plane.d1), ls.flatten(plane.d2)
    assert d1 @ d1 == pytest.approx(1.0, abs=1e-12)
    assert d2 @ d2 == pytest.approx(1.0, abs=1e-12)
    assert d1 @ d2 == pytest.approx(0.0, abs=1e-12)
    ev1, ev2 = plane.explained_variance
    assert 1.0 >= ev1 >= ev2 > 0 and ev1 + ev2 <= 1.0 + 1e-12
    np.testing.assert_allclose(plane.project(ls.flatten(run.params)), [[0.0, 0.0]],
                               atol=1e-12)
    path = ls.trajectory_path(plane, run.trajectory, run.data.scale, "mae")
    assert len(path) == len(run.trajectory) and np.abs(path[-1]).max() < 1e-5
    # The path really lies (mostly) in the plane: its start is far from the origin.
    assert np.hypot(*path[0]) > 10 * np.hypot(*path[-2])


def test_pca_matches_an_svd_of_the_centred_path(run):
    """The components are those of numpy's SVD of the centred, bias-free path matrix."""
    _, rows, _ = run.trajectory.arrays()
    plane = build_plane("pca", run)
    mask = np.concatenate([np.full(np.size(v), 0.0 if k.startswith("b") else 1.0)
                           for k, v in run.params.items()])
    m = (rows - ls.flatten(run.params)) * mask
    m -= m.mean(axis=0)
    _, s, vt = np.linalg.svd(m, full_matrices=False)
    for j, d in enumerate((plane.d1, plane.d2)):
        assert abs(float(vt[j] @ ls.flatten(d))) == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(plane.explained_variance, (s[:2] ** 2) / np.sum(s ** 2),
                               rtol=1e-9)


def test_interpolation_runs_from_the_start_to_the_end(run):
    plane = build_plane("interpolate", run)
    d = run.data
    ev = ls.PlaneEvaluator("relu", plane, d.x_train, d.y_train, "mae")
    at0, at1 = ev.losses(np.array([0.0, 1.0]))
    assert at0 == pytest.approx(_numpy_loss(run, run.start), rel=1e-5)
    assert at1 * d.scale == pytest.approx(run.train_loss, rel=1e-6)
    path = ls.trajectory_path(plane, run.trajectory, d.scale, "mae")
    assert path[0, 0] == pytest.approx(0.0, abs=1e-6)
    assert path[-1, 0] == pytest.approx(1.0, abs=1e-6)
    assert path[-1, 1] == pytest.approx(run.train_loss, rel=1e-6)


def test_the_trajectory_stays_bounded_and_keeps_its_ends():
    traj = ls.Trajectory(5)
    for u in range(2000):
        traj.add(u, np.full(5, float(u)), float(u))
    ups, rows, losses = traj.arrays()
    assert len(ups) <= traj.capacity + 1
    assert ups[0] == 0 and ups[-1] == 1999 and np.all(np.diff(ups) > 0)
    np.testing.assert_array_equal(rows[:, 0], ups)
    np.testing.assert_array_equal(losses, ups)
    gaps = np.diff(ups[:-1])
    assert gaps.min() == gaps.max()          # evenly thinned
    traj.add(3, np.zeros(5))                 # a restart begins a new path
    assert list(traj.arrays()[0]) == [3]


def test_a_diverged_runs_parameters_are_not_recorded():
    traj = ls.Trajectory(3)
    traj.add(0, np.zeros(3))
    traj.add(1, np.array([1e300, 0.0, 0.0]))
    traj.add(2, np.array([np.nan, 0.0, 0.0]))
    assert list(traj.arrays()[0]) == [0]


def test_a_huge_network_records_fewer_points_not_more_memory():
    n = 56 * 1000 + 1000 + 3 * (1000 * 1000 + 1000) + 1000 + 1     # 4 x 1,000 ReLU
    traj = ls.Trajectory(n)
    assert traj.capacity >= 3 and traj.capacity * n * 4 <= ls.TRAJECTORY_BYTES


# ---------------------------------------------------------------- the loss-landscapes package


def _torch_model(params, model, dtype):
    """The same network as a torch.nn.Sequential (c is the output Linear's weight row)."""
    act = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid,
           "hard-sigmoid": torch.nn.Hardsigmoid}[model]
    layers = []
    k = 1
    while f"W{k}" in params:
        w = params[f"W{k}"]
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        lin.weight.data = torch.tensor(w, dtype=dtype)
        lin.bias.data = torch.tensor(params[f"b{k}"], dtype=dtype)
        layers += [lin, act()]
        k += 1
    out = torch.nn.Linear(len(params["c"]), 1)
    out.weight.data = torch.tensor(params["c"][None, :], dtype=dtype)
    out.bias.data = torch.tensor(np.reshape(params["b"], (1,)), dtype=dtype)
    return torch.nn.Sequential(*layers, out, torch.nn.Flatten(0)).to(dtype)


@pytest.mark.parametrize("model", ["relu", "hard-sigmoid"])
@pytest.mark.parametrize("loss", ["mae", "mse"])
def test_one_hidden_layer_runs_fused_and_gives_the_float64_forward_pass(model, loss):
    """One hidden layer goes through the compiled pass (core.plane_kernels): same losses
    as numpy's float64 forward pass, and a stop request ends it with None."""
    r = train_recording(_config(model=model, layers=1, units=12, limit_updates=40))
    plane = ls.random_plane(r.params, seed=5)
    ev = ls.PlaneEvaluator(model, plane, r.data.x_train, r.data.y_train, loss)
    assert ev.fused
    rng = np.random.default_rng(4)
    a1, a2 = rng.uniform(-1, 1, 150), rng.uniform(-1, 1, 150)
    got = ev.losses(a1, a2)
    want = [loss_value(loss, forward_numpy(model, plane.point(u, v), r.data.x_train),
                       r.data.y_train) for u, v in zip(a1, a2, strict=True)]
    np.testing.assert_allclose(got, want, rtol=2e-5)
    asked = []
    assert ev.losses(a1, a2, should_stop=lambda: asked.append(1) or True) is None
    assert asked == [1]


def test_same_losses_as_the_loss_landscapes_package_on_the_same_plane(run):
    """loss_landscapes.planar_interpolation walks the plane spanned by our two directions
    (its own in-place stepping, in float64) and evaluates its own torch model; our values at
    the points it visits agree to 1e-5 relative."""
    loss_landscapes = pytest.importorskip("loss_landscapes")
    from loss_landscapes.metrics import Loss

    plane = ls.random_plane(run.params, seed=11)
    steps, h = 9, 0.25
    o1 = o2 = -1.0                                   # the walk covers [-1, 1.25]^2
    d = run.data
    dt = torch.float64

    def model_at(a1, a2):
        return _torch_model(plane.point(a1, a2), run.config.model, dt)

    x = torch.tensor(d.x_train, dtype=dt)
    y = torch.tensor(d.y_train, dtype=dt)
    metric = Loss(torch.nn.L1Loss(), x, y)
    theirs = loss_landscapes.planar_interpolation(
        model_at(o1, o2), model_at(o1 + steps * h, o2), model_at(o1, o2 + steps * h),
        metric, steps=steps)
    # Its walk: column i at a1 = o1 + i h; even columns at a2 = o2 + (1..steps) h, odd
    # ones at o2 + (0..steps-1) h (it turns back along the second direction).
    i, j = np.meshgrid(np.arange(steps), np.arange(steps), indexing="ij")
    a1 = o1 + i * h
    a2 = o2 + (j + (i % 2 == 0)) * h
    ev = ls.PlaneEvaluator(run.config.model, plane, d.x_train, d.y_train, "mae")
    ours = ev.losses(a1.ravel(), a2.ravel()).reshape(steps, steps)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_same_line_as_the_loss_landscapes_package(run):
    loss_landscapes = pytest.importorskip("loss_landscapes")
    from loss_landscapes.metrics import Loss

    plane = build_plane("interpolate", run)
    d = run.data
    dt = torch.float64
    steps = 20
    start = _torch_model(run.start, run.config.model, dt)
    end = _torch_model(run.params, run.config.model, dt)
    metric = Loss(torch.nn.L1Loss(), torch.tensor(d.x_train, dtype=dt),
                  torch.tensor(d.y_train, dtype=dt))
    theirs = loss_landscapes.linear_interpolation(start, end, metric, steps=steps)
    alpha = np.arange(1, steps + 1) / steps          # it steps before it evaluates
    ev = ls.PlaneEvaluator(run.config.model, plane, d.x_train, d.y_train, "mae")
    np.testing.assert_allclose(ev.losses(alpha), theirs, rtol=1e-5)


def test_filter_normalization_matches_the_loss_landscapes_package(run):
    """On the weight matrices, the package's filter_normalize_ scales each row as ours."""
    pytest.importorskip("loss_landscapes")
    from loss_landscapes.model_interface.model_parameters import ModelParameters

    rng = np.random.default_rng(5)
    keys = ["W1", "W2"]
    raw = {k: rng.standard_normal(run.params[k].shape) for k in keys}
    raw["c"] = rng.standard_normal(run.params["c"].shape)
    ours = ls.filter_normalize(raw, run.params)
    theirs = ModelParameters([torch.tensor(raw[k]) for k in keys]
                             + [torch.tensor(raw["c"][None, :])])
    theirs.filter_normalize_(ModelParameters([torch.tensor(run.params[k]) for k in keys]
                                             + [torch.tensor(run.params["c"][None, :])]))
    for k, t in zip([*keys, "c"], theirs.parameters, strict=True):
        np.testing.assert_allclose(ours[k].reshape(t.shape), t.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- the command line


def _cli(capsys, *args):
    code = main(["landscape", *args])
    out, err = capsys.readouterr()
    return code, out, err


SMALL = ("--model", "relu", "--units", "8", "--layers", "2", "--days", "7",
         "--updates", "200")


@pytest.mark.parametrize("kind", ls.KINDS)
def test_cli_json_has_exactly_the_promised_keys(capsys, kind):
    code, out, err = _cli(capsys, *SMALL, "--kind", kind, "--grid", "11", "--json")
    assert code == 0, err
    doc = json.loads(out)
    keys = {"kind", "a1", "grid", "center_loss", "path", "train_loss"}
    keys |= {"a2"} if kind != "interpolate" else set()
    keys |= {"explained_variance"} if kind == "pca" else set()
    assert set(doc) == keys and doc["kind"] == kind
    rows = 1 if kind == "interpolate" else 11
    assert len(doc["grid"]) == rows and all(len(r) == 11 for r in doc["grid"])
    assert doc["center_loss"] == pytest.approx(doc["train_loss"], rel=1e-6)
    assert 100 < doc["train_loss"] < 2000          # views, the data's unit
    assert all(len(p) == 2 for p in doc["path"]) and len(doc["path"]) > 3


def test_cli_writes_a_picture(capsys, tmp_path):
    from PIL import Image

    png = tmp_path / "plane.png"
    code, _, err = _cli(capsys, *SMALL, "--kind", "pca", "--grid", "15", "--png", str(png))
    assert code == 0, err
    img = np.asarray(Image.open(png).convert("RGB")).astype(int)
    assert img.shape[0] > 300 and img.shape[1] > 300
    # The heat map's colours (viridis blue-green) and the red path are on it.
    path_red = (img[..., 0] > 200) & (img[..., 1] < 90) & (img[..., 2] < 90)
    viridis_teal = (img[..., 1] > 100) & (img[..., 2] > 120) & (img[..., 0] < 80)
    assert path_red.sum() > 30 and viridis_teal.sum() > 5000


def test_cli_interpolates_between_two_seeds_minima(capsys):
    code, out, err = _cli(capsys, *SMALL, "--kind", "interpolate", "--seed2", "1",
                          "--grid", "9", "--json")
    assert code == 0, err
    doc = json.loads(out)
    grid = doc["grid"][0]
    assert grid[6] == pytest.approx(doc["train_loss"], rel=1e-6)    # alpha = 1
    assert grid[2] > 0 and max(grid) > doc["train_loss"]


@pytest.mark.parametrize("args,words", [
    (("--grid", "0"), "2 to 201"),
    (("--grid", "10000"), "2 to 201"),
    (("--updates", "0"), "untrained"),
    (("--model", "linear"), "networks"),
    (("--kind", "pca", "--seed2", "3"), "--seed2"),
])
def test_cli_bad_input_is_one_line(capsys, args, words):
    base = [a for a in SMALL if a not in ("--updates", "200")] if "--updates" in args \
        else list(SMALL)
    if "--model" in args:
        base = ["--days", "7", "--updates", "50"]
    code, out, err = _cli(capsys, *base, *args)
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err


def test_cli_refuses_a_session_of_another_model(capsys, tmp_path):
    from core.session import Session, save_session

    path = tmp_path / "sigmoid.json"
    save_session(path, Session(config=_config(model="sigmoid").to_dict()))
    code, out, err = _cli(capsys, "--session", str(path), "--model", "relu", "--json")
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "sigmoid" in err
    lin = tmp_path / "linear.json"
    save_session(lin, Session(config=RunConfig(days=7).to_dict()))
    code, out, err = _cli(capsys, "--session", str(lin))
    assert code != 0 and len(err.strip().splitlines()) == 1 and "linear" in err


def test_cli_draws_a_saved_sessions_network(capsys, tmp_path):
    from core.session import Session, save_session

    path = tmp_path / "relu.json"
    cfg = _config(units=8, limit_updates=200)
    save_session(path, Session(config=cfg.to_dict()))
    code, out, err = _cli(capsys, "--session", str(path), "--grid", "7", "--json")
    assert code == 0, err
    doc = json.loads(out)
    direct = train_recording(cfg)
    assert doc["train_loss"] == pytest.approx(direct.train_loss, rel=1e-9)


def test_cli_draws_a_saved_sessions_trained_network_without_training(capsys, tmp_path):
    from core.engine import Trainer
    from core.session import Session, save_session

    cfg = _config(units=8, limit_updates=120)
    trainer = Trainer(cfg)
    trainer.run(120)
    path = tmp_path / "trained.json"
    save_session(path, Session(config=cfg.to_dict(), training=trainer.export_state()))
    code, out, err = _cli(capsys, "--session", str(path), "--grid", "7", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["train_loss"] == pytest.approx(trainer.train_loss(), rel=1e-12)
    assert doc["grid"][3][3] == pytest.approx(trainer.train_loss(), rel=1e-6)
    code, out, err = _cli(capsys, "--session", str(path), "--kind", "pca")
    assert code != 0 and len(err.strip().splitlines()) == 1 and "path" in err
    fresh = tmp_path / "untrained.json"
    save_session(fresh, Session(config=cfg.to_dict(), training=Trainer(cfg).export_state()))
    code, out, err = _cli(capsys, "--session", str(fresh))
    assert code != 0 and len(err.strip().splitlines()) == 1 and "untrained" in err
