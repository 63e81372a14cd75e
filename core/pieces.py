"""The lecture's constructive argument: a curve = a constant + a sum of pieces.

A piece is one hidden unit of a one-feature network, y = c * act(b + w x), with the same
activations as `core.models` (hard sigmoid = clip(z / 6 + 1/2, 0, 1): flat 0 until
z = -3, a straight ramp to 1 at z = 3, then flat; so its ramp runs from x = (-3 - b) / w
to x = (3 - b) / w and rises by c). "w changes the slope, b shifts, c changes the height."

`exact_pieces` builds a constant plus pieces that reproduce any piecewise-linear target
exactly (one hard sigmoid per segment, or one ReLU per change of slope), and `fit` runs
plain gradient descent on every c, b, w and the constant, with analytic gradients. Both
are numpy only, so the curve builder in the GUI and the tests share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core.models import activation
from core.optimizers import NumpyOptimizer

KINDS = ("hard-sigmoid", "sigmoid", "relu")
HALF_RAMP = 3.0   # the hard sigmoid's ramp spans z in [-3, 3]


@dataclass(frozen=True)
class Piece:
    """y = c * act(b + w x): `kind` names the activation, c the height, b the shift,
    w the slope."""

    kind: str
    c: float
    b: float
    w: float

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown piece kind {self.kind!r}; use one of {KINDS}")

    def with_params(self, c: float, b: float, w: float) -> Piece:
        return replace(self, c=float(c), b=float(b), w=float(w))


def evaluate(piece: Piece, x: np.ndarray) -> np.ndarray:
    """The piece's values at `x`."""
    x = np.asarray(x, dtype=np.float64)
    return piece.c * activation(piece.kind, piece.b + piece.w * x)


def model_sum(constant: float, pieces: Sequence[Piece], x: np.ndarray) -> np.ndarray:
    """constant + sum of the pieces at `x` (summed in list order, as the builder draws)."""
    x = np.asarray(x, dtype=np.float64)
    total = np.full(x.shape, float(constant))
    for piece in pieces:
        total = total + evaluate(piece, x)
    return total


class PiecewiseLinear:
    """A target curve through corner points, flat beyond the first and last corner.

    Flat ends are what a constant plus hard sigmoids can produce, so `exact_pieces` can
    match the target everywhere, not only between the corners.
    """

    def __init__(self, xs: Sequence[float], ys: Sequence[float]) -> None:
        xs_a = np.asarray(xs, dtype=np.float64).ravel()
        ys_a = np.asarray(ys, dtype=np.float64).ravel()
        if xs_a.shape != ys_a.shape or xs_a.size < 2:
            raise ValueError("a piecewise-linear curve needs at least two (x, y) corners")
        if not (np.all(np.isfinite(xs_a)) and np.all(np.isfinite(ys_a))):
            raise ValueError("corner points must be finite")
        if np.any(np.diff(xs_a) <= 0):
            raise ValueError("corner x values must increase strictly")
        self.xs = xs_a
        self.ys = ys_a

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(x, dtype=np.float64), self.xs, self.ys)

    def __len__(self) -> int:
        return int(self.xs.size)

    def __repr__(self) -> str:
        return f"PiecewiseLinear(xs={self.xs.tolist()}, ys={self.ys.tolist()})"

    def slopes(self) -> np.ndarray:
        return np.diff(self.ys) / np.diff(self.xs)

    def moved(self, i: int, x: float, y: float, min_gap: float | None = None
              ) -> PiecewiseLinear:
        """A copy with corner `i` at (x, y), x kept strictly between its neighbours."""
        xs, ys = self.xs.copy(), self.ys.copy()
        gap = min_gap if min_gap is not None else 1e-3 * float(xs[-1] - xs[0])
        lo = xs[i - 1] + gap if i > 0 else -np.inf
        hi = xs[i + 1] - gap if i < xs.size - 1 else np.inf
        xs[i] = float(np.clip(x, lo, hi)) if lo <= hi else xs[i]
        ys[i] = float(y)
        return PiecewiseLinear(xs, ys)


