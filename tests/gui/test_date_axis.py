"""The series view's date axis: one row of full labels that fit the axis."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from gui.views.base import epoch_seconds
from gui.views.date_axis import DAY, DateAxis


def _sec(day: str) -> float:
    return float(epoch_seconds(np.array([day], dtype="datetime64[D]"))[0])


@pytest.fixture
def axis(qtbot) -> DateAxis:
    return DateAxis()


def _labels(axis: DateAxis, lo: str, hi: str, px: float) -> tuple[float, list[str]]:
    (spacing, values), = axis.tickValues(_sec(lo), _sec(hi), px)
    return spacing, axis.tickStrings(values, 1.0, spacing)


def test_six_weeks_get_weekly_labels_on_mondays(axis: DateAxis) -> None:
    spacing, labels = _labels(axis, "2020-12-27", "2021-02-14", 600)
    assert spacing == 7 * DAY
    assert labels[:3] == ["Dec 28", "Jan 4", "Jan 11"]
    assert all(dt.datetime.strptime(f"{s} 2021", "%b %d %Y").weekday() == 0 for s in labels[1:])


def test_a_few_days_get_a_label_each(axis: DateAxis) -> None:
    spacing, labels = _labels(axis, "2021-01-01", "2021-01-06", 600)
    assert spacing == DAY
    assert labels == ["Jan 1", "Jan 2", "Jan 3", "Jan 4", "Jan 5", "Jan 6"]


def test_years_of_data_get_months_or_years_that_fit(axis: DateAxis) -> None:
    spacing, labels = _labels(axis, "2017-01-01", "2021-12-31", 600)
    assert labels and len(labels) * 48 <= 600
    assert all(s.isdigit() or len(s.split()) == 2 for s in labels)
    assert "2018" in labels or "Jan 2018" in labels
    spacing, labels = _labels(axis, "2017-01-01", "2021-12-31", 2000)
    assert spacing < 365 * DAY and "Jul 2019" in labels


@pytest.mark.parametrize("px", [120, 300, 800, 1600])
@pytest.mark.parametrize("days", [3, 20, 60, 400, 1800, 20000])
def test_labels_never_crowd(axis: DateAxis, px: float, days: int) -> None:
    lo = _sec("2010-03-07")
    ticks = axis.tickValues(lo, lo + days * DAY, px)
    assert len(ticks) == 1                       # one level: nothing drawn on top of it
    spacing, values = ticks[0]
    labels = axis.tickStrings(values, 1.0, spacing)
    assert all(lo <= v <= lo + days * DAY for v in values)
    assert len(set(labels)) == len(labels)       # no label twice
    if len(values) > 1:
        assert len(values) * 44 <= px + 60       # each label has ~its width of room
