"""The error surface is the exact loss, its star the exact optimum, its slices the model's."""

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from core.data import load_builtin, window
from core.losses import loss_value
from core.models import forward_numpy, init_params, set_scalar
from core.slices import iter_slice, slice_surface
from core.surface import (
    auto_range,
    lad_line,
    least_squares_line,
    linear_gradient,
    linear_loss,
    linear_surface,
)


def _data(n=400, seed=0, outliers=True):
    rng = np.random.default_rng(seed)
    x = rng.uniform(2.0, 8.0, n)
    y = 0.97 * x + 0.1 + rng.normal(0.0, 0.4, n)
    if outliers:
        y[rng.choice(n, n // 30, replace=False)] += rng.lognormal(1.0, 0.8, n // 30)
    return x, y


def _lp_lad(x, y):
    """The least-absolute-deviations line as a linear program (an independent solver)."""
    n = x.size
    a_eq = np.hstack([x[:, None], np.ones((n, 1)), np.eye(n), -np.eye(n)])
    cost = np.r_[0.0, 0.0, np.ones(2 * n)]
    bounds = [(None, None)] * 2 + [(0, None)] * (2 * n)
    res = linprog(cost, A_eq=a_eq, b_eq=y, bounds=bounds, method="highs")
    assert res.status == 0
    return res.x[0], res.x[1], res.fun / n


def _brute_surface(x, y, w, b, loss):
    r = y[None, None, :] - (w[None, :, None] * x[None, None, :] + b[:, None, None])
    return np.mean(np.abs(r), axis=-1) if loss == "mae" else np.mean(r * r, axis=-1)


@pytest.fixture(scope="module")
def channel():
    return window(load_builtin("channel"), 1)


# ---------------------------------------------------------------- the optimum


def test_mse_star_is_the_least_squares_line():
    x, y = _data()
    s = linear_surface(x, y, "mse", n=50)
    w_ref, b_ref = np.polyfit(x, y, 1)
    assert s.w_star == pytest.approx(w_ref, rel=1e-10)
    assert s.b_star == pytest.approx(b_ref, rel=1e-9, abs=1e-12)
    assert s.loss_star == pytest.approx(linear_loss(x, y, w_ref, b_ref, "mse"), rel=1e-12)
    assert s.loss.min() >= s.loss_star


def test_mae_star_is_the_least_absolute_deviations_line():
    x, y = _data()
    s = linear_surface(x, y, "mae", n=50)
    w_lp, b_lp, loss_lp = _lp_lad(x, y)
    assert s.loss_star == pytest.approx(loss_lp, rel=1e-9)
    assert s.w_star == pytest.approx(w_lp, rel=1e-6)
    assert s.b_star == pytest.approx(b_lp, rel=1e-6, abs=1e-9)
    assert s.loss.min() >= s.loss_star


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(-5, 5)), min_size=2, max_size=12))
def test_lad_line_is_optimal_even_with_ties_and_collinear_points(points):
    # Small integer data has many ties, repeated x and collinear triples: the degenerate
    # cases where a median-based search could stop early.
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    w, b = lad_line(x, y)
    _, _, loss_lp = _lp_lad(x, y)
    assert linear_loss(x, y, w, b, "mae") == pytest.approx(loss_lp, rel=1e-9, abs=1e-12)


def test_least_squares_with_constant_x_keeps_the_mean():
    x = np.full(10, 3.0)
    y = np.arange(10.0)
    w, b = least_squares_line(x, y)
    assert linear_loss(x, y, w, b, "mse") == pytest.approx(np.var(y))


