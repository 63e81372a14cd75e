"""A run's settings as one frozen, validated value.

Controls edit a `RunConfig` by `dataclasses.replace`; the engine reads it. Validation
happens on construction so a bad value is refused with one clear line before any work.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODELS = ("linear", "sigmoid", "hard-sigmoid", "relu")
LOSSES = ("mae", "mse")
OPTIMIZERS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")

MAX_DAYS = 365
MAX_UNITS = 4096
MAX_LAYERS = 10
LR_RANGE = (1e-9, 1e6)

# Keys that change how the next update is taken; the run continues from where it is.
LIVE_KEYS = frozenset({"lr", "batch_size", "optimizer", "loss", "momentum", "limit_updates",
                       "limit_epochs"})
# Keys that change the model or its data; changing one starts a new run.
SHAPE_KEYS = frozenset({"dataset", "column", "split", "days", "model", "units", "layers",
                        "seed", "init"})


def updates_per_epoch(n: int, batch_size: int | None) -> int:
    """ceil(N / B), 1 for the full batch: the lecture's N = 10,000, B = 10 -> 1,000."""
    if batch_size is None or batch_size >= n:
        return 1
    return -(-n // batch_size)


class EpochWalk:
    """The mini-batch walk both cores share: N samples in shuffled epochs of B-sized
    slices, or the full batch. A core sets `n` and defines `_reshuffle` (its own sample
    order: numpy for the linear core, torch for networks)."""

    n: int
    batch_size: int | None
    updates_per_epoch: int
    pos: int

    def set_batch_size(self, batch_size: int | None) -> None:
        """Full batch for None (or B >= N); else start a fresh shuffled epoch of size-B slices."""
        self.batch_size = None if batch_size is None or batch_size >= self.n else batch_size
        self.updates_per_epoch = updates_per_epoch(self.n, self.batch_size)
        self.pos = 0
        if self.batch_size is not None:
            self._reshuffle()

    def _reshuffle(self) -> None:
        raise NotImplementedError


def saved_epoch(state: dict[str, Any], n: int, batch_size: int | None
                ) -> tuple[int, Any]:
    """A saved run's place in its epoch, checked against this run's N samples and batch
    size: (position, the epoch's sample order or None for the full batch). ValueError
    when it does not fit (a session from other settings)."""
    import numpy as np

    batch = state["batch_size"]
    if (None if batch is None else int(batch)) != batch_size:
        raise ValueError(f"the saved batch size {batch} is not this run's {batch_size}")
    pos = int(state["pos"])
    if not 0 <= pos < updates_per_epoch(n, batch_size):
        raise ValueError(f"the saved batch position {pos} is outside the epoch")
    if batch_size is None:
        return pos, None
    perm = np.asarray(state["perm"], dtype=np.int64)
    if perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
        raise ValueError("the saved epoch order is not a permutation of the samples")
    return pos, perm


class ConfigError(ValueError):
    """A setting that makes no sense; the message is one line meant for the user."""


def one_line(exc: BaseException) -> str:
    """An exception as the one line a person reads (status line, banner, CLI): its message
    with newlines and runs of spaces folded, or its type's name when it has none."""
    return " ".join(str(exc).split()) or type(exc).__name__


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines one training run.

    `lr` and `init` are in the training unit (the data's unit divided by its scale, e.g.
    thousands of views), which is the unit the lecture's w and b live in; `init` is (w0, b0)
    for the linear model: every w_j starts at w0 and b at b0. `batch_size=None` means the
    full batch. At most one of `limit_updates` / `limit_epochs` is set; neither means "run
    until stopped".
    """

    dataset: str = "channel"
    column: str | None = None
    split: str | None = None
    days: int = 1
    model: str = "linear"
    units: int = 3
    layers: int = 1
    loss: str = "mae"
    optimizer: str = "gd"
    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int | None = None
    limit_updates: int | None = None
    limit_epochs: int | None = None
    seed: int = 0
    init: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        _check_choice("model", self.model, MODELS)
        _check_choice("loss", self.loss, LOSSES)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_int("days", self.days, 1, MAX_DAYS)
        _check_int("units", self.units, 1, MAX_UNITS)
        _check_int("layers", self.layers, 1, MAX_LAYERS)
        _check_int("seed", self.seed, 0, 2**31 - 1)
        if self.batch_size is not None:
            _check_int("batch size", self.batch_size, 1, 10**9)
        if self.limit_updates is not None:
            _check_int("update limit", self.limit_updates, 1, 10**9)
        if self.limit_epochs is not None:
            _check_int("epoch limit", self.limit_epochs, 1, 10**7)
        if self.limit_updates is not None and self.limit_epochs is not None:
            raise ConfigError("give an update limit or an epoch limit, not both")
        lo, hi = LR_RANGE
        if not _finite(self.lr) or not lo <= self.lr <= hi:
            raise ConfigError(f"learning rate must be between {lo:g} and {hi:g}, got {self.lr!r}")
        if not _finite(self.momentum) or not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if self.init is not None:
            if len(self.init) != 2 or not all(_finite(v) for v in self.init):
                raise ConfigError(f"init must be two finite numbers w,b, got {self.init!r}")
            object.__setattr__(self, "init", (float(self.init[0]), float(self.init[1])))
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise ConfigError("dataset must be a built-in name or a CSV file path")
        object.__setattr__(self, "lr", float(self.lr))

    @property
    def is_linear(self) -> bool:
        return self.model == "linear"

    def replace(self, **changes: Any) -> RunConfig:
        """A new config with `changes` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def needs_new_run(self, other: RunConfig) -> bool:
        """True if going from self to `other` changes the model or its data."""
        return any(getattr(self, k) != getattr(other, k) for k in SHAPE_KEYS)

    def live_changes(self, other: RunConfig) -> dict[str, Any]:
        """The settings that differ and can be applied to a running trainer."""
        return {k: getattr(other, k) for k in LIVE_KEYS
                if hasattr(self, k) and getattr(self, k) != getattr(other, k)}

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        if d["init"] is not None:
            d["init"] = list(d["init"])
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Build from a preset's dict; unknown keys are refused by name."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
        data = dict(data)
        if data.get("init") is not None:
            data["init"] = tuple(data["init"])
        try:
            return cls(**data)
        except TypeError as exc:  # a wrong type that the checks above did not name
            raise ConfigError(str(exc)) from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def load(cls, path: str | Path) -> RunConfig:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"{path.name}: cannot read preset ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path.name}: a preset must be a JSON object")
        return cls.from_dict(data.get("config", data))


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


def _check_int(name: str, value: Any, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ConfigError(f"{name} must be a whole number from {lo:,} to {hi:,}, got {value!r}")
