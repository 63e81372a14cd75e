"""Red curve = constant + sum of pieces: the lecture's constructive argument, checked."""

from __future__ import annotations

import numpy as np
import pytest

from core.models import activation
from core.pieces import (
    Fitter,
    Piece,
    PiecewiseLinear,
    evaluate,
    exact_pieces,
    fit,
    from_data,
    loss_and_gradients,
    model_sum,
    new_piece,
    zigzag,
)


def random_target(rng: np.random.Generator, corners: int) -> PiecewiseLinear:
    xs = np.cumsum(rng.uniform(0.2, 2.0, corners)) - 3.0
    return PiecewiseLinear(xs, rng.normal(0, 3, corners))


def test_piece_uses_the_models_activation():
    x = np.linspace(-5, 5, 101)
    for kind in ("hard-sigmoid", "sigmoid", "relu"):
        p = Piece(kind, c=1.7, b=-0.4, w=2.3)
        np.testing.assert_array_equal(evaluate(p, x), 1.7 * activation(kind, -0.4 + 2.3 * x))


def test_sum_is_the_constant_plus_every_piece_at_every_x():
    rng = np.random.default_rng(0)
    x = rng.uniform(-10, 10, 500)
    pieces = [Piece(k, *rng.normal(0, 2, 3)) for k in ("relu", "sigmoid", "hard-sigmoid") * 3]
    expected = np.full_like(x, 0.75)
    for p in pieces:   # the same order of additions: equal to the last bit
        expected = expected + p.c * activation(p.kind, p.b + p.w * x)
    np.testing.assert_array_equal(model_sum(0.75, pieces, x), expected)
    np.testing.assert_array_equal(model_sum(-2.0, [], x), np.full_like(x, -2.0))


@pytest.mark.parametrize("kind", ["hard-sigmoid", "relu"])
@pytest.mark.parametrize("seed", range(5))
def test_exact_pieces_reproduce_a_random_piecewise_linear_target(kind, seed):
    rng = np.random.default_rng(seed)
    target = random_target(rng, corners=int(rng.integers(2, 12)))
    constant, pieces = exact_pieces(target, kind)
    assert all(p.kind == kind for p in pieces)
    # everywhere: before the first corner, at every corner, between them and after the last
    x = np.concatenate([np.linspace(target.xs[0] - 5, target.xs[-1] + 5, 2001), target.xs])
    np.testing.assert_allclose(model_sum(constant, pieces, x), target(x), rtol=0, atol=1e-9)


def test_hard_sigmoid_exact_pieces_are_one_per_segment_with_the_segments_rise():
    target = zigzag()
    constant, pieces = exact_pieces(target, "hard-sigmoid")
    assert constant == target.ys[0]
    assert len(pieces) == len(target) - 1
    np.testing.assert_allclose([p.c for p in pieces], np.diff(target.ys))


def test_sigmoids_cannot_be_exact():
    with pytest.raises(ValueError, match="hard sigmoids or ReLUs"):
        exact_pieces(zigzag(), "sigmoid")


def test_two_relus_make_a_hard_sigmoid():
    # hard sigmoid with ramp over [x0, x1] = (relu(x - x0) - relu(x - x1)) / (x1 - x0)
    x0, x1, c = 1.5, 4.0, 2.5
    hard = Piece("hard-sigmoid", c=c, b=-3 - 6 / (x1 - x0) * x0, w=6 / (x1 - x0))
    relus = [Piece("relu", c=c / (x1 - x0), b=-x0, w=1.0),
             Piece("relu", c=-c / (x1 - x0), b=-x1, w=1.0)]
    x = np.linspace(-3, 9, 1201)
    np.testing.assert_allclose(model_sum(0.0, relus, x), evaluate(hard, x), atol=1e-12)
    # and the ReLU construction of a one-ramp target is exactly that pair
    _, built = exact_pieces(PiecewiseLinear([x0, x1], [0.0, c]), "relu")
    assert [(p.c, p.b, p.w) for p in built] == [(p.c, p.b, p.w) for p in relus]


@pytest.mark.parametrize(("method", "lr", "factor"), [("gd", 0.05, 0.6), ("adam", 0.1, 0.3)])
def test_fit_lowers_the_loss(method, lr, factor):
    target = zigzag()
    x = np.linspace(target.xs[0], target.xs[-1], 200)
    start = [Piece("hard-sigmoid", 1.0, -1.0 - 2 * i, 1.0) for i in range(4)]
    constant, pieces, losses = fit(1.0, start, target, x, steps=400, lr=lr, method=method)
    assert len(losses) == 401
    assert losses[-1] < factor * losses[0]
    y = target(x)
    assert np.mean((model_sum(constant, pieces, x) - y) ** 2) == pytest.approx(losses[-1])
    assert [p.kind for p in pieces] == ["hard-sigmoid"] * 4


