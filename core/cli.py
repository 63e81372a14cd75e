# Over 450 lines: every subcommand's flags and body; one parser keeps flags alike.
"""`fnlab train | table | sweep | race | landscape | datasets`: the engine from the shell.

Every failure a user can cause (bad flag value, bad CSV, bad config) ends with one line on
stderr and exit code 2, never a traceback. JSON output is a stable interface.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from core.config import LOSSES, MODELS, OPTIMIZERS, ConfigError, RunConfig, one_line
from core.sweep import SweepError, prepare_local_workers
from core.sweep_grid import CONFIRM_CELLS, VARY_FIELDS, GridError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A one-line message for the user."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line (`fnlab train: --days: ...`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _init_pair(text: str) -> tuple[float, float]:
    try:
        w, b = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--init takes w,b (two numbers), got {text!r}") from None
    return (w, b)


def _seed_list(text: str) -> list[int]:
    try:
        seeds = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds takes whole numbers separated by commas, got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise argparse.ArgumentTypeError(
            f"--seeds takes different whole numbers >= 0, e.g. 0,1,2, got {text!r}")
    return seeds


def _data_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="channel", help="built-in name or a CSV file")
    p.add_argument("--column", help="the CSV's value column (default: detected)")
    p.add_argument("--split", help="last training day, YYYY-MM-DD (default: the dataset's)")


# The shape flags' defaults; `fnlab landscape` leaves them unset so that a --session's own
# shape is used and a contradicting flag is refused.
SHAPE_DEFAULTS = {"days": 1, "model": "linear", "units": 3, "layers": 1}


def _run_flags(p: argparse.ArgumentParser, shape_defaults: bool = True,
               one_optimizer: bool = True, one_seed: bool = True) -> None:
    """The flags that set one run (`fnlab train`'s; `fnlab landscape` shares them, and
    `fnlab race`, whose racers each take their own optimizer and learning rate)."""
    d = SHAPE_DEFAULTS if shape_defaults else dict.fromkeys(SHAPE_DEFAULTS)
    _data_flags(p)
    p.add_argument("--days", type=int, default=d["days"], help="days of features (1-365)")
    p.add_argument("--model", choices=MODELS, default=d["model"])
    p.add_argument("--units", type=int, default=d["units"], help="units per layer (networks)")
    p.add_argument("--layers", type=int, default=d["layers"], help="hidden layers (networks)")
    p.add_argument("--loss", choices=LOSSES, default="mae")
    if one_optimizer:
        p.add_argument("--optimizer", choices=OPTIMIZERS, help="default: what converges")
        p.add_argument("--lr", type=float, help="learning rate (default: the model's)")
    p.add_argument("--batch-size", type=int, help="mini-batch size (default: full batch)")
    lim = p.add_mutually_exclusive_group()
    lim.add_argument("--epochs", type=int, help="stop after this many epochs")
    lim.add_argument("--updates", type=int, help="stop after this many updates")
    if one_seed:
        p.add_argument("--seed", type=int, default=0)
    p.add_argument("--init", type=_init_pair, help="start at w,b (linear; training unit)")


def _name_list(text: str) -> list[str]:
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer {unknown[0]!r}; use {', '.join(OPTIMIZERS)}")
    return names


def _number_list(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes numbers separated by commas, got {text!r}"
                                         ) from None


def _scheduler_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="an existing Dask scheduler (default: one worker process per core "
                        "on this machine)")


def build_parser() -> argparse.ArgumentParser:
    from core.experiments import NET_SETTINGS

    parser = _Parser(
        prog="fnlab",
        description="Function Lab: machine learning is looking for a function. With no "
                    "command, `fnlab` opens the app; `fnlab --preset NAME --screenshot "
                    "FILE.png [--updates N]` renders a preset to a picture.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser("train", help="train one model and print a summary")
    _run_flags(t)
    t.add_argument("--json", action="store_true", help="print one JSON object")

    ls = sub.add_parser("landscape", help="a network's loss landscape (Li et al. 2018) "
                        "around its trained parameters")
    _run_flags(ls, shape_defaults=False)
    ls.add_argument("--kind", choices=("random", "pca", "interpolate"), default="random",
                    help="filter-normalized random plane, PCA plane of the training path, "
                         "or the line from the start (or --seed2's minimum) to the end")
    ls.add_argument("--grid", type=int, default=41, help="points per axis (2-201)")
    ls.add_argument("--span", type=float,
                    help="half-width of the axes (default: 1 for random, the path for pca)")
    ls.add_argument("--plane-seed", type=int, default=0, help="seed of the random directions")
    ls.add_argument("--seed2", type=int,
                    help="interpolate: from the minimum of this seed's run to this run's")
    ls.add_argument("--session", metavar="FILE", help="a saved session's run instead of "
                    "training from the flags")
    ls.add_argument("--png", metavar="FILE", help="also write the picture")
    ls.add_argument("--json", action="store_true", help="print one JSON object")

    r = sub.add_parser("race", help="several optimizers from one start, step for step")
    _run_flags(r, one_optimizer=False)
    r.add_argument("--optimizers", type=_name_list, default=["gd", "momentum", "adam"],
                   help=f"2-6 of {','.join(OPTIMIZERS)} (default gd,momentum,adam)")
    r.add_argument("--lr", type=_number_list,
                   help="one learning rate per optimizer (default: each one's own)")
    r.add_argument("--momentum", type=_number_list,
                   help="one momentum per optimizer (momentum, nesterov; default 0.9)")
    r.add_argument("--json", action="store_true", help="print a JSON list, one per racer")

    sw = sub.add_parser(
        "sweep", help="train a grid of settings x seeds on Dask and compare the cells",
        description="Every cell x seed is a full `fnlab train` run; the train flags set "
                    "what the cells share. Cells run in parallel: one worker process per "
                    "core, or on an existing Dask cluster (--scheduler). A cell's losses are "
                    "means over its seeds that did not diverge, a spread their standard "
                    "deviation.")
    _run_flags(sw, one_seed=False)
    sw.add_argument("--vary", action="append", default=[], metavar="NAME=VALUES",
                    help=f"a varied setting ({', '.join(VARY_FIELDS)}): a list "
                         "(batch=8,32,full) or a range (lr=1e-4:1e-1:log:9, "
                         "units=10:100:lin:4); repeat for a grid")
    sw.add_argument("--seeds", default="0", help="seeds per cell, e.g. 0,1,2 (default 0)")
    sw.add_argument("--json", action="store_true", help="print a JSON list, one per cell")
    sw.add_argument("--csv", metavar="FILE", help="also write the cells to a CSV file")
    sw.add_argument("--yes", action="store_true",
                    help=f"run a grid of more than {CONFIRM_CELLS} cells")
    sw.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    _scheduler_flag(sw)

    tb = sub.add_parser("table", help="reproduce the lecture's three tables")
    _data_flags(tb)
    tb.add_argument("--loss", choices=LOSSES, default="mae")
    tb.add_argument("--seed", type=int, default=0, help="the networks' training seed")
    tb.add_argument("--seeds", type=_seed_list, metavar="S1,S2,...",
                    help="train every row with each of these seeds and show the mean and "
                         "spread (standard deviation) over them (overrides --seed)")
    tb.add_argument("--net-updates", type=int,
                    help=f"updates per network (default {NET_SETTINGS['limit_updates']:,}; fewer "
                         "for a quick "
                         "look)")
    tb.add_argument("--json", action="store_true", help="print a JSON list of rows")
    tb.add_argument("--csv", metavar="FILE", help="also write the rows to a CSV file")
    tb.add_argument("--markdown", action="store_true", help="print Markdown tables")
    tb.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    _scheduler_flag(tb)

    d = sub.add_parser("datasets", help="list the built-in datasets")
    d.add_argument("--json", action="store_true")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # help, or our one-line usage error, is already printed
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return {"train": cmd_train, "race": cmd_race, "table": cmd_table, "sweep": cmd_sweep,
                "datasets": cmd_datasets, "landscape": cmd_landscape}[args.command](args)
    except (CliError, ConfigError, SweepError, GridError, ValueError, OSError) as exc:
        print(f"fnlab {args.command}: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"fnlab {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED



def _load_data(name: str, column: str | None, split: str | None, days: int) -> Any:
    from core.data import load_series, window

    return window(load_series(name, column), days, split)


def _loss_fmt(data: Any, equals: bool = False) -> Any:
    """How the text output writes a loss in `data`'s unit: as the app does everywhere
    (`core.results.format_loss`: 0.48k, and a runaway loss as "> 10²⁸", not "7.2e+25k");
    with `equals`, after its symbol ("= 0.48k", "> 10²⁸": `core.results.loss_equals`)."""
    from core.results import format_loss, loss_equals

    write = loss_equals if equals else format_loss
    return lambda value: write(value, float(data.scale), data.suffix)


def _run_fields(args: argparse.Namespace, **override: Any) -> dict[str, Any]:
    """The `default_config` keywords the run flags give (unset shape flags take their
    defaults); `fnlab sweep`'s cells share these."""
    fields = dict(
        dataset=args.data, column=args.column, split=args.split, days=args.days,
        model=args.model, units=args.units, layers=args.layers, loss=args.loss,
        optimizer=args.optimizer, batch_size=args.batch_size, lr=args.lr,
        limit_updates=args.updates, limit_epochs=args.epochs, init=args.init)
    if hasattr(args, "seed"):
        fields["seed"] = args.seed
    fields.update(override)
    for key, default in SHAPE_DEFAULTS.items():
        if fields[key] is None:
            fields[key] = default
    return fields


