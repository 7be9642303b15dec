"""Archive-complete map labels and georeferenced products (issue 12, items 6 and 7), on one
small simulated observation whose footprint straddles the 0/360 deg meridian at 5 deg N.

The label's geometry is checked against the simulator's own truth (orbit elements, body-fixed
Sun direction, heliocentric distance), not against the camera code that computed it; the
solar longitude model against the flown PSA derived label; placement on both sides of 0 deg
against the simulator's truth maps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from lxml import etree

from cassis_pipe.archive.conditions import solar_longitude_deg
from cassis_pipe.products.geometry_block import (
    filter_inputs,
    geometry_sources,
    ltst_text,
    processing_date,
)
from cassis_pipe.products.geotiff import read_geotiff
from cassis_pipe.products.images import COMPOSITES
from cassis_pipe.products.metadata import FILTER_WAVELENGTHS_NM
from cassis_pipe.products.pds4 import parse_label, read_product
from cassis_pipe.products.validate import SCHEMA_DIR, validate_label
from cassis_pipe.sim.config import make_config
from cassis_pipe.sim.oracle.accuracy import TruthMaps, geolocation
from cassis_pipe.sim.oracle.level1 import simulated_level1
from cassis_pipe.sim.orbit import OrbitElements, state_bf
from cassis_pipe.sim.writer import simulate
from cassis_pipe.stages.map import map_observation

NS = {"pds": "http://pds.nasa.gov/pds4/pds/v1", "geom": "http://pds.nasa.gov/pds4/geom/v1",
      "img": "http://pds.nasa.gov/pds4/img/v1", "cart": "http://pds.nasa.gov/pds4/cart/v1",
      "proc": "http://pds.nasa.gov/pds4/proc/v1"}
UTC = ("2019-08-23T00:00:00.000", "2019-08-23T00:00:02.500")
FILTERS = ("PAN", "RED", "NIR", "BLU")
PSA_LABEL = Path(__file__).parent / "data" / "psa-derived" / "MY36_015782_024_0_PAN_cropped.xml"


def _lids(uid: int, n_exp: int) -> list[str]:
    """Level-1 LIDs of every filter, named as the calibrate stage names them."""
    return [f"urn:esa:psa:em16_tgo_cas:data_calibrated:cas_cal_sc_20190823t000000-"
            f"20190823t000000-6000-0-{f.lower()}-{uid}-{seq}-{win}"
            for seq in range(n_exp) for win, f in enumerate(FILTERS)]


@pytest.fixture(scope="module")
def zero_meridian(tmp_path_factory: pytest.TempPathFactory) -> dict:
    sim = tmp_path_factory.mktemp("sim0")
    simulate(make_config("small", 3, {"imaging": {"num_exp": 3, "rotation_offset_deg": 0.3},
                                      "orbit": {"target_lat_deg": 5.0,
                                                "target_lon_deg": 0.0}}), sim)
    truth = json.loads((sim / "truth" / "truth.json").read_text())
    framelets, im = simulated_level1(sim)
    out = tmp_path_factory.mktemp("map0")
    stage, grid, mosaics = map_observation(
        framelets, im["observation_id"], truth["rotation_offset_deg"], out, start_utc=UTC[0],
        stop_utc=UTC[1], input_lids=_lids(im["uid"], 3), kernels=("MY35_006000_005_0.json",))
    return {"sim": sim, "truth": truth, "im": im, "out": out, "stage": stage, "grid": grid,
            "mosaics": mosaics, "framelets": framelets, "obs": im["observation_id"]}


def _label(d: dict, f: str) -> etree._ElementTree:
    return parse_label(d["out"] / f"{d['obs']}_{f}.xml")


def _num(tree: etree._ElementTree, path: str) -> float:
    text = tree.findtext(path, None, NS)
    assert text is not None, path
    return float(text)


def test_labels_valid_xsd_and_schematron(zero_meridian: dict) -> None:
    pytest.importorskip("saxonche")
    from cassis_pipe.archive.schematron import validate_schematron

    sch = sorted(SCHEMA_DIR.glob("*.sch"))
    for f in FILTERS:
        xml = zero_meridian["out"] / f"{zero_meridian['obs']}_{f}.xml"
        assert validate_label(xml) == []
        assert validate_schematron(xml.read_bytes(), sch) == []


def test_label_carries_every_field(zero_meridian: dict) -> None:
    for f in FILTERS:
        t = _label(zero_meridian, f)
        tc = "pds:Observation_Area/pds:Time_Coordinates/"
        assert len(t.findtext(tc + "pds:local_true_solar_time", "", NS)) >= 8
        assert 0 <= _num(t, tc + "pds:solar_longitude") < 360
        g = ".//geom:Geometry/geom:Geometry_Orbiter/"
        for el in ("geom:Distances/geom:Distances_Specific/geom:spacecraft_central_body_distance",
                   "geom:Distances/geom:Distances_Specific/"
                   "geom:spacecraft_target_boresight_intercept_distance",
                   "geom:Distances/geom:Distances_Specific/geom:target_heliocentric_distance",
                   "geom:Surface_Geometry/geom:Surface_Geometry_Specific/geom:subsolar_latitude",
                   "geom:Surface_Geometry/geom:Surface_Geometry_Specific/geom:subsolar_longitude",
                   "geom:Surface_Geometry/geom:Surface_Geometry_Specific/"
                   "geom:subspacecraft_latitude",
                   "geom:Surface_Geometry/geom:Surface_Geometry_Specific/"
                   "geom:subspacecraft_longitude",
                   "geom:Illumination_Geometry/geom:Illumination_Specific/geom:incidence_angle",
                   "geom:Illumination_Geometry/geom:Illumination_Specific/geom:emission_angle",
                   "geom:Illumination_Geometry/geom:Illumination_Specific/geom:phase_angle"):
            assert np.isfinite(_num(t, g + el)), el
        vertices = t.findall(g + "geom:Surface_Geometry/geom:Surface_Geometry_Specific/"
                             "geom:Footprint_Vertices/geom:Pixel_Intercept", NS)
        assert [v.findtext("geom:reference_pixel_location", "", NS) for v in vertices] == [
            "Upper Left Corner", "Upper Right Corner", "Lower Right Corner", "Lower Left Corner"]
        assert [e.text for e in t.iterfind(".//geom:spice_kernel_file_name", NS)] == [
            "MY35_006000_005_0.json"]
        of = ".//img:Optical_Filter/"
        assert (_num(t, of + "img:center_filter_wavelength"), _num(t, of + "img:bandwidth")) \
            == FILTER_WAVELENGTHS_NM[f]
        ea = ".//pds:Array_2D_Image/pds:Element_Array/"
        assert (_num(t, ea + "pds:scaling_factor"), _num(t, ea + "pds:value_offset")) == (1, 0)
        assert _num(t, ".//pds:Special_Constants/pds:missing_constant") < -3.4e38
        params = {p.findtext("proc:name", "", NS): p.findtext("proc:value", "", NS)
                  for p in t.iterfind(".//proc:Parameter", NS)}
        assert params["start_orbit_number"] == "006000"
        assert (params["mission_phase_name"], params["mission_phase_identifier"]) == (
            "Science Phase", "psp")
        assert t.findtext(".//pds:modification_date", "", NS) == "2019-08-23"
        inputs = [e.text for e in t.iterfind(".//proc:Input_Product_List//pds:lid_reference",
                                             NS)]
        assert len(inputs) == 3 and all(f"-{f.lower()}-" in lid for lid in inputs)
    # the flown PAN label's filter values, as flown
    assert FILTER_WAVELENGTHS_NM["PAN"] == (677.4, 231.5)


def test_geometry_agrees_with_simulator_truth(zero_meridian: dict) -> None:
    truth, t = zero_meridian["truth"], _label(zero_meridian, "PAN")
    cfg = truth["config"]["orbit"]
    g = ".//geom:Geometry_Orbiter/"
    sg = g + "geom:Surface_Geometry/geom:Surface_Geometry_Specific/"
    ds = g + "geom:Distances/geom:Distances_Specific/"
    il = g + "geom:Illumination_Geometry/geom:Illumination_Specific/"
    a, c = cfg["mars_radii_km"]
    # spacecraft at the first exposure, from the simulator's orbit elements
    et0 = min(min(im["exposure_et"]) for im in truth["images"])
    sc, _ = state_bf(OrbitElements(**truth["orbit_elements"]), np.array([et0 - truth["et_ref"]]))
    sc = sc[0]
    assert abs(_num(t, ds + "geom:spacecraft_central_body_distance")
               - np.linalg.norm(sc)) < 1e-3                                        # km
    lat_sc = np.degrees(np.arcsin(sc[2] / np.linalg.norm(sc)))
    lon_sc = np.degrees(np.arctan2(sc[1], sc[0])) % 360
    assert abs(_num(t, sg + "geom:subspacecraft_latitude") - lat_sc) < 1e-4
    assert abs((_num(t, sg + "geom:subspacecraft_longitude") - lon_sc + 180) % 360 - 180) < 1e-4
    # the Sun: the simulator's body-fixed direction and heliocentric distance
    sun = np.asarray(truth["sun_direction_bf"])
    assert abs(_num(t, ds + "geom:target_heliocentric_distance") - cfg["heliocentric_au"]) < 1e-9
    assert abs(_num(t, sg + "geom:subsolar_latitude") - np.degrees(np.arcsin(sun[2]))) < 1e-6
    sub_lon = np.degrees(np.arctan2(sun[1], sun[0])) % 360
    assert abs(_num(t, sg + "geom:subsolar_longitude") - sub_lon) < 1e-6
    # angles at the map centre: independent vector math on the ellipsoid
    lat = np.radians(_num(t, sg + "geom:Pixel_Intercept/geom:pixel_latitude"))
    lon = np.radians(_num(t, sg + "geom:Pixel_Intercept/geom:pixel_longitude"))
    r = a * c / np.hypot(c * np.cos(lat), a * np.sin(lat))
    p = r * np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    n = p / np.array([a * a, a * a, c * c])
    n /= np.linalg.norm(n)
    to_sun = sun * cfg["heliocentric_au"] * 149_597_870.7 - p
    to_sc = sc - p

    def angle(u: np.ndarray, v: np.ndarray) -> float:
        return float(np.degrees(np.arccos(np.dot(u, v) / np.linalg.norm(u) / np.linalg.norm(v))))

    assert abs(_num(t, il + "geom:incidence_angle") - angle(n, to_sun)) < 1e-3    # deg
    assert abs(_num(t, il + "geom:emission_angle") - angle(n, to_sc)) < 1e-3
    assert abs(_num(t, il + "geom:phase_angle") - angle(to_sun, to_sc)) < 1e-3
    # the simulator sets 45 deg incidence at the target, ~5 km from the map centre
    assert abs(_num(t, il + "geom:incidence_angle") - 45.0) < 0.1
    ltst = (12 + ((np.degrees(lon) - sub_lon) % 360) / 15) % 24
    lt = float(t.findtext("pds:Observation_Area/pds:Time_Coordinates/pds:local_true_solar_time",
                          "", NS))
    assert abs(lt - ltst) < 1e-5                                                   # hours
    ls = _num(t, "pds:Observation_Area/pds:Time_Coordinates/pds:solar_longitude")
    assert abs(ls - solar_longitude_deg(et0)) < 1e-8


def test_solar_longitude_model_matches_flown_label() -> None:
    """The Ls model (Mars24 / Allison & McEwen) against the flown PSA derived label; ET from
    UTC with TAI-UTC = 37 s (2017 onwards) + 32.184 s (the periodic TDB-TT term < 2 ms)."""
    t = parse_label(PSA_LABEL)
    start = t.findtext(".//pds:Time_Coordinates/pds:start_date_time", "", NS)
    flown = _num(t, ".//pds:Time_Coordinates/pds:solar_longitude")
    from datetime import datetime

    j2000 = datetime(2000, 1, 1, 12, 0, 0)
    utc = datetime.fromisoformat(start.removesuffix("Z"))
    et = (utc - j2000).total_seconds() + 37 + 32.184
    assert abs(solar_longitude_deg(et) - flown) < 0.01


def test_footprint_vertices_on_the_filter_strip(zero_meridian: dict) -> None:
    grid = zero_meridian["grid"]
    seen = []
    for f in FILTERS:
        t = _label(zero_meridian, f)
        band = zero_meridian["mosaics"][f]
        pts = []
        for v in t.iterfind(".//geom:Footprint_Vertices/geom:Pixel_Intercept", NS):
            lat = float(v.findtext("geom:pixel_latitude", "", NS))
            lon = float(v.findtext("geom:pixel_longitude", "", NS))
            assert 0 <= lon < 360
            i, j = grid.latlon_to_index(np.array([lat]), np.array([lon]))
            pts.append((float(i[0]), float(j[0])))
        centre = np.mean(pts, axis=0)
        for i, j in pts:  # 3 px inside the corner towards the strip's centre: valid data
            d = centre - (i, j)
            ii, jj = np.round((i, j) + 3 * d / np.linalg.norm(d)).astype(int)
            assert np.isfinite(band[ii, jj]), (f, i, j)
        seen.append(tuple(np.round(pts, 3).ravel()))
    assert len(set(seen)) == 4  # every label has its own filter's strip


def test_zero_meridian_products(zero_meridian: dict) -> None:
    """A map across 0/360 deg: wrapping bounding longitudes, GeoTIFF transform of the grid,
    valid pixels on both sides of 0 deg, each side placed right (against the truth maps)."""
    grid, out, obs = zero_meridian["grid"], zero_meridian["out"], zero_meridian["obs"]
    t = _label(zero_meridian, "PAN")
    bc = ".//cart:Bounding_Coordinates/cart:"
    west, east = _num(t, bc + "west_bounding_coordinate"), _num(t, bc + "east_bounding_coordinate")
    assert 359.5 < west < 360 and 0 < east < 0.5           # crosses 0: west > east
    gt = read_geotiff(out / f"{obs}_PAN.tif")
    assert np.allclose(gt.geotransform, grid.geotransform, rtol=0, atol=1e-6)
    _, lon = grid.index_to_latlon(np.zeros(grid.samples), np.arange(grid.samples, dtype=float))
    lon = lon % 360
    wraps = np.flatnonzero(np.diff(lon) < -180)
    assert len(wraps) == 1
    j0 = int(wraps[0]) + 1                                 # first column east of 0 deg
    band = zero_meridian["mosaics"]["PAN"]
    west_valid = np.isfinite(band[:, :j0]).sum()
    east_valid = np.isfinite(band[:, j0:]).sum()
    assert west_valid > 10_000 and east_valid > 10_000
    truth = TruthMaps(zero_meridian["sim"] / "truth", ["PAN"])
    for cols in (slice(0, j0), slice(j0, grid.samples)):
        sub = grid.window(0, grid.lines, cols.start, cols.stop)
        geo = geolocation(np.ascontiguousarray(band[:, cols]), truth, "PAN", sub)
        assert geo["magnitude"] < 0.1, geo                  # map pixels
    arr = read_product(out / f"{obs}_PAN.xml")
    ok = np.isfinite(band)
    np.testing.assert_array_equal(arr[ok], band[ok])


def test_composite_geotiffs(zero_meridian: dict) -> None:
    grid, out, obs, stage = (zero_meridian[k] for k in ("grid", "out", "obs", "stage"))
    assert stage["counts"]["composite_geotiff"] == {"expected": 5, "produced": 5, "missing": []}
    for combo, (r, g, b) in COMPOSITES.items():
        tif, png = out / f"{obs}_{combo}.tif", out / f"{obs}_{combo}.png"
        with rasterio.open(tif) as ds:
            assert ds.count == 4 and ds.dtypes == ("uint8",) * 4
            assert ds.descriptions == (f"R: {r}", f"G: {g or '(PAN+BLU)/2'}", f"B: {b}",
                                       "alpha: all bands valid")
            assert ds.colorinterp[3].name == "alpha"
            assert np.allclose(ds.transform.to_gdal(), grid.geotransform, atol=1e-6)
            pixels = np.moveaxis(ds.read(), 0, 2)
        from PIL import Image

        np.testing.assert_array_equal(pixels, np.asarray(Image.open(png)))
    with rasterio.open(out / f"{obs}_NIR.tif") as ds:
        assert ds.descriptions == ("NIR I/F",) and ds.units == ("I/F",)


def test_deterministic_date_and_helpers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert processing_date("2019-08-23T00:00:00.000") == "2019-08-23"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1733270400")
    assert processing_date("2019-08-23T00:00:00.000") == "2024-12-04"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ValueError, match="SOURCE_DATE_EPOCH"):
        processing_date("2019-08-23T00:00:00.000")
    assert ltst_text(9.5) == "9.500000" and ltst_text(24.25) == "0.250000"
    lids = _lids(123, 2)
    assert filter_inputs(lids, "RED") == tuple(x for x in lids if "-red-" in x)
    isd = tmp_path / "geometry" / "OBS.json"
    isd.parent.mkdir()
    isd.write_text("{}")
    assert geometry_sources(isd) == ("OBS.json",)
    (isd.parent / "geometry.json").write_text(json.dumps(
        {"sources": ["/k/naif0012.tls", "em16_tgo_fsp.bsp"]}))
    assert geometry_sources(isd) == ("naif0012.tls", "em16_tgo_fsp.bsp")
