"""The run gallery as the class sees it: runs side by side with a dot at the scrubbed
update on each surface and a marker on each loss curve, the overlay's curves in their own
colours, a rename on screen, exported numbers equal to the run's history, and the app
keeping every run that ends (finished, cut short, reset, from a sweep cell)."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit

from core.config import RunConfig
from core.gallery import history_csv, train_runs
from gui import export
from gui.theme import DARK, PROJECTOR
from tests.gui.pixels import colour_mask, grab_rgb

LR_STEP = RunConfig(dataset="channel", days=1, model="linear", loss="mse", optimizer="gd",
                    lr=0.03, init=(0.2, 2.0))
LRS = (0.0005, 0.03, 0.045)       # the lecture's too small / good / too large


@pytest.fixture(scope="module")
def view(qapp):
    """A gallery holding the lecture's three learning-rate runs (300 updates each)."""
    from gui.views.gallery_view import GalleryView

    v = GalleryView(DARK)
    for cfg, snap, timeline in train_runs(LR_STEP, LRS, 300):
        v.keep(cfg, snap, timeline)
    v.resize(1400, 800)
    v.show()
    qapp.processEvents()
    yield v
    v.shutdown()
    v.close()


def _pixel(plot, x: float, y: float) -> tuple[int, int]:
    """Where plot coordinates (x, y) are drawn in the plot widget's grab."""
    scene = plot.getPlotItem().getViewBox().mapViewToScene(QPointF(x, y))
    p = plot.mapFromScene(scene)
    return p.x(), p.y()


def _dot_pixels(img: np.ndarray, colour: str, at: tuple[int, int], r: int = 4) -> int:
    """Pixels of `colour` in the (2r+1)^2 square around `at`: a dot fills it, a 2-pixel
    line through it does not."""
    x, y = at
    return int(colour_mask(img[y - r:y + r + 1, x - r:x + r + 1], colour, tol=30).sum())


def _runs(view):
    return view.gallery.runs


def test_the_three_learning_rate_runs_are_kept_and_the_large_one_is_marked_diverged(view):
    runs = _runs(view)
    assert [r.config.lr for r in runs] == list(LRS)
    assert [r.status for r in runs] == ["finished", "finished", "diverged"]
    texts = [view.table.item(i, 3).text() for i in range(3)]
    assert texts[2].startswith("✕ diverged") and texts[0] == "finished"


def test_two_small_multiples_each_show_their_own_dot_at_the_scrubbed_update(view, qapp):
    small, good = _runs(view)[:2]
    view.show_runs([small.run_id, good.run_id], "side")
    view.scrub_to(20)
    qapp.processEvents()
    panes = [p for p in view._panes if p.isVisible()]
    assert [p.run.run_id for p in panes] == [small.run_id, good.run_id]
    for pane in panes:
        img = grab_rgb(pane.surface)
        _, point = pane.run.point_at(20)
        here = _pixel(pane.surface, *point)
        assert _dot_pixels(img, pane.color, here) > 40, pane.run.name
        # its loss marker sits on its curve at update 20
        u, train, _ = pane.run.loss_at(20)
        loss_img = grab_rgb(pane.loss)
        assert _dot_pixels(loss_img, pane.color, _pixel(pane.loss, u, math.log10(train))) > 30
    # the good run's dot has moved far by update 250; the shared scrubber moves both
    view.scrub_to(250)
    qapp.processEvents()
    good_pane = panes[1]
    img = grab_rgb(good_pane.surface)
    _, then = good.point_at(20)
    _, now = good.point_at(250)
    assert _dot_pixels(img, good_pane.color, _pixel(good_pane.surface, *now)) > 40
    assert _dot_pixels(img, good_pane.color, _pixel(good_pane.surface, *then)) < 40
    assert view.scrubber.value() == 250 and "250" in view.at_label.text()
    assert panes[0].color != panes[1].color


def test_play_replays_every_picked_run_to_the_end(view, qtbot):
    small, good, large = _runs(view)
    view.show_runs([small.run_id, good.run_id], "side")
    view.table.item(2, 0).setCheckState(Qt.CheckState.Checked)     # ticks "show"
    assert [r.run_id for r in view.shown] == [small.run_id, good.run_id, large.run_id]
    view.scrub_to(0)
    view.set_speed(10_000)               # the 300 updates in a few ticks
    view.play()
    qtbot.waitUntil(lambda: not view.playing, timeout=5000)
    assert view.shown_update == 300
    # the diverged run stopped at its own last update, and says where its dot went
    pane = view._panes[2]
    assert pane.run.run_id == large.run_id
    assert pane.cursor.value() == large.final_update
    assert "off the picture" in pane.message.toPlainText()


