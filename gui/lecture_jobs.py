"""A lecture step's background work: the lecture's tables and the gallery's runs.

A step with "tables" trains the lecture's three tables into the loss table; a step with
"gallery" trains its config once per learning rate and replays the runs side by side.
Each runs as a `gui.background.BackgroundJob` (the maths in core/, its thread joined when
the step changes or the window closes); the controller counts the step ready only once
its job has ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from core.config import RunConfig
from core.gallery import train_runs
from core.lecture_steps import lecture_table_rows
from gui.background import BackgroundJob

if TYPE_CHECKING:
    from gui.window_api import LabWindow

JobFn = Callable[[Callable[[], bool]], Any]


class StepJob(QObject):
    """One step's job: its items go to `on_item`, a failure to the window's banner
    ("what: message"); when it has ended, `on_done` runs and `ended` is emitted. A
    stopped job does neither."""

    ended = Signal()

    def __init__(self, window: LabWindow, name: str, what: str,
                 on_item: Callable[[Any], Any], job_fn: JobFn,
                 on_done: Callable[[], Any] | None = None) -> None:
        super().__init__()
        self._fn, self._on_done = job_fn, on_done
        self._stopped = False
        self._job = BackgroundJob(name, parent=self)
        self._job.item_ready.connect(lambda _token, item: on_item(item))
        self._job.failed.connect(lambda _token, text: window.show_banner(f"{what}: {text}"))
        self._job.finished.connect(self._on_finished)

    def start(self) -> None:
        self._job.start(self._fn)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the job and join its thread; once joined, this object goes too."""
        self._stopped = True
        self._on_done = None
        if self._job.stop(timeout):
            self.deleteLater()

    def _on_finished(self, _token: int) -> None:
        if self._stopped:
            return
        after, self._on_done = self._on_done, None
        if after is not None:
            after()
        self.ended.emit()


def tables_job(window: LabWindow, dataset: str, spec: Any,
               on_done: Callable[[list[dict[str, Any]]], Any]) -> StepJob:
    """The lecture's three tables on `dataset`, trained row by row into the (emptied)
    loss table; `on_done(rows)` gets the table's rows at the end. `spec` may set
    "net_updates" (default: the tables' own budget)."""
    spec = spec if isinstance(spec, dict) else {}
    given = spec.get("net_updates")
    net_updates = None if given is None else int(given)   # None: the table's budget
    table = window.table_view
    table.clear_rows()
    return StepJob(window, "fnlab-lecture-tables", "Lecture tables", table.add_row,
                   lambda stop: lecture_table_rows(dataset, net_updates, stop),
                   lambda: on_done(table.rows()))


def gallery_job(window: LabWindow, config: RunConfig, spec: dict[str, Any]
                ) -> StepJob | None:
    """Train `config` once per learning rate of `spec["runs"]` (too small / good / too
    large) and replay the runs side by side in the gallery, synchronized by update (or
    overlay their loss curves). Runs the gallery already holds from a lecture step are
    replayed, not trained again: with nothing to train, they replay at once (None)."""
    gallery = window.gallery_view
    updates = int(spec.get("updates", 300))
    labels = {float(lr): str(label) for label, lr in spec["runs"]}
    wanted = [config.replace(lr=lr, limit_updates=updates, limit_epochs=None)
              for lr in labels]
    origin = "lecture step"
    kept = {c: run.run_id for c in wanted if (run := gallery.find(c, origin))}

    def keep(item: Any) -> None:
        cfg, snap, data = item
        run = gallery.keep(cfg, snap, data, origin=origin,
                           name=f"η {cfg.lr:g}: {labels[cfg.lr]}")
        if run is not None:
            kept[cfg] = run.run_id

    def replay() -> None:
        gallery.set_speed(int(spec.get("speed", 100)))
        gallery.show_runs([kept[c] for c in wanted if c in kept],
                          str(spec.get("mode", "side")))
        gallery.scrub_to(0)
        if spec.get("play", True):
            gallery.play()

    todo = [c.lr for c in wanted if c not in kept]
    if not todo:
        replay()
        return None
    return StepJob(window, "fnlab-lecture-gallery", "Lecture runs", keep,
                   lambda stop: train_runs(config, todo, updates, stop), replay)
