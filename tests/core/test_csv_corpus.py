"""Every file of the bad-CSV corpus loads with the right values or is refused in one line.

The corpus (tests/data/csv) covers issue 5's list: empty, header only, binary junk, UTF-16,
Latin-1, an Excel BOM, semicolons with decimal commas, thousands separators (quoted and
not), several date formats (ambiguous day/month too), duplicate, unsorted and missing
dates, NaN / n/a / empty cells, negative, zero and 1e300 values, a single column, more
columns than the header, and a series too short for the window. The same verdicts hold
through `fnlab train` (exit 2, one line on stderr, no traceback).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import cli
from core.config import RunConfig
from core.data import DataError, Series, read_csv, window
from core.engine import Trainer

CSV = Path(__file__).resolve().parent.parent / "data" / "csv"
_RAMP = [4900.0 + 110 * k for k in range(14)]

# name -> ("load", first date, values) or ("refuse", the message's start)
EXPECTED: dict[str, tuple] = {
    "empty.csv": ("refuse", "empty.csv: the file is empty"),
    "header_only.csv": ("refuse", "header_only.csv: only a header line, no data rows"),
    "binary_junk.csv": ("refuse", "binary_junk.csv: not a text CSV file (binary data)"),
    "utf16.csv": ("load", "2021-01-01", [100, 110, 120]),
    "utf16_tabs.csv": ("load", "2021-01-01", _RAMP),
    "latin1.csv": ("load", "2021-01-01", [round(v / 1000, 1) for v in _RAMP]),
    "semicolon_decimal_comma_latin1.csv": ("load", "2021-01-01", [-3.5, -1.25, 0.5, 2.0]),
    "bom_utf8.csv": ("load", "2021-01-01", [100, 110, 120]),
    "excel_bom_semicolon.csv": ("load", "2021-01-01", [v + 0.5 for v in _RAMP]),
    "thousands.csv": ("load", "2021-01-01", [4900, 5120, 12345]),
    "thousands_unquoted.csv": ("load", "2021-01-01", _RAMP),
    "decimal_comma_in_comma_file.csv": (
        "refuse", "decimal_comma_in_comma_file.csv, row 2: 3 fields but the header names 2"),
    "good_iso.csv": ("load", "2021-01-01", [100, 110, 120, 130]),
    "ymd_dots.csv": ("load", "2021-01-01", _RAMP),
    "no_header_slashes.csv": ("load", "2021-01-01", [100, 110, 120]),
    "month_day.csv": ("load", "2020-12-30", [100, 110, 120]),
    "day_month.csv": ("load", "2020-12-30", [100, 110, 120]),
    "ambiguous_day_month.csv": (
        "refuse", "ambiguous_day_month.csv: dates like '01/02/2021' in column 'date' fit both "
                  "day/month and month/day order"),
    "mixed_date_formats.csv": (
        "refuse", "mixed_date_formats.csv, row 3: date '02.01.2021' is written differently"),
    "bad_date.csv": ("refuse", "bad_date.csv, row 4: unparsable date '2021-13-03'"),
    "duplicate_date.csv": (
        "refuse", "duplicate_date.csv, row 4: duplicate date 2021-01-02 (also on row 3)"),
    "unsorted.csv": ("load", "2021-01-01", [100, 110, 120]),
    "unsorted_with_gap.csv": ("load", "2021-01-01", [100, 110, 120, 130]),
    "short_gap.csv": ("load", "2021-01-01", [100, 110, 120, 130, 140, 150]),
    "long_gap.csv": ("refuse", "long_gap.csv, row 4: gap of 17 missing days"),
    "missing_nan.csv": ("refuse", "missing_nan.csv, row 3: missing value 'NaN'"),
    "missing_na.csv": ("refuse", "missing_na.csv, row 3: missing value 'n/a'"),
    "missing_empty.csv": ("refuse", "missing_empty.csv, row 3: missing value (empty cell)"),
    "non_numeric.csv": ("refuse", "non_numeric.csv, row 3: non-numeric value 'lots'"),
    "negative_zero.csv": ("load", "2021-01-01",
                          [0, -3, -2.5, 0, 1, 4, -1, 0, 2, 3, -4, 0, 5, 6]),
    "huge_values.csv": ("refuse", "huge_values.csv, row 3: value 1e300 is too large"),
    "single_column.csv": ("refuse", "single_column.csv: expected a date column and a value "
                                    "column"),
    "more_columns.csv": ("refuse", "more_columns.csv, row 3: 4 fields but the header names 2"),
    "temperatures.csv": ("load", "2021-01-01", [-4.5, -6, -2]),
    "too_short.csv": ("load", "2021-01-01", [100, 110]),
}
# files that load but hold too few days for a 1-day window with the default split
# (2 or 3 days: 1 training sample; 4 days give 2, the minimum)
TOO_SHORT = {"too_short.csv", "utf16.csv", "bom_utf8.csv", "thousands.csv", "unsorted.csv",
             "no_header_slashes.csv", "month_day.csv", "day_month.csv", "temperatures.csv"}


def test_every_corpus_file_has_a_verdict() -> None:
    assert sorted(p.name for p in CSV.glob("*.csv")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_loads_right_or_is_refused_in_one_line(name: str) -> None:
    verdict = EXPECTED[name]
    if verdict[0] == "load":
        s = read_csv(CSV / name)
        assert str(s.dates[0]) == verdict[1]
        assert np.all(np.diff(s.dates) == np.timedelta64(1, "D"))
        np.testing.assert_allclose(s.values, verdict[2])
    else:
        with pytest.raises(DataError) as err:
            read_csv(CSV / name)
        msg = str(err.value)
        assert msg.startswith(verdict[1]), msg
        assert "\n" not in msg and "Traceback" not in msg


def test_the_loaded_notes_say_what_was_fixed() -> None:
    assert "unquoted thousands separator" in read_csv(CSV / "thousands_unquoted.csv").notes[0]
    notes = read_csv(CSV / "unsorted_with_gap.csv").notes
    assert any("sorted" in n for n in notes) and any("filled 1 missing day" in n for n in notes)
    assert read_csv(CSV / "latin1.csv").unit == "température"
    assert read_csv(CSV / "excel_bom_semicolon.csv").unit == "Aufrufe"


@pytest.mark.parametrize("name", sorted(TOO_SHORT))
def test_too_short_for_the_window_is_refused(name: str) -> None:
    with pytest.raises(DataError, match=r"too few days for a 1-day window"):
        window(read_csv(CSV / name), 1)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_import_message_names_the_file_as_given(name: str) -> None:
    """Refused at reading or at windowing (too few days, a bad split, 30 days): the
    message starts with the file's name and extension, never the bare stem."""
    messages = []
    try:
        series = read_csv(CSV / name)
    except DataError as exc:
        messages.append(str(exc))
    else:
        for days, split in ((1, None), (30, None), (1, "2001-13-01"), (1, "1990-01-01")):
            try:
                window(series, days, split)
            except DataError as exc:
                messages.append(str(exc))
    assert len(messages) >= (1 if EXPECTED[name][0] == "refuse" else 3)
    for msg in messages:
        assert msg.startswith((f"{name}: ", f"{name}, row ")), msg


