"""Run the suite with the thread settings the product uses (one BLAS/OpenMP thread).

`fnlab` sets these before numpy and torch load; tests import them directly, so set them
here, first. On two shared cores, extra math threads only fight the GUI and each other.
"""

from core.runtime import use_engine_threads

use_engine_threads()
