"""The surface view's loss-landscape mode (a mixin of `SurfaceView`), for networks.

One control picks the kind of slice: named parameters (the view's own slice through two
scalars), a random filter-normalized plane, the PCA plane of the trajectory, or the line
from the run's start to now (core.landscape). A landscape is computed on the view's
slice thread (coarse, then fine) around the newest parameters and recomputed when the run
has moved on, as named slices are; the recorded path is projected on it and grows every
frame, with the current point and the grid's lowest point. A line is drawn as a curve of
the loss over alpha, with the path's own losses as dots.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QWidget

from core.snapshot import Snapshot
from gui.views.base import set_curve
from gui.views.flow_layout import FlowLayout
from gui.views.landscape_live import KIND_LABELS, KINDS, LivePiece, Projector, live_pieces

# core.landscape is imported where a network needs it: it loads torch, which took ~1 s
# (5 s on a busy machine) of the GUI thread's start-up.
if TYPE_CHECKING:
    from core import landscape as ls

GRID, COARSE = 41, 13
# While the run trains, a recompute is let finish unless it is older than this (or 1.5
# times as long as the last one took, if longer) and the run has moved on: a 3 x 100
# ReLU's 41 x 41 grid came every ~4 s in the app (2-core Intel Xeon, the slice thread in
# the idle class), but on a busy machine (seen under Xvfb beside a test suite) it took
# over 8 s, and the picture, of update 4, fell that far behind the run. A finished picture
# older than that is no longer kept over a recompute's preview either.
LANDSCAPE_PATIENCE_S = 5.0
PATIENCE_FACTOR = 1.5


class LandscapeMode:
    """Mixin: the kind-of-slice control, the recorded path and the landscape's drawing.

    Uses the SurfaceView's items (_image, _contours, _path, _star, _current, _bar, _plot,
    _note, _worker) and its slice bookkeeping (_slice_params, _moved_far, _slice_due,
    _frames).
    """

    _plot: Any
    _image: Any
    _contours: Any
    _path: Any
    _star: Any
    _current: Any
    _bar: Any
    _note: Any
    _worker: Any
    _config: Any
    _data: Any
    _fmt: Any
    _frames: int
    _slice_params: np.ndarray | None
    _slice_update: int
    _slice_loss: float
    _last_snap: Snapshot | None
    _box: tuple[float, float, float, float] | None

    def _init_landscape(self, row: FlowLayout, bar: QWidget, named: list[QWidget]) -> None:
        self._kind = "named"
        self._landscape_started = 0.0     # perf_counter of the newest landscape request
        self._landscape_took = 0.0        # seconds the last finished one took
        self._landscape_shown = 0.0       # perf_counter when a finished one was drawn
        self._named_widgets = named
        self._kind_label = QLabel("kind of slice", bar)
        self._kind_combo = QComboBox(bar)
        self._kind_combo.addItems([KIND_LABELS[k] for k in KINDS])
        self._kind_combo.setToolTip("Named parameters: two scalars, all others fixed. "
                                    "Random / PCA / interpolation: every parameter moves "
                                    "(loss landscapes as in Li et al. 2018).")
        self._log_box = QCheckBox("log colours", bar)
        self._log_box.setChecked(True)
        self._log_box.setToolTip("colour by log(loss - lowest), so the valley shows")
        self._box3d = QCheckBox("3-D", bar)
        self._box3d.setToolTip("the landscape as a 3-D surface (needs OpenGL)")
        row.insertWidget(0, self._kind_label)
        row.insertWidget(1, self._kind_combo)
        row.addWidget(self._log_box)
        row.addWidget(self._box3d)
        self._gl_note = QLabel("", self)           # type: ignore[arg-type]
        self._gl_note.setObjectName("viewNote")
        self._gl_note.hide()
        layout = self._layout  # type: ignore[attr-defined]
        layout.insertWidget(layout.indexOf(self._plot), self._gl_note)
        self._gl: Surface3D | None = None
        self._traj: ls.Trajectory | None = None
        self._live: LivePiece | None = None
        self._projector: Projector | None = None
        self._lpath = PathPoints()
        self._lpath_last = -1
        self._curve = pg.PlotCurveItem()
        self._curve.setZValue(0.5)
        self._plot.getPlotItem().addItem(self._curve, ignoreBounds=True)
        self._kind_combo.activated.connect(self._on_kind)
        self._log_box.toggled.connect(self._on_log)
        self._box3d.toggled.connect(self._on_3d)

    # ----- public -------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """The kind of slice shown: "named", "random", "pca" or "interpolate"."""
        return self._kind

    def choose_kind(self, kind: str) -> None:
        """Show this kind of slice (as if picked in the control)."""
        self._kind_combo.setCurrentIndex(KINDS.index(kind))
        self._on_kind()

    def set_log_colours(self, on: bool) -> None:
        self._log_box.setChecked(on)

    @property
    def log_colours(self) -> bool:
        return self._log_box.isChecked()

    def set_3d(self, on: bool) -> None:
        self._box3d.setChecked(on)

    @property
    def showing_3d(self) -> bool:
        """True when the 3-D surface is on screen (not the 2-D fallback)."""
        return self._gl is not None and self._gl.widget.isVisible()

    def _on_3d(self, on: bool) -> None:
        """3-D where OpenGL works; otherwise the 2-D map stays, with one line saying why."""
        layout = self._layout  # type: ignore[attr-defined]
        if not on:
            self._gl_note.hide()
            if self._gl is not None:
                self._gl.widget.hide()
            self._plot.show()
            return
        reason = gl_unavailable()
        if reason is None and self._gl is None:
            try:
                self._gl = Surface3D(self.theme)  # type: ignore[attr-defined]
                layout.insertWidget(layout.indexOf(self._plot), self._gl.widget, 1)
            except Exception as exc:  # no GL context after all: say so, keep 2-D
                reason = f"OpenGL failed ({exc})"
                self._gl = None
        if reason is not None:
            self._gl_note.setText(f"3-D view unavailable: {reason}; showing the 2-D map.")
            self._gl_note.show()
            return
        assert self._gl is not None
        self._gl_note.hide()
        self._plot.hide()
        self._gl.widget.show()
        self._update_3d()

    def _update_3d(self) -> None:
        if self._gl is None or not self._box3d.isChecked() or self._live is None:
            return
        land = self._live.land
        if land.a2 is not None:
            self._gl.show(land, self.log_colours)

    # ----- run and frames -----------------------------------------------------------------
    def _landscape_run(self, network: bool, n_params: int) -> None:
        """A new run: a fresh recorded path; the kind control only for networks."""
        self._traj = None
        if network:   # the worker has loaded torch for it by now
            from core import landscape as ls

            self._traj = ls.Trajectory(n_params)
        self._live, self._projector, self._lpath_last = None, None, -1
        self._lpath.clear()
        self._curve.setData([], [])
        self._kind_label.setVisible(network)
        self._kind_combo.setVisible(network)
        if not network and self._kind != "named":
            self._kind = "named"
            self._kind_combo.setCurrentIndex(0)
        self._show_kind_widgets()
        if self._kind != "named":
            self._enter_kind()

    def _landscape_draw(self, snap: Snapshot) -> bool:
        """Draw a frame in a landscape kind (True), or leave it to the named slice."""
        flat = None     # the parameters as one vector, made once a frame for both uses
        if self._traj is not None and snap.params:
            from core import landscape as ls

            flat = ls.flatten(snap.params)
            self._traj.add(snap.update, flat, float(snap.train_loss))
        if self._kind == "named":
            return False
        if self._projector is not None and snap.update != self._lpath_last:
            with np.errstate(all="ignore"):          # a diverged run's 1e300s
                a1, a2 = self._projector(snap.params if flat is None else flat)
            if self._projector.line:
                a2 = float(snap.train_loss)
            if not (np.isfinite(a1) and np.isfinite(a2)):
                a1 = a2 = float("nan")               # a gap in the path, no current point
            if snap.update > self._lpath_last:
                self._lpath.append(a1, a2)
            self._lpath_last = snap.update
            self._show_lpath()
            set_curve(self._current, [a1], [a2])
        self._frames += 1
        if self._slice_params is None:
            if not self._worker.is_running():
                self._start_landscape(snap)
        elif self._slice_due(snap) and (  # type: ignore[attr-defined]
                self._stopped(snap) or self._worker.delivered()  # type: ignore[attr-defined]
                or time.perf_counter() - self._landscape_started > self._patience()):
            # While the run trains, the landscape being computed is let finish: restarted
            # whenever the run had moved on, a 3 x 100 ReLU's 41 x 41 grid (~1.6 s of CPU)
            # never came, and the class saw only the 13 x 13 previews, each ~1.7 s old.
            self._start_landscape(snap)
        return True

    def _patience(self) -> float:
        """Seconds a recompute is let run while the run trains (LANDSCAPE_PATIENCE_S)."""
        return max(LANDSCAPE_PATIENCE_S, PATIENCE_FACTOR * self._landscape_took)

    def _start_landscape(self, snap: Snapshot) -> None:
        cfg, data = self._config, self._data
        if cfg is None or data is None or self._traj is None:
            return
        from core import landscape as ls

        ups, rows, losses = self._traj.arrays(np.float32)
        if self._kind == "pca" and len(rows) < 3:
            self._show_message("PCA of the trajectory needs a few recorded steps: "  # type: ignore[attr-defined]
                               "press Play")
            return
        if not np.isfinite(ls.flatten(snap.params)).all():
            return
        self._slice_params = ls.flatten(snap.params)
        self._slice_update = snap.update
        self._slice_loss = float(snap.train_loss)
        self._landscape_started = time.perf_counter()
        self._worker.start(compute=live_pieces, kind=self._kind, model=cfg.model,
                           params=snap.params, rows=rows, losses=losses,
                           first_update=int(ups[0]) if len(ups) else 0, x=data.x_train,
                           y=data.y_train, loss=cfg.loss, scale=float(data.scale), n=GRID,
                           coarse=COARSE)

    def _show_lpath(self) -> None:
        """The recorded path on the plane, drawn as the named slice's live path is: a long
        one thinned to half a pixel for its new points only (`_show_path`, again at each
        zoom). Set whole from a list each frame it cost ~0.3 ms a frame after a minute's
        run and ~2.8 ms after ten (one point a frame; measured), and its paint grew
        with it."""
        pts = self._lpath.points
        self._path_drawn = (pts[:, 0], pts[:, 1], True)     # NaN gaps: "finite"
        self._show_path()  # type: ignore[attr-defined]

    # ----- the control --------------------------------------------------------------------
    def _show_kind_widgets(self) -> None:
        named = self._kind == "named"
        for w in self._named_widgets:
            w.setVisible(named)

    def _on_kind(self, *_: Any) -> None:
        kind = KINDS[max(self._kind_combo.currentIndex(), 0)]
        if kind == self._kind:
            return
        self._kind = kind
        self._show_kind_widgets()
        if kind == "named":
            self._reset_drawing()
            self._bar.show()
            self._on_pick_named()  # type: ignore[attr-defined]
            return
        self._enter_kind()

    def _enter_kind(self) -> None:
        self._reset_drawing()
        self._set_title(f"Loss landscape: {KIND_LABELS[self._kind]}")  # type: ignore[attr-defined]
        self._note.setText("")
        self._show_message("computing landscape...")  # type: ignore[attr-defined]
        if self._last_snap is not None:
            self._start_landscape(self._last_snap)

    def _reset_drawing(self) -> None:
        self._worker.stop()
        self._surface = None
        self._box = None
        self._slice_params = None
        self._live, self._projector, self._lpath_last = None, None, -1
        self._lpath.clear()
        self._image.clear()
        self._contours.setData([], [])
        self._star.setData([], [])
        self._curve.setData([], [])
        self._clear_items()  # type: ignore[attr-defined]

    def _on_log(self, _on: bool) -> None:
        if self._live is not None and self._live.land.a2 is not None:
            land = self._live.land
            self._show_grid(land.a1, land.a2, land.loss)  # type: ignore[attr-defined]
        elif self._kind == "named" and getattr(self, "_surface", None) is not None:
            s = self._surface
            self._show_grid(s.a1, s.a2, s.loss)  # type: ignore[attr-defined]

    # ----- a computed piece ---------------------------------------------------------------
    def _on_landscape_piece(self, piece: LivePiece) -> None:
        if piece.kind != self._kind:
            return
        shown, now = self._live, time.perf_counter()
        if (not piece.land.complete and shown is not None and shown.kind == piece.kind
                and shown.land.complete and now - self._landscape_shown < self._patience()
                and self._last_snap is not None  # type: ignore[attr-defined]
                and not self._stopped(self._last_snap)):  # type: ignore[attr-defined]
            # a recompute's coarse preview while the run trains: the finished picture on
            # screen stays until the new one is finished too (a paused or finished run
            # shows the preview of where it stands at once)
            return
        if piece.land.complete:
            self._landscape_took, self._landscape_shown = now - self._landscape_started, now
        first = self._live is None or self._live.plane is not piece.plane
        self._live = piece
        land = piece.land
        if first:
            self._projector = Projector(piece.plane)
            self._lpath.set(piece.path)
            self._lpath_last = self._slice_update
        if land.a2 is None:
            self._show_line(land)
        else:
            self._curve.setData([], [])
            self._bar.show()
            self._show_grid(land.a1, land.a2, land.loss)  # type: ignore[attr-defined]
        m1, m2, low = land.min_at
        self._star.setData([m1], [low if land.a2 is None else m2])
        self._update_3d()
        if len(self._lpath):
            pts = self._lpath.points
            self._show_lpath()
            set_curve(self._current, [pts[-1, 0]], [pts[-1, 1]])
        self._hide_message()  # type: ignore[attr-defined]
        self._label_landscape(piece)

    def _show_line(self, land: ls.Landscape) -> None:
        """Interpolation: the loss over alpha as a curve, no heat map."""
        self._image.clear()
        self._contours.setData([], [])
        self._bar.hide()
        loss = land.loss[0]
        self._curve.setData(land.a1, np.where(np.isfinite(loss), loss, np.nan),
                            connect="finite")
        finite = loss[np.isfinite(loss)]
        on_path = self._lpath.points[:, 1]
        ys = np.concatenate([finite, on_path[np.isfinite(on_path)]])
        lo = float(ys.min()) if ys.size else 0.0
        hi = float(np.percentile(ys, 98)) if ys.size else 1.0
        hi = hi if hi > lo else lo + 1.0
        pad = 0.05 * (hi - lo)
        self._box = (float(land.a1[0]), float(land.a1[-1]), lo - pad, hi + pad)
        self._plot.getViewBox().setRange(xRange=(land.a1[0], land.a1[-1]),
                                         yRange=(lo - pad, hi + pad), padding=0)

    def _label_landscape(self, piece: LivePiece) -> None:
        cfg = self._config
        loss = cfg.loss.upper() if cfg is not None else "loss"
        land = piece.land
        n = sum(int(np.size(v)) for k, v in piece.plane.center.items()
                if k.startswith("W") or k == "c")
        self._set_title(f"Loss landscape ({loss}): {KIND_LABELS[piece.kind]} around "  # type: ignore[attr-defined]
                        f"update {self._slice_update:,}")
        low = self._fmt(land.min_at[2])
        if piece.kind == "random":
            self._plot.setLabel("bottom", "a1 (random direction 1)")
            self._plot.setLabel("left", "a2 (random direction 2)")
            text = (f"All {n:,} weights move along two random directions, each unit's "
                    "scaled to that unit's own size (filter-normalized, Li et al. 2018; "
                    "biases held): at ±1 every unit moves by its own norm.")
        elif piece.kind == "pca":
            e1, e2 = land.explained_variance or (float("nan"), float("nan"))
            self._plot.setLabel("bottom", f"PC1 ({e1:.0%} of the path's variance)")
            self._plot.setLabel("left", f"PC2 ({e2:.0%})")
            text = (f"The plane of the training path's two main directions: they hold "
                    f"{e1:.0%} + {e2:.0%} of its variance. The path is drawn on it.")
        else:
            self._plot.setLabel("bottom", f"α (0 = update {piece.first_update:,}, 1 = now)")
            self._plot.setLabel("left", loss)
            text = ("The loss on the straight line from the start to now, every parameter "
                    "moving together (Goodfellow et al. 2015); the path's points are at "
                    "their own loss, below the line where training found a better way.")
        text += f"  ★ lowest on the grid: {low}."
        if not land.complete:
            text += "  (coarse preview, refining...)"
        self._note.setText(text)


class PathPoints:
    """A path's (a1, a2) points, one appended a frame, in an array that grows by doubling
    (`points`: the points so far, a view, oldest first)."""

    def __init__(self) -> None:
        self._buf = np.empty((64, 2), dtype=np.float64)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def points(self) -> np.ndarray:
        return self._buf[:self._n]

    def append(self, a1: float, a2: float) -> None:
        if self._n == len(self._buf):
            grown = np.empty((2 * len(self._buf), 2), dtype=np.float64)
            grown[:self._n] = self._buf
            self._buf = grown
        self._buf[self._n] = (a1, a2)
        self._n += 1

    def set(self, points: np.ndarray) -> None:
        """The path anew (a new plane's projection of the recorded path)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        self._buf = np.empty((max(64, 2 * len(pts)), 2), dtype=np.float64)
        self._buf[:len(pts)] = pts
        self._n = len(pts)

    def clear(self) -> None:
        self._n = 0


def gl_unavailable() -> str | None:
    """Why a 3-D (OpenGL) view cannot be shown here, or None if it can."""
    platform = QGuiApplication.platformName()
    if platform in ("offscreen", "minimal", "vnc"):
        return f"this display ({platform}) has no OpenGL"
    try:
        import pyqtgraph.opengl  # noqa: F401
    except ImportError:
        return "PyOpenGL is not installed (pip install PyOpenGL)"
    return None


class Surface3D:
    """pyqtgraph's GLSurfacePlotItem of a landscape: height and colour by the (log-like)
    loss, the trained point as a dot at its height."""

    def __init__(self, theme: Any) -> None:
        import pyqtgraph.opengl as gl

        self._theme = theme
        self.widget = gl.GLViewWidget()
        self.widget.setBackgroundColor(theme.background)
        self.widget.setCameraPosition(distance=5.0, elevation=30, azimuth=-60)
        self.surface = gl.GLSurfacePlotItem(smooth=False, computeNormals=False)
        self.dot = gl.GLScatterPlotItem(size=12, pxMode=True)
        self.widget.addItem(self.surface)
        self.widget.addItem(self.dot)

    def show(self, land: ls.Landscape, log: bool) -> None:
        assert land.a2 is not None
        loss = np.asarray(land.loss, dtype=np.float64)
        finite = np.isfinite(loss)
        lo = float(loss[finite].min()) if finite.any() else 0.0
        hi = float(np.percentile(loss[finite], 99)) if finite.any() else 1.0
        delta = max(0.02 * (hi - lo), 1e-12 * max(abs(lo), 1.0))
        g = np.where(finite, np.minimum(loss, hi), hi)
        v = np.log10(g - lo + delta) if log else g
        vmin, vmax = float(v.min()), float(v.max())
        z = (v - vmin) / (vmax - vmin) if vmax > vmin else np.zeros_like(v)
        # Axes scaled to +-1 so any plane sits in the same box; height 0..1.
        x = land.a1 / max(float(np.abs(land.a1).max()), 1e-12)
        y = land.a2 / max(float(np.abs(land.a2).max()), 1e-12)
        cmap = pg.colormap.get(self._theme.colormap)
        # One colour per vertex, in the vertex order (x-major, as the mesh flattens them).
        colors = np.asarray(cmap.map(z.T.ravel(), mode="float"), dtype=np.float32)
        self.surface.setData(x=x, y=y, z=z.T, colors=colors)
        j0, k0 = int(np.argmin(np.abs(land.a1))), int(np.argmin(np.abs(land.a2)))
        self.dot.setData(pos=np.array([[x[j0], y[k0], z[k0, j0] + 0.02]]),
                         color=pg.mkColor(self._theme.current).getRgbF())
