"""The app while it trains: frame time, GUI event-loop lateness, training speed in the app.

One offscreen window per model, trained at full speed as in a lecture:

- frame time: the window's own ~30 fps frame: the newest snapshot drawn into each view,
  then the status line, a piece at a time, each piece painted and flushed to the window as
  it is drawn (the scenes' dirty items, layouts, the window's update request) and the
  event loop let in between (`MainWindow._draw_piece`); a frame's time is the sum of its
  pieces', the GUI thread's work for it; target: median under 8 ms.
  Each live view (surface, fit, series, loss) must be painted about once per timed frame
  (at least 0.95 paints a frame on average) or the run stops with an error, so no paint
  escapes the clock; the table, changed only when a row is added, is painted when it
  changes, as in the app. The note splits the median frame's wall time (Linux) into the
  GUI thread's time on a core, its wait for a core (the machine's load) and its wait
  for the GIL or anything else, so a missed target reads as the frame's own work or not.
- lateness: a 5 ms precise QTimer in the GUI thread; how late each tick comes (its gap
  minus 5 ms) shows how long the GUI thread could not answer; target: p95 under 5 ms.
- training speed: updates per second in the app against the same Trainer run headless in
  this process, half before and half after the app's run, with the same thread and memory
  settings (one torch / BLAS thread, freed memory kept for reuse, as the app's worker);
  floor: 90%. The note splits the training thread's wall time (Linux) in the app and
  headless into its time on a core, its wait for a core and its wait for the GIL or else:
  on 2 cores a busy machine takes the app's training thread a core the headless run had
  (the GUI thread needs the other), so a missed floor reads as the app's own work or the
  machine's load.

Everything is measured in this run; the machine's load line tells how noisy it was.
"""

from __future__ import annotations

# Before numpy's import: OpenBLAS reads its thread count once, when it loads.
from core.runtime import THREADS, use_engine_threads

use_engine_threads()

import gc  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402

from gui.offscreen import size_offscreen_screen  # noqa: E402

size_offscreen_screen()   # offscreen, on a 1920 x 1080 screen (Qt's own is 800 x 600)

import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QObject  # noqa: E402

from bench import Result, use_scratch_settings  # noqa: E402
from bench.reference import pace_ms  # noqa: E402
from core.config import RunConfig  # noqa: E402

FRAME_LIMIT_MS = 8.0
LATENESS_LIMIT_MS = 5.0
SPEED_FLOOR = 0.9
TICK_MS = 5
PLAY_SECONDS = 5.0         # per model, in the app
HEADLESS_SECONDS = 2.5     # per model, headless
# Rounds of (headless, in the app, headless again) per model; the training-speed ratio is
# the median round's, the frame and lateness figures pool every round's. One pair is a
# lottery on a shared machine: with nothing else running, the same bare 3 x 100 ReLU
# trainer measured 329-490 updates a second from one 2.5 s run to the next (2-core Intel
# Xeon, load ~0.9), so a single pair's ratio moved by as much as the 0.9 floor's margin.
# The headless baseline brackets the app's run (half before, half after, `bracketed`): a
# machine whose pace drifts during a round (a 1M-step Python loop 35 ms before one round
# and 63 ms before the next, the 2-core AMD EPYC) then biases neither side.
ROUNDS = 3

LINEAR = RunConfig(dataset="channel", days=1, model="linear", loss="mae", optimizer="gd",
                   lr=0.05, init=(0.0, 0.0))
RELU = RunConfig(dataset="channel", days=56, model="relu", units=100, layers=3, loss="mae",
                 optimizer="adam", lr=0.003)
# (label, config, kind of slice on the error surface): the third case keeps a network's
# filter-normalized loss landscape (issue 12) recomputed live in the slice thread while the
# frames are timed, so its cost to the GUI is measured, not assumed.
CASES = (("linear 1 day", LINEAR, None), ("ReLU 3 x 100, 56 days", RELU, None),
         ("ReLU 3 x 100, live landscape", RELU, "random"))
