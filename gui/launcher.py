"""The `fnlab` console script: headless subcommands go to core.cli, anything else opens the app.

Kept free of Qt imports so `fnlab table` works on a machine without a display. It sets the
engine's thread settings before numpy or torch is imported and glibc's memory setting, so
the CLI trains the way the app does (and `bench/bench_engine.py` measures the same).
"""

from __future__ import annotations

import ctypes
import os
import sys

HEADLESS = {"train", "table", "datasets"}

# One BLAS / OpenMP thread, as the app runs (gui/app.py, gui/worker.py): the products in a
# linear update are far too small to split across threads, and on the lecture laptop's
# second core the GUI thread draws. OpenBLAS and OpenMP read these only at load time; torch
# takes its default thread count from OMP_NUM_THREADS. A value already set wins.
THREADS = 1
THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
# Qt's raster painter splits big fills and pixmap-cache clears across a thread pool and
# waits for it; with the worker on the other core that wait is a scheduling delay
# (measured: a loss-plot axis 1.9 ms a paint with the pool, 0.7 ms without). Read when
# the pool is first needed, at the first paint.
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
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEEP_FREED_BYTES = 64 << 20


def keep_freed_memory() -> bool:
    """Let freed memory be reused instead of returned to the system (glibc only).

    A network update allocates and frees tensors of ~0.5 MB; by default glibc maps each one
    fresh and unmaps it on free, so every update page-faults its memory in again: measured
    ~60,000 faults a second in the training thread and ~12% of its speed (3 x 100 ReLU,
    a fresh app). Keeping up to 64 MB for reuse ends that. True if the settings took.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP_FREED_BYTES)) and \
        bool(mallopt(M_TRIM_THRESHOLD, KEEP_FREED_BYTES))


def main(argv: list[str] | None = None) -> int:
    use_engine_threads()
    keep_freed_memory()
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in HEADLESS:
        from core.cli import main as cli_main

        return cli_main(args)
    if args and args[0] in {"-h", "--help"} and len(args) == 1:
        from core.cli import main as cli_main

        return cli_main(["--help"])
    from gui.app import main as app_main

    return app_main(args)


if __name__ == "__main__":
    sys.exit(main())
