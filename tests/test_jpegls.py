"""JPEG-LS codec: round trips, near-lossless bound, marker syntax, errors, batch, flown data."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.codec import JpegLsError, decode, decode_batch, encode, near_for_ratio_id
from cassis_pipe.codec.markers import parse_header
from cassis_pipe.codec.params import default_thresholds
from cassis_pipe.codec.ratio import NEAR_FOR_RATIO_ID, split_ratio_word
from tests.support.testimages import KINDS, make

RED = "level1b/CAS-MCO-2016-11-26T22.50.27.381-RED-01005-B1"
RED_K = 4.67201e-05  # ABSOLUTE_CALIBRATION of that label, I/F per DN


def flown_dn(data_dir, stem: str = RED, k: float = RED_K, shape=(256, 2048)) -> np.ndarray:
    """A flown level-1b framelet (I/F) converted back to 14-bit DN."""
    f = np.fromfile(data_dir / f"{stem}.dat", dtype="<f4").reshape(shape)
    return np.clip(np.rint(f / k), 0, 16383).astype(np.uint16)


@st.composite
def images(draw):
    bits = draw(st.integers(2, 16))
    maxval = (1 << bits) - 1
    near = draw(st.integers(0, min(8, maxval // 2)))
    h = draw(st.integers(1, 24))
    w = draw(st.integers(1, 24))
    kind = draw(st.sampled_from(KINDS + ("mixed",)))
    seed = draw(st.integers(0, 2**31))
    if kind == "mixed":
        img = make("terrain", (h, w), bits, seed)
        img[: h // 2] = make("noisy", (h // 2, w), bits, seed)
        img[:, : w // 3] = maxval
    else:
        img = make(kind, (h, w), bits, seed)
    return img, bits, near


@settings(max_examples=150, deadline=None)
@given(images())
def test_roundtrip_and_near_bound(case):
    img, bits, near = case
    data = encode(img, near=near, bits_per_sample=bits)
    out = decode(data)
    assert out.shape == img.shape
    assert out.dtype == (np.uint8 if bits <= 8 else np.uint16)
    err = np.abs(out.astype(np.int64) - img.astype(np.int64))
    assert err.max() <= near
    if near == 0:
        np.testing.assert_array_equal(out, img)
    # decoding is deterministic and re-encoding the reconstruction is stable in size class
    np.testing.assert_array_equal(decode(data), out)


@pytest.mark.parametrize("interval", [1, 2, 5, 16, 1000])
@pytest.mark.parametrize("near", [0, 3])
def test_restart_intervals(interval, near):
    img = make("terrain", (37, 41), 14, seed=interval)
    data = encode(img, near=near, bits_per_sample=14, restart_interval=interval)
    assert parse_header(data).params.restart_interval == interval
    n_rst = sum(1 for i in range(len(data) - 1)
                if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7)
    assert n_rst == -(-37 // interval) - 1
    out = decode(data)
    assert np.abs(out.astype(int) - img.astype(int)).max() <= near


def test_custom_thresholds_and_reset_written_in_lse():
    img = make("terrain", (30, 30), 8, seed=1)
    plain = encode(img)
    assert b"\xff\xf8" not in plain[:40]  # 8-bit defaults: no LSE
    data = encode(img, thresholds=(5, 9, 30), reset=32)
    p = parse_header(data).params
    assert (p.t1, p.t2, p.t3, p.reset) == (5, 9, 30, 32)
    np.testing.assert_array_equal(decode(data), img)
    assert data != plain


def test_default_thresholds_match_t87_examples():
    assert default_thresholds(255, 0) == (3, 7, 21)
    assert default_thresholds(4095, 0) == (18, 67, 276)
    assert default_thresholds(65535, 0) == (18, 67, 276)
    assert default_thresholds(16383, 2) == (24, 77, 290)
    assert default_thresholds(15, 0) == (2, 3, 4)


def test_app_com_segments_are_skipped():
    img = make("terrain", (9, 11), 12, seed=2)
    data = encode(img, bits_per_sample=12)
    extra = b"\xff\xe0" + struct.pack(">H", 6) + b"JFIF" + b"\xff\xfe\x00\x05hi!"
    np.testing.assert_array_equal(decode(data[:2] + extra + data[2:]), img)


def test_marker_stuffing_in_noisy_data():
    img = make("noisy", (64, 64), 8, seed=3)
    data = encode(img)
    scan = data[parse_header(data).scan_offset:-2]
    ffs = [i for i in range(len(scan) - 1) if scan[i] == 0xFF]
    assert ffs, "noisy data should produce 0xFF bytes"
    assert all(scan[i + 1] < 0x80 for i in ffs)
    np.testing.assert_array_equal(decode(data), img)


def test_scan_ending_in_ff_gets_zero_byte():
    """Search tiny images whose last entropy-coded byte is 0xFF: a 0x00 must follow."""
    rng = np.random.default_rng(7)
    found = 0
    for _ in range(6000):
        img = rng.integers(0, 256, size=(1, int(rng.integers(1, 6)))).astype(np.uint8)
        data = encode(img)
        if data[-4:-2] == b"\xff\x00":
            found += 1
            np.testing.assert_array_equal(decode(data), img)
    assert found > 0


def test_decode_batch_matches_decode():
    streams = [encode(make(k, (20 + i, 30 - i), 14, seed=i), near=i % 3, bits_per_sample=14)
               for i, k in enumerate(KINDS * 3)]
    streams.append(encode(make("terrain", (5, 7), 8, seed=9)))
    one = [decode(s) for s in streams]
    for threads in (1, 2):
        many = decode_batch(streams, threads=threads)
        assert len(many) == len(one)
        for a, b in zip(one, many, strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    assert decode_batch([], threads=2) == []


def test_decode_batch_reports_bad_stream():
    good = encode(make("terrain", (16, 16), 14, seed=1), bits_per_sample=14)
    bad = good[:len(good) // 2] + b"\xff\xd9"
    with pytest.raises(JpegLsError, match="stream 1"):
        decode_batch([good, bad], threads=2)


def _sof(bits=8, h=4, w=4, n=1):
    body = struct.pack(">BHHB", bits, h, w, n) + b"\x01\x11\x00" * n
    return b"\xff\xf7" + struct.pack(">H", len(body) + 2) + body


SOS = b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x00"


@pytest.mark.parametrize("data, match", [
    (b"", "SOI"),
    (b"\xff\xd9", "SOI"),
    (b"\xff\xd8", "truncated"),
    (b"\xff\xd8\xff\xc0\x00\x02", "unsupported marker"),
    (b"\xff\xd8" + _sof(n=3), "components"),
    (b"\xff\xd8" + _sof(bits=1), "bits"),
    (b"\xff\xd8" + _sof(bits=17), "bits"),
    (b"\xff\xd8" + _sof(h=0), "height 0"),
    (b"\xff\xd8" + _sof() + b"\xff\xf8\x00\x05\x02\x00\x00", "LSE type"),
    (b"\xff\xd8" + _sof() + b"\xff\xda\x00\x08\x01\x01\x05\x00\x00\x00", "mapping table"),
    (b"\xff\xd8" + _sof() + b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x01", "point transform"),
    (b"\xff\xd8" + _sof() + b"\xff\xda\x00\x08\x01\x01\x00\x80\x00\x00", "NEAR"),
    (b"\xff\xd8" + SOS, "SOS before SOF"),
    (b"\xff\xd8" + _sof() + b"\xff\xd9", "EOI before"),
    (b"\xff\xd8" + _sof() + b"\xff\xf8\x00\x0d\x01\x00\xff\x00\x09\x00\x05\x00\x07\x00\x40"
     + SOS, "thresholds"),
    (b"\xff\xd8\x00", "expected a marker"),
    (b"\xff\xd8\xff\xe0\x00\x40", "segment length"),
    (b"\xff\xd8" + _sof() + SOS, "truncated"),
])
def test_header_errors(data, match):
    with pytest.raises(JpegLsError, match=match):
        decode(data)


def test_error_carries_offset():
    with pytest.raises(JpegLsError) as info:
        decode(b"\xff\xd8" + _sof(n=3))
    assert info.value.offset == 2
    assert isinstance(info.value, ValueError)


def test_truncated_and_wrong_restart_marker():
    img = make("terrain", (40, 40), 14, seed=4)
    data = encode(img, bits_per_sample=14, restart_interval=8)
    i = data.index(b"\xff\xd0")
    with pytest.raises(JpegLsError, match="RST"):
        decode(data[:i] + b"\xff\xd3" + data[i + 2:])
    for cut in (len(data) - 2, len(data) // 2, parse_header(data).scan_offset + 1):
        with pytest.raises(JpegLsError):
            decode(data[:cut])


@pytest.mark.parametrize("kwargs, image", [
    ({"near": 0}, np.zeros((3, 3, 3), np.uint8)),
    ({"near": 0}, np.zeros((3, 3), np.float32)),
    ({"near": 200}, np.zeros((3, 3), np.uint8)),
    ({"bits_per_sample": 4}, np.full((3, 3), 16, np.uint8)),
    ({"bits_per_sample": 17}, np.zeros((3, 3), np.uint16)),
    ({"thresholds": (9, 5, 30)}, np.zeros((3, 3), np.uint8)),
    ({"reset": 2}, np.zeros((3, 3), np.uint8)),
    ({"near": 0}, np.zeros((0, 3), np.uint8)),
    ({"near": 0}, np.full((2, 2), -1, np.int16)),
])
def test_encoder_rejects_bad_input(kwargs, image):
    with pytest.raises(JpegLsError):
        encode(image, **kwargs)


def test_ratio_id_table():
    assert [near_for_ratio_id(i) for i in range(6)] == [0, 1, 2, 3, 4, 5]
    assert NEAR_FOR_RATIO_ID[0] == 0
    assert split_ratio_word(520) == (2, 8)
    assert near_for_ratio_id(520) == 1
    with pytest.raises(JpegLsError):
        near_for_ratio_id(0x0309)


def test_flown_framelet_roundtrip(data_dir):
    dn = flown_dn(data_dir)
    lossless = encode(dn, bits_per_sample=14)
    np.testing.assert_array_equal(decode(lossless), dn)
    near4 = encode(dn, near=4, bits_per_sample=14)
    assert np.abs(decode(near4).astype(int) - dn).max() <= 4
    assert len(near4) < len(lossless)


def test_flown_compressed_size_supports_ratio_decision(data_dir):
    """The flown 2018 framelet (word 520) was 287148 B; NEAR 1 reproduces that within 3 %."""
    f = data_dir / "compressed/CAS-M01-2018-05-05T23.11.48.767-RED-01029-B1.dat"
    dn = np.clip(np.rint(np.fromfile(f, "<f4").reshape(256, 1792) / 5.18481e-5), 0, 16383)
    size = len(encode(dn.astype(np.uint16), near=near_for_ratio_id(520), bits_per_sample=14))
    assert abs(size / 287148 - 1) < 0.03
    assert dn.size * 2 / 287148 == pytest.approx(3.195, abs=1e-3)


def test_decode_batch_restores_thread_count():
    import numba

    before = numba.get_num_threads()
    decode_batch([encode(make("terrain", (8, 8), 8, seed=1))], threads=1)
    assert numba.get_num_threads() == before


def test_encode_accepts_other_integer_layouts():
    img = make("terrain", (20, 30), 12, seed=6)
    ref = encode(img, bits_per_sample=12)
    assert encode(np.asfortranarray(img), bits_per_sample=12) == ref
    assert encode(img.astype(np.int32), bits_per_sample=12) == ref
    assert encode(img[:, ::-1][:, ::-1], bits_per_sample=12) == ref


def test_fill_bytes_before_eoi_and_rst():
    img = make("terrain", (20, 20), 12, seed=8)
    data = encode(img, bits_per_sample=12, restart_interval=5)
    padded = data[:-2] + b"\xff\xff\xff\xd9"
    i = data.index(b"\xff\xd0")
    padded = padded[:i] + b"\xff\xff" + padded[i:]
    np.testing.assert_array_equal(decode(padded), img)
