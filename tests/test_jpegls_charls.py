"""Bit-exactness against CharLS (via imagecodecs and via its C API for any bit depth).

Our decoder must reproduce CharLS's pixels on CharLS streams, CharLS must decode our streams to
our pixels, and with the same parameters our stream must be byte-identical to CharLS's (the
SPIFF header imagecodecs adds carries no coding information and is stripped).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.codec import decode, encode
from tests.support import charls_ref
from tests.support.testimages import KINDS, make

imagecodecs = pytest.importorskip("imagecodecs")
pytestmark = pytest.mark.skipif(not charls_ref.available(), reason="libcharls not found")

BITS = [8, 10, 12, 14, 16]
NEARS = [0, 1, 2, 3, 5, 8]
SMALL_SHAPES = [(1, 1), (1, 37), (37, 1), (13, 29), (31, 64)]


def strip_spiff(data: bytes) -> bytes:
    """Remove CharLS's SPIFF header (APP8 'SPIFF', directory entries, second SOI)."""
    if data[2:4] != b"\xff\xe8" or data[6:11] != b"SPIFF":
        return data
    return data[data.index(b"\xff\xd8\xff\xf7"):]


def check_peer(img: np.ndarray, bits: int, near: int) -> None:
    theirs = charls_ref.encode(img, bits, near)
    ours = encode(img, near=near, bits_per_sample=bits)
    assert ours == theirs
    ref = charls_ref.decode(theirs)
    mine = decode(theirs)
    assert mine.dtype == ref.dtype
    np.testing.assert_array_equal(mine, ref)
    np.testing.assert_array_equal(charls_ref.decode(ours), decode(ours))
    assert np.abs(mine.astype(np.int64) - img.astype(np.int64)).max() <= near


@pytest.mark.parametrize("near", NEARS)
@pytest.mark.parametrize("bits", BITS)
def test_small_images_match_charls(bits, near):
    for shape in SMALL_SHAPES:
        for i, kind in enumerate(KINDS):
            check_peer(make(kind, shape, bits, seed=7 * i + bits + near), bits, near)


@pytest.mark.parametrize("shape", [(256, 2048), (280, 2048)])
@pytest.mark.parametrize("near", [0, 4])
def test_framelet_size_terrain_14bit(shape, near):
    check_peer(make("terrain", shape, 14, seed=near), 14, near)


def test_flown_framelet_matches_charls(data_dir):
    f = data_dir / "level1b/CAS-MCO-2016-11-26T22.50.27.381-PAN-00005-B1.dat"
    dn = np.clip(np.rint(np.fromfile(f, "<f4").reshape(280, 2048) / 1.79157e-05), 0, 16383)
    for near in (0, 2):
        check_peer(dn.astype(np.uint16), 14, near)


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(256, 2048), (280, 2048), (257, 1023)])
@pytest.mark.parametrize("near", NEARS)
@pytest.mark.parametrize("bits", BITS)
def test_full_sweep_large(bits, near, shape):
    for i, kind in enumerate(KINDS):
        check_peer(make(kind, shape, bits, seed=i), bits, near)


@settings(max_examples=80, deadline=None)
@given(
    bits=st.integers(2, 16),
    near=st.integers(0, 10),
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 2**31),
)
def test_hypothesis_matches_charls(bits, near, h, w, kind, seed):
    near = min(near, ((1 << bits) - 1) // 2)
    check_peer(make(kind, (h, w), bits, seed), bits, near)


@pytest.mark.parametrize("preset", [(0, 10, 20, 30, 0), (0, 0, 0, 0, 100),
                                    (0, 5, 50, 500, 255), (16383, 0, 0, 0, 0)])
@pytest.mark.parametrize("near", [0, 2])
def test_preset_parameters_match_charls(preset, near):
    """LSE type 1 thresholds / RESET. (A MAXVAL below 2**P - 1 is left out on purpose: CharLS
    2.4.3 writes it in the LSE but codes with 2**P - 1; we follow T.87, see docs/icd.md.)"""
    img = make("terrain", (40, 50), 14, seed=3)
    theirs = charls_ref.encode(img, 14, near, preset)
    mine = decode(theirs)
    np.testing.assert_array_equal(mine, charls_ref.decode(theirs))
    t = preset[1:4] if preset[1] else None
    ours = encode(img, near=near, bits_per_sample=14, thresholds=t, reset=preset[4] or None)
    assert ours == theirs


def test_custom_maxval_follows_t87():
    """Our decoder codes with the LSE MAXVAL (T.87 C.2.4.1.1): a flat image at MAXVAL = 1000 in
    a 14-bit frame costs a handful of bytes and round-trips through our own scan coder."""
    from cassis_pipe.codec.encoder import encode_scan, worst_case_bytes
    from cassis_pipe.codec.markers import write_header
    from cassis_pipe.codec.params import resolve_params

    img = np.minimum(make("terrain", (40, 50), 14, seed=3), 1000).astype(np.uint16)
    img[::7, ::5] = 3
    p = resolve_params(50, 40, 14, 0, maxval=1000)
    buf = np.empty(worst_case_bytes(50, 40, 14, 1), dtype=np.uint8)
    n = encode_scan(img, p.as_array(), buf)
    data = write_header(p) + buf[:n].tobytes() + b"\xff\xd9"
    np.testing.assert_array_equal(decode(data), img)


@pytest.mark.parametrize("interval", [1, 3, 64])
@pytest.mark.parametrize("near", [0, 3])
def test_restart_markers_decoded_by_charls(interval, near):
    img = make("terrain", (100, 70), 14, seed=interval)
    ours = encode(img, near=near, bits_per_sample=14, restart_interval=interval)
    np.testing.assert_array_equal(charls_ref.decode(ours), decode(ours))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("level", [None, 0, 3])
def test_imagecodecs_interop(dtype, level):
    """imagecodecs infers bits from the dtype (8 or 16) and writes a SPIFF header."""
    bits = 8 if dtype == np.uint8 else 16
    img = make("terrain", (33, 45), bits, seed=5)
    theirs = imagecodecs.jpegls_encode(img, level=level)
    np.testing.assert_array_equal(decode(theirs), imagecodecs.jpegls_decode(theirs))
    ours = encode(img, near=level or 0)
    assert ours == strip_spiff(theirs)
    np.testing.assert_array_equal(imagecodecs.jpegls_decode(ours), decode(ours))


def test_scans_ending_in_ff_identical_to_charls():
    rng = np.random.default_rng(11)
    found = 0
    for _ in range(6000):
        img = rng.integers(0, 256, size=(1, int(rng.integers(1, 6)))).astype(np.uint8)
        ours = encode(img)
        if ours[-4:-2] == b"\xff\x00":
            found += 1
            assert ours == charls_ref.encode(img, 8, 0)
    assert found > 0
