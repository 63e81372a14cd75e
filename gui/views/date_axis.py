"""A date axis with one row of labels ("Feb 2", "Mar 2021", "2021") that never overlap.

pyqtgraph's DateAxisItem draws several levels of ticks at once (a month's "Feb" beside
its days' "02"), and on a projector they run into each other. This axis picks a single
spacing (days, weeks, months or years) that leaves room for every label, and writes each
label in full. Values are seconds since 1970, as `gui.views.base.epoch_seconds` gives.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from gui.views.base import QuietAxis

DAY = 86400.0
DAY_STEPS = (1, 2, 7, 14)             # a 7- or 14-day spacing falls on Mondays
MONTH_STEPS = (1, 2, 3, 6)
YEAR_STEPS = (1, 2, 5, 10, 20, 50, 100)
MONDAY_OFFSET = 4                     # 1970-01-01 was a Thursday: day 4 is a Monday
LABEL_PX = {"day": 56, "month": 80, "year": 48}   # room one label needs, at 1x font


def _date(seconds: float) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=math.floor(seconds / DAY + 0.5))


def _month_index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def _month_start(index: int) -> float:
    d = dt.date(index // 12, index % 12 + 1, 1)
    return float((d - dt.date(1970, 1, 1)).days) * DAY


class DateAxis(QuietAxis):
    """A bottom axis over dates (seconds since 1970) with one level of full labels."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(orientation="bottom", **kwargs)
        self.enableAutoSIPrefix(False)    # seconds since 1970 are not "x1e+09"
        self._unit = "day"

    def _room(self, kind: str) -> float:
        font = self.style.get("tickFont")
        scale = font.pointSizeF() / 9.0 if font is not None and font.pointSizeF() > 0 else 1.0
        return LABEL_PX[kind] * max(scale, 1.0)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list]]:
        if not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal or size <= 0:
            return []
        days = (maxVal - minVal) / DAY
        for step in DAY_STEPS:
            if days / step * self._room("day") <= size:
                self._unit = "day"
                offset = MONDAY_OFFSET if step % 7 == 0 else 0
                first = math.ceil((minVal / DAY - offset) / step) * step + offset
                last = math.floor(maxVal / DAY)
                return [(step * DAY, [d * DAY for d in range(first, last + 1, step)])]
        lo, hi = _month_index(_date(minVal)), _month_index(_date(maxVal))
        for step in MONTH_STEPS:
            if (hi - lo + 1) / step * self._room("month") <= size:
                self._unit = "month"
                first = -(-lo // step) * step
                ticks = [_month_start(m) for m in range(first, hi + 1, step)]
                return [(step * 30.4 * DAY, [t for t in ticks if minVal <= t <= maxVal])]
        y0, y1 = _date(minVal).year, _date(maxVal).year
        for step in YEAR_STEPS:
            if (y1 - y0 + 1) / step * self._room("year") <= size or step == YEAR_STEPS[-1]:
                self._unit = "year"
                first = -(-y0 // step) * step
                ticks = [_month_start(y * 12) for y in range(first, y1 + 1, step)]
                return [(step * 365.25 * DAY, [t for t in ticks if minVal <= t <= maxVal])]
        return []

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        out = []
        for v in values:
            if not math.isfinite(v):
                out.append("")
                continue
            d = _date(v)
            if spacing < 28 * DAY:
                out.append(f"{d:%b} {d.day}")
            elif spacing < 365 * DAY:
                out.append(f"{d:%b %Y}")
            else:
                out.append(f"{d.year}")
        return out

