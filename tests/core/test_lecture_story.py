"""The lecture's three tables on the shipped channel data, for each of the training seeds
0, 1 and 2 (not one lucky seed): the parts of the lecture's story that hold are asserted;
for every claim, what `fnlab table` prints ("holds" / "does NOT hold") is checked against
the rows, so the screen never claims more than the data shows.

The rows come from `fnlab table`'s own experiments with its default settings (the same
optimizer, learning rate, initialisation and update budget for every network row), trained
here in full. Losses are compared, never timed.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import pytest

from core.data import load_builtin
from core.experiments import (
    NET_SETTINGS,
    STILL_LEARNING,
    STORY_EVIDENCE,
    combine_seeds,
    late_fall,
    run_tables,
    seeded_tables,
    still_learning,
    story_checks,
)

SEEDS = (0, 1, 2)
Rows = dict[tuple[int, int, str], dict[str, Any]]


@pytest.fixture(scope="module")
def runs() -> list[dict[str, Any]]:
    runs, cancelled = run_tables(seeded_tables("channel", seeds=SEEDS), load_builtin("channel"))
    assert not cancelled
    return runs


@pytest.fixture(scope="module")
def rows(runs: list[dict[str, Any]]) -> Rows:
    return {(r["seed"], r["table"], r["label"]): r for r in runs}


def _loss(rows: Rows, seed: int, table: int, which: str, days: int = 56, units: int = 0,
          layers: int = 0) -> float:
    for (s, t, _), r in rows.items():
        if (s, t, r["days"], r["units"], r["layers"]) == (seed, table, days, units, layers):
            value = r[f"{which}_loss"]
            assert value is not None, f"{r['label']}, seed {seed}: no {which} loss"
            return float(value) / 1000.0              # in k, as the lecture speaks
    raise AssertionError(f"no row {table}, {days} days, {units} x {layers}, seed {seed}")


def test_every_network_row_is_trained_the_same_way(runs: list[dict[str, Any]]) -> None:
    nets = [r["config"] for r in runs if r["model"] != "linear"]
    assert nets and all(
        (c["optimizer"], c["lr"], c["limit_updates"], c["batch_size"]) ==
        (NET_SETTINGS["optimizer"], NET_SETTINGS["lr"], NET_SETTINGS["limit_updates"], None)
        for c in nets)


@pytest.mark.parametrize("seed", SEEDS)
def test_more_days_lower_the_unseen_loss(rows: Rows, seed: int) -> None:
    unseen = [_loss(rows, seed, 1, "unseen", days=d) for d in (1, 7, 28)]
    assert unseen[0] > unseen[1] > unseen[2]


@pytest.mark.parametrize("seed", SEEDS)
def test_relus_beat_the_line_on_unseen_days(rows: Rows, seed: int) -> None:
    """100 and 1000 ReLU beat the 56-day line on 2021 for every seed; by how much varies
    (2.4-4.3 % in the runs measured), so the issue's "by 3 % or more" is not asserted
    here: the screen says for which seeds it holds (checked below)."""
    line = _loss(rows, seed, 2, "unseen")
    for units in (100, 1000):
        net = _loss(rows, seed, 2, "unseen", units=units, layers=1)
        assert net < line, f"{units} ReLU {net:.3f}k vs line {line:.3f}k"


@pytest.mark.parametrize("seed", SEEDS)
def test_training_loss_falls_with_more_days_and_more_relus(rows: Rows, seed: int) -> None:
    days = [_loss(rows, seed, 1, "train", days=d) for d in (1, 7, 28, 56)]
    relus = [_loss(rows, seed, 2, "train")] + [
        _loss(rows, seed, 2, "train", units=u, layers=1) for u in (100, 1000)]
    for train in (days, relus):
        assert all(a > b for a, b in pairwise(train)), train


def _claims(rows: Rows, seed: int) -> list[bool]:
    """The lecture's claims (core.experiments.STORY_CLAIMS), checked here on our own."""
    def deep(which: str) -> list[float]:
        return [_loss(rows, seed, 3, which, units=100, layers=n) for n in (1, 2, 3, 4)]

    unseen1 = [_loss(rows, seed, 1, "unseen", days=d) for d in (1, 7, 28)]
    line = _loss(rows, seed, 2, "unseen")
    un, tr = deep("unseen"), deep("train")
    tables = [[_loss(rows, seed, 1, "train", days=d) for d in (1, 7, 28, 56)],
              [_loss(rows, seed, 2, "train")] +
              [_loss(rows, seed, 2, "train", units=u, layers=1) for u in (10, 100, 1000)],
              tr]
    return [unseen1[0] > unseen1[1] > unseen1[2],
            all(_loss(rows, seed, 2, "unseen", units=u, layers=1) <= 0.97 * line
                for u in (100, 1000)),
            un[1] < un[0] and un[2] < un[0],
            tr[3] == min(tr) and un[3] > un[2],
            all(a > b for t in tables for a, b in pairwise(t))]