def _run_config(args: argparse.Namespace, **override: Any) -> RunConfig:
    """The RunConfig the run flags describe (unset shape flags take their defaults)."""
    from core.experiments import default_config

    return default_config(**_run_fields(args, **override))


def cmd_train(args: argparse.Namespace) -> int:
    from core.experiments import train_result

    config = _run_config(args)
    data = _load_data(config.dataset, config.column, config.split, config.days)
    result = train_result(config, data)
    if args.json:
        print(json.dumps(result))
        return 0
    equals = _loss_fmt(data, equals=True)
    print(f"{data.name}: {config.days}-day {config.model} model, {config.loss.upper()} loss, "
          f"{config.optimizer}, lr {config.lr:g}, "
          f"batch {'full' if config.batch_size is None else config.batch_size}")
    print(f"  training samples {len(data.y_train):,} (to {data.split}), unseen "
          f"{len(data.y_unseen):,}")
    print(f"  updates {result['updates']:,} ({result['epochs']:.1f} epochs) in "
          f"{result['seconds']:.2f} s")
    if result["diverged"]:
        print(f"  {result['stop_reason']}")
    else:
        print(f"  training loss L  {equals(result['train_loss'])}")
        print(f"  unseen loss   L' {equals(result['unseen_loss'])}")
    if config.model == "linear" and not result["diverged"]:
        w = result["params"]["w"]
        shown = ", ".join(f"{v:.2f}" for v in w[:7]) + (", ..." if len(w) > 7 else "")
        print(f"  b = {data.fmt(result['params']['b'])}, w = {shown}")
    return 0


