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

The arithmetic is `core.net_engine`'s: ``torch.addmm`` / ``torch.mm`` or oneDNN's linear
kernel (`lin`, where it is faster), each activation's backward as autograd computes it
(a one-layer network's in a cheaper order, the same to float32 rounding), and the
optimizers of `core.optimizers` (torch.optim's formulas; Adam its fused kernel).
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, List, NamedTuple, Optional, Tuple, Union

import torch
from torch import Tensor

from core.optimizers import KERNEL_CONSTS

# TorchScript reads these annotations: it knows typing's List / Tuple / Optional, not
# PEP 604 unions or builtin generics in every torch version.


def onednn_pays(rows: int, fan_in: int, units: int, grad: bool = True) -> bool:
    """Whether oneDNN's linear kernel beats ``linear`` (an addmm) for a layer's forward
    product, `rows` samples of `fan_in` values into `units` units. oneDNN costs ~20 us a
    call whatever the size, so it loses on mini-batches and on one unit; on the full batch
    it wins for wide layers and for skinny ones (a few units on several inputs, where the
    BLAS is slow), and loses in between. Measured on the 2-core AMD EPYC, 1 thread, best of
    7, us a call with the ReLU (oneDNN's fused / linear + relu_), 1,460 rows: 1 -> 1 unit
    21 / 4, 1 -> 10 20 / 17, 7 -> 10 22 / 47, 56 -> 10 44 / 83, 56 -> 30 70 / 103,
    7 -> 30 26 / 22, 56 -> 64 120 / 119; 1,405 rows: 56 -> 100 206 / 191,
    100 -> 100 345 / 331, 56 -> 300 506 / 557, 1 -> 1,000 129 / 256; 128 rows:
    56 -> 100 33 / 22, 100 -> 300 94 / 88; 32 rows: 56 -> 100 22 / 9. Both give the same
    float32 numbers where both were compared (1,405 x 56 -> 10 aside, which differs in
    rounding). dh = da W follows the same cost: oneDNN for 512 rows or units and more
    (128 rows, 100 x 100 units: 44 vs 31 us).

    A layer of 512 units or more on 8 to 511 inputs takes ``linear``: oneDNN's product
    alone costs the same there, but the passes that read its output next (the outputs,
    the derivative) then run ~150-500 us slower, as if its (samples x units) output were
    no longer in cache. Measured in sequence, oneDNN / linear, the layer with the ReLU then
    h c and sign(h) in place, 1 thread, best of 11 (load ~5): 1,405 rows, 56 -> 1,000
    2,317 / 2,057 us, 14 -> 1,000 1,041 / 869, 28 -> 1,000 1,385 / 1,235, 100 -> 1,000
    3,827 / 3,349, 56 -> 512 1,091 / 1,011; oneDNN stays ahead on 1 and 7 inputs
    (1 -> 1,000 482 / 521, 7 -> 1,000 601 / 701), into 300 units (56 -> 300 603 / 645)
    and from 1,000 (1,000 -> 1,000 28.3 / 28.9 ms).

    On 1 to 7 inputs a gradient pass over 512 samples or more kept oneDNN (a 1-day
    1,000 ReLU update, one process alternating: 661 / 790 and 665 / 780 us best; one
    hidden layer now goes through the samples in blocks, `_one_layer_blocked`, with the
    kernels of a forward pass alone), but a forward pass alone
    (`grad` False: a replayed moment's predictions) takes ``linear``: a replayed moment's
    snapshot of that network 2.31 / 1.98 ms (median of 40 moments, 10 rounds). The two
    give the same float32 numbers there (84 shapes compared, 1-7 inputs, 512-2,000 units,
    512-1,825 rows; tests/core/test_net_engine.py checks it), so a replayed moment still
    shows the live run's predictions."""
    if rows < 512:
        return False
    if units >= 512 and fan_in < 512 and (fan_in >= 8 or not grad):
        return False
    skinny = fan_in > 1 and (2 <= units <= 10 or (11 <= units <= 30 and fan_in > 7))
    return units >= 200 or skinny


def weight_grad(da: Tensor, h: Tensor, lin: bool) -> Tensor:
    """dW = da^T h (units x fan_in, a sum over the samples): oneDNN, as (h^T da)^T, only
    for layers of 512 units or more; narrower ones `torch.mm`, which takes da^T without
    copying it. Measured on the 2-core AMD EPYC (best of 5, 1,405 samples): 100 x 56
    187 us with torch.mm vs 241 us with oneDNN, 100 x 100 320 vs 410 us; 1,000 x 56 2.20
    vs 1.64 ms."""
    sc: List[Optional[Union[float, int, complex]]] = []
    if lin and da.shape[1] >= 512:
        return torch.ops.mkldnn._linear_pointwise(h.t(), da.t(), None, "none", sc,
                                                  "").t().contiguous()
    return torch.mm(da.t(), h)


def back_product(da: Tensor, w: Tensor, lin: bool) -> Tensor:
    """da W, the gradient for the layer below: oneDNN for layers of 512 units or more,
    else `torch.mm` (128 samples, 100 x 100 units: 44 vs 31 us). On the full batch the
    two cost the same alone, but the passes after it read MKL's output faster: 1,405
    samples, 100 x 100 units, dh = da W then the ReLU's backward in place, da^T h and
    da.sum(0), best / median of 21 (load ~4): oneDNN 712 / 730 us, torch.mm 689 / 697 us;
    the same numbers (torch.equal)."""
    sc: List[Optional[Union[float, int, complex]]] = []
    if lin and w.shape[0] >= 512:
        return torch.ops.mkldnn._linear_pointwise(da, w.t(), None, "none", sc, "")
    return torch.mm(da, w)


def hidden_layers(p: List[Tensor], x: Tensor, model: str, lin: bool, grad: bool = True
                  ) -> Tuple[List[Tensor], List[Tensor]]:
    """The forward pass through the hidden layers: every layer's input and the last
    layer's output (`hs` = [x, h1, ..., hL]) and, for the hard sigmoid, whose backward
    needs them, the activations' inputs (`pre`). Each product is ``torch.mm`` with the
    bias added after it in place (the ReLU's in the same pass, ``_add_relu_``) or, with
    `lin` where `onednn_pays`, oneDNN's linear kernel, which adds its bias after the
    product too: the same float32 numbers (``linear``, an addmm that starts from the bias,
    gave other ones on the Intel Xeon, 1 input into 600 units). Not ``linear``: its
    addmm copies the bias into every row first, a pass that cost ~77 us a call in the
    update (1,405 x 100 -> 100, torch profiler, 2-core Intel Xeon; alone, alternating,
    best of 9: linear + relu_ 245 us, mm + add_ + relu_ 235 us); TorchScript splits a
    torch.addmm into mm + add anyway. The gradient pass and `outputs` share it, so the predictions a
    snapshot shows are the numbers the update's own pass computed (`grad` False, a forward
    pass alone, picks its kernels as `onednn_pays` says: where it differs, the numbers are
    the same)."""
    layers = (len(p) - 2) // 2
    sc: List[Optional[Union[float, int, complex]]] = []
    hs: List[Tensor] = [x]
    pre: List[Tensor] = []
    h = x
    for layer in range(layers):
        w, b = p[2 * layer], p[2 * layer + 1]
        onednn = lin and onednn_pays(h.shape[0], h.shape[1], w.shape[0], grad)
        if onednn and model == "relu":
            h = torch.ops.mkldnn._linear_pointwise(h, w, b, "relu", sc, "")
        else:
            if onednn:
                a = torch.ops.mkldnn._linear_pointwise(h, w, b, "none", sc, "")
            else:
                a = torch.mm(h, w.t())
                if model != "relu":
                    a.add_(b)
            if model == "hard-sigmoid":   # its backward needs the input
                pre.append(a)
                h = torch.nn.functional.hardsigmoid(a)
            elif model == "relu":
                h = torch.relu_(a) if onednn else torch.ops.aten._add_relu_(a, b)
            else:
                h = torch.sigmoid_(a)
        hs.append(h)
    return hs, pre


def _wide_layer(x: Tensor, wt: Tensor, b: Tensor, model: str
                ) -> Tuple[Tensor, List[Tensor]]:
    """One hidden layer of 512 units or more on a block of samples (`outputs` and
    `_one_layer_blocked`, so the two give the same numbers): its output and, for the hard
    sigmoid, the activation's input. `wt` is W^T made contiguous once a pass: MKL's
    product of a block with it beats the one with W's transposed view (2-core Intel Xeon,
    128 x 56 -> 1,000, alternating, best of 7: 90 vs 101 us; the same float32 numbers on
    every shape compared, 1-300 inputs into 512-2,000 units)."""
    a = torch.mm(x, wt)
    pre: List[Tensor] = []
    if model == "relu":
        return torch.ops.aten._add_relu_(a, b), pre
    a.add_(b)
    if model == "hard-sigmoid":
        pre.append(a)
        return torch.nn.functional.hardsigmoid(a), pre
    return torch.sigmoid_(a), pre


def _narrow_layer(xt: Tensor, w: Tensor, b: Tensor, model: str
                  ) -> Tuple[Tensor, List[Tensor]]:
    """One hidden layer of 20 to 300 units (`outputs` and `_narrow_one_layer`, so the two
    give the same numbers), transposed: its (units x samples) output from
    [W, b] [x, 1]^T, `xt` being [x, 1]^T contiguous, and, for the hard sigmoid, the
    activation's input. The bias rides in the product (no pass adding it) and MKL's
    product in this layout is the faster one (2-core Intel Xeon, 1,405 x 56 -> 100,
    alternating, best of 9: 101 vs 118 us for x W^T)."""
    a = torch.mm(torch.cat([w, b.unsqueeze(1)], 1), xt)
    pre: List[Tensor] = []
    if model == "relu":
        return a.relu_(), pre
    if model == "hard-sigmoid":
        pre.append(a)
        return torch.nn.functional.hardsigmoid(a), pre
    return torch.sigmoid_(a), pre


def outputs(p: List[Tensor], x: Tensor, model: str, lin: bool, block: int = 128
            ) -> Tensor:
    """The network's float32 outputs on x (call under no_grad): the forward pass of
    `grad_pass` (`hidden_layers`, or `_wide_layer` block by block), so its numbers are
    the pass's to the bit.

    One hidden layer of 512 units or more on fewer than 512 inputs goes through the
    samples in blocks of `block` (128 x 1,000 float32 activations: 512 KB, half of the
    2-core AMD EPYC's L2), as the gradient pass does (`_one_layer_blocked`): each block's
    activations are summed into its outputs while in cache, not written out whole and
    read back. Each sample's numbers are the same (the products and
    sums of its own row; tests/core/test_net_engine.py compares them with the gradient
    pass's). A replayed moment of a 1-day 1,000 ReLU network, its 1,460 training samples,
    best / median of 15: 652 / 735 us whole, 522 / 558 us in blocks of 128 (blocks of 256
    or 512: no gain)."""
    layers = (len(p) - 2) // 2
    n, units = x.shape[0], p[0].shape[0]
    if layers == 1 and 20 <= units <= 300 and x.shape[1] < 512:
        xt = torch.cat([x.t(), torch.ones(1, n, dtype=x.dtype)], 0)
        h, _ = _narrow_layer(xt, p[0], p[1], model)
        return torch.addmv(p[-1], h.t(), p[-2])
    if layers == 1 and units >= 512 and x.shape[1] < 512:
        out = torch.empty(n, dtype=x.dtype)
        wt = p[0].t().contiguous()
        for lo in range(0, n, block):
            h, _ = _wide_layer(x[lo:lo + block], wt, p[1], model)
            torch.addmv(p[-1], h, p[-2], out=out[lo:lo + block])
        return out
    hs, _ = hidden_layers(p, x, model, lin, False)
    return torch.addmv(p[-1], hs[-1], p[-2])


def with_ones(x: Tensor) -> Tensor:
    """x with a column of ones beside it, then zero columns up to a multiple of 8: the
    right side of a one-layer network's gradient product (`_one_layer_grads`,
    (d * e)^T [x, 1, 0] = d^T [x * e, e, 0]). The zeros keep MKL's sgemm on its fast
    path: 1,405 samples, 100 units, d^T [x * e, e] with 57 columns 230 us, with 64
    193 us, without the e column 189 us (best of 9)."""
    nb, fan_in = x.shape[0], x.shape[1]
    xa = torch.zeros(nb, (fan_in + 8) // 8 * 8, dtype=x.dtype)
    xa[:, :fan_in] = x
    xa[:, fan_in] = 1.0
    return xa


def _one_layer_grads(p: List[Tensor], x: Tensor, e: Tensor, h: Tensor, pre: List[Tensor],
                     model: str, lin: bool, xa: Optional[Tensor], xat: Optional[Tensor],
                     grads: List[Tensor]) -> List[Tensor]:
    """`grads` with a one-hidden-layer network's gradients filled in, from the outputs'
    error `e` (dloss/dout) and the hidden layer's output `h`, which d, the activation's
    derivative, overwrites: dW = c * (d^T (x * e)) and db = c * (d^T e), both from one
    product d^T [x * e, e] (the bias's through a column of e, not a matrix-vector
    product of its own over d), taken on the full batch as (d * e)^T [x, 1]: d * e is
    the activation's backward with e as its incoming gradient, written in h's place in
    the one pass that made d alone before, and the product reads the kept [x, 1] as it
    is, no x * e made each update. Measured on the 2-core Intel Xeon (AVX-512), one
    process alternating with the x * e version, 7 rounds, load ~2.3 (Trainer.run, best
    us an update): 56 days, 100 ReLU 606 -> 488, 100 sigmoid 609 -> 565, 1,000 ReLU
    5,553 -> 4,652 (with the forward's mm + bias of `hidden_layers`); the ReLU's numbers
    are the same (d is 0 or 1), the sigmoid's differ in float32 rounding. `xa` is
    `with_ones(x)` and `xat` its first fan_in + 1 columns transposed, contiguous, both
    kept by the caller for the full batch; without them (a mini-batch) d^T (x * e) and
    d^T e are two products. For the ReLU,
    c's gradient h^T e comes from the same products: h = d * (x W^T + b), so
    h^T e = rowsum(W * (d^T (x * e))) + b * (d^T e), no pass over h (each unit's sum
    over the samples in another order: it differs from autograd's in float32 rounding).

    Layers of 512 units or more take oneDNN's product as [x, 1]^T (d * e), from the
    transposed `xat` (given x * e, oneDNN copied its transpose first, ~80 us); narrower
    ones MKL's (d * e)^T [x, 1, 0]. Measured on the 2-core AMD EPYC, 1,405 samples x 56
    inputs, 1,000 units, one thread, best of 9: the product 1,474 us against 1,557 us
    without the e column, whose d^T e cost another ~100-190 us (one more pass over d)."""
    w, c = p[0], p[-2]
    fan_in, units = x.shape[1], w.shape[0]
    full = xa is not None and xat is not None and units >= 20
    # c's gradient from the products needs them joined (the kept full batch, ReLU);
    # else h^T e is taken before d overwrites h
    hte: Optional[Tensor] = None if full and model == "relu" else torch.mv(h.t(), e)
    sc: List[Optional[Union[float, int, complex]]] = []
    if not full or xa is None or xat is None:
        # Not the kept full batch (a mini-batch) or under 20 units: the products apart,
        # as few calls as can be: there the calls cost more than the passes over d and h
        # they save (Trainer.run, one process alternating, best us an update, apart /
        # joined: 56 days, 100 ReLU units, batches of 64 107 / 123; full batches: 1 day
        # 1 ReLU 53 / 58, 3 sigmoids 65 / 77, 56 days 10 ReLU 187 / 201; joined ahead
        # from 30 units: 7 days 30 ReLU 188 / 170)
        # d in h's place: no new (samples x units) array for it, written where h is in cache
        if model == "relu":
            d = h.sign_()                  # 1 where a unit is on, 0 where off (h >= 0)
        elif model == "sigmoid":
            d = h.addcmul_(h, h, value=-1.0)   # s - s^2
        else:
            d = torch.ops.aten.hardsigmoid_backward(torch.ones_like(pre[0]), pre[0])
        xe = x * e.unsqueeze(1)
        if lin and units >= 512:
            gw = torch.ops.mkldnn._linear_pointwise(xe.t(), d.t(), None, "none", sc,
                                                    "").t().contiguous()
        else:
            gw = torch.mm(d.t(), xe)
        grads[0] = gw.mul_(c.unsqueeze(1))
        grads[1] = torch.mv(d.t(), e).mul_(c)
        assert hte is not None   # taken above: not the joined products
        grads[-2] = hte
        return grads
    # d * e in h's place, the activation's backward with the error as its incoming
    # gradient (broadcast over the units): one pass over h, which is in cache, and the
    # product then takes x beside ones as kept, not a pass making x * e
    eu = e.unsqueeze(1)
    de = activation_backward(eu, h, pre, 0, model, h)
    if lin and units >= 512:
        m = torch.ops.mkldnn._linear_pointwise(xat, de.t(), None, "none", sc, "")
        # one transposing copy, then contiguous passes (1,000 units: 65 vs 87 us for
        # reading the transposed view twice)
        mw, md = m[:fan_in].t().contiguous(), m[fan_in]
    else:
        m = torch.mm(de.t(), xa)
        mw, md = m[:, :fan_in], m[:, fan_in]
    grads[0] = torch.mul(mw, c.unsqueeze(1), out=torch.empty(units, fan_in, dtype=x.dtype))
    grads[1] = md * c
    grads[-2] = torch.addcmul((w * mw).sum(1), p[1], md) if hte is None else hte
    return grads


def _one_layer_blocked(p: List[Tensor], x: Tensor, y: Tensor, model: str, loss: str,
                       xa: Tensor, block: int = 128
                       ) -> Tuple[float, List[Tensor], Tensor]:
    """`grad_pass` for one hidden layer of 512 units or more on fewer than 512 inputs,
    the full batch: block by block of `block` samples, the forward pass `outputs` makes
    (the same kernels, so the same float32 outputs), each block's error and loss, and
    d * e in place of its activations while they are in cache (128 x 1,000 float32:
    512 KB), summed into m = (d * e)^T [x, 1] by one product a block; then
    `_one_layer_grads`' gradients from m. Whole, the (samples x units) activations
    (5.6 MB for 1,405 x 1,000) went out to memory and were read back by each pass after
    the product (bias and ReLU, outputs, d * e, the weight gradient's product).

    Measured on the 2-core Intel Xeon, Trainer.run in one process alternating with the
    whole pass (oneDNN's fused product on 1-7 inputs, else mm + bias + ReLU; oneDNN's
    [x, 1]^T (d * e)), 7-9 rounds, load ~2.7-3.0, best / median us an update: 56 days,
    1,000 ReLU 4,432 / 4,761 -> 3,721 / 4,130 (pairs 0.87); 1 day 2,585 / 3,103 ->
    1,506 / 1,823 (0.63); 7 days 2,409 / 2,798 -> 1,699 / 1,765 (0.62); 56 days
    1,000 sigmoid 5,181 / 5,408 -> 4,375 / 4,571 (0.85), 600 ReLU 2,473 / 2,738 ->
    2,211 / 2,311 (0.82). Blocks of 256: the same as 128 (pairs 0.88); the blocks' d * e
    written into one (samples x units) array and one product over it: 1.7x slower. The
    weight gradients sum the samples block by block (float32 rounding apart from the
    whole pass's); the loss is the blocks' sum."""
    w, b, c = p[0], p[1], p[-2]
    n, fan_in, units = x.shape[0], x.shape[1], w.shape[0]
    out = torch.empty(n, dtype=x.dtype)
    e_all = torch.empty(n, dtype=x.dtype)
    m = torch.zeros(units, xa.shape[1], dtype=x.dtype)
    hte: Optional[Tensor] = None if model == "relu" else torch.zeros(units, dtype=x.dtype)
    value = 0.0
    wt = w.t().contiguous()
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        h, pre = _wide_layer(x[lo:hi], wt, b, model)
        ob = torch.addmv(p[-1], h, c, out=out[lo:hi])
        r = torch.sub(ob, y[lo:hi])
        eb = e_all[lo:hi]
        if loss == "mae":
            torch.sign(r, out=eb)
            value += float(torch.dot(r, eb))
            eb.mul_(1.0 / n)
        else:
            value += float(torch.dot(r, r))
            torch.mul(r, 2.0 / n, out=eb)
        if hte is not None:
            hte.addmv_(h.t(), eb)
        eu = eb.unsqueeze(1)
        de = activation_backward(eu, h, pre, 0, model, h)
        m.addmm_(de.t(), xa[lo:hi])
    mw, md = m[:, :fan_in], m[:, fan_in]
    grads: List[Tensor] = [e_all] * len(p)
    grads[-1] = e_all.sum()
    grads[0] = torch.mul(mw, c.unsqueeze(1), out=torch.empty(units, fan_in, dtype=x.dtype))
    grads[1] = md * c
    grads[-2] = torch.addcmul((w * mw).sum(1), b, md) if hte is None else hte
    return value / n, grads, out


def _narrow_one_layer(p: List[Tensor], y: Tensor, model: str, loss: str, xa: Tensor,
                      xat: Tensor) -> Tuple[float, List[Tensor], Tensor]:
    """`grad_pass` for one hidden layer of 20 to 300 units on fewer than 512 inputs, the
    full batch, in the transposed layout of `_narrow_layer`: (units x samples)
    activations, d * e in their place (e broadcast along the samples, the contiguous
    dimension) and m = (d * e) [x, 1, 0] by MKL's plain product; then
    `_one_layer_grads`' gradients from m.

    Measured on the 2-core Intel Xeon, Trainer.run in one process alternating with the
    (samples x units) pass (mm, the bias added, or oneDNN's product from 200 units),
    9-11 rounds, load ~7.5-8, best us an update (median of pairs): 56 days, 100 sigmoid
    496 -> 452 (0.91), 100 ReLU 436 -> 406 (0.94), 100 hard sigmoids 449 -> 420 (0.92),
    20 ReLU 195 -> 131 (0.69), 200 ReLU 723 -> 691 (0.96), 300 ReLU 1,087 -> 1,061
    (0.96); 1 day 100 ReLU 191 -> 179 (0.91); 7 days 30 ReLU 144 -> 113 (0.79), 30
    sigmoids 140 -> 114 (0.83). Not above 300 units: 400 ReLU 1,598 -> 1,665 (1.05),
    500 ReLU 1.00, 400 sigmoids 0.99."""
    w, b, c = p[0], p[1], p[-2]
    fan_in, units = w.shape[1], w.shape[0]
    h, pre = _narrow_layer(xat, w, b, model)
    out = torch.addmv(p[-1], h.t(), c)
    value, e = output_error(out, y, loss)
    grads: List[Tensor] = [e] * len(p)
    grads[-1] = e.sum()
    hte: Optional[Tensor] = None if model == "relu" else torch.mv(h, e)
    eu = e.unsqueeze(0)
    de = activation_backward(eu, h, pre, 0, model, h)
    m = torch.mm(de, xa)
    mw, md = m[:, :fan_in], m[:, fan_in]
    grads[0] = torch.mul(mw, c.unsqueeze(1), out=torch.empty(units, fan_in, dtype=xa.dtype))
    grads[1] = md * c
    grads[-2] = torch.addcmul((w * mw).sum(1), b, md) if hte is None else hte
    return value, grads, out


def activation_backward(grad: Tensor, h: Tensor, pre: List[Tensor], layer: int, model: str,
                        into: Tensor) -> Tensor:
    """The gradient through a layer's activation, as autograd's backward computes it,
    written into `into`: `grad` the incoming gradient (broadcast where it is a row or a
    column), `h` the layer's output, `pre[layer]` its input (the hard sigmoid's backward
    needs it; the other two read the output)."""
    if model == "relu":
        return torch.ops.aten.threshold_backward(grad, h, 0, grad_input=into)
    if model == "sigmoid":
        return torch.ops.aten.sigmoid_backward(grad, h, grad_input=into)
    return torch.ops.aten.hardsigmoid_backward(grad, pre[layer], grad_input=into)


def output_error(out: Tensor, y: Tensor, loss: str) -> Tuple[float, Tensor]:
    """The batch loss and its gradient with respect to the outputs, e = dL/d out (MAE:
    sign(r) / n, made in place of a new tensor; MSE: 2 r / n in r's place)."""
    r = torch.sub(out, y)
    nb = r.shape[0]
    if loss == "mae":
        e = torch.sign(r)
        value = float(torch.dot(r, e)) / nb
        e.mul_(1.0 / nb)
    else:
        value = float(torch.dot(r, r)) / nb
        e = r.mul_(2.0 / nb)
    return value, e


def grad_pass(p: List[Tensor], x: Tensor, y: Tensor, model: str, loss: str,
              lin: bool, xa: Optional[Tensor] = None, xat: Optional[Tensor] = None
              ) -> Tuple[float, List[Tensor], Tensor]:
    """The batch loss, every parameter's gradient and the outputs on x (call under
    no_grad): the numbers of autograd on the forward pass and the loss, without building a
    graph.

    `p` = [W1, b1, ..., WL, bL, c, b]. The forward pass is `hidden_layers`'; dh = da W
    takes oneDNN or ``torch.mm`` as `back_product` says. The weight gradients of layers of
    512 units or more are oneDNN's with `lin` (they differ from autograd's only in float32
    rounding, a sum over the samples in another order); else `torch.mm`. The outputs come
    back so a snapshot taken at these parameters shows them without a second forward pass.
    """
    layers = (len(p) - 2) // 2
    if layers == 1 and xa is not None and p[0].shape[0] >= 512 and x.shape[1] < 512:
        return _one_layer_blocked(p, x, y, model, loss, xa)
    if (layers == 1 and xa is not None and xat is not None and 20 <= p[0].shape[0] <= 300
            and x.shape[1] < 512):
        return _narrow_one_layer(p, y, model, loss, xa, xat)
    hs, pre = hidden_layers(p, x, model, lin)
    h = hs[-1]
    out = torch.addmv(p[-1], h, p[-2])
    value, e = output_error(out, y, loss)
    grads: List[Tensor] = [e] * len(p)
    c = p[-2]
    grads[-1] = e.sum()
    # A network of one hidden layer: its dh = e c^T has rank one, so da = d * (e c^T),
    # with d the activation's derivative, is never formed: dW = c * (d^T (e * x)) and
    # db = c * (d^T e). One pass over the (samples x units) d instead of three (the outer
    # product, the activation's backward, the sum for db). Measured on the 2-core AMD
    # EPYC, the backward of 1,405 samples x 1,000 units: 3.04 -> 2.43 ms (100 units: the
    # same, the passes stay in cache). Deeper networks need da for the layer below: there
    # the same trick was 0-3 % slower (3 and 4 x 100 units).
    if layers == 1:
        return value, _one_layer_grads(p, x, e, h, pre, model, lin, xa, xat, grads), out
    grads[-2] = torch.mv(h.t(), e)
    dh = e.unsqueeze(1)
    for layer in range(layers - 1, -1, -1):
        # The top layer's dh = e c^T is never formed: its da = d * (e c^T) is the
        # activation's backward with e broadcast as the incoming gradient, then scaled by
        # c, both in place of h (not used after it), which is in cache
        top = layer == layers - 1
        into = hs[layer + 1] if top else dh
        da = activation_backward(dh, hs[layer + 1], pre, layer, model, into)
        if top:
            da.mul_(c)
        grads[2 * layer] = weight_grad(da, hs[layer], lin)
        grads[2 * layer + 1] = da.sum(0)
        if layer > 0:
            dh = back_product(da, p[2 * layer], lin)
    return value, grads, out


def optimizer_step(p: List[Tensor], grads: List[Tensor], buf: List[Tensor],
                   sq: List[Tensor], kind: str, lr: float, mu: float, t: int,
                   consts: List[float], fused: bool) -> None:
    """Update the parameters in place, update number `t` (1 for the first), by the
    formulas of `core.optimizers` (torch.optim's SGD with and without Nesterov, Adagrad,
    RMSprop and Adam), with `buf` (velocity / first moment) and `sq` (squared gradients'
    sum) zeroed before the first update (momentum's first v = mu * 0 + g = g).
    `consts` = [beta1, beta2, eps, AdaGrad's eps, RMSProp's alpha].

    With `fused` (where `fused_adam_works()`), Adam is torch.optim's own fused kernel
    (`Adam(fused=True)`): one call for every tensor, against seven ``_foreach`` calls that
    CPU torch runs as a loop over the tensors. Measured on the 2-core AMD EPYC, a 100-unit
    network's four tensors: 46 -> 5.7 us a step, 7 % of a 56-day update. Its numbers
    differ from the ``_foreach`` formula's in float32 rounding only (1-4 ulp after 500
    steps)."""
    b1, b2, eps, adagrad_eps, rms_alpha = consts[0], consts[1], consts[2], consts[3], consts[4]
    if kind == "adam" and fused:
        steps = [torch.full([], float(t))] * len(p)
        no_max: List[Tensor] = []   # amsgrad's maxima: none
        torch._fused_adam_(p, grads, buf, sq, no_max, steps, lr=lr, beta1=b1, beta2=b2,
                           weight_decay=0.0, eps=eps, amsgrad=False, maximize=False)
    elif kind == "gd":
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
                  traj: Tensor, ahead: bool, fused: bool,
                  xa: Optional[Tensor] = None, xat: Optional[Tensor] = None,
                  xu: Optional[Tensor] = None, yu: Optional[Tensor] = None,
                  unseen_end: bool = True, cuts: Optional[List[int]] = None,
                  at_history: Optional[List[bool]] = None, limits: Optional[List[float]] = None,
                  rows: Optional[Tensor] = None, cut_losses: Optional[Tensor] = None
                  ) -> Tuple[int, float, int, int, float, List[Tensor], Optional[Tensor],
                             Optional[Tensor], float, int]:
    """Up to `n` updates; stops after one whose batch loss was not finite.

    Data: `xs[0]`, `ys[0]` is the current epoch's (shuffled) copy, `xs[1:]` the next
    epochs' in order; `batch` 0 means the full batch. `pos` is the batch index within the
    epoch; an epoch ends after `ceil(N / batch)` batches. `first_grads` (with
    `first_loss`), when not empty, is the first update's pass made earlier (a snapshot's).
    `track` = [tensor, flat index, tensor, flat index]: those two parameters after each
    update go to row k of `traj`. `t` is the optimizer's update count before the chunk;
    `consts` and `fused` as `optimizer_step` takes them; `xa`, `xat` (the full batch
    only) as `grad_pass` takes them. With `ahead` (the full batch only) the
    chunk ends with the next update's pass at the parameters it leaves: the training loss
    the trainer checks after a chunk and the gradient a snapshot shows, which the next
    chunk takes as its `first_grads`; made here, they cost no second call from Python
    (measured in the app, 3 x 100 ReLU, 3 runs each: CPU time an update 3.87-3.99 ->
    3.62-3.89 ms; the worker's waits for the GIL did not change measurably). With the
    pass ahead, `xu` (the unseen samples, labels `yu`) gets the outputs and the loss at
    those parameters too: the loss history's unseen point and a snapshot's unseen
    predictions. Made here, the outputs and loss cost less than a third of the same made
    from Python after the chunk (100 sigmoid units on 56 days, 365 samples: ~120 vs
    ~335 us with the loss, the parameters and data no longer in cache then).
    With the pass ahead, the outputs on `xu` are made at the end only if `unseen_end`.

    `cuts` (the full batch only): the updates, counted from the call's start and before
    `n`, after which the trainer's chunks of updates end (its history points every 16
    updates, its divergence checks), so one call covers several of them; each call
    into TorchScript and its Python around it cost a 100-unit network's chunk ~150 us
    (see `core.engine.Trainer.run`). After cut j the call does what the trainer did
    between two calls, with the same numbers: the parameters to `rows[j]` (its moment),
    the next update's pass made there (as a call's pass ahead, taken as the next
    update's gradients), `cut_losses[j]` = the training loss the trainer reads there
    (that pass's loss at a history point, `at_history[j]`, else the last batch loss) and
    the loss on `xu` at a history point (else nan), and the trainer's divergence test:
    the tracked pair's largest magnitude since the previous cut over `limits[0]` or not
    finite, or that training loss not finite or over `limits[1]`. Where it fails, the
    call ends there as a call of that many updates would (its pass ahead, its outputs on
    `xu` at a history point), for the trainer to find it so.

    Returns (updates taken, the last batch loss, the epoch index in `xs`, `pos`, the pass
    ahead's loss, gradients and outputs on the training samples (the predictions a
    snapshot shows), or nan, [] and None without one, the outputs and loss on `xu`,
    or None and nan, and the cuts passed).
    """
    none: List[Tensor] = []
    epoch = 0
    value = first_loss
    n_rows = xs[0].shape[0]
    per_epoch = (n_rows + batch - 1) // batch if batch > 0 else 1
    fn = torch.nn.functional
    cut_at: List[int] = [] if cuts is None or batch > 0 else cuts
    hist_at: List[bool] = [] if at_history is None else at_history
    lim: List[float] = [math.inf, math.inf] if limits is None else limits
    j = 0            # the next cut
    since = 0        # the first row of traj since the last cut
    ahead_grads = first_grads
    for k in range(n):
        if (k == 0 and len(first_grads) > 0) or (k > 0 and since == k and len(cut_at) > 0):
            grads = ahead_grads
        else:
            if batch > 0:
                lo = pos * batch
                value, grads, _ = grad_pass(p, xs[epoch][lo:lo + batch],
                                            ys[epoch][lo:lo + batch], model, loss, lin)
            else:
                value, grads, _ = grad_pass(p, xs[0], ys[0], model, loss, lin, xa, xat)
        optimizer_step(p, grads, buf, sq, kind, lr, mu, t + k + 1, consts, fused)
        if batch > 0:
            pos += 1
            if pos == per_epoch:
                epoch += 1
                pos = 0
        if len(track) == 4:
            traj[k, 0] = p[track[0]].view(-1)[track[1]]
            traj[k, 1] = p[track[2]].view(-1)[track[3]]
        if not math.isfinite(value):
            return k + 1, value, epoch, pos, math.nan, none, None, None, math.nan, j
        if j < len(cut_at) and k + 1 == cut_at[j]:
            if rows is not None:
                rows[j] = torch.cat([q.reshape(-1) for q in p])
            next_value, ahead_grads, next_out = grad_pass(p, xs[0], ys[0], model, loss,
                                                          lin, xa, xat)
            train = next_value if hist_at[j] else value
            cut_u: Optional[Tensor] = None
            cut_value_u = math.nan
            if hist_at[j] and xu is not None and yu is not None:
                cut_u = outputs(p, xu, model, lin)
                cut_value_u = float(fn.l1_loss(cut_u, yu) if loss == "mae"
                                    else fn.mse_loss(cut_u, yu))
            if cut_losses is not None:
                # fill_ keeps the float64 (TorchScript's `t[i] = x` and torch.tensor(x)
                # go through float32)
                cut_losses[j, 0].fill_(train)
                cut_losses[j, 1].fill_(cut_value_u)
            swing = float(traj[since:k + 1].abs().max()) if len(track) == 4 else 0.0
            if not (math.isfinite(swing) and swing <= lim[0] and math.isfinite(train)
                    and train <= lim[1]):
                return (k + 1, value, epoch, pos, next_value, ahead_grads, next_out, cut_u,
                        cut_value_u, j)
            value = next_value
            j += 1
            since = k + 1
    if ahead and batch == 0:
        next_value, next_grads, next_out = grad_pass(p, xs[0], ys[0], model, loss, lin, xa, xat)
        out_u: Optional[Tensor] = None
        value_u = math.nan
        if unseen_end and xu is not None and yu is not None:
            out_u = outputs(p, xu, model, lin)
            value_u = float(fn.l1_loss(out_u, yu) if loss == "mae" else fn.mse_loss(out_u, yu))
        return n, value, epoch, pos, next_value, next_grads, next_out, out_u, value_u, j
    return n, value, epoch, pos, math.nan, none, None, None, math.nan, j


@functools.cache
def fused_adam_works() -> bool:
    """Whether this torch build runs torch.optim's fused Adam kernel on the CPU (torch 2.4
    and later) and it takes the step `optimizer_step`'s formula takes, to float32 rounding;
    elsewhere Adam stays the ``_foreach`` formula."""
    try:
        p = [torch.tensor([0.5, -1.0, 2.0])]
        g = [torch.tensor([0.1, -0.2, 0.3])]
        ref = [p[0].clone()]
        state = [[torch.zeros(3)] for _ in range(4)]
        optimizer_step(p, g, state[0], state[1], "adam", 0.1, 0.0, 1, KERNEL_CONSTS, True)
        optimizer_step(ref, g, state[2], state[3], "adam", 0.1, 0.0, 1, KERNEL_CONSTS,
                       False)
        return bool(torch.allclose(p[0], ref[0], rtol=1e-6, atol=1e-7))
    except Exception:  # no such kernel, or not for the CPU in this build
        return False


class Kernels(NamedTuple):
    """A network's compiled functions; `gil_free`: calling them releases the GIL (the
    TorchScript interpreter does; the Python fallback holds it)."""

    grad_pass: Any
    train_updates: Any
    outputs: Any
    gil_free: bool


@functools.cache
def compiled() -> Kernels:
    """TorchScript's versions of `grad_pass`, `train_updates` and `outputs` (compiled
    once, ~0.1 s, at the first network run), or where it cannot compile them (a build
    without oneDNN's linear kernel or without TorchScript) the same functions in Python."""
    try:
        with warnings.catch_warnings():   # torch 2.9+ calls TorchScript deprecated; it works
            warnings.simplefilter("ignore", DeprecationWarning)
            return Kernels(torch.jit.script(grad_pass), torch.jit.script(train_updates),
                           torch.jit.script(outputs), True)
    except Exception:  # no TorchScript, or an op this build lacks: the same code in Python
        return Kernels(grad_pass, train_updates, outputs, False)
