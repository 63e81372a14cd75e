"""`fnlab table` on Dask against the same rows one after another in one process.

Both sides are fresh processes started the way a user starts them, measured in the same
run: ours is `fnlab table --json` (each distinct row is one task on a LocalCluster with
one single-threaded worker process per core, longest rows first); the baseline trains
the same distinct configs with the same function (`core.experiments.train_task`) in a
loop in one process, with the same process tuning (`core.runtime`). Both pay their own
imports; ours also pays starting the cluster. The ratio is the baseline's wall time over
ours (each run twice: base, ours, ours, base); the floor is 1.7x on 2 cores. Printed
beside it, what the ratio could be at best on this machine from the baseline's own row
times (the longest row bounds it: Amdahl), how busy ours kept its workers, and the CPU
each side got (CPU seconds per wall second, every process it started): Linux shares the
cores between sessions first (autogroup), so while another session keeps a core busy a
run gets about one core however many processes it starts, and the ratio falls to ~1x
(measured at load 3-4: both sides got 0.74-0.84 of a core). Also reported: what starting
a LocalCluster costs until its workers answer, the first time in a process (the fork
server imports the engine once) and again (workers forked at once), and the rows'
numbers must agree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Run:
    """One fresh process: its wall time, what it printed, the CPU time it and every process
    it started used (`cores`: CPU seconds per wall second), and how busy the machine's
    cores were meanwhile (every program's work: on a shared machine others take theirs)."""

    seconds: float
    out: str
    cpu: float
    busy: float

    @property
    def cores(self) -> float:
        return self.cpu / self.seconds if self.seconds > 0 else float("nan")


def _cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat (Linux)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _session_cpu(sid: int, seen: dict[int, float]) -> None:
    """Record the CPU seconds so far of every process in session `sid` (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid:             # field 6 of stat: the session id
            pid = int(entry.name)
            seen[pid] = max(seen.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / tick)


def _measure(args: list[str]) -> Run:
    """Run `python args` in a session of its own and watch it: the Dask side's worker
    processes are forked by a server that its main process never waits for, so their CPU
    time is read from /proc every 0.1 s (a process's last 0.1 s can be missed)."""
    before = _cpu_jiffies()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    seen: dict[int, float] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.1):
            _session_cpu(proc.pid, seen)

    watcher = threading.Thread(target=watch, daemon=True)
    if Path("/proc/self/stat").exists():
        watcher.start()
    out, err = proc.communicate(timeout=1800)
    seconds = time.perf_counter() - t0
    done.set()
    after = _cpu_jiffies()
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, args, out, err)
    busy = float("nan") if before is None or after is None else \
        (after[0] - before[0]) / max(1, after[1] - before[1])
    return Run(seconds, out, sum(seen.values()) if seen else float("nan"), busy)


def _python(code: str) -> Run:
    return _measure(["-c", code])


def _fnlab_table() -> Run:
    code = "import sys; from gui.launcher import main; sys.exit(main(sys.argv[1:]))"
    return _measure(["-c", code, "table", "--json", "--no-progress"])


def main() -> Iterator[Result]:
    cores = os.cpu_count() or 1
    print(f"   {cores} cores: ours is one worker process per core", flush=True)
    cold, warm = (float(v) for v in _python(STARTUP).out.split())
    yield Result("LocalCluster start, first in a process", cold, unit="s",
                 note="fork server imports numpy, numba, torch, the engine once")
    yield Result("LocalCluster start, again", warm, unit="s",
                 note="workers forked from the warm fork server")
    # base, ours, ours, base: a load that rises or falls through the run (other programs
    # on a shared machine) weighs on both sides alike.
    base1 = _python(SEQUENTIAL)
    ours1 = _fnlab_table()
    ours2 = _fnlab_table()
    base2 = _python(SEQUENTIAL)
    base_s, ours_s = (base1.seconds + base2.seconds) / 2, (ours1.seconds + ours2.seconds) / 2
    sequential, rows = json.loads(base1.out), json.loads(ours1.out)
    same = _same_numbers(sequential, rows)
    best, amdahl, busy, base_idle, ours_idle, slower, best_here = _bounds(
        sequential, rows, base1.seconds, ours1.seconds, cores)
    print(f"   one process: {base1.seconds:.1f} s, {base2.seconds:.1f} s, using "
          f"{base1.cores:.2f}, {base2.cores:.2f} cores; Dask: {ours1.seconds:.1f} s, "
          f"{ours2.seconds:.1f} s, using {ours1.cores:.2f}, {ours2.cores:.2f} cores (CPU s "
          f"per wall s); the machine's cores were {base1.busy:.0%}, {ours1.busy:.0%}, "
          f"{ours2.busy:.0%}, {base2.busy:.0%} busy (every program)", flush=True)
    share = (ours1.cores + ours2.cores) / (base1.cores + base2.cores)
    yield Result("fnlab table: Dask vs one process", ours_s, base_s, unit="s", floor=FLOOR,
                 note=f"fresh processes; rows {'identical' if same else 'DIFFER'}; at most "
                      f"{best:.2f}x here (longest row first on {cores} cores, the "
                      f"baseline's own row times and start-up); its rows took "
                      f"{slower:.2f}x their time alone while {cores} trained at once, "
                      f"which leaves at most {best_here:.2f}x; {amdahl:.2f}x by the "
                      f"longest row (total / longest); workers busy {busy:.0%} of ours; "
                      f"not training: ours {ours_idle:.1f} s (start-up, exit, a worker "
                      f"idle at the end), the baseline {base_idle:.1f} s; "
                      f"ours had {share:.2f}x the baseline's CPU share: other sessions' "
                      f"work on a shared machine caps the ratio near that")
    if not same:
        raise AssertionError("the table's numbers differ between Dask and one process")


def _bounds(sequential: list[dict], rows: list[dict], base_s: float, ours_s: float,
            cores: int) -> tuple[float, float, float, float, float, float, float]:
    """What the ratio can reach, from the baseline's own measurements: its rows' training
    times (each run alone, one after another) and the rest of its wall time (imports,
    data). Returns (best, amdahl, busy): `best` is the ratio if ours paid the same start-up
    and its rows took the baseline's times, longest first on `cores` workers (each row to
    the first free worker: what the runner does); `amdahl` is the rows' total over the
    longest row, what no number of cores passes; `busy` is the share of ours' wall time
    its workers spent training (the rest: start-up, and a worker idle at the end). Then
    the seconds each side spent not training (ours: its wall time less its rows' times
    shared out on the cores), where the gap between `best` and the ratio comes from.
    Last, `slower`: ours' rows' training time over the baseline's for the same rows. Rows
    that train side by side on this machine's cores slow each other down (measured with
    two plain processes, no Dask, 2026-11-30: the 1,000 ReLU row 5.04 -> 5.43 s, the
    4 x 100 ReLU row 3.99 -> 4.50 s), and `best_here` is `best` with the rows that much
    slower: what the ratio can reach on these cores with the baseline's start-up."""
    times = sorted((float(r["seconds"]) for r in sequential), reverse=True)
    total = sum(times)
    free = [0.0] * cores
    for t in times:
        free[free.index(min(free))] += t
    startup = max(0.0, base_s - total)
    unique = {json.dumps(r["config"], sort_keys=True): float(r["seconds"]) for r in rows}
    rows_s = sum(unique.values())
    slower = rows_s / total if total > 0 else float("nan")
    return (base_s / (startup + max(free)), total / times[0], rows_s / (cores * ours_s),
            startup, max(0.0, ours_s - rows_s / cores), slower,
            base_s / (startup + max(free) * slower))


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
