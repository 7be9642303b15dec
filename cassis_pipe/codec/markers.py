"""JPEG-LS marker-segment syntax (T.87 annex C): parse a stream header, write one.

Pure byte functions. Supported: SOI, SOF55 (one component), LSE type 1 (preset coding
parameters), DRI, SOS (one component, no mapping table, ILV 0, no point transform), EOI; APPn and
COM segments are skipped (including CharLS's SPIFF header and its end-of-directory entry, which
is followed by a second SOI). Anything else raises :class:`JpegLsError` with the byte offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .errors import JpegLsError
from .params import DEFAULT_RESET, ScanParams, default_thresholds, resolve_params

SOI, EOI, SOS, DRI, COM = 0xD8, 0xD9, 0xDA, 0xDD, 0xFE
SOF55, LSE = 0xF7, 0xF8
APP0, APP8, APP15 = 0xE0, 0xE8, 0xEF
RST0, RST7 = 0xD0, 0xD7

#: Largest image accepted by the decoder (samples), to refuse absurd headers before allocating.
MAX_SAMPLES = 1 << 28


@dataclass(frozen=True)
class Header:
    """Parsed stream header: coding parameters and where the entropy-coded data starts."""

    params: ScanParams
    scan_offset: int


def _u16(data: bytes, pos: int) -> int:
    if pos + 2 > len(data):
        raise JpegLsError("truncated marker segment", pos)
    return (data[pos] << 8) | data[pos + 1]


def _segment(data: bytes, pos: int) -> tuple[bytes, int]:
    """Body of the marker segment whose length field is at ``pos``; returns (body, next pos)."""
    length = _u16(data, pos)
    if length < 2 or pos + length > len(data):
        raise JpegLsError(f"bad or truncated segment length {length}", pos)
    return bytes(data[pos + 2:pos + length]), pos + length


def parse_header(data: bytes) -> Header:
    """Parse markers up to and including SOS; validate everything the decoder relies on."""
    if len(data) < 2 or data[0] != 0xFF or data[1] != SOI:
        raise JpegLsError("missing SOI marker", 0)
    pos = 2
    frame: tuple[int, int, int, int] | None = None  # bits, height, width, component id
    preset = (0, 0, 0, 0, 0)
    restart = 0
    last = SOI
    while True:
        if pos >= len(data):
            raise JpegLsError("truncated before SOS", pos)
        if data[pos] != 0xFF:
            raise JpegLsError(f"expected a marker, found 0x{data[pos]:02X}", pos)
        while pos + 1 < len(data) and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 1 >= len(data):
            raise JpegLsError("truncated marker", pos)
        code = data[pos + 1]
        mpos = pos
        pos += 2
        if code == SOI:
            if last != APP8 or frame is not None:
                raise JpegLsError("unexpected SOI", mpos)
        elif APP0 <= code <= APP15 or code == COM:
            _, pos = _segment(data, pos)
        elif code == SOF55:
            if frame is not None:
                raise JpegLsError("second SOF", mpos)
            body, pos = _segment(data, pos)
            if len(body) < 6:
                raise JpegLsError("short SOF55 segment", mpos)
            bits, height, width, ncomp = struct.unpack(">BHHB", body[:6])
            if ncomp != 1:
                raise JpegLsError(f"unsupported: {ncomp} components (only 1)", mpos)
            if len(body) != 6 + 3:
                raise JpegLsError("SOF55 length does not match 1 component", mpos)
            if height == 0:
                raise JpegLsError("unsupported: height 0 (DNL)", mpos)
            if width == 0:
                raise JpegLsError("width 0", mpos)
            if not 2 <= bits <= 16:
                raise JpegLsError(f"unsupported bits per sample {bits}", mpos)
            if width * height > MAX_SAMPLES:
                raise JpegLsError(f"image too large ({width}x{height})", mpos)
            frame = (bits, height, width, body[6])
        elif code == LSE:
            body, pos = _segment(data, pos)
            if len(body) < 1:
                raise JpegLsError("empty LSE segment", mpos)
            if body[0] != 1:
                raise JpegLsError(f"unsupported LSE type {body[0]}", mpos)
            if len(body) != 11:
                raise JpegLsError("LSE type 1 must have length 13", mpos)
            preset = struct.unpack(">HHHHH", body[1:])
        elif code == DRI:
            body, pos = _segment(data, pos)
            if not 2 <= len(body) <= 4:
                raise JpegLsError("bad DRI length", mpos)
            restart = int.from_bytes(body, "big")
        elif code == SOS:
            if frame is None:
                raise JpegLsError("SOS before SOF55", mpos)
            body, pos = _segment(data, pos)
            if len(body) < 1 or body[0] != 1:
                raise JpegLsError("unsupported: scan must have exactly 1 component", mpos)
            if len(body) != 6:
                raise JpegLsError("bad SOS length", mpos)
            cid, tm, near, ilv, pt = body[1], body[2], body[3], body[4], body[5]
            if cid != frame[3]:
                raise JpegLsError("scan component id does not match frame", mpos)
            if tm != 0:
                raise JpegLsError("unsupported: mapping table", mpos)
            if ilv != 0:
                raise JpegLsError(f"unsupported interleave mode {ilv} for one component", mpos)
            if pt != 0:
                raise JpegLsError("unsupported: point transform", mpos)
            bits, height, width, _ = frame
            mx, t1, t2, t3, rs = preset
            prm = resolve_params(width, height, bits, near, mx, t1, t2, t3, rs, restart, mpos)
            return Header(prm, pos)
        elif code == EOI:
            raise JpegLsError("EOI before any scan", mpos)
        else:
            raise JpegLsError(f"unsupported marker 0xFF{code:02X}", mpos)
        last = code


def needs_lse(p: ScanParams) -> bool:
    """Whether an LSE segment is written: parameters differ from the defaults, or more than 12
    bits per sample (CharLS always writes the presets then, for decoders that compute other
    defaults above 12 bits; we follow it so streams are byte-identical)."""
    if p.maxval != (1 << p.bits) - 1 or p.reset != DEFAULT_RESET:
        return True
    if (p.t1, p.t2, p.t3) != default_thresholds(p.maxval, p.near):
        return True
    return p.bits > 12


def write_header(p: ScanParams) -> bytes:
    """SOI, SOF55, optional LSE and DRI, SOS for a one-component scan."""
    out = bytearray(b"\xff\xd8")
    out += struct.pack(">BBHBHHBBBB", 0xFF, SOF55, 11, p.bits, p.height, p.width, 1, 1, 0x11, 0)
    if needs_lse(p):
        out += struct.pack(">BBHBHHHHH", 0xFF, LSE, 13, 1, p.maxval, p.t1, p.t2, p.t3, p.reset)
    if p.restart_interval > 0:
        if p.restart_interval > 0xFFFF:
            raise JpegLsError("restart interval above 65535 lines not supported")
        out += struct.pack(">BBHH", 0xFF, DRI, 4, p.restart_interval)
    out += struct.pack(">BBHBBBBBB", 0xFF, SOS, 8, 1, 1, 0, p.near, 0, 0)
    return bytes(out)
