"""A seeded monkey drives the real window: 500+ random actions per seed, zero exceptions.

Actions: spin boxes, combo boxes (the dataset combo's "Import CSV..." answered with a file
from the bad-CSV corpus), sliders and check boxes of the control panel, the learning rate
(1e-6..1e3), Play / Pause / Step / Reset buttons, keys, clicks on the surface view,
imports from the corpus, theme and dataset switches, and recording rows. Events are
processed briefly between actions. pytest-qt fails the test on any Python exception in a
slot or virtual method and on any Qt warning; at the end every thread must be joined.
Sizes are capped (units <= 8, layers <= 2, days <= 14) so each seed takes seconds.
"""

from __future__ import annotations

import collections
import random
import time

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QPushButton,
    QSlider,
    QSpinBox,
)

from core.config import RunConfig
from gui.main_window import MainWindow
from tests.core.test_csv_corpus import CSV, EXPECTED

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

ACTIONS = 520
CAPS = {"units": 8, "layers": 2, "days": 14, "batch": 2000, "limit": 3000, "seed": 50}
KEYS = (Qt.Key.Key_Space, Qt.Key.Key_S, Qt.Key.Key_Right, Qt.Key.Key_R)
START = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                  lr=0.05, init=(0.0, 0.0))
TALLY: dict[int, collections.Counter] = {}


class Monkey:
    """Random actions on `win`; `log` counts (action, outcome)."""

    def __init__(self, win: MainWindow, qtbot, rng: random.Random) -> None:
        self.win, self.qtbot, self.rng = win, qtbot, rng
        self.log: collections.Counter = collections.Counter()
        self.seconds: collections.Counter = collections.Counter()
        p = win.panel
        self.spins = {name: w for name in ("days", "units", "layers", "batch", "limit", "seed")
                      if isinstance(w := getattr(p, name, None), QSpinBox)}
        self.combos = [c for c in p.findChildren(QComboBox) if c.isEnabled()]
        # Speed / Play / Step / Reset sit in the panel's run box, which the window places
        # under the scrolled knobs (not inside the panel)
        boxes = (p, p.run_box)
        self.sliders = list(dict.fromkeys(s for w in boxes for s in w.findChildren(QSlider)))
        self.checks = p.findChildren(QCheckBox)
        self.buttons = list(dict.fromkeys(b for w in boxes for b in w.findChildren(QPushButton)
                                          if b.text()))
        self.files = sorted(str(f) for f in CSV.glob("*.csv"))
        self.actions = [
            (self.spin, 24), (self.combo, 16), (self.slider, 16), (self.check, 8),
            (self.lr, 12), (self.button, 24), (self.key, 16), (self.click_surface, 12),
            (self.import_file, 8), (self.dataset, 4), (self.record, 8), (self.wait, 12),
        ]

    def act(self) -> None:
        fn = self.rng.choices([a for a, _ in self.actions], [w for _, w in self.actions])[0]
        before = (self.win.run_info.run_id if self.win.run_info else None,
                  self.win.banner.isVisible())
        t0 = time.perf_counter()
        name = fn()
        QApplication.processEvents()
        self.seconds[name.split(":")[0]] += time.perf_counter() - t0
        after_banner = self.win.banner.isVisible()
        outcome = "banner" if after_banner and not before[1] else "ok"
        if self.win.latest is not None and self.win.latest.diverged:
            outcome = "diverged" if outcome == "ok" else outcome
        self.log[(name, outcome)] += 1
        if after_banner and self.rng.random() < 0.5:
            self.win.banner.dismiss()

    # ---- actions ----------------------------------------------------------------------
    def spin(self) -> str:
        name = self.rng.choice(sorted(self.spins))
        box = self.spins[name]
        hi = min(box.maximum(), CAPS.get(name, box.maximum()))
        if box.isEnabled():
            box.setValue(self.rng.randint(box.minimum(), max(box.minimum(), hi)))
        return f"spin:{name}"

    def combo(self) -> str:
        box = self.rng.choice(self.combos)
        if box.count():
            box.setCurrentIndex(self.rng.randrange(box.count()))
        return "combo"

    def slider(self) -> str:
        if not self.sliders:
            return "slider"
        s = self.rng.choice(self.sliders)
        s.setValue(self.rng.randint(s.minimum(), s.maximum()))
        return "slider"

    def check(self) -> str:
        if self.checks:
            box = self.rng.choice(self.checks)
            if box.isEnabled():
                box.click()
        return "checkbox"

    def lr(self) -> str:
        """Typed into the exact field, past both bounds sometimes (1e-10 .. 3e6)."""
        edit = self.win.panel.lr.edit
        edit.setText(f"{10 ** self.rng.uniform(-10, 6.5):.3g}")
        edit.editingFinished.emit()
        return "lr"

    def button(self) -> str:
        b = self.rng.choice(self.buttons)
        if b.isEnabled() and b.isVisible():
            self.qtbot.mouseClick(b, Qt.MouseButton.LeftButton)
        return f"button:{b.text().split()[0].lower()}"

    def key(self) -> str:
        key = self.rng.choice(KEYS)
        self.qtbot.keyClick(self.win, key)
        return "key"

    def click_surface(self) -> str:
        plots = self.win.views["surface"].findChildren(pg.PlotWidget)
        if plots:
            vp = plots[0].viewport()
            pos = QPoint(self.rng.randrange(max(1, vp.width())),
                         self.rng.randrange(max(1, vp.height())))
            self.qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=pos)
        return "click:surface"

    def import_file(self) -> str:
        self.win.import_csv(self.rng.choice(self.files))
        return "import"

    def theme(self) -> str:
        self.win.apply_theme(self.rng.choice(["dark", "projector"]))
        return "theme"

    def dataset(self) -> str:
        name = self.rng.choice(["channel", "wikipedia", "births"])
        try:
            cfg = self.win.config.replace(dataset=name)
        except ValueError:
            return "dataset"
        self.win.set_config(cfg)
        return "dataset"

    def record(self) -> str:
        self.win.record()
        return "record"

    def wait(self) -> str:
        self.qtbot.wait(self.rng.randint(5, 25))
        return "wait"


