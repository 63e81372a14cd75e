"""Properties of the engine that must hold for any small model and data (hypothesis).

Losses are never negative; the exact linear optimum is never beaten by gradient descent;
the engine's gradients (analytic for linear, autograd for networks) match central finite
differences of a float64 numpy forward pass; windowing never lets an unseen day into
training. Example counts are modest so the file stays fast.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from core.config import RunConfig
from core.data import Series, window
from core.engine import Trainer
from core.losses import loss_value, to_data_unit
from core.models import activation, forward_numpy
from tests.core.linear_optimum import exact_linear_optimum

FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
KINKS = {"relu": (0.0,), "hard-sigmoid": (-3.0, 3.0), "sigmoid": ()}


def _series(values: list[float], name: str = "prop") -> Series:
    start = np.datetime64("2021-01-01")
    return Series(dates=np.arange(start, start + len(values)),
                  values=np.asarray(values, dtype=np.float64), name=name)


_values = st.lists(st.floats(-50, 50, allow_nan=False).map(lambda v: round(v, 3)),
                   min_size=12, max_size=30)


@FAST
@given(pred=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20),
       shift=st.floats(-1e3, 1e3), loss=st.sampled_from(["mae", "mse"]),
       scale=st.sampled_from([1.0, 1e3, 1e6]))
def test_losses_are_never_negative(pred: list[float], shift: float, loss: str,
                                   scale: float) -> None:
    p = np.asarray(pred)
    value = loss_value(loss, p, p + shift)
    assert value >= 0 and to_data_unit(loss, value, scale) >= 0
    assert loss_value(loss, p, p) == 0.0


@FAST
@given(values=_values, model=st.sampled_from(["linear", "sigmoid", "hard-sigmoid", "relu"]),
       loss=st.sampled_from(["mae", "mse"]), optimizer=st.sampled_from(["gd", "adam"]),
       seed=st.integers(0, 1000))
def test_trainer_losses_and_history_are_never_negative(values: list[float], model: str,
                                                       loss: str, optimizer: str,
                                                       seed: int) -> None:
    data = window(_series(values), 2)
    t = Trainer(RunConfig(dataset="prop", days=2, model=model, units=2, loss=loss,
                          optimizer=optimizer, lr=0.01, seed=seed), data)
    t.run(10)
    snap = t.snapshot(extras=False)
    losses = np.array([snap.train_loss, snap.unseen_loss, *snap.hist_train, *snap.hist_unseen])
    assert not np.any(losses < 0)            # NaN is not negative either, but only when:
    if not np.all(np.isfinite(losses)):
        assert t.diverged and snap.diverged


@FAST
@given(values=_values, days=st.integers(1, 3), loss=st.sampled_from(["mae", "mse"]))
# many ties: reweighted least squares stalled at 11.43992 above this optimum, 11.43919
@example(values=[0, 0, 0, 0, 3, 3, 50, 0, -9, 7, 0, 3, -37, 42, -30, 1, 0, 0, 0, 0, 0],
         days=1, loss="mae")
def test_exact_optimum_is_never_above_gradient_descent(values: list[float], days: int,
                                                       loss: str) -> None:
    data = window(_series(values), days)
    w, b, best = exact_linear_optimum(data.x_train, data.y_train, loss)
    assert np.isclose(best, loss_value(loss, data.x_train @ w + b, data.y_train),
                      rtol=1e-9, atol=1e-12)
    for optimizer, lr in (("adam", 0.05), ("gd", 1e-3)):
        t = Trainer(RunConfig(dataset="prop", days=days, loss=loss, optimizer=optimizer,
                              lr=lr), data)
        t.run(300)
        if t.diverged:
            continue
        reached = loss_value(loss, forward_numpy("linear", t.params(), data.x_train),
                             data.y_train)
        assert best <= reached + 1e-9 * (1.0 + reached)


def _preactivations(model: str, params: dict[str, np.ndarray], x: np.ndarray
                    ) -> list[np.ndarray]:
    """Every hidden layer's z (float64); the kinks of relu / hard-sigmoid live there."""
    zs, h = [], x
    layer = 1
    while f"W{layer}" in params:
        z = h @ params[f"W{layer}"].T + params[f"b{layer}"]
        zs.append(z)
        h = activation(model, z)
        layer += 1
    return zs


