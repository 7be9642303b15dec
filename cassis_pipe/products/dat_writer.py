"""Raw little-endian image arrays (``.dat``): uint16 DN (level 0) and float32 I/F (level 1+).

The file is the array in C order (lines, then samples fastest) with no header, so a
``lines x samples`` product is exactly ``lines * samples * itemsize`` bytes. The bytes depend only
on the array values, so writing is deterministic. Reading is
:func:`cassis_pipe.labels.dat.read_dat` (the one DAT reader, driven by the label).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cassis_pipe.products.errors import ProductError

#: On-disk dtype for each accepted in-memory dtype (always little-endian).
DAT_DTYPES: dict[str, np.dtype] = {
    "uint16": np.dtype("<u2"),
    "float32": np.dtype("<f4"),
}


def dat_dtype(dtype: np.dtype | str) -> np.dtype:
    """Little-endian on-disk dtype for ``dtype`` (uint16 or float32, any byte order)."""
    d = np.dtype(dtype)
    key = d.newbyteorder("=").name
    if key not in DAT_DTYPES:
        raise ProductError(f"DAT arrays must be uint16 or float32, not {d}")
    return DAT_DTYPES[key]


def to_dat_bytes(array: np.ndarray) -> bytes:
    """Bytes of a 2-D uint16/float32 array as stored in a DAT file."""
    a = np.asarray(array)
    if a.ndim != 2:
        raise ProductError(f"DAT arrays must be 2-D (lines, samples), got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=dat_dtype(a.dtype)).tobytes()


def write_dat(path: str | Path, array: np.ndarray) -> int:
    """Write ``array`` as a DAT file; returns the number of bytes written. A C-contiguous
    array already in the on-disk dtype is written straight from its buffer (no copy)."""
    a = np.asarray(array)
    if a.ndim != 2:
        raise ProductError(f"DAT arrays must be 2-D (lines, samples), got shape {a.shape}")
    a = np.ascontiguousarray(a, dtype=dat_dtype(a.dtype))
    with Path(path).open("wb") as fh:
        fh.write(memoryview(a).cast("B"))
    return a.nbytes
