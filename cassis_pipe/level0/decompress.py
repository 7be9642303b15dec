"""Decompression: complete framelets -> level-0 DN arrays (uint16) with their metadata.

A framelet's data is a JPEG-LS stream when it starts with the SOI marker ``FF D8``; raw 14-bit
pixels never do (big-endian their first byte is at most 0x3F, little-endian the first value
would be 0xD8FF > 16383). Otherwise the data is raw 16-bit pixels (big-endian by default),
2 bytes per pixel, filling the binned window row by row.
JPEG-LS framelets are decoded together with ``decode_batch`` (numba threads over
framelets); a stream that fails is retried alone and only that framelet is marked corrupt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cassis_pipe.codec.errors import JpegLsError
from cassis_pipe.codec.jpegls import decode, decode_batch
from cassis_pipe.level0.pseudo import Key, PseudoPacket
from cassis_pipe.level0.reassemble import COMPLETE, ReassembledFramelet

SOI = b"\xff\xd8"
MAX_DN = (1 << 14) - 1  # CaSSIS pixels are 14-bit
OK, CORRUPT, SKIPPED = "ok", "corrupt", "skipped"


@dataclass(slots=True)
class Level0Framelet:
    """Decoded DN of one window of one exposure. ``dn`` is None unless ``status`` is ok.

    ``tail`` holds pixels past the last full binned row (flown 2x2 binning of an odd row
    count leaves half a row); they are kept, not dropped. ``meta`` is JSON-ready.
    """

    uid: int
    window: int
    sequence: int
    status: str
    dn: np.ndarray | None
    meta: dict[str, Any] = field(default_factory=dict)
    tail: np.ndarray | None = None
    error: str | None = None

    @property
    def key(self) -> Key:
        return (self.uid, self.window, self.sequence)


def is_jpegls(data: bytes) -> bool:
    """True if ``data`` starts with the JPEG-LS/JPEG start-of-image marker."""
    return data[:2] == SOI


def _meta(fl: ReassembledFramelet, p: PseudoPacket | None) -> dict[str, Any]:
    h = fl.header
    m: dict[str, Any] = {
        "uid": fl.uid, "window": fl.window, "sequence": fl.sequence,
        "exposure_timestamp": h.exposure_timestamp.hex(), "timestamp": h.timestamp.hex(),
        "position_mdeg": h.position_mdeg, "compression": h.compression,
        "total_length": fl.total_length, "file_offsets": [q.file_offset for q in fl.parts],
        "pehk": h.pehk.hex(),
    }
    if p is not None:
        m.update({"filter": p.filter, "binning": p.binning, "bin_factor": p.bin_factor,
                  "expected_shape": list(p.shape), "commanded_compression": p.compression})
    else:
        m.update({"filter": None, "binning": None, "bin_factor": None, "expected_shape": None})
    return m


def raw_to_dn(data: bytes, width: int, byteorder: str = ">") -> tuple[np.ndarray, np.ndarray]:
    """(full rows as (n, width) uint16, tail pixels) of uncompressed 16-bit pixel data.

    Raises ValueError for an odd byte count or a non-positive width.
    """
    if len(data) % 2:
        raise ValueError(f"odd raw data length {len(data)} bytes")
    if width <= 0:
        raise ValueError(f"window width {width} px")
    px = np.frombuffer(data, dtype=np.dtype(f"{byteorder}u2")).astype(np.uint16)
    n = px.size // width
    return px[: n * width].reshape(n, width), px[n * width :].copy()


def _decode_jls(streams: list[bytes], threads: int | None) -> list[np.ndarray | Exception]:
    """Decode all streams; a failing batch is split in halves so good streams still decode.

    Any exception of the codec on one stream (JpegLsError, or anything unforeseen on hostile
    data) is returned in that stream's place instead of being raised.
    """
    if not streams:
        return []
    try:
        return list(decode_batch(streams, threads))
    except Exception:  # noqa: BLE001 - isolate the bad stream below, never crash the batch
        if len(streams) == 1:
            try:
                return [decode(streams[0])]
            except Exception as exc:  # noqa: BLE001
                return [exc if isinstance(exc, JpegLsError) else
                        JpegLsError(f"decoder failure {type(exc).__name__}: {exc}")]
        half = len(streams) // 2
        return _decode_jls(streams[:half], threads) + _decode_jls(streams[half:], threads)


def decompress(
    framelets: Iterable[ReassembledFramelet],
    packets: Mapping[Key, PseudoPacket] | Sequence[PseudoPacket] = (),
    threads: int | None = None,
    byteorder: str = ">",
) -> list[Level0Framelet]:
    """Level-0 DN of every framelet, in key order; complete ones decoded, others skipped.

    Raw framelets need the window width from ``packets`` (pseudo packets by key or a list);
    without it they are reported corrupt. A decoded shape that differs from the commanded one
    is kept and noted in ``meta['shape_mismatch']``. Pixels above 14 bits are counted in
    ``meta['dn_over_14bit']``.
    """
    if not isinstance(packets, Mapping):
        packets = {p.key: p for p in packets}
    out: list[Level0Framelet] = []
    jls: list[tuple[Level0Framelet, bytes]] = []
    for fl in sorted(framelets, key=lambda f: f.key):
        p = packets.get(fl.key)
        res = Level0Framelet(fl.uid, fl.window, fl.sequence, SKIPPED, None, _meta(fl, p))
        out.append(res)
        if fl.status != COMPLETE or fl.data is None:
            res.error = f"framelet {fl.status}"
            continue
        if is_jpegls(fl.data):
            res.meta["encoding"] = "jpeg-ls"
            jls.append((res, fl.data))
            continue
        res.meta["encoding"] = "raw"
        if p is None:
            res.status, res.error = CORRUPT, "raw data but no commanded window to shape it"
            continue
        if len(fl.data) != 2 * p.n_pixels:
            res.status = CORRUPT
            res.error = f"raw data {len(fl.data)} B, window needs {2 * p.n_pixels} B"
            continue
        try:
            res.dn, tail = raw_to_dn(fl.data, p.shape[1], byteorder)
        except ValueError as exc:
            res.status, res.error = CORRUPT, str(exc)
            continue
        res.tail = tail if tail.size else None
        res.status = OK
    decoded = _decode_jls([d for _, d in jls], threads)
    for (res, _), img in zip(jls, decoded, strict=True):
        if isinstance(img, Exception):
            res.status, res.error = CORRUPT, str(img)
        else:
            res.dn, res.status = np.asarray(img, dtype=np.uint16), OK
    for res in out:
        if res.dn is None:
            continue
        res.meta["shape"] = list(res.dn.shape)
        exp = res.meta.get("expected_shape")
        if exp is not None and list(res.dn.shape) != exp:
            res.meta["shape_mismatch"] = True
        res.meta["tail_pixels"] = 0 if res.tail is None else int(res.tail.size)
        over = int(np.count_nonzero(res.dn > MAX_DN))
        if res.tail is not None:
            over += int(np.count_nonzero(res.tail > MAX_DN))
        res.meta["dn_over_14bit"] = over
    return out


def decompress_summary(results: Sequence[Level0Framelet]) -> dict[str, Any]:
    """Counts and the list of framelets that were not decoded (JSON-ready)."""
    bad = [{"uid": r.uid, "window": r.window, "sequence": r.sequence, "status": r.status,
            "error": r.error} for r in results if r.status != OK]
    return {"decoded": sum(r.status == OK for r in results), "corrupt":
            sum(r.status == CORRUPT for r in results), "skipped":
            sum(r.status == SKIPPED for r in results), "not_decoded": bad,
            "shape_mismatch": [list(r.key) for r in results if r.meta.get("shape_mismatch")]}
