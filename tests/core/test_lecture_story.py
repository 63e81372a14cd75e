"""The lecture's three tables on the shipped channel data tell the lecture's story.

The tables are trained once per module with fewer network updates than `fnlab table`
(1,200 instead of 2,000) so the file stays quick; the story already holds by then.
Losses are compared, never timed.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.data import load_builtin
from core.experiments import lecture_tables, run_tables

NET_UPDATES = 1200


@pytest.fixture(scope="module")
def rows() -> dict[tuple[int, str], dict[str, Any]]:
    exps = lecture_tables("channel", net_updates=NET_UPDATES)
    rows, cancelled = run_tables(exps, load_builtin("channel"))
    assert not cancelled
    return {(r["table"], r["label"]): r for r in rows}


def _row(rows: dict[tuple[int, str], dict[str, Any]], table: int, days: int = 56,
         units: int = 0, layers: int = 0) -> dict[str, Any]:
    for (t, _), r in rows.items():
        if (t, r["days"], r["units"], r["layers"]) == (table, days, units, layers):
            return r
    raise AssertionError(f"no row {table}, {days} days, {units} x {layers}")


def _loss(row: dict[str, Any], which: str) -> float:
    value = row[f"{which}_loss"]
    assert value is not None, f"{row['label']}: no {which} loss"
    return float(value) / 1000.0                      # in k, as the lecture speaks


def test_seven_days_beat_one_day_on_training_loss(rows: dict) -> None:
    train = {d: _loss(_row(rows, 1, d), "train") for d in (1, 7, 28, 56)}
    assert train[1] > 1.05 * train[7] > 1.05 * 1.05 * train[28]
    assert train[56] <= 1.01 * train[28] and train[28] < 1.15 * train[56]
    assert 0.35 < train[1] < 0.6                      # lecture: 0.48k


def test_unseen_year_is_a_little_harder_than_training(rows: dict) -> None:
    for days in (1, 7, 28, 56):
        r = _row(rows, 1, days)
        ratio = _loss(r, "unseen") / _loss(r, "train")
        assert 1.0 < ratio < 1.5, f"{r['label']}: unseen / training = {ratio:.2f}"


def test_more_relus_lower_the_training_loss(rows: dict) -> None:
    train = [_loss(_row(rows, 2, units=u, layers=1), "train") for u in (10, 100, 1000)]
    assert train[0] > train[1] > train[2]
    assert train[0] <= 1.02 * _loss(_row(rows, 2), "train")   # 10 ReLU at least as good


def test_more_layers_lower_the_training_loss(rows: dict) -> None:
    train = [_loss(_row(rows, 3, units=100, layers=n), "train") for n in (1, 2, 3, 4)]
    assert train[0] > train[1] > train[2] > train[3]


def test_deepest_network_overfits(rows: dict) -> None:
    unseen = [_loss(_row(rows, 3, units=100, layers=n), "unseen") for n in (1, 2, 3, 4)]
    assert unseen[3] > 1.05 * min(unseen[:3])


def test_a_small_network_is_about_as_good_as_linear_on_unseen(rows: dict) -> None:
    linear = _loss(_row(rows, 2), "unseen")
    best = min(_loss(_row(rows, 2, units=u, layers=1), "unseen") for u in (10, 100))
    assert best < 1.05 * linear
