"""Crafted hostile and clean downlink files for the reader benchmark, fuzzer and work tests.

Every builder is deterministic (``seed``) and linear in ``size`` (bytes, approximate for the
clean streams). The hostile science files attack the resynchronisation: a corrupt frame followed
by a flood of 0xfa bytes, by overlapping near-miss containers that all announce the same far MD5
trailer, or by structurally valid containers nested inside each other's data (all with a wrong
MD5), or frames cut after their header back to back; the MIL ones are floods of sync bytes and
streams of frames with a bad CRC.
"""

from __future__ import annotations

import struct

import numpy as np

from cassis_pipe.telemetry.science import (
    MD5_LENGTH,
    MD5_TAG,
    TLV_HEADER,
    TRAILER_LENGTH,
    ScienceFrame,
    encode_science_frame,
)

_U32 = struct.Struct(">I")
_TRAILER = bytes((MD5_TAG,)) + _U32.pack(MD5_LENGTH) + b"\x00" * MD5_LENGTH  # wrong digest


def science_frame(i: int, data: bytes) -> ScienceFrame:
    """A flown-like science frame number ``i`` carrying ``data``."""
    return ScienceFrame(
        timestamp=bytes.fromhex("2f01543592c2a7cb"), uid=100799268 + i // 64, window=i % 4,
        sequence=(i // 4) % 16, compression=0, total_length=len(data), offset=0, type=0, error=0,
        position_mdeg=100228, exposure_timestamp=bytes.fromhex("2f015435767e275a"),
        pehk=bytes(range(64)), data=data,
    )


def corrupt_frame(seed: int = 0) -> bytes:
    """A 300-byte-data science frame with one bit flipped in its data (MD5 mismatch)."""
    rng = np.random.default_rng(seed)
    frame = bytearray(encode_science_frame(science_frame(0, rng.bytes(300))))
    frame[len(frame) // 2] ^= 0x01
    return bytes(frame)


def clean_science(size: int, frame_data: int = 256 * 1024, seed: int = 0) -> bytes:
    """Concatenated valid frames of ``frame_data`` random bytes each, about ``size`` bytes."""
    rng = np.random.default_rng(seed)
    parts, total, i = [], 0, 0
    while total < size:
        parts.append(encode_science_frame(science_frame(i, rng.bytes(frame_data))))
        total += len(parts[-1])
        i += 1
    return b"".join(parts)


def fa_flood(size: int, seed: int = 0) -> bytes:
    """A corrupt frame followed by 0xfa bytes up to ``size``."""
    head = corrupt_frame(seed)
    return head + b"\xfa" * max(size - len(head), 0)


def common_trailer(size: int, block: int = 1 << 20, seed: int = 0) -> bytes:
    """A corrupt frame, then blocks of 5-byte container headers that all announce the MD5
    trailer closing their block (each a plausible frame start whose MD5 fails)."""
    parts = [corrupt_frame(seed)]
    total = len(parts[0])
    while total < size:
        b = min(block, max(size - total, 1024))
        heads = (b - TRAILER_LENGTH) // TLV_HEADER
        start = np.arange(heads, dtype=np.int64) * TLV_HEADER
        lengths = heads * TLV_HEADER - start - TLV_HEADER  # each container ends at the trailer
        rec = np.zeros((heads, TLV_HEADER), dtype=np.uint8)
        rec[:, 0] = 0xFA
        rec[:, 1:] = lengths.astype(">u4").view(np.uint8).reshape(heads, 4)
        parts += [rec.tobytes(), _TRAILER]
        total += len(parts[-2]) + TRAILER_LENGTH
    return b"".join(parts)


def nested_containers(size: int, seed: int = 0) -> bytes:
    """Structurally valid containers nested in each other's data TLV, sharing one MD5 trailer
    with a wrong digest (every level is a complete frame apart from its MD5)."""
    frame = encode_science_frame(science_frame(seed, b""))
    prefix = bytearray(frame[: len(frame) - TRAILER_LENGTH])  # container with empty data TLV
    levels = max((size - TRAILER_LENGTH) // len(prefix), 1)
    body = len(prefix) * levels
    out = np.frombuffer(bytes(prefix) * levels + _TRAILER, dtype=np.uint8).copy()
    starts = np.arange(levels, dtype=np.int64) * len(prefix)
    container = (body - starts - TLV_HEADER).astype(">u4").view(np.uint8).reshape(levels, 4)
    data_len = (body - starts - len(prefix)).astype(">u4").view(np.uint8).reshape(levels, 4)
    for k in range(4):
        out[starts + 1 + k] = container[:, k]
        out[starts + len(prefix) - 4 + k] = data_len[:, k]
    return out.tobytes()


def cut_frames(size: int, keep: int = 180, seed: int = 0) -> bytes:
    """Frames cut after ``keep`` bytes (header readable, no MD5 TLV), back to back: every one is a
    corrupt frame the reader must report as its own reject span."""
    head = encode_science_frame(science_frame(seed, b"x" * 10))[:keep]
    return head * max(size // keep, 1)


def random_sync_rich(size: int, sync: int = 0xFA, rate: float = 0.1, seed: int = 0) -> bytes:
    """Random bytes with a fraction ``rate`` of them set to ``sync``."""
    rng = np.random.default_rng(seed)
    arr = np.frombuffer(rng.bytes(size), dtype=np.uint8).copy()
    arr[rng.random(size) < rate] = sync
    return arr.tobytes()


def mil_stream(frames: list[bytes], size: int, flip_at: int | None = None) -> bytes:
    """64-byte ``frames`` repeated to ``size`` bytes (whole frames). With ``flip_at`` one bit of
    that frame offset (a value byte, e.g. 6) is flipped in every frame, so each keeps its sync,
    type and fixed bytes but fails its CRC."""
    reps = max(size // 64, 1)
    arr = np.frombuffer(b"".join(frames), dtype=np.uint8).reshape(-1, 64)
    out = arr[np.arange(reps) % arr.shape[0]].copy()
    if flip_at is not None:
        out[:, flip_at] ^= 0x01
    return out.tobytes()
