"""Lecture mode on a 1280 x 720 projector, looked at step by step: one fresh process on an
offscreen 1280 x 720 screen walks the steps below in the projector theme, grabs the window
at each and reports what the class would see; each test reads its step's part."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.test_themes_on_screen import SHOT_HELPERS, on_a_screen

WALK = SHOT_HELPERS + r"""
import json
import pyqtgraph as pg
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QScrollArea
app = QApplication([])
from core.lecture_steps import load_steps
from gui.app import open_lecture, ready_to_grab
from gui.main_window import MainWindow
from gui.screenshot import wait_until
from tests.gui.pixels import ink_under_legend
steps = load_steps()[0]
win = MainWindow(theme="projector", persist=False)
win.show()
bg_rgb = [int(win.theme.background[i:i + 2], 16) for i in (1, 3, 5)]
ctl = None
out = {}


def go(pred):
    global ctl
    n = next(i for i, s in enumerate(steps) if pred(s))
    if ctl is None:
        ctl = open_lecture(win, n)
    else:
        ctl.go(n)
    wait_until(lambda: ctl.ready, 120)
    wait_until(lambda: ready_to_grab(win, ctl), 60)
    wait_until(lambda: False, 0.5)
    return grab_rgb(win)


def drawn_columns(shot, win, widget):
    # columns of `widget`'s area in the window's grab that hold a picture (not one colour)
    crop = crop_of(shot, win, widget).astype(float)
    return int((crop.std(axis=(0, 2)) > 10).sum())


def dock_scroll(key):
    return win.docks[key].findChild(QScrollArea).verticalScrollBar().maximum()


def inside(widget, port):
    # `widget`'s rectangle in the window lies within `port`'s
    a = widget.mapTo(win, widget.rect().topLeft())
    p = port.mapTo(win, port.rect().topLeft())
    return (a.x() >= p.x() and a.y() >= p.y() and a.x() + widget.width() <= p.x() + port.width()
            and a.y() + widget.height() <= p.y() + port.height())


# the run gallery's step after the two learning-rate steps before it (their runs are
# kept first): the list shows the step's three runs, readable; each pane's note inside
# its plot (at the last update the diverged run is off the picture)
go(lambda s: s.title == "Learning rate too small")
go(lambda s: s.title == "A good learning rate")
go(lambda s: s.views == ("gallery",))
g = win.views["gallery"]
g.pause()
g.scrub_to(max(r.final_update for r in g.shown))
wait_until(lambda: False, 0.5)
shot = grab_rgb(win)
t = g.table
port = t.viewport()
listed = []
for run in g.shown:
    row = next(i for i, r in enumerate(g.gallery.runs) if r.run_id == run.run_id)
    r = t.visualRect(t.model().index(row, 2))
    at = port.mapTo(win, r.topLeft())
    crop = shot[at.y():at.y() + r.height(), at.x():at.x() + r.width()].astype(float)
    listed.append({"inside": r.top() >= 0 and r.bottom() < port.height(),
                   "ink": bool(crop.size) and float(crop.std()) > 10})
notes = []
for pane in g._panes[:len(g.shown)]:
    plot, note = pane.surface, pane.message
    if note.toPlainText():
        rect = plot.mapFromScene(note.mapToScene(note.boundingRect())).boundingRect()
        notes.append(plot.rect().contains(rect))
out["gallery"] = {"runs": len(g.gallery.runs), "listed": listed, "notes": notes}

# legends over data: under each plot's legend box, the pixels of what it names (the plot
# grabbed with the legend hidden, against the same without those curves and points)
def under_legends(keys):
    found = {}
    for key in keys:
        for plot in win.views[key].findChildren(pg.PlotWidget):
            legend = plot.getPlotItem().legend
            if legend is not None and legend.isVisible() and plot.isVisible():
                found[key] = ink_under_legend(plot)
    return found


out["legends"] = {}
out["scrubber"] = {}
for title in ("MAE against MSE", "More days: the weekly cycle", "Sigmoids"):
    shot = go(lambda s, t=title: s.title == t)
    out["scrubber"][title] = on_screen_as_alone(shot, win, win.replay.bar)
    out["legends"][title] = under_legends(("fit", "series", "loss"))

# the curve builder: every card whole at the column's right edge, the dock not scrolled
shot = go(lambda s: s.views == ("builder",))
b = win.views["builder"]
port = b.findChild(QScrollArea).viewport()
cards = []
for e in b._editors:
    a = e.mapTo(win, e.rect().topLeft())
    p = port.mapTo(win, port.rect().topLeft())
    shown = a.y() >= p.y() and a.y() + e.height() <= p.y() + port.height()
    if shown:
        cards.append({"right_inside": inside(e, port) or a.x() + e.width() <= p.x() + port.width(),
                      "remove": on_screen_as_alone(shot, win, e.remove),
                      "values": [on_screen_as_alone(shot, win, s.text)
                                 for s in e.sliders.values()]})