def _fd_grad(model: str, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray,
             loss: str, h: float) -> dict[str, np.ndarray]:
    out = {}
    for key, arr in params.items():
        g = np.zeros_like(np.asarray(arr, dtype=np.float64))
        for idx in np.ndindex(g.shape):
            vals = []
            for sign in (1.0, -1.0):
                p = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
                p[key][idx] += sign * h
                vals.append(loss_value(loss, forward_numpy(model, p, x), y))
            g[idx] = (vals[0] - vals[1]) / (2 * h)
        out[key] = g
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(st.floats(-3, 3, allow_nan=False), min_size=10, max_size=16),
       model=st.sampled_from(["linear", "sigmoid", "hard-sigmoid", "relu"]),
       layers=st.integers(1, 2), units=st.integers(1, 3), days=st.integers(1, 2),
       loss=st.sampled_from(["mae", "mse"]), seed=st.integers(0, 10_000),
       init=st.tuples(st.floats(-2, 2), st.floats(-2, 2)))
def test_engine_gradients_match_finite_differences(values: list[float], model: str,
                                                   layers: int, units: int, days: int,
                                                   loss: str, seed: int,
                                                   init: tuple[float, float]) -> None:
    data = window(_series(values), days)
    assert data.scale == 1.0
    cfg = RunConfig(dataset="prop", days=days, model=model, units=units, layers=layers,
                    loss=loss, seed=seed, init=init if model == "linear" else None)
    snap = Trainer(cfg, data).snapshot(extras=False)
    params = {k: np.asarray(v, dtype=np.float64) for k, v in snap.params.items()}
    x, y = data.x_train, data.y_train
    h = 1e-6
    # finite differences are only defined away from kinks: |residual| for MAE, and each
    # hidden pre-activation against its activation's kinks
    if loss == "mae":
        assume(np.min(np.abs(forward_numpy(model, params, x) - y)) > 1e-3)
    if model != "linear":
        for z in _preactivations(model, params, x):
            for k in KINKS[model]:
                assume(np.min(np.abs(z - k)) > 1e-3)
    fd = _fd_grad(model, params, x, y, loss, h)
    tol = 1e-9 if model == "linear" else 2e-4   # networks train in float32
    for key, g in fd.items():
        ours = np.asarray(snap.grad[key], dtype=np.float64)
        assert ours.shape == g.shape, key
        np.testing.assert_allclose(ours, g, rtol=5e-3, atol=tol + 5e-3 * np.max(np.abs(g)),
                                   err_msg=f"{model} {loss} d/d{key}")


@settings(max_examples=80, deadline=None)
@given(n=st.integers(3, 60), days=st.integers(1, 10), cut=st.floats(0.0, 1.0),
       seed=st.integers(0, 2**31 - 1))
def test_windowing_never_leaks_unseen_days_into_training(n: int, days: int, cut: float,
                                                         seed: int) -> None:
    rng = np.random.default_rng(seed)
    s = _series(list(np.round(rng.uniform(1, 5000, n), 1)))
    split = s.dates[min(n - 1, int(cut * n))]
    try:
        w = window(s, days, split)
    except ValueError:
        assume(False)
    assert np.all(w.dates_train <= w.split) and np.all(w.dates_unseen > w.split)
    if len(w.dates_unseen):
        assert w.dates_train.max() < w.dates_unseen.min()
    # every feature is the value exactly j days before its label: never the label's day or
    # later, so a training sample sees nothing after the split
    index = {d: i for i, d in enumerate(s.dates)}
    for xs, dates in ((w.x_train, w.dates_train), (w.x_unseen, w.dates_unseen)):
        assert xs.shape == (len(dates), days)
        for row, label in zip(xs, dates, strict=True):
            i = index[label]
            assert i - days >= 0
            np.testing.assert_allclose(row * w.scale, s.values[i - days:i][::-1], rtol=1e-12)
    assert len(w.y_train) + len(w.y_unseen) == n - days
