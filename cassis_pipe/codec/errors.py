"""The single exception type raised by the JPEG-LS codec."""

from __future__ import annotations


class JpegLsError(ValueError):
    """Unsupported, corrupt or truncated JPEG-LS data, or invalid encoder parameters.

    ``offset`` is the byte offset in the stream where the problem was detected (-1 if unknown).
    """

    def __init__(self, reason: str, offset: int = -1) -> None:
        self.reason = reason
        self.offset = offset
        where = f" at byte {offset}" if offset >= 0 else ""
        super().__init__(f"JPEG-LS: {reason}{where}")
