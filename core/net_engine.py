"""Networks (sigmoid, hard-sigmoid, ReLU; L layers of K units): a hand-written torch backward.

float32 tensors for the whole training set are built once; an update is one forward pass
(oneDNN's linear kernel where torch has it, else ``addmm``), a hand-written backward pass
(no autograd graph, no ``.grad`` bookkeeping; tests/core/test_net_engine.py compares it
with autograd) and the fused ``_foreach`` optimizer of
`core.optimizers`. Mini-batches are slices of a copy of the data shuffled once per epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.config import updates_per_epoch
from core.models import parse_scalar, set_scalar
from core.optimizers import TorchOptimizer

_ACT = {"sigmoid": torch.sigmoid, "relu": torch.relu,
        "hard-sigmoid": torch.nn.functional.hardsigmoid}
# In place on the fresh addmm output: their backward needs only the output, so autograd
# allows it and an (N, K) tensor is not allocated per layer and update.
_ACT_ = {"sigmoid": torch.sigmoid_, "relu": torch.relu_,
         "hard-sigmoid": torch.nn.functional.hardsigmoid}

# The activations' backward kernels (what autograd calls for relu_, sigmoid_, hardsigmoid).
_relu_backward = torch.ops.aten.threshold_backward
_sigmoid_backward = torch.ops.aten.sigmoid_backward
_hardsigmoid_backward = torch.ops.aten.hardsigmoid_backward
_hardsigmoid = torch.nn.functional.hardsigmoid



def _mm(a: Any, b: Any, out: Any) -> Any:
    return torch.mm(a, b) if out is None else torch.mm(a, b, out=out)


def _onednn_linear() -> Any:
    """oneDNN's a @ w.T (+ bias), the kernel torch's compiled CPU code calls, or None where
    this torch build lacks it. On this machine's AMD CPU it runs the lecture's matrix
    products (1,400 x 100 x 100) in about half the time of `torch.mm` (MKL), and gives the
    same float32 numbers for the forward pass."""
    op = getattr(getattr(torch.ops, "mkldnn", None), "_linear_pointwise", None)
    if op is None or not torch.backends.mkldnn.is_available():
        return None
    try:
        a, w = torch.arange(6.0).reshape(2, 3), torch.arange(12.0).reshape(4, 3)
        if not torch.equal(op(a, w, None, "none", [], ""), a @ w.t()):
            return None
    except (RuntimeError, TypeError, NotImplementedError):
        return None
    return op


_LINEAR = _onednn_linear()


@dataclass
class _Pass:
    """One gradient pass at the parameters' `key` (version, loss, batch): its loss, its
    float32 gradients, and their float64 copies once a snapshot asked for them."""

    key: tuple[Any, ...]
    loss: float
    grads: list[Any]
    grads64: list[np.ndarray] | None = None


class NetCore:
    """The numbers of one network run; `core.engine.Trainer` does the bookkeeping."""

    def __init__(self, model: str, params: dict[str, np.ndarray], x: np.ndarray,
                 y: np.ndarray, x_unseen: np.ndarray, y_unseen: np.ndarray, loss: str,
                 optimizer: str, lr: float, momentum: float, batch_size: int | None,
                 seed: int) -> None:
        self.model = model
        self.act = _ACT[model]
        self.act_ = _ACT_[model]
        self.names = list(params)
        self.layers = sum(1 for k in params if k.startswith("W"))
        self.tensors = [torch.tensor(np.asarray(params[k]), dtype=torch.float32,
                                     requires_grad=True) for k in self.names]
        self.x = torch.tensor(x, dtype=torch.float32)
        self.y = torch.tensor(y, dtype=torch.float32)
        self.x_unseen = torch.tensor(x_unseen, dtype=torch.float32)
        self.y_unseen = torch.tensor(y_unseen, dtype=torch.float32)
        self.n = len(self.x)
        self.loss = loss
        self.opt = TorchOptimizer(optimizer, lr, momentum, self.tensors)
        # Detached views of the parameters (updated in place, so the views stay current).
        self._pt = [tt.detach() for tt in self.tensors]
        self._bufs: dict[int, tuple[list[Any], list[Any]]] = {}
        self.gen = torch.Generator().manual_seed(seed)
        self.last_loss = float("nan")
        # The parameters' version (bumped by every update and `set_params`) and the
        # gradient pass last made at it, so a snapshot's gradient, step preview and
        # training loss share one pass, which the next update then reuses.
        self._version = 0
        self._memo: _Pass | None = None
        self.set_batch_size(batch_size)

    def set_batch_size(self, batch_size: int | None) -> None:
        self.batch_size = None if batch_size is None or batch_size >= self.n else batch_size
        self.updates_per_epoch = updates_per_epoch(self.n, self.batch_size)
        self.pos = 0
        if self.batch_size is not None:
            self._reshuffle()

    def _reshuffle(self) -> None:
        perm = torch.randperm(self.n, generator=self.gen)
        self.xs = self.x.index_select(0, perm)
        self.ys = self.y.index_select(0, perm)
        self.pos = 0

    def _batch(self) -> tuple[Any, Any]:
        if self.batch_size is None:
            return self.x, self.y
        lo = self.pos * self.batch_size
        hi = lo + self.batch_size
        return self.xs[lo:hi], self.ys[lo:hi]

    def forward(self, x: Any) -> Any:
        t = self.tensors
        act = self.act_ if torch.is_grad_enabled() else self.act
        h = x
        for layer in range(self.layers):
            h = act(torch.addmm(t[2 * layer + 1], h, t[2 * layer].t()))
        return torch.addmv(t[-1], h, t[-2])

    def _loss_of(self, pred: Any, y: Any) -> Any:
        fn = torch.nn.functional
        return fn.l1_loss(pred, y) if self.loss == "mae" else fn.mse_loss(pred, y)

    def run(self, n: int, track: tuple[tuple[int, int], tuple[int, int]] | None = None
            ) -> int:
        """Take up to n updates; stop after one whose batch loss was not finite.

        `track` = ((tensor, flat index), (tensor, flat index)): their values after each
        update go to `self.traj` (the path). Returns the number of updates taken.
        """
        opt, step = self.opt, self._grad_step
        self.traj = traj = np.empty((n, 2))
        # numpy views of the (in-place updated) parameters: reading a tracked value costs
        # an index, not a tensor op.
        flat = [t.detach().view(-1).numpy() for t in self.tensors]
        isfinite = math.isfinite
        memo = self._memo
        reuse = memo is not None and memo.key == self._key(False)
        self._version += 1
        with torch.no_grad():
            for k in range(n):
                xb, yb = self._batch()
                if k == 0 and reuse and memo is not None:   # a snapshot's pass, same batch
                    loss, grads = memo.loss, memo.grads
                else:
                    loss, grads = step(xb, yb)
                opt.apply(grads)
                if self.batch_size is not None:
                    self.pos += 1
                    if self.pos == self.updates_per_epoch:
                        self._reshuffle()
                if track is not None:
                    traj[k, 0] = flat[track[0][0]][track[0][1]]
                    traj[k, 1] = flat[track[1][0]][track[1][1]]
                self.last_loss = loss
                if not isfinite(loss):
                    return k + 1
        return n

    def _buffers(self, rows: int) -> tuple[list[Any], list[Any]]:
        """Per-layer float32 buffers for a batch of `rows` samples, reused across updates:
        pre-activations (rows, units) and the backward's dh (rows, fan_in) for layers >= 2."""
        bufs = self._bufs.get(rows)
        if bufs is None:
            if len(self._bufs) > 3:      # the full batch, B and a last partial batch
                self._bufs.clear()
            shapes = [tuple(self.tensors[2 * i].shape) for i in range(self.layers)]
            bufs = ([torch.empty((rows, k)) for k, _ in shapes],
                    [torch.empty((rows, fan_in)) for _, fan_in in shapes])
            self._bufs[rows] = bufs
        return bufs

    def _grad_step(self, x: Any, y: Any) -> tuple[float, list[Any]]:
        """The batch loss and the gradients of every parameter, by a hand-written backward
        pass (call under no_grad): the numbers of autograd on `forward` + the loss, without
        building a graph; each activation's backward is the kernel autograd uses.
        The products stay in torch: numpy's OpenBLAS was slower here with one thread. With
        oneDNN (`_LINEAR`) the forward pass is bit-for-bit autograd's and the weight
        gradients differ only in float32 rounding (a sum over the samples in another order);
        without it, the products go through `torch.mm` into reused buffers.
        """
        t, pt, layers, model = self.tensors, self._pt, self.layers, self.model
        lin = _LINEAR
        pre_bufs, dh_bufs = self._buffers(len(x)) if lin is None else ([], [])
        mm = _mm
        hs = [x]
        pre: list[Any] = []
        h = x
        for layer in range(layers):
            w, b = pt[2 * layer], pt[2 * layer + 1]
            if lin is not None and model == "relu":
                h = lin(h, w, b, "relu", [], "")
            else:
                a = lin(h, w, b, "none", [], "") if lin is not None else \
                    mm(h, w.t(), pre_bufs[layer]).add_(b)
                if model == "hard-sigmoid":   # its backward needs the input
                    pre.append(a)
                    h = _hardsigmoid(a)
                else:
                    h = self.act_(a)
            hs.append(h)
        r = torch.addmv(t[-1], h, t[-2]).sub_(y)
        nb = len(r)
        if self.loss == "mae":
            e = torch.sign(r)
            loss = float(torch.dot(r, e)) / nb
            e.mul_(1.0 / nb)
        else:
            loss = float(torch.dot(r, r)) / nb
            e = r.mul_(2.0 / nb)
        grads: list[Any] = [None] * len(t)
        grads[-2] = torch.mv(h.t(), e)
        grads[-1] = e.sum()
        dh = torch.outer(e, t[-2])
        for layer in range(layers - 1, -1, -1):
            if model == "relu":
                da = _relu_backward(dh, hs[layer + 1], 0)
            elif model == "sigmoid":
                da = _sigmoid_backward(dh, hs[layer + 1])
            else:
                da = _hardsigmoid_backward(dh, pre[layer])
            w = pt[2 * layer]
            if lin is not None:
                if w.shape[0] > w.shape[1]:   # dW = (h^T da)^T: 2x faster for 1,000 units
                    grads[2 * layer] = lin(hs[layer].t(), da.t(), None, "none", [], "") \
                        .t().contiguous()
                else:
                    grads[2 * layer] = lin(da.t(), hs[layer].t(), None, "none", [], "")
            else:
                grads[2 * layer] = mm(da.t(), hs[layer], None)
            grads[2 * layer + 1] = da.sum(0)
            if layer:
                dh = lin(da, w.t(), None, "none", [], "") if lin is not None else \
                    mm(da, w, dh_bufs[layer])
        return loss, grads

    def _full_loss(self, x: Any, y: Any) -> float:
        if len(x) == 0:
            return float("nan")
        with torch.no_grad():
            return float(self._loss_of(self.forward(x), y))

    def train_loss(self) -> float:
        """Full-batch training: the update's own pass (loss and gradients), kept for the
        snapshot and reused by the next update, so asking costs nothing extra. Mini-batch
        training: a forward pass."""
        memo = self._memo
        if memo is not None and memo.key == self._key(True):
            return memo.loss
        if self.batch_size is None:
            return self._pass(True).loss
        return self._full_loss(self.x, self.y)

    def unseen_loss(self) -> float:
        return self._full_loss(self.x_unseen, self.y_unseen)

    gil_free = False   # Python runs between the torch calls of an update

    def predict(self, which: str) -> np.ndarray:
        """The model's outputs on the training or unseen samples (its float32 forward pass,
        a few times faster than float64 numpy)."""
        x = self.x if which == "train" else self.x_unseen
        if len(x) == 0:
            return np.empty(0)
        with torch.no_grad():
            return self.forward(x).double().numpy()

    def _key(self, full: bool) -> tuple[Any, ...]:
        batch = None if full or self.batch_size is None else (self.batch_size, self.pos)
        return (self._version, self.loss, batch)

    def _pass(self, full: bool) -> _Pass:
        """The loss and gradients at the current parameters on the full batch or the next
        batch, by the update's own backward pass (`_grad_step`), kept until they change."""
        key = self._key(full)
        memo = self._memo
        if memo is None or memo.key != key:
            xb, yb = (self.x, self.y) if full else self._batch()
            with torch.no_grad():
                loss, grads = self._grad_step(xb, yb)
            memo = self._memo = _Pass(key, loss, grads)
        return memo

    def _grads(self, full: bool) -> list[np.ndarray]:
        """`_pass`'s gradients as float64 arrays (made once, when first asked for)."""
        memo = self._pass(full)
        if memo.grads64 is None:
            memo.grads64 = [g.double().numpy() for g in memo.grads]
        return memo.grads64

    def full_grad(self) -> dict[str, np.ndarray]:
        return dict(zip(self.names, self._grads(True), strict=True))

    def next_step(self) -> dict[str, np.ndarray]:
        return dict(zip(self.names, self.opt.preview(self._grads(False)), strict=True))

    def params(self) -> dict[str, np.ndarray]:
        return {k: t.detach().double().numpy().copy().reshape(t.shape)
                for k, t in zip(self.names, self.tensors, strict=True)}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        self._version += 1
        with torch.no_grad():
            for k, t in zip(self.names, self.tensors, strict=True):
                t.copy_(torch.as_tensor(np.asarray(params[k]), dtype=torch.float32))

    # `run` reports only the tracked pair of each update (`traj`), not every parameter.
    keeps_every_update = False

    def set_start(self, w: float, b: float, track: tuple[str, str]) -> None:
        """Start from the current parameters with the two tracked scalars set to (w, b)."""
        params = self.params()
        set_scalar(params, track[0], float(w))
        set_scalar(params, track[1], float(b))
        self.set_params(params)

    def params_finite(self, train: float) -> bool:
        """Non-finite parameters show up in the next batch loss, `train`: no pass over them."""
        return math.isfinite(train)

    def flat_index(self, name: str) -> tuple[int, int]:
        key, idx = parse_scalar(name)
        t = self.tensors[self.names.index(key)]
        return self.names.index(key), int(np.ravel_multi_index(idx, tuple(t.shape))) if idx else 0

    def get_scalar(self, name: str) -> float:
        key, idx = parse_scalar(name)
        if key not in self.names:
            raise ValueError(f"this model has no parameter {name!r}")
        t = self.tensors[self.names.index(key)]
        if len(idx) != t.dim() or any(not 0 <= i < n for i, n in zip(idx, t.shape, strict=True)):
            raise ValueError(f"this model has no parameter {name!r}")
        return float(t.detach()[idx]) if idx else float(t.detach())
