"""Memory stays flat over a long run: resident memory after K updates vs after 10 K.

A headless Trainer is driven the way the app's worker drives it (chunks of updates, a
snapshot with drawing extras after each chunk, only the newest one kept). History and
path are decimated, so 10x more updates must not cost more than a few MB of resident
memory (VmRSS from /proc/self/status). A warm-up run first pays for imports, torch's
allocator and numpy's caches, so the comparison is between two long runs, not a cold start.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

from bench import Result
from core.config import RunConfig
from core.data import load_builtin, window
from core.engine import Trainer

CHUNK = 200               # updates between snapshots (the worker publishes ~30/s)
GROWTH_LIMIT_MB = 5.0
CASES = (
    ("linear 1-day, batch 10", RunConfig(days=1, lr=1e-4, batch_size=10), 20_000),
    ("relu 56-day 3x32, batch 100", RunConfig(days=56, model="relu", units=32, layers=3,
                                              optimizer="adam", lr=1e-3, batch_size=100),
     2_000),
)


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def drive(config: RunConfig, data: object, updates: int) -> float:
    """Train `updates` as the worker does; RSS (MB) at the end, the trainer still alive."""
    trainer = Trainer(config, data)
    latest = None
    done = 0
    while done < updates and not trainer.done:
        trainer.run(min(CHUNK, updates - done))
        done += CHUNK
        latest = trainer.snapshot(extras=True)
    gc.collect()
    rss = rss_mb()
    del trainer, latest
    return rss


def main() -> Iterator[Result]:
    series = load_builtin("channel")
    for name, config, k in CASES:
        data = window(series, config.days)
        drive(config, data, k)                        # warm-up: imports, caches, allocator
        short = drive(config, data, k)
        long = drive(config, data, 10 * k)
        growth = long - short
        yield Result(f"memory growth {name}", growth, unit="MB", limit=GROWTH_LIMIT_MB,
                     note=f"RSS {short:.1f} MB after {k:,} updates, {long:.1f} MB after "
                          f"{10 * k:,}")
