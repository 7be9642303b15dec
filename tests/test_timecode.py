"""CaSSIS time code: byte layout, round trips, and SCLK conversion checked on real flown labels."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import spiceypy
from hypothesis import assume, example, given
from hypothesis import strategies as st
from lxml import etree

from cassis_pipe.telemetry.errors import FrameError
from cassis_pipe.telemetry.timecode import (
    KernelError,
    clear_kernel_cache,
    decode_timecode,
    encode_timecode,
    is_timecode,
    pack_timecode,
    parse_hex_timecode,
    timecode_to_et,
    timecode_to_ticks,
    timecode_to_utc,
    unpack_timecode,
)

SCLK = "em16_tgo_step_20190823.tsc"
LSK = "naif0012.tls"
DUMP_LABEL = "pds4-exports/CAS-MCO-2016-11-20T15.30.00.349-DMP-00000-00.xml"

coarse_st = st.integers(0, 2**32 - 1)
fine_st = st.integers(0, 2**24 - 1)


def _label(path: Path) -> tuple[dict[str, str], str]:
    """FSW_HEADER attributes and OnboardImageAcquisitionTime text of a Bern label."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.parse(str(path), parser).getroot()
    fsw = root.find(".//FSW_HEADER")
    acq = root.find(".//OnboardImageAcquisitionTime")
    assert fsw is not None and acq is not None
    return dict(fsw.attrib), acq.text.strip()


def _utc_to_et(utc: str, kernels_dir: Path) -> float:
    timecode_to_et(pack_timecode(0, 0), kernels_dir / SCLK, kernels_dir / LSK)  # furnish LSK
    return spiceypy.str2et(utc)


@given(coarse_st, fine_st)
def test_pack_unpack_round_trip(coarse: int, fine: int) -> None:
    b = pack_timecode(coarse, fine)
    assert len(b) == 8 and b[0] == 0x2F
    assert unpack_timecode(b) == (coarse, fine)
    assert b[1:5] == coarse.to_bytes(4, "big") and b[5:] == fine.to_bytes(3, "big")


@given(coarse_st, fine_st)
@example(2**32 - 1, 16777212)  # decodes to the double 2^32: found by hypothesis on 2026-12-04
def test_float_round_trip(coarse: int, fine: int) -> None:
    b = pack_timecode(coarse, fine)
    s = decode_timecode(b)
    assert abs(s - (coarse + fine / 2**24)) <= 2**-24
    # the last codes below 2^32 s decode to the double 2^32 (half an ULP away), which no time
    # code can hold: encode refuses it (tested in test_encode_range); nothing to round-trip
    assume(s < 2**32)
    back = unpack_timecode(encode_timecode(s))
    if coarse < 2**29:  # 29 + 24 bits fit a double exactly
        assert back == (coarse, fine)
    else:  # within half a double ULP: 2^(k-29) fine counts for coarse in [2^k, 2^(k+1))
        tol = 2 ** (coarse.bit_length() - 1 - 29)
        assert abs((back[0] * 2**24 + back[1]) - (coarse * 2**24 + fine)) <= tol


@given(st.floats(0.0, 2.0**32 - 1.0, allow_nan=False))
def test_encode_rounds_to_nearest_fine(seconds: float) -> None:
    coarse, fine = unpack_timecode(encode_timecode(seconds))
    assert abs(coarse + fine / 2**24 - seconds) <= 2**-25 + 2.5e-7 * (seconds >= 2**29)


