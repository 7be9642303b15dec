"""Pseudo packets: every science framelet the command plan says must arrive, with its header.

One :class:`PseudoPacket` per (UID, window counter, sequence counter). Header fields that the
plan fixes are predicted exactly (UID, window, sequence, type 0, error 0, compression ratio id,
rotation position when a move commanded it, exposure time code); the window data length is
predicted only for windows sent uncompressed (2 bytes per pixel). The read-out ``timestamp`` and
the PE-HK block are not predictable (docs/level0.md); the validator checks them for consistency.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from cassis_pipe.level0.plan import CommandPlan

Key = tuple[int, int, int]  # (uid, window counter, sequence counter)

#: compression ratio words whose windows are sent uncompressed (flown 2016 files: 0).
DEFAULT_RAW_RATIO_IDS: frozenset[int] = frozenset({0})


@dataclass(frozen=True, slots=True)
class PseudoPacket:
    """The predicted header of one framelet (all parts of one window of one exposure)."""

    image_index: int
    uid: int
    window: int
    sequence: int
    filter: str
    compression: int
    exposure_timestamp: bytes | None  # None: not predictable (no valid start time code)
    position_mdeg: int | None
    binning: int
    bin_factor: int
    shape: tuple[int, int]
    n_pixels: int
    raw: bool
    total_length: int | None  # bytes of window data, None when compressed (not predictable)
    n_frames: int | None  # SpW frames, None unless the frame payload size is known
    type: int = 0
    error: int = 0
    pehk: bytes | None = None

    @property
    def key(self) -> Key:
        return (self.uid, self.window, self.sequence)

    @property
    def order(self) -> tuple[int, int, int]:
        """Expected downlink order: image, then exposure, then window."""
        return (self.image_index, self.sequence, self.window)

    def as_dict(self) -> dict[str, Any]:
        return {
            "image_index": self.image_index,
            "uid": self.uid,
            "window": self.window,
            "sequence": self.sequence,
            "filter": self.filter,
            "type": self.type,
            "error": self.error,
            "compression": self.compression,
            "exposure_timestamp": (self.exposure_timestamp.hex()
                                   if self.exposure_timestamp is not None else None),
            "position_mdeg": self.position_mdeg,
            "binning": self.binning,
            "shape": list(self.shape),
            "n_pixels": self.n_pixels,
            "raw": self.raw,
            "total_length": self.total_length,
            "n_frames": self.n_frames,
            "pehk": self.pehk.hex() if self.pehk is not None else None,
        }


def predict_packets(
    plan: CommandPlan,
    raw_ratio_ids: Collection[int] = DEFAULT_RAW_RATIO_IDS,
    compression_word: int | None = None,
    max_frame_data: int | None = None,
) -> list[PseudoPacket]:
    """Pseudo packets of every take-image of ``plan``, in expected downlink order.

    ``compression_word`` overrides the commanded ratio id in every prediction (the 2018 flown
    frame carries 520 while its table commands 0). A window is predicted raw when its ratio word
    is in ``raw_ratio_ids``. ``max_frame_data`` (bytes of data per SpW frame) makes the frame
    count of raw windows predictable. Later take-images reusing a UID are skipped (the plan
    lists that as an issue).
    """
    out: list[PseudoPacket] = []
    seen: set[int] = set()
    for im in plan.images:
        if im.uid in seen or im.table is None:
            continue
        seen.add(im.uid)
        for seq in range(im.num_exp):
            ts = im.exposure_timecode(seq)
            for w in im.windows:
                word = w.compression if compression_word is None else compression_word
                raw = word in raw_ratio_ids
                total = w.raw_bytes if raw else None
                n_frames = None
                if total is not None and max_frame_data:
                    n_frames = max(1, math.ceil(total / max_frame_data))
                out.append(PseudoPacket(
                    im.index, im.uid, w.counter, seq & 0xFF, w.filter, word, ts,
                    im.position_mdeg, w.binning, w.bin_factor, w.shape, w.n_pixels, raw,
                    total, n_frames))
    return out


def packet_index(packets: Iterable[PseudoPacket]) -> dict[Key, PseudoPacket]:
    """Packets by (uid, window, sequence); the first one wins on a clash."""
    index: dict[Key, PseudoPacket] = {}
    for p in packets:
        index.setdefault(p.key, p)
    return index