def test_the_overlay_draws_each_run_in_its_own_colour(view, qapp):
    view.show_runs([r.run_id for r in _runs(view)], "overlay")
    qapp.processEvents()
    img = grab_rgb(view._overlay)
    from gui.views.gallery_view import run_colors

    counts = [int(colour_mask(img, c, tol=20).sum()) for c in run_colors(DARK)[:3]]
    assert all(n > 150 for n in counts), counts
    legend = view._overlay.getPlotItem().legend
    assert [label.text for _, label in legend.items] == [
        f"{r.name} ({'✕ diverged' if r.status == 'diverged' else 'finished'})"
        for r in _runs(view)]


def _in_view(view, plot, x: float, y: float) -> tuple[int, int]:
    """Where plot coordinates (x, y) are drawn in the whole dock's grab."""
    p = plot.mapTo(view, plot.mapFromScene(
        plot.getPlotItem().getViewBox().mapViewToScene(QPointF(x, y))))
    return p.x(), p.y()


def test_the_overlay_draws_the_unseen_loss_too_ending_at_each_runs_own_numbers(view, qapp):
    """The dock's choice of curves: in "both", each run's training (solid) and unseen
    (dashed) loss are on screen in its colour, and at the last update the dot on each sits
    at the run's own final losses, the last values the curves plot."""
    small, good = _runs(view)[:2]
    view.show_runs([small.run_id, good.run_id], "overlay")
    assert view.curves_box.isVisible() and view.curves == "train"
    view.curves_box.setCurrentIndex(2)                  # "training + unseen", as a user
    view.scrub_to(300)
    qapp.processEvents()
    assert view.curves == "both"
    plot = view._overlay
    img = grab_rgb(view)
    legend = [label.text for _, label in plot.getPlotItem().legend.items]
    assert legend[-2:] == ["training loss", "unseen loss"]     # the key to the two styles
    colours = {run.run_id: colour for run, _, colour in view._overlay_kinds}
    for pane_run in (small, good):
        colour = colours[pane_run.run_id]
        # both curves' pixels: along each, at three updates, the run's colour is drawn
        for u in (60, 150, 240):
            _, train, unseen = pane_run.loss_at(u)
            at_train = _in_view(view, plot, u, math.log10(train))
            at_unseen = _in_view(view, plot, u, math.log10(unseen))
            assert abs(at_train[1] - at_unseen[1]) > 12, (pane_run.name, u)   # apart
            assert _dot_pixels(img, colour, at_train, r=6) > 4, (pane_run.name, u)
            assert _dot_pixels(img, colour, at_unseen, r=6) > 4, (pane_run.name, u)
        # the dots at the last update: the run's own final numbers (a dot's whole fill is
        # 41-59 pixels here, by where it falls on the pixel grid; a 2-pixel line through
        # the square, at most ~25)
        for value in (pane_run.final_train, pane_run.final_unseen):
            assert _dot_pixels(img, colour, _in_view(view, plot, 300, math.log10(value))) > 32
    curves = {(run.run_id, kind): curve for curve, (run, kind, _) in
              zip(view._overlay_curves, view._overlay_kinds, strict=True)}
    for run in (small, good):
        for kind, final in (("train", run.final_train), ("unseen", run.final_unseen)):
            x, y = curves[run.run_id, kind].getData()
            assert x[-1] == run.final_update
            assert 10 ** y[-1] == pytest.approx(final, rel=1e-12)
    # unseen only: one (dashed) curve a run
    view.set_curves("unseen")
    qapp.processEvents()
    assert [k for _, k, _ in view._overlay_kinds] == ["unseen", "unseen"]
    view.set_curves("train")


