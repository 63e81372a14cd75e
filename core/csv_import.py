"""Reading a user's own daily series from a CSV file, with one clear line for every problem.

Files come from spreadsheets in many shapes: a UTF-8 BOM, Latin-1 or UTF-16, semicolons
with decimal commas, "4,900" with a thousands separator, dates as 2021-02-26, 26.02.2021 or
02/26/2021, rows out of order. Everything unambiguous is accepted; everything else is
refused with `DataError("<file>, row <n>: <problem>")` so a lecturer in front of a class
sees what to fix instead of a traceback.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Larger values overflow squared losses and float32 network maths; no daily count is this big.
MAX_ABS = 1e15
MISSING = frozenset({"", "nan", "n/a", "na", "null", "none", "-", "?", "#n/a", "missing"})
_DELIMITERS = (",", ";", "\t", "|")
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00)?)?$")
_DMY_DOT = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_SLASH = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")
_NUM_DOT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d*)?([eE][+-]?\d+)?$|^[+-]?\.\d+$")
_NUM_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d*)?([eE][+-]?\d+)?$|^[+-]?,\d+$")


class DataError(ValueError):
    """A data problem in one line: "<file>, row <n>: <problem>" or "<file>: <problem>"."""


@dataclass(frozen=True)
class ParsedCsv:
    """What a CSV file held, before it becomes a `Series`."""

    dates: np.ndarray      # datetime64[D], consecutive days
    values: np.ndarray     # float64
    column: str            # the value column's name (header) or "column N"
    notes: list[str]


def parse_csv(path: str | Path, column: str | None = None, date_column: str | None = None,
              max_gap: int = 7) -> ParsedCsv:
    """Read, validate and gap-fill a daily series; DataError for anything wrong."""
    path = Path(path)
    try:
        return _parse(path, path.name, column, date_column, max_gap)
    except DataError:
        raise
    except (csv.Error, ValueError, UnicodeError, MemoryError) as exc:  # a last safety net
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"{path.name}: cannot read this file as CSV ({msg})") from None


def _parse(path: Path, where: str, column: str | None, date_column: str | None,
           max_gap: int) -> ParsedCsv:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{where}: cannot read the file ({exc.strerror or exc})") from None
    text = _decode(raw, where)
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines())
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise DataError(f"{where}: the file is empty")
    delim = _delimiter([line for _, line in lines[:50]])
    if delim is None:
        raise DataError(f"{where}: expected a date column and a value column separated by "
                        f"commas or semicolons, found one column")
    rows = [(n, [c.strip() for c in next(csv.reader([line], delimiter=delim))])
            for n, line in lines]
    header = None if _looks_like_data(rows[0][1]) else rows.pop(0)
    if not rows:
        raise DataError(f"{where}: only a header line, no data rows")
    notes: list[str] = []
    rows = _fit_widths(where, rows, header, delim, notes)
    width = max(len(cells) for _, cells in rows)
    names = ([h or f"column {j + 1}" for j, h in enumerate(header[1])] if header
             else [f"column {j + 1}" for j in range(width)])
    names += [f"column {j + 1}" for j in range(len(names), width)]
    di = _pick_date_column(where, names, rows, date_column)
    vi = _pick_value_column(where, names, rows, di, column, delim, notes)
    dates = _parse_dates(where, rows, di, names[di])
    values = _parse_values(where, rows, vi, delim)
    row_no = np.array([n for n, _ in rows])
    return _to_daily(where, dates, values, row_no, max_gap, names[vi], notes)


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _fit_widths(where: str, rows: list[tuple[int, list[str]]],
                header: tuple[int, list[str]] | None, delim: str,
                notes: list[str]) -> list[tuple[int, list[str]]]:
    """Rows wider than the header: rejoin an unquoted 4,900 in a 2-column file, else refuse.

    An unquoted thousands separator in a comma file splits one number into two fields and
    would otherwise be read silently as 4; trailing empty fields (spreadsheets) are dropped.
    """
    widths = {len(cells) for _, cells in rows}
    if header is None:
        expected = max(widths, key=lambda w: sum(1 for _, c in rows if len(c) == w))
        if len(widths) == 1:
            return rows
    else:
        expected = len(header[1])
    out, joined = [], 0
    for n, cells in rows:
        while len(cells) > expected and cells[-1] == "":
            cells = cells[:-1]
        if len(cells) > expected:
            tail = delim.join(cells[expected - 1:])
            if delim == "," and expected >= 2 and _THOUSANDS.match(tail):
                cells = [*cells[:expected - 1], tail]
                joined += 1
            else:
                hint = (" (a number with a comma, like 4,900 or 12,5, must be in quotes)"
                        if delim == "," else "")
                names = "the header names" if header is not None else "most rows have"
                raise DataError(f"{where}, row {n}: {len(cells)} fields but {names} "
                                f"{expected}{hint}")
        out.append((n, cells))
    if joined:
        notes.append(f"read {joined} number{'s' if joined != 1 else ''} with an unquoted "
                     f"thousands separator (like 4,900) in the last column")
    return out


def _decode(raw: bytes, where: str) -> str:
    if not raw.strip():
        raise DataError(f"{where}: the file is empty")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _check_text(raw.decode("utf-16", errors="replace"), where)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    sample = raw[:4000]
    if sample.count(b"\x00") > len(sample) // 4:  # UTF-16 without a BOM
        even, odd = sample[0::2].count(b"\x00"), sample[1::2].count(b"\x00")
        enc = "utf-16-be" if even > odd else "utf-16-le"
        return _check_text(raw.decode(enc, errors="replace"), where)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return _check_text(text, where)


def _check_text(text: str, where: str) -> str:
    sample = text[:4000]
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n\f") or ch == "\ufffd")
    if bad > max(2, len(sample) // 100):
        raise DataError(f"{where}: not a text CSV file (binary data)")
    return text


def _delimiter(lines: list[str]) -> str | None:
    """The separator that splits every sampled line into the same number (>= 2) of fields."""
    best, best_score = None, 0.0
    for d in _DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=d))) for line in lines]
        usable = [c for c in counts if c >= 2]
        if not usable:
            continue
        common = max(set(counts), key=counts.count)
        score = counts.count(common) / len(counts) + (0.01 if common >= 2 else -1)
        if common >= 2 and score > best_score:
            best, best_score = d, score
    return best


def _looks_like_data(cells: list[str]) -> bool:
    return any(_date_parts(c) is not None for c in cells)


def _date_parts(text: str) -> tuple[str, int, int, int] | None:
    """(style, a, b, c) of a date-like cell, or None; style "ymd", "dmy" or "slash"."""
    for style, rx in (("ymd", _YMD), ("dmy", _DMY_DOT), ("slash", _SLASH)):
        m = rx.match(text)
        if m:
            a, b, c = (int(g) for g in m.groups())
            return style, a, b, c
    return None


def _pick_date_column(where: str, names: list[str], rows: list[tuple[int, list[str]]],
                      date_column: str | None) -> int:
    if date_column is not None:
        return _named(where, names, date_column, "date")
    sample = rows[:200]
    for j in range(len(names)):
        hits = sum(1 for _, cells in sample if j < len(cells) and _date_parts(cells[j]))
        if hits >= max(1, len(sample) // 2):
            return j
    raise DataError(f"{where}: no column of dates found (write dates like 2021-02-26)")


def _pick_value_column(where: str, names: list[str], rows: list[tuple[int, list[str]]],
                       di: int, column: str | None, delim: str, notes: list[str]) -> int:
    if column is not None:
        j = _named(where, names, column, "value")
        if j == di:
            raise DataError(f"{where}: column '{column}' holds the dates, not the values")
        return j
    sample = rows[:200]
    numeric = []
    for j in range(len(names)):
        if j == di:
            continue
        cells = [cells[j] for _, cells in sample if j < len(cells)]
        present = [c for c in cells if c.lower() not in MISSING]
        ok = sum(1 for c in present if _number(c, delim) is not None)
        if present and ok >= max(1, len(present) // 2):
            numeric.append(j)
    if not numeric:
        raise DataError(f"{where}: no column of numbers found next to the dates")
    if len(numeric) > 1:
        others = ", ".join(names[j] for j in numeric[1:])
        notes.append(f"used column '{names[numeric[0]]}' (also numeric: {others}; "
                     f"choose another with column=)")
    return numeric[0]


def _named(where: str, names: list[str], wanted: str, kind: str) -> int:
    low = [n.lower() for n in names]
    if wanted.strip().lower() in low:
        return low.index(wanted.strip().lower())
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(names):
        return int(wanted) - 1
    raise DataError(f"{where}: no {kind} column named '{wanted}' "
                    f"(columns: {', '.join(names)})")


def _parse_dates(where: str, rows: list[tuple[int, list[str]]], di: int,
                 name: str) -> np.ndarray:
    parts = []
    for n, cells in rows:
        cell = cells[di] if di < len(cells) else ""
        p = _date_parts(cell)
        if p is None:
            what = "missing date" if cell.lower() in MISSING else f"unparsable date '{cell}'"
            raise DataError(f"{where}, row {n}: {what} (write dates like 2021-02-26)")
        parts.append((n, cell, p))
    style = parts[0][2][0]
    for n, cell, p in parts:
        if p[0] != style:
            raise DataError(f"{where}, row {n}: date '{cell}' is written differently from "
                            f"'{parts[0][1]}' on row {parts[0][0]} (use one date format)")
    orders = {"ymd": ["ymd"], "dmy": ["dmy"], "slash": ["mdy", "dmy"]}[style]
    results = []
    for order in orders:
        out, bad = [], None
        for n, cell, (s, a, b, c) in parts:
            date = _make_date(a, b, c, order) if s == style else None
            if date is None:
                bad = (n, cell)
                break
            out.append(date)
        results.append((order, out, bad))
    good = [r for r in results if r[2] is None]
    if len(good) == 2:
        ex = next(cell for _, cell, (_, a, b, _c) in parts if a != b)
        raise DataError(f"{where}: dates like '{ex}' in column '{name}' fit both day/month "
                        f"and month/day order; write them as yyyy-mm-dd")
    if not good:
        n, cell = max(results, key=lambda r: len(r[1]))[2]
        raise DataError(f"{where}, row {n}: unparsable date '{cell}' "
                        f"(write dates like 2021-02-26)")
    return np.array(good[0][1], dtype="datetime64[D]")


def _make_date(a: int, b: int, c: int, order: str) -> dt.date | None:
    y, m, d = {"ymd": (a, b, c), "dmy": (c, b, a), "mdy": (c, a, b)}[order]
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _number(text: str, delim: str) -> float | None:
    """A number written with the file's convention: decimal comma in ';' files."""
    t = text.replace("\u00a0", "").replace(" ", "").replace("'", "")
    if delim == ";":
        if not _NUM_COMMA.match(t):
            return None
        t = t.replace(".", "").replace(",", ".")
    else:
        if not _NUM_DOT.match(t):
            return None
        t = t.replace(",", "")
    try:
        v = float(t)
    except ValueError:
        return None
    return v if np.isfinite(v) else None