def cmd_landscape(args: argparse.Namespace) -> int:
    """Train (or load) a network, then print / draw its loss landscape."""
    from core import landscape as ls
    from core.landscape_run import build_plane, landscape_json, train_recording

    ls.check_grid(args.grid)
    if args.updates == 0 or args.epochs == 0:
        raise CliError("the network would be untrained (0 updates): its landscape is "
                       "that of random weights; give --updates N >= 1")
    if args.seed2 is not None and args.kind != "interpolate":
        raise CliError("--seed2 goes with --kind interpolate")
    if args.session:
        run = _session_run(args)
    else:
        config = _run_config(args, model=args.model or "relu")
        run = train_recording(config)
    other = None
    if args.seed2 is not None:
        if args.seed2 == run.config.seed:
            raise CliError("--seed2 must differ from the run's seed")
        other = train_recording(run.config.replace(seed=args.seed2), run.data).params
    plane = build_plane(args.kind, run, args.plane_seed, other)
    data = run.data
    land = ls.landscape(run.config.model, plane, data.x_train, data.y_train, run.config.loss,
                        args.grid, run.trajectory, args.span, float(data.scale))
    if args.png:
        from core.landscape_png import write_png

        write_png(args.png, land, _landscape_title(run, land, args.seed2), data.unit or "value")
    result = landscape_json(run, land)
    if args.json:
        print(json.dumps(result))
        return 0
    fmt = _loss_fmt(data) if run.config.loss == "mae" else (lambda v: f"{v:,.4g}")
    a1, a2, low = land.min_at
    print(_landscape_title(run, land, args.seed2))
    print(f"  training loss {fmt(run.train_loss)}; at the plane's centre {fmt(land.center_loss)}")
    where = f"a1 = {a1:.3g}" + ("" if land.a2 is None else f", a2 = {a2:.3g}")
    print(f"  lowest grid point {fmt(low)} at {where}")
    if land.explained_variance is not None:
        ev = land.explained_variance
        print(f"  the plane holds {ev[0]:.1%} + {ev[1]:.1%} of the path's variance")
    if args.png:
        print(f"  picture written to {args.png}")
    return 0


