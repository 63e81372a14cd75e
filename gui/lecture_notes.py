"""The lines lecture mode shows under a step's text: the numbers and verdicts of the moment.

Rich text for the lecture panel (`LecturePanel.show_values`), computed from what is on
screen, never typed in: the estimate's MAE and MSE, the step's learning rate against the
critical one of its surface, and which of the lecture's claims the tables just trained
bear out. Qt-free.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from core.config import RunConfig
from core.losses import loss_value


def loss_values_html(snap: Any, data: Any, used: str) -> str | None:
    """MAE and MSE of the estimate shown, side by side in the data's unit (MSE also as its
    square root, in views again), the step's own loss in bold; None before an estimate."""
    if snap.pred_train is None or len(snap.pred_train) != len(data.y_train):
        return None
    y = np.asarray(data.y_train, dtype=np.float64) * float(data.scale)
    pred = np.asarray(snap.pred_train, dtype=np.float64)
    mae, mse = loss_value("mae", pred, y), loss_value("mse", pred, y)
    unit = html.escape(data.unit or "value")
    parts = {"mae": f"MAE = {mae:,.0f} {unit}",
             "mse": f"MSE = {mse:,.0f} {unit}<sup>2</sup> &nbsp;(√MSE = {math.sqrt(mse):,.0f}"
                    f" {unit})"}
    shown = [f"<b>{text}</b>" if name == used else text for name, text in parts.items()]
    return "&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;".join(shown)


# `core.experiments.STORY_CLAIMS` in the few words a projected panel has room for
STORY_SHORT = ("more days help", "ReLUs beat the line by 3 %", "2-3 layers beat 1",
               "4 layers overfit", "training loss falls in every table")


def story_html(rows: list[dict[str, Any]]) -> str | None:
    """Which of the lecture's claims hold on the tables just trained and which do not,
    decided from those rows (`core.experiments.story_checks`, as `fnlab table` prints it),
    so the step never claims more than the numbers on screen show; None without rows."""
    from core.experiments import (
        STORY_EVIDENCE,
        combine_seeds,
        still_learning,
        still_learning_text,
        story_checks,
    )

    rows = [r for r in rows if "seed" in r and "table" in r]
    if not rows:
        return None
    checks = story_checks(rows)
    held = [STORY_SHORT[i] for i, c in enumerate(checks) if c["held"] and not c["failed"]]
    failed = [STORY_SHORT[i] for i, c in enumerate(checks) if c["failed"]]
    parts = [f"<b>{label}</b> {'; '.join(claims)}" for label, claims in
             (("Holds:", held), ("Does NOT hold:", failed)) if claims]
    # Why a training-loss claim failed, when the rows say: some were still learning.
    combined = combine_seeds(rows)
    learning = dict(item for c, (which, keys) in zip(checks, STORY_EVIDENCE, strict=True)
                    if c["failed"] and which == "train" for item in still_learning(combined, keys))
    if learning:
        parts.append(f"<i>Why:</i> {still_learning_text(list(learning.items()))}")
    return "<br>".join(parts)


def critical_lr_html(data: Any, config: RunConfig) -> str:
    """The step's learning rate against the critical one of its surface (plain GD on the
    linear MSE loss diverges above 2 / lambda_max of the Hessian); MAE has none."""
    from core.race import critical_lr

    eta = config.lr
    if config.model != "linear" or config.loss != "mse":
        return (f"η = {eta:g}: the MAE loss is piecewise linear, so no learning rate is "
                "critical: too large a step zig-zags across the valley")
    crit = critical_lr(data)
    side = "above" if eta > crit else "below"
    return (f"critical η = 2 / λ<sub>max</sub> = <b>{crit:.4g}</b>; this step's η = {eta:g}"
            f" is {eta / crit:.2f}× it, {side}: gradient descent "
            + ("diverges" if eta > crit else "converges"))
