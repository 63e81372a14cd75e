"""The Sweep view: a grid of runs over one or two settings, as a heat map that fills in live.

Why: "which learning rate / batch size / width works, and how sure are we?" is answered by
training every combination, not by one run. The grid is `core.sweep_grid.Grid` (the
numbers of `fnlab sweep` and `fnlab train`); the runs go to Dask (`core.sweep`): a
LocalCluster of one worker process per core, or the cluster named in the Scheduler field.
The sweep runs in a background job (gui/background.py, the app's threading idiom): the job
thread opens the cluster, yields each cell as its seeds finish and closes the cluster when
it ends or is cancelled; this view only draws. The shared settings are the main window's
current run; when the model or optimizer varies, each cell takes its own default learning
rate and update budget. Clicking a finished cell opens that run (its first seed) in the
main views.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from core.config import ConfigError, RunConfig, one_line
from core.snapshot import Snapshot
from core.sweep_grid import (
    CONFIRM_CELLS,
    VARY_FIELDS,
    Grid,
    GridError,
    parse_seeds,
    parse_vary,
)
from gui.background import BackgroundJob
from gui.theme import DARK, Theme
from gui.views.base import View

NONE = "(none)"
DEFAULT_VALUES = {"lr": "1e-4:1e-1:log:7", "batch": "8,32,128,full", "units": "1,3,10,30,100",
                  "layers": "1,2,3,4", "days": "1,7,28,56", "model": "linear,relu",
                  "optimizer": "gd,momentum,adam", "loss": "mae,mse"}
LABEL_PX = 64             # a cell this wide or wider has its loss written in it
DRIVER_CLOSE_SECONDS = 10   # a cancelled sweep's process closes its cluster within this
CONFIG_FIELDS = ("dataset", "column", "split", "days", "model", "units", "layers", "loss",
                 "optimizer", "lr", "batch_size", "limit_updates", "limit_epochs", "init")


def shared_settings(config: RunConfig, varied: list[str]) -> dict[str, Any]:
    """What every cell takes from the main window's run: its settings, with the learning
    rate and update budget left to each cell's default when the model or optimizer varies
    (a rate that suits Adam diverges plain GD), and the default budget for a run that has
    no limit (the app's runs may go on until paused)."""
    fields = {k: getattr(config, k) for k in CONFIG_FIELDS}
    if {"model", "optimizer"} & set(varied):
        fields["lr"] = None
        fields["limit_updates"] = fields["limit_epochs"] = None
    return fields


def sweep_job(grid: Grid, series: Any, scheduler: str | None, cancel: threading.Event
              ) -> Callable[[Callable[[], bool]], Any]:
    """The background job: runs `core.sweep_grid.drive` in a spawned process and yields
    what it sends: ("workers", n), ("cell", index, summary)..., ("done", cancelled) or
    ("error", line). On cancel it asks the process to stop, waits for it to close its
    cluster (ending it if it does not within DRIVER_CLOSE_SECONDS) and joins it."""
    import multiprocessing

    from core.sweep_grid import drive

    def job(should_stop: Callable[[], bool]):  # type: ignore[no-untyped-def]
        ctx = multiprocessing.get_context("spawn")     # a fresh process: no Qt in it
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(target=drive, args=(theirs, grid, series, scheduler or None),
                           name="fnlab-sweep")    # not daemonic: it starts workers
        proc.start()
        theirs.close()
        try:
            asked, deadline = False, math.inf
            while time.monotonic() < deadline:
                if (should_stop() or cancel.is_set()) and not asked:
                    with contextlib.suppress(OSError):
                        ours.send("stop")
                    asked, deadline = True, time.monotonic() + DRIVER_CLOSE_SECONDS
                if not ours.poll(0.05):
                    if not proc.is_alive() and not ours.poll(0):
                        return
                    continue
                try:
                    message = ours.recv()
                except EOFError:
                    return
                if not asked:
                    yield message
                if message[0] in ("done", "error"):
                    return
        finally:
            if proc.is_alive():
                if not asked:
                    with contextlib.suppress(OSError):   # it may have just closed its end
                        ours.send("stop")
                proc.join(DRIVER_CLOSE_SECONDS)
            if proc.is_alive():
                proc.terminate()
                proc.join(2.0)
            ours.close()

    return job


class SweepView(View):
    """Two settings' values -> Run -> a live heat map of final loss; click opens a run."""

    title = "Sweep: final loss per cell (★ best, × diverged)"
    open_requested = Signal(object)      # the RunConfig of a clicked cell

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self._grid: Grid | None = None
        self._summaries: dict[int, dict[str, Any]] = {}
        self._cancel = threading.Event()
        self._job = BackgroundJob("sweep", parent=self)
        self._job.item_ready.connect(self._on_item)
        self._job.failed.connect(self._on_failed)
        self._job.finished.connect(self._on_finished)
        self._texts: list[pg.TextItem] = []
        # Asked before a grid of more than CONFIRM_CELLS cells runs (tests replace it).
        self.confirm: Callable[[str], bool] = self._ask
        self._build()

    def _build(self) -> None:
        form = QGridLayout()
        names = list(VARY_FIELDS)
        self.x_name, self.y_name = QComboBox(self), QComboBox(self)
        self.x_name.addItems(names)
        self.y_name.addItems([NONE, *names])
        self.x_values, self.y_values = QLineEdit(self), QLineEdit(self)
        self.x_name.currentTextChanged.connect(lambda n: self.x_values.setText(
            DEFAULT_VALUES.get(n, "")))
        self.y_name.currentTextChanged.connect(lambda n: self.y_values.setText(
            DEFAULT_VALUES.get(n, "")))
        self.x_name.setCurrentText("lr")
        self.x_values.setText(DEFAULT_VALUES["lr"])
        self.y_name.setCurrentText("batch")
        self.seeds = QLineEdit("0", self)
        self.scheduler = QLineEdit(self)
        self.scheduler.setPlaceholderText("this machine (or tcp://HOST:8786)")
        self.color_by = QComboBox(self)
        self.color_by.addItems(["unseen loss", "training loss"])
        self.color_by.currentIndexChanged.connect(self._redraw)
        self.run_button = QPushButton("Run", self)
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        form.addWidget(QLabel("across"), 0, 0)
        form.addWidget(self.x_name, 0, 1)
        form.addWidget(self.x_values, 0, 2)
        form.addWidget(QLabel("down"), 1, 0)
        form.addWidget(self.y_name, 1, 1)
        form.addWidget(self.y_values, 1, 2)
        form.addWidget(QLabel("seeds"), 0, 3)
        form.addWidget(self.seeds, 0, 4)
        form.addWidget(QLabel("colour"), 1, 3)
        form.addWidget(self.color_by, 1, 4)
        form.addWidget(QLabel("scheduler"), 2, 0)
        form.addWidget(self.scheduler, 2, 1, 1, 2)
        form.addWidget(self.run_button, 2, 3)
        form.addWidget(self.cancel_button, 2, 4)
        form.setColumnStretch(2, 1)
        # Narrow when docked beside the surface on a 1280-pixel projector: the fields
        # shrink (their text scrolls), the window does not grow.
        for combo in (self.x_name, self.y_name, self.color_by):
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(5)
        for edit in (self.x_values, self.y_values, self.seeds, self.scheduler):
            edit.setMinimumWidth(40)
        self._layout.addLayout(form)
        self.status = QLabel("choose the settings and their values, then Run", self)
        self.status.setWordWrap(True)
        self._layout.addWidget(self.status)
        self.plot = self._make_plot("", "")
        self.plot.setMinimumHeight(140)
        self.plot.showGrid(x=False, y=False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.getPlotItem().getViewBox().invertY(True)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setColorMap(pg.colormap.get(self._theme.colormap))
        self.plot.addItem(self._image)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self._layout.addWidget(self.plot, 1)

    # ---- the View interface: the main window's run gives the shared settings -----------
    def _draw(self, snap: Snapshot) -> None:
        """Nothing follows the live run; the sweep draws its own cells."""

    def shutdown(self) -> None:
        self._cancel.set()
        self._job.stop(timeout=15.0)   # the job thread closes the cluster on its way out

    def busy(self) -> bool:
        return self._job.is_running()

    # ---- running -----------------------------------------------------------------------
    def build_grid(self) -> Grid | None:
        """The grid the fields describe, or None with the reason in the status line (and
        None when the user declines a grid over CONFIRM_CELLS cells)."""
        if self._config is None:
            self._say("no run yet to take the shared settings from", error=True)
            return None
        try:
            vary = [parse_vary(f"{self.x_name.currentText()}={self.x_values.text()}")]
            if self.y_name.currentText() != NONE:
                vary.append(parse_vary(f"{self.y_name.currentText()}={self.y_values.text()}"))
            seeds = parse_seeds(self.seeds.text())
            shared = shared_settings(self._config, [n for n, _ in vary])
            cells = math.prod(len(v) for _, v in vary)
            confirmed = cells <= CONFIRM_CELLS or self.confirm(
                f"This sweep has {cells:,} cells x {len(seeds)} seed(s): "
                f"{cells * len(seeds):,} training runs. Run them all?")
            if not confirmed:
                self._say(f"not run: {cells:,} cells")
                return None
            return Grid.build(shared, vary, seeds, confirmed=True)
        except (GridError, ConfigError) as exc:
            self._say(one_line(exc), error=True)
            return None

    def run(self) -> None:
        """Start the sweep (a running one is cancelled first)."""
        grid = self.build_grid()
        if grid is None or self._data is None:
            return
        self.cancel()
        self._grid = grid
        self._summaries = {}
        self._cancel = threading.Event()
        self._job.start(sweep_job(grid, self._data.series, self.scheduler.text().strip(),
                                  self._cancel))
        self.cancel_button.setEnabled(True)
        self._say(f"starting workers for {len(grid.cells)} cells x {len(grid.seeds)} "
                  "seed(s)...")
        self._redraw()

    def cancel(self) -> None:
        """Stop now, keep the finished cells; the job thread closes the workers."""
        if not self._job.is_running() or self._cancel.is_set():
            return
        self._cancel.set()
        self.cancel_button.setEnabled(False)
        self._say(f"cancelled: {len(self._summaries)} of "
                  f"{len(self._grid.cells) if self._grid else 0} cells finished")

    @property
    def summaries(self) -> dict[int, dict[str, Any]]:
        return dict(self._summaries)

    @property
    def grid(self) -> Grid | None:
        return self._grid

    def _on_item(self, token: int, item: Any) -> None:
        if token != self._job.token or self._grid is None:
            return
        if item[0] == "workers":
            self._say(f"running on {item[1]} worker process(es)...")
            return
        if item[0] == "error":
            self._on_failed(token, item[1])
            return
        if item[0] == "done":
            return
        _, index, summary = item
        if self._cancel.is_set():
            return
        self._summaries[index] = summary
        self._say(f"{len(self._summaries)} of {len(self._grid.cells)} cells")
        self._redraw()

    def _on_failed(self, token: int, message: str) -> None:
        if token == self._job.token:
            self.cancel_button.setEnabled(False)
            self._say(f"sweep stopped: {message}", error=True)

    def _on_finished(self, token: int) -> None:
        if token != self._job.token or self._grid is None:
            return
        self.cancel_button.setEnabled(False)
        if not self._cancel.is_set() and "stopped" not in self.status.text():
            self._say(f"done: {len(self._summaries)} cells; {self.colour_note()}; "
                      "click a cell to open its run")

    def colour_note(self) -> str:
        """What the colours mean, in the data's unit."""
        img = self.values_image()
        if not np.isfinite(img).any():
            return "no cell has a loss (all diverged)"
        fmt = self._data.fmt if self._data is not None else (lambda v: f"{v:.3g}")
        return (f"colour: {self.color_by.currentText()} from {fmt(float(np.nanmin(img)))} "
                f"(dark) to {fmt(float(np.nanmax(img)))} (bright), log scale")

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {self._theme.warning};" if error else "")

    def _ask(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Large sweep", text)
        return answer == QMessageBox.StandardButton.Yes

    # ---- drawing -------------------------------------------------------------------------
    def _shape(self) -> tuple[int, int]:
        assert self._grid is not None
        nx = len(self._grid.vary[0][1])
        ny = len(self._grid.vary[1][1]) if len(self._grid.vary) > 1 else 1
        return nx, ny

    def values_image(self) -> np.ndarray:
        """(rows, columns) of the coloured loss; nan where a cell has none yet."""
        nx, ny = self._shape()
        key = "unseen_loss" if self.color_by.currentIndex() == 0 else "train_loss"
        img = np.full((ny, nx), np.nan)
        for index, summary in self._summaries.items():
            if summary[key] is not None:
                img[index % ny, index // ny] = summary[key]
        return img

    def best_cell(self) -> int | None:
        key = "unseen_loss" if self.color_by.currentIndex() == 0 else "train_loss"
        done = [(s[key], i) for i, s in self._summaries.items() if s[key] is not None]
        return min(done)[1] if done else None

    def _redraw(self) -> None:
        for text in self._texts:
            self.plot.removeItem(text)
        self._texts = []
        if self._grid is None:
            return
        nx, ny = self._shape()
        img = self.values_image()
        finite = img[np.isfinite(img)]
        logs = np.log10(np.where(np.isfinite(img) & (img > 0), img, np.nan))
        if finite.size:
            lo, hi = float(np.nanmin(logs)), float(np.nanmax(logs))
            self._image.setImage(logs, levels=(lo, hi if hi > lo else lo + 1e-9))
        else:
            self._image.setImage(np.full((ny, nx), np.nan), levels=(0.0, 1.0))
        self._image.setRect(-0.5, -0.5, nx, ny)
        self.plot.setXRange(-0.5, nx - 0.5, padding=0)
        self.plot.setYRange(-0.5, ny - 0.5, padding=0)
        x_name, x_vals = self._grid.vary[0]
        self.plot.getAxis("bottom").setTicks([[(i, _short(v)) for i, v in enumerate(x_vals)]])
        self.plot.setLabel("bottom", x_name)
        if len(self._grid.vary) > 1:
            y_name, y_vals = self._grid.vary[1]
            self.plot.getAxis("left").setTicks([[(j, _short(v)) for j, v in enumerate(y_vals)]])
            self.plot.setLabel("left", y_name)
        else:
            self.plot.getAxis("left").setTicks([[(0, "")]])
            self.plot.setLabel("left", "")
        best = self.best_cell()
        box = self.plot.getPlotItem().getViewBox()
        label = box.width() / nx >= LABEL_PX and box.height() / ny >= LABEL_PX / 3
        fmt = self._data.fmt if self._data is not None else (lambda v: f"{v:.3g}")
        for index, summary in self._summaries.items():
            x, y = index // ny, index % ny
            parts = []
            if index == best:
                parts.append("★")
            if summary["diverged"]:
                parts.append(f"× {summary['diverged']}/{len(summary['seeds'])}")
            value = img[y, x]
            if label and np.isfinite(value):
                parts.append(fmt(float(value)))
            if parts:
                self._add_text(" ".join(parts), x, y, bold=index == best)

    def _add_text(self, text: str, x: int, y: int, bold: bool) -> None:
        html = (f"<span style='color:#ffffff; font-size:{self._theme.font_pt}pt; "
                f"{'font-weight:bold;' if bold else ''}'>{text}</span>")
        item = pg.TextItem(html=html, anchor=(0.5, 0.5), fill=pg.mkBrush(0, 0, 0, 110))
        item.setPos(x, y)
        self.plot.addItem(item)
        self._texts.append(item)

    def _on_click(self, ev: Any) -> None:
        if self._grid is None or ev.button() != Qt.MouseButton.LeftButton:
            return
        pos = self.plot.getPlotItem().getViewBox().mapSceneToView(ev.scenePos())
        self.open_cell_at(pos.x(), pos.y())

    def open_cell_at(self, x: float, y: float) -> bool:
        """Open the finished cell under plot coordinates (x, y) in the main views."""
        if self._grid is None:
            return False
        nx, ny = self._shape()
        i, j = round(x), round(y)
        if not (0 <= i < nx and 0 <= j < ny):
            return False
        index = i * ny + j
        if index not in self._summaries:
            return False
        cell = self._grid.cells[index]
        self.open_requested.emit(cell.configs[0])
        shown = ", ".join(f"{k} {_short(v)}" for k, v in cell.settings.items())
        self._say(f"opened {shown} (seed {cell.configs[0].seed}) in the main views")
        return True

    def _restyle(self) -> None:
        self._image.setColorMap(pg.colormap.get(self._theme.colormap))
        self._redraw()


def _short(value: Any) -> str:
    """A tick label: 3.2e-4, 0.01, 0.32, 8, full."""
    if not isinstance(value, float):
        return str(value)
    if value != 0 and abs(value) < 1e-2:
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return f"{value:.2g}"
