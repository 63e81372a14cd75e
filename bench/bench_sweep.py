"""`fnlab table` on Dask against the same rows one after another in one process.

Both sides are fresh processes started the way a user starts them, measured in the same
run: ours is `fnlab table --json` (each distinct row is one task on a LocalCluster with
one single-threaded worker process per core, longest rows first); the baseline trains
the same distinct configs with the same function (`core.experiments.train_task`) in a
loop in one process, with the same process tuning (`core.runtime`). Both pay their own
imports; ours also pays starting the cluster. The ratio is the baseline's wall time over
ours (each run twice: base, ours, ours, base); the floor is 1.7x on 2 cores. Printed
beside it, what the ratio could be at best on this machine from the baseline's own row
times (the longest row bounds it: Amdahl) and how busy ours kept its workers. Also
reported: what starting a LocalCluster costs until its workers answer, the first time in
a process (the fork server imports the engine once) and again (workers forked at once),
and the rows' numbers must agree.
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
    # base, ours, ours, base: a load that rises or falls through the run (other programs
    # on a shared machine) weighs on both sides alike.
    base1, base_out = _python(SEQUENTIAL)
    ours1, ours_out = _fnlab_table()
    ours2, _ = _fnlab_table()
    base2, _ = _python(SEQUENTIAL)
    base_s, ours_s = (base1 + base2) / 2, (ours1 + ours2) / 2
    sequential, rows = json.loads(base_out), json.loads(ours_out)
    same = _same_numbers(sequential, rows)
    best, amdahl, busy = _bounds(sequential, rows, base1, ours1, cores)
    print(f"   one process: {base1:.1f} s, {base2:.1f} s; Dask: {ours1:.1f} s, {ours2:.1f} s",
          flush=True)
    yield Result("fnlab table: Dask vs one process", ours_s, base_s, unit="s", floor=FLOOR,
                 note=f"fresh processes; rows {'identical' if same else 'DIFFER'}; at most "
                      f"{best:.2f}x here (longest row first on {cores} cores, the "
                      f"baseline's own row times and start-up), {amdahl:.2f}x by the "
                      f"longest row (total / longest); workers busy {busy:.0%} of ours")
    if not same:
        raise AssertionError("the table's numbers differ between Dask and one process")


def _bounds(sequential: list[dict], rows: list[dict], base_s: float, ours_s: float,
            cores: int) -> tuple[float, float, float]:
    """What the ratio can reach, from the baseline's own measurements: its rows' training
    times (each run alone, one after another) and the rest of its wall time (imports,
    data). Returns (best, amdahl, busy): `best` is the ratio if ours paid the same start-up
    and its rows took the baseline's times, longest first on `cores` workers (each row to
    the first free worker: what the runner does); `amdahl` is the rows' total over the
    longest row, what no number of cores passes; `busy` is the share of ours' wall time
    its workers spent training (the rest: start-up, and a worker idle at the end)."""
    times = sorted((float(r["seconds"]) for r in sequential), reverse=True)
    total = sum(times)
    free = [0.0] * cores
    for t in times:
        free[free.index(min(free))] += t
    startup = max(0.0, base_s - total)
    unique = {json.dumps(r["config"], sort_keys=True): float(r["seconds"]) for r in rows}
    return (base_s / (startup + max(free)), total / times[0],
            sum(unique.values()) / (cores * ours_s))


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
