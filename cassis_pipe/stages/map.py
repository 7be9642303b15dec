"""Stage "map": level-1 I/F framelets of every filter -> one common map grid -> per-filter
map-projected products (float32 DAT + PDS4 label with Cartography, GeoTIFF) and the five PNG
colour composites.

Pure part: :func:`project_bands` (framelets + rotation offset -> grid + mosaics) and
:func:`map_info` (grid -> products' ``MapInfo``). I/O edge: :func:`write_map_products`.
:func:`map_observation` chains them and returns the JSON-ready stage dict with expected and
produced file counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numba
import numpy as np

from cassis_pipe import __version__
from cassis_pipe.instrument.constants import FILTER_ORDER
from cassis_pipe.labels.ids import parse_observation_id
from cassis_pipe.labels.names import DerivedName
from cassis_pipe.mapping.grid import MapGrid
from cassis_pipe.mapping.mosaic import common_grid, footprint, mosaic
from cassis_pipe.model import Framelet, valid
from cassis_pipe.products.crs import MapProjection
from cassis_pipe.products.geometry_block import (
    GeometryBlock,
    filter_inputs,
    label_geometry,
    processing_date,
)
from cassis_pipe.products.images import (
    COMPOSITES,
    StretchCache,
    available_composites,
    composite_png,
)
from cassis_pipe.products.metadata import (
    FLOAT32_MISSING,
    MapInfo,
    ProcessingRecord,
    ProductMeta,
    SpecialConstants,
)
from cassis_pipe.products.pds4 import write_product
from cassis_pipe.products.png import png_from_scanlines
from cassis_pipe.register.quality import band_misregistration, largest_measured
from cassis_pipe.stages._io import read_json, write_json
from cassis_pipe.stages._level1 import report_missing

#: Map scale of the CaSSIS derived products (m/pixel).
PIXEL_M = 4.0


def project_bands(framelets: Sequence[Framelet], rotation_offset_deg: float,
                  pixel_m: float = PIXEL_M, order: int = 1, method: str = "nearest_centre",
                  ) -> tuple[MapGrid, dict[str, np.ndarray]]:
    """Map-project every filter onto ONE common grid (``pixel_m`` m/px, projection chosen from
    the footprint centre), cameras turned by ``rotation_offset_deg`` (deg, absolute).
    Returns (grid, {filter: float32 mosaic, NaN = no data}) in PAN, RED, NIR, BLU order."""
    bands: dict[str, list[Framelet]] = {}
    for f in sorted(framelets, key=lambda f: (f.filter, f.exposure)):
        img = np.asarray(f.image, dtype=np.float32)
        ok = valid(img)
        bands.setdefault(f.filter, []).append(
            Framelet(f.filter, f.exposure, np.where(ok, img, np.float32(0.0)),
                     f.camera.with_rotation_offset(rotation_offset_deg), ok))
    if not bands:
        raise ValueError("no level-1 framelet to map")
    names = [n for n in FILTER_ORDER if n in bands] + sorted(set(bands) - set(FILTER_ORDER))
    outlines = {n: [footprint(f) for f in bands[n]] for n in names}  # computed once
    grid = common_grid([bands[n] for n in names], pixel_m,
                       outlines=[o for n in names for o in outlines[n]])
    return grid, {n: mosaic(bands[n], grid, method, order, outlines=outlines[n]) for n in names}


@numba.njit(cache=True, parallel=True)
def _with_missing_kernel(band: np.ndarray, out: np.ndarray, missing: np.float32) -> None:
    for i in numba.prange(band.shape[0]):
        for j in range(band.shape[1]):
            v = band[i, j]
            out[i, j] = v if np.isfinite(v) else missing


def with_missing(band: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out`` (float32, band shape) = ``band`` with every non-finite value replaced by the
    PDS4 missing constant (lowest float32)."""
    if out.shape != np.shape(band) or out.dtype != np.float32:
        raise ValueError("out must be float32 of the band's shape")
    _with_missing_kernel(np.asarray(band, np.float32), out, np.float32(FLOAT32_MISSING))
    return out


def map_info(grid: MapGrid) -> MapInfo:
    """Products' :class:`MapInfo` of a mapping grid (same projection field names)."""
    d = grid.to_dict()
    p = d["projection"]
    proj = MapProjection(**{k: p[k] for k in ("kind", "center_longitude_deg",
                                              "standard_parallel_deg", "pole_latitude_deg",
                                              "scale_factor", "radius_m")})
    return MapInfo(proj, grid.pixel_m, grid.pixel_m, grid.ulx_m, grid.uly_m,
                   d["west_deg"], d["east_deg"], d["north_deg"], d["south_deg"])