def _parse_values(where: str, rows: list[tuple[int, list[str]]], vi: int,
                  delim: str) -> np.ndarray:
    out = np.empty(len(rows))
    for i, (n, cells) in enumerate(rows):
        if vi >= len(cells):
            raise DataError(f"{where}, row {n}: missing value (the row has only "
                            f"{len(cells)} field{'s' if len(cells) != 1 else ''})")
        cell = cells[vi]
        if cell.lower() in MISSING:
            shown = f"'{cell}'" if cell else "(empty cell)"
            raise DataError(f"{where}, row {n}: missing value {shown} (fill it in or "
                            f"delete the row: short gaps are filled by interpolation)")
        v = _number(cell, delim)
        if v is None:
            raise DataError(f"{where}, row {n}: non-numeric value '{cell}'")
        if abs(v) > MAX_ABS:
            raise DataError(f"{where}, row {n}: value {cell} is too large to train on "
                            f"(at most {MAX_ABS:g} in size)")
        out[i] = v
    return out


def _to_daily(where: str, dates: np.ndarray, values: np.ndarray, row_no: np.ndarray,
              max_gap: int, column: str, notes: list[str]) -> ParsedCsv:
    """Sort by date, refuse duplicates and long gaps, fill short gaps linearly."""
    order = np.argsort(dates, kind="stable")
    if np.any(order != np.arange(len(order))):
        notes.append("rows were not in date order; sorted them by date")
    dates, values, row_no = dates[order], values[order], row_no[order]
    steps = np.diff(dates).astype(np.int64)
    dup = np.flatnonzero(steps == 0)
    if len(dup):
        i = dup[0]
        first, second = sorted((int(row_no[i]), int(row_no[i + 1])))
        raise DataError(f"{where}, row {second}: duplicate date {dates[i]} "
                        f"(also on row {first})")
    long = np.flatnonzero(steps - 1 > max_gap)
    if len(long):
        i = long[0]
        raise DataError(f"{where}, row {int(row_no[i + 1])}: gap of {int(steps[i]) - 1} "
                        f"missing days between {dates[i]} and {dates[i + 1]} "
                        f"(at most {max_gap} are filled)")
    if len(dates) and int((dates[-1] - dates[0]).astype(np.int64)) + 1 != len(dates):
        full = np.arange(dates[0], dates[-1] + 1)
        missing = np.setdiff1d(full, dates)
        offsets = (dates - dates[0]).astype(np.float64)
        values = np.interp((full - dates[0]).astype(np.float64), offsets, values)
        listed = ", ".join(str(d) for d in missing[:5]) + (", ..." if len(missing) > 5 else "")
        notes.append(f"filled {len(missing)} missing day{'s' if len(missing) != 1 else ''} "
                     f"by linear interpolation ({listed})")
        dates = full
    return ParsedCsv(dates, values.astype(np.float64), column, notes)
