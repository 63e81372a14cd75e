# Over 450 lines: one subject, planes through all parameters, sharing one normalization.
"""Loss landscapes of the app's networks, the way the research draws them (Li et al. 2018).

A named-parameter slice (core.slices) varies two scalars out of thousands; the research
instead moves *all* parameters along two directions d1, d2 and draws
L(theta* + a1 d1 + a2 d2) around the trained parameters theta*. Three kinds of plane:

- ``random``: two Gaussian directions, **filter-normalized** (Li et al. 2018, section 4):
  each unit's incoming weights (a row of W{l}; the output's row is c) are rescaled to the
  norm of that unit's incoming weights in theta*, so a step a = 1 moves every unit as far
  as its own weights reach and networks of any width or depth are compared on one scale.
  Biases are handled as the paper's published plots do (its code's ``ignore='biasbn'``):
  the directions are zero on every bias (b{l} and the output b), which stay at theta*.
- ``pca``: the plane of the first two principal components of the recorded training
  trajectory (the parameters at recorded updates minus the final ones, centred as the
  paper's sklearn PCA centres them, biases ignored as above). The directions are
  orthonormal, the final point projects to the origin and the explained variance says
  how much of the path the plane holds.
- ``interpolate``: the 1-D line theta(alpha) = theta_A + alpha (theta_B - theta_A) through
  every parameter, biases included (Goodfellow et al. 2015): from a run's start (alpha = 0)
  to its end (alpha = 1), or from another seed's minimum to this run's.

The grid is evaluated by `PlaneEvaluator` (torch, float32 as the training is). The first
layer's pre-activation is linear in (a1, a2), X (W + a1 D1 + a2 D2)^T = Z0 + a1 Z1 + a2 Z2,
so three products made once replace that layer's matrix product at every grid point;
the layers above need one product per point (their input changes nonlinearly with a).
With one hidden layer no product is left per point: `core.plane_kernels` does the rest in
one compiled pass (ReLU, hard sigmoid). Other small networks are evaluated many points per
torch call (batched matrix products), where one call per point would be all overhead;
large ones, whose products already run near the CPU's peak, point by point with the same
kernels the training uses.

Units: directions, coordinates and parameters are in the training unit; every loss here is
in the data unit (MAE * scale, MSE * scale**2), as people see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from core import plane_kernels
from core.losses import LOSSES, to_data_unit
from core.models import NETWORKS, n_layers

KINDS = ("random", "pca", "interpolate")
MIN_GRID, MAX_GRID = 2, 201           # points per axis (201 x 201 is ~40,000 forward passes)
TRAJECTORY_POINTS = 256               # recorded parameter vectors kept, at most
TRAJECTORY_BYTES = 64 << 20           # ... and at most this much memory (float32 rows)
RANDOM_SPAN = 1.0                     # random planes: a in [-1, 1], as in Li et al.'s plots
INTERPOLATE_RANGE = (-0.5, 1.5)       # alpha beyond both ends shows the walls
FLOAT32_MAX = 3e38                    # recorded rows are float32
PCA_MARGIN = 1.25                     # PCA planes: the path's extent times this
BATCH_ELEMENTS = 262_144              # floats of one batch's (points, N, units) activation
                                      # (1 MB: the batch stays in cache)
POINTWISE_MACS = 2_000_000            # a layer product this big per point runs one by one
FUSED_POINTS = 64                     # one-hidden-layer points a compiled call evaluates

StopFn = Callable[[], bool]


def _never() -> bool:
    return False


def _zeros_like(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.zeros(np.shape(v)) for k, v in params.items()}


def _is_weight(key: str) -> bool:
    """Weights (rows of W{l}, the output's c, a linear model's w), not biases."""
    return key.startswith("W") or key in ("c", "w")


def flatten(params: dict[str, np.ndarray]) -> np.ndarray:
    """The parameters as one float64 vector, in the dict's order."""
    return np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in params.values()])


