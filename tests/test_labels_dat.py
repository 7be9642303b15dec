"""DAT reader on every real data file, plus synthetic layouts (byte order, offset, sizes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cassis_pipe.labels.arrays import ArrayGeometry, Axis
from cassis_pipe.labels.bern import FrameletLabel, read_bern_label
from cassis_pipe.labels.dat import dat_path_for, mask_special, read_dat
from cassis_pipe.labels.pds4 import read_pds4_label
from cassis_pipe.labels.xmlsafe import LabelError

DATA = Path(__file__).parent / "data"
BERN_XML = sorted((DATA / "level1b").glob("*.xml")) + sorted((DATA / "compressed").glob("*.xml"))
PSA = DATA / "psa-derived" / "MY36_015782_024_0_PAN_cropped.xml"


def _load(path: Path) -> tuple[FrameletLabel, np.ndarray]:
    lab = read_bern_label(path)
    return lab, read_dat(dat_path_for(path, lab), lab)


def test_every_data_file_is_covered(data_dir: Path) -> None:
    dats = sorted(data_dir.rglob("*.dat"))
    assert len(dats) == len(BERN_XML) + 1
    assert {d.with_suffix(".xml") for d in dats} == set(BERN_XML) | {PSA}


@pytest.mark.parametrize("path", BERN_XML, ids=lambda p: p.stem[-12:])
def test_bern_arrays_are_plausible_if(path: Path) -> None:
    lab, arr = _load(path)
    assert lab.array is not None
    assert arr.shape == lab.array.shape and arr.dtype == np.float32
    assert arr.dtype.byteorder in "=|" and arr.flags.c_contiguous
    assert np.isfinite(arr).all()
    lo, med, hi = np.percentile(arr, [1, 50, 99])
    assert 0.02 < lo <= med <= hi < 0.6, (lo, med, hi)  # I/F of Mars' surface
    assert arr.std() > 0


def test_level1b_shapes() -> None:
    shapes = {p.stem.split("-")[-3]: _load(p)[1].shape for p in BERN_XML if "MCO" in p.name}
    assert shapes == {"PAN": (280, 2048), "RED": (256, 2048), "NIR": (256, 2048), "BLU": (218, 64)}
    (comp,) = (p for p in BERN_XML if "M01" in p.name)
    assert _load(comp)[1].shape == (256, 1792)


def _interpolated_expansion(a: np.ndarray) -> bool:
    """True when odd rows/cols are midpoints of their even neighbours (bilinear 2x expansion)."""
    a = a.astype(np.float64)
    cols = np.allclose(a[:, 1:-1:2], 0.5 * (a[:, 0:-2:2] + a[:, 2::2]), rtol=0, atol=1e-6)
    rows = np.allclose(a[1:-1:2], 0.5 * (a[0:-2:2] + a[2::2]), rtol=0, atol=1e-6)
    return bool(cols and rows)


def test_nir_was_binned_and_expanded() -> None:
    """NIR (binning code 1) was read 2x2 binned and expanded to 2048 x 256 on ground.

    The flown file is NOT made of identical 2x2 blocks: the expansion interpolates, so odd
    rows/columns are the mean of their even neighbours and the last row/column is repeated.
    """
    (nir,) = (p for p in BERN_XML if "-NIR-" in p.name)
    lab, a = _load(nir)
    assert lab.binning == 1
    assert _interpolated_expansion(a)
    assert np.array_equal(a[-1], a[-2]) and np.array_equal(a[:, -1], a[:, -2])
    assert not np.array_equal(a[0::2, 0::2], a[1::2, 1::2])  # not block-replicated
    # one defective binned line (row 246 = binned row 123) goes negative: keep it, don't hide it
    assert (a < 0).sum() == 1023 and (a[246] < 0).sum() == 1023


@pytest.mark.parametrize("filt", ["PAN", "RED", "BLU"])
def test_unbinned_filters_are_not_interpolated(filt: str) -> None:
    (path,) = (p for p in BERN_XML if f"-{filt}-" in p.name and "MCO" in p.name)
    lab, a = _load(path)
    assert lab.binning == 0 and not _interpolated_expansion(a)


def test_psa_cropped_dat() -> None:
    lab = read_pds4_label(PSA)
    path = dat_path_for(PSA, lab)
    assert path.name == "MY36_015782_024_0_PAN_cropped.dat"
    arr = read_dat(path, lab)
    assert arr.shape == (3, 500) and arr.dtype == np.float32
    masked = mask_special(arr, lab)
    special = np.isnan(masked)
    # the first line starts with 347 ISIS special pixels (0xFF7FFFFF = high repr. saturation)
    assert special.sum() == 347 and special[0, :347].all()
    assert (arr.view(np.uint32)[special] == 0xFF7FFFFF).all()
    valid = masked[~special]
    assert np.isfinite(valid).all() and 0.2 < valid.min() and valid.max() < 0.35
    # lines 1 and 2 are neighbours on the ground: they agree to a few per cent
    assert np.abs(masked[1] - masked[2]).mean() < 0.01


def _geom(data_type: str, shape: tuple[int, int], offset: int = 0, **kw: float) -> ArrayGeometry:
    axes = (Axis("Sample", shape[1], 1), Axis("Line", shape[0], 2))
    return ArrayGeometry("Array_2D_Image", axes, data_type, "Last Index Fastest", offset, **kw)


@pytest.mark.parametrize(
    "data_type", ["IEEE754MSBSingle", "IEEE754LSBDouble", "SignedMSB2", "UnsignedLSB2"]
)
def test_synthetic_byte_orders(tmp_path: Path, data_type: str) -> None:
    geom = _geom(data_type, (3, 5), offset=16)
    ref = (np.arange(15).reshape(3, 5) * 3 - 7).astype(geom.dtype)
    if data_type.startswith("Unsigned"):
        ref = np.abs(ref)
    f = tmp_path / "x.dat"
    f.write_bytes(b"\xaa" * 16 + ref.tobytes())
    got = read_dat(f, geom)
    assert got.dtype.byteorder in "=|" and np.array_equal(got, ref)


def test_scaling_applied(tmp_path: Path) -> None:
    geom = _geom("UnsignedLSB2", (2, 2), scaling_factor=0.5, value_offset=10.0)
    f = tmp_path / "s.dat"
    f.write_bytes(np.array([[0, 2], [4, 6]], "<u2").tobytes())
    assert np.array_equal(read_dat(f, geom), [[10.0, 11.0], [12.0, 13.0]])
    assert np.array_equal(read_dat(f, geom, apply_scaling=False), [[0, 2], [4, 6]])


@pytest.mark.parametrize("delta", [-4, -1, 1, 4096])
def test_wrong_size_is_label_error(tmp_path: Path, delta: int) -> None:
    path = BERN_XML[0]
    lab = read_bern_label(path)
    data = dat_path_for(path, lab).read_bytes()
    f = tmp_path / "cut.dat"
    f.write_bytes(data[:delta] if delta < 0 else data + b"\0" * delta)
    with pytest.raises(LabelError, match="cut.dat"):
        read_dat(f, lab)


def test_label_errors(tmp_path: Path) -> None:
    dmp = read_bern_label(
        DATA / "pds4-exports" / "CAS-MCO-2016-11-20T15.30.00.349-DMP-00000-00.xml"
    )
    with pytest.raises(LabelError, match="cannot read"):
        read_dat(tmp_path / "none.dat", dmp)
    with pytest.raises(LabelError, match="unsupported data_type"):
        read_dat(tmp_path / "none.dat", _geom("ComplexLSB16", (1, 1)))
    bare = ArrayGeometry("Array", (), "IEEE754LSBSingle", None)
    with pytest.raises(LabelError, match="no axes"):
        read_dat(tmp_path / "none.dat", bare)
