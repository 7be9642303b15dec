"""Browse images: percentile stretch, the five CaSSIS composites, PNG/JPG encoding."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.images import (
    COMPOSITES,
    available_composites,
    block_mean,
    composite_rgba,
    jpg_bytes,
    png_bytes,
    quicklook_grey,
    stretch_limits,
    stretch_to_uint8,
    valid_mask,
    write_composite_png,
    write_quicklook_jpg,
)
from cassis_pipe.products.metadata import FLOAT32_MISSING


def _bands(shape=(40, 50)) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    return {f: (rng.random(shape) * s + o).astype(np.float32)
            for f, s, o in (("PAN", 0.1, 0.2), ("RED", 0.2, 0.3), ("NIR", 0.1, 0.3),
                            ("BLU", 0.05, 0.1))}


def test_five_combinations() -> None:
    assert list(COMPOSITES) == ["NIR-PAN-BLU", "NIR-RED-BLU", "NIR-RED-PAN", "RED-PAN-BLU",
                                "PAN-BLU"]
    for name, rgb in COMPOSITES.items():
        assert [b for b in rgb if b is not None] == name.split("-")


def test_valid_mask() -> None:
    a = np.array([0.1, np.nan, np.inf, FLOAT32_MISSING, -3.40282265e38, -0.5], np.float32)
    assert valid_mask(a).tolist() == [True, False, False, False, False, True]
    assert valid_mask(np.zeros(3, np.uint16)).all()


def test_stretch_percentiles() -> None:
    a = np.arange(1000, dtype=np.float32).reshape(20, 50)
    mask = np.ones(a.shape, bool)
    lo, hi = stretch_limits(a, mask)
    assert lo == pytest.approx(np.percentile(np.arange(1000), 0.5))
    assert hi == pytest.approx(np.percentile(np.arange(1000), 99.5))
    out = stretch_to_uint8(a, mask)
    assert out.min() == 0 and out.max() == 255 and out.dtype == np.uint8
    assert (out.ravel()[:5] == 0).all() and (out.ravel()[-5:] == 255).all()
    mask[0, 0] = False
    assert stretch_to_uint8(a + 1e9, mask)[0, 0] == 0  # invalid pixels are 0
    assert stretch_limits(a, np.zeros(a.shape, bool)) == (0.0, 0.0)
    assert not stretch_to_uint8(np.full((3, 3), 0.2, np.float32), np.ones((3, 3), bool)).any()
    with pytest.raises(ProductError):
        stretch_limits(a, mask, 60.0, 40.0)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 12)),
              elements=st.floats(-1e6, 1e6, width=32)))
def test_stretch_is_monotonic(a: np.ndarray) -> None:
    mask = np.ones(a.shape, bool)
    out = stretch_to_uint8(a, mask)
    order = np.argsort(a.ravel(), kind="stable")
    assert (np.diff(out.ravel()[order].astype(int)) >= 0).all()


@pytest.mark.parametrize("combo", list(COMPOSITES))
def test_composites(combo: str) -> None:
    bands = _bands()
    bands["NIR"][3, 4] = np.nan
    bands["BLU"][5, 6] = np.float32(FLOAT32_MISSING)
    rgba = composite_rgba(bands, combo)
    assert rgba.shape == (40, 50, 4) and rgba.dtype == np.uint8
    used = set(combo.split("-"))
    holes = {(3, 4)} if "NIR" in used else set()
    holes |= {(5, 6)} if "BLU" in used else set()
    transparent = {tuple(int(v) for v in ij) for ij in np.argwhere(rgba[..., 3] == 0)}
    assert transparent == holes
    for ij in holes:
        assert not rgba[ij].any()
    opaque = rgba[..., 3] == 255
    for c in range(3):
        assert rgba[..., c][opaque].min() == 0 and rgba[..., c][opaque].max() == 255


def test_pan_blu_synthetic_green() -> None:
    bands = _bands()
    rgba = composite_rgba(bands, "PAN-BLU")
    mask = np.ones((40, 50), bool)
    mean = 0.5 * (bands["PAN"].astype(np.float64) + bands["BLU"].astype(np.float64))
    assert np.array_equal(rgba[..., 0], stretch_to_uint8(bands["PAN"], mask))
    assert np.array_equal(rgba[..., 1], stretch_to_uint8(mean, mask))
    assert np.array_equal(rgba[..., 2], stretch_to_uint8(bands["BLU"], mask))
    rgba3 = composite_rgba(bands, "RED-PAN-BLU")  # the order of channels follows the name
    assert np.array_equal(rgba3[..., 1], stretch_to_uint8(bands["PAN"], mask))


def test_png_lossless_and_deterministic(tmp_path) -> None:
    rgba = composite_rgba(_bands(), "NIR-RED-BLU")
    one = png_bytes(rgba)
    assert one == png_bytes(rgba.copy())
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(one))), rgba)
    assert b"tIME" not in one  # no timestamp chunk
    path = write_composite_png(tmp_path / "c.png", _bands(), "NIR-RED-BLU")
    assert path.read_bytes() == one


def test_jpg_quicklook(tmp_path) -> None:
    band = _bands()["PAN"]
    band[0, :10] = np.float32(FLOAT32_MISSING)
    grey = quicklook_grey(band)
    data = jpg_bytes(grey)
    assert data == jpg_bytes(grey)
    img = Image.open(io.BytesIO(data))
    assert img.mode == "L" and img.size == (50, 40) and img.format == "JPEG"
    assert np.abs(np.asarray(img).astype(int) - grey).mean() < 8  # lossy but close
    assert write_quicklook_jpg(tmp_path / "q.jpg", band).read_bytes() == data


def test_bad_inputs() -> None:
    bands = _bands()
    with pytest.raises(ProductError, match="unknown combination"):
        composite_rgba(bands, "RGB")
    with pytest.raises(ProductError, match="needs bands"):
        composite_rgba({"PAN": bands["PAN"]}, "PAN-BLU")
    bands["BLU"] = bands["BLU"][:, :-1]
    with pytest.raises(ProductError, match="co-registered"):
        composite_rgba(bands, "PAN-BLU")
    with pytest.raises(ProductError):
        png_bytes(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ProductError):
        jpg_bytes(np.zeros((2, 2), np.float32))
    with pytest.raises(ProductError):
        quicklook_grey(np.zeros(5, np.float32))


def test_flown_bands(data_dir) -> None:
    """Composites of the four flown level-1b bands (first 6 full lines, same exposure)."""
    bands = {}
    for f in ("PAN", "RED", "NIR", "BLU"):
        path = next((data_dir / "level1b").glob(f"*-{f}-*.dat"))
        bands[f] = np.fromfile(path, "<f4")[: 6 * 2048].reshape(6, 2048)
    for combo in COMPOSITES:
        rgba = composite_rgba(bands, combo)
        assert (rgba[..., 3] == 255).all()
        assert all(rgba[..., c].min() == 0 and rgba[..., c].max() == 255 for c in range(3))
    pan = next((data_dir / "level1b").glob("*-PAN-*.dat"))
    grey = quicklook_grey(np.fromfile(pan, "<f4").reshape(280, 2048))
    assert 100 < grey.mean() < 160  # a well-exposed, stretched framelet


def test_available_composites() -> None:
    assert available_composites(_bands()) == list(COMPOSITES)
    b = _bands()
    del b["NIR"]
    assert available_composites(b) == ["RED-PAN-BLU", "PAN-BLU"]
    assert available_composites({"PAN": b["PAN"]}) == []


def test_block_mean_and_reduced_quicklook() -> None:
    a = np.arange(35, dtype=np.float32).reshape(5, 7)
    a[0, 0] = np.nan
    m = block_mean(a, 2)
    assert m.shape == (3, 4)
    assert m[0, 0] == pytest.approx((1 + 7 + 8) / 3)  # NaN left out
    assert m[2, 3] == 34.0  # partial corner block
    a[:2, :2] = np.float32(FLOAT32_MISSING)
    assert np.isnan(block_mean(a, 2)[0, 0])
    assert np.array_equal(block_mean(a, 1)[2:], a[2:].astype(np.float64))
    big = _bands((400, 1000))["PAN"]
    q = quicklook_grey(big, max_side=256)
    assert q.shape == (100, 250) and q.max() == 255
    assert quicklook_grey(big, max_side=5000).shape == (400, 1000)
    with pytest.raises(ProductError):
        quicklook_grey(big, max_side=0)
