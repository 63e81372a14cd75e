"""The loss view's note in a short window: one line of the curves' names in their colours
and the epoch note, ending in "…" at a word where the view is narrower. Clipped, it
stopped mid-glyph at the view's edge ("· N =" at 1280 x 720, both themes)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint

from core.config import RunConfig
from core.engine import Trainer
from gui.theme import DARK, PROJECTOR, legible_on
from gui.views.loss_view import LossView
from tests.gui.pixels import colour_mask, grab_rgb, shown_view


def note_ink(view: LossView) -> tuple[np.ndarray, np.ndarray]:
    """The note's pixels in the view's grab, and its ink columns (unlike the label's
    background, its most common colour)."""
    note = view._epoch_note
    top_left = note.mapTo(view, QPoint(0, 0))
    img = grab_rgb(view)[top_left.y(): top_left.y() + note.height(),
                         top_left.x(): top_left.x() + note.width()]
    flat = img.reshape(-1, 3)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    ground = colours[counts.argmax()].astype(np.int16)
    ink = (np.abs(img.astype(np.int16) - ground) > 60).any(axis=2)
    return img, np.flatnonzero(ink.any(axis=0))


@pytest.mark.parametrize("theme", [DARK, PROJECTOR], ids=lambda t: t.name)
def test_a_short_windows_loss_note_ends_at_a_word_inside_the_view(qtbot, theme):
    trainer = Trainer(RunConfig(model="relu", units=8, days=7, optimizer="adam"))
    trainer.run(20)
    view = shown_view(qtbot, LossView(theme), trainer, size=(420, 260))
    view.set_compact(True)
    qtbot.wait(50)
    note = view._epoch_note
    whole = note.text()
    assert whole.startswith("━ training loss") and "N = " in whole
    img, cols = note_ink(view)
    # the note is cut short (it is wider than the view) ...
    assert note.fontMetrics().horizontalAdvance(whole) > note.width()
    # ... and ends inside its label: no glyph runs into the view's edge
    assert len(cols) and cols[-1] < note.width() - 4, (cols[-1], note.width())
    # the curves keep their names in their colours
    for colour in (theme.train_color, theme.unseen_color):
        assert colour_mask(img, legible_on(colour, theme.panel), tol=40).sum() > 20
    assert note.toolTip() == whole

    # wide enough, the whole note shows, further right than the cut one
    view.resize(1400, 260)
    qtbot.wait(50)
    _, wide_cols = note_ink(view)
    assert note.fontMetrics().horizontalAdvance(whole) <= note.width()
    assert wide_cols[-1] > cols[-1] + 40
    view.shutdown()
