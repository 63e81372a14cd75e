"""Run many independent training runs at once on Dask (`dask.distributed`).

`run_map(fn, tasks)` calls a picklable top-level `fn(task, *shared)` for every task on a
Dask cluster and hands back each result as it completes. By default it starts a
`LocalCluster` on this machine: one single-threaded worker process per core (a training
run is one Python thread; two runs in one process would share its GIL). With
`scheduler="tcp://HOST:8786"` the same tasks go to an existing Dask cluster (`dask
scheduler` / `dask worker`, or dask-jobqueue on SLURM); nothing here is a scheduler,
socket or process pool of our own.

What the caller can count on:
- results arrive through `on_result(index, result)` in the calling thread, in completion
  order; `run_map` returns them all by index;
- `should_stop()` is polled several times a second: when it turns true (or on Ctrl-C)
  the unfinished tasks are cancelled and what finished is returned (`cancelled=True`);
- a worker process that dies mid-task is replaced and its tasks rescheduled by Dask;
- a scheduler that does not answer is a one-line `SweepError` within CONNECT_SECONDS;
- the cluster this module started is always closed, its worker processes ended.

Worker processes are forked from a multiprocessing fork server that has already imported
the engine (numpy, numba's cached kernels, torch), so a worker starts training at once
instead of importing for seconds first. The fork server stays for the next sweep of this
process (the app's second sweep starts in well under a second) and ends with it.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from core.config import one_line
from core.runtime import KEEP_FREED_BYTES

CONNECT_SECONDS = 5      # an external scheduler must answer within this (one-line error)
POLL_SECONDS = 0.05      # how often the waiting loop looks at should_stop()
CLOSE_SECONDS = 5        # a worker still busy at close is killed after this
# Imported once in the fork server; every worker forked from it has them ready.
WORKER_PRELOAD = ("numpy", "torch", "core.engine", "core.net_engine", "core.linear_kernels",
                  "core.fork_server", "core.experiments", "core.sweep")

# The workers' allocator (glibc reads it at a program's start; see _start_fork_server):
# one memory arena for every thread, and freed memory kept for reuse as keep_freed_memory
# keeps it (Dask's own default asks for the opposite, trimming above 64 kB).
WORKER_MALLOC = {"MALLOC_ARENA_MAX": "1", "MALLOC_TRIM_THRESHOLD_": str(KEEP_FREED_BYTES)}

_tuned = False


class SweepError(Exception):
    """A one-line message for the user (unreachable scheduler, a task that failed)."""


@dataclass
class MapOutcome:
    """The results that finished, by task index, and whether the run was cut short."""

    results: dict[int, Any] = field(default_factory=dict)
    cancelled: bool = False
    workers: int = 0
    seconds: float = 0.0


def default_workers() -> int:
    """One worker process per core."""
    return max(1, os.cpu_count() or 1)


def tune_worker() -> None:
    """The app's process tuning, once per worker process (LocalCluster or a department's
    workers alike): one BLAS / torch thread per run and glibc's keep-freed-memory."""
    global _tuned
    if _tuned:
        return
    from core.runtime import tune_training_thread, use_engine_threads

    use_engine_threads()   # for anything the task starts later (numpy is loaded by now)
    tune_training_thread()
    _tuned = True


