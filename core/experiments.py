"""The lecture's three tables as named experiment lists, and running one experiment.

Table 1: linear models with 1, 7, 28, 56 days. Table 2: 56 days, linear and 10 / 100 /
1000 ReLU. Table 3: 56 days, 1-4 layers of 100 ReLU. A shape that appears in two tables
(56-day linear, 1 x 100 ReLU) is trained once and reported in both.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.config import RunConfig
from core.results import lecture_reference, model_label, params_in_data_unit

# Training settings for the tables' networks: Adam on the full batch. Chosen so that on the
# channel data the table shows the lecture's story (more units or layers lower the
# training loss, 4 layers overfit) in well under a minute on 2 cores; more updates only
# memorize more of the training noise.
NET_SETTINGS: dict[str, Any] = {"optimizer": "adam", "lr": 2e-3, "limit_updates": 2000}


@dataclass(frozen=True)
class Experiment:
    table: int
    label: str
    config: RunConfig


def default_config(**fields: Any) -> RunConfig:
    """A RunConfig whose training settings converge for its model (engine defaults)."""
    from core.engine import default_settings

    base = RunConfig(**{k: v for k, v in fields.items()
                        if k not in ("lr", "optimizer", "limit_updates", "limit_epochs")})
    optimizer = fields.get("optimizer") or default_settings(base.model, base.loss, None)[
        "optimizer"]
    settings = default_settings(base.model, base.loss, optimizer)
    settings.update({k: fields[k] for k in ("lr", "limit_updates", "limit_epochs")
                     if fields.get(k) is not None})
    if settings.get("limit_epochs") is not None:
        settings.pop("limit_updates", None)
    settings["optimizer"] = optimizer
    return base.replace(**settings)


def lecture_tables(dataset: str = "channel", split: str | None = None, loss: str = "mae",
                   seed: int = 0, net_updates: int | None = None) -> list[Experiment]:
    """The lecture's three tables as experiments on `dataset`."""
    common = {"dataset": dataset, "split": split, "loss": loss, "seed": seed}
    net = dict(NET_SETTINGS)
    if net_updates is not None:
        net["limit_updates"] = net_updates

    def linear(days: int) -> RunConfig:
        return default_config(days=days, model="linear", **common)

    def relu(units: int, layers: int) -> RunConfig:
        return RunConfig(days=56, model="relu", units=units, layers=layers, **common, **net)

    exps = [Experiment(1, model_label(c), c) for c in (linear(d) for d in (1, 7, 28, 56))]
    exps += [Experiment(2, model_label(c), c)
             for c in (linear(56), relu(10, 1), relu(100, 1), relu(1000, 1))]
    exps += [Experiment(3, model_label(c), c) for c in (relu(100, n) for n in (1, 2, 3, 4))]
    return exps


def train_result(config: RunConfig, data: Any = None,
                 on_update: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Train one run to its limit and describe it (losses and params in the data unit)."""
    from core.engine import Trainer

    trainer = Trainer(config, data)
    start = time.perf_counter()
    chunk = 200
    while not trainer.done:
        before = trainer.update
        trainer.run(chunk)
        if on_update is not None:
            on_update(trainer.update - before)
        if trainer.update == before:  # no progress: a limit or divergence ended it
            break
    return describe(trainer, time.perf_counter() - start)


def describe(trainer: Any, seconds: float) -> dict[str, Any]:
    """A finished (or stopped) run as `fnlab train --json` prints it: losses and
    parameters in the data unit."""
    config = trainer.config
    snap = trainer.snapshot(extras=False)
    scale = float(trainer.data.scale)
    ref = lecture_reference(config)
    return {
        "train_loss": _num(snap.train_loss),
        "unseen_loss": _num(snap.unseen_loss),
        "params": params_in_data_unit(config.model, snap.params, scale),
        "updates": int(snap.update),
        "epochs": float(snap.epoch),
        "seconds": round(seconds, 3),
        "diverged": bool(snap.diverged),
        "stop_reason": snap.stop_reason,
        "unit": trainer.data.unit,
        "scale": scale,
        "suffix": trainer.data.suffix,
        "lecture_train": None if ref is None else ref[0] * 1000.0,
        "lecture_unseen": None if ref is None else ref[1] * 1000.0,
        "config": config.to_dict(),
    }


def train_task(config: RunConfig, series: Any) -> dict[str, Any]:
    """One run where it is sent (a Dask worker): window `series` for it, train, describe.

    Top-level and picklable; the series goes to the cluster once and each worker cuts its
    own window (a few milliseconds) instead of receiving every run's samples."""
    from core.data import window

    return train_result(config, window(series, config.days, config.split))


def run_cost(config: RunConfig) -> float:
    """A rough relative cost of a run, so the longest runs start first (measured on 2
    cores: a layer costs about as much as 5,000 more weights in a network's update, a
    linear update about as much as a network's 1/30 of that)."""
    updates = config.limit_updates or 1000
    if config.is_linear:
        return updates * config.days / 30.0
    weights = config.days * config.units + config.units**2 * (config.layers - 1)
    return updates * (weights + 5000.0 * config.layers)


def run_tables(experiments: list[Experiment], series: Any,
               on_run: Callable[[dict[str, Any]], None] | None = None,
               scheduler: str | None = None, workers: int | None = None
               ) -> tuple[list[dict[str, Any]], bool]:
    """Run each distinct config once, in parallel on Dask (`core.sweep`); one row per
    experiment, in order. Returns (rows, cancelled): on Ctrl-C, the rows that finished."""
    from core.sweep import run_map

    configs = list({e.config.to_json(): e.config for e in experiments}.values())

    def done(_i: int, result: dict[str, Any]) -> None:
        if on_run is not None:
            on_run(result)

    outcome = run_map(train_task, configs, shared=[series], on_result=done,
                      priorities=[run_cost(c) for c in configs], scheduler=scheduler,
                      workers=workers)
    results = {configs[i].to_json(): r for i, r in outcome.results.items()}
    rows = []
    for exp in experiments:
        cfg = exp.config
        result = results.get(cfg.to_json())
        if result is None:
            continue
        rows.append({**result, "table": exp.table, "label": exp.label, "days": cfg.days,
                     "model": cfg.model, "units": 0 if cfg.model == "linear" else cfg.units,
                     "layers": 0 if cfg.model == "linear" else cfg.layers})
    return rows, outcome.cancelled


def total_updates(experiments: list[Experiment]) -> int:
    """Updates the distinct runs will take, for a progress bar."""
    seen = {e.config.to_json(): e.config for e in experiments}
    return sum(c.limit_updates or 0 for c in seen.values())


def _num(v: float) -> float | None:
    v = float(v)
    return v if v == v and abs(v) != float("inf") else None
