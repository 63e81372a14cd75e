"""Exports for slides: a view as PNG / SVG, the window as PNG, the loss table as text, and
the training as an animated GIF (or MP4 when ffmpeg is installed).

The writers are plain functions over widgets or rows and a path, so tests call them
without any dialog; the dialogs (file choice, progress, cancel) are thin wrappers at the
bottom, installed as the window's Export menu by `install_export_menu`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
import pyqtgraph.exporters as pg_exporters
from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from core import results
from core.config import one_line
from gui.views.base import View

if TYPE_CHECKING:
    from core.gallery import GalleryRun
    from gui.window_api import LabWindow

TABLE_FORMATS = {".csv": results.to_csv, ".md": results.to_markdown,
                 ".tex": results.to_latex}
MAX_FRAME_WIDTH = 960      # animations are downscaled to this width: small files, smooth
Progress = Callable[[int, int], bool]   # (done, total) -> keep going?


class ExportError(Exception):
    """One line for the user: what could not be written and why."""


# ---- views and the window -------------------------------------------------------------------
def plot_item(view: View) -> pg.PlotItem | None:
    """The main plot of a view (`View.main_plot`), or None (the table)."""
    plot = view.main_plot()
    return plot.getPlotItem() if plot is not None else None


def export_view_png(view: View, path: str | Path, scale: float = 1.0) -> QSize:
    """The view's plot as a PNG, `scale` times its on-screen size; returns the size."""
    item = _need_plot(view)
    exporter = pg_exporters.ImageExporter(item)
    width = max(1, round(item.sceneBoundingRect().width() * scale))
    exporter.parameters()["width"] = width
    _write(path, lambda p: exporter.export(p))
    return QImage(str(path)).size()


def export_view_svg(view: View, path: str | Path) -> None:
    """The view's plot as SVG (vector: stays sharp on any projector).

    pyqtgraph's exporter first; it cannot parse some paths Qt 6 writes (images, text),
    and then Qt's own SVG generator renders the same scene region instead.
    """
    item = _need_plot(view)
    try:
        _write(path, lambda p: pg_exporters.SVGExporter(item).export(p))
    except (ValueError, IndexError):
        _write(path, lambda p: _qt_svg(item, p))


def _qt_svg(item: pg.PlotItem, path: str) -> None:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    source = item.sceneBoundingRect()
    gen = QSvgGenerator()
    gen.setFileName(path)
    gen.setSize(source.size().toSize())
    gen.setViewBox(QRectF(0, 0, source.width(), source.height()))
    gen.setTitle("Function Lab")
    painter = QPainter(gen)
    try:
        item.scene().render(painter, QRectF(0, 0, source.width(), source.height()), source)
    finally:
        painter.end()


def export_window_png(window: QWidget, path: str | Path) -> QSize:
    """The whole window as it looks now; returns the image size."""
    image = window.grab()
    _write(path, lambda p: image.save(p, "PNG") or _fail("Qt could not encode the PNG"))
    return image.size()


def export_table(rows: Sequence[dict[str, Any]], path: str | Path) -> str:
    """The loss table in the format the suffix names (.csv, .md, .tex); returns the text."""
    path = Path(path)
    fmt = TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExportError(f"{path.name}: a table is exported as .csv, .md or .tex")
    text = fmt(list(rows))
    _write(path, lambda p: Path(p).write_text(text, encoding="utf-8"))
    return text


def export_run_history(run: GalleryRun, path: str | Path) -> str:
    """A kept run's history (`core.gallery.GalleryRun`) as CSV (update, training and
    unseen loss) or JSON (everything kept: settings, history, path, parameters); returns
    the text written."""
    from core.gallery import history_csv, history_json

    path = Path(path)
    write = {".csv": history_csv, ".json": history_json}.get(path.suffix.lower())
    if write is None:
        raise ExportError(f"{path.name}: a run's history is exported as .csv or .json")
    text = write(run)
    _write(path, lambda p: Path(p).write_text(text, encoding="utf-8"))
    return text


def _need_plot(view: View) -> pg.PlotItem:
    item = plot_item(view)
    if item is None:
        raise ExportError(f"{view.title or 'this view'} has no plot to export")
    return item


