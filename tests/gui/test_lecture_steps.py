"""What single lecture steps put on screen: formulas set as mathematics, learning rates that
tell too small / good / too large apart with the step files' own settings."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor, QTextCharFormat, QTextDocument

from core import surface
from core.data import load_builtin, window
from core.engine import Trainer
from core.lecture_steps import LECTURE_DIR, load_steps
from gui.lecture_panel import LecturePanel
from gui.mathtext import plain, rich
from gui.theme import DARK, PROJECTOR


def _step(slug: str):
    steps, errors = load_steps(LECTURE_DIR)
    assert errors == []
    return next(s for s in steps if slug in s.name)


def _shown_text(label) -> tuple[str, QTextDocument]:
    """The text a rich-text label draws (what the class reads), and its document."""
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText(), doc


def _has_subscript(doc: QTextDocument) -> bool:
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.verticalAlignment() == QTextCharFormat.VerticalAlignment.AlignSubScript:
                return True
            it += 1
        block = block.next()
    return False


def test_the_notation_becomes_sub_and_superscripts() -> None:
    assert rich("Σ_{j=1}^{7} w_j x1") == ("Σ<sub>j=1</sub><sup>7</sup> w<sub>j</sub> "
                                          "x<sub>1</sub>")
    assert rich("e_n = |y_n - ŷ_n|  L") == ("e<sub>n</sub> = |y<sub>n</sub> - ŷ<sub>n</sub>|"
                                            "&nbsp;&nbsp;L")
    assert plain("c_i ReLU(b_i + w_i x1)") == "cᵢ ReLU(bᵢ + wᵢ x₁)"
    assert plain("2017-2020, 0.48k, W1[1,1]") == "2017-2020, 0.48k, W₁[1,1]"


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=["dark", "projector"])
def test_every_step_shows_its_formula_as_mathematics(qtbot, theme) -> None:
    steps, _ = load_steps(LECTURE_DIR)
    panel = LecturePanel(steps)
    qtbot.addWidget(panel)
    panel.apply_theme(theme)
    panel.resize(1400, 260)
    panel.show()
    accent = QColor(theme.accent)
    with_index = 0
    for i, step in enumerate(steps):
        panel.show_step(i, step)
        for label in (panel.title, panel.caption, panel.formula):
            text, doc = _shown_text(label)
            assert "_" not in text and "^" not in text, f"{step.name}: raw notation {text!r}"
        text, doc = _shown_text(panel.formula)
        if any(mark in step.formula for mark in ("_", "^", "x1")):
            assert _has_subscript(doc), f"{step.name}: {text!r} has no index set low"
            with_index += 1
        if step.formula:
            qtbot.waitUntil(lambda: panel.formula.isVisible())
            img = panel.formula.grab().toImage()
            inked = sum(1 for x in range(0, img.width(), 2) for y in range(0, img.height(), 2)
                        if _near(QColor(img.pixel(x, y)), accent))
            assert inked > 20, f"{step.name}: formula not drawn in the theme's colour"
    assert with_index >= 8


def _near(a: QColor, b: QColor, tol: int = 60) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < tol


# ---- learning rates (headless, with the step files' own settings) ----------------------------
def _train(step) -> tuple[np.ndarray, object]:
    cfg = step.config.replace(limit_updates=step.updates, limit_epochs=None)
    data = window(load_builtin(cfg.dataset), cfg.days, cfg.split)
    trainer = Trainer(cfg, data)
    while not trainer.done:
        trainer.run(500)
    return trainer, data


def test_a_small_rate_falls_short_and_a_good_one_reaches_the_optimum_in_as_many_updates():
    small, good = _step("lr-small"), _step("lr-good")
    assert small.updates == good.updates > 0
    assert small.config.init == good.config.init
    assert small.config.lr < good.config.lr
    results = {}
    for name, step in (("small", small), ("good", good)):
        trainer, data = _train(step)
        snap = trainer.snapshot(extras=False)
        assert snap.update == step.updates and not snap.diverged
        results[name] = (float(np.ravel(snap.params["w"])[0]), float(snap.params["b"]),
                         float(snap.train_loss))
    exact = surface.linear_surface(data.x_train[:, 0], data.y_train, "mse", n=20,
                                   scale=data.scale)
    star = np.array([exact.w_star, exact.b_star])
    w, b, loss = results["good"]
    assert abs(w - star[0]) <= 0.01 * abs(star[0]) and abs(b - star[1]) <= 0.01 * abs(star[1])
    assert loss <= 1.01 * exact.loss_star
    start = np.array(small.config.init)
    left = np.hypot(*(np.array(results["small"][:2]) - star)) / np.hypot(*(start - star))
    assert left > 0.5, f"the small rate is already {1 - left:.0%} of the way there"
    assert results["small"][2] > 1.05 * exact.loss_star


def test_a_too_large_rate_zig_zags_across_the_valley_with_growing_steps():
    step = _step("lr-large")
    trainer, data = _train(step)
    snap = trainer.snapshot(extras=False)
    assert snap.diverged
    path = np.asarray(snap.path, dtype=np.float64)
    exact = surface.linear_surface(data.x_train[:, 0], data.y_train, "mse", n=200,
                                   scale=data.scale)
    # across the valley = along the surface's steepest direction (the Hessian's top axis)
    x = data.x_train[:, 0]
    hessian = 2.0 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    steep = np.linalg.eigh(hessian)[1][:, 1]
    across = (path - [exact.w_star, exact.b_star]) @ steep
    inside = (path[:, 0] >= exact.w[0]) & (path[:, 0] <= exact.w[-1]) & \
        (path[:, 1] >= exact.b[0]) & (path[:, 1] <= exact.b[-1])
    shown = int(np.argmin(inside))            # updates before the path leaves the picture
    assert shown >= 6, f"the path leaves the surface after {shown} updates"
    a = across[:shown + 1]
    assert (np.sign(a[1:]) == -np.sign(a[:-1])).all(), "steps do not alternate sides"
    assert (np.abs(a[1:]) > np.abs(a[:-1])).all(), "the overshoot does not grow"
    # every update lands on the other side of the star in w too: a zig-zag, not a slide
    side = np.sign(path[1:shown + 1, 0] - exact.w_star)
    assert (side[1:] == -side[:-1]).all()
