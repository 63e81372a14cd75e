"""Plain gradient descent, momentum and Adam, for a numpy vector and for torch tensors.

Both implementations follow the same formulas (those of ``torch.optim.SGD`` with
dampening 0 and ``torch.optim.Adam``), so a linear run (numpy) and a network run (torch)
mean the same thing by "momentum 0.9" or "Adam, lr 1e-3":

- gd:       theta <- theta - lr * g
- momentum: v <- mu * v + g (v = g on the first update); theta <- theta - lr * v
- adam:     m <- b1 m + (1 - b1) g; s <- b2 s + (1 - b2) g^2;
            theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)

They are written by hand rather than taken from ``torch.optim`` so that a learning-rate or
optimizer change costs nothing, the step about to be taken can be previewed without
changing any state, and no ``torch._dynamo`` import (~2 s) stands between the user and
the first update.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

BETA1 = 0.9
BETA2 = 0.999
EPS = 1e-8


class NumpyOptimizer:
    """Optimizer state for one flat float64 parameter vector."""

    def __init__(self, kind: str, lr: float, momentum: float, size: int) -> None:
        self.kind = kind
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.size = size
        self.t = 0
        self.buf: np.ndarray | None = None   # momentum velocity or Adam's first moment
        self.sq: np.ndarray | None = None    # Adam's second moment

    def reset(self) -> None:
        self.t = 0
        self.buf = None
        self.sq = None

    def apply(self, theta: np.ndarray, g: np.ndarray) -> None:
        """theta += the update for gradient g (g may be overwritten)."""
        self.t += 1
        if self.kind == "gd":
            g *= self.lr
            theta -= g
        elif self.kind == "momentum":
            if self.buf is None:
                self.buf = g.copy()
            else:
                self.buf *= self.momentum
                self.buf += g
            theta -= self.lr * self.buf
        else:
            if self.buf is None:
                self.buf = np.zeros(self.size)
                self.sq = np.zeros(self.size)
            buf, sq = self.buf, self.sq
            assert sq is not None
            buf *= BETA1
            buf += (1.0 - BETA1) * g
            sq *= BETA2
            g *= g
            g *= 1.0 - BETA2
            sq += g
            c1 = 1.0 - BETA1 ** self.t
            c2 = math.sqrt(1.0 - BETA2 ** self.t)
            theta -= (self.lr / c1) * buf / (np.sqrt(sq) / c2 + EPS)

    def preview(self, g: np.ndarray) -> np.ndarray:
        """The update `apply(theta, g)` would add to theta, without changing any state."""
        if self.kind == "gd":
            return -self.lr * g
        if self.kind == "momentum":
            v = g.copy() if self.buf is None else self.momentum * self.buf + g
            return -self.lr * v
        t = self.t + 1
        m = (1.0 - BETA1) * g + (0.0 if self.buf is None else BETA1 * self.buf)
        s = (1.0 - BETA2) * g * g + (0.0 if self.sq is None else BETA2 * self.sq)
        c1 = 1.0 - BETA1 ** t
        c2 = math.sqrt(1.0 - BETA2 ** t)
        return -(self.lr / c1) * m / (np.sqrt(s) / c2 + EPS)


class TorchOptimizer:
    """The same optimizers over a list of torch tensors, with fused ``_foreach`` ops."""

    def __init__(self, kind: str, lr: float, momentum: float, params: list[Any]) -> None:
        self.kind = kind
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.params = params
        self.t = 0
        self.buf: list[Any] | None = None
        self.sq: list[Any] | None = None

    def reset(self) -> None:
        self.t = 0
        self.buf = None
        self.sq = None

    def apply(self, grads: list[Any]) -> None:
        """Update the parameters in place for gradients `grads` (call under no_grad)."""
        import torch

        self.t += 1
        params = self.params
        if self.kind == "gd":
            torch._foreach_add_(params, grads, alpha=-self.lr)
        elif self.kind == "momentum":
            if self.buf is None:
                self.buf = [g.clone() for g in grads]
            else:
                torch._foreach_mul_(self.buf, self.momentum)
                torch._foreach_add_(self.buf, grads)
            torch._foreach_add_(params, self.buf, alpha=-self.lr)
        else:
            if self.buf is None:
                self.buf = [torch.zeros_like(p) for p in params]
                self.sq = [torch.zeros_like(p) for p in params]
            assert self.sq is not None
            torch._foreach_lerp_(self.buf, grads, 1.0 - BETA1)
            torch._foreach_mul_(self.sq, BETA2)
            torch._foreach_addcmul_(self.sq, grads, grads, 1.0 - BETA2)
            c1 = 1.0 - BETA1 ** self.t
            c2 = math.sqrt(1.0 - BETA2 ** self.t)
            denom = torch._foreach_sqrt(self.sq)
            torch._foreach_div_(denom, c2)
            torch._foreach_add_(denom, EPS)
            torch._foreach_addcdiv_(params, self.buf, denom, value=-self.lr / c1)

    def preview(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """The update `apply` would make for these (float64 numpy) gradients, no state change."""
        if self.kind == "gd":
            return [-self.lr * g for g in grads]
        if self.kind == "momentum":
            if self.buf is None:
                return [-self.lr * g for g in grads]
            return [-self.lr * (self.momentum * b.detach().double().numpy() + g)
                    for b, g in zip(self.buf, grads, strict=True)]
        t = self.t + 1
        c1 = 1.0 - BETA1 ** t
        c2 = math.sqrt(1.0 - BETA2 ** t)
        out = []
        for i, g in enumerate(grads):
            m = (1.0 - BETA1) * g
            s = (1.0 - BETA2) * g * g
            if self.buf is not None and self.sq is not None:
                m = m + BETA1 * self.buf[i].detach().double().numpy()
                s = s + BETA2 * self.sq[i].detach().double().numpy()
            out.append(-(self.lr / c1) * m / (np.sqrt(s) / c2 + EPS))
        return out
