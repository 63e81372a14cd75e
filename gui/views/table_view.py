"""The loss table: one row per run, beside the lecture's own numbers where it has them.

Rows are the dicts of `core.results.result_row`, so the table, the CLI and the exports
mean the same thing. Losses are shown in the data's unit with its suffix ("0.48k").
Exports are plain functions over rows and a path, testable without any dialog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSizePolicy,
    QTableView,
    QWidget,
)

from core import results
from core.config import RunConfig
from core.snapshot import Snapshot
from gui.theme import DARK, Theme
from gui.views.base import View

# What the class looks at first comes first: the model, its two losses, the lecture's.
COLUMNS = ("model", "train_loss", "unseen_loss", "lecture", "days", "units", "layers",
           "activation", "loss", "optimizer", "lr", "batch", "updates", "seconds", "diverged")
HEADERS = results.HEADERS
HEADER_TIPS = {
    "seconds": "the run's own training time: its updates' computation alone (each racer "
               "of a race its own), not loading the compiled code, pauses or drawing",
}
ModelIndex = QModelIndex | QPersistentModelIndex
ROW_AIR = 5     # px a row adds to its text's line


def lecture_reference(config: RunConfig) -> tuple[str, str] | None:
    """The lecture's (training, unseen) losses for this model shape as text, e.g. ('0.48k',
    '0.58k'), or None when the lecture has no such row."""
    ref = results.lecture_reference(config)
    return None if ref is None else (f"{ref[0]:.2f}k", f"{ref[1]:.2f}k")


def cell_text(row: dict[str, Any], column: str) -> str:
    """How a value is shown in the table (losses as 0.48k, lr as 0.01, yes/blank)."""
    v = row.get(column, "")
    if column in ("train_loss", "unseen_loss") and isinstance(v, (int, float)):
        return results.loss_text(row, column)   # with ± its spread over seeds, if several
    if isinstance(v, bool):
        return "yes" if v else ""
    if column == "seconds" and isinstance(v, (int, float)):
        return f"{v:.1f}"
    if column in ("units", "layers") and v == 0:
        return ""
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def export_csv(rows: list[dict[str, Any]], path: str | Path) -> None:
    """Raw numbers (data unit), one header line."""
    Path(path).write_text(results.to_csv(rows), encoding="utf-8")


def export_markdown(rows: list[dict[str, Any]], path: str | Path) -> None:
    """A GitHub table with losses formatted as the lecture writes them."""
    Path(path).write_text(results.to_markdown(rows), encoding="utf-8")


def rows_as_tsv(rows: list[dict[str, Any]]) -> str:
    """Header + rows, tab-separated, as shown on screen (pastes into a spreadsheet)."""
    lines = ["\t".join(HEADERS[c] for c in COLUMNS)]
    lines += ["\t".join(cell_text(r, c) for c in COLUMNS) for r in rows]
    return "\n".join(lines) + "\n"


class LossTableModel(QAbstractTableModel):
    """Rows of result dicts; read-only."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = self._rows[index.row()], COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(row, col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col not in ("model", "activation",
                                                                       "loss", "optimizer"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == "lecture" and row.get(col):
            return "the lecture's MAE on its own data (2017-2020 / 2021), for reference"
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal:
            return HEADER_TIPS.get(COLUMNS[section])
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return HEADERS[COLUMNS[section]]
        return str(section + 1)

    def add(self, row: dict[str, Any]) -> None:
        n = len(self._rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self._rows.append(dict(row))
        self.endInsertRows()

    def remove(self, indices: list[int]) -> None:
        for i in sorted(set(indices), reverse=True):
            if 0 <= i < len(self._rows):
                self.beginRemoveRows(QModelIndex(), i, i)
                del self._rows[i]
                self.endRemoveRows()

    def rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows]


