"""One update, explained, as the class sees it: arrows on a surface and the numbers.

Shared by the race view (its step panel, live and in replay) and the window's surface
(its live step, and a replayed moment of the 1-day linear run), so all draw the lecture's
w¹ = w⁰ − η ∂L/∂w alike: −η∇L from the point, momentum's (or the scaling's) part from its
tip, and the step taken from the point. The numbers come from `core.step_explained.StepExplained`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from core.step_explained import StepExplained
from gui.views.base import set_curve

HEAD = 0.03          # arrow head length, as a share of the view's span
HEAD_ANGLE = 0.45    # radians either side of the shaft


def set_arrow(item: Any, view_box: Any, x: float, y: float, dx: float, dy: float,
              clip: tuple[float, float, float, float] | None = None) -> bool:
    """Draw an arrow from (x, y) by (dx, dy) into a PlotCurveItem as one segmented curve
    (a shaft and a two-stroke head, sized for the view's range): no item per frame.
    With `clip` (x0, x1, y0, y1), a step reaching past it is drawn up to its edge in its
    own direction (a huge step still shows where it goes). Empties the item for a zero
    or non-finite step; True if drawn."""
    if not (math.isfinite(dx) and math.isfinite(dy) and math.isfinite(x)
            and math.isfinite(y)) or (dx == 0 and dy == 0):
        set_curve(item, [], [])
        return False
    if clip is not None:
        t = 1.0
        for pos, d, lo, hi in ((x, dx, clip[0], clip[1]), (y, dy, clip[2], clip[3])):
            if pos + d > hi:
                t = min(t, (hi - pos) / d)
            elif pos + d < lo:
                t = min(t, (lo - pos) / d)
        if t <= 0.0:
            item.setData([], [])
            return False
        dx, dy = dx * t, dy * t
    (x0, x1), (y0, y1) = view_box.viewRange()
    sx, sy = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
    ux, uy = dx / sx, dy / sy
    head = min(HEAD, 0.4 * math.hypot(ux, uy))
    ang = math.atan2(uy, ux)
    xs, ys = [x, x + dx], [y, y + dy]
    for side in (-1, 1):
        a = ang + math.pi - side * HEAD_ANGLE
        xs += [x + dx, x + dx + head * math.cos(a) * sx]
        ys += [y + dy, y + dy + head * math.sin(a) * sy]
    set_curve(item, np.array(xs), np.array(ys),
              connect=np.array([1, 0, 1, 0, 1, 0], dtype=bool))
    return True


def extra_name(e: StepExplained) -> str:
    """What the step taken adds to −η∇L, named for the optimizer."""
    if e.has_momentum:
        return "momentum part μv"
    return "Adam's moments' part" if e.optimizer == "adam" else "the scaling's part"


def step_html(name: str, e: StepExplained, unit_note: str = "") -> str:
    """The step panel: ∂L/∂w, ∂L/∂b, η, −η∇L and w¹ = w⁰ + Δw with the moment's
    numbers (rich text); what is not known is said in words."""
    gw, gb = e.grad
    gdw, gdb = e.gradient_step
    where = "replayed " if e.replay else ""
    lines = [f"<b>{name}</b>, {where}update {e.update:,} → {e.update + 1:,}{unit_note}",
             f"∂L/∂w = {gw:+.4g}, ∂L/∂b = {gb:+.4g}, η = {e.lr:g}",
             f"−η∇L = ({gdw:+.4g}, {gdb:+.4g})"]
    if e.taken is not None:
        sw, sb = e.taken
        lines += [f"w<sup>1</sup> = w<sup>0</sup> + Δw = {e.w:.4f} {sw:+.4g} = {e.w + sw:.4f}",
                  f"b<sup>1</sup> = b<sup>0</sup> + Δb = {e.b:.4f} {sb:+.4g} = {e.b + sb:.4f}"]
        extra = e.extra
        if extra is not None:
            lines.append(f"{extra_name(e)}: ({extra[0]:+.4g}, {extra[1]:+.4g})")
            lines.append(f"step taken = −η∇L + {extra_name(e).removesuffix(' μv')}")
    else:
        lines.append(f"w = {e.w:.4f}, b = {e.b:.4f}")
    if e.note:
        lines.append(f"<i>{e.note}</i>")
    return "<br>".join(lines)


def step_line(e: StepExplained) -> str:
    """The same numbers as compact plain text (over a surface, where room is short): the
    gradient, then the step as the sum it is, then the note."""
    gw, gb = e.grad
    gdw, gdb = e.gradient_step
    lines = [f"Update {e.update:,} → {e.update + 1:,} (replay): ∂L/∂w = {gw:+.3g}, "
             f"∂L/∂b = {gb:+.3g}, η = {e.lr:g}",
             f"−η∇L ({gdw:+.3g}, {gdb:+.3g})"]
    extra = e.extra
    if extra is not None:
        name = extra_name(e).removesuffix(" μv").removeprefix("the ")
        lines[-1] += f" + {name} ({extra[0]:+.3g}, {extra[1]:+.3g})"
    if e.taken is not None:
        lines[-1] += f" = step taken ({e.taken[0]:+.3g}, {e.taken[1]:+.3g})"
    if e.note:
        lines.append(e.note[0].upper() + e.note[1:] + ".")
    return "\n".join(lines)
