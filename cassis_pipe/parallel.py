"""Thread control for numba kernels (Snakemake does not set NUMBA_NUM_THREADS)."""

from __future__ import annotations

import numba
import numpy as np


def set_threads(threads: int | None) -> int:
    """Set numba's thread count for this process, clamped to what numba was started with.

    Returns the thread count in force.
    """
    if threads is None or threads < 1:
        return numba.get_num_threads()
    n = min(int(threads), numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n)
    return n


@numba.njit(cache=True, parallel=True)
def _touch(a: np.ndarray) -> None:
    for i in numba.prange(a.shape[0]):
        a[i] = 0.0


def python_workers() -> int:
    """How many Python worker threads may each launch numba-parallel kernels at once: numba's
    thread count, or 1 under the ``workqueue`` threading layer (not thread-safe)."""
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet in this process
        _touch(np.zeros(2))
        layer = numba.threading_layer()
    return 1 if layer == "workqueue" else max(1, numba.get_num_threads())
