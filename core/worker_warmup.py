"""Imported once by the fork server that a LocalCluster's workers are forked from
(`core.sweep.WORKER_PRELOAD`): loads numba's cached linear kernels there, so every worker
starts with them instead of paying the load on its first linear run (measured: ~0.3 s of
CPU in each process; a table's two workers each paid it, at the end of the run where the
short linear rows go)."""

from core.linear_kernels import warm

warm()
