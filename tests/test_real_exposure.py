"""The sheet's real row end to end: the Bern level-1b exposure CAS-MCO-2016-11-26T22.50.27.381
(observation CRUS_049218_201_0, four filters) through `snakemake` with geometry from the
``spice`` provider on the real TGO kernels (tests/data/kernels/tgo-2016-11-26.tm).

Checked: level-2 products (DAT + PDS4 + GeoTIFF per filter, the composites) exist and their
labels validate and name the kernels; the one-exposure rotation stage says it cannot search;
the ground position of map pixels against an independent CSPICE computation (sincpt, light
time to the surface) to <= 1 m; the footprint against ISIS3's published figures for this
exposure (module test ``TgoCassisModuleTests``, spiceinit with the same kernel slices), whose
difference is the relief ISIS intersects (MOLA DEM) and we do not (IAU ellipsoid).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
import spiceypy
from test_workflow import REPO, snakemake, write_config

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.ellipsoid import xyz_to_latlon
from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.geometry.kernels.kernelset import file_digest, kernel_set
from cassis_pipe.geometry.spice_provider import kernels_loaded, optics_from_pool
from cassis_pipe.products.pds4 import parse_label
from cassis_pipe.products.validate import validate_label

OBS = "CRUS_049218_201_0"
META = REPO / "tests" / "data" / "kernels" / "tgo-2016-11-26.tm"
#: ISIS3 TgoCassisModuleTests, four-filter colour mosaic of this exposure (tgocassis2isis,
#: spiceinit with the test's CK/SPK slices, mosrange): planetocentric lat, east lon (deg)
ISIS_RANGE = {"min_lat": 2.465491209879, "max_lat": 2.703757297152,
              "min_lon": 266.13827437353, "max_lon": 266.28849206417}
M_PER_DEG = np.radians(1.0) * 3396190.0
#: detector windows of the four framelets (first/last row, first/last column)
WINDOWS = {"PAN": (354, 633, 0, 2047), "RED": (712, 967, 0, 2047),
           "NIR": (1048, 1303, 0, 2047), "BLU": (1409, 1626, 1024, 1087)}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real row of config/observations.tsv (level1b_dir, geometry=spice, kernels) run by
    snakemake in a fresh directory, up to its map and stitch stages."""
    d = tmp_path_factory.mktemp("real")
    write_config(d, [])
    row = next(line for line in (REPO / "config" / "observations.tsv").read_text().splitlines()
               if line.startswith(OBS))
    header = (REPO / "config" / "observations.tsv").read_text().splitlines()[0]
    cells = dict(zip(header.split("\t"), row.split("\t"), strict=True))
    assert cells["geometry"] == "spice"
    assert cells["kernels"] == "tests/data/kernels/tgo-2016-11-26.tm"
    cells["level1b_dir"] = str(REPO / cells["level1b_dir"])
    shutil.copytree(META.parent, d / "kernels")  # a copy: the last test touches a kernel
    cells["kernels"] = str(d / "kernels" / META.name)
    cols = ["observation_id", "simulate", "level1b_dir", "geometry", "kernels"]
    (d / "obs.tsv").write_text("\t".join(cols) + "\n" + "\t".join(cells[c] for c in cols) + "\n")
    r = snakemake(d, "--configfile", "config.yaml", "--cores", "2",
                  f"results/{OBS}/level2/map.json", f"results/{OBS}/level1c/stitch.json",
                  "results/rotation_offsets.csv", timeout=1200)
    assert r.returncode == 0, r.stderr[-4000:]
    return d / "results" / OBS


def test_products_exist_and_labels_validate(run: Path) -> None:
    stage = json.loads((run / "level2" / "map.json").read_text())
    assert stage["ok"] and stage["counts"]["ok"]
    assert stage["framelets"] == {"PAN": 1, "RED": 1, "NIR": 1, "BLU": 1}
    assert len(stage["files"]["dat"]) == len(stage["files"]["geotiff"]) == 4
    assert len(stage["files"]["png"]) >= 1
    products = run / "level2" / "products"
    kernels = json.loads((run / "geometry" / "geometry.json").read_text())["kernels"]
    for k in kernels:  # every kernel named with its digest, the meta-kernel first
        src = META if k["name"] == META.name else next(META.parent.rglob(k["name"]))
        assert file_digest(src) == k["sha256"], k["name"]
    assert kernels[0]["name"] == META.name and len(kernels) == 13
    for xml in sorted(products.glob("*.xml")):
        assert validate_label(xml) == [], xml.name
        named = [e.findtext("{*}value") for e in parse_label(xml).getroot().iter("{*}Parameter")
                 if e.findtext("{*}name") == "spice_kernel"]
        assert "CAS-MCO-2016-11-26T22.50.27.381_1.xsp" in named
        assert "em16_tgo_cassis_tel_20160407_20221231_s20220402_v01_1_sliced_-143410.xc" in named
    strips = json.loads((run / "level1c" / "stitch.json").read_text())
    assert strips["ok"]


