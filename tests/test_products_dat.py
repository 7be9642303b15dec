"""DAT writer: byte layout, round trips through the one DAT reader
(:func:`cassis_pipe.labels.dat.read_dat`), errors, and the flown level-1b files."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cassis_pipe.labels.arrays import ArrayGeometry, Axis
from cassis_pipe.labels.dat import read_dat
from cassis_pipe.products.dat_writer import to_dat_bytes, write_dat
from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.pds4 import PDS4_DATA_TYPES

shapes = st.tuples(st.integers(1, 17), st.integers(1, 23))


def _geom(shape: tuple[int, int], dtype: str) -> ArrayGeometry:
    """The array description our labels write for a (lines, samples) ``dtype`` DAT."""
    axes = (Axis("Line", shape[0], 1), Axis("Sample", shape[1], 2))
    return ArrayGeometry("Array_2D_Image", axes, PDS4_DATA_TYPES[dtype], "Last Index Fastest")


def _round_trip(a: np.ndarray) -> np.ndarray:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "a.dat"
        assert write_dat(p, a) == a.nbytes
        return read_dat(p, _geom(a.shape, a.dtype.name))


def test_little_endian_layout() -> None:
    a = np.array([[1, 0x0203], [0xFFFF, 4]], dtype=np.uint16)
    assert to_dat_bytes(a) == b"\x01\x00\x03\x02\xff\xff\x04\x00"
    f = np.array([[1.0, -2.0]], dtype=">f4")  # big-endian input is written little-endian
    assert to_dat_bytes(f) == np.array([1.0, -2.0], "<f4").tobytes()


@settings(max_examples=60, deadline=None)
@given(arrays(np.uint16, shapes))
def test_uint16_round_trip(a: np.ndarray) -> None:
    buf = to_dat_bytes(a)
    assert len(buf) == a.size * 2
    back = _round_trip(a)
    assert back.dtype == np.uint16 and np.array_equal(back, a)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, shapes, elements=st.floats(width=32, allow_nan=True)))
def test_float32_round_trip_bit_exact(a: np.ndarray) -> None:
    back = _round_trip(a)
    assert back.dtype == np.float32 and back.flags.writeable
    assert np.array_equal(back.view(np.uint32), a.view(np.uint32))


def test_file_round_trip_deterministic(tmp_path) -> None:
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    p1, p2 = tmp_path / "a.dat", tmp_path / "b.dat"
    assert write_dat(p1, a) == 48
    write_dat(p2, a.copy(order="F"))  # memory order does not change the bytes
    assert p1.read_bytes() == p2.read_bytes()
    assert np.array_equal(read_dat(p1, _geom((3, 4), "float32")), a)


@pytest.mark.parametrize("bad", [np.zeros((2, 2), np.int32), np.zeros((2, 2), np.float64),
                                 np.zeros((2, 2, 2), np.uint16), np.zeros(3, np.float32)])
def test_rejects_bad_arrays(bad: np.ndarray) -> None:
    with pytest.raises(ProductError):
        to_dat_bytes(bad)


def test_flown_level1b_files_are_dat(data_dir) -> None:
    """The Bern level-1b framelets are float32 LE 2048-sample lines: byte-exact re-encoding."""
    for path in sorted((data_dir / "level1b").glob("*.dat")):
        raw = path.read_bytes()
        lines = len(raw) // (2048 * 4)
        if lines * 2048 * 4 != len(raw):  # the BLU copy is truncated mid-line
            raw = raw[: lines * 2048 * 4]
        a = np.frombuffer(raw, "<f4").reshape(lines, 2048)
        assert to_dat_bytes(a) == raw
        assert np.isfinite(a).all() and 0.0 < float(np.median(a)) < 1.0  # I/F, not DN