def _session_run(args: argparse.Namespace) -> Any:
    """The run a saved session holds: its trained network as saved (no training here), or,
    for a session saved without its training, its settings trained from the start.
    Flags that contradict the session's network are refused."""
    from core.landscape_run import run_from_trainer, train_recording
    from core.session import load_session

    session = load_session(args.session)
    config = session.run_config()
    trainer = None
    if session.training is not None:
        from core.engine import Trainer

        trainer = Trainer.from_state(session.training)
        config = trainer.config
    for key in SHAPE_DEFAULTS:
        given = getattr(args, key)
        if given is not None and given != getattr(config, key):
            raise CliError(f"{args.session}: the session's network has {key} "
                           f"{getattr(config, key)!r}, not {given!r} (drop --{key})")
    if config.is_linear:
        raise CliError(f"{args.session}: the session holds a linear model; landscapes are "
                       "drawn for networks")
    if trainer is not None:
        return run_from_trainer(trainer)
    if config.limit_updates is None and config.limit_epochs is None:
        if args.updates is None and args.epochs is None:
            raise CliError(f"{args.session}: the session's run has no update limit: give "
                           "--updates N")
        config = config.replace(limit_updates=args.updates, limit_epochs=args.epochs)
    return train_recording(config)


def _landscape_title(run: Any, land: Any, seed2: int | None = None) -> str:
    cfg = run.config
    what = {"random": "random filter-normalized plane", "pca": "PCA plane of the path",
            "interpolate": "line from start to end" if seed2 is None else
            f"line from seed {seed2}'s minimum to seed {cfg.seed}'s"}[land.kind]
    return (f"{cfg.days}-day {cfg.model} {cfg.layers} x {cfg.units}, {cfg.loss.upper()}, "
            f"{run.updates:,} updates: {what}")


RACE_UPDATES = 1000   # a race's default budget: every racer takes this many updates