def dask_setup(worker: Any) -> None:
    """Dask's preload hook, run in each LocalCluster worker's main thread as it starts.

    A terminal's Ctrl-C goes to the whole process group, workers included; only the
    process that owns the cluster acts on it (cancels, prints what finished, closes the
    cluster), so a worker ignores it rather than dying mid-run with a traceback.

    A worker also keeps distributed's logging off the terminal (CRITICAL only): closing
    the cluster while a worker's heartbeat is on its way makes distributed log that
    heartbeat's failure with a traceback, and it reached a Ctrl-C'd `fnlab sweep` once in
    CI. LocalCluster's `silence_logs` does not reach that logger in the worker process. A
    task's own error still comes back through its future, as one line."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def call_task(fn: Callable[..., Any], task: Any, *shared: Any) -> Any:
    """What a worker runs for one task: tune the process, then `fn(task, *shared)`."""
    tune_worker()
    return fn(task, *shared)


def check_address(address: str) -> str:
    """A scheduler address must be [tcp://]HOST:PORT; anything else is refused at once
    (distributed would try it for its whole timeout and then warn from a destructor)."""
    match = re.fullmatch(r"(?:(tcp|tls)://)?(\[[0-9a-fA-F:]+\]|[\w.-]+):(\d{1,5})",
                         address.strip())
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise SweepError(f"the scheduler address must look like tcp://HOST:8786, "
                         f"got {address!r}")
    return address.strip()


async def _probe(address: str) -> None:
    """Ask the scheduler who it is, all within CONNECT_SECONDS: distributed's Client waits
    forever for a server that accepts the connection and never answers."""
    from distributed.comm import connect
    from distributed.core import send_recv

    async def ask() -> None:
        comm = await connect(address, timeout=CONNECT_SECONDS)
        try:
            await send_recv(comm, op="identity")
        finally:
            comm.abort()

    import asyncio

    await asyncio.wait_for(ask(), CONNECT_SECONDS)


def _identity(value: Any) -> Any:
    return value


def _configure_local_workers() -> None:
    """Start worker processes from a fork server that has imported the engine.

    Measured on 2 busy cores: a spawned worker took ~10 s from `LocalCluster()` to its first
    training update (each worker imports distributed, numpy, numba and torch itself) and
    often ~4 s to close; from the preloaded fork server the same took ~7 s once per
    process and ~0.1 s for the first update, ~0.15 s to close.
    """
    _start_fork_server()     # first: it imports the engine while this process imports Dask
    import dask
    from distributed.utils import get_mp_context

    dask.config.set({
        "distributed.worker.multiprocessing-method": "forkserver",
        # The workers' statistical profiler samples every thread's stack every 10 ms while
        # holding the GIL that a network's training needs; nobody reads it here.
        "distributed.worker.profile.enabled": False,
        # One task per single-threaded worker at a time: the next cell goes to whichever
        # worker frees up first, instead of queueing behind a long one.
        "distributed.scheduler.worker-saturation": 1.0,
        # Each worker runs this module's dask_setup as it starts.
        "distributed.worker.preload": ["core.sweep"],
        # Nothing written into this process's environment for the workers: the fork server
        # they come from has its own (`_start_fork_server`).
        "distributed.nanny.pre-spawn-environ": {},
    })
    get_mp_context()         # distributed's own bookkeeping (the server already runs)


def _start_fork_server() -> None:
    """Start the fork server (once per process) with WORKER_MALLOC in its environment.

    glibc reads these only when a program starts, so they must be in the fork server's
    environment; its forked workers inherit the allocator as it was set up. A worker's
    task runs in a thread of Dask's pool, which glibc gives a memory arena of its own, and
    `keep_freed_memory`'s mallopt from that thread did not stop it returning freed memory
    to the system and faulting it in again: measured on 2 cores, the 1,000 ReLU row took
    1.7 million page faults and 10.4 s of CPU in a worker (with Dask's trim threshold of
    64 kB) against 13,000 and 6.5 s on a main thread; 20 of its updates took 25,000-
    55,000 faults with no setting, 1-1,400 with the trim threshold set at start, 1-120
    with one arena or both. Both are set. The fork server is started here rather than
    through Dask's `pre-spawn-environ`, which would write the variables into this
    process's own environment (and every program it starts later) for good."""
    import multiprocessing.forkserver as forkserver

    if getattr(forkserver._forkserver, "_forkserver_pid", None) is not None:
        return
    # distributed first (it brings dask, tornado, msgpack, cloudpickle, toolz: what its
    # own preload list names), then the engine. Started before this process imports Dask
    # (~0.3 s), which it does meanwhile on the other core.
    forkserver.set_forkserver_preload(["distributed", *WORKER_PRELOAD])
    saved = {k: os.environ.get(k) for k in WORKER_MALLOC}
    os.environ.update(WORKER_MALLOC)
    try:
        forkserver.ensure_running()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def prepare_local_workers() -> None:
    """Start what a LocalCluster's workers are forked from, now and in the background.

    A command that will train on this machine calls this first: the fork server imports
    the engine (~2 s of torch, numba, numpy) on the second core while this process is
    still importing its own, instead of after it. Idempotent; `dask_client` calls it too.
    """
    from core.runtime import use_engine_threads

    use_engine_threads()     # the fork server and its workers inherit the environment
    _configure_local_workers()


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None):  # type: ignore[no-untyped-def]
    """A connected `distributed.Client`: to `scheduler`, or to a new LocalCluster of
    `workers` single-threaded processes (default one per core) that is closed on exit."""
    from distributed import Client, LocalCluster

    if scheduler:
        address = check_address(scheduler)
        try:
            import asyncio  # here, not at the top: 7 MB that `fnlab train` never needs

            asyncio.run(_probe(address))
            client = Client(address, timeout=f"{CONNECT_SECONDS}s", set_as_default=False)
        except Exception as exc:
            why = "no answer" if isinstance(exc, TimeoutError) else one_line(exc)
            raise SweepError(f"no Dask scheduler answers at {address} within "
                             f"{CONNECT_SECONDS} s ({why})") from None
        try:
            yield client
        finally:
            client.close(timeout=CLOSE_SECONDS)
        return
    prepare_local_workers()
    n = workers or default_workers()
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR,
                           scheduler_port=0, host="127.0.0.1",
                           # no dashboard; its health/metrics server on any free port
                           # (not 8787, which a second cluster or another app may hold)
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close(timeout=CLOSE_SECONDS)
    finally:
        cluster.close(timeout=CLOSE_SECONDS)


