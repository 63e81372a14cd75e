"""What the fork server that a LocalCluster's workers are forked from does once, as it
starts (`core.sweep.WORKER_PRELOAD` imports this module there and nowhere else).

- It loads numba's cached linear kernels, so every worker starts with them instead of
  paying the load on its first linear run (measured: ~0.3 s of CPU in each process; a
  table's two workers each paid it, at the end of the run where the short linear rows
  go).
- It ends without the interpreter's teardown: the server exits when the process that
  started it has, and unloading torch, numba and Dask took it ~1 s, during which it
  still held that process's stdout and stderr open (`fnlab table | ...` and the
  benchmark waited for it; measured 0.9-1.0 s after the command had finished, 0.06 s
  now). It has nothing to flush or clean up; its workers are gone, and they exit through
  `os._exit` of their own, never through these exit handlers.
"""

import atexit
import os

from core.linear_kernels import warm

warm()
atexit.register(os._exit, 0)
