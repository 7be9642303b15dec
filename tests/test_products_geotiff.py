"""GeoTIFF writer: IAU 2015 Mars CRS, geotransform, nodata, tiling, compression, overviews."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import rasterio
from hypothesis import given, settings
from hypothesis import strategies as st
from rasterio.crs import CRS

from cassis_pipe.parallel import set_threads
from cassis_pipe.products.crs import (
    MARS_RADIUS_M,
    MapProjection,
    crs_wkt2,
    equirectangular,
    iau_code,
    polar_stereographic,
    rasterio_crs,
    same_crs,
)
from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.geotiff import WKT2_TAG, overview_factors, read_geotiff, write_geotiff
from cassis_pipe.products.metadata import FLOAT32_MISSING, MapInfo

PROJECTIONS = {
    "eqc_clon0": (equirectangular(), 49910),
    "eqc_clon180": (equirectangular(180.0), 49915),
    "eqc_custom": (equirectangular(180.0, 20.0), None),
    "eqc_local_radius": (equirectangular(180.0, 20.0, 3393833.261), None),
    "north_polar": (polar_stereographic(True), 49930),
    "south_polar": (polar_stereographic(False), 49935),
    "south_polar_custom": (polar_stereographic(False, 90.0, 0.98), None),
}


def _raster(shape=(600, 700)) -> np.ndarray:
    a = np.random.default_rng(5).random(shape).astype(np.float32)
    a[:20, :30] = np.nan
    a[-1, -5:] = np.float32(FLOAT32_MISSING)
    return a


@pytest.mark.parametrize("key", sorted(PROJECTIONS))
def test_round_trip(key: str, tmp_path) -> None:
    proj, code = PROJECTIONS[key]
    assert iau_code(proj) == code
    info = MapInfo(proj, 4.0, 5.0, -1200.0, 3400.0, 10.0, 11.0, 1.0, 0.0)
    a = _raster()
    path = write_geotiff(tmp_path / "m.tif", a, info, tags={"PRODUCT": key})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tif"]  # no sidecar files
    g = read_geotiff(path)
    assert same_crs(g.crs, rasterio_crs(proj))
    assert same_crs(g.geokeys_crs, rasterio_crs(proj))
    if code is not None:
        assert g.crs.to_authority() == ("IAU_2015", str(code))
        if proj.kind == "equirectangular":  # GDAL re-identifies these from the keys alone
            assert g.geokeys_crs.to_authority() == ("IAU_2015", str(code))
    assert g.geotransform == (-1200.0, 4.0, 0.0, 3400.0, 0.0, -5.0)
    assert g.nodata == FLOAT32_MISSING
    assert g.block_shape == (256, 256)
    assert g.overviews == [2, 4]
    assert g.compression == "zstd" and g.predictor == 3
    expected = np.where(np.isnan(a), np.float32(FLOAT32_MISSING), a)
    assert np.array_equal(g.array, expected)
    assert g.tags["PRODUCT"] == key
    wkt = g.tags[WKT2_TAG]
    assert wkt == crs_wkt2(proj)
    if proj.radius_m == MARS_RADIUS_M:
        assert 'ID["IAU",49900,2015]' in wkt
    if code is not None:
        assert wkt.endswith(f'ID["IAU",{code},2015]]')
    assert same_crs(CRS.from_wkt(wkt), g.crs)


def test_inconsistent_wkt2_tag_is_ignored(tmp_path) -> None:
    info = MapInfo(equirectangular(180.0, 20.0), 4, 4, 0, 0, 0, 1, 1, 0)
    write_geotiff(tmp_path / "m.tif", _raster((10, 10)), info,
                  tags={WKT2_TAG: crs_wkt2(polar_stereographic(True))})
    g = read_geotiff(tmp_path / "m.tif")
    assert g.crs == g.geokeys_crs and same_crs(g.crs, rasterio_crs(info.projection))


def test_projection_parameters_survive(tmp_path) -> None:
    proj = equirectangular(180.0, 20.0, 3393833.261)
    write_geotiff(tmp_path / "m.tif", _raster((10, 10)), MapInfo(proj, 4, 4, 0, 0, 0, 1, 1, 0))
    params = read_geotiff(tmp_path / "m.tif").crs.to_dict()
    assert params["proj"] == "eqc" and params["lat_ts"] == 20 and params["lon_0"] == 180
    assert params["R"] == 3393833.261
    assert not same_crs(read_geotiff(tmp_path / "m.tif").crs, rasterio_crs(equirectangular(180.0)))


def test_wkt2_matches_proj_database() -> None:
    """Our hand-built WKT2 describes the same CRS as PROJ's IAU_2015 entry for each code."""
    for proj, code in PROJECTIONS.values():
        if code is not None:
            assert same_crs(CRS.from_wkt(crs_wkt2(proj)), CRS.from_user_input(f"IAU_2015:{code}"))