def cmd_race(args: argparse.Namespace) -> int:
    import time

    import numpy as np

    from core.engine import default_settings
    from core.experiments import default_config, describe
    from core.models import parse_scalar
    from core.race import MAX_RACERS, Race, Racer
    from core.results import unit_factor

    names = args.optimizers
    if not 2 <= len(names) <= MAX_RACERS:
        raise CliError(f"--optimizers takes 2 to {MAX_RACERS} names, got {len(names)}")
    for flag, values in (("--lr", args.lr), ("--momentum", args.momentum)):
        if values is not None and len(values) != len(names):
            raise CliError(f"{flag} takes one value per optimizer ({len(names)}), "
                           f"got {len(values)}")
    base = default_config(
        dataset=args.data, column=args.column, split=args.split, days=args.days,
        model=args.model, units=args.units, layers=args.layers, loss=args.loss,
        batch_size=args.batch_size, limit_updates=args.updates or (
            None if args.epochs else RACE_UPDATES),
        limit_epochs=args.epochs, seed=args.seed, init=args.init)
    racers = [Racer(name,
                    args.lr[i] if args.lr else default_settings(base.model, base.loss,
                                                                name)["lr"],
                    args.momentum[i] if args.momentum else base.momentum)
              for i, name in enumerate(names)]
    data = _load_data(base.dataset, base.column, base.split, base.days)
    race = Race(base, racers, data)
    start = time.perf_counter()
    while not race.done:
        race.run(200)
    seconds = time.perf_counter() - start
    out = []
    scale = float(data.scale)
    for racer, trainer in zip(racers, race.trainers, strict=True):
        snap = trainer.snapshot(extras=False)
        factors = [unit_factor(base.model, parse_scalar(n)[0], scale) for n in snap.track]
        path = (snap.path * np.asarray(factors)).tolist()
        out.append({**describe(trainer, seconds), "optimizer": racer.optimizer,
                    "path": path})
    if args.json:
        print(json.dumps(out))
        return 0
    fmt = _loss_fmt(data, equals=True)
    print(f"{data.name}: {base.days}-day {base.model} model, {base.loss.upper()} loss, "
          f"{len(racers)} racers from one start, {seconds:.2f} s")
    for row in out:
        what = row["stop_reason"] if row["diverged"] else (
            f"L {fmt(row['train_loss'])}, L' {fmt(row['unseen_loss'])}")
        print(f"  {row['optimizer']:<9} lr {row['config']['lr']:<8g} "
              f"{row['updates']:>7,} updates  {what}")
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    import time

    start = time.perf_counter()
    if not args.scheduler:
        prepare_local_workers()
    from core.data import load_series
    from core.experiments import (
        combine_seeds,
        run_tables,
        seeded_tables,
        story_checks,
        total_updates,
        training_note,
    )
    seeds = args.seeds if args.seeds is not None else [args.seed]
    series = load_series(args.data, args.column)
    exps = seeded_tables(args.data, args.split, args.loss, seeds, args.net_updates)
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=total_updates(exps), unit="upd", file=sys.stderr, leave=False,
                   desc="fnlab table", dynamic_ncols=True)
    try:
        runs, cancelled = run_tables(
            exps, series, (lambda r: bar.update(r["updates"])) if bar is not None else None,
            scheduler=args.scheduler)
    finally:
        if bar is not None:
            bar.close()
    if not runs:
        raise KeyboardInterrupt if cancelled else CliError("no rows")
    rows = combine_seeds(runs)
    if args.csv:
        _write_csv(Path(args.csv), rows)
    if args.json:
        print(json.dumps(rows))
    else:
        _print_tables(rows, series.name, args.loss, args.markdown)
        print(f"\n{training_note(rows)}")
        _print_story(story_checks(runs), runs, series.name, args.loss)
    print(f"fnlab table: {time.perf_counter() - start:.1f} s wall", file=sys.stderr)
    return _finished(args.command, cancelled)


