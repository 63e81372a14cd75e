"""Settings at their extremes: each trains a few updates, diverges cleanly, or is refused.

Bounds come from core/config.py (lr 1e-9..1e6, units 1..4096, layers 1..10, days
1..365); a value just outside each bound is a ConfigError with one line. Sizes are kept
small (4,096 units with 1 day, a handful of updates) so the file stays fast.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.config import LR_RANGE, MAX_DAYS, MAX_LAYERS, MAX_UNITS, ConfigError, RunConfig
from core.data import DataError, Series, load_builtin, window
from core.engine import MAX_POINTS, Trainer
from core.results import result_row


def _train(updates: int = 5, **kw: object) -> Trainer:
    t = Trainer(RunConfig(**kw))
    t.run(updates)
    return t


@pytest.mark.parametrize("kw", [
    {"lr": LR_RANGE[0]},
    {"lr": LR_RANGE[0], "model": "relu", "units": 2, "optimizer": "adam"},
    {"batch_size": 1},
    {"batch_size": 1, "model": "sigmoid", "units": 2},
    {"batch_size": 10**9},                                   # more than N: the full batch
    {"model": "relu", "units": 1},
    {"model": "relu", "units": MAX_UNITS},
    {"model": "sigmoid", "units": MAX_UNITS, "batch_size": 1, "optimizer": "adam"},
    {"model": "hard-sigmoid", "units": 1, "layers": MAX_LAYERS},
    {"model": "relu", "units": 3, "layers": MAX_LAYERS, "optimizer": "momentum"},
    {"days": 1},
    {"days": MAX_DAYS},
    {"days": MAX_DAYS, "model": "relu", "units": 2},
    {"days": MAX_DAYS, "loss": "mse", "optimizer": "adam", "batch_size": 1},
])
def test_extreme_but_valid_settings_train_a_few_updates(kw: dict) -> None:
    t = _train(**kw)
    assert t.update == 5 or t.diverged
    if not t.diverged:
        assert np.isfinite(t.train_loss()) and np.isfinite(t.unseen_loss())
    snap = t.snapshot()
    assert snap.update == t.update and np.all(np.isfinite(snap.hist_train))


@pytest.mark.parametrize("kw", [
    {"lr": LR_RANGE[1]},
    {"lr": LR_RANGE[1], "loss": "mse"},
    {"lr": LR_RANGE[1], "loss": "mse", "optimizer": "momentum", "days": 7},
    {"lr": LR_RANGE[1], "model": "relu", "units": 4},
    {"lr": LR_RANGE[1], "model": "sigmoid", "units": 4, "optimizer": "adam", "loss": "mse"},
    {"lr": LR_RANGE[1], "model": "relu", "units": 3, "layers": MAX_LAYERS, "loss": "mse"},
])
def test_huge_learning_rate_diverges_cleanly_and_is_marked_in_the_table(kw: dict) -> None:
    t = _train(updates=50, **kw)
    assert t.diverged and t.done
    assert t.stop_reason.startswith("diverged") and "lower the learning rate" in t.stop_reason
    assert "\n" not in t.stop_reason
    t.step()                                   # stepping a diverged run does nothing
    t.run(3)
    assert t.diverged
    row = result_row(t.config, t.snapshot(), t.data)
    assert row["diverged"] is True and row["updates"] == t.update


@pytest.mark.parametrize(("kw", "message"), [
    ({"lr": LR_RANGE[0] / 10}, "learning rate must be between 1e-09 and 1e+06"),
    ({"lr": LR_RANGE[1] * 10}, "learning rate must be between"),
    ({"lr": float("nan")}, "learning rate must be between"),
    ({"batch_size": 0}, "batch size must be a whole number from 1"),
    ({"units": 0}, "units must be a whole number from 1 to 4,096"),
    ({"units": MAX_UNITS + 1}, "units must be a whole number from 1 to 4,096"),
    ({"layers": 0}, "layers must be a whole number from 1 to 10"),
    ({"layers": MAX_LAYERS + 1}, "layers must be a whole number from 1 to 10"),
    ({"days": 0}, "days must be a whole number from 1 to 365"),
    ({"days": MAX_DAYS + 1}, "days must be a whole number from 1 to 365"),
])
def test_values_past_the_bounds_are_refused_in_one_line(kw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        RunConfig(**kw)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_365_days_leave_fewer_samples_and_a_short_series_is_refused() -> None:
    full = window(load_builtin("channel"), 1)
    w = window(load_builtin("channel"), MAX_DAYS)
    assert len(w.y_train) == len(full.y_train) - (MAX_DAYS - 1)
    assert w.x_train.shape == (len(w.y_train), MAX_DAYS)
    dates = np.arange(np.datetime64("2021-01-01"), np.datetime64("2021-01-01") + 300)
    short = Series(dates=dates, values=np.arange(300.0) + 1, name="short")
    with pytest.raises(DataError, match=r"^short: too few days for a 365-day window"):
        window(short, MAX_DAYS)
    with pytest.raises(DataError, match="too few days"):
        Trainer(RunConfig(dataset="births", days=MAX_DAYS, split="2000-12-31"))


def test_live_changes_to_extremes_keep_the_run_going() -> None:
    t = _train(updates=3, model="relu", units=2, optimizer="adam", lr=0.01)
    for change in ({"lr": LR_RANGE[0]}, {"batch_size": 1}, {"batch_size": 10**9},
                   {"optimizer": "gd"}, {"loss": "mse"}, {"lr": LR_RANGE[1]}):
        t.apply(t.config.replace(**change))
        t.run(3)
    assert t.diverged and t.stop_reason.startswith("diverged")
    with pytest.raises(ConfigError):
        t.apply(t.config.replace(units=MAX_UNITS))


def test_history_and_path_stay_bounded_over_many_updates() -> None:
    t = Trainer(RunConfig(lr=1e-4, batch_size=1))
    steps = 0
    while steps < 6 * MAX_POINTS:
        t.run(500)
        steps += 500
        snap = t.snapshot(extras=False)
        assert len(snap.hist_update) <= MAX_POINTS + 1
        assert len(snap.hist_train) == len(snap.hist_update) == len(snap.hist_unseen)
        assert len(snap.path) <= MAX_POINTS + 1
    assert t.update == steps and not t.diverged
    assert snap.hist_update[-1] == steps and snap.hist_update[0] <= 1
    assert np.all(np.diff(snap.hist_update) > 0)
    assert len(snap.path) > MAX_POINTS // 4