def test_deterministic_bytes(tmp_path) -> None:
    info = MapInfo(equirectangular(180.0, 20.0), 4, 4, 0, 0, 0, 1, 1, 0)
    a = _raster((300, 260))
    write_geotiff(tmp_path / "a.tif", a, info)
    write_geotiff(tmp_path / "b.tif", a, info)
    assert (tmp_path / "a.tif").read_bytes() == (tmp_path / "b.tif").read_bytes()


def test_uint16_and_small_rasters(tmp_path) -> None:
    info = MapInfo(polar_stereographic(True), 100, 100, 0, 0, 0, 360, 90, 80)
    dn = np.arange(50 * 40, dtype=np.uint16).reshape(50, 40)
    g = read_geotiff(write_geotiff(tmp_path / "dn.tif", dn, info))
    assert g.nodata is None and g.predictor == 2 and g.overviews == []
    assert np.array_equal(g.array, dn)


def test_overview_factors() -> None:
    assert overview_factors(100, 256) == []
    assert overview_factors(257, 10) == [2]
    assert overview_factors(20000, 5000) == [2, 4, 8, 16, 32, 64, 128]


def test_rejects_bad_input(tmp_path) -> None:
    info = MapInfo(equirectangular(), 4, 4, 0, 0, 0, 1, 1, 0)
    for bad in (np.zeros((2, 2, 2), np.float32), np.zeros((3, 3), np.float64),
                np.zeros((0, 3), np.float32)):
        with pytest.raises(ProductError):
            write_geotiff(tmp_path / "x.tif", bad, info)
    (tmp_path / "junk.tif").write_bytes(b"not a tiff")
    with pytest.raises(ProductError):
        read_geotiff(tmp_path / "junk.tif")


@pytest.mark.parametrize("kwargs", [
    {"kind": "mercator"}, {"standard_parallel_deg": 90.0}, {"radius_m": -1.0},
    {"center_longitude_deg": 400.0}, {"kind": "polar_stereographic", "pole_latitude_deg": 45.0},
    {"pole_latitude_deg": 90.0}, {"standard_parallel_deg": float("nan")},
])
def test_bad_projection(kwargs) -> None:
    with pytest.raises(ProductError):
        MapProjection(**kwargs)


def test_bad_map_info() -> None:
    with pytest.raises(ProductError):
        MapInfo(equirectangular(), 0.0, 4, 0, 0, 0, 1, 1, 0)
    with pytest.raises(ProductError):
        MapInfo(equirectangular(), 4, 4, 0, 0, 0, 1, 0, 1)  # north < south


def test_rasterio_opens_with_standard_tools(tmp_path) -> None:
    """Plain rasterio sees a tiled, ZSTD-compressed file with internal overviews."""
    info = MapInfo(equirectangular(), 4, 4, 0, 0, 0, 1, 1, 0)
    write_geotiff(tmp_path / "m.tif", _raster(), info)
    with rasterio.open(tmp_path / "m.tif") as ds:
        assert ds.profile["tiled"] and ds.profile["compress"] == "zstd"
        assert ds.overviews(1) == [2, 4]
        ov = ds.read(1, out_shape=(150, 175))  # served from the 4x overview
        assert ov.shape == (150, 175)


