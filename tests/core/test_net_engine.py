"""The network update's two matrix-product paths (oneDNN, torch.mm) against autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core import net_engine
from core.config import RunConfig
from core.models import init_params
from core.net_engine import NetCore


def _core(model: str, units: int, layers: int, loss: str) -> NetCore:
    rng = np.random.default_rng(3)
    x = rng.random((300, 6))
    y = x @ rng.standard_normal(6) + 0.1 * rng.standard_normal(300)
    config = RunConfig(days=6, model=model, units=units, layers=layers)
    params = init_params(config, 6, np.random.default_rng(0), x.mean(axis=0), float(y.mean()))
    return NetCore(model, params, x, y, x[:0], y[:0], loss, "adam", 1e-2, 0.9, None, 0)


def _autograd(core: NetCore) -> tuple[float, list[np.ndarray]]:
    for t in core.tensors:
        t.grad = None
    loss = core._loss_of(core.forward(core.x), core.y)
    loss.backward()
    return float(loss.detach()), [t.grad.detach().double().numpy() for t in core.tensors]


@pytest.mark.parametrize("onednn", [True, False])
@pytest.mark.parametrize("model", ["relu", "sigmoid", "hard-sigmoid"])
@pytest.mark.parametrize("shape", [(5, 1), (40, 3), (4, 2)])
def test_hand_written_gradients_equal_autograd(monkeypatch: pytest.MonkeyPatch, onednn: bool,
                                                model: str, shape: tuple[int, int]) -> None:
    if onednn and net_engine._LINEAR is None:
        pytest.skip("this torch build has no oneDNN linear kernel")
    if not onednn:
        monkeypatch.setattr(net_engine, "_LINEAR", None)
    core = _core(model, *shape, "mae" if shape[0] != 4 else "mse")
    want_loss, want = _autograd(core)
    with torch.no_grad():
        loss, grads = core._grad_step(core.x, core.y)
    assert loss == pytest.approx(want_loss, rel=1e-5)
    for g, w, name in zip(grads, want, core.names, strict=True):
        np.testing.assert_allclose(g.double().numpy(), w, rtol=1e-4, atol=1e-6, err_msg=name)
