"""Memory: flat over a long run, and the app's peak while it trains a network.

- growth: a headless Trainer is driven the way the app's worker drives it (chunks of
  updates, a snapshot with drawing extras after each chunk, only the newest one kept).
  History and path are decimated, so 10x more updates must not cost more than a few MB of
  resident memory (VmRSS from /proc/self/status) beyond what the run records for replay
  on purpose: copies of its parameters, up to `core.timeline.PARAM_BUDGET` (its own
  bound is bench_replay's). That recording is measured (`Trainer.replay_bytes`) and
  taken off, and the note says how big it was. Where the allocator put the recording in
  memory freed earlier in this process (resident already: a make bench run holds ~800 MB
  by then), it adds nothing to the RSS, and the growth beyond it is 0, not negative. A
  warm-up run first pays for imports, torch's allocator and numpy's caches, so the
  comparison is between two long runs.
- the app: `python -m bench.bench_memory --app SECONDS` in a subprocess opens the real
  window (offscreen, fnlab's process settings) on 3 x 100 ReLU, plays it flat out for
  APP_SECONDS (5 minutes; FNLAB_BENCH_APP_SECONDS shortens it for a quick look) and
  reports its peak resident memory (VmHWM), its memory at the end and after the first
  fifth of the run, and the updates it trained.
"""

from __future__ import annotations

# Before numpy's import (when run as the app's subprocess): OpenBLAS reads its thread count
# once, when it loads.
from core.runtime import use_engine_threads

use_engine_threads()

import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from bench import Result, use_scratch_settings  # noqa: E402
from core.config import RunConfig  # noqa: E402
from core.data import load_builtin, window  # noqa: E402
from core.engine import Trainer  # noqa: E402
from gui.offscreen import offscreen_platform  # noqa: E402

CHUNK = 200               # updates between snapshots (the worker publishes ~30/s)
GROWTH_LIMIT_MB = 5.0
CASES = (
    ("linear 1-day, batch 10", RunConfig(days=1, lr=1e-4, batch_size=10), 20_000),
    ("relu 56-day 3x32, batch 100", RunConfig(days=56, model="relu", units=32, layers=3,
                                              optimizer="adam", lr=1e-3, batch_size=100),
     2_000),
)


APP_SECONDS = float(os.environ.get("FNLAB_BENCH_APP_SECONDS", "300"))
APP_CONFIG = RunConfig(dataset="channel", days=56, model="relu", units=100, layers=3,
                       loss="mae", optimizer="adam", lr=0.003)


def rss_mb(field: str = "VmRSS") -> float:
    """Resident set size (or with "VmHWM" its peak) of this process in MB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no {field} in /proc/self/status")


def drive(config: RunConfig, data: object, updates: int) -> tuple[float, float]:
    """Train `updates` as the worker does; RSS at the end, the trainer still alive, and
    the bytes it recorded for replay (both MB)."""
    trainer = Trainer(config, data)
    latest = None
    done = 0
    while done < updates and not trainer.done:
        trainer.run(min(CHUNK, updates - done))
        done += CHUNK
        latest = trainer.snapshot(extras=True)
    gc.collect()
    rss = rss_mb()
    replay = trainer.replay_bytes() / 2**20
    del trainer, latest
    return rss, replay


def app_run(seconds: float) -> dict[str, float]:
    """The subprocess: the real window plays APP_CONFIG for `seconds`; its memory."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from core.runtime import keep_freed_memory, settle_garbage_collector
    from gui.main_window import MainWindow

    keep_freed_memory()                      # as `fnlab` does
    use_scratch_settings()
    _app = QApplication.instance() or QApplication([])
    win = MainWindow(APP_CONFIG, theme="dark", persist=False)
    win.resize(1600, 1000)
    win.show()
    marks: dict[str, float] = {}

    def spin(until: object, most: float) -> None:
        loop = QEventLoop()
        poll = QTimer()
        poll.timeout.connect(lambda: until() and loop.quit())
        poll.start(50)
        QTimer.singleShot(round(most * 1000), loop.quit)
        loop.exec()
        poll.stop()

    spin(lambda: win.run_info is not None, 60.0)
    settle_garbage_collector()
    win.play()
    spin(lambda: False, seconds / 5)
    marks["rss_early"] = rss_mb()
    spin(lambda: False, seconds - seconds / 5)
    marks["updates"] = float(win.latest.update if win.latest is not None else 0)
    marks["rss_end"] = rss_mb()
    marks["peak"] = rss_mb("VmHWM")
    win.close()
    return marks


def main() -> Iterator[Result]:
    yield from growth()
    done = subprocess.run([sys.executable, "-m", "bench.bench_memory", "--app",
                           str(APP_SECONDS)], capture_output=True, text=True,
                          timeout=APP_SECONDS + 300,
                          env=dict(os.environ, QT_QPA_PLATFORM=offscreen_platform()))
    lines = [t for t in done.stdout.splitlines() if t.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the app's memory run failed ({done.returncode}): "
                           f"{done.stderr.strip()[-800:]}")
    got = json.loads(lines[-1])
    label = f"app peak RSS, {APP_SECONDS:g} s of 3 x 100 ReLU"
    yield Result(label, got["peak"], unit="MB",
                 note=f"{got['updates']:,.0f} updates; RSS {got['rss_early']:.0f} MB after "
                      f"{APP_SECONDS / 5:.0f} s, {got['rss_end']:.0f} MB at the end")


def growth() -> Iterator[Result]:
    series = load_builtin("channel")
    for name, config, k in CASES:
        data = window(series, config.days)
        drive(config, data, k)                        # warm-up: imports, caches, allocator
        short, replay_short = drive(config, data, k)
        long, replay_long = drive(config, data, 10 * k)
        replay = replay_long - replay_short
        yield Result(f"memory growth {name}", max(long - short - replay, 0.0), unit="MB",
                     limit=GROWTH_LIMIT_MB,
                     note=f"RSS {short:.1f} MB after {k:,} updates, {long:.1f} MB after "
                          f"{10 * k:,}, less {replay:.1f} MB more recorded for replay "
                          f"({replay_short:.1f} MB, then {replay_long:.1f} MB)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--app":
        print(json.dumps(app_run(float(sys.argv[2]))), flush=True)