def test_layout_of_known_value() -> None:
    assert pack_timecode(0x01543131, 0xB1AA13).hex() == "2f01543131b1aa13"
    assert decode_timecode(bytes.fromhex("2f00000001800000")) == 1.5
    assert encode_timecode(1.5).hex() == "2f00000001800000"
    assert encode_timecode(1.0 - 2**-30).hex() == "2f00000001000000"  # fine carry


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (bytes.fromhex("0001543131b1aa13"), "P-field"),
        (bytes.fromhex("2f015431"), "8 bytes"),
        (bytes.fromhex("2f01543131b1aa1300"), "8 bytes"),
        (bytes(8), "P-field"),
    ],
)
def test_bad_timecode_raises_frame_error(raw: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        decode_timecode(raw)
    with pytest.raises(FrameError):
        timecode_to_ticks(raw)


def test_unpack_reports_offset() -> None:
    buf = b"\x00\x00\x00" + bytes.fromhex("3001543131b1aa13")
    with pytest.raises(FrameError) as info:
        unpack_timecode(buf, 3)
    assert info.value.offset == 3
    with pytest.raises(FrameError, match="truncated"):
        unpack_timecode(buf, 4)


@pytest.mark.parametrize(("coarse", "fine"), [(-1, 0), (2**32, 0), (0, -1), (0, 2**24)])
def test_pack_range(coarse: int, fine: int) -> None:
    with pytest.raises(ValueError):
        pack_timecode(coarse, fine)


@pytest.mark.parametrize("seconds", [-0.5, 2.0**32, float("nan"), 2.0**32 - 2**-30])
def test_encode_range(seconds: float) -> None:
    with pytest.raises(ValueError):
        encode_timecode(seconds)


def test_parse_hex() -> None:
    assert parse_hex_timecode(" 0x2F01543131B1AA13 ") == bytes.fromhex("2f01543131b1aa13")
    for bad in ("zz", "2f0154", "0001543131b1aa13"):
        with pytest.raises(FrameError):
            parse_hex_timecode(bad)


def test_ticks_are_65536_per_second() -> None:
    b = bytes.fromhex("2f01543131b1aa13")
    assert timecode_to_ticks(b) == 0x01543131 * 65536 + 0xB1AA13 / 256


def test_reference_exposure_timestamp(kernels_dir: Path) -> None:
    b = bytes.fromhex("2f01543131b1aa13")
    assert timecode_to_utc(b, kernels_dir / SCLK, kernels_dir / LSK) == "2016-11-26T22:32:14.582"
    et = timecode_to_et(b, kernels_dir / SCLK, kernels_dir / LSK)
    assert abs(et - _utc_to_et("2016-11-26T22:32:14.582", kernels_dir)) < 1e-3
    # the sub-tick fraction is kept: one fine count (2^-24 s) moves ET by ~6e-8 s
    b2 = pack_timecode(0x01543131, 0xB1AA14)
    dt = timecode_to_et(b2, kernels_dir / SCLK, kernels_dir / LSK) - et
    assert 0 < dt < 1e-6


def test_every_bern_label_exposure_time(all_bern_labels: list[Path], kernels_dir: Path) -> None:
    assert len(all_bern_labels) == 5
    for path in all_bern_labels:
        attrs, acq = _label(path)
        b = bytes.fromhex(attrs["ExposureTimestamp"])
        et = timecode_to_et(b, kernels_dir / SCLK, kernels_dir / LSK)
        assert abs(et - _utc_to_et(acq, kernels_dir)) < 1e-3, path.name
        assert timecode_to_utc(b, kernels_dir / SCLK, kernels_dir / LSK) == acq


def test_dump_label_timestamps(data_dir: Path, kernels_dir: Path) -> None:
    """The level-0 dump has an all-zero ExposureTimestamp (not a time code): a clear FrameError,
    no crash; its frame Timestamp is what the Bern pipeline used as acquisition time."""
    attrs, acq = _label(data_dir / DUMP_LABEL)
    exposure = bytes.fromhex(attrs["ExposureTimestamp"])
    assert not is_timecode(exposure)
    with pytest.raises(FrameError, match="P-field"):
        timecode_to_utc(exposure, kernels_dir / SCLK, kernels_dir / LSK)
    stamp = bytes.fromhex(attrs["Timestamp"])
    assert is_timecode(stamp)
    assert timecode_to_utc(stamp, kernels_dir / SCLK, kernels_dir / LSK) == acq
    sclk_text = (data_dir / DUMP_LABEL).read_text()
    m = re.search(r"OnboardAcquisitionSCLKTime[^>]*>\s*(\d+)\.(\d+)<", sclk_text)
    assert m is not None
    coarse, fine = unpack_timecode(stamp)
    assert (coarse, fine >> 8) == (int(m.group(1)), int(m.group(2)))


def test_missing_kernel(kernels_dir: Path, tmp_path: Path) -> None:
    b = bytes.fromhex("2f01543131b1aa13")
    with pytest.raises(KernelError, match="not found"):
        timecode_to_utc(b, tmp_path / "nope.tsc", kernels_dir / LSK)
    with pytest.raises(KernelError, match="not found"):
        timecode_to_utc(b, kernels_dir / SCLK, tmp_path / "nope.tls")
    bad = tmp_path / "bad.tsc"
    bad.write_text("this is not a kernel\n")
    with pytest.raises(KernelError):
        timecode_to_utc(b, bad, kernels_dir / LSK)


def test_switching_sclk_kernels(kernels_dir: Path, tmp_path: Path) -> None:
    """A second SCLK kernel takes over the pool; asking for the first one again restores it."""
    text = (kernels_dir / SCLK).read_text()
    shifted = re.sub(
        r"^(\s+\S+E[+-]\d+\s+)(\S+E\+08)(\s+\S+E[+-]\d+\s*)$",
        lambda m: f"{m.group(1)}{float(m.group(2)) + 100.0:.13E}{m.group(3)}",
        text,
        flags=re.MULTILINE,
    )
    assert shifted != text
    other = tmp_path / "shifted.tsc"
    other.write_text(shifted)
    b = bytes.fromhex("2f01543131b1aa13")
    try:
        et_a = timecode_to_et(b, kernels_dir / SCLK, kernels_dir / LSK)
        et_b = timecode_to_et(b, other, kernels_dir / LSK)
        assert abs(et_b - et_a - 100.0) < 1e-6
        assert timecode_to_et(b, kernels_dir / SCLK, kernels_dir / LSK) == et_a
    finally:
        clear_kernel_cache()
    assert timecode_to_et(b, kernels_dir / SCLK, kernels_dir / LSK) == et_a


def test_reloads_after_foreign_unload(kernels_dir: Path) -> None:
    """Someone else unloads our SCLK (only that file: the pool is shared with other tests)."""
    b = bytes.fromhex("2f01543131b1aa13")
    utc = timecode_to_utc(b, kernels_dir / SCLK, kernels_dir / LSK)
    spiceypy.unload(str((kernels_dir / SCLK).resolve()))
    assert timecode_to_utc(b, kernels_dir / SCLK, kernels_dir / LSK) == utc
