"""The Sweep dock on a real LocalCluster: cells reach the screen as a heat map, the best is
starred, a click opens that run in the main views, Cancel keeps finished cells, a large
grid asks first, bad input is a visible line."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from core.config import RunConfig

LINEAR = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="adam",
                   lr=0.01, limit_updates=300)


def _sweep(win, qtbot):
    dock = win.docks["sweep"]
    dock.toggleViewAction().trigger()      # View > Sweep, as a user opens it
    view = win.views["sweep"]
    qtbot.waitUntil(lambda: not view.visibleRegion().isEmpty(), timeout=5000)
    return view


def _choose(view, across: str, across_values: str, down: str, down_values: str) -> None:
    view.x_name.setCurrentText(across)
    view.x_values.setText(across_values)
    view.y_name.setCurrentText(down)
    view.y_values.setText(down_values)


def _cell_pixel(view, x: int, y: int) -> QPoint:
    """Where cell (x, y)'s centre is drawn in the plot widget."""
    scene = view.plot.getPlotItem().getViewBox().mapViewToScene(QPointF(x, y))
    return view.plot.mapFromScene(scene)


def _color(image, p: QPoint) -> tuple[int, int, int]:
    c = image.pixelColor(p.x(), p.y())
    return c.red(), c.green(), c.blue()


def test_cells_fill_in_as_a_heat_map_and_a_click_opens_the_run(open_window, qtbot):
    win = open_window(LINEAR)
    view = _sweep(win, qtbot)
    _choose(view, "lr", "1e-3,1e-2,5e-2", "days", "1,7")
    view.run()
    qtbot.waitUntil(lambda: len(view.summaries) == 6, timeout=180_000)
    qtbot.waitUntil(lambda: not view.busy(), timeout=30_000)
    assert "done: 6 cells" in view.status.text()
    qtbot.wait(100)
    image = view.plot.grab().toImage()
    background = _color(image, QPoint(3, 3))
    colors = {(x, y): _color(image, _cell_pixel(view, x, y) + QPoint(0, 14))
              for x in range(3) for y in range(2)}
    assert all(c != background for c in colors.values()), colors
    # the colour follows the loss: the cell with the lowest and the highest differ
    losses = view.values_image()
    lo = np.unravel_index(np.nanargmin(losses), losses.shape)
    hi = np.unravel_index(np.nanargmax(losses), losses.shape)
    assert colors[(lo[1], lo[0])] != colors[(hi[1], hi[0])]
    best = view.best_cell()
    assert best == int(lo[1]) * 2 + int(lo[0])
    assert any("★" in t.textItem.toPlainText() for t in view._texts)

    # a click on the best cell trains that run in the main views
    cell = view.grid.cells[best]
    qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton,
                     pos=_cell_pixel(view, lo[1], lo[0]))
    qtbot.waitUntil(lambda: win.run_info is not None and win.run_info.config == cell.configs[0],
                    timeout=20_000)
    assert win.config.lr == cell.settings["lr"] and win.config.days == cell.settings["days"]


def test_cancel_keeps_the_finished_cells_and_ends_the_workers(open_window, qtbot):
    win = open_window(LINEAR)
    view = _sweep(win, qtbot)
    win.set_config(LINEAR.replace(model="relu", units=3, layers=1, limit_updates=None))
    qtbot.waitUntil(lambda: win.run_info is not None and win.run_info.config.model == "relu",
                    timeout=20_000)
    view.seeds.setText("0")
    _choose(view, "units", "1,2", "layers", "1,10")
    view.run()
    qtbot.waitUntil(lambda: len(view.summaries) >= 1, timeout=180_000)
    t0 = time.perf_counter()
    view.cancel()
    assert time.perf_counter() - t0 < 1.0
    kept = dict(view.summaries)
    assert "cancelled" in view.status.text()
    qtbot.waitUntil(lambda: not view.busy(), timeout=30_000)
    assert view.summaries == kept


def test_a_grid_over_500_cells_asks_first(open_window, qtbot):
    win = open_window(LINEAR)
    view = _sweep(win, qtbot)
    asked: list[str] = []
    view.confirm = lambda text: asked.append(text) or False
    _choose(view, "lr", "1e-4:1e-1:log:30", "units", "1:20:lin:20")
    view.run()
    assert asked and "600 cells" in asked[0]
    assert not view.busy() and view.grid is None
    assert "not run" in view.status.text()


@pytest.mark.parametrize("values", ["-0.1,0.1", "", "1e-4:1e-1:cubic:3"])
def test_bad_values_are_a_visible_line(open_window, qtbot, values):
    win = open_window(LINEAR)
    view = _sweep(win, qtbot)
    view.x_name.setCurrentText("lr")
    view.x_values.setText(values)
    view.run()
    assert not view.busy()
    text = view.status.text()
    assert text.startswith("--vary lr") and "\n" not in text
    assert view.status.isVisible() and view.status.visibleRegion().boundingRect().width() > 50