out["builder"] = {"cards": cards, "scroll": dock_scroll("builder"),
                  "error": on_screen_as_alone(shot, win, b.error_label)}

# the optimizer race: the dock unscrolled, both plots whole, each racer's controls whole
shot = go(lambda s: s.views == ("race",))
r = win.views["race"]
port = (r.findChild(QScrollArea) or win.docks["race"].findChild(QScrollArea)).viewport()
out["race"] = {"scroll": dock_scroll("race"),
               "plots": [on_screen_as_alone(shot, win, r._plot),
                         on_screen_as_alone(shot, win, r._loss_plot)],
               "loss_rows": drawn_rows(shot, win, r._loss_plot),
               "controls": [on_screen_as_alone(shot, win, w) for row in r._rows for w in row
                            if inside(w, port)],
               "buttons": [on_screen_as_alone(shot, win, b)
                           for b in (r._start_button, r._play_button, r._step_button)],
               # the race's own scrubber drawn, and from its bottom edge to the status
               # line's top (grabbing a hidden widget lays the window out anew: not done)
               "race_bar": on_screen_as_alone(shot, win, r._bar),
               "below": win.statusBar().mapTo(win, QPoint(0, 0)).y()
               - r._bar.mapTo(win, QPoint(0, r._bar.height())).y(),
               "scrubber": win.timeline_dock.isVisible()}

# the tables step: every row of the three tables above the table's fold, its text drawn
shot = go(lambda s: s.views == ("table",))
t = win.views["table"].table
port = t.viewport()
rows = []
for i in range(t.model().rowCount()):
    r = t.visualRect(t.model().index(i, 0))
    at = port.mapTo(win, r.topLeft())
    crop = shot[at.y():at.y() + r.height(), at.x():at.x() + r.width()].astype(float)
    rows.append({"inside": r.top() >= 0 and r.bottom() < port.height(),
                 "ink": bool(crop.size) and float(crop.std()) > 10})
out["table"] = rows

# the landscapes step: the left axis's top tick label ('1.0') drawn whole, not cut at the
# plot's top edge (ink in the plot's first rows, over the axis's tick-label columns)
shot = go(lambda s: s.views == ("landscapes",))
out["landscapes"] = []
for _label, plot, *_ in win.views["landscapes"]._panels:
    item = plot.getPlotItem()
    axis = plot.mapFromScene(item.getAxis("left").sceneBoundingRect()).boundingRect()
    box = plot.mapFromScene(item.getViewBox().sceneBoundingRect()).boundingRect()
    at = plot.mapTo(win, plot.rect().topLeft())
    crop = shot[at.y():at.y() + int(box.top()) + 12,
                at.x() + int(axis.left()):at.x() + int(axis.right()) - 8].astype(int)
    ink = (np.abs(crop - np.array(bg_rgb)).max(axis=2) > 60).any(axis=1)
    out["landscapes"].append({"ink_rows": [int(i) for i in np.flatnonzero(ink)]})

# views side by side share their row evenly: the lecture's own order, the step with the
# controls (their own column), the ReLU builder, then 'More ReLUs', gave the series 355 px
# beside a 918-px loss plot, its "◀ training" label cut to "ining"
go(lambda s: "controls" in s.views)
go(lambda s: s.views == ("builder",) and "ReLU" in s.title)
shot = go(lambda s: s.title == "More ReLUs")
row = [win.views[k] for k in ("series", "loss")]
out["row"] = {"widths": [drawn_columns(shot, win, v) for v in row],
              "whole": [on_screen_as_alone(shot, win, v) for v in row]}
# ... and still after a live switch of theme (the normal layout's proportions came back)
win.apply_theme("dark")
wait_until(lambda: False, 1.0)
shot = grab_rgb(win)
out["row_switched"] = {"widths": [drawn_columns(shot, win, v) for v in row],
                       "whole": [on_screen_as_alone(shot, win, v) for v in row]}
