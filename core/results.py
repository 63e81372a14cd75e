"""One finished (or recorded) run as a table row, the lecture's reference numbers, exports.

The CLI's JSON, the app's loss table and its CSV / Markdown / LaTeX exports all come from
here, so a row means the same thing everywhere.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from core.config import RunConfig

# The lecture's numbers (MAE, thousands of views, 2017-2020 / 2021), keyed by
# (model, days, units, layers). Linear rows ignore units and layers.
LECTURE_REFERENCE: dict[tuple[str, int, int, int], tuple[float, float]] = {
    ("linear", 1, 0, 0): (0.48, 0.58),
    ("linear", 7, 0, 0): (0.38, 0.49),
    ("linear", 28, 0, 0): (0.33, 0.46),
    ("linear", 56, 0, 0): (0.32, 0.46),
    ("relu", 56, 10, 1): (0.32, 0.45),
    ("relu", 56, 100, 1): (0.28, 0.43),
    ("relu", 56, 1000, 1): (0.27, 0.43),
    ("relu", 56, 100, 2): (0.18, 0.39),
    ("relu", 56, 100, 3): (0.14, 0.38),
    ("relu", 56, 100, 4): (0.10, 0.44),
}

COLUMNS = ("model", "days", "units", "layers", "activation", "loss", "optimizer", "lr",
           "batch", "updates", "train_loss", "unseen_loss", "seconds", "diverged", "lecture")

HEADERS = {
    "model": "Model", "days": "Days", "units": "Units", "layers": "Layers",
    "activation": "Activation", "loss": "Loss", "optimizer": "Optimizer", "lr": "LR",
    "batch": "Batch", "updates": "Updates", "train_loss": "Training loss",
    "unseen_loss": "Unseen loss", "seconds": "Seconds", "diverged": "Diverged",
    "lecture": "Lecture (train / unseen)",
}


def _key(config: RunConfig) -> tuple[str, int, int, int]:
    if config.model == "linear":
        return ("linear", config.days, 0, 0)
    return (config.model, config.days, config.units, config.layers)


def lecture_reference(config: RunConfig) -> tuple[float, float] | None:
    """The lecture's (training, unseen) MAE in thousands for this model shape, if it has one."""
    if config.loss != "mae":
        return None
    return LECTURE_REFERENCE.get(_key(config))


def lecture_reference_text(config: RunConfig) -> str:
    ref = lecture_reference(config)
    return "" if ref is None else f"{ref[0]:.2f}k / {ref[1]:.2f}k"


def model_label(config: RunConfig) -> str:
    """A label a lecturer would write on the board, e.g. '56 days, 3 layers x 100 ReLU'."""
    days = f"{config.days} day" + ("s" if config.days != 1 else "")
    if config.model == "linear":
        return f"{days}, linear"
    act = {"relu": "ReLU", "sigmoid": "sigmoid", "hard-sigmoid": "hard sigmoid"}[config.model]
    if config.layers == 1:
        return f"{days}, {config.units} {act}"
    return f"{days}, {config.layers} layers x {config.units} {act}"


def unit_factor(model: str, key: str, scale: float) -> float:
    """What a parameter array named `key` is multiplied by to go from the training unit to
    the data's own unit.

    The model is trained on x / scale and predicts y / scale, so y = scale * f(x / scale):
    weights on the inputs divide by the scale, output weights and the output bias multiply.
    Hidden layers beyond the first are unit-free and stay as they are.
    """
    if model == "linear":
        return scale if key == "b" else 1.0
    if key == "W1":
        return 1.0 / scale
    return scale if key in ("c", "b") else 1.0