class LossTableView(View):
    """The loss table with Record, Copy, Delete and Export buttons."""

    title = "Loss table"
    record_requested = Signal()
    row_added = Signal()              # a finished run or a lecture table's row arrived

    def __init__(self, theme: Theme = DARK, parent: QWidget | None = None) -> None:
        super().__init__(theme, parent)
        self._set_title("Loss table: one row per run")
        bar = QWidget(self)
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        self.record_button = QPushButton("Record", bar)
        self.record_button.setToolTip("add a row for the run as it is now")
        copy = QPushButton("Copy", bar)
        delete = QPushButton("Delete", bar)
        to_csv = QPushButton("Export CSV...", bar)
        to_md = QPushButton("Export Markdown...", bar)
        # Title and buttons share one line: the rows need the height on a projector.
        self._layout.removeWidget(self._title_label)
        self._title_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        row.addWidget(self._title_label, 1)
        for b in (self.record_button, copy, delete, to_csv, to_md):
            row.addWidget(b)
        self._layout.addWidget(bar)
        self._model = LossTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self._model)
        self._model.rowsInserted.connect(lambda *_: self.row_added.emit())
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self._layout.addWidget(self.table, 1)
        self.record_button.clicked.connect(lambda: self.record_requested.emit())
        copy.clicked.connect(self.copy_selected)
        delete.clicked.connect(self.delete_selected)
        to_csv.clicked.connect(lambda: self._export("CSV files (*.csv)", ".csv", export_csv))
        to_md.clicked.connect(lambda: self._export("Markdown files (*.md)", ".md",
                                                   export_markdown))
        for keys, slot in ((QKeySequence.StandardKey.Copy, self.copy_selected),
                           (QKeySequence.StandardKey.Delete, self.delete_selected)):
            sc = QShortcut(QKeySequence(keys), self.table)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self._restyle()

    # ----- table API ----------------------------------------------------------------------
    def add_row(self, row: dict[str, Any]) -> None:
        """Append one result row (keys as `core.results.COLUMNS`; optional scale/suffix)."""
        missing = [c for c in results.COLUMNS if c not in row]
        if missing:
            raise ValueError(f"a table row needs {', '.join(missing)}")
        self._model.add(row)
        self.table.scrollToBottom()

    def rows(self) -> list[dict[str, Any]]:
        return self._model.rows()

    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def copy_selected(self) -> str:
        """Selected rows (all rows if none is selected) to the clipboard, tab-separated."""
        rows = self.rows()
        picked = self.selected_rows() or list(range(len(rows)))
        text = rows_as_tsv([rows[i] for i in picked])
        QGuiApplication.clipboard().setText(text)
        return text

    def delete_selected(self) -> None:
        self._model.remove(self.selected_rows())

    # ----- View interface: the table keeps rows across runs; frames change nothing ----------
    def _draw(self, snap: Snapshot) -> None:
        return

    def clear(self) -> None:
        """Nothing per run to forget: finished runs keep their rows (see `clear_rows`)."""

    def clear_rows(self) -> None:
        """Remove every row."""
        self._model.remove(list(range(self._model.rowCount())))

    def _restyle(self) -> None:
        t = self.theme
        font = QFont(self.table.font())
        font.setPointSize(t.font_pt + 1)
        self.table.setFont(font)
        # A row is a line of its text and a little air: 2.4 x the point size (26 px at
        # 720 lines) put the lecture's 12th row (4 layers, the overfitting row) below
        # the table's fold on a 1280 x 720 projector.
        self.table.verticalHeader().setMinimumSectionSize(1)
        self.table.verticalHeader().setDefaultSectionSize(
            QFontMetrics(font).lineSpacing() + ROW_AIR)
        header_font = QFont(font)
        header_font.setBold(True)
        self.table.horizontalHeader().setFont(header_font)

    def _export(self, filter_: str, suffix: str, write: Any) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export loss table", f"losses{suffix}",
                                              filter_)
        if not path:
            return
        if not path.endswith(suffix):
            path += suffix
        try:
            write(self.rows(), path)
        except OSError as exc:
            self._title_label.setText(f"Loss table: could not write {Path(path).name}: "
                                      f"{exc.strerror or exc}")
