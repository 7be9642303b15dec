"""Level-2 stages on small simulated observations (equatorial and polar, each with a non-zero
rotation offset): rotation-offset search, stitching, map products, accuracy against truth.

Level-1 I/F framelets come from the simulator's pre-compression DN calibrated with
``cassis_pipe.calibrate`` (``pipeline.simlevel1``); the telemetry -> level-1 chain is tested
by the level-0/1 stages. The map products use the offset recovered by the rotation stage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage

from cassis_pipe.products.crs import rasterio_crs, same_crs
from cassis_pipe.products.geotiff import read_geotiff
from cassis_pipe.products.images import COMPOSITES
from cassis_pipe.products.pds4 import read_product
from cassis_pipe.products.validate import validate_label
from cassis_pipe.register.history import read_history
from cassis_pipe.register.mapshift import AccuracyError
from cassis_pipe.register.mapshift import measure_map_shift as measure_shift
from cassis_pipe.register.mapshift import measure_map_shift_tiled as measure_shift_tiled
from cassis_pipe.sim.config import make_config
from cassis_pipe.sim.oracle.accuracy import accuracy
from cassis_pipe.sim.oracle.level1 import simulated_level1
from cassis_pipe.sim.writer import simulate
from cassis_pipe.stages._io import write_json
from cassis_pipe.stages.map import (
    map_info,
    map_observation,
    project_bands,
)
from cassis_pipe.stages.offset_history import run_offset_history
from cassis_pipe.stages.rotation import rotation_stage
from cassis_pipe.stages.stitch import stitch_stage

CASES = {
    "equatorial": (3, {"imaging": {"rotation_offset_deg": 0.3}}),
    "polar": (5, {"orbit": {"target_lat_deg": 72.0, "target_lon_deg": 300.0},
                  "imaging": {"rotation_offset_deg": -0.25}}),
}
UTC = ("2019-08-23T00:00:00.000", "2019-08-23T00:00:02.500")


@pytest.fixture(scope="module", params=sorted(CASES))
def mapped(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    seed, over = CASES[request.param]
    sim = tmp_path_factory.mktemp(f"sim_{request.param}")
    simulate(make_config("small", seed, over), sim)
    truth = json.loads((sim / "truth" / "truth.json").read_text())
    framelets, im = simulated_level1(sim)
    out = tmp_path_factory.mktemp(f"map_{request.param}")
    rdir = tmp_path_factory.mktemp(f"rotation_{request.param}")
    rot = rotation_stage(framelets, im["observation_id"], UTC[0], im["commanded_rotation_deg"],
                         rdir / "rotation_curve.png")
    write_json(rdir / "rotation.json", rot)
    run_offset_history([rdir / "rotation.json"], rdir / "history.csv")
    offset = rot["offset_deg"]
    stage, grid, mosaics = map_observation(framelets, im["observation_id"], offset, out,
                                           start_utc=UTC[0], stop_utc=UTC[1])
    acc = accuracy(mosaics, grid, sim / "truth", offset, truth["rotation_offset_deg"])
    write_json(out / "accuracy.json", acc)
    print(f"{request.param}: offset {offset:.6f} (true {truth['rotation_offset_deg']}), "
          f"geolocation max {acc['max_geolocation_px']:.3f} px, band misregistration max "
          f"{acc['max_band_misregistration_px']:.3f} px, I/F bias max "
          f"{acc['max_abs_iof_bias']:.4%}")
    return {"case": request.param, "sim": sim, "out": out, "stage": stage, "grid": grid,
            "mosaics": mosaics, "framelets": framelets, "truth": truth, "im": im, "rot": rot,
            "rdir": rdir}


def test_accuracy_targets(mapped) -> None:
    acc = json.loads((mapped["out"] / "accuracy.json").read_text())
    kind = "polar_stereographic" if mapped["case"] == "polar" else "equirectangular"
    assert acc["projection"] == kind and acc["pixel_m"] == 4.0
    # The small cases' offset search is noise-limited (offset_sigma_deg ~0.001 deg; over seeds
    # 3-5 of the equatorial case the error spreads over +/-0.002 deg, before and after issue 12),
    # and a rotation error moves the map by ~300 px/deg: the geolocation target (0.25 px) holds
    # for the mapping chain, plus what the measured offset error explains; the error itself must
    # be within 3 sigma of the search and the 0.02 deg target.
    err = abs(acc["rotation_offset"]["error_deg"])
    assert err <= 3 * mapped["rot"]["diagnostics"]["offset_sigma_deg"]
    assert acc["max_geolocation_px"] <= 0.25 + 330.0 * err
    assert acc["max_abs_iof_bias"] <= 0.005
    assert acc["max_band_misregistration_px"] <= 0.25
    assert set(acc["band_misregistration_px"]["bands"]) == {"RED", "NIR", "BLU"}
    assert abs(acc["rotation_offset"]["error_deg"]) <= 0.02


def test_rotation_stage(mapped) -> None:
    rot, im = mapped["rot"], mapped["im"]
    assert rot["ok"] and rot["files"] == {"expected": 1, "produced": 1}
    assert "elapsed_s" not in rot["diagnostics"]  # no wall time in a stage JSON
    assert rot["offset_deg"] == pytest.approx(mapped["truth"]["rotation_offset_deg"], abs=0.02)
    assert rot["n_pairs"] >= 4 and not rot["diagnostics"]["at_search_edge"]
    curve = np.array(rot["curve"])
    assert curve[np.argmin(curve[:, 1]), 0] == pytest.approx(rot["offset_deg"], abs=1e-9)
    write_json(mapped["rdir"] / "rotation.json", rot)
    run_offset_history([mapped["rdir"] / "rotation.json"], mapped["rdir"] / "history.csv")
    rows = read_history(mapped["rdir"] / "history.csv")
    assert [(r.observation_id, r.offset_deg) for r in rows] == [(im["observation_id"],
                                                                 rot["offset_deg"])]
    assert (mapped["rdir"] / "rotation_curve.png").stat().st_size > 5000


def test_stitch_stage(mapped, tmp_path: Path) -> None:
    im = mapped["im"]
    st = stitch_stage(mapped["framelets"], im["observation_id"], im["uid"],
                      mapped["rot"]["offset_deg"], tmp_path, start_utc=UTC[0], stop_utc=UTC[1])
    assert st["ok"] and st["counts"] == {"expected": 4, "produced": 4, "missing": []}
    for f, rec in st["filters"].items():
        assert rec["framelets"] == 6 and len(rec["seams"]) == 5
        assert all(s["refined"] for s in rec["seams"])
        assert rec["max_seam_residual_px"] <= 0.1
        assert rec["valid_fraction"] > 0.95
        assert rec["product"].endswith(f"-{f.lower()}-{im['uid']}-sti")
        xml = tmp_path / f"{rec['product']}.xml"
        assert validate_label(xml) == []
        assert read_product(xml).shape == tuple(rec["shape"])


def test_wrong_offset_is_detected(mapped) -> None:
    """Mapping at the commanded angle only (offset 0) must show the colour fringing."""
    grid, mos = project_bands(mapped["framelets"], 0.0)
    acc = accuracy(mos, grid, mapped["sim"] / "truth", 0.0, mapped["truth"]["rotation_offset_deg"])
    assert acc["max_band_misregistration_px"] > 1.0
    assert acc["max_geolocation_px"] > 1.0


def test_products_on_disk(mapped) -> None:
    out, stage, grid = mapped["out"], mapped["stage"], mapped["grid"]
    obs = mapped["im"]["observation_id"]
    assert stage["ok"] and stage["counts"]["ok"]
    for kind, n in (("dat", 4), ("label", 4), ("geotiff", 4), ("png", 5)):
        assert stage["counts"][kind] == {"expected": n, "produced": n, "missing": []}
    info = map_info(grid)
    for f in ("PAN", "RED", "NIR", "BLU"):
        xml = out / f"{obs}_{f}.xml"
        assert validate_label(xml) == []
        arr = read_product(xml)
        band = mapped["mosaics"][f]
        assert arr.shape == grid.shape
        ok = np.isfinite(band)
        np.testing.assert_array_equal(arr[ok], band[ok])
        assert (arr[~ok] < -1e38).all()
        gt = read_geotiff(out / f"{obs}_{f}.tif")
        assert same_crs(gt.crs, rasterio_crs(info.projection))
        assert np.allclose(gt.geotransform, grid.geotransform, rtol=0, atol=1e-6)
        assert gt.overviews and gt.block_shape == (256, 256)
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == sorted(f"{obs}_{c}.png" for c in COMPOSITES)
    for p in out.glob("*.png"):
        img = Image.open(p)
        assert img.mode == "RGBA" and img.size == (grid.samples, grid.lines)
        alpha = np.asarray(img)[..., 3]
        assert 0 < (alpha == 255).mean() < 1


def test_missing_filter_counted(mapped, tmp_path: Path) -> None:
    fr = [f for f in mapped["framelets"] if f.filter != "BLU"]
    stage, _, _ = map_observation(fr, mapped["im"]["observation_id"], 0.0, tmp_path,
                                  start_utc=UTC[0], stop_utc=UTC[1], geotiff=False)
    assert not stage["ok"]
    assert stage["counts"]["dat"]["produced"] == 3
    assert stage["counts"]["dat"]["missing"] == [f"{mapped['im']['observation_id']}_BLU.dat"]
    assert stage["composites"] == ["NIR-RED-PAN"]       # the only one without BLU


def _texture(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ndimage.gaussian_filter(rng.normal(size=(n, n)), 2.0)


@settings(max_examples=15, deadline=None)
@given(dl=st.floats(-5, 5), ds=st.floats(-5, 5), gain=st.floats(0.5, 2), seed=st.integers(0, 9))
def test_measure_shift_recovers_translation(dl: float, ds: float, gain: float, seed: int
                                           ) -> None:
    a = _texture(160, seed)
    b = gain * ndimage.shift(a, (dl, ds), order=3, mode="nearest") + 0.3
    a[:10] = np.nan
    b[:, -7:] = np.nan
    r = measure_shift(a[8:-8, 8:-8], b[8:-8, 8:-8])
    assert r["dl"] == pytest.approx(dl, abs=0.05) and r["ds"] == pytest.approx(ds, abs=0.05)


def test_measure_shift_tiled_large_image() -> None:
    a = _texture(2300, 4)
    b = ndimage.shift(a, (0.37, -1.21), order=3, mode="nearest")
    a[:, :700] = np.nan                                   # a footprint-like hole
    r = measure_shift_tiled(a, b, tile=512, max_tiles=5)
    assert r["tiles"] == 5 and r["spread_px"] < 0.05
    assert r["dl"] == pytest.approx(0.37, abs=0.03) and r["ds"] == pytest.approx(-1.21, abs=0.03)
    small = measure_shift_tiled(a[:300, 800:1100], b[:300, 800:1100], tile=512)
    assert small["tiles"] == 1 and small["ds"] == pytest.approx(-1.21, abs=0.05)


def test_measure_shift_errors() -> None:
    with pytest.raises(AccuracyError):
        measure_shift(np.full((40, 40), np.nan), np.zeros((40, 40)))
    with pytest.raises(AccuracyError):
        measure_shift(np.zeros((40, 40)), np.zeros((30, 40)))


def test_previews_are_reduced_composites(mapped, tmp_path: Path) -> None:
    from cassis_pipe.stages.map import preview_step, write_previews

    obs = mapped["im"]["observation_id"]
    grid = mapped["grid"]
    names = write_previews(tmp_path, obs, mapped["mosaics"], max_side=300)
    assert names == [f"{obs}_{c}_preview.png" for c in COMPOSITES]
    k = preview_step(grid.shape, 300)
    assert k > 1  # the small observation's grid is larger than 300 px
    assert -(-max(grid.shape) // k) <= 300 < -(-max(grid.shape) // (k - 1))  # smallest step
    for n in names:
        img = Image.open(tmp_path / n)
        assert img.mode == "RGBA"
        assert img.size == (-(-grid.samples // k), -(-grid.lines // k))
        alpha = np.asarray(img)[..., 3]
        assert 0 < (alpha == 255).mean() < 1
    assert preview_step((100, 50), 2048) == 1 and preview_step((12402, 4896), 2048) == 7