def test_a_network_pane_says_its_surface_is_the_slice_at_the_final_parameters(qapp, qtbot):
    """A network's surface is a slice through its two tracked parameters with the rest at
    their final values: the pane says so, and before the final update its dot is a ring
    (the two parameters were there; the rest of the network, and so the loss, were not
    what the slice shows), filled at the final update where the slice is the run's."""
    from gui.views.gallery_view import GalleryView

    net = RunConfig(dataset="channel", days=1, model="relu", units=3, layers=1, loss="mae",
                    optimizer="adam", lr=0.01)
    v = GalleryView(DARK)
    for cfg, snap, timeline in train_runs(net, (0.003, 0.03), 60):
        v.keep(cfg, snap, timeline)
    v.resize(1200, 700)
    v.show()
    v.show_runs([r.run_id for r in v.gallery.runs], "side")
    panes = [p for p in v._panes if p.isVisible()]
    qtbot.waitUntil(lambda: all(p._box is not None for p in panes), timeout=30000)
    pane = panes[1]
    run = pane.run

    def dot_at(update: int) -> tuple[np.ndarray, tuple[int, int]]:
        v.scrub_to(update)
        qapp.processEvents()
        _, point = run.point_at(update)
        return grab_rgb(v), _in_view(v, pane.surface, *point)

    img, at = dot_at(run.final_update)
    assert pane.slice_note.text() == "slice at the final parameters (update 60)"
    assert not pane.slice_note.visibleRegion().isEmpty()
    filled = _dot_pixels(img, pane.color, at, r=2)
    assert filled >= 20, filled                     # the 5 x 5 centre is the dot's colour
    img, at = dot_at(10)
    assert pane.slice_note.text().startswith(
        "slice at the final parameters (update 60); ring: update 10")
    assert _dot_pixels(img, pane.color, at, r=2) < filled / 2   # hollow: the slice shows
    assert _dot_pixels(img, pane.color, at, r=9) > 30           # through; its ring drawn
    v.shutdown()
    v.close()


def test_a_double_clicked_name_is_renamed_on_screen(view, qapp):
    good = _runs(view)[1]
    view.show_runs([_runs(view)[0].run_id, good.run_id], "side")
    qapp.processEvents()
    pane = view._panes[1]
    before = grab_rgb(pane.title)
    item = view.table.item(1, 2)
    rect = view.table.visualItemRect(item)
    for press in (QTest.mousePress, QTest.mouseRelease, QTest.mouseDClick):
        press(view.table.viewport(), Qt.MouseButton.LeftButton,
              Qt.KeyboardModifier.NoModifier, rect.center())
    qapp.processEvents()
    editor = view.table.viewport().findChild(QLineEdit)
    assert editor is not None and editor.isVisible()
    editor.selectAll()
    QTest.keyClicks(editor, "good eta")
    QTest.keyClick(editor, Qt.Key.Key_Return)
    qapp.processEvents()
    assert view.gallery.get(good.run_id).name == "good eta"
    assert view.table.item(1, 2).text() == "good eta"
    assert [r.run_id for r in view.shown] == [_runs(view)[0].run_id, good.run_id]
    assert "good eta" in pane.title.text()
    assert not np.array_equal(before, grab_rgb(pane.title))


def test_exported_csv_and_json_hold_the_runs_own_numbers(view, tmp_path):
    for run in _runs(view):
        text = export.export_run_history(run, tmp_path / f"{run.run_id}.csv")
        rows = list(csv.reader(io.StringIO((tmp_path / f"{run.run_id}.csv").read_text())))
        assert text == history_csv(run)
        assert rows[0] == ["update", "train_loss", "unseen_loss"]
        got = np.array([[float(v) for v in row] for row in rows[1:]])
        assert np.array_equal(got[:, 0], run.updates)
        np.testing.assert_array_equal(got[:, 1], run.train_loss)
        np.testing.assert_array_equal(got[:, 2], run.unseen_loss)
        export.export_run_history(run, tmp_path / f"{run.run_id}.json")
        doc = json.loads((tmp_path / f"{run.run_id}.json").read_text())
        hist = doc["history"]
        assert hist["update"] == run.updates.tolist()
        np.testing.assert_array_equal(np.array(hist["train_loss"], dtype=float),
                                      run.train_loss)
        assert doc["path"]["points"][5] == run.path[5].tolist()
        assert doc["settings"]["lr"] == run.config.lr and doc["status"] == run.status
    with pytest.raises(export.ExportError, match=r"^x\.txt: a run's history is exported"):
        export.export_run_history(_runs(view)[0], tmp_path / "x.txt")
    with pytest.raises(export.ExportError, match="cannot write"):
        export.export_run_history(_runs(view)[0], tmp_path / "no" / "such" / "a.csv")