def _print_story(checks: list[dict[str, Any]], runs: list[dict[str, Any]], name: str,
                 loss: str) -> None:
    """The lecture's claims on this data, each marked as holding or not (per seed); under
    a claim that does not hold, the losses that decide it (mean ± spread over seeds)."""
    from core.experiments import (
        STORY_EVIDENCE,
        combine_seeds,
        still_learning,
        still_learning_text,
    )
    from core.results import loss_text

    if loss != "mae":
        return
    rows = combine_seeds(runs)
    print(f"\nThe lecture's story on {name}:")
    for c, (which, evidence) in zip(checks, STORY_EVIDENCE, strict=True):
        held, failed = c["held"], c["failed"]
        if not failed:
            print(f"  {'holds':<14}{c['claim']}")
            continue
        note = (f" (holds for seed {', '.join(map(str, held))}; not for "
                f"{', '.join(map(str, failed))})" if held else "")
        print(f"  {'does NOT hold':<14}{c['claim']}{note}")
        shown = [f"{r['label'].removeprefix('56 days, ')} {loss_text(r, f'{which}_loss')}"
                 for key in evidence for r in rows
                 if (r["table"], r["days"], r["units"], r["layers"]) == key]
        print(f"{'':<16}{which}: {'; '.join(shown)}")
        learning = still_learning(rows, evidence) if which == "train" else []
        if learning:
            print(f"{'':<16}{still_learning_text(learning)}")


def _print_tables(rows: list[dict[str, Any]], name: str, loss: str, markdown: bool) -> None:
    """The three tables as text or Markdown; with several seeds, each loss as mean ± spread."""
    from core.results import loss_text

    several = len(rows[0]["seeds"]) > 1

    width = 18 if several else 10
    titles = {1: "Linear models, more days", 2: "56 days: more ReLUs",
              3: "56 days: more layers of 100 ReLU"}
    seeds = ", ".join(str(s) for s in rows[0]["seeds"])
    for table in (1, 2, 3):
        print(f"\n{'### ' if markdown else ''}Table {table}: {titles[table]} "
              f"({name}, {loss.upper()}, {'seeds' if several else 'seed'} {seeds})\n")
        if markdown:
            print("| model | training | unseen | lecture | updates | seconds |")
            print("|---|---|---|---|---|---|")
        else:
            print(f"{'model':<36}{'training':>{width}}{'unseen':>{width}}{'lecture':>16}"
                  f"{'updates':>9}{'seconds':>9}")
        for r in (r for r in rows if r["table"] == table):
            lec = ("" if r["lecture_train"] is None else
                   f"{r['lecture_train'] / 1000:.2f}k / {r['lecture_unseen'] / 1000:.2f}k")
            cells = (r["label"], loss_text(r, "train_loss"), loss_text(r, "unseen_loss"), lec,
                     f"{r['updates']:,}",
                     f"{r['seconds']:.1f}")
            if markdown:
                print("| " + " | ".join(cells) + " |")
            else:
                print(f"{cells[0]:<36}{cells[1]:>{width}}{cells[2]:>{width}}{cells[3]:>16}"
                      f"{cells[4]:>9}{cells[5]:>9}")
    total = sum({r["label"]: r["seconds"] for r in rows}.values())
    print(f"\ntotal training time {total:.1f} s")


def _finished(command: str, cancelled: bool) -> int:
    """Exit code 0, or 130 after Ctrl-C with a line saying the output is what finished."""
    if not cancelled:
        return 0
    print(f"fnlab {command}: interrupted; printed what finished", file=sys.stderr)
    return EXIT_INTERRUPTED


TABLE_COLUMNS = ["table", "label", "model", "days", "units", "layers", "train_loss",
                 "unseen_loss", "train_spread", "unseen_spread", "lecture_train",
                 "lecture_unseen", "updates", "epochs", "seconds", "diverged"]


