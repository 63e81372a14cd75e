"""Networks (sigmoid, hard-sigmoid, ReLU; L layers of K units): a hand-written torch backward.

float32 tensors for the whole training set are built once; an update is one forward pass
(``torch.addmm``, or oneDNN's linear kernel where torch has it and it is faster), a
hand-written backward pass (no autograd graph, no ``.grad`` bookkeeping;
tests/core/test_net_engine.py compares it with autograd) and the optimizer step (Adam:
torch.optim's fused kernel; the others ``_foreach`` ops), a chunk of them compiled by
TorchScript into one call that releases the GIL (`core.net_kernels`). Mini-batches are
slices of a copy of the data shuffled once per epoch.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from core.config import EpochWalk, saved_epoch
from core.models import parse_scalar, set_scalar
from core.net_kernels import compiled, fused_adam_works, with_ones
from core.optimizers import KERNEL_CONSTS, TorchOptimizer

# Epochs of shuffled data one `train_updates` call may be handed (a mini-batch run's
# chunk is cut into calls of at most this many epochs: bounded memory for the copies).
MAX_EPOCHS_A_CALL = 8
# oneDNN's linear kernel is private torch API (torch.ops.mkldnn._linear_pointwise): set
# this variable to 1 to use the public torch.mm path instead (tests run both).
TORCH_MM_ENV = "FNLAB_TORCH_MM"


def _onednn_linear() -> Any:
    """oneDNN's a @ w.T (+ bias), the kernel torch's compiled CPU code calls, or None where
    this torch build lacks it. It gives the same float32 numbers as autograd's forward
    pass (and fuses the ReLU); `core.net_kernels` says which products it runs.
    `FNLAB_TORCH_MM=1` declines it (a torch whose private kernel misbehaves)."""
    if os.environ.get(TORCH_MM_ENV, "") not in ("", "0"):
        return None
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


def forward_float32(model: str, params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Outputs (float64 copies) of the network `params` (its arrays in the canonical
    names) on x, by the float32 forward pass `NetCore.predict` makes (`outputs`, the
    update's own): a replayed moment's predictions are the numbers the live run showed
    then."""
    return forward_float32_each(model, params, [x])[0]


def forward_float32_each(model: str, params: dict[str, np.ndarray], xs: list[np.ndarray]
                         ) -> list[np.ndarray]:
    """`forward_float32` on each of `xs` (a replayed moment's training and unseen
    samples), the parameters made tensors once. Where `outputs` goes through the samples
    in blocks (one hidden layer of 512 units or more on fewer than 512 inputs), all of
    them in one call: each sample's numbers are its own row's either way (1-day 1,000
    ReLU, 1,460 + 365 samples, best / median of 15: two calls 669 / 748 us, one 640 /
    666 us)."""
    layers = sum(1 for k in params if k.startswith("W"))
    keys = [k for layer in range(1, layers + 1) for k in (f"W{layer}", f"b{layer}")]
    tensors = [torch.tensor(np.asarray(params[k]), dtype=torch.float32)
               for k in [*keys, "c", "b"]]
    lin, run = _LINEAR is not None, compiled().outputs
    sizes = [len(x) for x in xs]
    blocked = layers == 1 and tensors[0].shape[0] >= 512 and tensors[0].shape[1] < 512
    with torch.no_grad():
        if blocked and len(xs) > 1 and all(sizes):
            out = run(tensors, torch.tensor(np.concatenate(xs), dtype=torch.float32), model,
                      lin).double().numpy()
            return np.split(out, np.cumsum(sizes)[:-1])
        return [run(tensors, torch.tensor(x, dtype=torch.float32), model, lin).double().numpy()
                if len(x) else np.empty(0) for x in xs]


@dataclass
class _Pass:
    """One gradient pass at the parameters' `key` (version, loss, batch): its loss, its
    float32 gradients and outputs (the predictions on its batch), and the gradients'
    float64 copies once a snapshot asked for them."""

    key: tuple[Any, ...]
    loss: float
    grads: list[Any]
    out: Any = None
    grads64: list[np.ndarray] | None = None