def test_the_gallery_says_when_it_drops_the_oldest_unpinned_run_and_delete_removes_one(
        qapp):
    """A small bound: the fourth run pushes out the oldest that is not pinned, and the
    dock says which; Delete takes the selected run off the list and the replay."""
    from gui.views.gallery_view import GalleryView

    v = GalleryView(DARK)
    v.gallery.max_runs = 3
    made = list(train_runs(LR_STEP, (0.0005, 0.01, 0.03, 0.045), 40))
    for cfg, snap, timeline in made[:3]:
        v.keep(cfg, snap, timeline)
    v.resize(1200, 700)
    v.show()
    first, second, third = v.gallery.runs
    v.table.item(0, 1).setCheckState(Qt.CheckState.Checked)      # pin the oldest
    v.keep(*made[3])
    qapp.processEvents()
    assert [r.run_id for r in v.gallery.runs][:2] == [first.run_id, third.run_id]
    note = v.note.text()
    assert f"dropped the oldest unpinned run(s) '{second.name}'" in note
    assert "3 runs" in note and v.note.isVisible()
    assert [v.table.item(i, 2).text() for i in range(v.table.rowCount())] == \
        [r.name for r in v.gallery.runs]
    v.show_runs([r.run_id for r in v.gallery.runs], "side")
    v.select([third.run_id])
    v.delete_button.click()
    qapp.processEvents()
    assert third.run_id not in [r.run_id for r in v.gallery.runs]
    assert v.table.rowCount() == 2 and third.run_id not in [r.run_id for r in v.shown]
    assert [p.run.run_id for p in v._panes if p.isVisible()] == [r.run_id for r in v.shown]
    v.shutdown()
    v.close()


LIMITED = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                    lr=0.05, init=(0.0, 0.0), limit_updates=30)


def test_the_app_keeps_every_run_that_ends_and_a_failed_export_reaches_the_banner(
        open_window, qtbot, monkeypatch, tmp_path):
    win = open_window(LIMITED)
    gallery = win.views["gallery"]
    win.play()
    qtbot.waitUntil(lambda: len(gallery.gallery.runs) == 1, timeout=20000)
    first = gallery.gallery.runs[0]
    assert (first.status, first.final_update) == ("finished", 30)
    win.set_config(LIMITED.replace(limit_updates=None))    # a live change: the same run
    for _ in range(5):
        win.step()
    qtbot.waitUntil(lambda: win.latest.update >= 35, timeout=10000)
    win.reset()
    qtbot.waitUntil(lambda: gallery.gallery.runs[-1].status == "reset"
                    if len(gallery.gallery.runs) else False, timeout=10000)
    assert len(gallery.gallery.runs) == 1        # the same run, kept once, now as reset
    win.step()
    qtbot.waitUntil(lambda: win.latest.update >= 1 and win.latest.run_id
                    != first.run_id, timeout=10000)
    cell = LIMITED.replace(days=7, lr=0.01)
    win._open_sweep_cell(cell)                   # what a click on a sweep cell does
    qtbot.waitUntil(lambda: win.run_info.config == cell, timeout=10000)
    runs = gallery.gallery.runs
    assert [r.status for r in runs] == ["reset", "stopped"]
    win.play()
    qtbot.waitUntil(lambda: len(gallery.gallery.runs) == 3, timeout=20000)
    assert gallery.gallery.runs[-1].origin == "sweep cell"
    win.docks["gallery"].toggleViewAction().trigger()
    qtbot.waitUntil(lambda: not gallery.visibleRegion().isEmpty(), timeout=5000)
    assert "sweep cell" in gallery.table.item(2, 3).text()
    monkeypatch.setattr(export, "_ask_path", lambda *a: str(tmp_path / "no" / "a.csv"))
    export.run_history_dialog(win, gallery.gallery.runs[0], ".csv")
    qtbot.waitUntil(lambda: "Export failed: a.csv: cannot write" in win.banner.text(),
                    timeout=5000)