def test_corrupted_geotiff_raises_product_error(tmp_path) -> None:
    info = MapInfo(equirectangular(), 4, 4, 0, 0, 0, 1, 1, 0)
    good = write_geotiff(tmp_path / "m.tif", _raster((300, 300)), info).read_bytes()
    rng = np.random.default_rng(9)
    for i in range(12):
        buf = bytearray(good)
        if i % 3 == 0:
            buf = buf[: rng.integers(8, len(buf))]  # truncated
        else:
            for pos in rng.integers(0, len(buf), 40):
                buf[pos] = rng.integers(0, 256)
        path = tmp_path / f"bad{i}.tif"
        path.write_bytes(bytes(buf))
        try:
            g = read_geotiff(path)
        except ProductError:
            continue
        assert g.array.shape == (300, 300)  # some flips land in unused bytes or pixel values


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.floats(-180, 360), st.floats(-89, 89),
       st.floats(0.5, 500), st.floats(-1e6, 1e6), st.integers(0, 2**31))
def test_random_rasters_round_trip(lines, samples, clon, clat, res, x0, seed) -> None:
    import tempfile

    a = np.random.default_rng(seed).standard_normal((lines, samples)).astype(np.float32)
    proj = equirectangular(clon, clat)
    info = MapInfo(proj, res, res, x0, -x0, 0, 1, 1, 0)
    with tempfile.TemporaryDirectory() as d:
        g = read_geotiff(write_geotiff(f"{d}/r.tif", a, info))
    assert np.array_equal(g.array, a)
    assert g.geotransform == (x0, res, 0.0, -x0, 0.0, -res)
    assert same_crs(g.crs, rasterio_crs(proj))
    # GDAL reports a factor from the x size, so only the count is comparable for thin rasters
    assert len(g.overviews) == len(overview_factors(lines, samples))


def test_bytes_do_not_depend_on_thread_count(tmp_path) -> None:
    """GDAL compresses tiles (and overviews) in numba's thread count of threads; the file is
    the same for 1 and 2 threads."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba started with one thread")
    info = MapInfo(equirectangular(), 4, 4, 0, 0, 0, 1, 1, 0)
    before = numba.get_num_threads()
    out = {}
    try:
        for n in (1, 2):
            set_threads(n)
            out[n] = write_geotiff(tmp_path / f"t{n}.tif", _raster((1100, 900)), info).read_bytes()
    finally:
        set_threads(before)
    assert out[1] == out[2]


def test_empty_tiles_are_not_stored_and_read_back_as_nodata(tmp_path) -> None:
    """A map with whole tiles of nodata (the corners of a diagonal strip): those tiles are not
    written (sparse file), yet every pixel and every overview reads back as written."""
    a = np.full((1024, 1024), np.nan, dtype=np.float32)
    a[300:700, 300:700] = np.random.default_rng(3).random((400, 400)).astype(np.float32)
    info = MapInfo(equirectangular(), 4, 4, 0, 0, 0, 1, 1, 0)
    p = write_geotiff(tmp_path / "sparse.tif", a, info)
    dense = np.where(np.isnan(a), np.float32(0.5), a)
    q = write_geotiff(tmp_path / "dense.tif", dense, info)
    with rasterio.open(p) as ds:
        back = ds.read(1)
        offsets = [int(ds.get_tag_item(f"BLOCK_OFFSET_{i}_{j}", "TIFF", bidx=1) or 0)
                   for i in range(4) for j in range(4)]
        coarse = ds.read(1, out_shape=(128, 128))
    assert np.array_equal(back, np.where(np.isnan(a), np.float32(FLOAT32_MISSING), a))
    assert offsets.count(0) == 12  # 12 of 16 tiles hold only nodata and are not stored
    assert (coarse[:32, :32] == np.float32(FLOAT32_MISSING)).all()
    assert np.isfinite(coarse[48:80, 48:80]).all() and (coarse[48:80, 48:80] >= 0).all()
    assert p.stat().st_size < q.stat().st_size
