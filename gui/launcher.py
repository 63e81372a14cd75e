"""The `fnlab` console script: headless subcommands go to core.cli, anything else opens the app.

Kept free of Qt imports so `fnlab table` works on a machine without a display. It sets the
engine's thread settings before numpy or torch is imported, so the CLI trains the way the
app does (and `bench/bench_engine.py` measures the same settings).
"""

from __future__ import annotations

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


def main(argv: list[str] | None = None) -> int:
    use_engine_threads()
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