def test_fit_of_exact_pieces_stays_exact():
    target = zigzag()
    x = np.linspace(-1, 11, 300)
    constant, pieces = exact_pieces(target, "relu")
    _, _, losses = fit(constant, pieces, target, x, steps=20, lr=0.05)
    assert max(losses) < 1e-20


def test_fit_never_raises_on_a_huge_learning_rate():
    target = zigzag()
    x = np.linspace(0, 10, 50)
    for method in ("gd", "adam"):
        _, pieces, losses = fit(0.0, [Piece("relu", 1.0, -2.0, 1.0)], target, x,
                                steps=200, lr=1e6, method=method)
        assert len(pieces) == 1 and len(losses) >= 2


@pytest.mark.parametrize("kind", ["hard-sigmoid", "sigmoid", "relu"])
def test_gradients_match_finite_differences(kind):
    rng = np.random.default_rng(3)
    x = rng.uniform(-4, 4, 300)
    y = np.sin(x)
    pieces = [Piece(kind, *rng.normal(0, 1, 3)) for _ in range(3)]
    constant = 0.3
    _, g_const, grads = loss_and_gradients(constant, pieces, x, y)
    eps = 1e-6

    def loss(const: float, ps: list[Piece]) -> float:
        return float(np.mean((model_sum(const, ps, x) - y) ** 2))

    numeric = (loss(constant + eps, pieces) - loss(constant - eps, pieces)) / (2 * eps)
    assert g_const == pytest.approx(numeric, rel=1e-5, abs=1e-8)
    for k, p in enumerate(pieces):
        for j in range(3):
            vals = np.array([p.c, p.b, p.w])
            up, down = vals.copy(), vals.copy()
            up[j] += eps
            down[j] -= eps
            plus = [*pieces[:k], p.with_params(*up), *pieces[k + 1:]]
            minus = [*pieces[:k], p.with_params(*down), *pieces[k + 1:]]
            numeric = (loss(constant, plus) - loss(constant, minus)) / (2 * eps)
            assert grads[k, j] == pytest.approx(numeric, rel=1e-4, abs=1e-7), (k, j)


def test_target_from_data_is_a_smoothed_curve_through_the_scatter():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, 2000)
    y = np.where(x < 5, x, 10 - x) + rng.normal(0, 0.3, x.size)
    target = from_data(x, y, corners=10)
    assert len(target) == 10
    assert np.all(np.diff(target.xs) > 0)
    grid = np.linspace(1, 9, 50)
    assert np.max(np.abs(target(grid) - np.where(grid < 5, grid, 10 - grid))) < 0.8


def test_bad_targets_are_refused_with_a_message():
    with pytest.raises(ValueError, match="increase"):
        PiecewiseLinear([0, 0, 1], [1, 2, 3])
    with pytest.raises(ValueError, match="two"):
        PiecewiseLinear([0], [1])
    with pytest.raises(ValueError, match="distinct"):
        from_data(np.ones(10), np.arange(10.0))


def test_moving_a_corner_keeps_the_corners_in_order():
    target = zigzag()
    moved = target.moved(2, x=100.0, y=-1.0)
    assert moved.ys[2] == -1.0
    assert target.xs[1] < moved.xs[2] < target.xs[3]
    assert target.ys[2] == 4.0   # the original is untouched


def test_a_fitter_run_in_chunks_equals_one_long_fit():
    target = zigzag()
    x = np.linspace(0, 10, 120)
    start = [new_piece("sigmoid", 3.0, 2.0, 1.0), new_piece("relu", 6.0, 2.0, -1.0)]
    fitter = Fitter(2.0, start, target, x, lr=0.05, method="adam")
    chunked = [loss for _ in range(10) for loss in fitter.run(15)]
    constant, pieces, losses = fit(2.0, start, target, x, steps=150, lr=0.05, method="adam")
    np.testing.assert_allclose(chunked, losses[:-1], rtol=1e-12)
    assert fitter.constant == pytest.approx(constant, rel=1e-12)
    assert fitter.steps_done == 150
    assert [q.c for q in fitter.pieces] == pytest.approx([q.c for q in pieces], rel=1e-12)


@pytest.mark.parametrize("kind", ["hard-sigmoid", "sigmoid", "relu"])
def test_a_new_piece_rises_by_its_height_around_its_centre(kind):
    p = new_piece(kind, center=4.0, width=2.0, height=3.0)
    if kind == "relu":
        assert evaluate(p, np.array([4.0, 6.0])) == pytest.approx([0.0, 3.0])
    else:
        lo, hi = evaluate(p, np.array([-100.0, 100.0]))
        assert (lo, hi) == pytest.approx((0.0, 3.0))
        assert evaluate(p, np.array([4.0]))[0] == pytest.approx(1.5)
        # the slope at the centre is height / width for both
        slope = (evaluate(p, np.array([4.001]))[0] - evaluate(p, np.array([3.999]))[0]) / 0.002
        assert slope == pytest.approx(1.5, rel=1e-3)
