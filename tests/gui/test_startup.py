"""Start-up: the first window is built and painted without torch, numba or scipy.

Those imports cost ~1-2 s of CPU holding the GIL; the window must not wait for them (the
training worker loads them once the window has painted). Checked in a fresh interpreter
(this test session has them loaded already) by what `sys.modules` holds, not by a clock;
the start-up time itself is measured by bench/bench_startup.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gui.offscreen import offscreen_platform

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "numba", "scipy")

PROBE = """
import sys
from core.runtime import use_engine_threads
use_engine_threads()
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gui.main_window import MainWindow
heavy = {HEAVY!r}
seen = {{}}
window = MainWindow()
seen["built"] = [m for m in heavy if m in sys.modules]
window.first_painted.connect(
    lambda: seen.setdefault("painted", [m for m in heavy if m in sys.modules]))
window.show()
while "painted" not in seen:
    app.processEvents()
print("BUILT", ",".join(seen["built"]))
print("PAINTED", ",".join(seen["painted"]))
window.close()
"""


def test_the_first_window_is_built_and_painted_without_torch_numba_or_scipy(
        tmp_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM=offscreen_platform(), FNLAB_SETTINGS_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", PROBE.format(HEAVY=HEAVY)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = dict(line.split(" ", 1) if " " in line else (line, "")
                 for line in done.stdout.splitlines() if line.startswith(("BUILT", "PAINTED")))
    assert lines.get("BUILT") == "", f"imported while the window was built: {lines}"
    assert lines.get("PAINTED") == "", f"imported by the first paint: {lines}"
