"""Map grids: snapping to pixel multiples, containment, common grids, serialisation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.labels import read_pds4_label
from cassis_pipe.mapping.grid import MapGrid, footprint_center, grid_for_footprints
from cassis_pipe.mapping.projections import POLAR_STEREOGRAPHIC, equirectangular

PSA = "psa-derived/MY36_015782_024_0_PAN_cropped.xml"


def _box(lon0: float, lat0: float, dlon: float, dlat: float, n: int = 9) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)
    lon = np.concatenate([lon0 + t * dlon, np.full(n, lon0 + dlon), lon0 + dlon - t * dlon,
                          np.full(n, lon0)])
    lat = np.concatenate([np.full(n, lat0), lat0 + t * dlat, np.full(n, lat0 + dlat),
                          lat0 + dlat - t * dlat])
    return np.stack([lon % 360.0, lat], axis=1)


def _inside(g: MapGrid, fp: np.ndarray) -> np.ndarray:
    li, si = g.latlon_to_index(fp[:, 1], fp[:, 0])
    return li, si


def test_psa_grid_reproduced(data_dir: Path) -> None:
    """The PSA product's bounding box gives exactly its labelled grid corner, pixel scale and
    bounding coordinates."""
    label = read_pds4_label(data_dir / PSA)
    assert label.cartography is not None
    w, e, n, s = 257.01272950127, 257.31376427531, 22.889184664064, 22.253261430151
    g = grid_for_footprints([np.array([[w, n], [e, s]])], pixel=4.0)
    assert (g.ulx_m, g.uly_m) == (4286632.0, 1355808.0)
    d = g.to_dict()
    assert d["pixel_scale_px_per_deg"] == pytest.approx(14808.391167037, abs=1e-9)
    assert d["projection"]["standard_parallel_deg"] == 20.0
    assert d["projection"]["center_longitude_deg"] == 180.0
    assert d["projection"]["radius_m"] == 3393833.261
    for key, v in (("west_deg", w), ("east_deg", e), ("north_deg", n), ("south_deg", s)):
        assert d[key] == pytest.approx(v, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(lon0=st.floats(0.0, 359.9), lat0=st.floats(-64.0, 63.0), dlon=st.floats(0.01, 0.6),
       dlat=st.floats(0.01, 0.6), pixel=st.sampled_from([4.0, 5.0, 25.0]))
def test_grid_snapped_and_minimal(lon0: float, lat0: float, dlon: float, dlat: float,
                                  pixel: float) -> None:
    fp = _box(lon0, lat0, dlon, dlat)
    g = grid_for_footprints([fp], pixel=pixel)
    assert g.ulx_m / pixel == round(g.ulx_m / pixel)
    assert g.uly_m / pixel == round(g.uly_m / pixel)
    li, si = _inside(g, fp)
    tol = 1e-3
    assert li.min() >= -0.5 - tol and li.max() <= g.lines - 0.5 + tol
    assert si.min() >= -0.5 - tol and si.max() <= g.samples - 0.5 + tol
    # minimal: some point within one pixel of each edge
    assert li.min() < 0.5 + tol and li.max() > g.lines - 1.5 - tol
    assert si.min() < 0.5 + tol and si.max() > g.samples - 1.5 - tol


def test_bands_share_one_lattice() -> None:
    a = _box(77.1, -4.2, 0.05, 0.3)
    b = _box(77.12, -4.1, 0.05, 0.3)
    g = grid_for_footprints([a, b])
    ga = grid_for_footprints([a], projection=g.projection)
    gb = grid_for_footprints([b], projection=g.projection)
    for sub in (ga, gb):
        # every band grid is a window of the common grid (integer offsets)
        dj = (sub.ulx_m - g.ulx_m) / g.pixel_m
        di = (g.uly_m - sub.uly_m) / g.pixel_m
        assert dj == int(dj) >= 0 and di == int(di) >= 0
        assert di + sub.lines <= g.lines and dj + sub.samples <= g.samples
        w = g.window(int(di), int(di) + sub.lines, int(dj), int(dj) + sub.samples)
        assert (w.ulx_m, w.uly_m, w.shape) == (sub.ulx_m, sub.uly_m, sub.shape)


def test_pixel_centre_latlon_round_trip() -> None:
    g = grid_for_footprints([_box(300.0, 40.0, 0.2, 0.1)], pixel=4.0)
    i = np.array([0.0, 10.0, g.lines - 1.0])
    j = np.array([0.0, 17.0, g.samples - 1.0])
    lat, lon = g.index_to_latlon(i, j)
    i2, j2 = g.latlon_to_index(lat, lon)
    np.testing.assert_allclose(i2, i, atol=1e-6)
    np.testing.assert_allclose(j2, j, atol=1e-6)
    x, y = g.index_to_xy(0.0, 0.0)
    assert (x, y) == (g.ulx_m + 2.0, g.uly_m - 2.0)
    lat_all, lon_all = g.pixel_latlon()
    assert lat_all.shape == g.shape and np.isclose(lat_all[0, 0], lat[0])


def test_crossing_zero_meridian_stays_contiguous() -> None:
    fp = _box(359.9, 10.0, 0.2, 0.1)  # 359.9 .. 0.1 deg east
    g = grid_for_footprints([fp], pixel=10.0)
    assert g.samples < 1500  # 0.2 deg at 10 m/px is ~1160 px, not the whole planet
    li, si = _inside(g, fp)
    assert si.min() >= -0.5 - 1e-3 and si.max() <= g.samples - 0.5 + 1e-3
    d = g.to_dict()
    assert d["west_deg"] == pytest.approx(359.9, abs=1e-3)
    assert d["east_deg"] == pytest.approx(0.1, abs=1e-3)
    clat, clon = footprint_center([fp])
    assert clat == pytest.approx(10.05) and min(clon, 360 - clon) == pytest.approx(0.0, abs=1e-9)


def test_polar_grid() -> None:
    fp = _box(120.0, 80.0, 3.0, 0.3)
    g = grid_for_footprints([fp], pixel=20.0)
    assert g.projection.kind == POLAR_STEREOGRAPHIC and g.projection.pole_latitude_deg == 90.0
    li, si = _inside(g, fp)
    assert li.min() >= -0.5 - 1e-3 and si.max() <= g.samples - 0.5 + 1e-3
    # a grid holding the pole spans every longitude
    gp = grid_for_footprints([_box(0.0, 89.5, 359.0, 0.49, 40)], pixel=100.0)
    d = gp.to_dict()
    assert d["north_deg"] == 90.0 and (d["west_deg"], d["east_deg"]) == (0.0, 360.0)


def test_xyz_footprints_and_dict_json_round_trip() -> None:
    lon, lat = np.radians(45.0), np.radians(-30.0)
    base = 3390.0 * np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    pts = base + np.array([[0, 0, 0], [2.0, 0, 0], [0, 2.0, 0], [0, 0, 2.0]])
    g = grid_for_footprints([pts], pixel=4.0)
    assert g.projection.standard_parallel_deg == -25.0
    d = json.loads(json.dumps(g.to_dict()))
    assert MapGrid.from_dict(d) == g
    assert d["geotransform"] == [g.ulx_m, 4.0, 0.0, g.uly_m, 0.0, -4.0]


def test_invalid_grids() -> None:
    p = equirectangular(0.0)
    with pytest.raises(ValueError):
        MapGrid(p, 0.0, 0.0, 0.0, 1, 1)
    with pytest.raises(ValueError):
        MapGrid(p, 4.0, 0.0, 0.0, 0, 1)
    with pytest.raises(ValueError):
        grid_for_footprints([])
    with pytest.raises(ValueError):
        grid_for_footprints([np.zeros((3, 4))])
    with pytest.raises(ValueError):
        MapGrid(p, 4.0, 0.0, 0.0, 5, 5).window(0, 6, 0, 5)
