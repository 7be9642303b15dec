"""Map projections: round trips, known values and the PSA/ISIS labels' parameters."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.labels import read_pds4_label
from cassis_pipe.mapping.projections import (
    EQUIRECTANGULAR,
    POLAR_STEREOGRAPHIC,
    Projection,
    choose_projection,
    equirectangular,
    local_radius_m,
    polar_stereographic,
    standard_parallel_for,
)

PSA = "psa-derived/MY36_015782_024_0_PAN_cropped.xml"
ISIS_PROJ = "pds4-exports/CAS-MCO-2016-11-26T22.50.30.181-RED-01012-B1_proj_rdrgen.xml"

lats = st.floats(-89.9, 89.9)
lons = st.floats(0.0, 359.999999)


@settings(max_examples=300, deadline=None)
@given(lat=lats, lon=lons, sp=st.floats(-60.0, 60.0), lon0=st.sampled_from([0.0, 180.0, 33.3]))
def test_equirectangular_round_trip(lat: float, lon: float, sp: float, lon0: float) -> None:
    p = Projection(EQUIRECTANGULAR, lon0, sp, 0.0, float(local_radius_m(sp)))
    x, y = p.forward(lat, lon)
    lat2, lon2 = p.inverse(x, y)
    assert lat2 == pytest.approx(lat, abs=1e-9)
    assert (lon2 - lon + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-9)
    assert 0.0 <= lon2 < 360.0


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(-89.0, 89.0), lon=lons, north=st.booleans())
def test_polar_round_trip(lat: float, lon: float, north: bool) -> None:
    lat = abs(lat) if north else -abs(lat)
    p = polar_stereographic(north)
    x, y = p.forward(lat, lon)
    lat2, lon2 = p.inverse(x, y)
    assert lat2 == pytest.approx(lat, abs=1e-9)
    assert (lon2 - lon + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-8)


@settings(max_examples=200, deadline=None)
@given(x=st.floats(-1e6, 1e6), y=st.floats(-1e6, 1e6), north=st.booleans())
def test_polar_inverse_forward(x: float, y: float, north: bool) -> None:
    p = polar_stereographic(north)
    x2, y2 = p.forward(*p.inverse(x, y))
    assert x2 == pytest.approx(x, abs=1e-6) and y2 == pytest.approx(y, abs=1e-6)


def test_equirectangular_known_values() -> None:
    p = equirectangular(20.0)
    r = 3393833.261
    assert p.radius_m == r and p.center_longitude_deg == 180.0
    x, y = p.forward(np.array([0.0, 90.0, 10.0]), np.array([180.0, 180.0, 190.0]))
    np.testing.assert_allclose(x, [0.0, 0.0, r * math.cos(math.radians(20)) * math.pi / 18],
                               atol=1e-6)
    np.testing.assert_allclose(y, [0.0, r * math.pi / 2, r * math.pi / 18], atol=1e-6)
    # the meridian opposite lon0 (0/360) is the map's left/right edge
    assert p.forward(0.0, 0.0)[0] == pytest.approx(-p.x_period_m / 2)
    assert np.isnan(p.inverse(0.0, r * math.pi / 2 * 1.001)[0])
    # branch selection
    x_left, _ = p.forward(0.0, 1.0)
    x_near, _ = p.forward(0.0, 1.0, x_ref_m=p.x_period_m / 2)
    assert x_near == pytest.approx(x_left + p.x_period_m)


def test_polar_known_values() -> None:
    n = polar_stereographic(True)
    s = polar_stereographic(False)
    assert n.radius_m == 3376200.0 == s.radius_m  # local radius at the pole = polar radius
    assert n.forward(90.0, 123.0) == pytest.approx((0.0, 0.0), abs=1e-9)
    r = n.radius_m
    # north: lon 0 straight down, lon 90 to the right; equator at 2R from the pole
    np.testing.assert_allclose(np.array(n.forward(0.0, 0.0)).ravel(), [0.0, -2 * r], atol=1e-6)
    np.testing.assert_allclose(np.array(n.forward(0.0, 90.0)).ravel(), [2 * r, 0.0], atol=1e-6)
    # south: lon 0 straight up
    np.testing.assert_allclose(np.array(s.forward(0.0, 0.0)).ravel(), [0.0, 2 * r], atol=1e-6)
    # true scale at the pole: 1 m near the pole is 1 m on the map
    d = 1.0 / r  # radians
    x, y = n.forward(90.0 - math.degrees(d), 0.0)
    assert math.hypot(x, y) == pytest.approx(1.0, rel=1e-6)


def test_standard_parallel_and_choice() -> None:
    assert standard_parallel_for(22.571) == 20.0
    assert standard_parallel_for(-22.571) == -20.0
    assert standard_parallel_for(4.99) == 0.0
    assert standard_parallel_for(-0.1) == 0.0 and math.copysign(1, standard_parallel_for(-0.1)) > 0
    assert standard_parallel_for(64.9) == 60.0
    assert choose_projection(65.0, 10.0).kind == EQUIRECTANGULAR
    assert choose_projection(65.01, 10.0).pole_latitude_deg == 90.0
    assert choose_projection(-70.0, 10.0).pole_latitude_deg == -90.0
    assert choose_projection(-70.0, 10.0).kind == POLAR_STEREOGRAPHIC
    with pytest.raises(ValueError):
        choose_projection(91.0, 0.0)
    with pytest.raises(ValueError):
        Projection("mercator", 0.0, 0.0, 0.0, 1.0)


def test_psa_label_convention(data_dir: Path) -> None:
    """The PSA derived PAN product: centre 22.57 N -> standard parallel 20, central meridian
    180, sphere radius = local radius at 20 deg (to the mm), pixel scale as labelled."""
    cart = read_pds4_label(data_dir / PSA).cartography
    assert cart is not None
    text = (data_dir / PSA).read_text()
    assert "<cart:standard_parallel_1 unit=\"deg\">20.0<" in text
    north, south = 22.889184664064, 22.253261430151
    p = choose_projection(0.5 * (north + south), 257.16)
    assert p.standard_parallel_deg == 20.0 and p.center_longitude_deg == 180.0
    assert p.radius_m == 3393833.261
    assert math.pi / 180 * p.radius_m / 4.0 == pytest.approx(14808.391167037, abs=1e-9)
    x, y = p.forward(north, 257.01272950127)
    assert float(x) == pytest.approx(4286632.0, abs=1e-6)
    assert float(y) == pytest.approx(1355808.0, abs=1e-6)


def test_isis_projected_export_formulas(data_dir: Path) -> None:
    """The ISIS export uses its own centre (not the PSA rounding) and the equatorial radius;
    our formulas with its parameters put its upper-left corner inside 1 px of its footprint."""
    p = Projection(EQUIRECTANGULAR, 176.64264073103, -29.845670941671, 0.0, 3396190.0)
    lat, lon = p.inverse(44200.0, -1684800.0)
    assert float(lon) == pytest.approx(177.5016604568, abs=200 / 3e3 / 60)  # < 1 px of 200 m
    assert float(lat) == pytest.approx(-28.463679277968, abs=0.05)
    assert (data_dir / ISIS_PROJ).exists()


def test_dict_round_trip() -> None:
    for p in (equirectangular(-35.0), polar_stereographic(False)):
        assert Projection.from_dict(p.to_dict()) == p
        assert set(p.to_dict()) == {"kind", "center_longitude_deg", "standard_parallel_deg",
                                    "pole_latitude_deg", "scale_factor", "radius_m"}
    with pytest.raises(ValueError):
        Projection.from_dict({**equirectangular(0.0).to_dict(), "scale_factor": 0.9})