def test_channel_surface_minima_match_exact_solvers(channel):
    x, y = channel.x_train[:, 0], channel.y_train
    mse = linear_surface(x, y, "mse", scale=channel.scale)
    w_ref, b_ref = np.polyfit(x, y, 1)
    assert mse.w_star == pytest.approx(w_ref, rel=1e-9)
    assert mse.loss_star == pytest.approx(
        linear_loss(x, y, w_ref, b_ref, "mse") * channel.scale**2, rel=1e-12)
    mae = linear_surface(x, y, "mae", scale=channel.scale)
    _, _, loss_lp = _lp_lad(x, y)
    assert mae.loss_star == pytest.approx(loss_lp * channel.scale, rel=1e-9)
    # The lecture's picture: w* near 1, and the grid's lowest cell next to the star.
    assert 0.5 < mae.w_star < 1.5
    k, j = np.unravel_index(np.argmin(mae.loss), mae.loss.shape)
    assert abs(mae.w[j] - mae.w_star) <= mae.w[1] - mae.w[0]
    assert abs(mae.b[k] - mae.b_star) <= mae.b[1] - mae.b[0]


# ---------------------------------------------------------------- the grid


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_surface_equals_brute_force(loss):
    x, y = _data(n=300, seed=3)
    s = linear_surface(x, y, loss, n=41)
    brute = _brute_surface(x, y, s.w, s.b, loss)
    np.testing.assert_allclose(s.loss, brute, rtol=1e-9)
    assert s.loss.shape == (s.b.size, s.w.size)


def test_mae_surface_is_exact_on_grid_points_that_hit_data():
    # b values equal to residuals exercise the searchsorted boundary.
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, 3.0, 2.0, 5.0])
    w = np.array([0.0, 1.0])
    b = np.array([0.0, 1.0, 2.0, 3.0])
    s = linear_surface(x, y, "mae", w_range=(0.0, 1.0), b_range=(0.0, 3.0), n=4)
    np.testing.assert_allclose(s.loss[:, [0, -1]], _brute_surface(x, y, w, b, "mae"),
                               rtol=1e-12)


def test_losses_are_reported_in_the_data_unit():
    x, y = _data(n=100)
    for loss, factor in (("mae", 1000.0), ("mse", 1e6)):
        plain = linear_surface(x, y, loss, n=10)
        scaled = linear_surface(x, y, loss, n=10, scale=1000.0)
        np.testing.assert_allclose(scaled.loss, plain.loss * factor)
        assert scaled.loss_star == pytest.approx(plain.loss_star * factor)
        assert scaled.w_star == plain.w_star


def test_auto_range_shows_the_optimum_and_the_usual_start():
    x, y = _data()
    (w_lo, w_hi), (b_lo, b_hi) = auto_range(x, y, 0.97, 0.1)
    assert w_lo < 0.0 < 0.97 < w_hi
    assert b_lo < 0.0 < 0.1 < b_hi
    # Wide enough that the valley (b ~ b* - (w - w*) mean x) crosses the whole w range.
    assert b_hi - b_lo >= (w_hi - w_lo) * x.mean()


