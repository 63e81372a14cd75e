"""A network's gradient pass and a chunk of its updates, compiled by TorchScript.

Why compiled: a network update is ~30 torch calls, and between them Python runs holding
the GIL. The app's GUI thread needs the GIL for every frame it draws, so a Python update
loop and the GUI slowed each other down (the app trained 3 x 100 ReLU at 0.6-0.7 of its
headless speed). `train_updates` runs a whole chunk of updates (forward, the hand-written
backward, the optimizer step, the mini-batch walk, the tracked path) as one call into
TorchScript's interpreter, which releases the GIL for the whole call; the GUI thread then
draws while the chunk trains. The same source is plain Python too: where TorchScript
cannot compile it (a torch build without oneDNN's linear kernel, or without TorchScript),
`compiled(...)` hands back the Python functions, correct but holding the GIL.

The arithmetic is `core.net_engine`'s: oneDNN's linear kernel (`lin`) or `torch.mm`, each
activation's backward kernel as autograd calls it, and the optimizers of
`core.optimizers` (torch.optim's formulas), op for op.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, List, Optional, Tuple, Union

import torch
from torch import Tensor

# TorchScript reads these annotations: it knows typing's List / Tuple / Optional, not
# PEP 604 unions or builtin generics in every torch version.


def grad_pass(p: List[Tensor], x: Tensor, y: Tensor, model: str, loss: str,
              lin: bool) -> Tuple[float, List[Tensor]]:
    """The batch loss and every parameter's gradient (call under no_grad): the numbers of
    autograd on the forward pass and the loss, without building a graph.

    `p` = [W1, b1, ..., WL, bL, c, b]. With `lin` the forward pass and dh are oneDNN's
    linear kernel (the forward pass bit for bit autograd's), and so are the weight
    gradients of layers of 512 units or more (they differ from autograd's only in float32
    rounding, a sum over the samples in another order); else `torch.mm`.
    """
    layers = (len(p) - 2) // 2
    sc: List[Optional[Union[float, int, complex]]] = []
    hs: List[Tensor] = [x]
    pre: List[Tensor] = []
    h = x
    for layer in range(layers):
        w, b = p[2 * layer], p[2 * layer + 1]
        if lin and model == "relu":
            h = torch.ops.mkldnn._linear_pointwise(h, w, b, "relu", sc, "")
        else:
            if lin:
                a = torch.ops.mkldnn._linear_pointwise(h, w, b, "none", sc, "")
            else:
                a = torch.mm(h, w.t()).add_(b)
            if model == "hard-sigmoid":   # its backward needs the input
                pre.append(a)
                h = torch.nn.functional.hardsigmoid(a)
            elif model == "relu":
                h = torch.relu_(a)
            else:
                h = torch.sigmoid_(a)
        hs.append(h)
    r = torch.addmv(p[-1], h, p[-2]).sub_(y)
    nb = r.shape[0]
    if loss == "mae":
        e = torch.sign(r)
        value = float(torch.dot(r, e)) / nb
        e.mul_(1.0 / nb)
    else:
        value = float(torch.dot(r, r)) / nb
        e = r.mul_(2.0 / nb)
    grads: List[Tensor] = [e] * len(p)
    grads[-2] = torch.mv(h.t(), e)
    grads[-1] = e.sum()
    dh = torch.outer(e, p[-2])
    for layer in range(layers - 1, -1, -1):
        if model == "relu":
            da = torch.ops.aten.threshold_backward(dh, hs[layer + 1], 0)
        elif model == "sigmoid":
            da = torch.ops.aten.sigmoid_backward(dh, hs[layer + 1])
        else:
            da = torch.ops.aten.hardsigmoid_backward(dh, pre[layer])
        w = p[2 * layer]
        # dW = da^T h (units x fan_in, a sum over the samples): oneDNN, as (h^T da)^T, only
        # for layers of 512 units or more; narrower ones `torch.mm`, which takes da^T
        # without copying it. Measured on the 2-core AMD EPYC (best of 30, 1,405 samples):
        # 100 x 100 336 us with torch.mm vs 511 us with oneDNN, 100 x 56 212 vs 306 us;
        # 1,000 x 56 2.50 vs 2.25 ms.
        if lin and w.shape[0] >= 512:
            grads[2 * layer] = torch.ops.mkldnn._linear_pointwise(
                hs[layer].t(), da.t(), None, "none", sc, "").t().contiguous()
        else:
            grads[2 * layer] = torch.mm(da.t(), hs[layer])
        grads[2 * layer + 1] = da.sum(0)
        if layer > 0:
            if lin:
                dh = torch.ops.mkldnn._linear_pointwise(da, w.t(), None, "none", sc, "")
            else:
                dh = torch.mm(da, w)
    return value, grads


def optimizer_step(p: List[Tensor], grads: List[Tensor], buf: List[Tensor],
                   sq: List[Tensor], kind: str, lr: float, mu: float, t: int,
                   consts: List[float]) -> None:
    """Update the parameters in place, update number `t` (1 for the first), by the
    formulas of `core.optimizers` (torch.optim's SGD with and without Nesterov, Adagrad,
    RMSprop and Adam), with `buf` (velocity / first moment) and `sq` (squared gradients'
    sum) zeroed before the first update (momentum's first v = mu * 0 + g = g).
    `consts` = [beta1, beta2, eps, AdaGrad's eps, RMSProp's alpha]."""
    b1, b2, eps, adagrad_eps, rms_alpha = consts[0], consts[1], consts[2], consts[3], consts[4]
    if kind == "gd":
        torch._foreach_add_(p, grads, alpha=-lr)
    elif kind == "momentum" or kind == "nesterov":
        torch._foreach_mul_(buf, mu)
        torch._foreach_add_(buf, grads)
        if kind == "nesterov":
            step = torch._foreach_add(grads, buf, alpha=mu)
            torch._foreach_add_(p, step, alpha=-lr)
        else:
            torch._foreach_add_(p, buf, alpha=-lr)
    elif kind == "adagrad" or kind == "rmsprop":
        if kind == "adagrad":
            torch._foreach_addcmul_(sq, grads, grads, 1.0)
        else:
            torch._foreach_mul_(sq, rms_alpha)
            torch._foreach_addcmul_(sq, grads, grads, 1.0 - rms_alpha)
        denom = torch._foreach_sqrt(sq)
        torch._foreach_add_(denom, adagrad_eps if kind == "adagrad" else eps)
        torch._foreach_addcdiv_(p, grads, denom, -lr)
    else:
        torch._foreach_lerp_(buf, grads, 1.0 - b1)
        torch._foreach_mul_(sq, b2)
        torch._foreach_addcmul_(sq, grads, grads, 1.0 - b2)
        c1 = 1.0 - b1 ** t
        c2 = math.sqrt(1.0 - b2 ** t)
        denom = torch._foreach_sqrt(sq)
        torch._foreach_div_(denom, c2)
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(p, buf, denom, -lr / c1)


def train_updates(p: List[Tensor], buf: List[Tensor], sq: List[Tensor],
                  xs: List[Tensor], ys: List[Tensor], pos: int, batch: int,
                  n: int, model: str, loss: str, lin: bool, kind: str, lr: float,
                  mu: float, t: int, consts: List[float], first_loss: float,
                  first_grads: List[Tensor], track: List[int],
                  traj: Tensor, ahead: bool
                  ) -> Tuple[int, float, int, int, float, List[Tensor]]:
    """Up to `n` updates; stops after one whose batch loss was not finite.

    Data: `xs[0]`, `ys[0]` is the current epoch's (shuffled) copy, `xs[1:]` the next
    epochs' in order; `batch` 0 means the full batch. `pos` is the batch index within the
    epoch; an epoch ends after `ceil(N / batch)` batches. `first_grads` (with
    `first_loss`), when not empty, is the first update's pass made earlier (a snapshot's).
    `track` = [tensor, flat index, tensor, flat index]: those two parameters after each
    update go to row k of `traj`. `t` is the optimizer's update count before the chunk;
    `consts` as `optimizer_step` takes them. With `ahead` (the full batch only) the
    chunk ends with the next update's pass at the parameters it leaves: the training loss
    the trainer checks after a chunk and the gradient a snapshot shows, which the next
    chunk takes as its `first_grads`; made here, they cost no second call from Python
    (measured in the app, 3 x 100 ReLU, 3 runs each: CPU time an update 3.87-3.99 ->
    3.62-3.89 ms; the worker's waits for the GIL did not change measurably).
    Returns (updates taken, the last batch loss, the epoch index in `xs`, `pos`, the pass
    ahead's loss and gradients, or nan and [] without one).
    """
    none: List[Tensor] = []
    epoch = 0
    value = first_loss
    n_rows = xs[0].shape[0]
    per_epoch = (n_rows + batch - 1) // batch if batch > 0 else 1
    for k in range(n):
        if k == 0 and len(first_grads) > 0:
            grads = first_grads
        else:
            if batch > 0:
                lo = pos * batch
                value, grads = grad_pass(p, xs[epoch][lo:lo + batch],
                                         ys[epoch][lo:lo + batch], model, loss, lin)
            else:
                value, grads = grad_pass(p, xs[0], ys[0], model, loss, lin)
        optimizer_step(p, grads, buf, sq, kind, lr, mu, t + k + 1, consts)
        if batch > 0:
            pos += 1
            if pos == per_epoch:
                epoch += 1
                pos = 0
        if len(track) == 4:
            traj[k, 0] = p[track[0]].view(-1)[track[1]]
            traj[k, 1] = p[track[2]].view(-1)[track[3]]
        if not math.isfinite(value):
            return k + 1, value, epoch, pos, math.nan, none
    if ahead and batch == 0:
        next_value, next_grads = grad_pass(p, xs[0], ys[0], model, loss, lin)
        return n, value, epoch, pos, next_value, next_grads
    return n, value, epoch, pos, math.nan, none


@functools.cache
def compiled() -> tuple[Any, Any, bool]:
    """(grad_pass, train_updates, gil_free): TorchScript's versions (compiled once, ~0.1 s,
    at the first network run), or where it cannot compile them (a build without oneDNN's
    linear kernel or without TorchScript) the same functions in Python."""
    try:
        with warnings.catch_warnings():   # torch 2.9+ calls TorchScript deprecated; it works
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.script(grad_pass), torch.jit.script(train_updates), True
    except Exception:  # no TorchScript, or an op this build lacks: the same code in Python
        return grad_pass, train_updates, False