def test_long_enough_series_refuse_a_window_that_does_not_fit() -> None:
    s = read_csv(CSV / "thousands_unquoted.csv")          # 14 days
    assert len(window(s, 7).y_train) >= 2
    with pytest.raises(DataError, match=r"^thousands_unquoted\.csv: too few days for a 30-day"):
        window(s, 30)
    with pytest.raises(DataError, match="too few days"):
        window(s, 1, "2021-01-01")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_trains_or_exits_2_with_one_line(name: str, capsys: pytest.CaptureFixture) -> None:
    code = cli.main(["train", "--data", str(CSV / name), "--updates", "5"])
    out, err = capsys.readouterr()
    if EXPECTED[name][0] == "load" and name not in TOO_SHORT:
        assert code == 0, err
        assert err == "" and "training loss" in out
    else:
        assert code == cli.EXIT_USAGE
        assert out == ""
        lines = err.splitlines()
        assert len(lines) == 1 and "Traceback" not in err
        assert lines[0].startswith(f"fnlab train: {name}: ") or \
            lines[0].startswith(f"fnlab train: {name}, row ")
        if EXPECTED[name][0] == "refuse":
            with pytest.raises(DataError) as exc:
                read_csv(CSV / name)
            assert lines[0] == f"fnlab train: {exc.value}"


@pytest.mark.parametrize("model", ["linear", "relu", "sigmoid"])
def test_huge_values_in_memory_diverge_or_train_without_a_traceback(model: str) -> None:
    """A Series built in code (not through the CSV guard) with 1e300 values."""
    dates = np.arange(np.datetime64("2021-01-01"), np.datetime64("2021-01-21"))
    values = np.where(np.arange(20) % 3 == 0, 1e300, 0.0) * (1 + np.arange(20) % 2)
    data = window(Series(dates=dates, values=values, name="huge"), 1)
    cfg = RunConfig(dataset="huge", model=model, units=2, optimizer="adam", lr=0.01)
    with np.errstate(all="ignore"):
        t = Trainer(cfg, data)
        t.run(20)
    assert t.update >= 1
    if t.diverged:
        assert t.done and t.stop_reason.startswith("diverged")
    else:
        assert np.isfinite(t.train_loss())