class NetCore(EpochWalk):
    """The numbers of one network run; `core.engine.Trainer` does the bookkeeping."""

    def __init__(self, model: str, params: dict[str, np.ndarray], x: np.ndarray,
                 y: np.ndarray, x_unseen: np.ndarray, y_unseen: np.ndarray, loss: str,
                 optimizer: str, lr: float, momentum: float, batch_size: int | None,
                 seed: int) -> None:
        self.model = model
        self.names = list(params)
        self.layers = sum(1 for k in params if k.startswith("W"))
        self.tensors = [torch.tensor(np.asarray(params[k]), dtype=torch.float32,
                                     requires_grad=True) for k in self.names]
        self.x = torch.tensor(x, dtype=torch.float32)
        # x beside a column of ones, and transposed: a one-layer network's gradient
        # product takes them (`core.net_kernels.with_ones`)
        self.xa = with_ones(self.x)
        self.xat = self.xa[:, :self.x.shape[1] + 1].t().contiguous()
        self.y = torch.tensor(y, dtype=torch.float32)
        self.x_unseen = torch.tensor(x_unseen, dtype=torch.float32)
        self.y_unseen = torch.tensor(y_unseen, dtype=torch.float32)
        self.n = len(self.x)
        self.loss = loss
        self.opt = TorchOptimizer(optimizer, lr, momentum, self.tensors)
        # Detached views of the parameters (updated in place, so the views stay current),
        # and flat ones, which `flat_params` joins at every chunk's end
        self._pt = [tt.detach() for tt in self.tensors]
        self._flat = [tt.view(-1) for tt in self._pt]
        self._size = sum(len(f) for f in self._flat)
        self._kernels = compiled()
        self.gil_free = self._kernels.gil_free
        self._lin = _LINEAR is not None
        self._fused = fused_adam_works()
        # `run`'s arguments that stay the same from chunk to chunk, made once: the full
        # batch as the kernel takes it, the unseen samples or none, and the tracked
        # pair's [tensor, index, tensor, index] for the last `track` asked
        self._full_data = ([self.x], [self.y])
        self._unseen_args = ((self.x_unseen, self.y_unseen) if len(self.x_unseen)
                             else (None, None))
        self._where: tuple[Any, list[int]] = (None, [])
        self.gen = torch.Generator().manual_seed(seed)
        self.last_loss = float("nan")
        # The parameters' version (bumped by every update and `set_params`) and the
        # gradient pass last made at it, so a snapshot's gradient, step preview and
        # training loss share one pass, which the next update then reuses.
        self._version = 0
        self._memo: _Pass | None = None
        # The outputs on the unseen samples at a version: a snapshot's unseen loss, its
        # unseen predictions and its history point share one forward pass.
        self._unseen: tuple[int, Any] | None = None
        # ... and their loss, made with them at a full-batch chunk's end (version, loss)
        self._unseen_loss: tuple[int, str, float] | None = None
        self.set_batch_size(batch_size)

    def _reshuffle(self) -> None:
        self.perm = perm = torch.randperm(self.n, generator=self.gen)   # a session keeps it
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
        """The float32 outputs on x (`core.net_kernels.outputs`: the update's own forward
        pass, compiled, so it releases the GIL while it runs)."""
        with torch.no_grad():
            return self._kernels.outputs(self._pt, x, self.model, self._lin)

    def _loss_of(self, pred: Any, y: Any) -> Any:
        fn = torch.nn.functional
        return fn.l1_loss(pred, y) if self.loss == "mae" else fn.mse_loss(pred, y)

    def run(self, n: int, track: tuple[tuple[int, int], tuple[int, int]] | None = None,
            unseen: bool = True, cuts: list[tuple[int, bool]] | None = None,
            limits: tuple[float, float] = (math.inf, math.inf)) -> int:
        """Take up to n updates; stop after one whose batch loss was not finite.

        `track` = ((tensor, flat index), (tensor, flat index)): their values after each
        update go to `self.traj` (the path). Returns the number of updates taken. The
        updates run in `core.net_kernels.train_updates`, one call per chunk (per
        MAX_EPOCHS_A_CALL epochs of a mini-batch run) that releases the GIL; a full-batch
        chunk ends with the next update's pass, kept as the memo `train_loss`,
        `full_grad` and the next chunk read, and the outputs on the unseen samples there,
        which `unseen_loss` and `predict` read, unless `unseen` is False (nobody will
        read them there: the app's worker runs two or three chunks a snapshot).

        `cuts` (the full batch; ignored for mini-batches): (update count from here, a
        history point there) for each of the trainer's chunk ends before n, which the
        one call passes through as `core.net_kernels.train_updates` says, with the
        divergence `limits` (the tracked pair's largest magnitude, the training loss).
        After the call `passed` is the number of cuts passed, `cut_rows[j]` the
        parameters at cut j and `cut_losses[j]` its training and unseen loss (nan where
        not made).
        """
        traj = torch.empty((n, 2), dtype=torch.float64)
        self.traj = traj.numpy()
        memo = self._memo
        first = memo if memo is not None and memo.key == self._key(False) else None
        self._version += 1
        opt = self.opt
        buf, sq = opt.state()
        if self._where[0] != track:
            self._where = (track, [] if track is None else [*track[0], *track[1]])
        where = self._where[1]
        ahead = self.batch_size is None
        inner = cuts if ahead and cuts else []
        xu, yu = self._unseen_args if ahead and (unseen or inner) else (None, None)
        self.passed = 0
        rows = losses = None
        if inner:
            rows = torch.empty((len(inner), self._size), dtype=torch.float32)
            losses = torch.empty((len(inner), 2), dtype=torch.float64)
            self.cut_rows, self.cut_losses = rows.numpy(), losses.numpy()
        done = 0
        with torch.no_grad():
            while done < n:
                if ahead:
                    (xs, ys), k = self._full_data, n - done
                else:
                    xs, ys, perms, k = self._epochs(n - done)
                (did, loss, epoch, pos, next_loss, next_grads, next_out, unseen_out,
                 unseen_loss, passed) = \
                    self._kernels.train_updates(
                    self._pt, buf, sq, xs, ys, self.pos, self.batch_size or 0, k,
                    self.model, self.loss, self._lin, opt.kind, opt.lr, opt.momentum, opt.t,
                    KERNEL_CONSTS, first.loss if first is not None else math.nan,
                    first.grads if first is not None else [], where,
                    traj[done:] if done else traj, ahead, self._fused,
                    self.xa if ahead else None, self.xat if ahead else None, xu, yu,
                    unseen, [c for c, _ in inner], [h for _, h in inner], list(limits),
                    rows, losses)
                self.passed = passed
                if next_grads:
                    self._memo = _Pass(self._key(True), next_loss, next_grads, next_out)
                if unseen_out is not None:
                    self._unseen = (self._version, unseen_out)
                    self._unseen_loss = (self._version, self.loss, unseen_loss)
                first = None
                opt.t += did
                done += did
                self.last_loss = loss
                if self.batch_size is not None:
                    self.xs, self.ys, self.pos = xs[epoch], ys[epoch], pos
                    self.perm = perms[epoch]
                if did < k:
                    break
        return done

    def _epochs(self, n: int) -> tuple[list[Any], list[Any], list[Any], int]:
        """The data for up to n updates from here: the current epoch's copy and as many
        newly shuffled ones as the updates reach (at most MAX_EPOCHS_A_CALL), their orders
        (a session keeps the current one) and how many updates they cover. The shuffles are
        drawn in the order updates reach them."""
        if self.batch_size is None:
            return [self.x], [self.y], [None], n
        per = self.updates_per_epoch
        k = min(n, MAX_EPOCHS_A_CALL * per - self.pos)
        xs, ys, perms = [self.xs], [self.ys], [self.perm]
        for _ in range((self.pos + k) // per):
            perm = torch.randperm(self.n, generator=self.gen)
            perms.append(perm)
            xs.append(self.x.index_select(0, perm))
            ys.append(self.y.index_select(0, perm))
        return xs, ys, perms, k

    def _grad_step(self, x: Any, y: Any) -> tuple[float, list[Any], Any]:
        """The batch loss, the gradients of every parameter and the outputs (call under
        no_grad), by `core.net_kernels.grad_pass`: the numbers of autograd on `forward` +
        the loss."""
        return self._kernels.grad_pass(self._pt, x, y, self.model, self.loss, self._lin,
                                       *((self.xa, self.xat) if x is self.x else (None, None)))

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
        if len(self.x_unseen) == 0:
            return float("nan")
        kept = self._unseen_loss
        if kept is not None and kept[:2] == (self._version, self.loss):
            return kept[2]
        with torch.no_grad():
            return float(self._loss_of(self._unseen_out(), self.y_unseen))

    def _unseen_out(self) -> Any:
        """The float32 outputs on the unseen samples at the current parameters (one
        forward pass per parameters' version, however many ask)."""
        kept = self._unseen
        if kept is None or kept[0] != self._version:
            kept = self._unseen = (self._version, self.forward(self.x_unseen))
        return kept[1]

    def predict(self, which: str) -> np.ndarray:
        """The model's outputs on the training or unseen samples (its float32 forward pass,
        a few times faster than float64 numpy). Full-batch training: the training samples'
        are the outputs of the pass a chunk ends with (the next update's), kept in the
        memo, so a snapshot makes no second forward pass over them (3 x 100 ReLU, 56 days:
        ~1 ms of a snapshot's ~2.3)."""
        x = self.x if which == "train" else self.x_unseen
        if len(x) == 0:
            return np.empty(0)
        if which != "train":
            return self._unseen_out().double().numpy()
        memo = self._memo
        if memo is not None and memo.out is not None and memo.key == self._key(True):
            return memo.out.double().numpy()
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
                loss, grads, out = self._grad_step(xb, yb)
            memo = self._memo = _Pass(key, loss, grads, out)
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

    def flat_params(self) -> np.ndarray:
        """Every parameter in one float32 row (canonical order): a timeline's moment."""
        return torch.cat(self._flat).numpy()

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

    # -- sessions -------------------------------------------------------------------------
    def export_state(self) -> dict[str, Any]:
        """Everything the next updates depend on (float32 copies of the parameters, the
        optimizer, the shuffling generator and the epoch's order)."""
        return {"params": {k: t.detach().numpy().copy()
                           for k, t in zip(self.names, self.tensors, strict=True)},
                "opt": self.opt.export_state(),
                "gen": self.gen.get_state().numpy().copy(),
                "batch_size": self.batch_size, "pos": self.pos,
                "perm": self.perm.numpy().copy() if self.batch_size else None,
                "last_loss": self.last_loss}

    def import_state(self, state: dict[str, Any]) -> None:
        """The inverse of `export_state`; ValueError if it does not fit this run."""
        params = state["params"]
        shapes = {k: tuple(t.shape) for k, t in zip(self.names, self.tensors, strict=True)}
        got = {k: tuple(np.shape(v)) for k, v in params.items()}
        if got != shapes:
            raise ValueError(f"saved parameters {got} do not fit this network {shapes}")
        pos, perm = saved_epoch(state, self.n, self.batch_size)
        gen = torch.from_numpy(np.asarray(state["gen"], dtype=np.uint8).copy())
        self.opt.import_state(state["opt"])
        try:
            self.gen.set_state(gen)
        except RuntimeError as exc:
            raise ValueError(f"the saved shuffling generator does not load ({exc})") from None
        self.set_params(params)
        if perm is not None:
            self.perm = torch.from_numpy(perm)
            self.xs = self.x.index_select(0, self.perm)
            self.ys = self.y.index_select(0, self.perm)
        self.pos = pos
        self.last_loss = float(state["last_loss"])

