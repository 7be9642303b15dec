"""Map-projected GeoTIFFs (rasterio/GDAL): tiled 256 x 256, ZSTD (level 1) + floating-point
predictor, sparse (all-nodata tiles not stored), internal overviews, Mars CRS from
:mod:`cassis_pipe.products.crs`.

Compression and overviews use as many GDAL threads as numba has (``set_threads``); the bytes do
not depend on the thread count (GDAL writes the tiles in order).

float32 I/F rasters use the fill value :data:`~cassis_pipe.products.metadata.FLOAT32_MISSING`
(-3.4028234663852886e38) as GDAL ``nodata``; NaNs in the input are written as that fill value.
The full WKT2 of the CRS (with its IAU 2015 ids) is also kept in the ``CASSIS_CRS_WKT2`` dataset
tag, because GeoTIFF keys cannot carry a non-EPSG authority for a custom projection.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.transform import Affine

from cassis_pipe.products.crs import crs_wkt2, rasterio_crs, same_crs
from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.images import COMPOSITES
from cassis_pipe.products.metadata import FLOAT32_MISSING, MapInfo

BLOCK = 256
#: Tile compression: ZSTD level 1 needs ~40 % less CPU than DEFLATE level 1 (tiles and
#: overviews) for the same size on predictor-3 float32 I/F (docs/performance-history.md);
#: readers need GDAL >= 2.3 / libtiff with ZSTD (the archival product is the PDS4 DAT).
COMPRESS = "zstd"
ZSTD_LEVEL = 1
WKT2_TAG = "CASSIS_CRS_WKT2"


def overview_factors(lines: int, samples: int, block: int = BLOCK) -> list[int]:
    """Powers of two 2, 4, ... until the coarsest overview fits in one ``block`` tile."""
    factors = []
    f = 2
    while max(lines, samples) * 2 / f > block:
        factors.append(f)
        f *= 2
    return factors


def write_geotiff(path: str | Path, array: np.ndarray, map_info: MapInfo,
                  tags: dict[str, str] | None = None,
                  band: tuple[str, str] | None = None) -> Path:
    """Write a 2-D float32 (I/F) or uint16 (DN) raster as a tiled, compressed GeoTIFF.

    float32 uses nodata :data:`FLOAT32_MISSING` (NaN input becomes that value) and predictor 3;
    uint16 has no nodata and uses predictor 2. ``tags`` are extra dataset metadata strings;
    ``band`` = (description, unit) of band 1, e.g. ("PAN I/F", "I/F").
    """
    a = np.asarray(array)
    if a.ndim != 2 or min(a.shape) < 1:
        raise ProductError(f"GeoTIFF raster must be 2-D and non-empty, got shape {a.shape}")
    if a.dtype.newbyteorder("=") == np.dtype(np.float32):
        nan = np.isnan(a)
        if nan.any():
            a = np.where(nan, np.float32(FLOAT32_MISSING), a)
        a = a.astype(np.float32, copy=False)
        nodata: float | None = FLOAT32_MISSING
        predictor = 3
    elif a.dtype.newbyteorder("=") == np.dtype(np.uint16):
        a = a.astype(np.uint16)
        nodata = None
        predictor = 2
    else:
        raise ProductError(f"GeoTIFF raster must be float32 or uint16, not {a.dtype}")
    threads = max(1, numba.get_num_threads())
    gt = map_info.geotransform()
    transform = Affine(gt[1], gt[2], gt[0], gt[4], gt[5], gt[3])
    profile = {
        "driver": "GTiff", "width": a.shape[1], "height": a.shape[0], "count": 1,
        "dtype": a.dtype.name, "crs": rasterio_crs(map_info.projection),
        "transform": transform, "nodata": nodata, "tiled": True, "blockxsize": BLOCK,
        "blockysize": BLOCK, "compress": COMPRESS, "predictor": predictor, "zstd_level": ZSTD_LEVEL,
        "num_threads": str(threads),
        # tiles holding only nodata are not written (read back as nodata): a map of a
        # diagonal strip is mostly empty; ~30 % less CPU for the same pixels
        "sparse_ok": "TRUE",
    }
    out = Path(path)
    all_tags = {WKT2_TAG: crs_wkt2(map_info.projection)} | dict(tags or {})
    with warnings.catch_warnings():
        # an identity geotransform (corner 0, 0 and 1 m pixels) is a valid map here
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.Env(GDAL_PAM_ENABLED="NO", GDAL_NUM_THREADS=str(threads)), \
                rasterio.open(out, "w", **profile) as ds:
            ds.write(a, 1)
            ds.update_tags(**all_tags)
            if band is not None:
                ds.set_band_description(1, band[0])
                ds.units = (band[1],)
            factors = overview_factors(*a.shape)
            if factors:
                ds.build_overviews(factors, Resampling.average)
                ds.update_tags(ns="rio_overview", resampling="average")
    return out


def write_rgba_geotiff(path: str | Path, rgba: np.ndarray, map_info: MapInfo,
                       descriptions: tuple[str, str, str, str],
                       tags: dict[str, str] | None = None) -> Path:
    """Write an (lines, samples, 4) uint8 RGBA composite as a tiled, sparse GeoTIFF (ZSTD 1,
    predictor 2, pixel-interleaved, photometric RGB with band 4 as unassociated alpha, the
    georeferencing of the per-filter products); ``descriptions`` name the four bands."""
    a = np.asarray(rgba)
    if a.ndim != 3 or a.shape[2] != 4 or a.dtype != np.uint8 or min(a.shape[:2]) < 1:
        raise ProductError(f"RGBA GeoTIFF needs (lines, samples, 4) uint8, got {a.shape} "
                           f"{a.dtype}")
    gt = map_info.geotransform()
    threads = max(1, numba.get_num_threads())
    profile = {
        "driver": "GTiff", "width": a.shape[1], "height": a.shape[0], "count": 4,
        "dtype": "uint8", "crs": rasterio_crs(map_info.projection),
        "transform": Affine(gt[1], gt[2], gt[0], gt[4], gt[5], gt[3]), "tiled": True,
        "blockxsize": BLOCK, "blockysize": BLOCK, "compress": COMPRESS, "predictor": 2,
        "zstd_level": ZSTD_LEVEL, "interleave": "pixel", "photometric": "RGB", "alpha": "YES",
        "num_threads": str(threads),
        # all-zero (transparent) tiles are not stored; they read back as 0
        "sparse_ok": "TRUE",
    }
    out = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.Env(GDAL_PAM_ENABLED="NO", GDAL_NUM_THREADS=str(threads)), \
                rasterio.open(out, "w", **profile) as ds:
            ds.write(np.moveaxis(a, 2, 0))
            ds.update_tags(**({WKT2_TAG: crs_wkt2(map_info.projection)} | dict(tags or {})))
            for k, d in enumerate(descriptions, start=1):
                ds.set_band_description(k, d)
    return out


def composite_band_names(combo: str) -> tuple[str, str, str, str]:
    """Band descriptions of a composite GeoTIFF: channel and the filter it shows."""
    r, g, b = COMPOSITES[combo]
    green = g if g is not None else "(PAN+BLU)/2"
    return (f"R: {r}", f"G: {green}", f"B: {b}", "alpha: all bands valid")


def write_composite_geotiff(path: str | Path, scanlines: np.ndarray, map_info: MapInfo,
                           combo: str) -> Path:
    """The composite ``combo`` as RGBA GeoTIFF from its PNG scanlines ((lines, 1 + 4 samples)
    uint8, "Up"-filtered as :func:`images.composite_png` builds them; the filter is undone
    row by row: each row plus the one above, mod 256)."""
    rows = np.asarray(scanlines)
    rgba = np.empty((rows.shape[0], rows.shape[1] - 1), np.uint8)
    rgba[0] = rows[0, 1:]
    for i in range(1, len(rows)):
        np.add(rgba[i - 1], rows[i, 1:], out=rgba[i])
    return write_rgba_geotiff(path, rgba.reshape(rows.shape[0], -1, 4), map_info,
                              composite_band_names(combo),
                              tags={"CASSIS_PRODUCT": Path(path).stem})


def _preferred_crs(geokeys: CRS | None, wkt2: str | None) -> CRS | None:
    """The CRS of the WKT2 tag (IAU ids kept) when it agrees with the GeoTIFF keys."""
    if geokeys is None or not wkt2:
        return geokeys
    try:
        tagged = CRS.from_wkt(wkt2)
    except rasterio.errors.CRSError:
        return geokeys
    if not same_crs(tagged, geokeys):
        return geokeys
    m = re.search(r',ID\["IAU",(\d+),2015\]\]$', wkt2)
    if m:
        try:
            return CRS.from_user_input(f"IAU_2015:{m.group(1)}")
        except rasterio.errors.CRSError:
            pass
    return tagged


@dataclass(frozen=True, slots=True)
class GeoTiffInfo:
    """What :func:`read_geotiff` found: pixels, CRS, geotransform (GDAL order), layout.

    ``crs`` is the CRS of the ``CASSIS_CRS_WKT2`` tag (by IAU 2015 code when it has one) if that
    tag agrees with the GeoTIFF keys, else the keys' CRS (``geokeys_crs``).
    """

    array: np.ndarray
    crs: CRS
    geokeys_crs: CRS
    geotransform: tuple[float, float, float, float, float, float]
    nodata: float | None
    block_shape: tuple[int, int]
    overviews: list[int]
    compression: str | None
    predictor: int | None
    tags: dict[str, str]


def read_geotiff(path: str | Path) -> GeoTiffInfo:
    """Read band 1 of a GeoTIFF with its georeferencing and layout."""
    try:
        with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(Path(path)) as ds:
            image_structure = ds.tags(ns="IMAGE_STRUCTURE")
            pred = image_structure.get("PREDICTOR")
            tags = ds.tags()
            return GeoTiffInfo(
                array=ds.read(1),
                crs=_preferred_crs(ds.crs, tags.get(WKT2_TAG)),
                geokeys_crs=ds.crs,
                geotransform=tuple(ds.transform.to_gdal()),
                nodata=ds.nodata,
                block_shape=ds.block_shapes[0],
                overviews=ds.overviews(1),
                compression=ds.compression.name.lower() if ds.compression else None,
                predictor=int(pred) if pred else None,
                tags=tags,
            )
    except (rasterio.errors.RasterioError, OSError) as exc:
        raise ProductError(f"cannot read GeoTIFF {path}: {exc}") from exc
