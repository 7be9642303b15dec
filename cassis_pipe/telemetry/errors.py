"""Error and reject types shared by every telemetry decoder and stream reader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class FrameError(ValueError):
    """A single frame could not be decoded.

    ``offset`` is the byte offset (within the buffer handed to the decoder) where the problem was
    found; ``reason`` is a short machine-friendly phrase.
    """

    def __init__(self, reason: str, offset: int = 0) -> None:
        super().__init__(f"{reason} (at byte {offset})")
        self.reason = reason
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Reject:
    """A span of a downlink file that was not accepted as a valid frame."""

    offset: int
    length: int
    reason: str

    def as_dict(self) -> dict[str, int | str]:
        return {"offset": self.offset, "length": self.length, "reason": self.reason}


@dataclass(slots=True)
class StreamResult:
    """What a stream reader returns: the valid frames (decoded), where each started, and rejects.

    ``frames[i]`` starts at byte ``offsets[i]`` of the file. Every byte of the input is either in
    a valid frame or in exactly one reject span, so nothing is lost silently. ``work`` is the
    reader's counted work (a ``scan.ReadWork``; None for results built by hand).
    """

    frames: list
    offsets: list[int]
    rejects: list[Reject]
    work: Any = None

    @property
    def valid(self) -> int:
        return len(self.frames)
