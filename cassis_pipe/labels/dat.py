"""Read the binary DAT/IMG array a label describes into a native-endian numpy array."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cassis_pipe.labels.arrays import ArrayGeometry
from cassis_pipe.labels.bern import FrameletLabel
from cassis_pipe.labels.pds4 import Pds4Label
from cassis_pipe.labels.xmlsafe import LabelError

AnyLabel = FrameletLabel | Pds4Label | ArrayGeometry


def _geometry(label: AnyLabel, source: str) -> ArrayGeometry:
    geom = label if isinstance(label, ArrayGeometry) else label.array
    if geom is None:
        raise LabelError(source, "label has no array description")
    return geom


def read_dat(path: str | Path, label: AnyLabel, *, apply_scaling: bool = True) -> np.ndarray:
    """Read the array at ``path`` laid out as ``label`` says (type, byte order, shape, offset).

    Returns a C-contiguous native-endian array of shape ``label.array.shape`` (lines, samples
    for images). The file must hold exactly ``offset + n_bytes`` bytes; any other size (short,
    truncated or padded file) is a :class:`LabelError`. With ``apply_scaling`` a non-identity
    scaling_factor/value_offset is applied (result float64); the Bern and PSA files have
    identity scaling.
    """
    p = Path(path)
    geom = _geometry(label, p.name)
    dtype = geom.dtype
    if dtype is None:
        raise LabelError(p.name, f"unsupported data_type {geom.data_type!r}")
    if not geom.axes:
        raise LabelError(p.name, "label array has no axes")
    need = geom.offset_bytes + geom.n_elements * dtype.itemsize
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise LabelError(p.name, f"cannot read data file ({exc.strerror or exc})") from exc
    if size != need:
        raise LabelError(
            p.name, f"data file has {size} bytes, label describes {need} (offset included)"
        )
    raw = np.fromfile(p, dtype=dtype, count=geom.n_elements, offset=geom.offset_bytes)
    arr = raw.reshape(geom.shape).astype(dtype.newbyteorder("="), copy=False)
    if apply_scaling and (geom.scaling_factor != 1.0 or geom.value_offset != 0.0):
        arr = arr.astype(np.float64) * geom.scaling_factor + geom.value_offset
    return np.ascontiguousarray(arr)


def mask_special(arr: np.ndarray, label: AnyLabel) -> np.ndarray:
    """Float copy of ``arr`` with the label's PDS4 special constants (ISIS NULL, LRS, ...) as NaN.

    Constants are compared in the array's own precision, so float32 bit patterns match.
    """
    geom = _geometry(label, "<label>")
    out = arr.astype(np.result_type(arr.dtype, np.float32), copy=True)
    for value in geom.special_constants.values():
        out[out == out.dtype.type(value)] = np.nan
    return out


def dat_path_for(label_path: str | Path, label: FrameletLabel | Pds4Label | None = None) -> Path:
    """Data file next to ``label_path``: the label's file_name if it exists there, else .dat."""
    lp = Path(label_path)
    if label is not None:
        name = label.product_name if isinstance(label, FrameletLabel) else label.file_name
        if name:
            for cand in (lp.with_name(name), lp.with_name(name + ".dat")):
                if cand.is_file():
                    return cand
    return lp.with_suffix(".dat")
