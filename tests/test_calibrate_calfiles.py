"""Versioned calibration file sets: write/read round trip, simulator layout, corruption."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from test_calibrate_synth import make_truth

from cassis_pipe.calibrate.calfiles import (
    CalibrationFileError,
    CalSet,
    load_calset,
    write_calset,
)


@pytest.fixture()
def small_cal() -> CalSet:
    cal, _ = make_truth(32, seed=7, n_dead=3, n_hot=3)
    cal.created = "2026-11-21"
    cal.saturation_dn = 16000.0
    cal.binning_mode = "mean"
    return cal


def test_round_trip(tmp_path: Path, small_cal: CalSet) -> None:
    d = write_calset(tmp_path, small_cal)
    assert d == tmp_path / "calibration" / "test-v1"
    for path in (tmp_path, tmp_path / "calibration", d):
        back = load_calset(path)
        assert back.version == "test-v1" and back.created == "2026-11-21"
        assert back.bias_dn.dtype == np.float32 and back.bad_pixels.dtype == np.uint8
        assert np.array_equal(back.bias_dn, small_cal.bias_dn)
        assert np.array_equal(back.flat, small_cal.flat)
        assert np.array_equal(back.bad_pixels, small_cal.bad_pixels)
        assert back.k_table == small_cal.k_table
        assert (back.saturation_dn, back.binning_mode, back.defaults_used) == (
            16000.0, "mean", ())
    assert load_calset(tmp_path, "test-v1").detector_px == 32


def _sim_layout(root: Path, version: str, n: int = 16) -> Path:
    """The simulator's writer layout (cassis_pipe/sim/calibration.py on branch sim):
    FITS images, k_table.json, manifest without saturation/binning keys."""
    d = root / "calibration" / version
    d.mkdir(parents=True)
    fits.PrimaryHDU(np.full((n, n), 300.0, np.float32)).writeto(d / "master_bias.fits")
    fits.PrimaryHDU(np.ones((n, n), np.float32)).writeto(d / "master_flat.fits")
    fits.PrimaryHDU(np.zeros((n, n), np.uint8)).writeto(d / "bad_pixels.fits")
    (d / "k_table.json").write_text(json.dumps(
        {"version": version, "unit": "(I/F) s / (DN AU^2)",
         "K": {"PAN": 1.341e-8, "RED": 3.497e-8, "NIR": 3.645e-8, "BLU": 2.658e-8}}))
    files = {}
    for name, kind in (("master_bias.fits", "bias"), ("master_flat.fits", "flat"),
                       ("bad_pixels.fits", "bad_pixels"), ("k_table.json", "absolute")):
        files[kind] = {"file": name,
                       "sha256": hashlib.sha256((d / name).read_bytes()).hexdigest()}
    (d / "manifest.json").write_text(json.dumps(
        {"version": version, "instrument": "CaSSIS", "detector_px": [n, n],
         "layout": "full detector, row-major, 0-based (row, col) = (line, sample)",
         "files": files}))
    return d


def test_simulator_layout_with_defaults(tmp_path: Path) -> None:
    _sim_layout(tmp_path, "sim-v1")
    cal = load_calset(tmp_path)
    assert cal.version == "sim-v1" and cal.detector_px == 16
    assert cal.saturation_dn == 16383.0 and cal.binning_mode == "sum"
    assert set(cal.defaults_used) == {"saturation_dn", "binning"}
    assert cal.k("NIR") == 3.645e-8


def test_several_versions_need_a_name(tmp_path: Path) -> None:
    _sim_layout(tmp_path, "sim-v1")
    _sim_layout(tmp_path, "sim-v2")
    with pytest.raises(CalibrationFileError, match="2 calibration versions"):
        load_calset(tmp_path)
    assert load_calset(tmp_path, "sim-v2").version == "sim-v2"
    with pytest.raises(CalibrationFileError):
        load_calset(tmp_path, "sim-v3")


def _edit_manifest(d: Path, fn) -> None:
    m = json.loads((d / "manifest.json").read_text())
    fn(m)
    (d / "manifest.json").write_text(json.dumps(m))


def test_corruption_is_reported(tmp_path: Path, small_cal: CalSet) -> None:
    d = write_calset(tmp_path, small_cal)
    raw = bytearray((d / "master_flat.fits").read_bytes())
    raw[-10] ^= 0xFF
    (d / "master_flat.fits").write_bytes(bytes(raw))
    with pytest.raises(CalibrationFileError, match="sha256"):
        load_calset(d)
    load_calset(d, verify=False)                      # still a readable FITS
    (d / "bad_pixels.fits").unlink()
    with pytest.raises(CalibrationFileError, match="missing"):
        load_calset(d, verify=False)


@pytest.mark.parametrize("edit, match", [
    (lambda m: m["files"]["bias"].update(file="../x.fits"), "bad file name"),
    (lambda m: m["files"].pop("absolute"), "files.absolute"),
    (lambda m: m.update(detector_px=[32, 16]), "detector_px"),
    (lambda m: m.update(detector_px=[16, 16]), "shape"),
    (lambda m: m.update(binning={"mode": "median"}), "binning mode"),
    (lambda m: m.update(version="other"), "requested"),
])
def test_bad_manifests(tmp_path: Path, small_cal: CalSet, edit, match: str) -> None:
    d = write_calset(tmp_path, small_cal)
    _edit_manifest(d, edit)
    with pytest.raises(CalibrationFileError, match=match):
        load_calset(tmp_path, "test-v1")


def test_bad_k_table_and_json(tmp_path: Path, small_cal: CalSet) -> None:
    d = write_calset(tmp_path, small_cal)
    (d / "k_table.json").write_text('{"K": {"PAN": -1.0}}')
    with pytest.raises(CalibrationFileError, match="positive"):
        load_calset(d, verify=False)
    (d / "k_table.json").write_text("not json")
    with pytest.raises(CalibrationFileError, match="K table"):
        load_calset(d, verify=False)
    (d / "manifest.json").write_text("[1, 2")
    with pytest.raises(CalibrationFileError, match="unreadable"):
        load_calset(d)


def test_unreadable_fits(tmp_path: Path, small_cal: CalSet) -> None:
    d = write_calset(tmp_path, small_cal)
    (d / "master_bias.fits").write_bytes(b"not a fits file at all" * 10)
    with pytest.raises(CalibrationFileError, match="master_bias"):
        load_calset(d, verify=False)
