"""Mosaics: all framelets of one filter resampled onto one common map grid.

Overlaps are resolved deterministically, independent of the numba thread count (each map pixel
is written by one thread per framelet pass, framelets are applied in list order):

* ``"nearest_centre"`` (default): a map pixel takes the value of the framelet in which it lies
  most centrally, score ``max(|line - centre| / half_lines, |sample - centre| / half_samples)``
  (0 at the centre, 1 at the edge); ties keep the earlier framelet. Masked/NaN framelet pixels
  never win, so a hole in one framelet is filled from another.
* ``"feather"``: weighted mean, weight = distance (framelet pixels) to the framelet edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..model import Framelet
from .grid import DEFAULT_PIXEL_M, MapGrid, grid_for_footprints
from .mosaic_kernel import mosaic_nearest, stackable
from .project import (
    DEFAULT_CELL,
    MODE_FEATHER,
    MODE_NEAREST_CENTRE,
    footprint_outline,
    project_framelet,
)
from .projections import Projection

METHODS = ("nearest_centre", "feather")


def footprint(f: Framelet, per_side: int = 33) -> np.ndarray:
    """Body-fixed km points (n, 3) of a framelet's outer edge."""
    return footprint_outline(f.camera, np.shape(f.image), per_side)


def common_grid(bands: Iterable[Sequence[Framelet]], pixel: float = DEFAULT_PIXEL_M,
                projection: Projection | None = None, margin_px: int = 0,
                outlines: Sequence[np.ndarray] | None = None) -> MapGrid:
    """ONE grid (pixel multiples) covering every framelet of every band, so that all bands of
    an observation are co-registered pixel for pixel (``outlines``: the framelets'
    footprints in the same order, if already computed)."""
    fps = (list(outlines) if outlines is not None
           else [footprint(f) for band in bands for f in band])
    fps = [fp for fp in fps if np.isfinite(fp).all()]
    if not fps:
        raise ValueError("no framelet footprint lies fully on Mars")
    return grid_for_footprints(fps, pixel, projection, margin_px)


def mosaic(framelets: Sequence[Framelet], grid: MapGrid, method: str = "nearest_centre",
           order: int = 1, height_km: float | np.ndarray = 0.0,
           cell: int = DEFAULT_CELL, outlines: Sequence[np.ndarray] | None = None
           ) -> np.ndarray:
    """Map-project and merge ``framelets`` (one filter) onto ``grid``: float32 array of
    ``grid.shape``, NaN where no framelet has a valid value. ``order`` 1 bilinear, 3 bicubic;
    ``height_km`` radial height above the ellipsoid (km): constant or a DEM on ``grid``;
    ``outlines`` the framelets' footprints (:meth:`Framelet.footprint`) if already known.
    "nearest_centre" on framelets of one shape runs in one pass
    (:func:`~.mosaic_kernel.mosaic_nearest`, same values)."""
    if method not in METHODS:
        raise ValueError(f"unknown mosaic method {method!r}, expected one of {METHODS}")
    triples = [(f.image, f.camera, f.mask) for f in framelets]
    if method == "nearest_centre" and stackable(triples):
        return mosaic_nearest(triples, grid, order, height_km, cell, outlines)
    if method == "nearest_centre":
        out = np.full(grid.shape, np.nan)
        aux = np.full(grid.shape, np.inf)
        mode = MODE_NEAREST_CENTRE
    else:
        out = np.zeros(grid.shape)
        aux = np.zeros(grid.shape)
        mode = MODE_FEATHER
    for f in framelets:
        project_framelet(f.image, f.camera, grid, out, aux, mode, f.mask, order, height_km,
                         cell)
    if method == "nearest_centre":
        return out.astype(np.float32)
    res = np.full(grid.shape, np.nan, dtype=np.float32)
    ok = aux > 0.0
    res[ok] = (out[ok] / aux[ok]).astype(np.float32)
    return res


def mosaic_bands(bands: dict[str, Sequence[Framelet]], pixel: float = DEFAULT_PIXEL_M,
                 method: str = "nearest_centre", order: int = 1,
                 height_km: float = 0.0, cell: int = DEFAULT_CELL
                 ) -> tuple[MapGrid, dict[str, np.ndarray]]:
    """Common grid for all bands (filter name -> framelets) and one mosaic per band
    (constant ``height_km``; for a DEM build the grid with :func:`common_grid` and call
    :func:`mosaic` per band)."""
    grid = common_grid(bands.values(), pixel)
    return grid, {name: mosaic(fr, grid, method, order, height_km, cell)
                  for name, fr in bands.items()}
