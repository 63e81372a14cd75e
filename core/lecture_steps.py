"""The lecture's step files: the format, its validation, and the work a step asks for.

A step is data (resources/presets/lecture/NN-slug.json): a title, a caption with its
formula, a run config, which views show, how many updates to train on entry, and a few
options (errors drawn, w/b sliders, a full-batch reference path, the lecture's tables,
learning-rate runs replayed in the run gallery).
A broken file is named in one line and skipped; the other steps still open. Qt-free: the
controller that shows steps in the window is gui/lecture.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config import ConfigError, RunConfig, one_line

LECTURE_DIR = Path(__file__).resolve().parent.parent / "resources" / "presets" / "lecture"
STEP_KEYS = {"title", "caption", "formula", "config", "views", "updates", "speed", "play",
             "options"}
VIEW_NAMES = ("controls", "surface", "fit", "series", "loss", "table", "builder",
              "landscapes", "race", "gallery")
OPTION_KEYS = {"errors", "sliders", "reference_path", "tables", "zoom", "track", "start",
               "log_loss", "path_numbers", "builder", "landscapes", "race", "critical_lr",
               "gallery"}
LANDSCAPE_KEYS = {"layers", "updates", "grid"}


@dataclass(frozen=True)
class LectureStep:
    """One lecture step, validated."""

    name: str
    title: str
    caption: str
    formula: str
    config: RunConfig
    views: tuple[str, ...]
    updates: int = 0
    speed: float | None = None
    play: bool = False
    options: dict[str, Any] = field(default_factory=dict)


class StepError(ValueError):
    """One line naming the file and what is wrong with it."""


def _only(name: str, raw: dict[str, Any], known: set[str], what: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise StepError(f"{name}: unknown {what} {', '.join(unknown)}")


def parse_step(name: str, raw: Any) -> LectureStep:
    """Validate one step's JSON object; StepError names the problem."""
    if not isinstance(raw, dict):
        raise StepError(f"{name}: a step must be a JSON object")
    _only(name, raw, STEP_KEYS, "key(s)")
    for key in ("title", "caption"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise StepError(f"{name}: '{key}' must be a non-empty text")
    if not isinstance(raw.get("formula", ""), str):
        raise StepError(f"{name}: 'formula' must be a text")
    if not isinstance(raw.get("config"), dict):
        raise StepError(f"{name}: 'config' must be an object of run settings")
    try:
        config = RunConfig.from_dict(raw["config"])
    except ConfigError as exc:
        raise StepError(f"{name}: config: {exc}") from None
    views = raw.get("views")
    if not isinstance(views, list) or not views or not all(isinstance(v, str) for v in views):
        raise StepError(f"{name}: 'views' must be a list of view names")
    bad = [v for v in views if v not in VIEW_NAMES]
    if bad:
        raise StepError(f"{name}: unknown view(s) {', '.join(bad)} (known: "
                        f"{', '.join(VIEW_NAMES)})")
    updates = raw.get("updates", 0)
    if isinstance(updates, bool) or not isinstance(updates, int) or not 0 <= updates <= 10**7:
        raise StepError(f"{name}: 'updates' must be a whole number from 0 to 10,000,000")
    speed = raw.get("speed")
    if speed is not None and (isinstance(speed, bool) or not isinstance(speed, (int, float))
                              or not 0 < speed <= 1e6):
        raise StepError(f"{name}: 'speed' must be updates per second (> 0) or null")
    play = raw.get("play", False)
    if not isinstance(play, bool):
        raise StepError(f"{name}: 'play' must be true or false")
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise StepError(f"{name}: 'options' must be an object")
    _only(name, options, OPTION_KEYS, "option(s)")
    for key in ("track", "start"):
        v = options.get(key)
        if v is not None and (not isinstance(v, list) or len(v) != 2):
            raise StepError(f"{name}: option '{key}' must be a list of two values")
    if options.get("start") is not None and not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in options["start"]):
        raise StepError(f"{name}: option 'start' must be two numbers")
    if not isinstance(options.get("log_loss", False), bool):
        raise StepError(f"{name}: option 'log_loss' must be true or false")
    numbers = options.get("path_numbers", 0)
    if isinstance(numbers, bool) or not isinstance(numbers, int) or not 0 <= numbers <= 50:
        raise StepError(f"{name}: option 'path_numbers' must be a whole number from 0 to 50")
    if options.get("builder") is not None:
        _check_builder(name, options["builder"])
    if options.get("race") is not None:
        _check_race(name, options["race"])
    if options.get("gallery") is not None:
        _check_gallery(name, options["gallery"])
    if not isinstance(options.get("critical_lr", False), bool):
        raise StepError(f"{name}: option 'critical_lr' must be true or false")
    tables = options.get("tables")
    if tables is not None and not isinstance(tables, (bool, dict)):
        raise StepError(f"{name}: option 'tables' must be true or an object")
    _check_landscapes(name, options.get("landscapes"))
    return LectureStep(name, raw["title"].strip(), raw["caption"].strip(),
                       str(raw.get("formula", "")).strip(), config, tuple(views), updates,
                       None if speed is None else float(speed), play, dict(options))


