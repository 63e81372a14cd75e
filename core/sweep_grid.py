"""A sweep's grid: which settings vary over which values, its cells, and each cell's summary.

`fnlab sweep --vary lr=1e-4:1e-1:log:9 --vary batch=8,32,128,full --seeds 0,1,2` and the
app's Sweep dock both describe a sweep as a `Grid`: the settings every cell shares (the
`fnlab train` flags), one or more varied settings and the seeds. Every cell x seed is one
full training run with the same `RunConfig` that `fnlab train` builds from the same flags
(`core.experiments.default_config`), so a cell's numbers are `fnlab train`'s numbers.
Bad input (an unknown name, an empty or too large grid, a negative learning rate) raises
`GridError` with one line meant for the user.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.config import LOSSES, MODELS, OPTIMIZERS, ConfigError, RunConfig

# The names --vary takes, and the RunConfig field each one sets.
VARY_FIELDS = {"lr": "lr", "batch": "batch_size", "units": "units", "layers": "layers",
               "days": "days", "model": "model", "optimizer": "optimizer", "loss": "loss"}
INT_NAMES = ("batch", "units", "layers", "days")
CHOICES = {"model": MODELS, "optimizer": OPTIMIZERS, "loss": LOSSES}
CONFIRM_CELLS = 500      # more cells than this need --yes (the app asks)
MAX_CELLS = 5000         # more than this is refused outright: hours of training on a laptop
MAX_SEEDS = 100
FULL = "full"            # batch=full: the full batch (RunConfig.batch_size None)


class GridError(ValueError):
    """A sweep that cannot run; the message is one line meant for the user."""


def parse_values(name: str, text: str) -> list[Any]:
    """The values of one varied setting: a comma list (`8,32,128,full`) or a range
    `START:STOP:log:N` / `START:STOP:lin:N` (N values, both ends included)."""
    if name not in VARY_FIELDS:
        raise GridError(f"--vary: unknown setting {name!r}; use one of "
                        f"{', '.join(VARY_FIELDS)}")
    text = text.strip()
    parts = text.split(":")
    if len(parts) == 4:
        values: list[Any] = _range_values(name, parts)
    elif len(parts) == 1:
        values = [_one_value(name, v.strip()) for v in text.split(",") if v.strip()]
    else:
        raise GridError(f"--vary {name}: write a comma list or START:STOP:log:N, "
                        f"got {text!r}")
    if not values:
        raise GridError(f"--vary {name}: no values (an empty grid)")
    if len(set(map(repr, values))) != len(values):
        raise GridError(f"--vary {name}: a value is listed twice")
    return values


def _range_values(name: str, parts: list[str]) -> list[Any]:
    start, stop, kind, count = parts
    if kind not in ("log", "lin"):
        raise GridError(f"--vary {name}: the range's third part is log or lin, got {kind!r}")
    try:
        lo, hi, n = float(start), float(stop), int(count)
    except ValueError:
        raise GridError(f"--vary {name}: START:STOP:{kind}:N takes two numbers and a "
                        f"whole count, got {':'.join(parts)!r}") from None
    if name not in ("lr", *INT_NAMES):
        raise GridError(f"--vary {name}: a range needs a numeric setting; list the values")
    if n < 1 or n > MAX_CELLS:
        raise GridError(f"--vary {name}: the count must be from 1 to {MAX_CELLS:,}, got {n}")
    if kind == "log":
        if not (lo > 0 and hi > 0):
            raise GridError(f"--vary {name}: a log range needs positive ends, got {lo:g}:{hi:g}")
        raw = np.geomspace(lo, hi, n) if n > 1 else np.array([lo])
    else:
        raw = np.linspace(lo, hi, n) if n > 1 else np.array([lo])
    if name == "lr":
        return [_check_lr(float(v)) for v in raw]
    ints = [round(float(v)) for v in raw]
    return [_check_int(name, v) for v in dict.fromkeys(ints)]


def _one_value(name: str, text: str) -> Any:
    if name == "lr":
        try:
            value = float(text)
        except ValueError:
            raise GridError(f"--vary lr: {text!r} is not a number") from None
        return _check_lr(value)
    if name == "batch" and text.lower() == FULL:
        return FULL
    if name in INT_NAMES:
        try:
            number = int(text)
        except ValueError:
            raise GridError(f"--vary {name}: {text!r} is not a whole number") from None
        return _check_int(name, number)
    if text not in CHOICES[name]:
        raise GridError(f"--vary {name}: {text!r} is not one of {', '.join(CHOICES[name])}")
    return text


def _check_lr(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise GridError(f"--vary lr: learning rates must be positive, got {value:g}")
    return value


def _check_int(name: str, value: int) -> int:
    if value < 1:
        raise GridError(f"--vary {name}: values must be 1 or more, got {value}")
    return value


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """`NAME=VALUES` -> (name, values)."""
    name, sep, values = text.partition("=")
    if not sep:
        raise GridError(f"--vary takes NAME=VALUES (e.g. lr=1e-4:1e-1:log:9), got {text!r}")
    return name.strip(), parse_values(name.strip(), values)


def parse_seeds(text: str) -> list[int]:
    """`0,1,2` -> [0, 1, 2]."""
    try:
        seeds = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GridError(f"--seeds takes whole numbers separated by commas, got {text!r}") \
            from None
    if not seeds:
        raise GridError("--seeds: no seeds")
    if len(set(seeds)) != len(seeds):
        raise GridError("--seeds: a seed is listed twice")
    if len(seeds) > MAX_SEEDS:
        raise GridError(f"--seeds: at most {MAX_SEEDS} seeds, got {len(seeds)}")
    return seeds


@dataclass(frozen=True)
class Cell:
    """One point of the grid: the varied settings (as named to --vary) and their configs,
    one per seed."""

    index: int
    settings: dict[str, Any]
    configs: tuple[RunConfig, ...]


@dataclass(frozen=True)
class Grid:
    """Shared settings (`default_config` keywords), varied settings, seeds."""

    shared: dict[str, Any]
    vary: tuple[tuple[str, tuple[Any, ...]], ...]
    seeds: tuple[int, ...] = (0,)
    cells: tuple[Cell, ...] = field(default=(), compare=False)

    @staticmethod
    def build(shared: dict[str, Any], vary: Sequence[tuple[str, Sequence[Any]]],
              seeds: Sequence[int] = (0,), confirmed: bool = False) -> Grid:
        """Check the grid and make every cell's configs (GridError / ConfigError if bad).
        Over CONFIRM_CELLS cells needs `confirmed`; over MAX_CELLS is refused."""
        if not vary:
            raise GridError("give at least one --vary NAME=VALUES (e.g. lr=1e-4:1e-1:log:9)")
        names = [n for n, _ in vary]
        for name in names:
            if name not in VARY_FIELDS:
                raise GridError(f"--vary: unknown setting {name!r}; use one of "
                                f"{', '.join(VARY_FIELDS)}")
        if len(set(names)) != len(names):
            raise GridError("--vary: a setting is varied twice")
        n_cells = math.prod(len(v) for _, v in vary)
        if n_cells == 0:
            raise GridError("the grid is empty")
        if n_cells > MAX_CELLS:
            raise GridError(f"the grid has {n_cells:,} cells; at most {MAX_CELLS:,}")
        if n_cells > CONFIRM_CELLS and not confirmed:
            raise GridError(f"the grid has {n_cells:,} cells (over {CONFIRM_CELLS}); "
                            "pass --yes to run them all")
        if not seeds:
            raise GridError("--seeds: no seeds")
        cells = []
        for i, combo in enumerate(itertools.product(*(v for _, v in vary))):
            settings = dict(zip(names, combo, strict=True))
            configs = tuple(cell_config(shared, settings, s) for s in seeds)
            cells.append(Cell(i, settings, configs))
        return Grid(dict(shared), tuple((n, tuple(v)) for n, v in vary), tuple(seeds),
                    tuple(cells))

    @property
    def runs(self) -> int:
        return len(self.cells) * len(self.seeds)


def cell_config(shared: dict[str, Any], settings: dict[str, Any], seed: int) -> RunConfig:
    """The config `fnlab train` builds for the shared flags plus this cell's settings."""
    from core.experiments import default_config

    fields = dict(shared)
    for name, value in settings.items():
        fields[VARY_FIELDS[name]] = None if value == FULL else value
    fields["seed"] = seed
    try:
        return default_config(**fields)
    except ConfigError as exc:
        shown = ", ".join(f"{k}={v}" for k, v in settings.items())
        raise GridError(f"cell {shown}: {exc}") from None


