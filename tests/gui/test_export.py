"""Every export writes a valid file: images load at their size, SVG parses, tables match."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from PySide6.QtGui import QColor, QImage

from core.config import RunConfig
from gui import export
from gui.main_window import SETTINGS_ENV, MainWindow

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

LINEAR = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                   lr=0.05, init=(0.0, 0.0))


@pytest.fixture(scope="module")
def win(qapp, tmp_path_factory):
    """One window for the module (exports only read it): trained 20 updates, 2 rows."""
    import os

    old = os.environ.get(SETTINGS_ENV)
    os.environ[SETTINGS_ENV] = str(tmp_path_factory.mktemp("settings"))
    w = MainWindow(LINEAR, theme="dark")
    w.resize(1400, 900)
    w.show()
    _wait(qapp, lambda: w.run_info is not None)
    for n in range(1, 21):
        w.step()
        _wait(qapp, lambda n=n: w.latest is not None and w.latest.update >= n)
    _wait(qapp, lambda: not any(v.busy() for v in w.views.values()))
    w.record()
    w.set_config(LINEAR.replace(days=7))
    _wait(qapp, lambda: w.run_info is not None and w.run_info.config.days == 7)
    w.step()
    _wait(qapp, lambda: w.latest is not None and w.latest.update >= 1)
    w.record()
    yield w
    w.close()
    assert not w.handle.running
    if old is None:
        os.environ.pop(SETTINGS_ENV, None)
    else:
        os.environ[SETTINGS_ENV] = old


def _wait(qapp, cond, timeout: float = 20.0) -> None:
    import time

    t0 = time.perf_counter()
    while not cond():
        qapp.processEvents()
        time.sleep(0.005)
        assert time.perf_counter() - t0 < timeout, "timed out"


@pytest.mark.parametrize("key", ["surface", "fit", "series", "loss"])
def test_view_png_has_the_plot_size(win, tmp_path, key):
    item = export.plot_item(win.views[key])
    rect = item.sceneBoundingRect()
    path = tmp_path / f"{key}.png"
    size = export.export_view_png(win.views[key], path, scale=2.0)
    image = QImage(str(path))
    assert not image.isNull()
    assert image.width() == round(rect.width() * 2.0) == size.width()
    assert abs(image.height() - rect.height() * 2.0) <= 2
    # not a blank picture: a plot has many colours
    assert len({image.pixel(x, y) for x in range(0, image.width(), 7)
                for y in range(0, image.height(), 7)}) > 5


@pytest.mark.parametrize("key", ["surface", "fit", "series", "loss"])
def test_view_svg_parses_with_an_svg_root(win, tmp_path, key):
    path = tmp_path / f"{key}.svg"
    export.export_view_svg(win.views[key], path)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    drawn = ("path", "polyline", "rect", "image", "text", "line")
    assert sum(1 for el in root.iter() if el.tag.endswith(drawn)) > 5


def test_the_table_has_no_plot_to_export(win, tmp_path):
    with pytest.raises(export.ExportError, match="no plot"):
        export.export_view_png(win.views["table"], tmp_path / "t.png")
    assert not (tmp_path / "t.png").exists()


def test_window_png_is_the_window(win, tmp_path):
    path = tmp_path / "window.png"
    size = export.export_window_png(win, path)
    image = QImage(str(path))
    dpr = win.devicePixelRatioF()
    assert (image.width(), image.height()) == (size.width(), size.height())
    assert (image.width(), image.height()) == (round(win.width() * dpr),
                                               round(win.height() * dpr))


def test_table_exports_match_the_rows(win, tmp_path):
    rows = win.views["table"].rows()
    assert len(rows) == 2
    export.export_table(rows, tmp_path / "t.csv")
    parsed = list(csv.DictReader(io.StringIO((tmp_path / "t.csv").read_text())))
    assert [r["model"] for r in parsed] == ["1 day, linear", "7 days, linear"]
    assert [float(r["train_loss"]) for r in parsed] == [r["train_loss"] for r in rows]
    assert [int(r["updates"]) for r in parsed] == [20, 1]

    md = export.export_table(rows, tmp_path / "t.md")
    lines = (tmp_path / "t.md").read_text().splitlines()
    assert md.splitlines() == lines and len(lines) == 4
    assert lines[2].startswith("| 1 day, linear |") and lines[3].startswith("| 7 days, linear")

    tex = (export.export_table(rows, tmp_path / "t.tex"))
    assert tex.count(r"\\") == 3 and r"\begin{tabular}" in tex and "7 days, linear" in tex

    with pytest.raises(export.ExportError, match=r"\.csv, \.md or \.tex"):
        export.export_table(rows, tmp_path / "t.xlsx")


def test_recorded_gif_has_several_frames(win, qtbot, tmp_path):
    recorder = export.FrameRecorder(win, win.views["fit"], frames=4, fps=100.0,
                                    max_width=300)
    done = []
    recorder.finished.connect(done.append)
    recorder.start()
    win.play()
    qtbot.waitUntil(lambda: bool(done), timeout=15000)
    win.pause()
    qtbot.waitUntil(lambda: not win.playing, timeout=3000)
    frames = done[0]
    assert len(frames) == 4 and frames[0].width() == 300
    ticks = []
    path = tmp_path / "train.gif"
    assert export.write_gif(frames, path, fps=5, progress=lambda d, t: ticks.append(d) or True)
    with Image.open(path) as gif:   # Pillow merges identical neighbours, so ">1", not "4"
        assert gif.format == "GIF" and 1 < gif.n_frames <= 4
        assert gif.size == (300, frames[0].height())
    assert ticks[0] == 0 and ticks[-1] == 5


def test_gif_keeps_every_distinct_frame_and_its_timing(tmp_path):
    frames = []
    for k in range(5):
        image = QImage(40, 30, QImage.Format.Format_RGB888)
        image.fill(QColor(50 * k, 255 - 50 * k, 90))
        frames.append(image)
    path = tmp_path / "five.gif"
    assert export.write_gif(frames, path, fps=5)
    with Image.open(path) as gif:
        assert gif.n_frames == 5 and gif.size == (40, 30)
        assert gif.info["duration"] == 200 and gif.info.get("loop") == 0
        gif.seek(3)
        r, g, b = gif.convert("RGB").getpixel((20, 15))
        assert abs(r - 150) <= 8 and abs(g - 105) <= 8 and abs(b - 90) <= 8
    # cancelling writes nothing
    assert not export.write_gif(frames, tmp_path / "no.gif", progress=lambda d, t: d < 2)
    assert not (tmp_path / "no.gif").exists()


def test_mp4_without_ffmpeg_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(export, "ffmpeg_path", lambda: None)
    frame = QImage(16, 16, QImage.Format.Format_RGB888)
    with pytest.raises(export.ExportError, match="ffmpeg"):
        export.write_mp4([frame], tmp_path / "a.mp4")


def test_mp4_is_written_through_ffmpeg_and_reads_back(tmp_path):
    exe = export.ffmpeg_path()
    if exe is None:
        pytest.skip("no ffmpeg here and imageio-ffmpeg (a test extra) is not installed")
    import subprocess

    w, h = 64, 48
    frames = []
    for k in range(5):
        image = QImage(w, h, QImage.Format.Format_RGB888)
        image.fill(QColor(50 * k, 255 - 50 * k, 90))
        frames.append(image)
    path = tmp_path / "five.mp4"
    assert export.write_mp4(frames, path, fps=5)
    assert path.read_bytes()[4:8] == b"ftyp"                 # an MP4 container
    raw = subprocess.run([exe, "-loglevel", "error", "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    assert len(raw) == 5 * w * h * 3                           # five frames, the size kept
    at = 3 * w * h * 3 + (h // 2 * w + w // 2) * 3             # frame 4, centre pixel
    r, g, b = raw[at:at + 3]
    assert abs(r - 150) <= 16 and abs(g - 105) <= 16 and abs(b - 90) <= 16   # lossy H.264
    # cancelling leaves no file
    assert not export.write_mp4(frames, tmp_path / "no.mp4", progress=lambda d, t: d < 2)
    assert not (tmp_path / "no.mp4").exists()


def test_export_menu_lists_every_export(win):
    menus = {a.text(): a.menu() for a in win.menuBar().actions() if a.menu()}
    menu = menus["E&xport"]
    texts = [a.text() for a in menu.actions()]
    assert "Window as PNG…" in texts and "Loss table as LaTeX…" in texts
    assert "Training animation (GIF)" in texts and "Training animation (MP4)" in texts
    png = next(a.menu() for a in menu.actions() if a.text() == "View as PNG")
    with_plots = [k for k, v in win.views.items() if export.plot_item(v) is not None]
    assert len(png.actions()) == len(with_plots) >= 4
