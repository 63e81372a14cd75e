"""Shared GUI-test setup: offscreen Qt, and trained runs cached for the whole session."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session")
def trained() -> Callable[..., object]:
    """`trained(updates, **config)` -> a `core.engine.Trainer` after that many updates.

    Cached per (updates, config) for the session: treat the trainer as read-only, or make
    your own when a test changes it.
    """
    from core.config import RunConfig
    from core.engine import Trainer

    cache: dict[tuple, Trainer] = {}

    def make(updates: int = 50, **config: object) -> Trainer:
        key = (updates, tuple(sorted(config.items())))
        if key not in cache:
            trainer = Trainer(RunConfig(**config))
            trainer.run(updates)
            cache[key] = trainer
        return cache[key]

    return make