def params_in_data_unit(model: str, params: dict[str, np.ndarray], scale: float
                        ) -> dict[str, Any]:
    """Parameters re-expressed for inputs and outputs in the data's own unit (see
    `unit_factor`)."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        arr = np.asarray(value, dtype=float) * unit_factor(model, name, scale)
        out[name] = arr.tolist() if arr.ndim else float(arr)
    return out


def result_row(config: RunConfig, snap: Any, data: Any | None = None) -> dict[str, Any]:
    """The loss-table row for a run at `snap` (a core.snapshot.Snapshot)."""
    row = {
        "model": model_label(config),
        "days": config.days,
        "units": 0 if config.model == "linear" else config.units,
        "layers": 0 if config.model == "linear" else config.layers,
        "activation": "" if config.model == "linear" else config.model,
        "loss": config.loss.upper(),
        "optimizer": config.optimizer,
        "lr": float(snap.lr),
        "batch": "full" if config.batch_size is None else int(config.batch_size),
        "updates": int(snap.update),
        "train_loss": float(snap.train_loss),
        "unseen_loss": float(snap.unseen_loss),
        "seconds": round(float(snap.seconds), 3),
        "diverged": bool(snap.diverged),
        "lecture": lecture_reference_text(config),
    }
    if data is not None:  # lets a table format the losses in the data's own unit
        row["scale"] = float(data.scale)
        row["suffix"] = str(data.suffix)
    return row


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_loss(value: float, scale: float = 1000.0, suffix: str = "k") -> str:
    """0.48k style; 'inf' / 'nan' spelled out so a diverged run reads as such. A loss
    that ran away (100,000 of the unit and more: a run diverging, or one that did with a
    last finite loss) as the power of ten it passed, in the data unit: "> 10²⁸", which a
    class reads at once, not "7.17e+25k" (this one function writes every loss the app
    shows: the loss table, the status line, the run gallery)."""
    if value is None or not math.isfinite(value):
        return "diverged" if value is not None and math.isinf(value) else "n/a"
    v = value / scale
    if abs(v) >= 1e5:
        power = math.floor(math.log10(abs(value)))
        ten = f"10{str(power).translate(_SUPERSCRIPT)}"
        return f"> {ten}" if value > 0 else f"< -{ten}"
    digits = 2 if abs(v) >= 0.095 or v == 0 else 3
    return f"{v:.{digits}f}{suffix}"


def loss_equals(value: float, scale: float = 1000.0, suffix: str = "k") -> str:
    """A loss after its symbol: "= 0.48k", but "> 10²⁸" ("L > 10²⁸", not "L = > 10²⁸"),
    as the status line and `fnlab train` write it."""
    text = format_loss(value, scale, suffix)
    return text if text.startswith((">", "<")) else f"= {text}"


def loss_text(row: dict[str, Any], col: str) -> str:
    """A row's `train_loss` or `unseen_loss` as the lecture writes it (0.48k); a row that is
    the mean over several seeds (`fnlab table --seeds`) adds its spread: 0.45k ± 0.01k."""
    scale, suffix = row.get("scale", 1000.0), row.get("suffix", "k")
    v = row.get(col)
    text = format_loss(float(v), scale, suffix) if isinstance(v, (int, float)) else "diverged"
    spread = row.get(col.replace("_loss", "_spread"))
    if len(row.get("seeds") or ()) > 1 and isinstance(spread, (int, float)):
        text += f" ± {format_loss(float(spread), scale, suffix)}"
    return text


def _cell(row: dict[str, Any], col: str, fmt_loss: bool) -> str:
    v = row.get(col, "")
    if fmt_loss and col in ("train_loss", "unseen_loss") and isinstance(v, (int, float)):
        return loss_text(row, col)
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str] = COLUMNS) -> str:
    """Raw numbers (data unit), one header line; for spreadsheets."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buf.getvalue()


def to_markdown(rows: Iterable[dict[str, Any]], columns: Sequence[str] = COLUMNS) -> str:
    """A GitHub table with losses formatted as the lecture writes them (0.48k)."""
    lines = ["| " + " | ".join(HEADERS.get(c, c) for c in columns) + " |",
             "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        cells = [_cell(row, c, True).replace("|", "\\|") for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_latex(rows: Iterable[dict[str, Any]], columns: Sequence[str] = COLUMNS) -> str:
    """A booktabs tabular for slides."""
    def esc(s: str) -> str:
        for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                     ("#", r"\#"), ("$", r"\$")):
            s = s.replace(a, b)
        return s
    head = " & ".join(esc(HEADERS.get(c, c)) for c in columns) + r" \\"
    body = [" & ".join(esc(_cell(r, c, True)) for c in columns) + r" \\" for r in rows]
    return "\n".join([r"\begin{tabular}{" + "l" * len(columns) + "}", r"\toprule", head,
                      r"\midrule", *body, r"\bottomrule", r"\end{tabular}"]) + "\n"
