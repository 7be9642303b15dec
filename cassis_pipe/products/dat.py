"""Raw little-endian image arrays (``.dat``): uint16 DN (level 0) and float32 I/F (level 1+).

The file is the array in C order (lines, then samples fastest) with no header, so a
``lines x samples`` product is exactly ``lines * samples * itemsize`` bytes. The bytes depend only
on the array values, so writing is deterministic.
"""

from __future__ import annotations

import os
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


def from_dat_bytes(buf: bytes, shape: tuple[int, int], dtype: np.dtype | str) -> np.ndarray:
    """Array of ``shape`` (lines, samples) in native byte order from DAT bytes."""
    d = dat_dtype(dtype)
    lines, samples = (int(shape[0]), int(shape[1]))
    if lines < 0 or samples < 0:
        raise ProductError(f"negative DAT shape {shape}")
    need = lines * samples * d.itemsize
    if len(buf) != need:
        raise ProductError(
            f"DAT size {len(buf)} bytes does not match {lines} x {samples} x {d.itemsize} = {need}"
        )
    return np.frombuffer(buf, dtype=d).reshape(lines, samples).astype(d.newbyteorder("="))


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


def read_dat(path: str | Path, shape: tuple[int, int], dtype: np.dtype | str) -> np.ndarray:
    """Read a DAT file written by :func:`write_dat` (shape and dtype come from its label)
    into a new writable native-order array (read straight into the array, no copy)."""
    d = dat_dtype(dtype)
    lines, samples = (int(shape[0]), int(shape[1]))
    if lines < 0 or samples < 0:
        raise ProductError(f"negative DAT shape {shape}")
    need = lines * samples * d.itemsize
    try:
        size = os.path.getsize(path)
        if size != need:
            raise ProductError(f"DAT size {size} bytes does not match {lines} x {samples} x "
                               f"{d.itemsize} = {need}")
        arr = np.fromfile(path, dtype=d, count=lines * samples)
    except OSError as exc:
        raise ProductError(f"cannot read DAT {path}: {exc}") from exc
    return arr.reshape(lines, samples).astype(d.newbyteorder("="), copy=False)