def run_map(fn: Callable[..., Any], tasks: Sequence[Any], *, shared: Sequence[Any] = (),
            scheduler: str | None = None, workers: int | None = None,
            on_result: Callable[[int, Any], None] | None = None,
            should_stop: Callable[[], bool] | None = None,
            priorities: Sequence[float] | None = None,
            client: Any = None) -> MapOutcome:
    """Call `fn(tasks[i], *shared)` for every i on Dask; see the module docstring.

    `shared` values (a data series, say) go to the cluster once, not once per task.
    `priorities` (bigger first) let the longest tasks start first, so the last task to
    finish is a short one. `client` reuses an open `dask_client()` instead of starting one.
    """
    if client is None:
        with dask_client(scheduler, workers) as own:
            return run_map(fn, tasks, shared=shared, on_result=on_result,
                           should_stop=should_stop, priorities=priorities, client=own)
    outcome = MapOutcome()
    for i, result in iter_map(fn, tasks, client, shared=shared, should_stop=should_stop,
                              priorities=priorities, outcome=outcome):
        if on_result is not None:
            on_result(i, result)
    return outcome


def iter_map(fn: Callable[..., Any], tasks: Sequence[Any], client: Any, *,
             shared: Sequence[Any] = (), should_stop: Callable[[], bool] | None = None,
             priorities: Sequence[float] | None = None,
             outcome: MapOutcome | None = None) -> Iterator[tuple[int, Any]]:
    """`run_map` as a generator on an open client: yields (index, result) as tasks
    complete and fills `outcome` (results, cancelled). Closing the generator early (or
    `should_stop()`, or Ctrl-C) cancels the tasks not finished."""
    from distributed import as_completed

    outcome = outcome if outcome is not None else MapOutcome()
    start = time.perf_counter()
    outcome.workers = len(client.scheduler_info().get("workers", {}))
    tag = uuid.uuid4().hex[:8]
    # As computed tasks (not scattered data), the shared values can be recomputed from the
    # scheduler's copy if every worker holding them dies.
    held = [client.submit(_identity, value, key=f"shared-{k}-{tag}", pure=False)
            for k, value in enumerate(shared)]
    # One graph, in priority order (bigger first): Dask queues a large group of tasks on
    # the scheduler and hands each free worker the first in line. Submitted one call at a
    # time, the first few went to workers before the rest arrived, whatever their
    # priority (measured: the 10 and 100 ReLU rows started first and the 1,000 ReLU row
    # ran on alone at the end).
    order = sorted(range(len(tasks)), key=lambda i: -priorities[i]) if priorities else \
        list(range(len(tasks)))
    futures = client.map(functools.partial(call_task, fn), [tasks[i] for i in order],
                         *([h] * len(order) for h in held),
                         key=[f"task-{i}-{tag}" for i in order], pure=False)
    index = {f.key: i for i, f in zip(order, futures, strict=True)}
    queue = as_completed(futures, loop=client.loop, with_results=False)
    interrupted = threading.Event()
    previous = _catch_ctrl_c(interrupted)
    try:
        while not queue.is_empty():
            if interrupted.is_set() or (should_stop is not None and should_stop()):
                outcome.cancelled = True
                break
            batch = queue.next_batch(block=False)
            if not batch:
                time.sleep(POLL_SECONDS)
                continue
            for fut in batch:
                if fut.status != "finished":
                    exc = fut.exception() or RuntimeError(fut.status)
                    raise SweepError(f"a task failed: {one_line(exc)}")
                i = index[fut.key]
                outcome.results[i] = fut.result()
                yield i, outcome.results[i]
    except KeyboardInterrupt:
        outcome.cancelled = True
    except GeneratorExit:
        outcome.cancelled = True
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        unfinished = [f for f in futures if f.status not in ("finished", "error")]
        if unfinished:
            client.cancel(unfinished, force=True)
        client.cancel(held, force=True)
        outcome.seconds = time.perf_counter() - start


def _catch_ctrl_c(flag: threading.Event) -> Any:
    """In the main thread, make Ctrl-C set `flag` (the waiting loop then cancels and
    returns what finished) instead of raising KeyboardInterrupt wherever the main thread
    is, which can be inside distributed's own waiting and leave it hanging; a second Ctrl-C
    raises as usual. Returns the handler to restore, or None off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGINT)

    def on_ctrl_c(_signum: int, _frame: Any) -> None:
        flag.set()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, on_ctrl_c)
    return previous
