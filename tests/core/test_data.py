"""The data layer: built-in datasets, CSV import messages, windowing, and the channel's story."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from core.channel import ChannelParams, generate
from core.data import (
    DATASET_DIR,
    DataError,
    Series,
    list_datasets,
    load_builtin,
    load_series,
    read_csv,
    scale_for,
    window,
)

CSV = Path(__file__).resolve().parent.parent / "data" / "csv"


def _series(values: list[float], start: str = "2021-01-01", split: str | None = None) -> Series:
    dates = np.arange(np.datetime64(start), np.datetime64(start) + len(values))
    return Series(dates=dates, values=np.asarray(values, dtype=float), name="tiny",
                  default_split=None if split is None else np.datetime64(split))


# --- bad files: one line naming the file, the row and the problem -------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("bad_date.csv", "bad_date.csv, row 4: unparsable date '2021-13-03'"),
    ("duplicate_date.csv", "duplicate_date.csv, row 4: duplicate date 2021-01-02 (also on row 3)"),
    ("non_numeric.csv", "non_numeric.csv, row 3: non-numeric value 'lots'"),
    ("missing_nan.csv", "missing_nan.csv, row 3: missing value 'NaN'"),
    ("missing_na.csv", "missing_na.csv, row 3: missing value 'n/a'"),
    ("missing_empty.csv", "missing_empty.csv, row 3: missing value (empty cell)"),
    ("long_gap.csv", "long_gap.csv, row 4: gap of 17 missing days between 2021-01-02 and "
                     "2021-01-20"),
    ("empty.csv", "empty.csv: the file is empty"),
    ("header_only.csv", "header_only.csv: only a header line, no data rows"),
    ("binary_junk.csv", "binary_junk.csv: not a text CSV file"),
    ("ambiguous_day_month.csv", "ambiguous_day_month.csv: dates like '01/02/2021' in column "
                                "'date' fit both day/month and month/day order"),
])
def test_bad_csv_gets_one_clear_line(name: str, expected: str) -> None:
    with pytest.raises(DataError) as err:
        read_csv(CSV / name)
    msg = str(err.value)
    assert msg.startswith(expected)
    assert "\n" not in msg


def test_missing_file_and_unknown_names_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"^nothing\.csv: cannot read the file"):
        read_csv(tmp_path / "nothing.csv")
    with pytest.raises(DataError, match="built-ins: channel, wikipedia, births"):
        load_series("chanel")
    with pytest.raises(DataError, match="no value column named 'clicks'"):
        read_csv(CSV / "good_iso.csv", column="clicks")


def test_gap_limit_is_a_parameter() -> None:
    assert len(read_csv(CSV / "long_gap.csv", max_gap=20)) == 21
    with pytest.raises(DataError, match="gap of 2 missing days"):
        read_csv(CSV / "short_gap.csv", max_gap=1)


# --- awkward but unambiguous files load ----------------------------------------------------

def _check(series: Series, first: str, values: list[float]) -> None:
    assert str(series.dates[0]) == first
    assert np.all(np.diff(series.dates) == np.timedelta64(1, "D"))
    np.testing.assert_allclose(series.values, values)


@pytest.mark.parametrize("name", ["good_iso.csv", "bom_utf8.csv", "utf16.csv", "unsorted.csv",
                                  "no_header_slashes.csv"])
def test_awkward_encodings_and_orders_load(name: str) -> None:
    _check(read_csv(CSV / name), "2021-01-01", [100, 110, 120] + ([130] if "iso" in name else []))


def test_unsorted_dates_are_sorted_and_reported() -> None:
    assert any("sorted" in n for n in read_csv(CSV / "unsorted.csv").notes)


def test_month_day_and_day_month_resolved_over_the_whole_column() -> None:
    _check(read_csv(CSV / "month_day.csv"), "2020-12-30", [100, 110, 120])
    _check(read_csv(CSV / "day_month.csv"), "2020-12-30", [100, 110, 120])


def test_semicolons_decimal_commas_latin1_and_negative_values() -> None:
    s = read_csv(CSV / "semicolon_decimal_comma_latin1.csv")
    _check(s, "2021-01-01", [-3.5, -1.25, 0.5, 2.0])
    assert s.unit == "Temperatur °C"
    w = window(s, 1, "2021-01-03")
    assert (w.scale, w.suffix) == (1.0, "")
    np.testing.assert_allclose(w.y_train, [-1.25, 0.5])


def test_thousands_separators() -> None:
    _check(read_csv(CSV / "thousands.csv"), "2021-01-01", [4900, 5120, 12345])


def test_short_gap_filled_by_reported_linear_interpolation() -> None:
    s = read_csv(CSV / "short_gap.csv")
    _check(s, "2021-01-01", [100, 110, 120, 130, 140, 150])
    assert s.notes == ["filled 2 missing days by linear interpolation (2021-01-03, 2021-01-04)"]


def test_named_columns_and_the_first_numeric_column_by_default() -> None:
    s = read_csv(CSV / "temperatures.csv")
    np.testing.assert_allclose(s.values, [-4.5, -6, -2])
    assert "also numeric: high" in s.notes[0]
    np.testing.assert_allclose(read_csv(CSV / "temperatures.csv", column="high").values,
                               [2, 1.5, 3])
    np.testing.assert_allclose(load_series(str(CSV / "temperatures.csv"), "HIGH").values,
                               [2, 1.5, 3])


# --- windowing -------------------------------------------------------------------------

def test_window_features_are_the_previous_days_in_order() -> None:
    s = _series([1000.0 * k for k in range(1, 11)])          # 1k, 2k, ..., 10k
    w = window(s, 3, "2021-01-07")
    # labels 2021-01-04 .. 2021-01-10; training up to 01-07 -> 4 samples, unseen 3
    assert (len(w.y_train), len(w.y_unseen)) == (4, 3)
    assert (w.scale, w.suffix) == (1000.0, "k")
    np.testing.assert_allclose(w.y_train, [4, 5, 6, 7])
    np.testing.assert_allclose(w.x_train[0], [3, 2, 1])      # x_1 = day before, x_3 = 3 before
    np.testing.assert_allclose(w.x_unseen[-1], [9, 8, 7])
    assert str(w.dates_train[0]) == "2021-01-04"
    assert w.dates_train.max() <= w.split < w.dates_unseen.min()
    assert w.fmt(480.0) == "0.48k"
    assert w.fmt(12_345.0) == "12.3k"


def test_window_default_split_without_one_is_the_last_fifth_unseen() -> None:
    w = window(_series(list(range(1, 101))), 1)
    assert str(w.split) == "2021-03-21"                    # day 80 of 100
    assert (len(w.y_train), len(w.y_unseen)) == (79, 20)


def test_too_few_days_for_the_window_and_split() -> None:
    with pytest.raises(DataError, match=r"^tiny: too few days for a 7-day window"):
        window(_series([1.0] * 8), 7, "2021-01-08")
    with pytest.raises(DataError, match="is not a date"):
        window(_series([1.0] * 8), 1, "tomorrow")


def test_channel_one_day_has_1460_training_samples() -> None:
    w = window(load_builtin("channel"), 1)
    assert str(w.dates_train[0]) == "2017-01-02"
    assert (len(w.y_train), len(w.y_unseen)) == (1460, 365)
    w56 = window(load_builtin("channel"), 56)
    assert (len(w56.y_train), len(w56.y_unseen)) == (1405, 365)


def test_scale_for_picks_a_power_of_1000() -> None:
    assert scale_for(np.array([2500.0, 3000.0])) == (1000.0, "k")
    assert scale_for(np.array([-5.0, 20.0, 25.0])) == (1.0, "")
    assert scale_for(np.array([2.0e6])) == (1.0e6, "M")
    assert scale_for(np.zeros(3)) == (1.0, "")


# --- built-in datasets -------------------------------------------------------------------

@pytest.mark.parametrize(("name", "start", "end", "split"), [
    ("channel", "2017-01-01", "2021-12-31", "2020-12-31"),
    ("wikipedia", "2011-01-01", "2015-12-31", "2014-12-31"),
    ("births", "2000-01-01", "2014-12-31", "2013-12-31"),
])
def test_builtins_have_the_documented_dates(name: str, start: str, end: str, split: str) -> None:
    s = load_builtin(name)
    info = {i.name: i for i in list_datasets()}[name]
    assert (str(s.dates[0]), str(s.dates[-1]), str(s.default_split)) == (start, end, split)
    assert (str(info.start), str(info.end), str(info.default_split)) == (start, end, split)
    assert len(s) == int((s.dates[-1] - s.dates[0]).astype(int)) + 1
    assert np.all(s.values > 0) and np.all(s.values == np.round(s.values))
    assert s.synthetic == (name == "channel") == info.synthetic
    assert load_builtin(name) is s                          # cached


def test_builtin_loader_and_csv_importer_agree() -> None:
    for info in list_datasets():
        a, b = load_builtin(info.name), read_csv(DATASET_DIR / info.file)
        np.testing.assert_array_equal(a.dates, b.dates)
        np.testing.assert_array_equal(a.values, b.values)


def test_shipped_channel_is_the_generators_output() -> None:
    dates, views = generate(ChannelParams())
    s = load_builtin("channel")
    np.testing.assert_array_equal(s.dates, dates)
    np.testing.assert_array_equal(s.values, views)
    assert "synthetic" in list_datasets()[0].description.lower()


def test_channel_has_a_weekly_cycle_low_on_friday_and_saturday() -> None:
    s = load_builtin("channel")
    weekday = (s.dates.astype(np.int64) + 3) % 7              # Monday = 0
    detrended = s.values / np.convolve(s.values, np.ones(7) / 7, mode="same")
    mean = np.array([np.median(detrended[3:-3][weekday[3:-3] == d]) for d in range(7)])
    assert set(np.argsort(mean)[:2]) == {4, 5}               # Friday, Saturday lowest
    assert mean.max() / mean.min() > 1.15


def test_births_weekends_are_low() -> None:
    s = load_builtin("births")
    weekday = (s.dates.astype(np.int64) + 3) % 7
    rel = np.array([s.values[weekday == d].mean() for d in range(7)]) / s.values.mean()
    assert rel[5] < 0.8 and rel[6] < 0.75 and rel[:5].min() > 1.0


def test_copied_dataset_dir_is_not_needed_for_user_files(tmp_path: Path) -> None:
    target = tmp_path / "my views.csv"
    shutil.copy(DATASET_DIR / "channel.csv", target)
    s = load_series(str(target))
    assert s.name == "my views" and s.unit == "views" and s.default_split is None


# --- the lecture's story on channel: more days, lower training error -----------------------

def _lad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    n, d = x.shape
    a = np.hstack([x, np.ones((n, 1))])
    cost = np.concatenate([np.zeros(d + 1), np.ones(2 * n)])
    res = linprog(cost, A_eq=np.hstack([a, np.eye(n), -np.eye(n)]), b_eq=y,
                  bounds=[(None, None)] * (d + 1) + [(0, None)] * (2 * n), method="highs")
    assert res.status == 0
    return res.x[:d + 1]


def _linear_losses(days: int) -> tuple[float, float]:
    w = window(load_builtin("channel"), days)
    a = np.hstack([w.x_train, np.ones((len(w.x_train), 1))])
    theta = np.linalg.lstsq(a, w.y_train, rcond=None)[0]
    mse = float(np.mean((a @ theta - w.y_train) ** 2))
    theta = _lad(w.x_train, w.y_train)
    mae = float(np.mean(np.abs(a @ theta - w.y_train)))
    return mse, mae


def test_more_days_lower_the_linear_training_error_on_channel() -> None:
    losses = {d: _linear_losses(d) for d in (1, 7, 28, 56)}
    for k in range(2):                                      # LS (MSE) and LAD (MAE)
        assert losses[1][k] > losses[7][k] > losses[28][k]
        assert losses[56][k] <= losses[28][k] < 1.15 * losses[56][k]
    mae = {d: losses[d][1] for d in losses}                 # the lecture's loss: clearly
    assert mae[1] > 1.05 * mae[7] > 1.05 * 1.05 * mae[28]
    assert 0.35 < losses[1][1] < 0.6 and 0.28 < losses[7][1] < 0.45   # lecture-like, in k


def test_one_day_line_leans_on_yesterday_and_misses_the_bend() -> None:
    """w* near 1 (the lecture's 0.97), unseen worse than training, and the scatter bends:
    after the highest days (viral spikes) views fall back, so the best line over-predicts
    there by far more than anywhere else (the lecture's "model bias" step)."""
    w = window(load_builtin("channel"), 1)
    x, y = w.x_train[:, 0], w.y_train
    wb = _lad(w.x_train, y)
    residual = y - (wb[0] * x + wb[1])
    assert 0.75 < wb[0] < 1.05
    train = np.mean(np.abs(residual))
    unseen = np.mean(np.abs(w.y_unseen - (wb[0] * w.x_unseen[:, 0] + wb[1])))
    assert unseen > train
    top = x >= np.quantile(x, 0.97)
    middle = (x > np.quantile(x, 0.1)) & (x < np.quantile(x, 0.9))
    assert np.median(residual[top]) < -0.5 < 0 < np.median(residual[middle])


# --- never a traceback ---------------------------------------------------------------------

_CELLS = st.sampled_from(["2021-01-01", "2021-01-02", "01.02.2021", "02/01/2021", "4,900",
                          "-3,5", "12", "1e3", "nan", "", "x", "\"", "é", "\x00", ";", ","])


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(_CELLS, max_size=4), max_size=6),
       sep=st.sampled_from([",", ";", "\t"]), junk=st.binary(max_size=40))
def test_any_file_loads_or_gives_one_line(tmp_path_factory: pytest.TempPathFactory,
                                          rows: list[list[str]], sep: str, junk: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.csv"
    path.write_bytes("\n".join(sep.join(r) for r in rows).encode("utf-8") + junk)
    try:
        s = read_csv(path)
    except DataError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("f.csv")
    else:
        assert np.all(np.diff(s.dates) == np.timedelta64(1, "D"))
        assert np.all(np.isfinite(s.values))
