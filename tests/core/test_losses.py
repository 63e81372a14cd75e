"""Losses in the training unit and as people see them (the data unit)."""

import numpy as np
import pytest

from core.losses import loss_grad_residual, loss_value, to_data_unit


def test_mae_and_mse_of_known_residuals():
    pred, y = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 1.0])
    assert loss_value("mae", pred, y) == pytest.approx(4.0 / 3.0)
    assert loss_value("mse", pred, y) == pytest.approx(10.0 / 3.0)


def test_data_unit_scales_mae_once_and_mse_squared():
    assert to_data_unit("mae", 0.48, 1000.0) == pytest.approx(480.0)
    assert to_data_unit("mse", 0.25, 1000.0) == pytest.approx(250_000.0)


def test_residual_gradient_is_sign_for_mae_and_twice_residual_for_mse():
    e = np.array([-2.0, 0.0, 3.0])
    assert list(loss_grad_residual("mae", e)) == [-1.0, 0.0, 1.0]
    assert list(loss_grad_residual("mse", e)) == [-4.0, 0.0, 6.0]