def unflatten(vec: np.ndarray, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A flat vector back into arrays shaped (and named) like `like`."""
    out, i = {}, 0
    for k, v in like.items():
        n = int(np.size(v))
        out[k] = np.array(vec[i:i + n], dtype=np.float64).reshape(np.shape(v))
        i += n
    if i != len(vec):
        raise ValueError(f"a vector of {len(vec)} numbers does not fit {i} parameters")
    return out


def _bias_mask(params: dict[str, np.ndarray]) -> np.ndarray:
    """1.0 on weights, 0.0 on biases, flat (the paper's ignore='biasbn')."""
    return flatten({k: np.full(np.shape(v), 1.0 if _is_weight(k) else 0.0)
                    for k, v in params.items()})


# --------------------------------------------------------------------------- directions


def filter_normalize(direction: dict[str, np.ndarray], params: dict[str, np.ndarray]
                     ) -> dict[str, np.ndarray]:
    """`direction` rescaled unit by unit to the norms of `params` (Li et al. 2018, eq. 1).

    A "filter" of a fully connected layer is one unit's incoming weights: a row of W{l};
    the output unit's row is c (a linear model's is w). Each such row of the direction is
    scaled to ||row of params|| / ||row of direction|| (a zero row in params gives a zero
    row). Biases are set to zero (the paper's ``ignore='biasbn'``).
    """
    out: dict[str, np.ndarray] = {}
    for key, d in direction.items():
        d = np.array(d, dtype=np.float64)
        p = np.asarray(params[key], dtype=np.float64)
        if not _is_weight(key):
            out[key] = np.zeros_like(d)
            continue
        rows_d = d.reshape(-1, d.shape[-1]) if d.ndim == 2 else d.reshape(1, -1)
        rows_p = p.reshape(rows_d.shape)
        nd = np.linalg.norm(rows_d, axis=1, keepdims=True)
        npar = np.linalg.norm(rows_p, axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(nd > 0, npar / np.where(nd > 0, nd, 1.0), 0.0)
        out[key] = (rows_d * scale).reshape(d.shape)
    return out


def unit_norms(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each unit's incoming-weight norm, per weight array (what filter normalization keeps)."""
    return {k: np.linalg.norm(np.atleast_2d(np.asarray(v, dtype=np.float64)), axis=1)
            for k, v in params.items() if _is_weight(k)}


def random_direction(params: dict[str, np.ndarray], rng: np.random.Generator
                     ) -> dict[str, np.ndarray]:
    """A Gaussian direction, filter-normalized to `params`."""
    raw = {k: rng.standard_normal(np.shape(v)) for k, v in params.items()}
    return filter_normalize(raw, params)


@dataclass(frozen=True)
class Plane:
    """Directions through `center` (the trained parameters), training unit.

    `d2` is None for a line (interpolation). For interpolation the coordinate is alpha with
    theta(alpha) = center + (alpha - 1) d1, so alpha = 1 is `center`; `origin` is the
    coordinate of `center` on every axis ((0, 0) for planes, (1,) for the line).
    """

    kind: str
    center: dict[str, np.ndarray]
    d1: dict[str, np.ndarray]
    d2: dict[str, np.ndarray] | None = None
    explained_variance: tuple[float, float] | None = None

    @property
    def origin(self) -> tuple[float, ...]:
        return (1.0,) if self.kind == "interpolate" else (0.0, 0.0)

    def point(self, a1: float, a2: float = 0.0) -> dict[str, np.ndarray]:
        """The parameters at plane coordinates (a1, a2)."""
        t1 = a1 - self.origin[0]
        out = {k: np.asarray(v, dtype=np.float64) + t1 * self.d1[k]
               for k, v in self.center.items()}
        if self.d2 is not None:
            out = {k: v + a2 * self.d2[k] for k, v in out.items()}
        return out

    def project(self, points: np.ndarray) -> np.ndarray:
        """Coordinates (n, 2) of flat parameter vectors (n, P) on the plane: least squares
        onto span(d1, d2) (the dot products for orthonormal PCA directions), as the
        paper's ``proj_method='lstsq'``. A line gives (alpha, 0)."""
        pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
        diff = pts - flatten(self.center)[None, :]
        basis = [flatten(self.d1)] + ([] if self.d2 is None else [flatten(self.d2)])
        a = np.stack(basis, axis=1)                                   # (P, 1 or 2)
        gram = a.T @ a
        rhs = diff @ a                                                # (n, 1 or 2)
        coords = np.linalg.lstsq(gram, rhs.T, rcond=None)[0].T
        if self.d2 is None:
            return np.column_stack([coords[:, 0] + self.origin[0], np.zeros(len(pts))])
        return coords


def random_plane(center: dict[str, np.ndarray], seed: int = 0) -> Plane:
    """Two independent filter-normalized Gaussian directions (not orthogonalized, as in
    the paper: in thousands of dimensions they are nearly orthogonal anyway)."""
    rng = np.random.default_rng(seed)
    return Plane("random", _copy(center), random_direction(center, rng),
                 random_direction(center, rng))


def pca_plane(trajectory: np.ndarray, center: dict[str, np.ndarray]) -> Plane:
    """The plane of the first two principal components of `trajectory` (n, P flat
    parameter vectors, in recording order) minus `center`, biases ignored (zeroed), centred
    before the decomposition as sklearn's PCA (the paper's) does. Needs 3 or more distinct
    points. `explained_variance` is each component's share of the path's variance."""
    traj = np.atleast_2d(np.asarray(trajectory, dtype=np.float64))
    if traj.shape[0] < 3:
        raise ValueError(f"a PCA plane needs at least 3 recorded points of the training "
                         f"path, got {traj.shape[0]}: train longer")
    mask = _bias_mask(center)
    if traj.shape[1] != mask.size:
        raise ValueError("the recorded path does not fit this network's parameters")
    diff = (traj - flatten(center)[None, :]) * mask[None, :]
    diff = diff - diff.mean(axis=0, keepdims=True)
    # SVD of the small side: (n x n) Gram matrix instead of (P x P).
    gram = diff @ diff.T
    vals, vecs = np.linalg.eigh(gram)
    order = np.argsort(vals)[::-1]
    vals, vecs = np.clip(vals[order], 0.0, None), vecs[:, order]
    if vals[1] <= 1e-24 * max(vals[0], 1e-300):
        raise ValueError("the recorded path is a straight line (or a point): "
                         "no second principal direction")
    comps = []
    for j in (0, 1):
        v = diff.T @ vecs[:, j]
        comps.append(v / np.linalg.norm(v))
    # Re-orthonormalize in float64 (Gram-Schmidt) against rounding.
    comps[1] = comps[1] - comps[0] * float(comps[0] @ comps[1])
    comps[1] /= np.linalg.norm(comps[1])
    total = float(vals.sum())
    ratio = (float(vals[0] / total), float(vals[1] / total))
    return Plane("pca", _copy(center), unflatten(comps[0], center),
                 unflatten(comps[1], center), explained_variance=ratio)


def interpolation_line(start: dict[str, np.ndarray], end: dict[str, np.ndarray]) -> Plane:
    """The line from `start` (alpha = 0) to `end` (alpha = 1, the center)."""
    if set(start) != set(end) or any(np.shape(start[k]) != np.shape(end[k]) for k in end):
        raise ValueError("the two end points are different networks")
    d = {k: np.asarray(end[k], dtype=np.float64) - np.asarray(start[k], dtype=np.float64)
         for k in end}
    if not np.any(flatten(d)):
        raise ValueError("the two end points are the same parameters: nothing to interpolate")
    return Plane("interpolate", _copy(end), d)


def _copy(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.array(v, dtype=np.float64) for k, v in params.items()}


# --------------------------------------------------------------------------- trajectory


class Trajectory:
    """A bounded record of a run's parameters (float32 rows) and training losses.

    At most TRAJECTORY_POINTS rows (fewer for very large networks, TRAJECTORY_BYTES in
    all); when full, every other row is dropped (the first is kept), so a long run keeps
    an evenly thinned path in constant memory. The newest point is always kept apart, so
    the path ends where the run is.
    """

    def __init__(self, n_params: int) -> None:
        self.n_params = int(n_params)
        self.capacity = int(max(3, min(TRAJECTORY_POINTS,
                                       TRAJECTORY_BYTES // max(4 * self.n_params, 1))))
        self._rows = np.empty((self.capacity, self.n_params), dtype=np.float32)
        self._updates: list[int] = []
        self._losses: list[float] = []
        self._last: tuple[int, np.ndarray, float] | None = None
        self.every = 1                 # record every `every`-th call of `add`
        self._calls = 0

    def __len__(self) -> int:
        return len(self._updates) + (self._last is not None and self._last_is_new())

    def _last_is_new(self) -> bool:
        return self._last is not None and (not self._updates
                                           or self._updates[-1] != self._last[0])

    def add(self, update: int, params: dict[str, np.ndarray] | np.ndarray,
            loss: float = float("nan")) -> None:
        """Record the parameters after `update` updates (and their training loss)."""
        vec = params if isinstance(params, np.ndarray) else flatten(params)
        if vec.size != self.n_params:
            raise ValueError("parameters of another network")
        if not np.all(np.abs(vec) < FLOAT32_MAX):    # a diverged run: nothing to plot there
            return
        if self._updates and update <= self._updates[-1]:
            if update < self._updates[-1]:      # a restart: the path begins again
                self.clear()
            else:
                return
        self._last = (int(update), np.asarray(vec, dtype=np.float32).copy(), float(loss))
        self._calls += 1
        if (self._calls - 1) % self.every:
            return
        n = len(self._updates)
        if n == self.capacity:
            keep = np.arange(0, n, 2)
            self._rows[:keep.size] = self._rows[keep]
            self._updates = [self._updates[i] for i in keep]
            self._losses = [self._losses[i] for i in keep]
            self.every *= 2
            n = keep.size
            if (self._calls - 1) % self.every:
                return
        self._rows[n] = self._last[1]
        self._updates.append(self._last[0])
        self._losses.append(self._last[2])

    def clear(self) -> None:
        self._updates, self._losses, self._last = [], [], None
        self.every, self._calls = 1, 0

    def arrays(self, dtype: type = np.float64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(updates (n,), parameters (n, P) as `dtype` (a copy), losses (n,)), oldest
        first; float32 halves the copy of a big network's path."""
        n = len(self._updates)
        ups, rows, losses = list(self._updates), self._rows[:n].astype(dtype), \
            list(self._losses)
        if self._last_is_new():
            assert self._last is not None
            ups.append(self._last[0])
            rows = np.vstack([rows, self._last[1][None, :].astype(dtype)])
            losses.append(self._last[2])
        return np.asarray(ups, dtype=np.int64), rows, np.asarray(losses, dtype=np.float64)


# --------------------------------------------------------------------------- evaluation

_ACT = {"sigmoid": torch.sigmoid, "relu": torch.relu,
        "hard-sigmoid": torch.nn.functional.hardsigmoid}
_ACT_ = {"sigmoid": torch.sigmoid_, "relu": torch.relu_,
         "hard-sigmoid": lambda z: torch.nn.functional.hardsigmoid(z, inplace=True)}


class PlaneEvaluator:
    """The training loss of a network at many points of a plane, float32 torch.

    `losses(a1, a2)` takes flat coordinate arrays and returns the losses in the training
    unit (float64; nan reads as inf). See the module docstring for the layer-1 shortcut
    and the choice between batched and point-by-point products.
    """

    def __init__(self, model: str, plane: Plane, x: np.ndarray, y: np.ndarray,
                 loss: str) -> None:
        if model not in NETWORKS:
            raise ValueError(f"loss landscapes are drawn for networks "
                             f"({', '.join(NETWORKS)}), not {model!r}")
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}")
        x = np.asarray(x, dtype=np.float64)
        x = x[:, None] if x.ndim == 1 else x
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if x.shape[0] != y.size or y.size == 0:
            raise ValueError("x and y must be non-empty with one label per row")
        self.model, self.loss, self.plane = model, loss, plane
        self.act = _ACT[model]
        self.act_ = _ACT_[model]
        self.layers = n_layers(plane.center)
        d2 = plane.d2 if plane.d2 is not None else _zeros_like(plane.center)
        # Interpolation moves by (alpha - 1) d1: the evaluator works in offsets t from the
        # center and the caller's coordinates are shifted by the origin.
        dirs = (plane.center, plane.d1, d2)

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(np.ascontiguousarray(a, dtype=np.float32))

        xt = t(x)
        self.y = t(y)
        self.n = y.size
        # Layer 1: Z_i = X W1_i^T + b1_i, made once.
        self.z = [torch.addmm(t(p["b1"]), xt, t(p["W1"]).t()) for p in dirs]
        self.w = [[t(p[f"W{la}"]) for p in dirs] for la in range(2, self.layers + 1)]
        self.b = [[t(p[f"b{la}"]) for p in dirs] for la in range(2, self.layers + 1)]
        self.c = [t(p["c"]) for p in dirs]
        self.bo = [t(np.asarray(p["b"]).reshape(())) for p in dirs]
        # The same, stacked for the batched path: (3, size) rows to mix with (B, 3).
        self.z3 = torch.stack([z.reshape(-1) for z in self.z])
        self.w3 = [torch.stack([m.reshape(-1) for m in w]) for w in self.w]
        self.b3 = [torch.stack(b) for b in self.b]
        self.c3 = torch.stack(self.c, dim=1)                                # (K, 3)
        self.bo3 = torch.stack(self.bo).reshape(3)                          # (3,)
        units = max([self.z[0].shape[1]] + [w[0].shape[0] for w in self.w])
        macs = self.n * max([w[0].shape[0] * w[0].shape[1] for w in self.w], default=0)
        self.pointwise = macs >= POINTWISE_MACS
        self.batch = max(1, BATCH_ELEMENTS // (self.n * units))
        # One hidden layer: no product is left per point, the compiled pass does it all
        # (not for sigmoid: numba's exp is scalar here, torch's batches were faster).
        self.fused = self.layers == 1 and model in plane_kernels.ACTIVATIONS
        if self.fused:
            self.zk = np.ascontiguousarray(np.stack([z.t().numpy() for z in self.z]))
            self.ck = self.c3.t().double().numpy().copy()                     # (3, K)
            self.bok = self.bo3.double().numpy().copy()
            self.yk = self.y.double().numpy().copy()

    def _reduce(self, pred: torch.Tensor) -> torch.Tensor:
        e = pred - self.y
        return e.abs().mean(-1) if self.loss == "mae" else (e * e).mean(-1)

    def _batched(self, t1: torch.Tensor, t2: torch.Tensor) -> torch.Tensor:
        """Losses of B points at once. Every mixture p0 + t1 p1 + t2 p2 of a batch is one
        (B, 3) x (3, size) product; the output layer's three dot products are one
        (B N, K) x (K, 3) product; only the layers in between need one product per point
        (a batched matmul). Batches are sized to stay in cache (BATCH_ELEMENTS)."""
        coef = torch.stack([torch.ones_like(t1), t1, t2], dim=1)            # (B, 3)
        nb, n = coef.shape[0], self.n
        h = self.act_((coef @ self.z3).view(nb, n, -1))                     # (B, N, K)
        for w3, b3 in zip(self.w3, self.b3, strict=True):
            k_out = b3.shape[1]
            w = (coef @ w3).view(nb, k_out, -1)
            b = (coef @ b3).view(nb, 1, k_out)
            h = self.act_(torch.baddbmm(b, h, w.transpose(1, 2)))
        k = h.shape[2]
        y3 = (h.reshape(nb * n, k) @ self.c3).view(nb, n, 3)                # h c0, h c1, h c2
        pred = torch.addcmul(y3[..., 0], y3[..., 1], t1.unsqueeze(1))
        pred.addcmul_(y3[..., 2], t2.unsqueeze(1)).add_((coef @ self.bo3).unsqueeze(1))
        return self._reduce(pred)

    def _one(self, t1: float, t2: float) -> float:
        def mix(p: list[torch.Tensor]) -> torch.Tensor:
            return torch.add(p[0], p[1], alpha=t1).add_(p[2], alpha=t2)

        h = self.act(mix(self.z))
        for w, b in zip(self.w, self.b, strict=True):
            h = self.act(torch.addmm(mix(b), h, mix(w).t()))
        return float(self._reduce(torch.addmv(mix(self.bo), h, mix(self.c))))

    def losses(self, a1: np.ndarray, a2: np.ndarray | None = None,
               should_stop: StopFn = _never) -> np.ndarray | None:
        """Training-unit losses at the points (a1[i], a2[i]); None if stopped."""
        a1 = np.asarray(a1, dtype=np.float64).reshape(-1)
        a2 = np.zeros_like(a1) if a2 is None else np.asarray(a2, dtype=np.float64).reshape(-1)
        t1, t2 = a1 - self.plane.origin[0], a2.copy()
        out = np.empty(a1.size)
        if self.fused:
            return self._fused(t1, t2, out, should_stop)
        step = 1 if self.pointwise else self.batch
        with torch.no_grad():
            for k in range(0, a1.size, step):
                if k and should_stop():
                    return None
                if self.pointwise:
                    out[k] = self._one(float(t1[k]), float(t2[k]))
                else:
                    out[k:k + step] = self._batched(
                        torch.as_tensor(t1[k:k + step], dtype=torch.float32),
                        torch.as_tensor(t2[k:k + step], dtype=torch.float32)).double().numpy()
        return np.where(np.isnan(out), np.inf, out)

    def _fused(self, t1: np.ndarray, t2: np.ndarray, out: np.ndarray,
               should_stop: StopFn) -> np.ndarray | None:
        """`losses` for one hidden layer through `core.plane_kernels`, FUSED_POINTS at a
        time so that a stop request is heard within a few milliseconds."""
        act = plane_kernels.ACTIVATIONS[self.model]
        kind = plane_kernels.LOSS_KINDS[self.loss]
        for k in range(0, t1.size, FUSED_POINTS):
            if k and should_stop():
                return None
            plane_kernels.one_layer_losses(self.zk, self.ck, self.bok, self.yk,
                                           t1[k:k + FUSED_POINTS], t2[k:k + FUSED_POINTS],
                                           act, kind, out[k:k + FUSED_POINTS])
        return np.where(np.isnan(out), np.inf, out)

    def grid(self, a1: np.ndarray, a2: np.ndarray | None, should_stop: StopFn = _never
             ) -> np.ndarray | None:
        """Losses on the grid, (len(a2), len(a1)); a line gives one row."""
        if a2 is None:
            vals = self.losses(a1, None, should_stop)
            return None if vals is None else vals[None, :]
        g1, g2 = np.meshgrid(a1, a2)
        vals = self.losses(g1.ravel(), g2.ravel(), should_stop)
        return None if vals is None else vals.reshape(len(a2), len(a1))

    def center_loss(self) -> float:
        """The training loss at the plane's center (training unit)."""
        vals = self.losses(np.array([self.plane.origin[0]]),
                           np.zeros(1) if self.plane.d2 is not None else None)
        assert vals is not None
        return float(vals[0])


# --------------------------------------------------------------------------- landscapes


@dataclass(frozen=True)
class Landscape:
    """A loss landscape: `loss[k, j]` at (a1[j], a2[k]) (one row for a line), data unit.

    `path` (n, 2) is the recorded trajectory on the plane ([alpha, training loss] pairs on
    a line); `center_loss` the loss at the trained parameters by the same evaluation.
    """

    kind: str
    a1: np.ndarray
    a2: np.ndarray | None
    loss: np.ndarray
    center_loss: float
    path: np.ndarray
    loss_name: str
    explained_variance: tuple[float, float] | None = None
    complete: bool = True
    origin: tuple[float, ...] = field(default=(0.0, 0.0))

    @property
    def min_at(self) -> tuple[float, float, float]:
        """(a1, a2, loss) of the lowest grid point (a2 = nan on a line)."""
        if not np.isfinite(self.loss).any():
            return (float("nan"),) * 3
        k, j = np.unravel_index(np.argmin(np.where(np.isfinite(self.loss), self.loss,
                                                   np.inf)), self.loss.shape)
        a2 = float("nan") if self.a2 is None else float(self.a2[k])
        return float(self.a1[j]), a2, float(self.loss[k, j])


def check_grid(n: int) -> None:
    """Refuse a grid size outside MIN_GRID..MAX_GRID with one line."""
    if isinstance(n, bool) or not isinstance(n, int) or not MIN_GRID <= n <= MAX_GRID:
        raise ValueError(f"the grid must have {MIN_GRID} to {MAX_GRID} points per axis, "
                         f"got {n!r}")


def symmetric_axis(center: float, span: float, n: int) -> np.ndarray:
    """n points over center +- span; with odd n the middle one is exactly `center`."""
    half = (n - 1) / 2.0
    return center + span * ((np.arange(n) - half) / half)


def axes_for(plane: Plane, n: int, path: np.ndarray | None = None,
             span: float | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """The grid's axes: random planes +- RANDOM_SPAN (the paper's [-1, 1]); PCA planes
    symmetric around the trained point, wide enough for the path (times PCA_MARGIN);
    lines alpha in INTERPOLATE_RANGE, or +- span around alpha = 1."""
    check_grid(n)
    if plane.kind == "interpolate":
        if span is not None:
            return symmetric_axis(1.0, span, n), None
        return np.linspace(*INTERPOLATE_RANGE, n), None
    if span is None:
        if plane.kind == "pca" and path is not None and len(path):
            finite = path[np.isfinite(path).all(axis=1)]
            reach = float(np.abs(finite).max()) if finite.size else 0.0
            span = PCA_MARGIN * reach if reach > 0 else RANDOM_SPAN
        else:
            span = RANDOM_SPAN
    if not np.isfinite(span) or span <= 0:
        raise ValueError(f"the span must be a positive number, got {span!r}")
    return symmetric_axis(0.0, span, n), symmetric_axis(0.0, span, n)


def trajectory_path(plane: Plane, trajectory: Trajectory | None, scale: float,
                    loss: str) -> np.ndarray:
    """The recorded path on the plane: (a1, a2) pairs, or (alpha, loss in the data unit)
    on a line."""
    if trajectory is None or len(trajectory) == 0:
        return np.empty((0, 2))
    _, rows, losses = trajectory.arrays()
    coords = plane.project(rows)
    if plane.kind == "interpolate":
        coords[:, 1] = [to_data_unit(loss, v, scale) for v in losses]
    return coords


def iter_landscape(model: str, plane: Plane, x: np.ndarray, y: np.ndarray, loss: str,
                   n: int = 41, coarse: int = 0, trajectory: Trajectory | None = None,
                   span: float | None = None, scale: float = 1.0,
                   should_stop: StopFn | None = None) -> Iterator[Landscape]:
    """Yields a coarse preview (coarse points per axis, `complete=False`) when
    2 <= coarse < n, then the full n-point grid; nothing more once `should_stop()`."""
    stop = should_stop or _never
    ev = PlaneEvaluator(model, plane, x, y, loss)
    path = trajectory_path(plane, trajectory, scale, loss)
    a1, a2 = axes_for(plane, n, path if plane.kind == "pca" else None, span)
    factor = to_data_unit(loss, 1.0, scale)
    center = ev.center_loss() * factor
    sizes = ([coarse] if 2 <= coarse < n else []) + [n]
    for size in sizes:
        if size == n:
            b1, b2 = a1, a2
        else:
            b1 = np.linspace(a1[0], a1[-1], size)
            b2 = None if a2 is None else np.linspace(a2[0], a2[-1], size)
        grid = ev.grid(b1, b2, stop)
        if grid is None or stop():
            return
        yield Landscape(kind=plane.kind, a1=b1, a2=b2, loss=grid * factor,
                        center_loss=center, path=path, loss_name=loss,
                        explained_variance=plane.explained_variance,
                        complete=size == n, origin=plane.origin)


def landscape(model: str, plane: Plane, x: np.ndarray, y: np.ndarray, loss: str,
              n: int = 41, trajectory: Trajectory | None = None, span: float | None = None,
              scale: float = 1.0) -> Landscape:
    """The full landscape at once (see `iter_landscape`)."""
    return next(iter(iter_landscape(model, plane, x, y, loss, n, 0, trajectory, span, scale)))