LIVE_VIEWS = ("surface", "fit", "series", "loss")   # change every frame while training


def headless_rate(config: RunConfig, seconds: float
                  ) -> tuple[float, tuple[float, float] | None]:
    """Updates per second of a bare Trainer, with the worker's torch thread count and
    memory setting (freed memory kept for reuse: the baseline gets what the app gets),
    and the shares of its wall time on a core and waiting for one (`_shares`)."""
    import torch

    from core.engine import Trainer
    from core.runtime import tune_training_thread

    before = torch.get_num_threads()
    tune_training_thread()
    try:
        trainer = Trainer(config.replace(limit_updates=None, limit_epochs=None))
        trainer.run(20)
        n, t0, s0 = 0, time.perf_counter(), _thread_schedule()
        chunk = 16
        while (elapsed := time.perf_counter() - t0) < seconds:
            trainer.run(chunk)
            n += chunk
            if elapsed < 0.05:
                chunk = min(chunk * 2, 4096)
        wall = time.perf_counter() - t0
        return n / wall, _shares(s0, _thread_schedule(), wall)
    finally:
        torch.set_num_threads(before)


def bracketed(before: tuple[float, tuple[float, float] | None],
              after: tuple[float, tuple[float, float] | None]
              ) -> tuple[float, tuple[float, float] | None]:
    """The headless baseline of a round from its runs before and after the app's: the
    mean rate (the two runs are equally long) and the mean shares (`_shares`)."""
    rate = (before[0] + after[0]) / 2
    a, b = before[1], after[1]
    if a is None or b is None:
        return rate, None
    return rate, ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else 0.0


