"""CaSSIS compression-ratio id (science TLV tag 5, 16 bits) -> JPEG-LS NEAR, for the simulator.

The decoder never needs this table: NEAR is carried in every JPEG-LS SOS header.

* Nominal ids 0..5 (what ``Win*_CompR`` commands): NEAR = id. Measured on the flown framelet
  CAS-M01-2018-05-05T23.11.48.767-RED-01029 (calibrated back to 14-bit DN), ratio = 16-bit raw
  size / JPEG-LS size: 2.42, 3.23, 3.78, 4.23, 4.65, 5.13 (14-bit packed basis: 2.1 .. 4.5).
* Flown word 520 = 0x0208: high byte 2 selects JPEG-LS, low byte 8 is the on-board "compression
  value" (the label's CompressionValue 8). The byte does not act as NEAR: re-encoding that framelet
  with NEAR 8 gives 148770 B, with NEAR 1 284016 B; the flown stream is 287148 B (ratio 3.195).
  We therefore map 520 to NEAR 1 (best fit to the one flown example); see docs/icd.md section 8.
* Flown word 0 (2016 commissioning framelets): uncompressed, Data_Length = 2 bytes per sample;
  as a ratio id it is lossless (NEAR 0).
"""

from __future__ import annotations

from .errors import JpegLsError

#: NEAR for the nominal ratio ids 0..5.
NEAR_FOR_RATIO_ID: dict[int, int] = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 5}

#: Flown 16-bit ratio words outside the nominal table, mapped by fitting the flown data size.
NEAR_FOR_FLOWN_WORD: dict[int, int] = {0x0208: 1}


def split_ratio_word(word: int) -> tuple[int, int]:
    """(algorithm byte, value byte) of a 16-bit compression-ratio word (520 -> (2, 8))."""
    if not 0 <= word <= 0xFFFF:
        raise JpegLsError(f"compression ratio word {word} is not 16-bit")
    return word >> 8, word & 0xFF


def near_for_ratio_id(word: int) -> int:
    """JPEG-LS NEAR (DN) used by the simulator for a compression-ratio id / flown word."""
    if word in NEAR_FOR_RATIO_ID:
        return NEAR_FOR_RATIO_ID[word]
    if word in NEAR_FOR_FLOWN_WORD:
        return NEAR_FOR_FLOWN_WORD[word]
    algo, value = split_ratio_word(word)
    raise JpegLsError(f"unknown compression ratio word {word} (algorithm {algo}, value {value})")