def test_the_screen_says_which_claims_hold_and_which_do_not(
        runs: list[dict[str, Any]], rows: Rows, capsys: pytest.CaptureFixture[str]) -> None:
    """`fnlab table` marks each of the lecture's claims as holding or not, seed by seed,
    and its verdicts are the ones this test reaches on the same rows."""
    from core.cli import _print_story

    checks = story_checks(runs)
    for i, check in enumerate(checks):
        held = [s for s in SEEDS if _claims(rows, s)[i]]
        assert check["held"] == held and check["failed"] == [
            s for s in SEEDS if s not in held], check["claim"]
    _print_story(checks, runs, "channel", "mae")
    text = capsys.readouterr().out
    for check in checks:
        line = next(x for x in text.splitlines() if check["claim"] in x)
        assert ("does NOT hold" in line) == bool(check["failed"]), line


def test_the_mean_row_is_the_mean_of_the_seeds(runs: list[dict[str, Any]]) -> None:
    combined = combine_seeds(runs)
    assert len(combined) == len(runs) // len(SEEDS)
    deep = next(r for r in combined if r["table"] == 3 and r["layers"] == 4)
    same = [r for r in runs if r["table"] == 3 and r["layers"] == 4]
    values = [r["unseen_loss"] for r in same]
    assert deep["seeds"] == list(SEEDS)
    assert deep["unseen_loss"] == pytest.approx(sum(values) / len(values))
    assert 0 < deep["unseen_spread"] < max(values) - min(values)


def test_lecture_steps_train_the_tables_own_rows() -> None:
    """The "more ReLUs" and "more layers" steps run, live, the table's seed-0 row for their
    model (same config, seed and updates), so the numbers on screen are the table's; the
    tables step trains the tables with the table's own budget."""
    from core.experiments import lecture_tables
    from core.lecture_steps import load_steps

    steps, problems = load_steps()
    assert not problems
    table = {e.config.to_json(): e for e in lecture_tables("channel", seed=0)}
    named = {s.name.split("-", 1)[1].removesuffix(".json"): s for s in steps}
    for step in (named["more-relus"], named["more-layers"]):
        run = step.config.replace(limit_updates=step.updates, limit_epochs=None)
        assert run.to_json() in table, step.title
    tables = named["overfitting"].options["tables"]
    assert tables is True or "net_updates" not in tables


def test_late_fall_is_the_trend_of_the_last_fifth_of_the_history() -> None:
    updates = np.arange(0, 1001, 16, dtype=float)            # a network's: every 16th
    train = 500.0 - 0.1 * updates
    late = updates[updates >= 0.8 * 992]
    want = 0.1 * 0.1 * 992 / np.mean(500.0 - 0.1 * late)    # per tenth, relative
    assert late_fall(updates, train) == pytest.approx(want, rel=1e-9)
    # a swing around a flat level is no trend
    swing = 300.0 + 10.0 * (-1.0) ** np.arange(updates.size)
    assert abs(late_fall(updates, swing)) < STILL_LEARNING
    assert late_fall(updates[:3], train[:3]) is None
    assert late_fall(updates, np.append(train[:-1], np.nan)) is None


def test_a_failed_training_claim_says_which_rows_were_still_learning(
        runs: list[dict[str, Any]]) -> None:
    """Under a training-loss claim, the screen names exactly the rows whose training loss
    still fell by more than STILL_LEARNING over their last tenth (each run's own
    history), and no other."""
    combined = combine_seeds(runs)
    for which, keys in STORY_EVIDENCE:
        if which != "train":
            continue
        names = dict(still_learning(combined, keys))
        for r in combined:
            if (r["table"], r["days"], r["units"], r["layers"]) not in keys:
                continue
            named = r["label"].removeprefix("56 days, ") in names
            assert named == (r["train_late_fall"] > STILL_LEARNING), (r["label"], names)
            if named:
                assert names[r["label"].removeprefix("56 days, ")] == r["train_late_fall"]