def _fail(message: str) -> None:
    raise ExportError(message)


def _write(path: str | Path, write: Callable[[str], Any]) -> None:
    path = Path(path)
    try:
        write(str(path))
    except ExportError as exc:
        raise ExportError(f"{path.name}: {exc}") from None
    except OSError as exc:
        raise ExportError(f"{path.name}: cannot write ({exc.strerror or exc})") from None
    if not path.is_file() or path.stat().st_size == 0:
        raise ExportError(f"{path.name}: nothing was written")


# ---- animations -----------------------------------------------------------------------------
def grab_frame(widget: QWidget, max_width: int = MAX_FRAME_WIDTH) -> QImage:
    """The widget as an RGB image, downscaled to at most `max_width` pixels wide."""
    image = widget.grab().toImage()
    if image.width() > max_width:
        image = image.scaledToWidth(max_width, Qt.TransformationMode.SmoothTransformation)
    return image.convertToFormat(QImage.Format.Format_RGB888)


def to_pil(image: QImage) -> Any:
    from PIL import Image

    image = image.convertToFormat(QImage.Format.Format_RGB888)
    raw = bytes(image.constBits())
    return Image.frombuffer("RGB", (image.width(), image.height()), raw, "raw", "RGB",
                            image.bytesPerLine(), 1).copy()


def write_gif(frames: Sequence[QImage], path: str | Path, fps: float = 10.0,
              progress: Progress | None = None) -> bool:
    """An endlessly looping GIF; False when `progress` asked to cancel (nothing written)."""
    if not frames:
        raise ExportError(f"{Path(path).name}: no frames were recorded")
    pictures = []
    total = len(frames) + 1
    for i, frame in enumerate(frames):
        if progress is not None and not progress(i, total):
            return False
        # one adaptive palette per frame keeps the colormap's gradients smooth
        pictures.append(to_pil(frame).quantize(colors=256, method=2))
    size = pictures[0].size
    pictures = [p if p.size == size else p.resize(size) for p in pictures]
    duration = max(20, round(1000 / max(fps, 0.1)))
    _write(path, lambda p: pictures[0].save(p, format="GIF", save_all=True,
                                            append_images=pictures[1:], duration=duration,
                                            loop=0, optimize=False, disposal=1))
    if progress is not None:
        progress(total, total)
    return True


def ffmpeg_path() -> str | None:
    """The ffmpeg program the optional `imageio-ffmpeg` package drives (its own binary, else
    the system's; `pip install function-lab[video]`), or None without the package or any
    ffmpeg."""
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:      # the package is there but no ffmpeg binary is
        return None


def write_mp4(frames: Sequence[QImage], path: str | Path, fps: float = 10.0,
              progress: Progress | None = None) -> bool:
    """An H.264 MP4 through `imageio_ffmpeg.write_frames`; False when cancelled (nothing
    written)."""
    name = Path(path).name
    if ffmpeg_path() is None:
        raise ExportError(f"{name}: MP4 needs ffmpeg, through the imageio-ffmpeg package, "
                          "which is not installed (pip install \"function-lab[video]\", "
                          "or export a GIF)")
    if not frames:
        raise ExportError(f"{name}: no frames were recorded")
    import imageio_ffmpeg

    w, h = frames[0].width() // 2 * 2, frames[0].height() // 2 * 2   # yuv420p: even sizes
    writer = imageio_ffmpeg.write_frames(
        str(path), (w, h), pix_fmt_in="rgb24", pix_fmt_out="yuv420p", fps=fps,
        codec="libx264", quality=None, macro_block_size=2, ffmpeg_log_level="error",
        output_params=["-movflags", "+faststart"])
    cancelled = False
    try:
        writer.send(None)                    # starts ffmpeg
        for i, frame in enumerate(frames):
            if progress is not None and not progress(i, len(frames)):
                cancelled = True
                break
            image = frame.copy(0, 0, w, h).convertToFormat(QImage.Format.Format_RGB888)
            raw, line = bytes(image.constBits()), image.bytesPerLine()
            writer.send(b"".join(raw[y * line:y * line + w * 3] for y in range(h)))
        writer.close()                       # waits for ffmpeg to finish the file
    except (OSError, RuntimeError) as exc:
        writer.close()
        Path(path).unlink(missing_ok=True)
        raise ExportError(f"{name}: ffmpeg failed: {one_line(exc)[:200]}") from None
    if cancelled:
        Path(path).unlink(missing_ok=True)
        return False
    return True