def summarize(cell: Cell, results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A cell's line of output from its seeds' `train_result`s (those that finished).

    Losses are means over the seeds that did not diverge (None if all did), in the data
    unit; a spread is the standard deviation over those seeds (0 for one seed)."""
    ok = [r for r in results if not r["diverged"] and r["train_loss"] is not None
          and r["unseen_loss"] is not None]

    def mean(key: str) -> float | None:
        return float(np.mean([r[key] for r in ok])) if ok else None

    def spread(key: str) -> float | None:
        return float(np.std([r[key] for r in ok])) if ok else None

    return {
        "settings": dict(cell.settings),
        "train_loss": mean("train_loss"),
        "unseen_loss": mean("unseen_loss"),
        "train_spread": spread("train_loss"),
        "unseen_spread": spread("unseen_loss"),
        "seeds": [int(r["config"]["seed"]) for r in results],
        "diverged": sum(1 for r in results if r["diverged"]),
        "updates": max((int(r["updates"]) for r in results), default=0),
        "seconds": round(sum(float(r["seconds"]) for r in results), 3),
    }


@dataclass
class SweepResult:
    """The summaries of the cells that finished (grid order), each cell's runs by seed,
    and whether the sweep was cut short."""

    cells: list[dict[str, Any]]
    runs: dict[int, list[dict[str, Any]]]
    cancelled: bool
    seconds: float
    workers: int


def run_grid(grid: Grid, series: Any, *,
             on_cell: Callable[[Cell, dict[str, Any]], None] | None = None,
             on_run: Callable[[], None] | None = None,
             should_stop: Callable[[], bool] | None = None,
             scheduler: str | None = None, workers: int | None = None,
             client: Any = None) -> SweepResult:
    """Train every cell x seed on Dask (`core.sweep`); `on_cell(cell, summary)` as each
    cell's last seed finishes, `on_run()` after every run (a progress bar). A cell cut
    short by a cancel is summarized over the seeds that finished."""
    from core.sweep import dask_client

    if client is None:
        with dask_client(scheduler, workers) as own:
            return run_grid(grid, series, on_cell=on_cell, on_run=on_run,
                            should_stop=should_stop, client=own)
    result = SweepResult([], {}, False, 0.0, 0)
    for event in iter_grid(grid, series, client, should_stop=should_stop, result=result):
        if event is None:
            if on_run is not None:
                on_run()
        elif on_cell is not None:
            on_cell(*event)
    return result


def iter_grid(grid: Grid, series: Any, client: Any, *,
              should_stop: Callable[[], bool] | None = None,
              result: SweepResult | None = None
              ) -> Iterator[tuple[Cell, dict[str, Any]] | None]:
    """`run_grid` as a generator on an open client: yields None after each run and
    (cell, summary) when a cell's last seed finishes; fills `result` as it goes (also
    when closed early: the app's Cancel)."""
    from core.experiments import run_cost, train_task
    from core.sweep import MapOutcome, iter_map

    result = result if result is not None else SweepResult([], {}, False, 0.0, 0)
    jobs = [(cell.index, config) for cell in grid.cells for config in cell.configs]
    runs: dict[int, list[dict[str, Any]]] = {}
    outcome = MapOutcome()
    try:
        for i, run in iter_map(train_task, [c for _, c in jobs], client, shared=[series],
                               should_stop=should_stop, outcome=outcome,
                               priorities=[run_cost(c) for _, c in jobs]):
            cell = grid.cells[jobs[i][0]]
            got = runs.setdefault(cell.index, [])
            got.append(run)
            yield None
            if len(got) == len(cell.configs):
                yield cell, summarize(cell, _by_seed(got))
    finally:
        result.cells = [summarize(cell, _by_seed(runs[cell.index])) for cell in grid.cells
                        if cell.index in runs]
        result.runs = {k: _by_seed(v) for k, v in runs.items()}
        result.cancelled = outcome.cancelled
        result.seconds = outcome.seconds
        result.workers = outcome.workers


def _by_seed(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(results, key=lambda r: r["config"]["seed"])


def drive(conn: Any, grid: Grid, series: Any, scheduler: str | None = None) -> None:
    """A sweep in a process of its own, talking through a multiprocessing pipe: sends
    ("workers", n), ("cell", index, summary) as cells finish, then ("done", cancelled)
    or ("error", one line); a message from the other end (any) cancels it.

    The app runs its sweeps this way (gui/views/sweep_view.py) so that Dask's scheduler,
    its event loops and its threads live here, not in the app's process, where they would
    take the GIL from the drawing and the training threads."""
    from core.config import one_line
    from core.runtime import use_engine_threads
    from core.sweep import dask_client

    use_engine_threads()
    try:
        with dask_client(scheduler) as client:
            conn.send(("workers", len(client.scheduler_info().get("workers", {}))))
            result = run_grid(grid, series, client=client, should_stop=conn.poll,
                              on_cell=lambda cell, summary: conn.send(
                                  ("cell", cell.index, summary)))
        conn.send(("done", result.cancelled))
    except Exception as exc:
        conn.send(("error", one_line(exc)))
    finally:
        conn.close()
