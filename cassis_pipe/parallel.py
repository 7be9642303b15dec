"""Thread control for numba kernels (Snakemake does not set NUMBA_NUM_THREADS)."""

from __future__ import annotations

import numba


def set_threads(threads: int | None) -> int:
    """Set numba's thread count for this process, clamped to what numba was started with.

    Returns the thread count in force.
    """
    if threads is None or threads < 1:
        return numba.get_num_threads()
    n = min(int(threads), numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(n)
    return n