class FrameRecorder(QObject):
    """Grabs `target` each time the window draws a frame, at most `fps` times a second,
    until `frames` are taken or `seconds` pass; then emits `finished(frames)`."""

    progressed = Signal(int, int)     # (frames taken, frames wanted)
    finished = Signal(list)

    def __init__(self, window: LabWindow, target: QWidget, frames: int = 60, fps: float = 10.0,
                 seconds: float | None = None, max_width: int = MAX_FRAME_WIDTH) -> None:
        super().__init__(window)
        self._window, self._target = window, target
        self.wanted = max(1, int(frames))
        self._gap = 1.0 / max(fps, 0.1)
        self._max_width = max_width
        self._limit = seconds
        self.frames: list[QImage] = []
        self._last = -1e9
        self._t0 = 0.0
        self._active = False
        self._clock = QTimer(self)    # ends a recording whose training stopped drawing
        self._clock.setInterval(200)
        self._clock.timeout.connect(self._check_time)

    @property
    def active(self) -> bool:
        return self._active

    def start(self) -> None:
        self._active = True
        self._t0 = time.perf_counter()
        self._window.frame_drawn.connect(self._on_frame)
        self._clock.start()

    def stop(self) -> None:
        """Finish now with what was recorded (also what Cancel does)."""
        if not self._active:
            return
        self._active = False
        self._clock.stop()
        self._window.frame_drawn.disconnect(self._on_frame)
        self.finished.emit(self.frames)

    def _on_frame(self, _snap: Any = None) -> None:
        now = time.perf_counter()
        if not self._active or now - self._last < self._gap:
            return
        self._last = now
        self.frames.append(grab_frame(self._target, self._max_width))
        self.progressed.emit(len(self.frames), self.wanted)
        if len(self.frames) >= self.wanted:
            self.stop()

    def _check_time(self) -> None:
        if self._limit is not None and time.perf_counter() - self._t0 >= self._limit:
            self.stop()


# ---- dialogs (thin wrappers) ----------------------------------------------------------------
def _ask_path(window: QWidget, title: str, name: str, filter_: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(window, title, name, filter_)
    if not path:
        return None
    suffix = Path(name).suffix
    return path if Path(path).suffix else path + suffix


def _report(window: LabWindow, text: str) -> None:
    window.show_banner(text)


def _status(window: LabWindow, text: str) -> None:
    window.statusBar().showMessage(text, 5000)


def _run(window: LabWindow, what: str, job: Callable[[], Any]) -> None:
    try:
        job()
    except ExportError as exc:
        _report(window, f"Export failed: {exc}")
        return
    _status(window, f"Exported {what}")


def view_png_dialog(window: LabWindow, key: str) -> None:
    path = _ask_path(window, "Export view as PNG", f"{key}.png", "PNG images (*.png)")
    if path:
        _run(window, Path(path).name,
             lambda: export_view_png(window.views[key], path, scale=2.0))


def view_svg_dialog(window: LabWindow, key: str) -> None:
    path = _ask_path(window, "Export view as SVG", f"{key}.svg", "SVG images (*.svg)")
    if path:
        _run(window, Path(path).name, lambda: export_view_svg(window.views[key], path))


def window_png_dialog(window: LabWindow) -> None:
    path = _ask_path(window, "Export window as PNG", "function-lab.png", "PNG images (*.png)")
    if path:
        _run(window, Path(path).name, lambda: export_window_png(window, path))


def table_dialog(window: LabWindow, suffix: str) -> None:
    names = {".csv": "CSV files (*.csv)", ".md": "Markdown files (*.md)",
             ".tex": "LaTeX files (*.tex)"}
    path = _ask_path(window, "Export loss table", f"losses{suffix}", names[suffix])
    if path:
        _run(window, Path(path).name,
             lambda: export_table(window.table_view.rows(), path))


def run_history_dialog(window: LabWindow, run: GalleryRun, suffix: str) -> None:
    """Ask where, then write a gallery run's history; a failure goes to the banner."""
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in run.name).strip("-")
    filter_ = "CSV files (*.csv)" if suffix == ".csv" else "JSON files (*.json)"
    path = _ask_path(window, "Export run history", f"{stem or 'run'}{suffix}", filter_)
    if path:
        _run(window, Path(path).name, lambda: export_run_history(run, path))


