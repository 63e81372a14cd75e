"""The optimizer race: four racers together against the same runs alone, and its frames.

A race steps four Trainers over one shared data window and records every racer's
timeline; the floor is that together they make at least 80% of the updates per second
that the same four runs make alone, one after another (the racers use different
optimizers, whose updates cost differently: the comparison is like for like, so what it
measures is what racing adds: bookkeeping, timelines, interleaving). The frame figure
is the race view's draw plus the paint it causes, in an offscreen window, while four
racers run flat out in its background job.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from bench import Result
from core.config import RunConfig
from core.data import load_builtin, window
from core.engine import Trainer
from core.race import Race, Racer
from gui.offscreen import size_offscreen_screen

size_offscreen_screen()   # offscreen, on a 1920 x 1080 screen (Qt's own is 800 x 600)

UPDATES = 60_000          # per racer, and for the run alone
CHUNK = 256
RACE_FLOOR = 0.8
FRAME_LIMIT_MS = 16.0
RACERS = (Racer("gd", 0.05), Racer("momentum", 0.02), Racer("adam", 0.05),
          Racer("rmsprop", 0.02))


def _alone(data, loss: str) -> float:
    """The same four runs one after another, each alone: updates per second overall."""
    total, seconds = 0, 0.0
    for r in RACERS:
        cfg = RunConfig(loss=loss, optimizer=r.optimizer, lr=r.lr, momentum=r.momentum,
                        limit_updates=UPDATES)
        t = Trainer(cfg, data)
        t.run(CHUNK)                      # the kernels' first call outside the clock
        t.set_start(0.0, 0.0)
        t0 = time.perf_counter()
        while not t.done:
            t.run(CHUNK)
        seconds += time.perf_counter() - t0
        total += t.update
    return total / seconds


def _race(data, loss: str) -> float:
    race = Race(RunConfig(loss=loss, limit_updates=UPDATES), RACERS, data)
    race.run(CHUNK)
    race.set_start(0.0, 0.0)
    t0 = time.perf_counter()
    while not race.done:
        race.run(CHUNK)
    seconds = time.perf_counter() - t0
    return sum(t.update for t in race.trainers) / seconds


def _frames(seconds: float = 3.0) -> list[float]:
    """Milliseconds per frame of the race view (draw + the paint it causes) while four
    racers run at full speed in the view's background job."""
    from PySide6.QtWidgets import QApplication

    from gui.theme import DARK
    from gui.views.race_view import RaceView

    app = QApplication.instance() or QApplication([])
    view = RaceView(DARK)
    view.resize(1200, 800)
    view.show()
    data = window(load_builtin("channel"), 1)
    cfg = RunConfig()
    view.set_run(cfg, data, ["w1", "b"])
    view.configure([(r.optimizer, r.lr) for r in RACERS], updates=10**6, speed=0, play=True)
    view._timer.stop()                 # frames are driven (and timed) here
    times: list[float] = []
    end = time.perf_counter() + seconds
    try:
        while time.perf_counter() < end:
            app.processEvents()
            t0 = time.perf_counter()
            view._redraw()
            view.repaint()
            times.append((time.perf_counter() - t0) * 1e3)
            time.sleep(0.033)
    finally:
        view.shutdown()
        view.close()
    return times


def main() -> Iterator[Result]:
    data = window(load_builtin("channel"), 1)
    for loss in ("mae", "mse"):
        one = max(_alone(data, loss) for _ in range(2))
        four = max(_race(data, loss) for _ in range(2))
        yield Result(f"race: 4 racers vs 1 run, 1-day {loss.upper()}", four, one,
                     unit="updates/s", floor=RACE_FLOOR,
                     note=f"{UPDATES:,} updates per racer, timelines recorded")
    frames = sorted(_frames())
    if frames:
        median = frames[len(frames) // 2]
        yield Result("race view frame, 4 racers flat out (median)", median, unit="ms",
                     limit=FRAME_LIMIT_MS, note=f"{len(frames)} frames, max "
                     f"{frames[-1]:.1f} ms")