def _same_runs(a, b) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x.name, x.status, x.origin, x.pinned, x.config, x.track, x.final_update,
                x.seconds, x.scale, x.suffix, x.unit, x.color) == \
            (y.name, y.status, y.origin, y.pinned, y.config, y.track, y.final_update,
             y.seconds, y.scale, y.suffix, y.unit, y.color)
        for key in ("updates", "train_loss", "unseen_loss", "path", "path_updates"):
            assert getattr(x, key).tobytes() == getattr(y, key).tobytes(), key
        assert x.params.keys() == y.params.keys()
        for k in x.params:
            assert x.params[k].tobytes() == y.params[k].tobytes(), k


def test_a_saved_session_brings_back_every_gallery_run_number_for_number(
        open_window, qtbot, tmp_path):
    win = open_window(LIMITED)
    gallery = win.views["gallery"]
    win.play()
    qtbot.waitUntil(lambda: len(gallery.gallery.runs) == 1, timeout=20000)
    win.set_config(LIMITED.replace(days=7, model="relu", units=4, limit_updates=40,
                                   optimizer="adam", lr=0.01))
    # the surface picks the network's pair to track when the run starts; played before
    # that, the path starts where the pick arrived (update 5 here, past 20 at times: no
    # dot at update 20 to look for below)
    qtbot.waitUntil(lambda: win.run_info.config.model == "relu"
                    and win.surface_view.names != ("w", "b"), timeout=10000)
    win.play()
    qtbot.waitUntil(lambda: len(gallery.gallery.runs) == 2, timeout=30000)
    first, second = gallery.gallery.runs
    assert second.path_updates[0] == 0
    gallery.rename(first.run_id, "the line")
    gallery.gallery.pin(second.run_id, True)
    path = tmp_path / "gallery.json"
    assert win.sessions.save(path)

    other = open_window()
    assert other.sessions.open(path)
    restored = other.views["gallery"]
    qtbot.waitUntil(lambda: len(restored.gallery.runs) == 2, timeout=20000)
    _same_runs(gallery.gallery.runs, restored.gallery.runs)
    dock = other.docks["gallery"]
    dock.toggleViewAction().trigger()
    qtbot.waitUntil(lambda: not restored.visibleRegion().isEmpty(), timeout=5000)
    restored.show_runs([r.run_id for r in restored.gallery.runs], "side")
    if restored.stack.height() < 130:     # the hint asks for room: float the dock
        assert "too little room to replay here" in restored.hint.text()
        assert restored.stack.currentWidget() is restored.hint
        dock.setFloating(True)
        dock.resize(1200, 700)
        qtbot.waitUntil(lambda: restored.stack.currentWidget() is restored.side,
                        timeout=5000)
    qtbot.waitUntil(lambda: not restored.busy(), timeout=30000)
    assert restored.table.item(0, 2).text() == "the line"
    assert restored.table.item(1, 1).checkState() == Qt.CheckState.Checked
    # the restored runs replay on their surfaces: each pane has its dot at update 20 (on
    # a network's slice, before its final update, a ring around the point)
    restored.scrub_to(20)
    qtbot.wait(50)
    for pane in restored._panes[:2]:
        _, point = pane.run.point_at(20)
        img = grab_rgb(pane.surface)
        r = 4 if pane.run.exact_surface else 8
        assert _dot_pixels(img, pane.color, _pixel(pane.surface, *point), r=r) > 30, \
            pane.run.name


def _raced(win, qtbot, loss: str = "mae"):
    """The window's race from the lecture's start, 40 updates run to the end; its
    racers' kept runs (the gallery's newest)."""
    from tests.gui.test_race_view import _open_race, _run_race

    win.pause()
    view = _open_race(win, qtbot)
    view._loss.setCurrentIndex(view._loss.findData(loss))
    if loss == "mse":            # GD far above its critical rate: a racer that diverges
        from core.race import critical_lr

        view._rows[0][2].setValue(min(3.0 * critical_lr(view._data), 100.0))
    gallery = win.views["gallery"]
    before = len(gallery.gallery.runs)
    _run_race(view, qtbot, (0.2, 2.0), 40)
    n = len(view._race.trainers)
    qtbot.waitUntil(lambda: len(gallery.gallery.runs) == before + n, timeout=10000)
    return gallery.gallery.runs[before:]


