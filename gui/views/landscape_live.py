"""The surface view's loss landscapes (core.landscape) while a network trains; no Qt here.

The view records every snapshot's parameters in a bounded `Trajectory` (GUI thread, one
flat copy a frame). A landscape request hands the slice thread a copy of the recorded
rows; there `live_pieces` builds the plane (a PCA of a long path is too slow for a frame),
projects the path and yields the coarse, then the fine grid. Between requests each new
frame's parameters are projected on the plane in the GUI thread (two dot products), so
the path grows live and the current point moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:   # imported where used: core.landscape loads torch (~1 s at start-up)
    from core import landscape as ls

# The kinds of slice the surface view offers for a network, in the combo box's order.
KINDS = ("named", "random", "pca", "interpolate")
KIND_LABELS = {"named": "named parameters", "random": "random filter-normalized",
               "pca": "PCA of trajectory", "interpolate": "interpolation start → now"}
PLANE_SEED = 0      # the random plane's seed: the same directions for the whole run


@dataclass(frozen=True)
class LivePiece:
    """One grid of a live landscape request, with the plane and the path it was made on."""

    kind: str
    plane: ls.Plane
    land: ls.Landscape
    path: np.ndarray          # the recorded path at request time, on the plane
    first_update: int         # the oldest recorded update (the line's alpha = 0)


def live_pieces(kind: str, model: str, params: dict[str, np.ndarray], rows: np.ndarray,
                losses: np.ndarray, first_update: int, x: np.ndarray, y: np.ndarray,
                loss: str, scale: float, n: int, coarse: int,
                should_stop: ls.StopFn) -> Iterator[LivePiece]:
    """Build the plane of `kind` around `params` and yield its coarse and full grids.

    `rows` (k, P) are the recorded parameter vectors (oldest first, float32 is fine) and
    `losses` their training losses in the data unit (the line's path is drawn at them).
    ValueError (too short a path for PCA, ...) reaches the view as a one-line message.
    """
    from core import landscape as ls

    if kind == "random":
        plane = ls.random_plane(params, PLANE_SEED)
    elif kind == "pca":
        plane = ls.pca_plane(rows, params)
    elif kind == "interpolate":
        if len(rows) == 0:
            raise ValueError("no recorded start yet")
        plane = ls.interpolation_line(ls.unflatten(rows[0], params), params)
    else:
        raise ValueError(f"not a landscape kind: {kind!r}")
    path = plane.project(rows) if len(rows) else np.empty((0, 2))
    if kind == "interpolate":
        path[:, 1] = losses
    span = None
    if kind == "pca" and len(path):
        span = ls.PCA_MARGIN * max(float(np.abs(path).max()), 1e-9)
    for land in ls.iter_landscape(model, plane, x, y, loss, n, coarse, None, span, scale,
                                  should_stop):
        yield LivePiece(kind, plane, land, path, first_update)


class Projector:
    """Coordinates of new parameter vectors on a plane: the least-squares solve of
    `Plane.project` with the basis and its Gram matrix prepared once."""

    def __init__(self, plane: ls.Plane) -> None:
        from core import landscape as ls

        self.line = plane.d2 is None
        vecs = [ls.flatten(plane.d1)] + ([] if self.line else [ls.flatten(plane.d2)])
        self.basis = np.stack(vecs)                                     # (1 or 2, P)
        self.center = ls.flatten(plane.center)
        self.ginv = np.linalg.pinv(self.basis @ self.basis.T)
        self.origin = plane.origin[0]

    def __call__(self, params: dict[str, np.ndarray] | np.ndarray) -> tuple[float, float]:
        """`params` as a dict of arrays, or already flattened (`ls.flatten`)."""
        from core import landscape as ls

        flat = params if isinstance(params, np.ndarray) else ls.flatten(params)
        c = self.ginv @ (self.basis @ (flat - self.center))
        if self.line:
            return float(c[0] + self.origin), float("nan")
        return float(c[0]), float(c[1])
