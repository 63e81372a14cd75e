"""The lecture's three tables as named experiment lists, and running one experiment.

Table 1: linear models with 1, 7, 28, 56 days. Table 2: 56 days, linear and 10 / 100 /
1000 ReLU. Table 3: 56 days, 1-4 layers of 100 ReLU. A shape that appears in two tables
(56-day linear, 1 x 100 ReLU) is trained once and reported in both.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core.config import RunConfig
from core.results import lecture_reference, model_label, params_in_data_unit

# Training settings for the tables' networks, the same for every network row: what a class
# gets from torch's defaults (nn.Linear's initialisation, Adam at its default lr 0.001) on
# the full batch, for a fixed budget of updates. Nothing here is tuned per row. The budget
# was set while the channel generator was designed (1,000 also keeps `fnlab table` within
# ~25 s on 2 cores); resources/datasets/PROVENANCE.md reports the other budgets tried.
NET_SETTINGS: dict[str, Any] = {"optimizer": "adam", "lr": 1e-3, "limit_updates": 1000}


INIT_NOTE = "torch's default initialisation (nn.Linear)"


@dataclass(frozen=True)
class Experiment:
    table: int
    label: str
    config: RunConfig
    seed: int = 0          # the training seed this row belongs to (`seeded_tables`)


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

    exps = [Experiment(1, model_label(c), c, seed)
            for c in (linear(d) for d in (1, 7, 28, 56))]
    exps += [Experiment(2, model_label(c), c, seed)
             for c in (linear(56), relu(10, 1), relu(100, 1), relu(1000, 1))]
    exps += [Experiment(3, model_label(c), c, seed)
             for c in (relu(100, n) for n in (1, 2, 3, 4))]
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


# A run is "still learning" when its training loss was falling by more than this
# (relative) per LATE_SHARE of its updates at the end: the table's budget stopped it, not
# what the model can fit.
LATE_SHARE = 0.1
STILL_LEARNING = 0.01


def late_fall(updates: np.ndarray, train: np.ndarray) -> float | None:
    """How much the training loss fell, relative, per LATE_SHARE of the run's updates, over
    its last 2 x LATE_SHARE (a least-squares line through the recorded history there: a
    full-batch Adam loss swings a few per cent between neighbouring points, so two single
    points would say more about the swing than the trend); None when too few points."""
    upd = np.asarray(updates, dtype=np.float64)
    tr = np.asarray(train, dtype=np.float64)
    if len(upd) < 2 or not np.all(np.isfinite(tr)) or upd[-1] <= 0:
        return None
    late = upd >= upd[-1] * (1 - 2 * LATE_SHARE)
    if late.sum() < 4:
        return None
    # The least-squares slope in closed form, about the means. np.polyfit's SVD solve was
    # the process's first LAPACK call and paged in 0.8 MB of code, the peak memory of
    # `fnlab train --days 1`; it was also the less exact (against exact rational arithmetic
    # on four runs' histories: relative error 2e-13 to 5e-11, this form 0 to 5e-16).
    du = upd[late] - upd[late].mean()
    slope = float(du @ (tr[late] - tr[late].mean())) / float(du @ du)
    level = float(tr[late].mean())
    return float(-slope * LATE_SHARE * upd[-1] / level) if level > 0 else None


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
        "train_late_fall": late_fall(snap.hist_update, snap.hist_train),
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
        rows.append({**result, "table": exp.table, "label": exp.label, "seed": exp.seed,
                     "days": cfg.days,
                     "model": cfg.model, "units": 0 if cfg.model == "linear" else cfg.units,
                     "layers": 0 if cfg.model == "linear" else cfg.layers})
    return rows, outcome.cancelled


def training_note(rows: list[dict[str, Any]] | None = None) -> str:
    """One line for the screen: how the tables' networks were trained (the same for every
    network row), from the rows' own configs when given."""
    cfg = next((r["config"] for r in rows or [] if r["model"] != "linear"), None)
    if cfg is None:
        cfg = NET_SETTINGS
    batch = cfg.get("batch_size")
    return (f"Every network: {INIT_NOTE}, {str(cfg['optimizer']).capitalize()} at lr "
            f"{cfg['lr']:g}, {cfg['limit_updates']:,} "
            f"{'full-batch' if batch is None else f'batch-{batch}'} updates, the same for "
            "every network row (none tuned on its own).")


def seeded_tables(dataset: str = "channel", split: str | None = None, loss: str = "mae",
                  seeds: Sequence[int] = (0,), net_updates: int | None = None
                  ) -> list[Experiment]:
    """The three tables once per training seed (seed order, then the tables' order). A
    full-batch linear run does not depend on its seed (it starts at w = 0, b = 0 and draws
    nothing), so its rows share the first seed's config and `run_tables` trains it once."""
    out = []
    for seed in seeds:
        for e in lecture_tables(dataset, split, loss, seed, net_updates):
            if e.config.is_linear and e.config.batch_size is None:
                e = replace(e, config=e.config.replace(seed=seeds[0]))
            out.append(replace(e, seed=seed))
    return out