win.close()
print("WALK " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder: Path = tmp_path_factory.mktemp("walk720")
    return on_a_screen(folder, (1280, 720), WALK, "WALK ")


def test_the_curve_builders_piece_cards_are_whole_at_the_right_edge(walk):
    """The builder's pieces column was narrower than a card's title (at 11 pt) and its
    scroll area has no horizontal bar: each card's remove button and slider values were
    cut at the right edge. The column now widens to a card on one line (the title wraps
    below that), and the dock fills its height without scrolling (the error line was
    below its fold)."""
    case = walk["builder"]
    assert len(case["cards"]) >= 2, case
    for card in case["cards"]:
        assert card["right_inside"] and card["remove"] and all(card["values"]), case
    assert case["scroll"] == 0 and case["error"], case


def test_the_race_dock_shows_its_loss_plot_without_scrolling(walk):
    """The race's controls and explanation made the view 535 px at least, so in a
    1280 x 720 projector's 413-px dock the whole view scrolled and its loss plot sat
    below the fold. The controls now scroll in their own column, and the plots share
    the dock's height."""
    case = walk["race"]
    assert case["scroll"] == 0 and all(case["plots"]) and case["loss_rows"] >= 80, case
    assert len(case["controls"]) >= 12 and all(case["controls"]), case


def test_the_race_step_shows_its_buttons_and_one_scrubber(walk):
    """At 1280 x 720 the main run's scrubber read "update 0 of 0" under the race's own
    scrubber, and its 31 px pushed the race's New race / Pause / Step buttons half below
    its column's fold. A lecture step now shows the main run's scrubber only with a view
    of the main run: at the race step it is not drawn (the race's own bar sits on the
    status line) and the buttons are whole; at the steps with the surface, fit or
    series it is drawn."""
    case = walk["race"]
    assert all(case["buttons"]), case
    assert case["race_bar"] and not case["scrubber"] and case["below"] <= 12, case
    assert all(walk["scrubber"].values()), walk["scrubber"]


def test_the_tables_step_shows_all_twelve_rows_above_the_fold(walk):
    """The lecture's tables step: 12 rows, the last the 4-layer network whose unseen loss
    tells of overfitting. Rows 2.4 x the point size tall left it below the table's fold
    at 1280 x 720; a row is now its text's line and 5 px."""
    rows = walk["table"]
    assert len(rows) == 12 and all(r["inside"] and r["ink"] for r in rows), rows


def test_the_landscapes_top_tick_label_is_drawn_whole(walk):
    """The landscapes' range ends at the grid's edge, where the left axis has a tick:
    its label '1.0' was drawn half above the plot and cut. Ink is in the top tick's
    label rows, none in the plot's first two rows."""
    for panel in walk["landscapes"]:
        rows = panel["ink_rows"]
        assert rows and min(rows) >= 2, panel


def test_the_gallery_step_lists_its_three_runs_readably(walk):
    """The gallery step after the walk's learning-rate steps: the list had a quarter of
    a 1280 x 720 dock, one row, and that row was an earlier, unrelated run. The list
    now has room for the runs it replays (the replay keeps its least height) and shows
    the first of them at its top; the diverged run's 'off the picture' note is inside
    its small plot (two lines: one read 'pdate 64: off the pictur')."""
    case = walk["gallery"]
    assert case["runs"] > 3 and len(case["listed"]) == 3, case
    assert all(r["inside"] and r["ink"] for r in case["listed"]), case
    assert case["notes"] and all(case["notes"]), case


def test_legends_sit_where_they_cover_no_data(walk):
    """Each legend goes to the corner of its plot where it covers least of what is drawn,
    on one row when a row per entry has no free corner (a short plot): at 1280 x 720 the
    fitted function's legend lay over the data on the left (step 'Sigmoids', 1,000+
    ink pixels under it) and the series' over its last weeks (the series' title names
    its colours: with no free corner its legend is left out). Labels count as drawn: at
    'MAE against MSE' the series' legend lay over its "◀ training | unseen ▶" label. Under
    each legend shown, at most a few pixels (the edge of a curve)."""
    for title, found in walk["legends"].items():
        assert found, (title, found)
        assert all(n <= 40 for n in found.values()), (title, found)


def test_views_side_by_side_share_their_row_evenly(walk):
    """Qt keeps a hidden dock's width and gives a row's spare width to one of its docks:
    after the batches step (with the controls) and the ReLU builder, 'More ReLUs' showed
    the series in 28 % of its row, its training label cut. Each lecture step now evens
    the widths of the views in a row; both drawn whole."""
    case = walk["row"]
    narrow, wide = sorted(case["widths"])
    assert narrow >= 0.9 * wide and narrow >= 500, case
    assert all(case["whole"]), case


def test_a_live_theme_switch_keeps_the_lecture_steps_shares(walk):
    """Switching the theme live re-applied the normal window's proportions to the
    lecture's docks: 'More ReLUs' went from even widths to the normal layout's 60:40
    (series 765 px, loss 510 px at 1280 x 720). A switch in lecture mode now shares the
    step's space as the step does."""
    case = walk["row_switched"]
    narrow, wide = sorted(case["widths"])
    assert narrow >= 0.9 * wide and all(case["whole"]), case