def _check_builder(name: str, spec: Any) -> None:
    """Option 'builder': {"target": [[x, y], ...], "constant": c, "pieces": [{"kind", "c",
    "b", "w"}, ...], "fit": bool}: the curve builder's start, fitted on entry if "fit"."""
    from core.pieces import KINDS, PiecewiseLinear

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if not isinstance(spec, dict):
        raise StepError(f"{name}: option 'builder' must be an object")
    _only(name, spec, {"target", "constant", "pieces", "fit"}, "builder key(s)")
    target = spec.get("target")
    if not isinstance(target, list) or len(target) < 2 or not all(
            isinstance(p, list) and len(p) == 2 and all(number(v) for v in p) for p in target):
        raise StepError(f"{name}: builder 'target' must be a list of [x, y] corners")
    try:
        PiecewiseLinear([p[0] for p in target], [p[1] for p in target])
    except ValueError as exc:
        raise StepError(f"{name}: builder 'target': {exc}") from None
    if not number(spec.get("constant", 0.0)):
        raise StepError(f"{name}: builder 'constant' must be a number")
    pieces = spec.get("pieces", [])
    if not isinstance(pieces, list) or not all(
            isinstance(p, dict) and p.get("kind") in KINDS
            and all(number(p.get(k)) for k in ("c", "b", "w")) for p in pieces):
        raise StepError(f"{name}: builder 'pieces' must be a list of {{kind, c, b, w}} "
                        f"(kinds: {', '.join(KINDS)})")
    if not isinstance(spec.get("fit", False), bool):
        raise StepError(f"{name}: builder 'fit' must be true or false")


def builder_state(spec: dict[str, Any]) -> dict[str, Any]:
    """The curve builder's `restore_state` dict for a validated 'builder' option."""
    target = spec["target"]
    return {"target": {"xs": [float(p[0]) for p in target], "ys": [float(p[1]) for p in target]},
            "constant": float(spec.get("constant", 0.0)),
            "pieces": [{k: p[k] for k in ("kind", "c", "b", "w")} for p in spec.get("pieces", [])]}


def _check_landscapes(name: str, spec: Any) -> None:
    """The side-by-side landscapes option: {"layers": [1, 4], "updates": N, "grid": n}."""
    if spec is None:
        return
    if not isinstance(spec, dict):
        raise StepError(f"{name}: option 'landscapes' must be an object")
    _only(name, spec, LANDSCAPE_KEYS, "landscapes key(s)")
    layers = spec.get("layers", [1, 4])
    if not isinstance(layers, list) or len(layers) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 10 for v in layers):
        raise StepError(f"{name}: landscapes 'layers' must be two layer counts from 1 to 10")
    for key, lo, hi in (("updates", 1, 100_000), ("grid", 2, 201)):
        v = spec.get(key, lo)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise StepError(f"{name}: landscapes '{key}' must be a whole number from "
                            f"{lo:,} to {hi:,}")


RACE_KEYS = {"racers", "loss", "start", "updates", "speed", "play"}


def _check_race(name: str, spec: Any) -> None:
    """An optimizer race: racers as [optimizer, learning rate] pairs (2-6), the loss of
    its 1-day surface, where they start, how many updates and how fast."""
    from core.config import LOSSES, OPTIMIZERS

    if not isinstance(spec, dict):
        raise StepError(f"{name}: option 'race' must be an object")
    _only(name, spec, RACE_KEYS, "race key(s)")
    racers = spec.get("racers")
    if not isinstance(racers, list) or not 2 <= len(racers) <= 6:
        raise StepError(f"{name}: race 'racers' must list 2 to 6 [optimizer, lr] pairs")
    for r in racers:
        if (not isinstance(r, list) or len(r) != 2 or r[0] not in OPTIMIZERS
                or isinstance(r[1], bool) or not isinstance(r[1], (int, float))
                or not r[1] > 0):
            raise StepError(f"{name}: race racer {r!r} must be [one of "
                            f"{', '.join(OPTIMIZERS)}, a positive learning rate]")
    if spec.get("loss", "mae") not in LOSSES:
        raise StepError(f"{name}: race 'loss' must be one of {', '.join(LOSSES)}")
    start = spec.get("start")
    if start is not None and (not isinstance(start, list) or len(start) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in start)):
        raise StepError(f"{name}: race 'start' must be two numbers")
    for key, hi in (("updates", 10**6), ("speed", 10**5)):
        v = spec.get(key, 1)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= hi:
            raise StepError(f"{name}: race '{key}' must be a whole number from 0 to {hi:,}")
    if not isinstance(spec.get("play", True), bool):
        raise StepError(f"{name}: race 'play' must be true or false")


GALLERY_KEYS = {"runs", "updates", "mode", "speed", "play"}