def _open_gallery(win, qtbot):
    """The gallery dock floated at a size where its replay has room."""
    dock, gallery = win.docks["gallery"], win.views["gallery"]
    dock.show()
    dock.setFloating(True)
    dock.resize(1300, 760)
    qtbot.waitUntil(lambda: not gallery.visibleRegion().isEmpty(), timeout=5000)
    return gallery


def test_racers_replay_side_by_side_and_overlay_on_screen(open_window, qtbot):
    """A finished race's racers are rows of the gallery, and replay as runs do: each
    pane draws its racer's dot at the scrubbed update on the exact 1-day surface and the
    marker on its loss curve; overlaid, every racer's curve is drawn. Each in the colour
    it raced in (GD raced red is red here, with a red swatch by its name), and on the
    projector's white plots in the legible shade the race's loss plot draws it in."""
    from gui.theme import contrast_ratio, legible_on
    from gui.views.race_view import RACER_COLORS

    win = open_window()
    racers = _raced(win, qtbot)
    raced = [RACER_COLORS[slot] for slot in win.views["race"]._slots]
    assert [r.color for r in racers] == raced
    gallery = _open_gallery(win, qtbot)
    names = [gallery.table.item(i, 2).text() for i in range(gallery.table.rowCount())]
    assert [r.name for r in racers] == [n for n in names if n.startswith("race 1:")]
    assert [r.config.optimizer for r in racers] == ["gd", "momentum", "adam"]
    table = grab_rgb(gallery.table.viewport())     # each racer's name is drawn in its row
    for i in range(gallery.table.rowCount()):
        cell = gallery.table.visualItemRect(gallery.table.item(i, 2))
        assert cell.bottom() < table.shape[0], "the row is off the list"
        text = table[cell.top():cell.bottom(), cell.left():cell.right()]
        assert colour_mask(text, win.theme.foreground, tol=60).sum() > 20, names[i]
    for racer, colour in zip(racers, raced, strict=True):    # the swatch by its name
        row = [r.run_id for r in gallery.gallery.runs].index(racer.run_id)
        cell = gallery.table.visualItemRect(gallery.table.item(row, 2))
        swatch = table[cell.top():cell.bottom(), cell.left():cell.left() + cell.height()]
        assert colour_mask(swatch, colour, tol=20).sum() > 20, racer.name
    gallery.show_runs([r.run_id for r in racers], "side")
    qtbot.waitUntil(lambda: gallery.stack.currentWidget() is gallery.side, timeout=5000)
    gallery.scrub_to(20)
    qtbot.wait(50)
    panes = [p for p in gallery._panes if p.isVisible()]
    assert [p.run.run_id for p in panes] == [r.run_id for r in racers]
    assert [p.color for p in panes] == raced
    for pane in panes:
        assert pane.run.exact_surface and pane.star.data.size == 1  # the exact surface
        _, point = pane.run.point_at(20)
        img = grab_rgb(pane.surface)
        assert _dot_pixels(img, pane.color, _pixel(pane.surface, *point)) > 40, pane.run.name
        u, train, _ = pane.run.loss_at(20)
        loss_img = grab_rgb(pane.loss)
        assert _dot_pixels(loss_img, pane.color, _pixel(pane.loss, u, math.log10(train))) > 30
    gallery.show_runs([r.run_id for r in racers], "overlay")
    qtbot.wait(50)
    img = grab_rgb(gallery._overlay)
    from gui.views.gallery_view import run_colors

    counts = [int(colour_mask(img, c, tol=20).sum()) for c in raced]
    assert all(n > 100 for n in counts), counts
    assert colour_mask(img, run_colors(win.theme)[0], tol=20).sum() < 20   # no palette
    win.apply_theme("projector")
    qtbot.wait(50)
    img, bg = grab_rgb(gallery._overlay), win.theme.background
    shades = [legible_on(c, bg) for c in raced]
    assert all(contrast_ratio(s, bg) >= 3.0 for s in shades)
    assert all(colour_mask(img, s, tol=10).sum() > 100 for s in shades), shades
    faint = [c for c in raced if contrast_ratio(c, bg) < 3.0]
    assert faint and all(colour_mask(img, c, tol=10).sum() == 0 for c in faint), faint


