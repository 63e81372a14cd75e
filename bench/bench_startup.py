"""Processes as the user starts them: `fnlab` to its first window, `fnlab train` for 1 day.

- start-up: the installed `fnlab` script in a subprocess (offscreen, a private settings
  folder), timed from just before it is started to the line it prints once its window
  has painted (`FNLAB_STARTUP_PROBE`, gui/app.py), after which it closes. One run first
  warms the disk cache and writes the bytecode caches (a warm machine); then the best of
  RUNS. Target: under 1 s. The CPU seconds it used by then are reported too: on a busy
  machine they move less than the wall time does.
- `fnlab train --days 1` (the lecture's first model, to its default update limit): wall
  time and peak resident memory of the process (wait4's rusage); targets 1.5 s, 160 MB.
  The peak once more as a `make run` install has it, without the test extra's scipy:
  numba imports scipy.linalg where it is installed, for BLAS our kernels never call (its
  first cached kernel load refreshes the CPU target, which imports numba.np.arraymath,
  whose module-level BLAS check imports scipy.linalg whatever the kernel uses: ~13 MB).

Absolute times depend on the machine: the reference line (a pure-Python loop) is printed
beside them, and each result's note gives the time in units of that loop.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench import Result
from bench.reference import current
from gui.offscreen import offscreen_platform

RUNS = 3
START_LIMIT_S = 1.0
TRAIN_LIMIT_S = 1.5
TRAIN_LIMIT_MB = 160.0
TIMEOUT_S = 120.0
PROBE = re.compile(r"first window painted ([\d.]+) s after start .*CPU ([\d.]+) s")


def fnlab_command() -> list[str]:
    """The `fnlab` console script next to this interpreter (what `make run` starts)."""
    script = Path(sys.executable).with_name("fnlab")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "gui.launcher"]


def child_env(settings: str) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM=offscreen_platform(), FNLAB_SETTINGS_DIR=settings,
               FNLAB_STARTUP_PROBE="1")
    # A user's machine keeps bytecode caches; without them every start compiles our source.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def start_once(env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds to the first paint, the app's own count from its start, CPU seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(fnlab_command(), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    wall = own = cpu = float("nan")
    try:
        assert proc.stdout is not None
        for text in proc.stdout:
            m = PROBE.search(text)
            if m:
                wall = time.perf_counter() - t0
                own, cpu = float(m.group(1)), float(m.group(2))
                break
        proc.wait(TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0 or wall != wall:
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"fnlab did not report its first window (exit {proc.returncode}): "
                           f"{err.strip()[-500:]}")
    return wall, own, cpu


# Runs the command in a fresh small interpreter and prints its wall time and peak RSS
# (wait4's rusage, in kB). Not from this process directly: a child started from a process
# this big (torch is loaded) counts the parent's pages it shared until its exec.
_MEASURE = """
import os, sys, time
t0 = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - t0, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def train_once(env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of `fnlab train --days 1`."""
    cmd = [*fnlab_command(), "train", "--days", "1"]
    done = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    try:
        wall, kb, code = done.stdout.split()
    except ValueError:
        code = "?"
    if done.returncode != 0 or code != "0":
        raise RuntimeError(f"fnlab train failed ({code}): {done.stderr.strip()[-500:]}")
    return float(wall), int(kb) / 1024.0


def without_test_packages(env: dict[str, str], folder: str) -> dict[str, str]:
    """`env` in which `import scipy` fails, as in a `make run` install (scipy comes only
    with the test extra): a package of that name first on the path that raises
    ImportError, which is what numba's own check expects when scipy is missing."""
    blocker = Path(folder, "scipy")
    blocker.mkdir(exist_ok=True)
    (blocker / "__init__.py").write_text(
        'raise ImportError("scipy: not in a make run install")\n', encoding="ascii")
    path = os.pathsep.join(p for p in (folder, env.get("PYTHONPATH", "")) if p)
    return dict(env, PYTHONPATH=path)


def main() -> Iterator[Result]:
    loop = current().python_loop_s
    with tempfile.TemporaryDirectory(prefix="fnlab-startup-") as settings:
        env = child_env(settings)
        start_once(env)                          # warm: disk cache, bytecode caches
        runs = [start_once(env) for _ in range(RUNS)]
        best = min(runs)
        yield Result("first window after `fnlab`", best[0], unit="s", limit=START_LIMIT_S,
                     note=f"best of {RUNS}: {', '.join(f'{r[0]:.2f}' for r in runs)} s; "
                          f"CPU {best[2]:.2f} s; {best[0] / loop:.2f} x the Python loop "
                          f"reference; the app's own count {best[1]:.2f} s")
        train_once(env)
        trains = [train_once(env) for _ in range(RUNS)]
        wall = min(t[0] for t in trains)
        peak = max(t[1] for t in trains)
        yield Result("`fnlab train --days 1`, wall", wall, unit="s", limit=TRAIN_LIMIT_S,
                     note=f"best of {RUNS}: {', '.join(f'{t[0]:.2f}' for t in trains)} s; "
                          f"{wall / loop:.2f} x the Python loop reference")
        yield Result("`fnlab train --days 1`, peak memory", peak, unit="MB",
                     limit=TRAIN_LIMIT_MB, note="peak resident set of the process")
        with tempfile.TemporaryDirectory(prefix="fnlab-make-run-") as folder:
            lean = without_test_packages(env, folder)
            user = max(train_once(lean)[1] for _ in range(RUNS))
        yield Result("`fnlab train --days 1`, peak memory, a `make run` install", user,
                     unit="MB", note=f"without the test extra's scipy, which numba loads "
                                     f"where it is installed: {peak - user:.0f} MB of the "
                                     f"peak above")
