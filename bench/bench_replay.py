"""Replaying a run: what a scrub costs, and what a run's timeline holds in memory.

A scrub is the worker making the moment's snapshot (`Trainer.snapshot_at`: the recorded
parameters, predictions, curve) and the GUI drawing it; the first is compared with the
live snapshot the worker makes ~30 times a second anyway (same run, same machine, same
moment), the second must fit in a frame. The timeline's memory is that of the app's
largest network after 50,000 updates, fed as the Trainer feeds it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import numpy as np

from bench import Result
from core.config import RunConfig
from core.engine import Trainer
from core.timeline import PARAM_BUDGET, ParamLayout, Timeline, param_slots
from gui.offscreen import size_offscreen_screen

size_offscreen_screen()   # offscreen, on a 1920 x 1080 screen (Qt's own is 800 x 600)

FRAME_LIMIT_MS = 16.0
SNAPSHOT_FLOOR = 0.5      # a replayed moment costs at most twice a live snapshot
CASES = (("1-day linear, MAE", RunConfig(loss="mae", limit_updates=10**6), 5000),
         ("1-day 1,000 ReLU, MAE", RunConfig(model="relu", units=1000, loss="mae",
                                             limit_updates=10**6), 160))


def _snapshot_costs(config: RunConfig, updates: int) -> tuple[float, float]:
    """Median ms of a replayed moment's snapshot and of the live one, interleaved."""
    t = Trainer(config)
    t.run(updates)
    moments = t.timeline().moments()
    replay, live = [], []
    for k in np.linspace(1, len(moments) - 2, 40).astype(int):
        t0 = time.perf_counter()
        t.snapshot_at(int(moments[k]))
        t1 = time.perf_counter()
        t.snapshot(extras=True)
        live.append(time.perf_counter() - t1)
        replay.append(t1 - t0)
    return statistics.median(replay) * 1e3, statistics.median(live) * 1e3


def _frames(config: RunConfig, updates: int) -> tuple[list[float], list[float]]:
    """(ms to draw each replayed frame, ms from the request to the frame drawn) in an
    offscreen window over a finished run, scrubbing to 30 moments."""
    from PySide6.QtWidgets import QApplication

    from gui.main_window import MainWindow
    from gui.screenshot import wait_until

    app = QApplication.instance() or QApplication([])
    win = MainWindow(config.replace(limit_updates=updates), persist=False, speed=None)
    win.resize(1600, 1000)
    win.show()
    draw: list[float] = []
    latency: list[float] = []
    try:
        wait_until(lambda: win.run_info is not None, 60)
        win.play()
        wait_until(lambda: win.latest is not None and win.latest.done, 300)
        drawn: list[int] = []

        def seen(snap: object) -> None:   # a frame drawn: its pieces' time on the GUI thread
            drawn.append(-1 if snap.replay_of is None else snap.update)
            if snap.replay_of is not None:
                draw.append(win.frame_seconds * 1e3)

        win.frame_drawn.connect(seen)
        for k in np.linspace(1, updates - 1, 30).astype(int):
            drawn.clear()
            t0 = time.perf_counter()
            win.replay.replay_to(int(k))
            if wait_until(lambda: bool(drawn) and drawn[-1] >= 0, 10):
                latency.append((time.perf_counter() - t0) * 1e3)
    finally:
        win.close()
        app.processEvents()
    return draw, latency


def _memory_mb(model: str, units: int, layers: int, days: int, updates: int) -> float:
    layout = ParamLayout.of(RunConfig(model=model, units=units, layers=layers, days=days),
                            days)
    row = np.zeros(layout.size, dtype=layout.dtype)
    line = Timeline(row, 0, *param_slots(row.nbytes), layout.dtype)
    for end in range(16, updates + 1, 16):
        line.add_rows(np.array([end]), row[None])
    return line.nbytes / 2**20


def main() -> Iterator[Result]:
    for label, config, updates in CASES:
        replay, live = _snapshot_costs(config, updates)
        yield Result(f"replayed moment's snapshot ({label})", replay, live, unit="ms",
                     floor=SNAPSHOT_FLOOR, note="vs the live snapshot of the same run")
        draw, latency = _frames(config, updates)
        if draw:
            yield Result(f"replay frame, median ({label})", statistics.median(draw),
                         unit="ms", limit=FRAME_LIMIT_MS,
                         note=f"max {max(draw):.1f} ms, {len(draw)} replayed frames; request to "
                              f"screen median {statistics.median(latency):.0f} ms (the worker, "
                              "then the window's 33 ms frame timer)")
    budget = PARAM_BUDGET / 2**20
    for shape in (("relu", 1000, 1, 1), ("relu", 100, 4, 56)):
        mb = _memory_mb(*shape, 50_000)
        yield Result(f"timeline memory, {shape[1]} x {shape[2]} ReLU, {shape[3]} day(s), "
                     "50k updates", mb, unit="MB", limit=budget,
                     note="parameter copies kept for replay")