def in_app(config: RunConfig, seconds: float, kind: str | None = None
           ) -> dict[str, list[float] | float]:
    """Play `config` in an offscreen window for `seconds`; frame times, tick lateness and
    updates per second, all from the same stretch of training. With `kind`, the error
    surface shows that kind of loss landscape, recomputed live as the run moves."""
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from core.runtime import settle_garbage_collector
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    use_scratch_settings()
    win = MainWindow(config.replace(limit_updates=None, limit_epochs=None), theme="dark",
                     persist=False, speed=None)
    win.resize(1600, 1000)
    win.show()
    _wait(app, lambda: win.run_info is not None, 30.0)
    settle_garbage_collector()           # as `fnlab` does once its window is up
    recomputes = [0]
    if kind is not None:
        surface = win.surface_view
        surface.choose_kind(kind)
        start = surface._start_landscape

        def counted(snap: object) -> None:
            recomputes[0] += 1
            start(snap)

        surface._start_landscape = counted   # type: ignore[method-assign]
    paints = _PaintCounter()
    for key in LIVE_VIEWS:
        win.views[key]._plots[0].viewport().installEventFilter(paints)

    frames: list[float] = []
    spent: list[tuple[float, float]] = []   # per frame: (on a core, waiting for one), ms
    drawn_at: list[tuple[float, float]] = []   # per frame: (start, end), perf_counter s

    # A frame is drawn in pieces (a view each, then the status line), each painted at once
    # and the event loop let in between (`MainWindow._draw_piece`): its time is the sum of
    # its pieces', from the frame timer's call (which draws the first) to the last piece.
    so_far = [0.0, 0.0, 0.0]   # the frame being drawn: wall s, on a core s, waiting s
    finished = [0]             # frames drawn to their last piece
    win.frame_drawn.connect(lambda _snap: finished.__setitem__(0, finished[0] + 1))

    def timed(step: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            t0, s0 = time.perf_counter(), _thread_schedule()
            drawing, done = win._frame is not None, finished[0]
            step()
            t1, s1 = time.perf_counter(), _thread_schedule()
            if not drawing and win._frame is None and finished[0] == done:
                return                            # a frame timer tick with nothing new
            drawn_at.append((t0, t1))
            so_far[0] += t1 - t0
            if s0 is not None and s1 is not None:
                so_far[1] += s1[0] - s0[0]
                so_far[2] += s1[1] - s0[1]
            if win._frame is None:                # its last piece is drawn
                frames.append(1e3 * so_far[0])
                spent.append((so_far[1], so_far[2]))
                so_far[:] = [0.0, 0.0, 0.0]
        return run

    piece = win._draw_piece
    win._timer.timeout.disconnect(win._draw_frame)
    win._timer.timeout.connect(timed(win._draw_frame))
    win._soon.timeout.disconnect(win._draw_frame)      # a snapshot drawn as it comes
    win._soon.timeout.connect(timed(win._draw_frame))
    win._piece_timer.timeout.disconnect(piece)
    win._piece_timer.timeout.connect(timed(piece))

    ticks: list[float] = []
    ticked_at: list[float] = []   # the same ticks, perf_counter s (set against the frames)
    clock = QElapsedTimer()
    tick = QTimer()
    tick.setTimerType(Qt.TimerType.PreciseTimer)
    tick.setInterval(TICK_MS)
    tick.timeout.connect(lambda: (ticks.append(clock.nsecsElapsed() / 1e6),
                                  ticked_at.append(time.perf_counter())))

    win.play()
    _wait(app, lambda: win.latest is not None and win.latest.update > 0 and win.playing, 10.0)
    _spin(app, 0.5)                      # past the first, slower frames
    frames.clear()
    spent.clear()
    drawn_at.clear()
    paints.seen.clear()
    u0, t0 = win.latest.update, time.perf_counter()
    recomputes[0] = 0
    training = _training_task()
    w0 = _thread_schedule(training) if training else None
    clock.start()
    tick.start()
    _spin(app, seconds)
    tick.stop()
    u1, t1 = win.latest.update, time.perf_counter()
    worker = _shares(w0, _thread_schedule(training) if training else None, t1 - t0)
    playing = win.playing
    win.close()
    app.processEvents()
    gc.unfreeze()
    late = [max(0.0, b - a - TICK_MS) for a, b in itertools.pairwise(ticks)]
    painted = {key: paints.count(win.views[key]) / max(len(frames), 1) for key in LIVE_VIEWS}
    # A landscape is drawn when its slice thread delivers it, not every frame: its paints
    # are counted (the note says how many), not required.
    required = [key for key in LIVE_VIEWS if kind is None or key != "surface"]
    missed = [key for key in required if painted[key] < 0.95]
    if missed:
        raise RuntimeError(f"{', '.join(missed)} not painted in every timed frame "
                           f"({painted}): the frame time would miss their paint")
    return {"frames": frames, "spent": spent, "late": late, "rate": (u1 - u0) / (t1 - t0),
            "late_in_frames": _late_in_frames(late, ticked_at[1:], drawn_at),
            "playing": float(playing), "recomputes": float(recomputes[0]),
            "surface_paints": painted["surface"], "worker": worker}


def _thread_schedule(task: str = "thread-self") -> tuple[float, float] | None:
    """(ms on a core, ms runnable but waiting for one) of the calling thread so far (or of
    `task`, "self/task/<id>"), from Linux's scheduler statistics; None elsewhere.

    A frame's wall time is its time on a core, its wait for a core (the machine's other
    work: on 2 cores, other processes and this one's training thread) and its wait for
    the GIL or anything else; the note splits the median frame so, which says whether a
    missed frame target is the frame's own work or the machine's load.
    """
    try:
        with open(f"/proc/{task}/schedstat", encoding="ascii") as f:
            on_cpu, waiting, _ = f.read().split()
    except (OSError, ValueError):
        return None
    return int(on_cpu) / 1e6, int(waiting) / 1e6


def _training_task() -> str | None:
    """The app's training thread as "self/task/<id>", found by the name its QThread
    gives it (gui.worker's WorkerHandle); None off Linux or if it is not running."""
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/comm", encoding="utf-8") as f:
                if f.read().strip() == "fnlab-training":
                    return f"self/task/{tid}"
    except OSError:
        return None
    return None


def _shares(s0: tuple[float, float] | None, s1: tuple[float, float] | None, wall: float
            ) -> tuple[float, float] | None:
    """(share of `wall` seconds on a core, share waiting for one) between two
    `_thread_schedule` readings, or None without them."""
    if s0 is None or s1 is None or wall <= 0:
        return None
    return (s1[0] - s0[0]) / 1e3 / wall, (s1[1] - s0[1]) / 1e3 / wall


def _shares_note(app: tuple[float, float] | None, headless: tuple[float, float] | None,
                 app_rate: float, headless_rate: float) -> str:
    """'; the training thread on a core / waiting for a core / for the GIL or else: in
    the app a / b / c %, headless d / e / f %; its CPU time an update, headless / in the
    app r' (the ratio the app would reach with a core to itself and no GIL waits: its own
    work besides the updates, and their slowing by the GUI thread), or '' without the
    statistics."""
    if app is None or headless is None or app[0] <= 0 or app_rate <= 0:
        return ""
    cpu = (headless[0] / headless_rate) / (app[0] / app_rate)

    def split(on: float, waiting: float) -> str:
        return f"{100 * on:.0f} / {100 * waiting:.0f} / {100 * max(1 - on - waiting, 0):.0f} %"

    return (f"; the training thread on a core / waiting for a core / for the GIL or else: "
            f"in the app {split(*app)}, headless {split(*headless)}; its CPU time an "
            f"update, headless / in the app {cpu:.2f}")


def _late_in_frames(late: list[float], ticked_at: list[float],
                    drawn_at: list[tuple[float, float]]) -> tuple[int, int]:
    """(ticks later than LATENESS_LIMIT_MS, how many of them were kept waiting by a timed
    frame): a tick is the frame's when a frame's span covers at least 30% of the time the
    tick waited. The rest waited for other work of the GUI thread, for a core or the GIL.
    Says whether a missed lateness target is the frames' length or something else."""
    starts = np.array([a for a, _ in drawn_at])
    ends = np.array([b for _, b in drawn_at])
    over = in_frames = 0
    for wait, at in zip(late, ticked_at, strict=True):
        if wait <= LATENESS_LIMIT_MS:
            continue
        over += 1
        due = at - wait / 1e3
        overlap = np.minimum(ends, at) - np.maximum(starts, due)
        in_frames += bool(len(overlap) and overlap.max() >= 0.3 * (at - due))
    return over, in_frames


def _split_note(frames: list[float], spent: list[tuple[float, float]]) -> str:
    """'the GUI thread on a core a ms, waiting for a core b ms, for the GIL or else c ms'
    (medians per frame), or '' without the scheduler's statistics."""
    if len(spent) != len(frames) or not spent:
        return ""
    cpu = statistics.median(c for c, _ in spent)
    queue = statistics.median(q for _, q in spent)
    other = statistics.median(f - c - q for f, (c, q) in zip(frames, spent, strict=True))
    return (f"; a frame's GUI thread (medians): on a core {cpu:.1f} ms, waiting for a core "
            f"{queue:.1f} ms, for the GIL or else {max(other, 0.0):.1f} ms")


class _PaintCounter(QObject):
    """Counts paint events of the plots' viewports (is every view painted per frame?)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[int, int] = {}

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.seen[id(obj)] = self.seen.get(id(obj), 0) + 1
        return False

    def count(self, view: object) -> int:
        """Paints of the view's main plot."""
        return self.seen.get(id(view._plots[0].viewport()), 0)


def _spin(app: object, seconds: float) -> None:
    """Run Qt's event loop for `seconds` as `app.exec()` does: asleep until an event comes.

    (A Python loop of processEvents and short sleeps woke the GUI thread 2,000 times a
    second, each time taking the GIL from the training thread: a cost the app has not.)
    """
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


def _wait(app: object, done: Callable[[], bool], timeout: float) -> None:
    end = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.002)