def test_a_saved_session_brings_back_a_races_racers_number_for_number(open_window, qtbot,
                                                                       tmp_path):
    """Save, reopen: the racers (one diverged) are back in the gallery with every number
    equal (settings, every recorded update, path, w and b, both losses, how they ended,
    a renamed one's name); the next race there is numbered after them."""
    win = open_window()
    racers = _raced(win, qtbot, "mse")
    assert [r.status for r in racers] == ["diverged", "finished", "finished"]
    gallery = win.views["gallery"]
    gallery.rename(racers[2].run_id, "race 1: the Adam one")
    path = tmp_path / "race.json"
    assert win.sessions.save(path)

    other = open_window()
    assert other.sessions.open(path)
    restored = other.views["gallery"]
    qtbot.waitUntil(lambda: len(restored.gallery.runs) == len(gallery.gallery.runs),
                    timeout=20000)
    _same_runs(gallery.gallery.runs, restored.gallery.runs)
    back = [r for r in restored.gallery.runs if r.origin == "race 1"]
    assert [r.name for r in back][2] == "race 1: the Adam one"
    assert back[0].status == "diverged" and back[0].final_update < 40
    assert [r.color for r in back] == [r.color for r in racers] != ["", "", ""]
    assert all(r.config.init == (0.2, 2.0) and r.data is not None for r in back)
    again = _raced(other, qtbot)
    assert {r.origin for r in again} == {"race 2"}
    assert all(r.run_id not in {b.run_id for b in back} for r in again)
    _same_runs(back, [r for r in restored.gallery.runs if r.origin == "race 1"])


def test_a_narrow_short_gallery_still_shows_a_whole_row_above_its_scroll_bar(view, qapp):
    """In a narrow, short dock (a 1280 x 720 projector's), the list's horizontal scroll
    bar took half of the one row the list had room for: the row's text was cut."""
    from gui.views.gallery_view import GalleryView

    small = GalleryView(DARK, gallery=view.gallery)
    small.resize(460, 300)
    small.show()
    qapp.processEvents()
    table = small.table
    try:
        assert table.horizontalScrollBar().isVisible()
        row = table.visualItemRect(table.item(0, 2))
        assert row.height() > 10 and row.bottom() < table.viewport().height()
        img = grab_rgb(table.viewport())
        text = img[row.top():row.bottom(), row.left():row.right()]
        assert colour_mask(text, DARK.foreground, tol=60).sum() > 20
    finally:
        small.shutdown()
        small.close()


def test_a_diverged_runs_losses_read_as_the_loss_table_writes_them(view):
    """A diverged run's last finite loss read "7.17e+25k" in the list; now the power of
    ten it passed ("> 10²⁸", as the loss table and the status line write it: one
    function) and where it diverged ("✕ diverged at update 37"), drawn in the row."""
    from core.results import format_loss
    from gui.views.table_view import cell_text

    row, run = 2, _runs(view)[2]
    assert run.status == "diverged"
    ended = view.table.item(row, 3).text()
    assert ended == f"✕ diverged at update {run.final_update:,}"
    for col, key, value in ((5, "train_loss", run.final_train),
                            (6, "unseen_loss", run.final_unseen)):
        text = view.table.item(row, col).text()
        assert re.fullmatch(r"> 10[⁰¹²³⁴⁵⁶⁷⁸⁹]+|diverged", text), text
        assert text == format_loss(value, run.scale, run.suffix) == cell_text(
            {key: value, "scale": run.scale, "suffix": run.suffix}, key)
        view.table.scrollToItem(view.table.item(row, col))
        img = grab_rgb(view.table.viewport())
        cell = view.table.visualItemRect(view.table.item(row, col))
        shown = img[cell.top():cell.bottom(), cell.left():cell.right()]
        assert colour_mask(shown, DARK.foreground, tol=60).sum() > 10, text