@pytest.fixture
def monkey_window(open_window, monkeypatch):
    """A window whose file dialogs answer at random from the CSV corpus (open) or cancel
    (save); `open_window` checks at teardown that every thread stopped."""

    def make(rng: random.Random) -> MainWindow:
        files = sorted(str(f) for f in CSV.glob("*.csv"))
        monkeypatch.setattr(QFileDialog, "getOpenFileName",
                            staticmethod(lambda *a, **k: (rng.choice(files), "")))
        monkeypatch.setattr(QFileDialog, "getSaveFileName",
                            staticmethod(lambda *a, **k: ("", "")))
        return open_window(START, size=(1000, 700))

    return make


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_monkey(qtbot, monkey_window, seed):
    rng = random.Random(seed)
    win = monkey_window(rng)
    monkey = Monkey(win, qtbot, rng)
    assert monkey.spins and monkey.combos and monkey.buttons
    for i in range(ACTIONS):
        if i in (ACTIONS // 3, 2 * ACTIONS // 3):   # restyling the app costs ~1 s: twice
            monkey.log[(monkey.theme(), "ok")] += 1
            continue
        monkey.act()
    TALLY[seed] = monkey.log
    # the app still works: a sane run trains
    win.banner.dismiss()
    win.set_config(START)
    qtbot.waitUntil(lambda: win.run_info.config.dataset == "channel"
                    and win.run_info.config.model == "linear", timeout=15000)
    win.step()
    win.step()
    qtbot.waitUntil(lambda: win.latest is not None and win.latest.run_id == win.run_info.run_id
                    and win.latest.update >= 2, timeout=15000)
    assert sum(monkey.log.values()) == ACTIONS
    print(f"\nmonkey seed {seed}: " + ", ".join(
        f"{a}/{o} x{n}" for (a, o), n in sorted(monkey.log.items())))
    print("seconds: " + ", ".join(f"{a} {t:.1f}" for a, t in monkey.seconds.most_common()))
    assert EXPECTED  # the corpus the imports drew from is the checked one