def test_single_exposure_rotation_uses_the_commanded_angle(run: Path) -> None:
    rot = json.loads((run / "level2" / "rotation.json").read_text())
    assert rot["ok"] and rot["searched"] is False and rot["offset_deg"] == 0.0
    assert rot["commanded_rotation_deg"] == 0.0  # the Bern header's rotation angle
    assert "single exposure cannot constrain the rotation offset" in rot["note"]
    csv = (run.parent / "rotation_offsets.csv").read_text().splitlines()
    assert len(csv) == 2 and csv[1].startswith(OBS) and ",0.0,nan,0," in csv[1]


def _map_pixels(tif: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Valid pixels of a GeoTIFF at the footprint's extremes and centre: (lat, lon, value,
    body-fixed km on the ellipsoid), the map geometry taken from the GeoTIFF alone."""
    with rasterio.open(tif) as ds:
        band, t, crs = ds.read(1), ds.transform, ds.crs.to_dict()
    assert crs["proj"] == "eqc" and crs.get("lat_ts", 0.0) == 0.0
    ok = np.isfinite(band) & (band > -1e30)
    rr, cc = np.nonzero(ok)
    pick = [np.argmin(rr), np.argmax(rr), np.argmin(cc), np.argmax(cc),
            np.argmin((rr - rr.mean()) ** 2 + (cc - cc.mean()) ** 2)]
    r, c = rr[pick], cc[pick]
    x, y = t.c + (c + 0.5) * t.a, t.f + (r + 0.5) * t.e
    radius = float(crs["R"]) if "R" in crs else float(crs["a"])
    lon = np.radians(float(crs.get("lon_0", 0.0))) + x / radius
    lat = y / radius
    u = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)
    a, c_ = 3396.19, 3376.2  # IAU 2000 Mars (pck00010)
    rad = 1.0 / np.sqrt((u[:, 0] ** 2 + u[:, 1] ** 2) / a**2 + u[:, 2] ** 2 / c_**2)
    return np.degrees(lat), np.degrees(lon), band[r, c], u * rad[:, None]


def test_map_geometry_matches_cspice(run: Path, tmp_path: Path) -> None:
    """Map pixels -> detector pixel (the pipeline's camera) -> CSPICE sincpt of that pixel's
    ray at the image time: back on the map pixel's ground point within 1 m; and the map value
    there is the framelet's I/F at that detector pixel."""
    isd = read_isd(run / "geometry" / f"{OBS}.json")
    cam = FrameCamera.from_isd(isd)
    kset = kernel_set(META, tmp_path / "cache")
    worst = 0.0
    for flt in ("PAN", "RED", "NIR"):
        lat, lon, value, ground = _map_pixels(run / "level2" / "products" / f"{OBS}_{flt}.tif")
        line, sample = cam.ground_to_image(ground)
        r0, r1, c0, c1 = WINDOWS[flt]
        assert np.all((line > r0 - 1) & (line < r1 + 1) & (sample > c0 - 1) & (sample < c1 + 1))
        with kernels_loaded(kset):
            rays = optics_from_pool()[0].pixel_to_ray(line, sample)
            spice = np.array([spiceypy.sincpt("ELLIPSOID", "MARS", cam.et, "IAU_MARS", "LT",
                                              "TGO", "TGO_CASSIS_FSA", np.ascontiguousarray(v))[0]
                              for v in rays])
        d_m = np.linalg.norm(spice - ground, axis=1) * 1000.0
        worst = max(worst, float(d_m.max()))
        assert d_m.max() <= 1.0, (flt, d_m)
        frame = next(p for p in (run.parent / OBS / "level1b" / "framelets").glob(
            f"*-{flt.lower()}-*.dat"))
        img = np.fromfile(frame, "<f4").reshape(r1 - r0 + 1, -1)
        li, si = np.clip(np.rint(line - r0).astype(int), 0, img.shape[0] - 1), np.clip(
            np.rint(sample - c0).astype(int), 0, img.shape[1] - 1)
        lo = np.minimum.reduce([img[np.clip(li + a, 0, img.shape[0] - 1),
                                    np.clip(si + b, 0, img.shape[1] - 1)]
                                for a in (-1, 0, 1) for b in (-1, 0, 1)])
        hi = np.maximum.reduce([img[np.clip(li + a, 0, img.shape[0] - 1),
                                    np.clip(si + b, 0, img.shape[1] - 1)]
                                for a in (-1, 0, 1) for b in (-1, 0, 1)])
        assert np.all((value >= lo - 1e-6) & (value <= hi + 1e-6)), (flt, value, lo, hi)
    print(f"map pixels vs CSPICE sincpt: worst {worst:.3f} m")


def _footprint(cam: FrameCamera, height_km: float) -> dict[str, float]:
    """Lat/lon range of the four windows' outlines (pixel edges) on the ellipsoid raised by
    ``height_km``."""
    pts = []
    for r0, r1, c0, c1 in WINDOWS.values():
        e = np.linspace(0.0, 1.0, 40)
        line = np.concatenate([r0 - 0.5 + e * (r1 - r0 + 1), np.full(40, r1 + 0.5),
                               r0 - 0.5 + e * (r1 - r0 + 1), np.full(40, r0 - 0.5)])
        samp = np.concatenate([np.full(40, c0 - 0.5), c0 - 0.5 + e * (c1 - c0 + 1),
                               np.full(40, c1 + 0.5), c0 - 0.5 + e * (c1 - c0 + 1)])
        dem = None if height_km == 0 else (lambda la, lo: np.full(np.shape(la), height_km))
        pts.append(cam.image_to_ground(line, samp, dem=dem))
    lat, lon, _ = xyz_to_latlon(np.concatenate(pts))
    return {"min_lat": float(lat.min()), "max_lat": float(lat.max()),
            "min_lon": float(lon.min()), "max_lon": float(lon.max())}


def test_footprint_against_isis(run: Path) -> None:
    """Our footprint on the IAU ellipsoid lies 0.5-0.8 km south-east of ISIS's: ISIS's spiceinit
    intersects the MOLA DEM (shape=system), and this Tharsis site (2.6 N, 266.2 E) stands
    kilometres above the ellipsoid, so the rays (10 deg off nadir, the sub-spacecraft point to
    the north-west) meet the surface earlier. On a surface raised by 4.7 km (best fit) the two
    footprints agree to 10 m on every side: one surface height, not pointing or timing."""
    cam = FrameCamera.from_isd(read_isd(run / "geometry" / f"{OBS}.json"))
    grid = json.loads((run / "level2" / "map.json").read_text())["grid"]
    flat = _footprint(cam, 0.0)
    # the map grid encloses the footprint (pixel edges, 4 m)
    assert grid["south_deg"] <= flat["min_lat"] + 1e-4 <= grid["north_deg"]
    assert grid["north_deg"] >= flat["max_lat"] - 1e-4
    assert grid["west_deg"] <= flat["min_lon"] + 1e-4 <= grid["east_deg"]
    assert grid["east_deg"] >= flat["max_lon"] - 1e-4
    diff = {k: (flat[k] - ISIS_RANGE[k]) * M_PER_DEG for k in ISIS_RANGE}
    assert all(400 < abs(v) < 900 for v in diff.values()), diff
    assert diff["min_lat"] < 0 and diff["max_lat"] < 0 and diff["min_lon"] > 0, diff
    heights = np.arange(3.0, 6.01, 0.1)
    rms = [np.sqrt(np.mean([((_footprint(cam, h)[k] - ISIS_RANGE[k]) * M_PER_DEG) ** 2
                            for k in ISIS_RANGE])) for h in heights]
    best = float(heights[int(np.argmin(rms))])
    raised = {k: (v - ISIS_RANGE[k]) * M_PER_DEG for k, v in _footprint(cam, best).items()}
    print(f"ISIS vs ellipsoid (m): {diff}; best height {best:.1f} km: {raised}")
    assert 4.2 <= best <= 5.2 and max(abs(v) for v in raised.values()) < 30.0, raised


def test_real_row_reruns_geometry_on_new_kernels(run: Path) -> None:
    """The kernels are declared inputs: a kernel replaced by another version (as when
    reconstructed kernels replace predicted ones; here the CK of the other slice under the same
    name) makes snakemake plan geometry and everything downstream again (dry run); up to date
    before, and a mere touch (same bytes) does not count (Snakemake compares checksums)."""
    d = run.parent.parent
    target = f"results/{OBS}/level2/map.json"
    r = snakemake(d, "--configfile", "config.yaml", "-n", target)
    assert r.returncode == 0 and "rule geometry:" not in r.stdout + r.stderr
    ck = d / "kernels" / "tgo-2016-11-26" / (
        "em16_tgo_sc_spm_20161101_20170301_s20191109_v01_{}_sliced_-143000.xc")
    Path(str(ck).format(1)).write_bytes(Path(str(ck).format(0)).read_bytes())
    r = snakemake(d, "--configfile", "config.yaml", "-n", target)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert "rule geometry:" in out and "rule map:" in out and "rule rotation:" in out
    assert "Updated input files" in out and "rule bern:" not in out
