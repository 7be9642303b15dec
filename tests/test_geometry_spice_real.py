"""SPICE provider on the real TGO kernels of exposure CAS-MCO-2016-11-26T22.50.27.381.

Ground points of the SPICE-built ISD through the project's camera model against CSPICE's own
surface intercept (sincpt, TGO_CASSIS_FSA, light time to the surface) and against the Bern
labels' GEOMETRIC_DATA (older, predicted kernels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import spiceypy

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.ellipsoid import xyz_to_latlon
from cassis_pipe.geometry.kernels.kernelset import (
    KernelSetError,
    kernel_set,
    meta_kernel_files,
    write_meta_kernel,
)
from cassis_pipe.geometry.spice_provider import (
    CoverageError,
    isd_from_kernels,
    kernels_loaded,
    optics_from_pool,
    utc_to_et,
)
from cassis_pipe.labels.bern import read_bern_label
from cassis_pipe.sim.orbit import intersect_ellipsoid

DATA = Path(__file__).parent / "data"
TEXT = ("naif0012.tls", "pck00010.tpc", "em16_tgo_v18.tf", "em16_tgo_step_20190823.tsc",
        "em16_tgo_cassis_v07.ti", "tgoCassisAddendum007.ti")
OBS = "CAS-MCO-2016-11-26T22.50.27.381"
LINES = np.array([354.0, 400.0, 633.0, 1023.5, 1300.0, 1664.0])
SAMPLES = np.array([0.0, 1800.0, 2047.0, 1023.5, 300.0, 1024.0])


def _files(slice_: str = "_1", exclude: str = "") -> list[Path]:
    tgo = sorted((DATA / "kernels" / "tgo-2016-11-26").glob(f"*{slice_}*"))
    return [DATA / "kernels" / n for n in TEXT] + [p for p in tgo if not exclude or
                                                      exclude not in p.name]


@pytest.fixture(scope="module")
def kset(tmp_path_factory: pytest.TempPathFactory):
    return kernel_set(_files(), tmp_path_factory.mktemp("kcache"))


@pytest.fixture(scope="module")
def labels():
    return [read_bern_label(p) for p in sorted((DATA / "level1b").glob("*.xml"))]


def _start_et(kset, label) -> float:
    """Exposure start (ET) from the label's UTC acquisition time, as ISIS/ale take it."""
    return float(utc_to_et([label.acquisition_time.strftime("%Y-%m-%dT%H:%M:%S.%f")], kset)[0])


def _sincpt(kset, et: float, abcorr: str, rays: np.ndarray) -> np.ndarray:
    with kernels_loaded(kset):
        return np.array([spiceypy.sincpt("ELLIPSOID", "MARS", et, "IAU_MARS", abcorr, "TGO",
                                         "TGO_CASSIS_FSA", np.ascontiguousarray(r))[0]
                         for r in rays])


def test_cache_is_content_addressed_and_deterministic(kset, tmp_path: Path) -> None:
    converted = [f for f, s in zip(kset.files, kset.sources, strict=True) if f != s]
    assert len(converted) == 3 and all(f.suffix in (".bsp", ".bc") for f in converted)
    again = kernel_set(_files(), tmp_path / "other")
    for a, b in zip(kset.files, again.files, strict=True):
        assert a.name == b.name and a.read_bytes() == b.read_bytes()
    # a meta-kernel with a path symbol gives the same set
    meta = tmp_path / "set.tm"
    write_meta_kernel(meta, _files())
    assert meta_kernel_files(meta) == [p.resolve() for p in _files()]
    sym = tmp_path / "sym.tm"
    kdir = (DATA / "kernels").as_posix()
    sym.write_text(f"KPL/MK\n\\begindata\nPATH_VALUES = ( '{kdir}' )\nPATH_SYMBOLS = ( 'K' )\n"
                   "KERNELS_TO_LOAD = ( '$K/naif0012.tls' )\n\\begintext\n")
    assert meta_kernel_files(sym) == [DATA / "kernels" / "naif0012.tls"]
    assert [f.name for f in kernel_set(meta, tmp_path / "c3").files] == [
        f.name for f in again.files]
    with pytest.raises(KernelSetError, match="not found"):
        kernel_set([tmp_path / "missing.bsp"], tmp_path)


def test_pool_is_isolated(kset, labels) -> None:
    spiceypy.kclear()
    spiceypy.furnsh(str(DATA / "kernels" / "naif0012.tls"))
    isd_from_kernels(kset, [_start_et(kset, labels[0])], 0.00144, OBS)
    assert spiceypy.ktotal("ALL") == 0