def _late_note(counts: tuple[int, int]) -> str:
    """'; n ticks (p %) later than 5 ms, q % of them while a frame was drawn'."""
    over, in_frames = counts
    if not over:
        return ""
    return (f"; late by over {LATENESS_LIMIT_MS:g} ms: {over} ticks, "
            f"{100 * in_frames / over:.0f} % of them while a frame was drawn")


def main() -> Iterator[Result]:
    import torch

    print(f"   threads: BLAS/OpenMP {THREADS}, torch in the worker 1 "
          f"(this process {torch.get_num_threads()}); {PLAY_SECONDS:g} s of play per model",
          flush=True)
    for label, config, kind in CASES:
        rounds = []
        paces = []     # the machine's pace before each round (`bench.reference.pace_ms`)
        for _ in range(ROUNDS):
            paces.append(min(pace_ms(3)))
            before = headless_rate(config, HEADLESS_SECONDS / 2)
            got = in_app(config, PLAY_SECONDS, kind)
            base, base_shares = bracketed(before, headless_rate(config, HEADLESS_SECONDS / 2))
            rounds.append((base, base_shares, got))
        ratios = [got["rate"] / base for base, _, got in rounds]
        base, base_shares, got = rounds[ratios.index(statistics.median_low(ratios))]
        frames = [f for _, _, g in rounds for f in g["frames"]]
        spent = [s for _, _, g in rounds for s in g["spent"]]
        late = [t for _, _, g in rounds for t in g["late"]]
        late_in = tuple(sum(g["late_in_frames"][i] for _, _, g in rounds) for i in (0, 1))
        note = "" if all(g["playing"] for _, _, g in rounds) else "run stopped early"
        if kind is not None:
            note = "; ".join(x for x in (note, f"{got['recomputes']:.0f} landscape "
                                          "recomputes started while timed, surface painted "
                                          f"{got['surface_paints']:.2f} a frame") if x)
        med, p95 = statistics.median(frames), percentile(frames, 95)
        pooled = (f", {ROUNDS} rounds of {PLAY_SECONDS:g} s pooled (the machine's pace "
                  f"before each: Python 1M-step loop {' / '.join(f'{p:.0f}' for p in paces)}"
                  " ms)")
        yield Result(f"gui frame, median ({label})", med, unit="ms", limit=FRAME_LIMIT_MS,
                     note=f"p95 {p95:.1f} ms, max {max(frames):.1f} ms, "
                          f"{len(frames)} frames{pooled}, 5 views shown, 4 live ones painted"
                          + _split_note(frames, spent))
        yield Result(f"gui frame, p95 ({label})", p95, unit="ms")
        yield Result(f"gui tick lateness, p95 ({label})", percentile(late, 95), unit="ms",
                     limit=LATENESS_LIMIT_MS,
                     note=f"median {percentile(late, 50):.2f} ms, max {max(late):.1f} ms, "
                          f"{len(late)} ticks of {TICK_MS} ms{pooled}" + _late_note(late_in))
        yield Result(f"gui training speed ({label})", got["rate"], baseline=base,
                     unit="updates/s", floor=SPEED_FLOOR,
                     note=(f"the median of {ROUNDS} rounds (pace as above), each in the "
                           "app between two headless halves "
                           f"(ratios {', '.join(f'{r:.2f}' for r in ratios)}); "
                           "in the app vs headless Trainer, 1 torch thread each"
                           + _shares_note(got["worker"], base_shares, got["rate"], base)
                           + (f"; {note}" if note else "")))