def product_names(observation_id: str, filters: Iterable[str]) -> dict[str, str]:
    """Derived product name ``MYnn_orbit_phase_K_FILTER`` per filter."""
    obs = parse_observation_id(observation_id)
    return {f: str(DerivedName(obs, f)) for f in filters}


def composite_name(observation_id: str, combination: str) -> str:
    """File stem of a PNG colour composite, e.g. ``MY35_006000_010_0_NIR-PAN-BLU``."""
    return f"{parse_observation_id(observation_id)}_{combination}"


def expected_files(observation_id: str, filters: Iterable[str], geotiff: bool = True
                   ) -> dict[str, list[str]]:
    """File names the map stage must produce for ``filters``, by kind."""
    filters = list(filters)
    names = product_names(observation_id, filters)
    bands = {f: np.zeros((1, 1)) for f in filters}
    combos = available_composites(bands)
    return {"dat": sorted(f"{n}.dat" for n in names.values()),
            "label": sorted(f"{n}.xml" for n in names.values()),
            "geotiff": sorted(f"{n}.tif" for n in names.values()) if geotiff else [],
            "png": sorted(f"{composite_name(observation_id, c)}.png" for c in combos),
            "composite_geotiff": sorted(f"{composite_name(observation_id, c)}.tif"
                                        for c in combos) if geotiff else []}


