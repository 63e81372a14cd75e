"""What reached the screen: a widget's grab as an RGB array, colour regions, contrast.

GUI tests assert on these, not on widget state: a banner whose `isVisible()` is true but
that no layout gave a place shows in no grab.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtGui import QColor, QImage


def on_screen(win: Any, widget: Any) -> np.ndarray:
    """What the frames' paints left in the window's backing store over `widget`, (h, w,
    3): the partial repaints as they reached the screen, not a paint made for a grab."""
    from PySide6.QtCore import QPoint

    at = widget.mapTo(win, QPoint(0, 0))
    image = win.screen().grabWindow(win.winId(), at.x(), at.y(), widget.width(),
                                    widget.height()).toImage()
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8,
                        count=image.bytesPerLine() * h).reshape(h, image.bytesPerLine())
    return raw[:, : w * 3].reshape(h, w, 3).copy()


def grab_rgb(widget: Any) -> np.ndarray:
    """The widget as it paints now, (height, width, 3) uint8."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8,
                        count=image.bytesPerLine() * h).reshape(h, image.bytesPerLine())
    return raw[:, : w * 3].reshape(h, w, 3).copy()


def rgb(colour: str) -> np.ndarray:
    c = QColor(colour)
    return np.array([c.red(), c.green(), c.blue()], dtype=np.int16)


def colour_mask(img: np.ndarray, colour: str, tol: int = 12) -> np.ndarray:
    """Pixels within `tol` (per channel) of `colour`."""
    return (np.abs(img.astype(np.int16) - rgb(colour)) <= tol).all(axis=2)


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the rows and columns that are mostly True, or None.

    Rows / columns count if at least half their pixels within the region are set, so a
    few stray pixels of the same colour elsewhere (a plot's line) do not stretch it.
    """
    rows = np.flatnonzero(mask.mean(axis=1) > 0.3)
    if rows.size == 0:
        return None
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    cols = np.flatnonzero(mask[top:bottom].mean(axis=0) > 0.3)
    if cols.size == 0:
        return None
    return top, int(cols[0]), bottom, int(cols[-1]) + 1


def luminance(colours: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB colours (..., 3) in 0..255."""
    c = np.asarray(colours, dtype=np.float64) / 255.0
    lin = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def contrast(a: np.ndarray, b: np.ndarray) -> float:
    """WCAG contrast ratio of two colours."""
    la, lb = float(luminance(a)), float(luminance(b))
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def text_contrast(region: np.ndarray) -> float:
    """Contrast of the text in `region` against its background, from the pixels.

    The background is the region's most common colour; the text colour is the pixel
    farthest from it in luminance among the pixels that differ from it (the cores of
    glyph strokes; antialiased edges lie between the two). 1.0 if the region holds no text.
    """
    flat = region.reshape(-1, 3)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    background = colours[np.argmax(counts)]
    lum = luminance(flat)
    diff = np.abs(lum - luminance(background))
    if diff.max() < 1e-6:
        return 1.0
    # the strongest 2% of the differing pixels: glyph cores, robust to a stray pixel
    differing = diff[diff > 1e-3]
    strong = np.quantile(differing, 0.98)
    text = flat[np.argmin(np.abs(diff - strong))]
    return contrast(text, background)


def ink_under_legend(plot: Any) -> int:
    """How many pixels of what `plot`'s legend names (its points and curves) and of the
    labels over its data lie under the legend's box, in the grab: the plot grabbed with
    the legend hidden against the same with those items hidden too (0: it hides nothing)."""
    import pyqtgraph as pg

    legend = plot.getPlotItem().legend
    if legend is None or not legend.isVisible():
        return 0
    box = plot.mapFromScene(legend.sceneBoundingRect()).boundingRect()
    kinds = (pg.PlotDataItem, pg.PlotCurveItem, pg.ScatterPlotItem, pg.BarGraphItem)
    data = [sample.item for sample, _label in legend.items
            if isinstance(sample.item, kinds) and sample.item.isVisible()]
    data += [it for it in plot.getPlotItem().items
             if isinstance(it, pg.TextItem) and it.isVisible()]
    legend.hide()
    drawn = grab_rgb(plot).astype(int)
    for it in data:
        it.hide()
    empty = grab_rgb(plot).astype(int)
    for it in data:
        it.show()
    legend.show()
    rows = slice(max(box.top(), 0), box.bottom())
    cols = slice(max(box.left(), 0), box.right())
    return int((np.abs(drawn[rows, cols] - empty[rows, cols]).max(axis=2) > 60).sum())


def shown_view(qtbot: Any, view: Any, trainer: Any, size: tuple[int, int] = (640, 480)
               ) -> Any:
    """`view` shown at `size`, set to `trainer`'s run and drawing its snapshot."""
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    view.set_run(trainer.config, trainer.data, trainer.param_names())
    qtbot.waitExposed(view)
    view.show_snapshot(trainer.snapshot())
    return view
