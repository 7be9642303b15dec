"""Error and reject types shared by every telemetry decoder and stream reader."""

from __future__ import annotations

from dataclasses import dataclass


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