def combine_seeds(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of several seeds' tables -> one row per table row: `train_loss` and
    `unseen_loss` are the means over the seeds that did not diverge, `train_spread` and
    `unseen_spread` their standard deviations (0 for one seed), `seeds` the seeds trained;
    the other fields (parameters, config) are the first seed's, `seconds` the sum."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["table"], r["label"]), []).append(r)
    out = []
    for group in groups.values():
        ok = [r for r in group if r["train_loss"] is not None and r["unseen_loss"] is not None]
        row = dict(group[0])
        for key in ("train", "unseen"):
            values = [float(r[f"{key}_loss"]) for r in ok]
            row[f"{key}_loss"] = float(np.mean(values)) if values else None
            row[f"{key}_spread"] = float(np.std(values)) if values else None
        row["seeds"] = [int(r["seed"]) for r in group]
        falls = [float(r["train_late_fall"]) for r in ok
                 if r.get("train_late_fall") is not None]
        row["train_late_fall"] = float(np.mean(falls)) if falls else None
        row["diverged"] = any(r["diverged"] for r in group)
        row["seconds"] = round(sum(float(r["seconds"]) for r in group), 3)
        out.append(row)
    return out


# The lecture's story, claim by claim (what `story_checks` tests on a table's rows), each
# with the rows (table, days, units, layers) whose losses the screen shows when it fails.
STORY_CLAIMS = (
    "more days: the unseen loss falls from 1 to 7 to 28 days",
    "100 and 1000 ReLU beat the 56-day line on unseen days by 3% or more",
    "2 and 3 layers beat 1 layer on unseen days",
    "4 layers: the lowest training loss, and a higher unseen loss than 3 layers",
    "the training loss falls down every table",
)
_DEEP = [(3, 56, 100, n) for n in (1, 2, 3, 4)]
STORY_EVIDENCE: tuple[tuple[str, list[tuple[int, int, int, int]]], ...] = (
    ("unseen", [(1, d, 0, 0) for d in (1, 7, 28)]),
    ("unseen", [(2, 56, 0, 0), (2, 56, 100, 1), (2, 56, 1000, 1)]),
    ("unseen", _DEEP),
    ("train", _DEEP),
    ("train", [(2, 56, 0, 0), (2, 56, 10, 1), *_DEEP]),
)


def story_checks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Which of the lecture's claims (`STORY_CLAIMS`) hold on these rows, seed by seed.

    `rows` are `run_tables` rows of one or more seeds (not yet combined). Returns one dict
    per claim: {"claim", "held": [seeds], "failed": [seeds]}; a seed whose rows miss a
    model or diverged counts as failed. The screen says what does not hold instead of
    hiding it."""
    def loss(seed: int, table: int, which: str, days: int = 56, units: int = 0,
             layers: int = 0) -> float:
        for r in rows:
            if (r["seed"], r["table"], r["days"], r["units"], r["layers"]) == \
                    (seed, table, days, units, layers):
                value = r[f"{which}_loss"]
                if value is None:
                    raise LookupError
                return float(value)
        raise LookupError

    def claims(seed: int) -> list[bool]:
        unseen1 = [loss(seed, 1, "unseen", days=d) for d in (1, 7, 28)]
        line = loss(seed, 2, "unseen")
        relu = [loss(seed, 2, "unseen", units=u, layers=1) for u in (100, 1000)]
        deep_un = [loss(seed, 3, "unseen", units=100, layers=n) for n in (1, 2, 3, 4)]
        deep_tr = [loss(seed, 3, "train", units=100, layers=n) for n in (1, 2, 3, 4)]
        falls = [
            [loss(seed, 1, "train", days=d) for d in (1, 7, 28, 56)],
            [loss(seed, 2, "train")] + [loss(seed, 2, "train", units=u, layers=1)
                                        for u in (10, 100, 1000)],
            deep_tr,
        ]
        return [
            unseen1[0] > unseen1[1] > unseen1[2],
            all(v <= 0.97 * line for v in relu),
            deep_un[1] < deep_un[0] and deep_un[2] < deep_un[0],
            deep_tr[3] == min(deep_tr) and deep_un[3] > deep_un[2],
            all(a > b for table in falls for a, b in itertools.pairwise(table)),
        ]

    seeds = list(dict.fromkeys(int(r["seed"]) for r in rows))
    out = [{"claim": c, "held": [], "failed": []} for c in STORY_CLAIMS]
    for seed in seeds:
        try:
            results = claims(seed)
        except LookupError:
            results = [False] * len(STORY_CLAIMS)
        for entry, ok in zip(out, results, strict=True):
            entry["held" if ok else "failed"].append(seed)
    return out


def still_learning(rows: list[dict[str, Any]], keys: list[tuple[int, int, int, int]]
                   ) -> list[tuple[str, float]]:
    """Why a training-loss claim can fail: the rows among `keys` (table, days, units,
    layers) whose training loss was still falling when the table's budget ended them, as
    (short label, relative fall over their last LATE_SHARE of updates), from each run's own
    history; empty if none was."""
    out: dict[str, float] = {}
    for key in keys:
        for r in rows:
            fall = r.get("train_late_fall")
            if (r["table"], r["days"], r["units"], r["layers"]) == key and \
                    fall is not None and fall > STILL_LEARNING:
                out.setdefault(r["label"].removeprefix("56 days, "), float(fall))
    return list(out.items())


def still_learning_text(learning: list[tuple[str, float]]) -> str:
    """`still_learning`'s rows in one line, as the CLI and the lecture panel show them."""
    return ("still learning when the budget ended (training loss falling, per tenth of the "
            "updates): " + ", ".join(f"{name} −{100 * fall:.1f} %" for name, fall in learning))


def total_updates(experiments: list[Experiment]) -> int:
    """Updates the distinct runs will take, for a progress bar."""
    seen = {e.config.to_json(): e.config for e in experiments}
    return sum(c.limit_updates or 0 for c in seen.values())


def _num(v: float) -> float | None:
    v = float(v)
    return v if v == v and abs(v) != float("inf") else None
