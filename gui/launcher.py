"""The `fnlab` console script: headless subcommands go to core.cli, anything else opens the app.

Kept free of Qt imports so `fnlab table` works on a machine without a display.
"""

from __future__ import annotations

import sys

HEADLESS = {"train", "table", "datasets"}


def main(argv: list[str] | None = None) -> int:
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
