"""Gradient descent, momentum, Nesterov, AdaGrad, RMSProp and Adam, for a numpy vector
and for torch tensors.

Both implementations follow the same formulas (those of ``torch.optim.SGD`` with
dampening 0, with and without ``nesterov``, ``torch.optim.Adagrad``, ``torch.optim.RMSprop``
and ``torch.optim.Adam`` at their defaults), so a linear run (numpy) and a network run
(torch) mean the same thing by "momentum 0.9" or "Adam, lr 1e-3":

- gd:       theta <- theta - lr * g
- momentum: v <- mu * v + g (v = g on the first update); theta <- theta - lr * v
- nesterov: v <- mu * v + g (likewise); theta <- theta - lr * (g + mu * v)
- adagrad:  s <- s + g^2; theta <- theta - lr * g / (sqrt(s) + 1e-10)
- rmsprop:  s <- a s + (1 - a) g^2 (a = 0.99); theta <- theta - lr * g / (sqrt(s) + 1e-8)
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
ADAGRAD_EPS = 1e-10   # torch.optim.Adagrad's default eps
RMS_ALPHA = 0.99      # torch.optim.RMSprop's default smoothing constant (its eps is EPS)

# Every optimizer by name, in the order a menu lists them. "Momentum-like" ones keep a
# velocity (row 0 of the state); "scaled" ones keep a running sum of squared gradients.
KINDS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
HAS_MOMENTUM = frozenset({"momentum", "nesterov"})
SCALED = frozenset({"adagrad", "rmsprop", "adam"})   # keep a sum of squared gradients
# The constants in the order `core.net_kernels.optimizer_step` takes them.
KERNEL_CONSTS = [BETA1, BETA2, EPS, ADAGRAD_EPS, RMS_ALPHA]


class NumpyOptimizer:
    """Optimizer state for one flat float64 parameter vector.

    Its buffers are allocated once per run (not per update) and every update is a fixed,
    short sequence of in-place ufunc calls: the linear models' updates cost microseconds,
    so each numpy call counts.
    """

    def __init__(self, kind: str, lr: float, momentum: float, size: int) -> None:
        self.kind = kind
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.size = size
        self.t = 0
        # Side by side so one call updates both rows: row 0 = momentum's velocity, or
        # Adam's first moment; row 1 = Adam's second moment. Adam keeps them divided by
        # (1 - beta) (M = m / (1 - b1), S = s / (1 - b2)), so an update is M <- b1 M + g,
        # S <- b2 S + g^2: the same numbers as torch's m and s, two calls fewer.
        self._ms = np.zeros((2, size))
        self._gg = np.empty((2, size))   # [g; g^2]
        self._tmp = np.empty(size)
        self._betas = np.array([[BETA1], [BETA2]])
        self.buf: np.ndarray | None = None   # momentum velocity or Adam's M
        self.sq: np.ndarray | None = None    # Adam's S

    def reset(self) -> None:
        self.t = 0
        self.buf = None
        self.sq = None

    def _adam_coefs(self, t: int) -> tuple[float, float]:
        """(k, e) with step = -k M / (sqrt(S) + e), equal to torch's
        -lr (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)."""
        c1 = 1.0 - BETA1 ** t
        c2 = math.sqrt(1.0 - BETA2 ** t)
        root = math.sqrt(1.0 - BETA2)
        return self.lr * (1.0 - BETA1) * c2 / (c1 * root), EPS * c2 / root

    def state_rows(self) -> np.ndarray:
        """The (2, size) state for an update loop written elsewhere (the compiled linear
        kernels): row 0 = the velocity (momentum, Nesterov) or Adam's M, row 1 = the sum
        (AdaGrad) or average (RMSProp) of squared gradients or Adam's S, zeroed before the
        first update (momentum's first v = mu * 0 + g = g, as `apply` makes it)."""
        if self.kind in HAS_MOMENTUM and self.buf is None:
            self._ms[0].fill(0.0)
            self.buf = self._ms[0]
        elif self.kind in ("adagrad", "rmsprop") and self.sq is None:
            self._ms[1].fill(0.0)
            self.sq = self._ms[1]
        elif self.kind == "adam" and self.sq is None:
            self._ms.fill(0.0)
            self.buf, self.sq = self._ms[0], self._ms[1]
        return self._ms

    def apply(self, theta: np.ndarray, g: np.ndarray) -> None:
        """theta += the update for gradient g (g may be overwritten)."""
        self.t += 1
        kind = self.kind
        if kind == "gd":
            np.multiply(g, self.lr, g)
            np.subtract(theta, g, theta)
        elif kind in HAS_MOMENTUM:
            buf = self.buf
            if buf is None:
                self.buf = buf = self._ms[0]
                buf[:] = g
            else:
                np.multiply(buf, self.momentum, buf)
                np.add(buf, g, buf)
            if kind == "nesterov":
                np.multiply(buf, self.momentum, self._tmp)
                np.add(g, self._tmp, g)
                np.multiply(g, self.lr, g)
            else:
                np.multiply(buf, self.lr, g)
            np.subtract(theta, g, theta)
        elif kind in ("adagrad", "rmsprop"):
            if self.sq is None:
                self._ms[1].fill(0.0)
                self.sq = self._ms[1]
            sq, tmp = self.sq, self._tmp
            np.multiply(g, g, tmp)
            if kind == "rmsprop":
                np.multiply(sq, RMS_ALPHA, sq)
                np.multiply(tmp, 1.0 - RMS_ALPHA, tmp)
            np.add(sq, tmp, sq)
            np.sqrt(sq, tmp)
            np.add(tmp, ADAGRAD_EPS if kind == "adagrad" else EPS, tmp)
            np.divide(g, tmp, tmp)
            np.multiply(tmp, self.lr, tmp)
            np.subtract(theta, tmp, theta)
        else:
            ms, gg, tmp = self._ms, self._gg, self._tmp
            if self.sq is None:
                ms.fill(0.0)
                self.buf, self.sq = ms[0], ms[1]
            g0 = gg[0]
            if g is not g0:
                g0[:] = g
            k, e = self._adam_coefs(self.t)
            np.multiply(g0, g0, gg[1])
            np.multiply(ms, self._betas, ms)
            np.add(ms, gg, ms)
            np.sqrt(ms[1], tmp)
            np.add(tmp, e, tmp)
            np.divide(ms[0], tmp, tmp)
            np.multiply(tmp, k, tmp)
            np.subtract(theta, tmp, theta)

    def preview(self, g: np.ndarray) -> np.ndarray:
        """The update `apply(theta, g)` would add to theta, without changing any state."""
        kind = self.kind
        if kind == "gd":
            return -self.lr * g
        if kind in HAS_MOMENTUM:
            v = g.copy() if self.buf is None else self.momentum * self.buf + g
            return -self.lr * (g + self.momentum * v if kind == "nesterov" else v)
        if kind in ("adagrad", "rmsprop"):
            old = 0.0 if self.sq is None else self.sq
            if kind == "adagrad":
                return -self.lr * g / (np.sqrt(old + g * g) + ADAGRAD_EPS)
            s = RMS_ALPHA * old + (1.0 - RMS_ALPHA) * g * g
            return -self.lr * g / (np.sqrt(s) + EPS)
        m = g + (0.0 if self.buf is None else BETA1 * self.buf)
        s = g * g + (0.0 if self.sq is None else BETA2 * self.sq)
        k, e = self._adam_coefs(self.t + 1)
        return -k * m / (np.sqrt(s) + e)

    def velocity(self) -> np.ndarray | None:
        """Momentum's velocity v (or Adam's first moment m), for drawing; None before the
        first update or for optimizers without one."""
        if self.buf is None:
            return None
        return self.buf * (1.0 - BETA1) if self.kind == "adam" else self.buf.copy()

    # -- sessions -------------------------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """Everything the next update depends on (copies): a restored optimizer takes
        exactly the update this one would have taken."""
        return {"kind": self.kind, "lr": self.lr, "momentum": self.momentum, "t": self.t,
                "has_buf": self.buf is not None, "has_sq": self.sq is not None,
                "ms": self._ms.copy()}

    def import_state(self, state: dict[str, Any]) -> None:
        """The inverse of `export_state`; ValueError (nothing changed) if it does not fit."""
        ms = np.asarray(state["ms"], dtype=np.float64)
        if ms.shape != self._ms.shape:
            raise ValueError(f"optimizer state of shape {ms.shape}, expected {self._ms.shape}")
        kind, t = str(state["kind"]), int(state["t"])
        if kind not in KINDS or t < 0:
            raise ValueError(f"bad optimizer state ({kind!r}, t = {t})")
        self.kind, self.t = kind, t
        self.lr, self.momentum = float(state["lr"]), float(state["momentum"])
        self._ms[:] = ms
        self.buf = self._ms[0] if state["has_buf"] else None
        self.sq = self._ms[1] if state["has_sq"] else None


class TorchOptimizer:
    """The same optimizers' state over a list of torch tensors; the update itself is
    `core.net_kernels.optimizer_step` (compiled with the chunk: Adam by torch.optim's
    fused kernel where this torch has it, the others by ``_foreach`` ops)."""

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
        """Update the parameters in place for gradients `grads` (call under no_grad): the
        step a network's compiled chunk takes (`core.net_kernels.optimizer_step`)."""
        from core.net_kernels import fused_adam_works, optimizer_step

        buf, sq = self.state()
        self.t += 1
        optimizer_step(self.params, grads, buf, sq, self.kind, self.lr, self.momentum,
                       self.t, KERNEL_CONSTS, fused_adam_works())

    def state(self) -> tuple[list[Any], list[Any]]:
        """(velocity or Adam's first moments, the squared gradients' sums) for an update
        loop written elsewhere (`core.net_kernels.optimizer_step`), zeroed before the first
        update (momentum's first v = mu * 0 + g = g, as torch.optim makes it); [] where
        the optimizer keeps none."""
        import torch

        if self.kind in (*HAS_MOMENTUM, "adam") and self.buf is None:
            self.buf = [torch.zeros_like(p) for p in self.params]
        if self.kind in SCALED and self.sq is None:
            self.sq = [torch.zeros_like(p) for p in self.params]
        buf = self.buf if self.kind in (*HAS_MOMENTUM, "adam") and self.buf is not None else []
        sq = self.sq if self.kind in SCALED and self.sq is not None else []
        return buf, sq

    def preview(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """The next update's change for these (float64 numpy) gradients, no state change."""
        kind = self.kind

        def state(rows: list[Any] | None, i: int) -> np.ndarray | float:
            return 0.0 if rows is None else rows[i].detach().double().numpy()

        if kind == "gd":
            return [-self.lr * g for g in grads]
        if kind in HAS_MOMENTUM:
            out = []
            for i, g in enumerate(grads):
                v = g if self.buf is None else self.momentum * state(self.buf, i) + g
                out.append(-self.lr * (g + self.momentum * v if kind == "nesterov" else v))
            return out
        if kind == "adagrad":
            return [-self.lr * g / (np.sqrt(state(self.sq, i) + g * g) + ADAGRAD_EPS)
                    for i, g in enumerate(grads)]
        if kind == "rmsprop":
            return [-self.lr * g / (np.sqrt(RMS_ALPHA * state(self.sq, i)
                                            + (1.0 - RMS_ALPHA) * g * g) + EPS)
                    for i, g in enumerate(grads)]
        t = self.t + 1
        c1 = 1.0 - BETA1 ** t
        c2 = math.sqrt(1.0 - BETA2 ** t)
        out = []
        for i, g in enumerate(grads):
            m = (1.0 - BETA1) * g + BETA1 * state(self.buf, i)
            s = (1.0 - BETA2) * g * g + BETA2 * state(self.sq, i)
            out.append(-(self.lr / c1) * m / (np.sqrt(s) / c2 + EPS))
        return out

    # -- sessions -------------------------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """Everything the next update depends on, as float32 numpy copies."""
        def arrays(ts: list[Any] | None) -> list[np.ndarray] | None:
            return None if ts is None else [t.detach().numpy().copy() for t in ts]

        return {"kind": self.kind, "lr": self.lr, "momentum": self.momentum, "t": self.t,
                "buf": arrays(self.buf), "sq": arrays(self.sq)}

    def import_state(self, state: dict[str, Any]) -> None:
        """The inverse of `export_state`; ValueError (nothing changed) if it does not fit."""
        import torch

        shapes = [tuple(p.shape) for p in self.params]

        def tensors(arrs: list[Any] | None) -> list[Any] | None:
            if arrs is None:
                return None
            got = [tuple(np.shape(a)) for a in arrs]
            if got != shapes:
                raise ValueError(f"optimizer state of shapes {got}, expected {shapes}")
            return [torch.tensor(np.asarray(a), dtype=torch.float32) for a in arrs]

        kind, t = str(state["kind"]), int(state["t"])
        if kind not in KINDS or t < 0:
            raise ValueError(f"bad optimizer state ({kind!r}, t = {t})")
        buf, sq = tensors(state["buf"]), tensors(state["sq"])
        self.kind, self.t, self.buf, self.sq = kind, t, buf, sq
        self.lr, self.momentum = float(state["lr"]), float(state["momentum"])