def write_map_products(out_dir: str | Path, observation_id: str, grid: MapGrid,
                       mosaics: dict[str, np.ndarray], *, start_utc: str, stop_utc: str,
                       rotation_offset_deg: float, exposure_duration_s: float | None = None,
                       input_lids: Sequence[str] = (), geotiff: bool = True,
                       kernels: Sequence[str] = (),
                       geometry: dict[str, GeometryBlock] | None = None) -> dict[str, list]:
    """Write per filter ``<name>.dat/.xml`` (float32 I/F, missing = lowest float32, PDS4
    Cartography, ``geometry[filter]`` as geom:Geometry, the filter's own input LIDs) and
    ``<name>.tif``, plus the available composites (PNG, and RGBA GeoTIFF when ``geotiff``),
    into ``out_dir``. ``kernels``: the SPICE kernel files the geometry came from, named in the
    labels' processing parameters (``spice_kernel``). Returns the written file names by kind."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    info = map_info(grid)
    names = product_names(observation_id, mosaics)
    written: dict[str, list] = {"dat": [], "label": [], "geotiff": [], "png": [],
                                "composite_geotiff": []}
    params = (("rotation_offset_deg", f"{rotation_offset_deg:.6f}"),
              ("map_scale_m_per_px", f"{grid.pixel_m:g}"),
              ("projection", grid.projection.kind),
              *(("spice_kernel", k) for k in kernels))
    arr = np.empty(grid.shape, np.float32)  # one buffer for every band's fill-value copy
    for f, band in mosaics.items():
        meta = ProductMeta(
            name=names[f], level="derived", start_utc=start_utc, stop_utc=stop_utc,
            modification_date=processing_date(start_utc),
            title=f"CaSSIS map-projected I/F {f} {observation_id}", filter_name=f,
            exposure_duration_s=exposure_duration_s, unit="I/F",
            description="Level-1 I/F framelets map-projected (inverse mapping, bilinear) onto "
                        "one grid per observation with the refined rotation offset.",
            special=SpecialConstants(missing=FLOAT32_MISSING),
            processing=ProcessingRecord(software_version=__version__,
                                        description="cassis-pipe level 2: map projection",
                                        parameters=params,
                                        input_products=filter_inputs(input_lids, f)),
            geometry=(geometry or {}).get(f), scaling=(1.0, 0.0))
        with_missing(band, arr)
        dat, xml = write_product(out, meta, arr, map_info=info)
        written["dat"].append(Path(dat).name)
        written["label"].append(Path(xml).name)
        if geotiff:
            # arr: NaN already the fill value, so the writer needs no further copy
            from cassis_pipe.products.geotiff import write_geotiff  # rasterio: only here

            tif = write_geotiff(out / f"{names[f]}.tif", arr, info,
                                tags={"CASSIS_PRODUCT": names[f]},
                                band=(f"{f} I/F", "I/F"))
            written["geotiff"].append(tif.name)
    written["png"] = write_composites(out, observation_id, mosaics,
                                      geotiff_info=info if geotiff else None)
    if geotiff:
        written["composite_geotiff"] = [n[:-4] + ".tif" for n in written["png"]]
    return {k: sorted(v) for k, v in written.items()}


def write_composites(out_dir: Path, observation_id: str, mosaics: dict[str, np.ndarray],
                     threads: int | None = None, geotiff_info: MapInfo | None = None
                     ) -> list[str]:
    """Write the available PNG composites; returns their file names. The bands' validity
    and stretch limits are shared between composites (:class:`StretchCache`); each composite
    is built as filtered PNG scanlines by numba kernels in this thread, and compressed
    (libdeflate, which releases the GIL) in ``threads`` worker threads (default: numba's
    thread count), at most ``threads`` images pending so memory stays bounded. Bytes do not
    depend on ``threads``. With ``geotiff_info`` each composite is also written as an RGBA
    GeoTIFF on that grid (``<stem>.tif``, :func:`products.geotiff.write_rgba_geotiff`)."""
    n = max(1, numba.get_num_threads() if threads is None else int(threads))
    cache = StretchCache()
    names: list[str] = []
    pending: list[tuple[Future, np.ndarray]] = []
    free: list[np.ndarray] = []  # scanline buffers reused once their PNG is written
    with ThreadPoolExecutor(max_workers=n) as pool:
        for combo in available_composites(mosaics):
            path = Path(out_dir) / f"{composite_name(observation_id, combo)}.png"
            while len(pending) >= n:
                fut, buf = pending.pop(0)
                fut.result()
                free.append(buf)
            rows = composite_png(mosaics, combo, cache=cache, out=free.pop() if free else None)
            pending.append((pool.submit(_write_composite, path, rows, geotiff_info, combo), rows))
            names.append(path.name)
        for fut, _ in pending:
            fut.result()
    return names


#: Longest side (px) of the reduced composites for viewing and the Snakemake report.
PREVIEW_MAX_SIDE = 2048


def preview_step(shape: tuple[int, ...], max_side: int = PREVIEW_MAX_SIDE) -> int:
    """Smallest line/sample step that brings the longest side of ``shape`` to ``max_side``."""
    return max(1, -(-max(shape) // max(1, int(max_side))))


def write_previews(out_dir: str | Path, observation_id: str, mosaics: dict[str, np.ndarray],
                   max_side: int = PREVIEW_MAX_SIDE) -> list[str]:
    """The available composites reduced for viewing, ``<obs>_<combination>_preview.png``: every
    k-th line and sample of the mosaics (k from :func:`preview_step`), stretched on those
    pixels. Not products (the full-resolution composites are); returns the file names."""
    if not mosaics:
        return []
    k = preview_step(next(iter(mosaics.values())).shape, max_side)
    small = {f: np.ascontiguousarray(m[::k, ::k]) for f, m in mosaics.items()}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cache = StretchCache()
    names = []
    for combo in available_composites(small):
        path = out / f"{composite_name(observation_id, combo)}_preview.png"
        _write_png(path, composite_png(small, combo, cache=cache))
        names.append(path.name)
    return names


def _write_png(path: Path, rows: np.ndarray) -> None:
    path.write_bytes(png_from_scanlines(rows, (rows.shape[1] - 1) // 4))


def _write_composite(path: Path, rows: np.ndarray, info: MapInfo | None, combo: str) -> None:
    """PNG from "Up"-filtered scanlines; with ``info`` also the RGBA GeoTIFF."""
    _write_png(path, rows)
    if info is not None:
        from cassis_pipe.products.geotiff import write_composite_geotiff  # rasterio: only here

        write_composite_geotiff(path.with_suffix(".tif"), rows, info, combo)


def count_check(expected: dict[str, list[str]], out_dir: str | Path) -> dict[str, Any]:
    """Expected vs produced (on disk) file counts per kind, with the missing names."""
    d = Path(out_dir)
    res: dict[str, Any] = {}
    for kind, names in expected.items():
        missing = [n for n in names if not (d / n).is_file()]
        res[kind] = {"expected": len(names), "produced": len(names) - len(missing),
                     "missing": missing}
    res["ok"] = all(v["produced"] == v["expected"] for v in res.values())
    return res


def map_observation(framelets: Sequence[Framelet], observation_id: str,
                    rotation_offset_deg: float, out_dir: str | Path, *, start_utc: str,
                    stop_utc: str, pixel_m: float = PIXEL_M,
                    expected_filters: Sequence[str] = FILTER_ORDER,
                    exposure_duration_s: float | None = None, input_lids: Sequence[str] = (),
                    geotiff: bool = True, preview_dir: str | Path | None = None,
                    kernels: Sequence[str] = ()
                    ) -> tuple[dict[str, Any], MapGrid, dict[str, np.ndarray]]:
    """Project, write and count. Returns (stage dict, grid, mosaics); the stage dict holds the
    grid (``MapGrid.to_dict``), per-filter valid pixel counts and the file count check
    against ``expected_filters`` (a filter without framelets shows up as missing files).
    ``preview_dir``: also write reduced composites there (:func:`write_previews`);
    ``kernels``: geometry sources named in the labels (:func:`geometry_sources`)."""
    grid, mosaics = project_bands(framelets, rotation_offset_deg, pixel_m)
    files = write_map_products(out_dir, observation_id, grid, mosaics, start_utc=start_utc,
                               stop_utc=stop_utc, rotation_offset_deg=rotation_offset_deg,
                               exposure_duration_s=exposure_duration_s, input_lids=input_lids,
                               geotiff=geotiff, kernels=kernels, geometry=label_geometry(
                                   framelets, grid, rotation_offset_deg, start_utc,
                                   observation_id, kernels))
    check = count_check(expected_files(observation_id, expected_filters, geotiff), out_dir)
    n_in = {f: sum(1 for x in framelets if x.filter == f) for f in mosaics}
    stage = {"stage": "map", "observation_id": observation_id,
             "rotation_offset_deg": float(rotation_offset_deg), "grid": grid.to_dict(),
             "framelets": n_in,
             "valid_pixels": {f: int(np.isfinite(m).sum()) for f, m in mosaics.items()},
             "composites": [c for c in COMPOSITES
                            if f"{composite_name(observation_id, c)}.png" in files["png"]],
             "files": files, "counts": check, "ok": bool(check["ok"])}
    if kernels:
        stage["spice_kernels"] = list(kernels)
    if preview_dir is not None:
        stage["previews"] = write_previews(preview_dir, observation_id, mosaics)
    return stage, grid, mosaics


def composite_pixels(mosaics: dict[str, np.ndarray], combos: Sequence[str]) -> dict[str, int]:
    """Map pixels with every band of each composite valid (the opaque pixels of its PNG)."""
    out = {}
    for c in combos:
        ok = np.ones(next(iter(mosaics.values())).shape, bool)
        for b in COMPOSITES[c]:
            if b is not None:
                ok &= np.isfinite(mosaics[b])
        out[c] = int(ok.sum())
    return out


def run_map(framelets: list[Framelet], info: dict[str, Any], rotation_json: str | Path,
            out_dir: str | Path, stage_json: str | Path, *, pixel_m: float = 4.0,
            expected_filters: tuple[str, ...] = FILTER_ORDER,
            preview_dir: str | Path | None = None, kernels: Sequence[str] = ()
            ) -> dict[str, Any]:
    """Map stage: products of every filter on one grid with the recovered offset; the grid is
    kept in the stage JSON (``grid``) for the accuracy stage; reduced composites for the
    report in ``preview_dir`` if given."""
    offset = float(read_json(rotation_json)["offset_deg"])
    stage, _, mosaics = map_observation(framelets, info["observation_id"], offset, out_dir,
                                  start_utc=info["start_utc"], stop_utc=info["stop_utc"],
                                  pixel_m=pixel_m, expected_filters=expected_filters,
                                  exposure_duration_s=info.get("t_exp_s"),
                                  input_lids=info.get("input_lids", ()),
                                  preview_dir=preview_dir, kernels=kernels)
    stage["composite_pixels"] = composite_pixels(mosaics, stage["composites"])
    if stage["composites"] and not any(stage["composite_pixels"].values()):
        stage["composite_note"] = ("no map pixel has every band of a composite: the filters "
                                   "of one exposure see different ground; colour needs "
                                   "overlapping exposures (composites written, transparent)")
    mis = band_misregistration(mosaics, "PAN") if "PAN" in mosaics else {}
    stage["band_misregistration_px"] = {
        "reference": "PAN", "bands": mis,
        "max": largest_measured(mis.values(), lambda v: v["magnitude"])}
    report_missing(stage, info.get("missing_framelets", []), "mosaics")
    write_json(stage_json, stage)
    return stage