def animation_dialog(window: LabWindow, target_key: str | None, suffix: str, frames: int = 60,
                     fps: float = 10.0) -> FrameRecorder | None:
    """Record `frames` while training (Play is pressed for you), then write GIF / MP4,
    with a cancellable progress dialog for both phases."""
    if suffix == ".mp4" and ffmpeg_path() is None:
        _report(window, "MP4 export needs the ffmpeg program, which is not installed. "
                "Install ffmpeg, or export the animation as a GIF.")
        return None
    name = f"{target_key or 'function-lab'}{suffix}"
    path = _ask_path(window, "Export training animation", name,
                     "GIF animations (*.gif)" if suffix == ".gif" else "MP4 videos (*.mp4)")
    if not path:
        return None
    target = window if target_key is None else window.views[target_key]
    recorder = FrameRecorder(window, target, frames=frames, fps=fps,
                             seconds=frames / fps * 4 + 5)
    dialog = QProgressDialog("Recording the training…", "Stop", 0, frames, window)
    dialog.setWindowTitle("Export animation")
    dialog.setWindowModality(Qt.WindowModality.NonModal)
    dialog.setMinimumDuration(0)
    recorder.progressed.connect(lambda n, _total: dialog.setValue(n))
    dialog.canceled.connect(recorder.stop)

    def write(taken: list[QImage]) -> None:
        dialog.canceled.disconnect(recorder.stop)
        dialog.setLabelText(f"Writing {Path(path).name}…")
        dialog.setCancelButtonText("Cancel")
        dialog.setRange(0, max(1, len(taken)))

        def tick(done: int, total: int) -> bool:
            dialog.setMaximum(total)
            dialog.setValue(done)
            from PySide6.QtWidgets import QApplication

            QApplication.processEvents()
            return not dialog.wasCanceled()

        writer = write_gif if suffix == ".gif" else write_mp4
        try:
            if not taken:
                raise ExportError(f"{Path(path).name}: no frames were drawn (press Play "
                                  "so the training moves)")
            done = writer(taken, path, fps, tick)
        except ExportError as exc:
            _report(window, f"Export failed: {exc}")
        else:
            _status(window, f"Exported {len(taken)} frames to {Path(path).name}" if done
                    else "Animation export cancelled")
        finally:
            dialog.close()
            dialog.deleteLater()
            recorder.deleteLater()

    recorder.finished.connect(write)
    recorder.start()
    if not window.playing:
        window.play()
    return recorder


def install_export_menu(window: LabWindow) -> Any:
    """An Export menu on `window`'s menu bar, covering every export."""
    menu = window.menuBar().addMenu("E&xport")
    window.gallery_view.export_requested.connect(
        lambda run, suffix: run_history_dialog(window, run, suffix))
    plots = [k for k, v in window.views.items() if plot_item(v) is not None]
    titles = {k: view.title or k for k, view in window.views.items()}
    png = menu.addMenu("View as PNG")
    svg = menu.addMenu("View as SVG")
    for key in plots:
        png.addAction(titles[key], lambda k=key: view_png_dialog(window, k))
        svg.addAction(titles[key], lambda k=key: view_svg_dialog(window, k))
    menu.addAction("Window as PNG…", lambda: window_png_dialog(window))
    menu.addSeparator()
    for suffix, text in ((".csv", "CSV"), (".md", "Markdown"), (".tex", "LaTeX")):
        menu.addAction(f"Loss table as {text}…", lambda s=suffix: table_dialog(window, s))
    menu.addSeparator()
    for suffix, text in ((".gif", "GIF"), (".mp4", "MP4")):
        sub = menu.addMenu(f"Training animation ({text})")
        sub.addAction("Whole window…",
                      lambda s=suffix: animation_dialog(window, None, s))
        for key in plots:
            sub.addAction(f"{titles[key]}…",
                          lambda k=key, s=suffix: animation_dialog(window, k, s))
    return menu