def test_isd_ground_points_match_sincpt(kset, labels) -> None:
    """Every Bern framelet of the exposure: image time start + exposure / 2; the camera model
    on the SPICE ISD agrees with sincpt ("LT": light time to the surface point, no stellar
    aberration) within 1 m; "LT+S" (the previous convention) is ~39 m away."""
    for label in labels:
        assert label.exposure_time_s == pytest.approx(0.00144)
        start = _start_et(kset, label)
        isd = isd_from_kernels(kset, [start], label.exposure_time_s, OBS)
        assert isd.center_ephemeris_time == pytest.approx(start + 0.00072, abs=1e-9)
        cam = FrameCamera.from_isd(isd)
        ground = cam.image_to_ground(LINES, SAMPLES)
        with kernels_loaded(kset):
            rays = optics_from_pool()[0].pixel_to_ray(LINES, SAMPLES)
        lt = np.linalg.norm(ground - _sincpt(kset, isd.center_ephemeris_time, "LT", rays), axis=1)
        assert lt.max() * 1000 < 1.0, lt * 1000
        lts = np.linalg.norm(ground - _sincpt(kset, isd.center_ephemeris_time, "LT+S", rays),
                             axis=1)
        assert 30 < lts.min() * 1000 and lts.max() * 1000 < 50


def test_ik_boresight_matches_camera(kset, labels) -> None:
    """The IK's boresight vector (getfov, FSA +Z) through the ISD attitude and position hits
    where sincpt puts it (the boresight pixel itself is ~2 px off +Z by the distortion model)."""
    start = _start_et(kset, labels[0])
    isd = isd_from_kernels(kset, [start], 0.00144, OBS)
    with kernels_loaded(kset):
        _, frame, bsight, _, _ = spiceypy.getfov(-143400, 4)
    assert frame == "TGO_CASSIS_FSA"
    ref = _sincpt(kset, isd.center_ephemeris_time, "LT", np.asarray(bsight)[None])[0]
    cam = FrameCamera.from_isd(isd)
    got, hit = intersect_ellipsoid(cam.position_km, cam.bf_from_fsa @ np.asarray(bsight),
                                   cam.radii_km)
    assert hit and np.linalg.norm(got - ref) * 1000 < 1.0


def test_bern_geometric_data_differs_by_older_attitude(kset, labels) -> None:
    """Bern GEOMETRIC_DATA (west-positive longitudes, planetocentric latitudes) was computed with
    predicted attitude (em16_tgo_sc_fpp_009 CK, cassis_ck_p, FK v10): the sub-spacecraft point
    (SPK only) agrees to 0.0005 deg lon / 0.007 deg lat (0.4 km), but the pointing differs by
    0.15 deg, which moves the footprint by ~0.03 deg of longitude."""
    label = next(lb for lb in labels if lb.filter == "PAN")
    g = label.geometry
    start = _start_et(kset, label)
    cam = FrameCamera.from_isd(isd_from_kernels(kset, [start], 0.00144, OBS))
    lat, lon = cam.sub_spacecraft_point()
    assert abs((360.0 - lon) - g.sub_spacecraft_lon_deg) < 0.002
    assert abs(lat - g.sub_spacecraft_lat_deg) < 0.01
    blat, blon, _ = xyz_to_latlon(cam.boresight_ground())
    dlon = float(360.0 - blon) - g.sub_cassis_lon_deg
    assert 0.02 < dlon < 0.04
    assert abs(float(blat) - g.sub_cassis_lat_deg) < 0.01
    with kernels_loaded(kset):
        z = np.asarray(spiceypy.pxform("TGO_CASSIS_FSA", "J2000", cam.et))[:, 2]
    ra, dec = np.radians([g.values["POINTING_RIGHT_ASCENSION"],
                          g.values["POINTING_DECLINATION"]])
    label_dir = np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])
    assert np.degrees(np.arccos(z @ label_dir)) == pytest.approx(0.15, abs=0.01)


def test_coverage_errors_name_observation_role_time(tmp_path: Path, labels) -> None:
    full = kernel_set(_files(), tmp_path)
    start = _start_et(full, labels[0])
    with pytest.raises(CoverageError, match=r"OBS-X: CK of TGO_SPACECRAFT \(-143000\) does "
                       r"not cover .*2016-11-26T22:51:27.38\d UTC.*covered: 2016-11-26T22:50"):
        isd_from_kernels(full, [start + 60.0], 0.00144, "OBS-X")
    no_tel = kernel_set(_files(exclude="-143410"), tmp_path)
    with pytest.raises(CoverageError, match=r"TGO_CASSIS_TEL \(-143410\).*no segment"):
        isd_from_kernels(no_tel, [start], 0.00144, "OBS-Y")
    no_spk = kernel_set(_files(exclude=".xsp"), tmp_path)
    with pytest.raises(CoverageError, match=r"OBS-Z: SPK of TGO \(-143\) relative to MARS"):
        isd_from_kernels(no_spk, [start], 0.00144, "OBS-Z")
    # the other slice (12 minutes earlier) does not cover this exposure either
    other = kernel_set(_files("_0"), tmp_path)
    with pytest.raises(CoverageError) as err:
        isd_from_kernels(other, [start], 0.00144, "OBS-W")
    assert err.value.observation == "OBS-W" and err.value.et == pytest.approx(start + 0.00072)
