"""The `fnlab` console script: headless subcommands go to core.cli, anything else opens the app.

Kept free of Qt imports so `fnlab table` works on a machine without a display. It tunes
the process (core.runtime: thread settings before numpy or torch is imported, glibc's
memory setting) so the CLI trains the way the app does.
"""

from __future__ import annotations

import sys
import time

from core.runtime import keep_freed_memory, use_engine_threads

# When `fnlab` began (this module is the console script's first import): the start-up
# probe (gui.app, FNLAB_STARTUP_PROBE) counts from here.
STARTED = time.perf_counter()

HEADLESS = {"train", "race", "table", "sweep", "datasets", "landscape"}


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
