"""Every optimizer against its textbook formula and against torch.optim, over 1,000 steps.

The gradients come from a fixed, ill-conditioned quadratic plus a sign term (so MAE-like
kinks are in the sequence too); both sides see the gradient at their own current point,
so any difference in the update rule compounds over the steps and would show.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core import net_kernels
from core.optimizers import KERNEL_CONSTS, KINDS, NumpyOptimizer, TorchOptimizer

STEPS = 1000
RTOL = 1e-9
MU = 0.9


def _grad(theta: np.ndarray) -> np.ndarray:
    h = np.diag([3.0, 0.5, 0.05])
    return h @ (theta - np.array([1.0, -2.0, 0.5])) + 0.1 * np.sign(theta)


LR = {"gd": 0.1, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.5, "rmsprop": 0.01,
      "adam": 0.01}


def _textbook(kind: str, theta0: np.ndarray) -> np.ndarray:
    """Each rule written out as the textbooks (and torch's docs) state it."""
    theta = theta0.copy()
    lr = LR[kind]
    v = np.zeros_like(theta)
    s = np.zeros_like(theta)
    m = np.zeros_like(theta)
    for t in range(1, STEPS + 1):
        g = _grad(theta)
        if kind == "gd":
            theta = theta - lr * g
        elif kind == "momentum":
            v = g if t == 1 else MU * v + g
            theta = theta - lr * v
        elif kind == "nesterov":
            v = g if t == 1 else MU * v + g
            theta = theta - lr * (g + MU * v)
        elif kind == "adagrad":
            s = s + g * g
            theta = theta - lr * g / (np.sqrt(s) + 1e-10)
        elif kind == "rmsprop":
            s = 0.99 * s + 0.01 * g * g
            theta = theta - lr * g / (np.sqrt(s) + 1e-8)
        else:
            m = 0.9 * m + 0.1 * g
            s = 0.999 * s + 0.001 * g * g
            mh, sh = m / (1 - 0.9 ** t), s / (1 - 0.999 ** t)
            theta = theta - lr * mh / (math.sqrt(1.0) * np.sqrt(sh) + 1e-8)
    return theta


def _torch_reference(kind: str, theta0: np.ndarray) -> np.ndarray:
    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    lr = LR[kind]
    opt = {
        "gd": lambda: torch.optim.SGD([p], lr=lr),
        "momentum": lambda: torch.optim.SGD([p], lr=lr, momentum=MU),
        "nesterov": lambda: torch.optim.SGD([p], lr=lr, momentum=MU, nesterov=True),
        "adagrad": lambda: torch.optim.Adagrad([p], lr=lr),
        "rmsprop": lambda: torch.optim.RMSprop([p], lr=lr),
        "adam": lambda: torch.optim.Adam([p], lr=lr),
    }[kind]()
    for _ in range(STEPS):
        p.grad = torch.tensor(_grad(p.detach().numpy()), dtype=torch.float64)
        opt.step()
    return p.detach().numpy().copy()


def _numpy_ours(kind: str, theta0: np.ndarray) -> np.ndarray:
    theta = theta0.copy()
    opt = NumpyOptimizer(kind, LR[kind], MU, len(theta))
    for _ in range(STEPS):
        opt.apply(theta, _grad(theta))
    return theta


def _torch_ours(kind: str, theta0: np.ndarray) -> np.ndarray:
    p = torch.tensor(theta0, dtype=torch.float64)
    opt = TorchOptimizer(kind, LR[kind], MU, [p])
    with torch.no_grad():
        for _ in range(STEPS):
            opt.apply([torch.tensor(_grad(p.numpy()), dtype=torch.float64)])
    return p.numpy().copy()


THETA0 = np.array([-1.5, 2.0, 3.0])


@pytest.mark.parametrize("kind", KINDS)
def test_numpy_optimizer_follows_the_textbook_and_torch_optim(kind):
    ours = _numpy_ours(kind, THETA0)
    np.testing.assert_allclose(ours, _textbook(kind, THETA0), rtol=RTOL)
    np.testing.assert_allclose(ours, _torch_reference(kind, THETA0), rtol=RTOL)
    assert not np.allclose(ours, THETA0)   # it moved


@pytest.mark.parametrize("fused", [True, False], ids=["fused-adam", "foreach"])
@pytest.mark.parametrize("kind", KINDS)
def test_torch_optimizer_follows_torch_optim(kind, fused, monkeypatch):
    """Both ways the network's step can take: Adam by torch.optim's fused kernel (where
    this torch has it) and every optimizer's ``_foreach`` formula."""
    if not fused:
        monkeypatch.setattr(net_kernels, "fused_adam_works", lambda: False)
    np.testing.assert_allclose(_torch_ours(kind, THETA0), _torch_reference(kind, THETA0),
                               rtol=RTOL)


def test_this_torch_takes_the_fused_adam_kernel_and_it_trains_as_the_formula_does():
    """The pinned torch has the fused CPU kernel, so the probe must find it (else Adam
    falls back to the slower formula unnoticed); over 300 float32 steps of a network's
    tensor shapes both ways stay within float32 rounding of each other."""
    assert net_kernels.fused_adam_works()
    gen = torch.Generator().manual_seed(0)
    shapes = [(100, 56), (100,), (100,), (1,)]
    start = [torch.randn(s, generator=gen) for s in shapes]
    runs = []
    for fused in (True, False):
        p = [t.clone() for t in start]
        buf, sq = [torch.zeros_like(t) for t in p], [torch.zeros_like(t) for t in p]
        g2 = torch.Generator().manual_seed(1)
        for t in range(1, 301):
            grads = [torch.randn(s, generator=g2) * 0.1 for s in shapes]
            net_kernels.optimizer_step(p, grads, buf, sq, "adam", 3e-3, 0.9, t,
                                       KERNEL_CONSTS, fused)
        runs.append(p)
    for a, b, s in zip(*runs, start, strict=True):
        assert not torch.equal(a, s)                       # it moved
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_preview_is_the_update_apply_then_takes(kind):
    theta = THETA0.copy()
    opt = NumpyOptimizer(kind, LR[kind], MU, len(theta))
    p = torch.tensor(THETA0, dtype=torch.float64)
    topt = TorchOptimizer(kind, LR[kind], MU, [p])
    for _ in range(5):
        g = _grad(theta)
        expected = opt.preview(g.copy())
        before = theta.copy()
        opt.apply(theta, g.copy())
        np.testing.assert_allclose(theta - before, expected, rtol=1e-12, atol=1e-15)
        tg = _grad(p.numpy())
        texp = topt.preview([tg])[0]
        tbefore = p.numpy().copy()
        with torch.no_grad():
            topt.apply([torch.tensor(tg)])
        np.testing.assert_allclose(p.numpy() - tbefore, texp, rtol=1e-12, atol=1e-15)
