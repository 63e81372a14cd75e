"""Process tuning: thread counts, glibc's keep-freed-memory setting, the collector freeze.

Every entry point (`fnlab`, the CLI, the app, lecture mode, bench/, the tests) and the
training thread tune the process the same way, so each imports it from here. Qt-free and
numpy-free on import: `use_engine_threads` must run before numpy or torch is imported.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading

# One BLAS / OpenMP thread, as the app runs: the products in a linear update are far too
# small to split across threads, and on the lecture laptop's second core the GUI thread
# draws. Measured on 2 busy cores, a 3 x 100 ReLU snapshot's numpy forward took 70 ms with
# OpenBLAS's default two threads and 14 ms with one. OpenBLAS and OpenMP read these only
# at load time; torch takes its default thread count from OMP_NUM_THREADS. A value already
# set wins.
THREADS = 1
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# The training thread's torch thread count (measured on 2 cores: see the report in bench /
# README).
TORCH_THREADS = 1
# Qt's raster painter splits big fills and pixmap-cache clears across a thread pool and
# waits for it; with the worker on the other core that wait is a scheduling delay
# (measured: a loss-plot axis 1.9 ms a paint with the pool, 0.7 ms without). Read when
# the pool is first needed, at the first paint. Only an environment variable: no Qt here.
PAINT_ENV = {"QT_NO_GUI_THREADPOOL": "1"}


def use_engine_threads() -> None:
    """Set the engine's thread variables (before numpy / torch are imported to count)
    and keep Qt's painting in the GUI thread."""
    for var in THREAD_ENV:
        os.environ.setdefault(var, str(THREADS))
    for var, value in PAINT_ENV.items():
        os.environ.setdefault(var, value)


# glibc malloc (mallopt parameters): allocations this big or bigger are mapped one by one,
# and free memory above this much at a heap's top goes back to the system.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
KEEP_FREED_BYTES = 64 << 20


def keep_freed_memory() -> bool:
    """Let freed memory be reused instead of returned to the system (glibc only).

    A network update allocates and frees tensors of ~0.5 MB; by default glibc maps each one
    fresh and unmaps it on free, so every update page-faults its memory in again: measured
    ~60,000 faults a second in the training thread and ~12% of its speed (3 x 100 ReLU,
    a fresh app). Keeping up to 64 MB for reuse ends that. True if the settings took.

    The thresholds hold in glibc's main arena; a thread given an arena of its own (the
    training worker, a slice job) still gave its big blocks back: 1,000 ReLU on 56 days in
    a thread, 100 updates took 200,000-256,000 faults and 1.20-1.25 s, against 120-1,600
    faults and 0.70-0.76 s with one arena for every thread (same machine, load 0.8). So
    one arena, set here before any thread allocates: call this first thing in a process.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP_FREED_BYTES)) and \
        bool(mallopt(M_TRIM_THRESHOLD, KEEP_FREED_BYTES)) and bool(mallopt(M_ARENA_MAX, 1))


# How long a thread in Python keeps the GIL once another thread asks for it (Python's
# default: 5 ms). The GUI thread and the training thread both run Python between their
# compiled calls (a frame's paint callbacks; a chunk's bookkeeping and snapshot), and each
# time one wants the GIL back while the other is in Python it waits up to this long: at
# 5 ms, a few such waits a frame make a 20 ms frame, and a few a chunk cost training.
SWITCH_INTERVAL = 0.001


def tune_training_thread() -> None:
    """What the thread that trains sets first: torch's thread count, the memory setting,
    and (the process now has two busy Python threads) the GIL's switch interval."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        import torch

        torch.set_num_threads(TORCH_THREADS)
    except Exception:  # torch is the engine's business; a failure here is not fatal
        pass
    keep_freed_memory()


def settle_garbage_collector() -> None:
    """Move the ~250,000 objects of a started app (modules, Qt wrappers, plot items) out of
    the collector's view: a full collection over them took up to ~90 ms, holding the GIL
    that both the GUI and the training thread need (a visible hitch mid-lecture). Only
    objects made from here on are scanned; these stay alive for the app's life anyway."""
    gc.collect()
    gc.freeze()


def lower_priority(nice: int) -> bool:
    """Lower the calling thread's CPU priority (Linux: a thread has its own nice value).

    On two cores the GUI thread, the training thread and a slice computation are three
    busy threads; at equal priority a slice (hundreds of ms for a deep network) delays
    frames. True if the priority was lowered."""
    if not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), nice))
    except OSError:
        return False
    return True


def run_when_idle() -> bool:
    """Put the calling thread in Linux's idle class (SCHED_IDLE): it runs only on a core
    no thread of normal priority wants, and gives it up the moment one wakes there.

    A nice value is not enough on Linux 6.6+ (EEVDF): a thread woken on a core where a
    niced thread runs may wait for that thread's time slice (~1 ms) to end, whatever its
    nice value.
    The GUI thread wakes several times a frame (the frame timer, each piece, the worker's
    snapshot, the GIL handed back): measured in the gui bench's window with a live
    landscape recomputed on a nice-10 thread, its frames waited 1.2-1.6 ms each for a
    core (median; load 2-3), 0.04-0.1 ms with that thread in this class. Where every core
    is busy with other programs, this class gets next to nothing (`gui.views.slice_worker`
    starts a request starving so again at nice 10). True if the class was set (Linux
    only)."""
    if not hasattr(os, "sched_setscheduler") or not sys.platform.startswith("linux"):
        return False
    try:
        os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError):
        return False
    return True
