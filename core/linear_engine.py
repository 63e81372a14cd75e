"""Linear models trained without autograd: gradients from precomputed sums, in numpy.

The data is stored once as Z = [X, 1, -y] (N, d + 2) and the parameters as
theta = [w_1..w_d, b, 1], so the residual of every sample is simply Z @ theta:

- MSE, full batch: loss = theta^T G theta and gradient = 2 G theta with G = Z^T Z / N
  computed once; an update costs O(d^2) whatever N is.
- MAE, full batch: gradient = Z^T sign(Z theta) / N, one vectorized pass.
- Mini-batches: slices of a copy of Z shuffled once per epoch (seeded).

The last component of the gradient (the "-y" column) is masked to 0, so theta's trailing
1 never moves, for every optimizer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core import linear_kernels as kernels
from core.config import EpochWalk, saved_epoch
from core.models import get_scalar, parse_scalar
from core.optimizers import NumpyOptimizer

# Above this many numbers in Z the full-batch MAE residuals run in float32: they are
# memory-bound (56 days: Z is 650 kB in float64), float32 halves the traffic, and the
# parameters, the gradient, the optimizer state and every reported loss stay float64.
FLOAT32_ABOVE = 20_000
# From this many days on, full-batch MAE residuals are read from the series itself when
# the samples are its sliding windows (a few kB instead of N x days numbers).
LAGGED_FROM_DAYS = 8
# Rows of parameters whose losses one product measures (`losses_at`): a (rows x samples)
# residual is made at once. A linear run's loss history holds each of its first 1,024
# updates (core.engine.FINE_UPDATES), all in its first chunk: 1,024 x 1,460 residuals
# (1 day), 12 MB, put `fnlab train --days 1`'s peak 1.9 MB over its 160 MB target; in blocks of
# 64 rows its peak is that of a history fine to 256 updates (161.4-161.8 MB).
LOSS_ROWS = 64


class LinearCore(EpochWalk):
    """The numbers of one linear run; `core.engine.Trainer` does the bookkeeping."""

    def __init__(self, x: np.ndarray, y: np.ndarray, x_unseen: np.ndarray,
                 y_unseen: np.ndarray, loss: str, optimizer: str, lr: float, momentum: float,
                 batch_size: int | None, seed: int, w: np.ndarray, b: float) -> None:
        self.n, self.d = x.shape
        p = self.d + 2
        self.z = _augment(x, y)
        self.z_unseen = _augment(x_unseen, y_unseen)
        self.gram = self.z.T @ self.z / self.n
        m = len(self.z_unseen)
        self.gram_unseen = self.z_unseen.T @ self.z_unseen / m if m else None
        self.theta = np.empty(p)
        self.mask = np.ones(p)
        self.mask[-1] = 0.0
        # Full-batch MAE (see `core.linear_kernels`): residuals r in the working precision,
        # their signs s, and gsum = Z^T s in float64, valid while theta == _kernel_theta.
        work = np.float32 if self.z.size > FLOAT32_ABOVE else np.float64
        seq = kernels.lagged_series(x, y) if self.d >= LAGGED_FROM_DAYS else None
        self._seq = np.empty(0, dtype=work) if seq is None else seq.astype(work)
        self._zt = np.ascontiguousarray(self.z.T if seq is None else self.z.T[:, :0],
                                        dtype=work)
        self._taps = np.empty(self.d + 1, dtype=work)
        self._th_work = np.empty(p, dtype=work)
        self._r = np.empty(self.n, dtype=work)
        self._s = np.zeros(self.n, dtype=np.int8)
        self._dd = np.zeros(-(-self.n // 8) * 8, dtype=np.int8)   # whole int64 words
        self._gsum = np.empty(p)
        self._kernel_theta: np.ndarray | None = None
        self._loss = loss
        self.set_params(w, b)
        self.opt = NumpyOptimizer(optimizer, lr, momentum, p)
        self.rng = np.random.default_rng(seed)
        self.shuffled = np.empty_like(self.z)
        self.set_batch_size(batch_size)
        self._g = np.empty(p)

    # -- settings -------------------------------------------------------------------------
    @property
    def loss(self) -> str:
        return self._loss

    @loss.setter
    def loss(self, loss: str) -> None:
        self._loss = loss
        self._kernel_theta = None

    def _reshuffle(self) -> None:
        self.perm = self.rng.permutation(self.n)   # kept: a session restores the epoch
        np.take(self.z, self.perm, axis=0, out=self.shuffled)
        self.pos = 0

    def set_params(self, w: np.ndarray, b: float) -> None:
        self.theta[: self.d] = w
        self.theta[self.d] = b
        self.theta[self.d + 1] = 1.0
        self._kernel_theta = None

    # -- updates --------------------------------------------------------------------------
    def _batch(self) -> tuple[np.ndarray, int]:
        bs = self.batch_size
        assert bs is not None
        zb = self.shuffled[self.pos * bs:(self.pos + 1) * bs]
        return zb, len(zb)

    def run(self, n: int) -> np.ndarray:
        """Take n updates (no checks: the trainer checks for divergence between calls).

        Returns (n, d + 2): theta after each update, from which the trainer takes the path
        and the loss history (`losses_at`) without stopping the loop to measure.
        """
        theta, g, apply = self.theta, self._g, self.opt.apply
        rows = np.empty((n, len(theta)))
        if self.batch_size is None and self.loss == "mae":
            self._run_mae(rows)
            return rows
        self._kernel_theta = None
        if self.batch_size is None:
            gram, coef = self.gram, self.mask * 2.0
            matmul, multiply = np.matmul, np.multiply
            for k in range(n):
                matmul(gram, theta, out=g)
                multiply(g, coef, out=g)
                apply(theta, g)
                rows[k] = theta
        else:
            mae, mask, sign, matmul = self.loss == "mae", self.mask, np.sign, np.matmul
            for k in range(n):
                zb, nb = self._batch()
                rb = zb @ theta
                if mae:
                    sign(rb, out=rb)
                else:
                    rb *= 2.0
                matmul(rb, zb, out=g)
                g *= mask
                g /= nb
                apply(theta, g)
                rows[k] = theta
                self.pos += 1
                if self.pos == self.updates_per_epoch:
                    self._reshuffle()  # eagerly, so the next batch is always known
        return rows

    def _run_mae(self, rows: np.ndarray) -> None:
        """Full-batch MAE updates, one compiled call for the whole chunk (no GIL held)."""
        opt, theta = self.opt, self.theta
        args = (self._zt, self._seq, self._taps, self.z, theta, self._th_work, self._r,
                self._s, self._dd, self._dd.view(np.int64), self._gsum)
        fresh = self._kernel_theta is None or not np.array_equal(self._kernel_theta, theta)
        kernels.run(*args, fresh, kernels.KINDS[opt.kind], opt.lr, opt.momentum, opt.t,
                    opt.state_rows(), opt._tmp, rows)
        opt.t += len(rows)
        self._kernel_theta = theta.copy()

    def warm(self) -> None:
        """Load the compiled kernel this run's full-batch MAE calls (a few tenths of a
        second, once a process) before the trainer times an update: the first racer of a
        race was charged it as its own training time (0.25-0.28 s of 0.28 s measured for
        40 updates; the other racers 0.0001-0.0003 s)."""
        if self.gil_free:
            kernels.warm((self._r.dtype.type,))

    @property
    def gil_free(self) -> bool:
        """Full-batch MAE runs in `core.linear_kernels`, one call per chunk, GIL released."""
        return self.batch_size is None and self.loss == "mae"

    def predict(self, which: str) -> np.ndarray:
        """The model's outputs (training unit) on the training or unseen samples."""
        z = self.z if which == "train" else self.z_unseen
        return z[:, :-1] @ self.theta[:-1]

    def losses_at(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training and unseen losses (training unit) at each row of thetas (h, d + 2):
        the loss history of a chunk, measured in one product after it ran."""
        return (self._losses(self.z, self.gram, thetas),
                self._losses(self.z_unseen, self.gram_unseen, thetas))

    def _losses(self, z: np.ndarray, gram: np.ndarray | None, thetas: np.ndarray
                ) -> np.ndarray:
        if len(z) == 0:
            return np.full(len(thetas), np.nan)
        if len(thetas) > LOSS_ROWS:
            return np.concatenate([self._losses(z, gram, thetas[i:i + LOSS_ROWS])
                                   for i in range(0, len(thetas), LOSS_ROWS)])
        if self.loss == "mse" and gram is not None:
            return np.maximum(np.einsum("hp,hp->h", thetas @ gram, thetas), 0.0)
        r = thetas @ z.T
        if self.loss == "mae":
            return np.abs(r, out=r).sum(axis=1) / z.shape[0]
        return np.einsum("hn,hn->h", r, r) / z.shape[0]

    # -- measurements (training unit) -----------------------------------------------------
    def _loss_of(self, z: np.ndarray, gram: np.ndarray | None, theta: np.ndarray) -> float:
        if len(z) == 0:
            return float("nan")
        if self.loss == "mse" and gram is not None:
            return max(float(theta @ gram @ theta), 0.0)
        r = z @ theta
        if self.loss == "mae":
            return float(np.abs(r, out=r).sum()) / len(r)
        return float(np.dot(r, r)) / len(r)

    def train_loss(self) -> float:
        if (self.loss == "mae" and self._r.dtype == np.float64
                and self._kernel_theta is not None
                and np.array_equal(self._kernel_theta, self.theta)):
            return float(np.abs(self._r).sum()) / self.n   # the kernel's residuals
        return self._loss_of(self.z, self.gram, self.theta)

    def unseen_loss(self) -> float:
        return self._loss_of(self.z_unseen, self.gram_unseen, self.theta)

    def _grad(self, z: np.ndarray, theta: np.ndarray) -> np.ndarray:
        r = z @ theta
        e = np.sign(r) if self.loss == "mae" else 2.0 * r
        return (e @ z / len(z)) * self.mask

    def _full_grad(self) -> np.ndarray:
        """Full-batch gradient (d + 2; last entry 0)."""
        if self.loss == "mse":
            return 2.0 * (self.gram @ self.theta) * self.mask
        return self._grad(self.z, self.theta)

    def full_grad(self) -> dict[str, np.ndarray]:
        """The full-batch gradient as parameter arrays {"w", "b"}."""
        return self._as_params(self._full_grad())

    def next_step(self) -> dict[str, np.ndarray]:
        """The change the next update will make, as parameter arrays {"w", "b"}."""
        g = self._full_grad() if self.batch_size is None else self._grad(self._batch()[0],
                                                                            self.theta)
        return self._as_params(self.opt.preview(g))

    def _as_params(self, vec: np.ndarray) -> dict[str, np.ndarray]:
        d = self.d
        return {"w": np.array(vec[:d], dtype=np.float64), "b": np.asarray(float(vec[d]))}

    # -- parameters, as the trainer asks for them -------------------------------------------
    # Each update's parameters come back from `run`, so the trainer records the loss
    # history and the path from them after a chunk (a network core reports only its
    # tracked pair).
    keeps_every_update = True

    def params(self) -> dict[str, np.ndarray]:
        """Copies of the parameter arrays {"w" (d,), "b" ()} (float64, training unit)."""
        return self._as_params(self.theta)

    def get_scalar(self, name: str) -> float:
        key, idx = parse_scalar(name)
        if key == "w" and len(idx) == 1 and 0 <= idx[0] < self.d:
            return float(self.theta[idx[0]])
        if key == "b" and not idx:
            return float(self.theta[self.d])
        return get_scalar(self.params(), name)

    def set_start(self, w: float | np.ndarray, b: float, track: tuple[str, str]) -> None:
        """Start from the tracked scalars set to (w, b), the other weights as they are (a
        click on a 7-day model's (w3, b) surface set all seven weights to the clicked w
        before); an array `w` sets every w_j."""
        if np.ndim(w) > 0:
            self.set_params(np.broadcast_to(np.asarray(w, dtype=np.float64), (self.d,)),
                            float(b))
            return
        theta = self.theta.copy()
        for name, value in zip(track, (w, b), strict=True):
            key, i = parse_scalar(name)
            theta[i[0] if key == "w" else self.d] = float(value)
        self.set_params(theta[:self.d], float(theta[self.d]))

    def params_finite(self, train: float) -> bool:
        """True while every parameter is finite (`train`, the last loss, is not needed)."""
        return bool(np.isfinite(self.theta).all())

    def track_columns(self, track: tuple[str, str]) -> tuple[int, int]:
        """The columns of `run`'s rows that hold the two tracked scalars."""
        cols = []
        for name in track:
            key, i = parse_scalar(name)
            cols.append(i[0] if key == "w" else self.d)
        return cols[0], cols[1]

    # -- sessions -------------------------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """Everything the next updates depend on (copies): the parameters, the optimizer,
        the shuffling generator and the epoch's order, and the full-batch MAE kernel's
        residuals, signs and gradient sum (kept up to date incrementally, so recomputing
        them could differ in the last bit)."""
        state: dict[str, Any] = {
            "theta": self.theta.copy(), "opt": self.opt.export_state(),
            "rng": self.rng.bit_generator.state, "batch_size": self.batch_size,
            "pos": self.pos, "perm": self.perm.copy() if self.batch_size else None,
            "kernel": None}
        if self._kernel_theta is not None:
            state["kernel"] = {"theta": self._kernel_theta.copy(), "r": self._r.copy(),
                               "s": self._s.copy(), "gsum": self._gsum.copy()}
        return state

    def import_state(self, state: dict[str, Any]) -> None:
        """The inverse of `export_state`; ValueError if it does not fit this run."""
        theta = _fitting(state["theta"], self.theta, "parameters")
        if theta[-1] != 1.0:
            raise ValueError("the saved parameters lack the constant 1 at their end")
        kernel = state["kernel"]
        if kernel is not None:
            kernel = {"theta": _fitting(kernel["theta"], self.theta, "kernel parameters"),
                      "r": _fitting(kernel["r"], self._r, "residuals"),
                      "s": _fitting(kernel["s"], self._s, "signs"),
                      "gsum": _fitting(kernel["gsum"], self._gsum, "gradient sum")}
        pos, perm = saved_epoch(state, self.n, self.batch_size)
        self.opt.import_state(state["opt"])
        self.rng.bit_generator.state = state["rng"]
        self.set_params(theta[: self.d], float(theta[self.d]))
        if perm is not None:
            self.perm = perm
            np.take(self.z, perm, axis=0, out=self.shuffled)
        self.pos = pos
        if kernel is not None:
            self._r[:], self._s[:], self._gsum[:] = kernel["r"], kernel["s"], kernel["gsum"]
            self._th_work[:] = kernel["theta"]
            self._kernel_theta = kernel["theta"]


def _fitting(value: Any, like: np.ndarray, what: str) -> np.ndarray:
    """`value` as an array of `like`'s dtype and shape; ValueError naming `what` if not."""
    arr = np.asarray(value)
    if arr.shape != like.shape:
        raise ValueError(f"saved {what} of shape {arr.shape}, expected {like.shape}")
    return arr.astype(like.dtype, copy=True)


def _augment(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    n, d = x.shape
    z = np.empty((n, d + 2))
    z[:, :d] = x
    z[:, d] = 1.0
    z[:, d + 1] = -np.asarray(y, dtype=np.float64)
    return z