def test_a_race_saved_mid_way_comes_back_in_the_gallery_number_for_number(
        open_window, qtbot, tmp_path):
    """A race still going when the session is saved was lost with it. Saved while it
    plays, and again paused mid-way: the reopened gallery lists each racer, stopped at
    its update, in its race colour, with every number equal to the racers' at the moment
    of saving; the live gallery is unchanged (the race goes on, kept when it ends)."""
    from core.gallery import race_origin, racer_name, run_from_timeline
    from core.session import load_session
    from gui.session import check_restorable
    from tests.gui.test_race_view import _open_race

    win = open_window()
    win.pause()
    view = _open_race(win, qtbot)
    view._budget.setValue(100_000)
    view.new_race((0.2, 2.0))
    qtbot.waitUntil(lambda: view._frame is not None, timeout=30000)
    view.set_speed(0)
    view.toggle_play()
    qtbot.waitUntil(lambda: view.shown_update_live() >= 300, timeout=30000)
    assert win.sessions.save(tmp_path / "playing.json")    # answered between chunks
    saved = check_restorable(load_session(tmp_path / "playing.json")).gallery
    playing = [r for r in saved if r.origin == "race 1"]
    assert [r.status for r in playing] == ["stopped"] * 3
    assert all(r.final_update >= 300 for r in playing)
    view.toggle_play()
    path = tmp_path / "race.json"
    assert win.sessions.save(path)
    ends, colors = view.running_ends()       # paused: the racers as they were saved
    assert not view._frame.done and len(ends) == 3
    assert not any(r.origin == "race 1" for r in win.views["gallery"].gallery.runs)
    want = [run_from_timeline(0, racer_name(1, e.config), e.config, e.snapshot, e.timeline,
                              "stopped", race_origin(1), c)
            for e, c in zip(ends, colors, strict=True)]

    other = open_window()
    assert other.sessions.open(path)
    restored = other.views["gallery"]
    qtbot.waitUntil(lambda: any(r.origin == "race 1" for r in restored.gallery.runs),
                    timeout=20000)
    back = [r for r in restored.gallery.runs if r.origin == "race 1"]
    _same_runs(want, back)
    assert all(0 < r.final_update < 100_000 for r in back)
    gallery = _open_gallery(other, qtbot)
    table = grab_rgb(gallery.table.viewport())
    for run in back:              # each racer's row reads "stopped (race 1)", drawn
        row = [r.run_id for r in gallery.gallery.runs].index(run.run_id)
        assert gallery.table.item(row, 3).text() == "stopped (race 1)"
        cell = gallery.table.visualItemRect(gallery.table.item(row, 3))
        text = table[cell.top():cell.bottom(), cell.left():cell.right()]
        assert colour_mask(text, other.theme.foreground, tol=60).sum() > 20, run.name
        swatch = gallery.table.visualItemRect(gallery.table.item(row, 2))
        box = table[swatch.top():swatch.bottom(), swatch.left():swatch.left() + 20]
        assert colour_mask(box, run.color, tol=20).sum() > 20, run.name


def _ink_bands(img: np.ndarray, colour: str) -> list[int]:
    """Heights of the runs of rows holding `colour`'s ink, top to bottom."""
    rows = np.flatnonzero(colour_mask(img, colour, tol=90).any(axis=1))
    if not len(rows):
        return []
    return [len(run) for run in np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)]


@pytest.mark.parametrize("theme, switched", [(PROJECTOR, None), (DARK, PROJECTOR),
                                             (PROJECTOR, DARK)])
def test_a_panes_axis_titles_are_drawn_as_large_as_its_tick_labels(qapp, theme, switched):
    """A pane names its axes when it shows a run, after it was styled: the projector's
    titles came out in pyqtgraph's default size, "w1" 9 px tall under 14 px tick labels
    (unreadable from the back of a room). Started in a theme and switched live."""
    from gui.views.gallery_view import GalleryView

    v = GalleryView(theme)
    try:
        for cfg, snap, timeline in train_runs(LR_STEP, LRS[:2], 60):
            v.keep(cfg, snap, timeline)
        v.resize(1400, 800)
        v.show()
        qapp.processEvents()
        if switched is not None:
            v.apply_theme(switched)
        shown = switched or theme
        v.show_runs([r.run_id for r in v.gallery.runs], "side")
        qapp.processEvents()
        pane = next(p for p in v._panes if p.isVisible())
        axis = pane.surface.getPlotItem().getAxis("bottom")
        box = pane.surface.mapFromScene(axis.sceneBoundingRect()).boundingRect()
        img = grab_rgb(pane.surface)[box.top():box.bottom(), box.left():box.right()]
        bands = _ink_bands(img, shown.foreground)
        ticks, title = bands[-2], bands[-1]     # tick labels (digits), then "w1"
        assert title >= 0.9 * ticks, (bands, shown.font_pt)
        assert ticks >= (12 if shown is PROJECTOR else 7)
    finally:
        v.shutdown()
        v.close()