def _check_gallery(name: str, spec: Any) -> None:
    """The run gallery's learning-rate comparison: "runs" as [label, learning rate] pairs
    (2-4) of the step's config, each trained for "updates" (or until it diverges), then
    replayed side by side ("mode": "side") or overlaid ("overlay"), at "speed" updates a
    second, playing on entry if "play"."""
    if not isinstance(spec, dict):
        raise StepError(f"{name}: option 'gallery' must be an object")
    _only(name, spec, GALLERY_KEYS, "gallery key(s)")
    runs = spec.get("runs")
    if not isinstance(runs, list) or not 2 <= len(runs) <= 4 or not all(
            isinstance(r, list) and len(r) == 2 and isinstance(r[0], str)
            and not isinstance(r[1], bool) and isinstance(r[1], (int, float)) and r[1] > 0
            for r in runs):
        raise StepError(f"{name}: gallery 'runs' must list 2 to 4 [label, learning rate] "
                        "pairs with positive rates")
    for key, lo, hi in (("updates", 1, 100_000), ("speed", 1, 100_000)):
        v = spec.get(key, lo)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise StepError(f"{name}: gallery '{key}' must be a whole number from {lo:,} "
                            f"to {hi:,}")
    if spec.get("mode", "side") not in ("side", "overlay"):
        raise StepError(f"{name}: gallery 'mode' must be \"side\" or \"overlay\"")
    if not isinstance(spec.get("play", True), bool):
        raise StepError(f"{name}: gallery 'play' must be true or false")


def load_steps(folder: str | Path = LECTURE_DIR) -> tuple[list[LectureStep], list[str]]:
    """The steps in order (index.json's list, else by file name) and one message per
    broken file."""
    folder = Path(folder)
    errors: list[str] = []
    index = folder / "index.json"
    if index.is_file():
        try:
            names = json.loads(index.read_text(encoding="utf-8"))
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValueError("it must be a list of file names")
            files = [folder / n for n in names]
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            errors.append(f"index.json: cannot read the step list ({one_line(exc)})")
            files = sorted(p for p in folder.glob("*.json") if p.name != "index.json")
    else:
        files = sorted(folder.glob("*.json"))
    steps = []
    for path in files:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            errors.append(f"{path.name}: listed in index.json but missing")
            continue
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            errors.append(f"{path.name}: not valid JSON ({one_line(exc)})")
            continue
        try:
            steps.append(parse_step(path.name, raw))
        except StepError as exc:
            errors.append(str(exc))
    return steps, errors


def full_batch_path(config: RunConfig, updates: int, data: Any = None) -> Any:
    """The path full-batch gradient descent takes from the same start (headless, cheap for
    the 1-day linear model): what the noisy mini-batch path is compared with."""
    import numpy as np

    from core.engine import Trainer

    cfg = config.replace(batch_size=None, limit_updates=max(1, updates), limit_epochs=None)
    trainer = Trainer(cfg, data)
    trainer.run(max(1, updates))
    return np.asarray(trainer.snapshot(extras=False).path, dtype=np.float64)


def step_number_error(step: int | None, folder: str | Path = LECTURE_DIR) -> str | None:
    """One line if `step` (1-based) is not a lecture step, else None."""
    if step is None:
        return None
    steps, _ = load_steps(folder)
    if not 1 <= step <= len(steps):
        return f"--step must be from 1 to {len(steps)}, got {step}"
    return None


def lecture_table_rows(dataset: str = "channel", net_updates: int | None = None,
                       should_stop: Callable[[], bool] = lambda: False
                       ) -> Iterator[dict[str, Any]]:
    """Train the lecture's three tables (core.experiments) one row at a time, yielding each
    loss-table row as it is done; stops between rows and every 25 updates when
    `should_stop()` turns true. Equal configs train once. Without `net_updates` the
    networks get `fnlab table`'s own budget, so each row is the CLI's seed-0 row."""
    from core.data import load_series, window
    from core.engine import Trainer
    from core.experiments import late_fall, lecture_tables
    from core.results import result_row

    series = load_series(dataset)
    exps = lecture_tables(dataset, net_updates=net_updates)
    data: dict[int, Any] = {}
    done: dict[str, Any] = {}
    for exp in exps:
        if should_stop():
            return
        key = exp.config.to_json()
        if key not in done:
            cfg = exp.config
            if cfg.days not in data:
                data[cfg.days] = window(series, cfg.days, cfg.split)
            trainer = Trainer(cfg, data[cfg.days])
            while not trainer.done:
                if should_stop():
                    return
                trainer.run(25)
            done[key] = (trainer.snapshot(extras=False), trainer.data)
        snap, d = done[key]
        row = result_row(exp.config, snap, d)
        row["model"] = f"table {exp.table}: {exp.label}"
        row["table"] = exp.table
        row["seed"] = exp.seed       # so core.experiments.story_checks can read the rows
        row["label"] = exp.label     # ... and say which rows were still learning
        row["train_late_fall"] = late_fall(snap.hist_update, snap.hist_train)
        yield row
