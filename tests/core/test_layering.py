"""core/ is the headless engine: the linter refuses Qt, plotting and gui/ imports there."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("import PySide6", "from PySide6.QtCore import QObject", "import pyqtgraph",
             "from superqt.utils import GeneratorWorker", "from gui.worker import RunInfo",
             "import gui.views.base")


def _ruff() -> list[str]:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("ruff is not installed (the test extra brings it)")
    return [found]


def _banned(filename: str, source: str) -> list[str]:
    """The TID251 lines ruff reports for `source` as if it were ROOT/filename."""
    proc = subprocess.run([*_ruff(), "check", "--select", "TID251", "--output-format",
                           "concise", "--stdin-filename", filename, "-"], input=source,
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    return [line for line in proc.stdout.splitlines() if "TID251" in line]


@pytest.mark.parametrize("line", FORBIDDEN)
def test_the_linter_refuses_qt_and_gui_imports_in_core(line):
    assert len(_banned("core/probe.py", line + "\n")) == 1


def test_the_same_imports_are_fine_in_gui():
    assert _banned("gui/probe.py", "\n".join(FORBIDDEN) + "\n") == []
