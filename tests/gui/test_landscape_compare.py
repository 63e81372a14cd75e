"""The lecture's side-by-side landscapes: two trained depths, one colour scale, their
training and unseen losses on screen; the step file and its option are checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.config import RunConfig
from core.lecture_steps import LECTURE_DIR, StepError, load_steps, parse_step
from gui.theme import DARK
from gui.views.landscape_compare_view import LandscapeCompareView
from tests.gui.pixels import grab_rgb


def _heat(img: np.ndarray) -> int:
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return int((((g > 70) & (b > 90) & (r < 90)) | ((r > 150) & (g > 180) & (b < 90))).sum())


def test_two_depths_side_by_side_with_their_unseen_losses(qtbot):
    view = LandscapeCompareView(DARK)
    qtbot.addWidget(view)
    view.resize(1000, 500)
    view.show()
    cfg = RunConfig(days=7, model="relu", units=10, layers=1, optimizer="adam", lr=3e-3)
    view.compare(cfg, {"layers": [1, 3], "updates": 150, "grid": 11})
    assert view.busy()
    qtbot.waitUntil(lambda: not view.busy(), timeout=120000)
    results = view.results()
    assert [r.config.layers for r, _ in results] == [1, 3]
    img = grab_rgb(view)
    for (run, land), (label, plot, *_rest) in zip(results, view._panels, strict=True):
        geo = plot.geometry()
        panel = img[geo.top():geo.bottom(), geo.left() + plot.parentWidget().x():
                    geo.right() + plot.parentWidget().x()]
        assert _heat(panel) > 0.3 * panel.shape[0] * panel.shape[1]
        text = label.text()
        assert run.data.fmt(run.unseen_loss) in text and "unseen" in text
        assert land.loss[5, 5] == pytest.approx(run.train_loss, rel=1e-6)
    # One colour scale: both images share the same levels.
    lv = [panel[2].levels for panel in view._panels]
    np.testing.assert_allclose(lv[0], lv[1])
    view.shutdown()


def test_stopping_a_comparison_joins_its_thread(qtbot):
    view = LandscapeCompareView(DARK)
    qtbot.addWidget(view)
    view.compare(RunConfig(days=56, model="relu", units=100, layers=1),
                 {"layers": [1, 4], "updates": 5000, "grid": 41})
    qtbot.wait(200)
    view.shutdown()
    assert not view.busy()


def test_the_shipped_step_compares_one_and_four_layers():
    steps, errors = load_steps()
    assert errors == []
    step = next(s for s in steps if "landscapes" in s.name)
    assert step.views == ("landscapes",)
    assert step.options["landscapes"]["layers"] == [1, 4]
    raw = json.loads(next(LECTURE_DIR.glob("*landscapes*.json")).read_text(encoding="utf-8"))
    raw["options"]["landscapes"]["layers"] = [1]
    with pytest.raises(StepError, match="two layer counts"):
        parse_step("x.json", raw)
    raw["options"]["landscapes"] = {"layers": [1, 4], "colour": "red"}
    with pytest.raises(StepError, match="colour"):
        parse_step("x.json", raw)