def builder_from_state(state: Any) -> tuple[PiecewiseLinear, float, list[Piece]]:
    """The curve builder's target, constant and pieces from its saved state (plain data:
    {"target": {"xs", "ys"}, "constant", "pieces": [{"kind", "c", "b", "w"}]}); ValueError
    for a malformed one, so a session is checked before anything changes."""
    try:
        target = PiecewiseLinear(state["target"]["xs"], state["target"]["ys"])
        pieces = [Piece(str(p["kind"]), float(p["c"]), float(p["b"]), float(p["w"]))
                  for p in state["pieces"]]
        constant = float(state["constant"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a curve-builder state: {exc}") from exc
    if not all(np.isfinite([constant] + [v for p in pieces for v in (p.c, p.b, p.w)])):
        raise ValueError("the curve builder's numbers must be finite")
    return target, constant, pieces


def zigzag() -> PiecewiseLinear:
    """The builder's default target: up, down, up again, then level (a lecture sketch)."""
    return PiecewiseLinear([0.0, 2.0, 4.0, 6.0, 8.0, 10.0], [1.0, 1.5, 4.0, 2.5, 5.0, 5.0])


def from_data(x: np.ndarray, y: np.ndarray, corners: int = 8) -> PiecewiseLinear:
    """A smoothed curve of y against x: `corners` equal-count bins, each one corner at its
    mean x and mean y (so a noisy scatter becomes a curve a few pieces can follow)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError("need at least two distinct x values to make a target curve")
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    bins = np.array_split(np.arange(x.size), max(2, min(int(corners), x.size)))
    xs = np.array([x[b].mean() for b in bins if b.size])
    ys = np.array([y[b].mean() for b in bins if b.size])
    # equal x means (ties across bins) would break strict order: merge them
    xs_u, inverse = np.unique(xs, return_inverse=True)
    ys_u = np.bincount(inverse, weights=ys) / np.bincount(inverse)
    if xs_u.size < 2:
        raise ValueError("need at least two distinct x values to make a target curve")
    return PiecewiseLinear(xs_u, ys_u)


def exact_pieces(target: PiecewiseLinear, kind: str = "hard-sigmoid"
                 ) -> tuple[float, list[Piece]]:
    """A constant plus pieces whose sum equals `target` at every x.

    - "hard-sigmoid": one piece per segment, its ramp exactly over the segment and its
      height the segment's rise: w = 6 / (x_{i+1} - x_i), b = -3 - w x_i, c = y_{i+1} - y_i.
    - "relu": one piece per corner, c_i relu(x - x_i) with c_i the change of slope there
      (the last one cancels the final slope, so the right end is flat like the target's).
    A sigmoid never reproduces a corner exactly, so "sigmoid" is refused.
    """
    xs, ys = target.xs, target.ys
    constant = float(ys[0])
    if kind == "hard-sigmoid":
        pieces = []
        for x0, x1, y0, y1 in zip(xs[:-1], xs[1:], ys[:-1], ys[1:], strict=True):
            w = 2 * HALF_RAMP / (x1 - x0)
            pieces.append(Piece(kind, c=float(y1 - y0), b=float(-HALF_RAMP - w * x0),
                                w=float(w)))
        return constant, pieces
    if kind == "relu":
        slopes = np.concatenate([[0.0], target.slopes(), [0.0]])
        changes = np.diff(slopes)
        return constant, [Piece(kind, c=float(dc), b=float(-x0), w=1.0)
                          for x0, dc in zip(xs, changes, strict=True)]
    raise ValueError(f"exact pieces are hard sigmoids or ReLUs, not {kind!r}")


def new_piece(kind: str, center: float, width: float, height: float) -> Piece:
    """A piece that rises by about `height` over `width` around `center`.

    Hard sigmoid: its ramp is exactly [center - width/2, center + width/2]; sigmoid: the
    same slope at the centre (w = 4 / width); ReLU: starts at `center` and has risen by
    `height` at `center + width`.
    """
    width = float(width) if width > 0 else 1.0
    if kind == "hard-sigmoid":
        w = 2 * HALF_RAMP / width
        return Piece(kind, float(height), float(-w * center), float(w))
    if kind == "sigmoid":
        w = 4.0 / width
        return Piece(kind, float(height), float(-w * center), float(w))
    if kind == "relu":
        w = 1.0 / width
        return Piece(kind, float(height), float(-w * center), float(w))
    raise ValueError(f"unknown piece kind {kind!r}; use one of {KINDS}")


def _activation_and_slope(kind: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """act(z) and act'(z) (one-sided where it has a kink: 0 at the ReLU's and the ramp's ends)."""
    a = activation(kind, z)
    if kind == "sigmoid":
        return a, a * (1.0 - a)
    if kind == "relu":
        return a, (z > 0).astype(np.float64)
    inside = (z > -HALF_RAMP) & (z < HALF_RAMP)
    return a, inside / (2 * HALF_RAMP)


def loss_and_gradients(constant: float, pieces: Sequence[Piece], x: np.ndarray,
                       y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """MSE of constant + pieces against y, its gradient for the constant and (K, 3)
    gradients for each piece's (c, b, w)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.size
    acts, slopes = [], []
    total = np.full(x.shape, float(constant))
    for p in pieces:
        a, da = _activation_and_slope(p.kind, p.b + p.w * x)
        acts.append(a)
        slopes.append(da)
        total = total + p.c * a
    r = total - y
    loss = float(np.mean(r * r))
    two_r = 2.0 * r / n
    grads = np.zeros((len(pieces), 3))
    for k, p in enumerate(pieces):
        g = two_r * p.c * slopes[k]
        grads[k] = (float(two_r @ acts[k]), float(g.sum()), float(g @ x))
    return loss, float(two_r.sum()), grads


class Fitter:
    """Gradient descent that can be run a few steps at a time (the builder animates it).

    `method` "gd" is plain gradient descent (theta -= lr * g); "adam" scales each
    parameter's step by its own gradient history, which copes with c, b and w living on
    very different scales (the builder's Fit button uses it). Every step is clipped to
    `max_step` so a steep ramp cannot throw a piece off the plot in one step. `target` may
    be replaced between runs (a dragged corner): the pieces then chase the new curve.
    """

    def __init__(self, constant: float, pieces: Sequence[Piece], target: PiecewiseLinear,
                 x: np.ndarray, lr: float = 0.01, method: str = "gd",
                 max_step: float = 1.0) -> None:
        if method not in ("gd", "adam"):
            raise ValueError(f"unknown method {method!r}; use 'gd' or 'adam'")
        self.x = np.asarray(x, dtype=np.float64)
        self.target = target
        self.lr = float(lr)
        self.method = method
        self.max_step = float(max_step)
        self._kinds = [p.kind for p in pieces]
        self._theta = np.array([float(constant)] + [v for p in pieces for v in (p.c, p.b, p.w)])
        # The app's own optimizers (core.optimizers): the same Adam a linear run uses.
        self._opt = NumpyOptimizer(method, self.lr, 0.0, self._theta.size)
        self.steps_done = 0

    @property
    def constant(self) -> float:
        return float(self._theta[0])

    @property
    def pieces(self) -> list[Piece]:
        th = self._theta
        return [Piece(k, float(th[1 + 3 * j]), float(th[2 + 3 * j]), float(th[3 + 3 * j]))
                for j, k in enumerate(self._kinds)]

    def loss(self) -> float:
        y = self.target(self.x)
        return float(np.mean((model_sum(self.constant, self.pieces, self.x) - y) ** 2))

    def run(self, steps: int) -> list[float]:
        """`steps` updates; returns the MSE before each (stops early on a non-finite loss)."""
        y = self.target(self.x)
        self._opt.lr = self.lr
        losses: list[float] = []
        for _ in range(max(0, int(steps))):
            loss, g_const, grads = loss_and_gradients(self.constant, self.pieces, self.x, y)
            losses.append(loss)
            if not np.isfinite(loss):
                break
            g = np.concatenate([[g_const], grads.ravel()])
            moved = self._theta.copy()
            self._opt.apply(moved, g)
            self._theta += np.clip(moved - self._theta, -self.max_step, self.max_step)
            self.steps_done += 1
        return losses


def fit(constant: float, pieces: Sequence[Piece], target: PiecewiseLinear,
        x: np.ndarray, steps: int = 200, lr: float = 0.01, method: str = "gd",
        max_step: float = 1.0) -> tuple[float, list[Piece], list[float]]:
    """Gradient descent on the constant and every piece's c, b, w to match `target` at `x`.

    Returns (constant, pieces, losses): losses[i] is the MSE before step i and the last
    entry the MSE after the final step. Never raises on divergence (see `Fitter`).
    """
    fitter = Fitter(constant, pieces, target, x, lr=lr, method=method, max_step=max_step)
    losses = fitter.run(steps)
    losses.append(fitter.loss())
    return fitter.constant, fitter.pieces, losses
