"""Public JPEG-LS API: ``decode``, ``encode``, ``decode_batch`` (T.87 baseline, one component).

Bit-exact with CharLS: same decoded samples, and the same bytes from SOF55 on (CharLS through
imagecodecs additionally writes a SPIFF header, which carries no coding information).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..parallel import set_threads
from .decoder import E_CODE, E_RESTART, E_RUN, E_TRUNCATED, OK, decode_many, decode_scan
from .encoder import encode_scan, worst_case_bytes
from .errors import JpegLsError
from .markers import EOI, Header, parse_header, write_header
from .params import resolve_params

_REASONS = {
    E_TRUNCATED: "truncated entropy-coded data",
    E_CODE: "invalid Golomb code in entropy-coded data",
    E_RESTART: "missing or out-of-order RST marker",
    E_RUN: "run length exceeds the line",
}


def _check(data: bytes, hdr: Header, st: int, pos: int) -> None:
    """Raise for a failed scan, or when EOI does not follow the scan."""
    if st != OK:
        raise JpegLsError(_REASONS.get(st, "corrupt data"), int(pos))
    while pos + 2 < len(data) and data[pos + 1] == 0xFF:
        pos += 1  # fill bytes before the marker
    if pos + 1 >= len(data) or data[pos + 1] != EOI:
        raise JpegLsError("missing EOI after the scan", int(pos))


def _out_dtype(bits: int) -> type:
    return np.uint8 if bits <= 8 else np.uint16


def decode(data: bytes) -> np.ndarray:
    """Decode a JPEG-LS stream to a (height, width) array of DN: uint8 for <= 8 bits, else uint16.

    Raises :class:`JpegLsError` (a ValueError) for unsupported, corrupt or truncated input.
    """
    data = bytes(data)
    hdr = parse_header(data)
    p = hdr.params
    out = np.empty((p.height, p.width), dtype=np.uint16)
    arr = np.frombuffer(data, dtype=np.uint8)
    st, pos = decode_scan(arr, hdr.scan_offset, p.as_array(), out)
    _check(data, hdr, st, pos)
    return out.astype(np.uint8) if p.bits <= 8 else out


def decode_batch(streams: Sequence[bytes], threads: int | None = None) -> list[np.ndarray]:
    """Decode many streams (e.g. the framelets of an image) in parallel with ``threads`` numba
    threads (prange over streams). Same results and errors as :func:`decode` on each stream."""
    datas = [bytes(s) for s in streams]
    hdrs = [parse_header(d) for d in datas]
    n = len(datas)
    if n == 0:
        return []
    offsets = np.zeros((n, 3), dtype=np.int64)
    out_off = np.zeros(n + 1, dtype=np.int64)
    prms = np.zeros((n, 9), dtype=np.int64)
    pos = 0
    for i, (d, h) in enumerate(zip(datas, hdrs, strict=True)):
        offsets[i] = (pos, pos + len(d), h.scan_offset)
        pos += len(d)
        out_off[i + 1] = out_off[i] + h.params.width * h.params.height
        prms[i] = h.params.as_array()
    arr = np.frombuffer(b"".join(datas), dtype=np.uint8)
    outs = np.empty(int(out_off[-1]), dtype=np.uint16)
    status = np.zeros((n, 2), dtype=np.int64)
    old = set_threads(None)
    set_threads(threads)
    try:
        decode_many(arr, offsets, prms, outs, out_off, status)
    finally:
        set_threads(old)
    result = []
    for i, (d, h) in enumerate(zip(datas, hdrs, strict=True)):
        try:
            _check(d, h, int(status[i, 0]), int(status[i, 1]))
        except JpegLsError as exc:
            raise JpegLsError(f"stream {i}: {exc.reason}", exc.offset) from None
        p = h.params
        img = outs[out_off[i]:out_off[i + 1]].reshape(p.height, p.width)
        result.append(img.astype(np.uint8) if p.bits <= 8 else img)
    return result


def encode(
    image: np.ndarray,
    near: int = 0,
    bits_per_sample: int | None = None,
    reset: int | None = None,
    thresholds: tuple[int, int, int] | None = None,
    restart_interval: int = 0,
) -> bytes:
    """Encode a 2-D array of DN (unsigned integers) as a JPEG-LS stream.

    ``bits_per_sample`` defaults to the dtype width (8 for uint8, 16 otherwise), as imagecodecs
    does; CaSSIS framelets are 14-bit. ``near`` is the maximum absolute error in DN (0 =
    lossless). ``thresholds`` = (T1, T2, T3) and ``reset`` override the T.87 defaults (0 entries
    mean default) and are then written in an LSE segment. ``restart_interval`` > 0 inserts RSTm
    markers every that many lines.
    """
    img = np.asarray(image)
    if img.ndim != 2:
        raise JpegLsError(f"image must be 2-D, got shape {img.shape}")
    if img.dtype.kind not in "ui":
        raise JpegLsError(f"image must hold integers, got {img.dtype}")
    bits = int(bits_per_sample) if bits_per_sample else (8 if img.dtype.itemsize == 1 else 16)
    h, w = img.shape
    if h > 0xFFFF or w > 0xFFFF:
        raise JpegLsError(f"image {w}x{h} too large for SOF55 (max 65535)")
    t1, t2, t3 = thresholds if thresholds is not None else (0, 0, 0)
    p = resolve_params(w, h, bits, int(near), 0, int(t1), int(t2), int(t3), int(reset or 0),
                       int(restart_interval))
    if img.size and (int(img.min()) < 0 or int(img.max()) > p.maxval):
        raise JpegLsError(f"sample values outside 0..{p.maxval} for {bits} bits")
    src = np.ascontiguousarray(img, dtype=np.uint16)
    out = np.empty(worst_case_bytes(w, h, bits, p.n_intervals), dtype=np.uint8)
    n = encode_scan(src, p.as_array(), out)
    return write_header(p) + out[:n].tobytes() + b"\xff\xd9"
