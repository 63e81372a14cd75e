"""A loss landscape as a PNG, headless (Pillow + numpy; no Qt, no plotting library).

A plane is a heat map on a log-like colour scale (so the valley shows, as in the app's
surface view) with contour lines (contourpy), the projected training path, the trained
point and the lowest grid point; a line is a curve of the loss over alpha with the path's
recorded (alpha, loss) points. Colours: matplotlib's viridis, sampled at 9 stops.
"""

from __future__ import annotations

from pathlib import Path

import contourpy
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.landscape import Landscape

# viridis at 0, 1/8, ..., 1 (matplotlib's _viridis_data), linearly interpolated between.
_VIRIDIS = np.array([
    (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
    (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37)], dtype=np.float64)
BACK, FORE, PATH, CURRENT, MINIMUM = (255, 255, 255), (30, 30, 30), (230, 60, 60), \
    (255, 255, 255), (255, 200, 0)
W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 600, 80, 40, 50, 60
N_CONTOURS = 12


def colormap(v: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> RGB uint8 (viridis)."""
    t = np.clip(np.nan_to_num(v, nan=1.0), 0.0, 1.0) * (len(_VIRIDIS) - 1)
    i = np.minimum(t.astype(int), len(_VIRIDIS) - 2)
    f = (t - i)[..., None]
    return (_VIRIDIS[i] * (1 - f) + _VIRIDIS[i + 1] * f).round().astype(np.uint8)


def log_levels(loss: np.ndarray) -> np.ndarray:
    """The heat map's value in [0, 1]: log(loss - min + delta), clipped at the 99th
    percentile (the same log-like scale as the app's surface view)."""
    finite = np.isfinite(loss)
    if not finite.any():
        return np.ones_like(loss)
    lo = float(loss[finite].min())
    hi = float(np.percentile(loss[finite], 99))
    delta = max(0.02 * (hi - lo), 1e-12 * max(abs(lo), 1.0))
    v = np.log10(np.where(finite, np.minimum(loss, hi), hi) - lo + delta)
    a, b = np.log10(delta), np.log10(hi - lo + delta)
    return (v - a) / (b - a) if b > a else np.zeros_like(v)


def write_png(path: str | Path, land: Landscape, title: str, unit: str) -> None:
    """Draw `land` to `path` (PNG); OSError says why it could not be written."""
    img = Image.new("RGB", (W, H), BACK)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    draw.text((LEFT, 12), title, fill=FORE, font=font)
    if land.a2 is None:
        _line(draw, land, pw, ph, font, unit)
    else:
        _plane(img, draw, land, pw, ph, font)
    draw.rectangle((LEFT, TOP, LEFT + pw, TOP + ph), outline=FORE)
    try:
        img.save(Path(path), format="PNG")
    except (OSError, ValueError) as exc:
        raise OSError(f"cannot write {path}: {exc}") from None


def _plane(img: Image.Image, draw: ImageDraw.ImageDraw, land: Landscape, pw: int, ph: int,
           font: ImageFont.ImageFont) -> None:
    assert land.a2 is not None
    a1, a2 = land.a1, land.a2
    v = log_levels(land.loss)
    rgb = colormap(v[::-1])                               # rows over a2, top = largest
    heat = Image.fromarray(rgb, "RGB").resize((pw, ph), Image.Resampling.NEAREST)
    img.paste(heat, (LEFT, TOP))

    def to_px(x: float, y: float) -> tuple[float, float]:
        fx = (x - a1[0]) / (a1[-1] - a1[0])
        fy = (y - a2[0]) / (a2[-1] - a2[0])
        return LEFT + fx * pw, TOP + (1 - fy) * ph

    gen = contourpy.contour_generator(x=a1, y=a2, z=v)
    for level in np.linspace(0, 1, N_CONTOURS + 2)[1:-1]:
        for line in gen.lines(level):
            if len(line) > 1:
                draw.line([to_px(x, y) for x, y in line], fill=(255, 255, 255), width=1)
    path = land.path[np.isfinite(land.path).all(axis=1)] if len(land.path) else land.path
    if len(path) > 1:
        draw.line([to_px(x, y) for x, y in path], fill=PATH, width=2)
    m1, m2, _ = land.min_at
    if np.isfinite(m1):
        mx, my = to_px(m1, m2)
        draw.regular_polygon((mx, my, 9), 5, fill=MINIMUM, outline=FORE)
    cx, cy = to_px(*land.origin[:2])          # the trained point, over the star
    draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), fill=CURRENT, outline=FORE)
    _ticks(draw, a1, a2, pw, ph, font)
    draw.text((LEFT + pw // 2 - 10, H - 22), "a1", fill=FORE, font=font)
    draw.text((12, TOP + ph // 2 + 16), "a2", fill=FORE, font=font)


def _line(draw: ImageDraw.ImageDraw, land: Landscape, pw: int, ph: int,
          font: ImageFont.ImageFont, unit: str) -> None:
    a1, loss = land.a1, land.loss[0]
    finite = np.isfinite(loss)
    pts = land.path[np.isfinite(land.path).all(axis=1)] if len(land.path) else land.path
    ys = np.concatenate([loss[finite], pts[:, 1] if len(pts) else []])
    lo, hi = (float(ys.min()), float(np.percentile(ys, 99))) if ys.size else (0.0, 1.0)
    hi = hi if hi > lo else lo + 1.0

    def to_px(x: float, y: float) -> tuple[float, float]:
        fy = (min(y, hi) - lo) / (hi - lo)
        return LEFT + (x - a1[0]) / (a1[-1] - a1[0]) * pw, TOP + (1 - fy) * ph

    draw.line([to_px(x, y) for x, y in zip(a1[finite], loss[finite], strict=True)],
              fill=(44, 113, 142), width=3)
    for x, y in pts:
        px, py = to_px(x, y)
        draw.ellipse((px - 2, py - 2, px + 2, py + 2), fill=PATH)
    for x in (0.0, 1.0):
        px, _ = to_px(x, lo)
        draw.line([(px, TOP), (px, TOP + ph)], fill=(160, 160, 160), width=1)
    _ticks(draw, a1, np.array([lo, hi]), pw, ph, font)
    draw.text((LEFT + pw // 2 - 20, H - 22), "alpha", fill=FORE, font=font)
    draw.text((8, TOP - 16), f"loss ({unit})", fill=FORE, font=font)


def _ticks(draw: ImageDraw.ImageDraw, xs: np.ndarray, ys: np.ndarray, pw: int, ph: int,
           font: ImageFont.ImageFont) -> None:
    for f in (0.0, 0.5, 1.0):
        x = xs[0] + f * (xs[-1] - xs[0])
        draw.text((LEFT + f * pw - 12, TOP + ph + 6), f"{x:.3g}", fill=FORE, font=font)
        y = ys[0] + f * (ys[-1] - ys[0])
        draw.text((LEFT - 70, TOP + (1 - f) * ph - 6), f"{y:.4g}", fill=FORE, font=font)
