"""One-hidden-layer networks' losses over many points of a plane, in one compiled call.

For one hidden layer the whole network is linear in the plane's coordinates except the
activation: the pre-activation is Z0 + t1 Z1 + t2 Z2 (three products made once, see
`core.landscape`) and the output weights are c0 + t1 c1 + t2 c2. A point's loss is then
one pass over N x K numbers with no matrix product at all, so batching it through torch
(a (B, 3) x (3, N K) product, an activation, a (B N, K) x (K, 3) product) spends its time
writing and reading intermediates. Fused here, the pass reads the three Z's once per
point, vectorized over the samples, in float64 (the Z's are the float32 products torch
made). Measured on 41 x 41 planes (one torch thread, load 2.6): 1 x 10 ReLU on 7 days
9 ms against 64 ms for the torch batches, 1 x 100 ReLU on 56 days 61-76 ms against
550-690 ms; the same within 3e-7 relative. Sigmoid is left to torch: numba's `exp` is
not vectorized here and the fused pass took 150 ms against torch's 100 ms.

The GIL is released (`nogil`): the slice thread computing a live landscape never stalls
the GUI thread's frames.
"""

from __future__ import annotations

import numpy as np
from numba import njit

RELU, HARD_SIGMOID = 0, 1
ACTIVATIONS = {"relu": RELU, "hard-sigmoid": HARD_SIGMOID}
MAE, MSE = 0, 1
LOSS_KINDS = {"mae": MAE, "mse": MSE}


@njit(cache=True, nogil=True, fastmath=True)
def _add_unit(pred: np.ndarray, z0: np.ndarray, z1: np.ndarray, z2: np.ndarray, t1: float,
              t2: float, c: float, act: int) -> None:
    """pred += c * act(z0 + t1 z1 + t2 z2), one hidden unit over the samples. One loop per
    activation, so each is a straight vectorized loop."""
    n = pred.size
    if act == RELU:
        for i in range(n):
            z = z0[i] + t1 * z1[i] + t2 * z2[i]
            pred[i] += c * max(z, 0.0)
    else:       # torch's hardsigmoid: relu6(z + 3) / 6
        for i in range(n):
            z = z0[i] + t1 * z1[i] + t2 * z2[i]
            pred[i] += c * min(max(z / 6.0 + 0.5, 0.0), 1.0)


@njit(cache=True, nogil=True)
def one_layer_losses(z: np.ndarray, c: np.ndarray, bo: np.ndarray, y: np.ndarray,
                     t1: np.ndarray, t2: np.ndarray, act: int, loss: int,
                     out: np.ndarray) -> None:
    """out[p] = the training-unit loss at offsets (t1[p], t2[p]) from the plane's center.

    z: (3, K, N) pre-activations Z0, Z1, Z2 with units as rows (samples contiguous);
    c: (3, K) output weights c0, c1, c2; bo: (3,) output bias; y: (N,) targets."""
    k_units, n = z.shape[1], z.shape[2]
    pred = np.empty(n)
    for p in range(t1.size):
        a, b = t1[p], t2[p]
        bias = bo[0] + a * bo[1] + b * bo[2]
        for i in range(n):
            pred[i] = bias
        for j in range(k_units):
            cj = c[0, j] + a * c[1, j] + b * c[2, j]
            _add_unit(pred, z[0, j], z[1, j], z[2, j], a, b, cj, act)
        total = 0.0
        if loss == MAE:
            for i in range(n):
                total += abs(pred[i] - y[i])
        else:
            for i in range(n):
                e = pred[i] - y[i]
                total += e * e
        out[p] = total / n