def test_explicit_ranges_are_kept():
    x, y = _data(n=50)
    s = linear_surface(x, y, "mse", n=5, w_range=(-1.0, 3.0), b_range=(2.0, 4.0))
    np.testing.assert_allclose(s.w, [-1.0, 0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(s.b, [2.0, 2.5, 3.0, 3.5, 4.0])


def test_bad_arguments_are_refused():
    x, y = _data(n=20)
    with pytest.raises(ValueError, match="loss"):
        linear_surface(x, y, "huber")
    with pytest.raises(ValueError, match="equal length"):
        linear_surface(x, y[:-1], "mse")


# ---------------------------------------------------------------- the gradient


@pytest.mark.parametrize("loss", ["mse", "mae"])
@pytest.mark.parametrize("point", [(0.0, 0.0), (0.5, 1.3), (1.7, -2.0)])
def test_gradient_matches_finite_differences(loss, point):
    x, y = _data(n=200, seed=5)
    w, b = point
    dw, db = linear_gradient(x, y, w, b, loss)
    h = 1e-6
    fd_w = (linear_loss(x, y, w + h, b, loss) - linear_loss(x, y, w - h, b, loss)) / (2 * h)
    fd_b = (linear_loss(x, y, w, b + h, loss) - linear_loss(x, y, w, b - h, loss)) / (2 * h)
    assert dw == pytest.approx(fd_w, rel=1e-5, abs=1e-7)
    assert db == pytest.approx(fd_b, rel=1e-5, abs=1e-7)


def test_gradient_vanishes_at_the_least_squares_optimum():
    x, y = _data()
    s = linear_surface(x, y, "mse", n=10)
    dw, db = linear_gradient(x, y, s.w_star, s.b_star, "mse")
    assert abs(dw) < 1e-10 and abs(db) < 1e-10


def test_mae_gradient_points_downhill_towards_the_optimum():
    x, y = _data()
    s = linear_surface(x, y, "mae", n=10)
    dw, db = linear_gradient(x, y, 0.0, 0.0, "mae")
    step = 1e-3
    assert linear_loss(x, y, -step * dw, -step * db, "mae") < linear_loss(x, y, 0, 0, "mae")
    assert dw < 0  # from w = 0 the slope says: increase w (towards w* ~ 1)
    assert s.w_star > 0


# ---------------------------------------------------------------- slices of any model

DAYS = 5


def _net_case(model, units, layers, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(2.0, 8.0, (150, DAYS))
    y = 0.6 * x[:, 0] + 0.3 * x[:, 3] + rng.normal(0.0, 0.3, 150)
    cfg = SimpleNamespace(model=model, units=units, layers=layers, init=None)
    params = init_params(cfg, DAYS, rng, x_mean=x.mean(axis=0), y_mean=float(y.mean()))
    return params, x, y


def _brute_slice(model, params, x, y, loss, names, a1, a2):
    out = np.empty((a2.size, a1.size))
    for j, u in enumerate(a1):
        for k, v in enumerate(a2):
            p = {key: np.array(val, dtype=float) for key, val in params.items()}
            set_scalar(p, names[0], u)
            set_scalar(p, names[1], v)
            out[k, j] = loss_value(loss, forward_numpy(model, p, x), y)
    return out


SLICE_CASES = [
    ("linear", 1, 1, ("w1", "b")),
    ("linear", 1, 1, ("w2", "w4")),
    ("relu", 6, 1, ("W1[1,1]", "b1[1]")),      # one unit's slope and shift
    ("relu", 6, 1, ("c[2]", "b")),             # output layer only
    ("relu", 6, 1, ("W1[3,2]", "c[3]")),       # a unit's weight and its own height
    ("relu", 6, 1, ("b1[2]", "W1[5,4]")),      # two different units
    ("sigmoid", 4, 1, ("W1[2,1]", "c[4]")),
    ("hard-sigmoid", 4, 1, ("b1[1]", "b")),
    ("relu", 5, 2, ("W1[1,1]", "b1[1]")),      # below the last hidden layer
    ("relu", 5, 2, ("b1[2]", "W2[3,2]")),      # across two layers, sharing unit 2
    ("sigmoid", 4, 3, ("W2[1,1]", "c[1]")),
    ("relu", 5, 3, ("b1[1]", "b1[4]")),
    ("relu", 4, 2, ("W2[1,3]", "b")),
    ("relu", 4, 3, ("b1[1]", "W3[2,4]")),      # a correction two layers above
    ("hard-sigmoid", 4, 3, ("W1[2,3]", "b")),
]


@pytest.mark.parametrize("loss", ["mae", "mse"])
@pytest.mark.parametrize(("model", "units", "layers", "names"), SLICE_CASES)
def test_slice_equals_brute_force_and_its_center_is_the_models_loss(
        model, units, layers, names, loss):
    params, x, y = _net_case(model, units, layers)
    s = slice_surface(model, params, x, y, loss, names, n=7, spans=(1.3, 0.9), scale=10.0)
    assert s is not None and s.complete
    assert s.names == names
    expected = loss_value(loss, forward_numpy(model, params, x), y)
    factor = 10.0 if loss == "mae" else 100.0
    assert s.center_loss == pytest.approx(expected * factor, rel=1e-12)
    # The grid is odd and centred, so its middle cell is the current parameters.
    assert s.loss[3, 3] == pytest.approx(expected * factor, rel=1e-12)
    brute = _brute_slice(model, params, x, y, loss, names, s.a1, s.a2)
    np.testing.assert_allclose(s.loss, brute * factor, rtol=1e-10)


def test_slice_axes_follow_centers_and_spans():
    params, x, y = _net_case("relu", 3, 1)
    s = slice_surface("relu", params, x, y, "mae", ("c[1]", "b"), centers=(1.0, -2.0),
                      spans=(0.5, 4.0), n=5)
    np.testing.assert_allclose(s.a1, [0.5, 0.75, 1.0, 1.25, 1.5])
    np.testing.assert_allclose(s.a2, [-6.0, -4.0, -2.0, 0.0, 2.0])
    assert s.loss.shape == (5, 5)
    a1, a2, low = s.min_at
    assert low == s.loss.min() and a1 in s.a1 and a2 in s.a2


def test_slice_refuses_parameters_the_model_lacks():
    params, x, y = _net_case("relu", 3, 1)
    with pytest.raises(ValueError, match="no parameter"):
        slice_surface("relu", params, x, y, "mae", ("W1[9,1]", "b"), n=3)
    with pytest.raises(ValueError, match="two different"):
        slice_surface("relu", params, x, y, "mae", ("b", "b"), n=3)


def test_slice_can_be_cancelled_between_columns():
    params, x, y = _net_case("relu", 5, 2)
    calls = []

    def stop_after_three():
        calls.append(1)
        return len(calls) > 3

    assert slice_surface("relu", params, x, y, "mae", ("W1[1,1]", "b1[1]"), n=20,
                         should_stop=stop_after_three) is None
    assert len(calls) == 4  # three columns computed, then it stopped


def test_a_deep_slice_stops_inside_a_column():
    # Deep columns are computed in batches of points; a stop request is seen between them.
    import core.slices as slices_mod

    params, x, y = _net_case("relu", 5, 2)
    ev = slices_mod._SliceEvaluator("relu", params, x, y, "mae", ("W1[1,1]", "b1[1]"))
    ev._width = 2_000_000  # one point per batch
    calls = []

    def stop_on_second_check():
        calls.append(1)
        return len(calls) >= 2

    assert ev.row(0.5, np.linspace(-1.0, 1.0, 6), stop_on_second_check) is None
    assert len(calls) == 2
    full = ev.row(0.5, np.linspace(-1.0, 1.0, 6))
    assert full is not None and full.shape == (6,)


def test_iter_slice_yields_a_coarse_preview_then_the_full_grid():
    params, x, y = _net_case("relu", 4, 1)
    names = ("W1[1,1]", "b1[1]")
    coarse, full = list(iter_slice("relu", params, x, y, "mse", names, n=12, coarse=4))
    assert (coarse.complete, full.complete) == (False, True)
    assert coarse.loss.shape == (4, 4) and full.loss.shape == (12, 12)
    assert (coarse.a1[0], coarse.a1[-1]) == (full.a1[0], full.a1[-1])
    # The preview's corners are the full grid's corners.
    assert coarse.loss[0, 0] == pytest.approx(full.loss[0, 0], rel=1e-12)
    assert coarse.loss[-1, -1] == pytest.approx(full.loss[-1, -1], rel=1e-12)


def test_iter_slice_stops_when_asked():
    params, x, y = _net_case("relu", 4, 1)
    stopped = {"now": False}
    gen = iter_slice("relu", params, x, y, "mae", ("c[1]", "b"), n=10, coarse=3,
                     should_stop=lambda: stopped["now"])
    first = next(gen)
    assert not first.complete
    stopped["now"] = True
    assert list(gen) == []


def test_slice_of_a_diverged_network_is_inf_not_a_warning():
    params, x, y = _net_case("relu", 3, 1)
    params["c"] = params["c"] * 1e300
    s = slice_surface("relu", params, x, y, "mse", ("c[1]", "b"), n=3)
    assert np.isinf(s.loss).any()
