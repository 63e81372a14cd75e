"""`fnlab table` on Dask against the same rows one after another in one process.

Both sides are fresh processes started the way a user starts them, measured in the same
run: ours is `fnlab table --json` (each distinct row is one task on a LocalCluster with
one single-threaded worker process per core, longest rows first); the baseline trains
the same distinct configs with the same function (`core.experiments.train_task`) in a
loop in one process, with the same process tuning (`core.runtime`). Both pay their own
imports; ours also pays starting the cluster. The ratio is the baseline's wall time over
ours; the floor is 1.7x on 2 cores. Also reported: what starting a LocalCluster costs
until its workers answer, the first time in a process (the fork server imports the
engine once) and again (workers forked at once), and the rows' numbers must agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench import Result

FLOOR = 1.7
ROOT = Path(__file__).resolve().parent.parent

SEQUENTIAL = """
from core.runtime import use_engine_threads, tune_training_thread
use_engine_threads()
tune_training_thread()
import json
from core.data import load_series
from core.experiments import lecture_tables, train_task
series = load_series("channel")
configs = list({e.config.to_json(): e.config for e in lecture_tables("channel")}.values())
print(json.dumps([train_task(c, series) for c in configs]))
"""

STARTUP = """
import os, sys, time
from core.runtime import use_engine_threads
use_engine_threads()
from core.sweep import dask_client
times = []
for _ in range(2):
    t0 = time.perf_counter()
    with dask_client() as c:
        c.run(os.getpid)
        times.append(time.perf_counter() - t0)
print(*times)
"""


def _python(code: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=1800).stdout
    return time.perf_counter() - t0, out


def _fnlab_table() -> tuple[float, str]:
    code = "import sys; from gui.launcher import main; sys.exit(main(sys.argv[1:]))"
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, "table", "--json", "--no-progress"],
                         cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=1800).stdout
    return time.perf_counter() - t0, out


def main() -> Iterator[Result]:
    cores = os.cpu_count() or 1
    print(f"   {cores} cores: ours is one worker process per core", flush=True)
    cold, warm = (float(v) for v in _python(STARTUP)[1].split())
    yield Result("LocalCluster start, first in a process", cold, unit="s",
                 note="fork server imports numpy, numba, torch, the engine once")
    yield Result("LocalCluster start, again", warm, unit="s",
                 note="workers forked from the warm fork server")
    base_s, base_out = _python(SEQUENTIAL)
    ours_s, ours_out = _fnlab_table()
    same = _same_numbers(json.loads(base_out), json.loads(ours_out))
    yield Result("fnlab table: Dask vs one process", ours_s, base_s, unit="s", floor=FLOOR,
                 note=f"fresh processes; rows {'identical' if same else 'DIFFER'}")
    if not same:
        raise AssertionError("the table's numbers differ between Dask and one process")


def _same_numbers(sequential: list[dict], rows: list[dict]) -> bool:
    """Every distinct run's losses agree to 1e-9 relative."""
    by_config = {json.dumps(r["config"], sort_keys=True): r for r in sequential}
    for row in rows:
        ref = by_config[json.dumps(row["config"], sort_keys=True)]
        for key in ("train_loss", "unseen_loss"):
            a, b = ref[key], row[key]
            if (a is None) != (b is None) or (a is not None and abs(a - b) > 1e-9 * abs(a)):
                return False
    return True