def cmd_sweep(args: argparse.Namespace) -> int:
    if not args.scheduler:
        prepare_local_workers()
    from core.data import load_series
    from core.sweep_grid import Grid, parse_seeds, parse_vary, run_grid

    vary = [parse_vary(v) for v in args.vary]
    grid = Grid.build(_run_fields(args), vary, parse_seeds(args.seeds), confirmed=args.yes)
    series = load_series(args.data, args.column)
    # A window that cannot be cut (too few days for a split) is one line before any work.
    from core.data import window

    for days in {c.configs[0].days for c in grid.cells}:
        window(series, days, args.split)
    bar = None
    if not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=grid.runs, unit="run", file=sys.stderr, leave=False,
                   desc="fnlab sweep", dynamic_ncols=True)
    try:
        result = run_grid(grid, series, on_run=bar.update if bar is not None else None,
                          scheduler=args.scheduler)
    finally:
        if bar is not None:
            bar.close()
    cells = result.cells
    if args.csv:
        names = [n for n, _ in grid.vary]
        flat = [{**c["settings"], **{k: v for k, v in c.items() if k != "settings"},
                 "seeds": " ".join(map(str, c["seeds"]))} for c in cells]
        _write_csv(Path(args.csv), flat, [*names, *SWEEP_KEYS[1:]])
    if args.json:
        print(json.dumps(cells))
        return _finished(args.command, result.cancelled)
    _print_sweep(grid, cells, load_series(args.data, args.column).name, result.seconds)
    return _finished(args.command, result.cancelled)


SWEEP_KEYS = ["settings", "train_loss", "unseen_loss", "train_spread", "unseen_spread",
              "seeds", "diverged", "updates", "seconds"]


def _print_sweep(grid: Any, cells: list[dict[str, Any]], name: str, seconds: float) -> None:
    """One line per cell: its settings, losses +- spread, diverged seeds; best unseen
    marked."""
    names = [n for n, _ in grid.vary]
    ok = [c for c in cells if c["unseen_loss"] is not None]
    best = min(ok, key=lambda c: c["unseen_loss"]) if ok else None
    print(f"{name}: {len(cells)} of {len(grid.cells)} cells x {len(grid.seeds)} seed(s)")
    head = "".join(f"{n:>10}" for n in names)
    print(f"{head}{'training':>20}{'unseen':>20}{'diverged':>10}{'updates':>9}")

    def f(v: float | None, s: float | None) -> str:
        return "-" if v is None else f"{v:.4g} ± {s:.2g}"

    for c in cells:
        vals = "".join(f"{_short(c['settings'][n]):>10}" for n in names)
        mark = "  *best" if c is best else ""
        print(f"{vals}{f(c['train_loss'], c['train_spread']):>20}"
              f"{f(c['unseen_loss'], c['unseen_spread']):>20}"
              f"{c['diverged']:>7}/{len(c['seeds']):<2}{c['updates']:>9,}{mark}")
    print(f"\n{seconds:.1f} s")


def _short(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _write_csv(path: Path, rows: list[dict[str, Any]], cols: list[str] | None = None) -> None:
    import csv

    cols = cols or TABLE_COLUMNS
    try:
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(cols)
            for r in rows:
                writer.writerow([r.get(c) for c in cols])
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None


def cmd_datasets(args: argparse.Namespace) -> int:
    from core.data import list_datasets

    infos = list_datasets()
    if args.json:
        print(json.dumps([{
            "name": i.name, "title": i.title, "start": str(i.start), "end": str(i.end),
            "split": str(i.default_split), "source": i.source, "licence": i.licence,
            "synthetic": bool(i.synthetic)} for i in infos]))
        return 0
    for i in infos:
        kind = "synthetic" if i.synthetic else "real"
        print(f"{i.name:<10} {i.title} ({kind})")
        print(f"{'':<10} {i.start} .. {i.end}, training to {i.default_split}")
        print(f"{'':<10} source: {i.source}; licence: {i.licence}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
