"""The lecture's losses: MAE (its default) and MSE, and how they are reported.

Training works in the training unit (data unit / scale). People see losses in the data's
own unit:

- MAE: mean |y - y_hat| * scale, in the data unit (e.g. views; shown as "0.48k").
- MSE: mean (y - y_hat)^2 * scale**2, the true MSE in the data unit squared (views^2).
  A view may show sqrt of it (the RMSE, in views) when it wants a number comparable to MAE.
"""

from __future__ import annotations

import numpy as np

LOSSES = ("mae", "mse")
TITLES = {"mae": "mean absolute error", "mse": "mean squared error"}


def check_loss(loss: str) -> None:
    """ValueError unless `loss` is one of LOSSES."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}")


def loss_value(loss: str, pred: np.ndarray, y: np.ndarray) -> float:
    """The loss of predictions `pred` against labels `y`, in their own (training) unit."""
    e = np.asarray(pred, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    if e.size == 0:
        return float("nan")
    if loss == "mae":
        return float(np.mean(np.abs(e)))
    if loss == "mse":
        return float(np.mean(e * e))
    raise ValueError(f"unknown loss {loss!r}")


def to_data_unit(loss: str, value: float, scale: float) -> float:
    """A training-unit loss expressed in the data unit (MAE * scale, MSE * scale**2)."""
    if loss == "mae":
        return float(value) * scale
    if loss == "mse":
        return float(value) * scale * scale
    raise ValueError(f"unknown loss {loss!r}")


def loss_grad_residual(loss: str, e: np.ndarray) -> np.ndarray:
    """d loss / d prediction for residuals e = pred - y, per sample (not divided by n).

    MAE uses sign(e), with 0 at the kink (a valid subgradient).
    """
    if loss == "mae":
        return np.sign(e)
    if loss == "mse":
        return 2.0 * e
    raise ValueError(f"unknown loss {loss!r}")
