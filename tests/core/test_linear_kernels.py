"""The compiled full-batch MAE updates against the plain numpy formulas they replace."""

from __future__ import annotations

import numpy as np
import pytest

from core import linear_kernels as kernels
from core.data import load_builtin, window
from core.linear_engine import LinearCore, _augment
from core.optimizers import NumpyOptimizer


def _series(n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 2.0 + np.sin(t / 7.0) + 0.3 * rng.standard_normal(n)


def _windows(seq: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.lib.stride_tricks.sliding_window_view(seq[:-1], d)[:, ::-1].copy()
    return x, seq[d:].copy()


def _core(x: np.ndarray, y: np.ndarray, optimizer: str, lr: float) -> LinearCore:
    d = x.shape[1]
    return LinearCore(x, y, x[:0], y[:0], "mae", optimizer, lr, 0.9, None, 0,
                      np.full(d, 0.1), 0.0)


def _reference(x: np.ndarray, y: np.ndarray, optimizer: str, lr: float, n: int
               ) -> np.ndarray:
    """n full-batch MAE updates written with numpy and `NumpyOptimizer.apply`."""
    z = _augment(x, y)
    theta = np.zeros(z.shape[1])
    theta[:-2], theta[-1] = 0.1, 1.0
    mask = np.ones_like(theta)
    mask[-1] = 0.0
    opt = NumpyOptimizer(optimizer, lr, 0.9, len(theta))
    rows = np.empty((n, len(theta)))
    for k in range(n):
        g = (np.sign(z @ theta) @ z / len(z)) * mask
        opt.apply(theta, g)
        rows[k] = theta
    return rows


@pytest.mark.parametrize("optimizer,lr", [("gd", 0.01), ("momentum", 0.005), ("nesterov", 0.005),
                                          ("adagrad", 0.05), ("rmsprop", 0.003), ("adam", 0.01)])
@pytest.mark.parametrize("days", [1, 3, 12])
def test_kernel_updates_equal_the_numpy_formulas(optimizer: str, lr: float, days: int) -> None:
    x, y = _windows(_series(), days)
    core = _core(x, y, optimizer, lr)
    got = np.vstack([core.run(k) for k in (1, 7, 40, 150)])   # chunks of every size
    want = _reference(x, y, optimizer, lr, len(got))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    assert core.opt.t == len(got)


def test_kept_gradient_equals_a_fresh_one_after_many_updates() -> None:
    data = window(load_builtin("channel"), 56)
    core = LinearCore(data.x_train, data.y_train, data.x_unseen, data.y_unseen, "mae", "adam",
                      0.003, 0.9, None, 0, np.zeros(56), 0.0)
    core.run(3000)
    fresh = _augment(data.x_train, data.y_train).T @ core._s
    np.testing.assert_allclose(core._gsum, fresh, rtol=0, atol=1e-9 * np.abs(fresh).max())
    # the signs are those of the float32 residuals at theta
    r = core.z @ core.theta
    big = np.abs(r) > 1e-4
    assert np.array_equal(core._s[big], np.sign(r[big]).astype(np.int8))


def test_lagged_series_is_found_only_for_sliding_windows() -> None:
    seq = _series(60)
    x, y = _windows(seq, 9)
    np.testing.assert_array_equal(kernels.lagged_series(x, y), seq)
    shuffled = np.random.default_rng(1).permutation(len(x))
    assert kernels.lagged_series(x[shuffled], y[shuffled]) is None
    gap = np.delete(np.arange(len(x)), 20)      # one sample left out
    assert kernels.lagged_series(x[gap], y[gap]) is None
    y2 = y.copy()
    y2[5] += 1e-12                          # a label that is also a later feature
    assert kernels.lagged_series(x, y2) is None


def test_lagged_and_matrix_residuals_train_the_same() -> None:
    x, y = _windows(_series(900), 20)
    lagged = _core(x, y, "adam", 0.01)
    assert lagged._seq.size
    matrix = _core(x, y, "adam", 0.01)
    matrix._seq = matrix._seq[:0]
    matrix._zt = np.ascontiguousarray(matrix.z.T, dtype=matrix._r.dtype)
    np.testing.assert_allclose(lagged.run(500), matrix.run(500), rtol=1e-9, atol=1e-12)


def test_a_changed_theta_restarts_the_kept_gradient() -> None:
    x, y = _windows(_series(), 4)
    core = _core(x, y, "gd", 0.01)
    core.run(20)
    core.theta[0] += 0.5                     # moved behind the kernel's back
    theta = core.theta.copy()
    got = core.run(5)
    z = _augment(x, y)
    mask = np.r_[np.ones(z.shape[1] - 1), 0.0]
    for k in range(5):
        theta = theta - 0.01 * (np.sign(z @ theta) @ z / len(z)) * mask
        np.testing.assert_allclose(got[k], theta, rtol=1e-12)
