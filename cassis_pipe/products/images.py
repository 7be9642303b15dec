"""8-bit browse images: PNG colour composites (RGBA) and JPG single-band quick-looks.

Stretch: each channel is mapped linearly from its ``low_pct`` .. ``high_pct`` percentiles
(default 0.5 .. 99.5, computed over the valid pixels only) to 0 .. 255, clipped and rounded.
Valid pixels are finite and above -1e30 (every ISIS / PDS4 special value of float32 I/F is near
-3.4028e38, so fill, saturation and NaN are all invalid). In a composite a pixel is opaque
(alpha 255) only where every input band is valid; transparent pixels have RGB 0.

The five CaSSIS colour combinations are (red, green, blue) = filter bands. PAN-BLU has two bands:
red = PAN, blue = BLU and a synthetic green = (PAN + BLU) / 2 computed in I/F before the
stretch. Outputs are byte-identical for identical inputs (no timestamps, fixed encoder settings).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from numba import njit, prange
from PIL import Image

from cassis_pipe.products.errors import ProductError

#: combination name -> (red, green, blue) bands; None = synthetic green (PAN + BLU) / 2.
COMPOSITES: dict[str, tuple[str, str | None, str]] = {
    "NIR-PAN-BLU": ("NIR", "PAN", "BLU"),
    "NIR-RED-BLU": ("NIR", "RED", "BLU"),
    "NIR-RED-PAN": ("NIR", "RED", "PAN"),
    "RED-PAN-BLU": ("RED", "PAN", "BLU"),
    "PAN-BLU": ("PAN", None, "BLU"),
}

LOW_PCT = 0.5
HIGH_PCT = 99.5
JPEG_QUALITY = 90
PNG_LEVEL = 1
_SPECIAL_BELOW = -1e30


def valid_mask(band: np.ndarray) -> np.ndarray:
    """True where ``band`` holds a real measurement (finite and not a special value)."""
    a = np.asarray(band)
    if a.dtype.kind in "ui":
        return np.ones(a.shape, dtype=bool)
    return np.isfinite(a) & (a > _SPECIAL_BELOW)


def stretch_limits(band: np.ndarray, mask: np.ndarray, low_pct: float = LOW_PCT,
                   high_pct: float = HIGH_PCT) -> tuple[float, float]:
    """(low, high) percentiles of ``band`` over ``mask``; (0, 0) when no pixel is valid."""
    if not 0.0 <= low_pct < high_pct <= 100.0:
        raise ProductError(f"need 0 <= low < high <= 100 percent, got {low_pct}, {high_pct}")
    a = np.asarray(band)
    values = a[mask] if a.dtype == np.float32 else a.astype(np.float64)[mask]
    if values.size == 0:
        return 0.0, 0.0
    lo, hi = np.percentile(values, [low_pct, high_pct])
    return float(lo), float(hi)


def stretch_to_uint8(band: np.ndarray, mask: np.ndarray, low_pct: float = LOW_PCT,
                     high_pct: float = HIGH_PCT) -> np.ndarray:
    """Linear percentile stretch to 0..255 (uint8); pixels outside ``mask`` become 0."""
    lo, hi = stretch_limits(band, mask, low_pct, high_pct)
    a = np.asarray(band)
    if a.ndim != 2 or np.shape(mask) != a.shape:
        raise ProductError(f"band and mask must be the same 2-D shape, got {a.shape}")
    out = np.zeros(a.shape, dtype=np.uint8)
    if hi > lo:
        src = a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)
        _stretch_kernel(src, np.ascontiguousarray(mask, dtype=np.bool_), lo, 255.0 / (hi - lo),
                        out)
    return out


@njit(cache=True, parallel=True)
def _stretch_kernel(band: np.ndarray, mask: np.ndarray, lo: float, scale: float,
                    out: np.ndarray) -> None:
    """out = round(clip((band - lo) * scale, 0, 255)) where mask (float64 arithmetic)."""
    for i in prange(band.shape[0]):
        for j in range(band.shape[1]):
            if mask[i, j]:
                v = (np.float64(band[i, j]) - lo) * scale
                if v <= 0.0:
                    out[i, j] = 0
                elif v >= 255.0:
                    out[i, j] = 255
                else:
                    out[i, j] = np.uint8(np.rint(v))


def _check_bands(bands: list[np.ndarray]) -> None:
    shapes = {np.shape(b) for b in bands}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ProductError(f"bands must be co-registered 2-D arrays, got shapes {sorted(shapes)}")


class StretchCache:
    """Reuse of per-band work across composites of the same bands: each band's validity mask,
    each combination's joint mask (deduplicated: equal masks share one entry) and each
    stretched channel per (band, joint mask). Results are identical to uncached calls."""

    def __init__(self) -> None:
        self.valid: dict[str, np.ndarray] = {}
        self.masks: list[np.ndarray] = []
        self.mask_of: dict[frozenset[str], int] = {}
        self.channels: dict[tuple[str, int, float, float], np.ndarray] = {}

    def band_valid(self, name: str, band: np.ndarray) -> np.ndarray:
        if name not in self.valid:
            self.valid[name] = valid_mask(band)
        return self.valid[name]

    def joint_mask(self, names: list[str], bands: Mapping[str, np.ndarray]) -> int:
        key = frozenset(names)
        if key not in self.mask_of:
            mask = np.logical_and.reduce([self.band_valid(n, np.asarray(bands[n]))
                                          for n in names])
            for i, m in enumerate(self.masks):
                if np.array_equal(m, mask):
                    self.mask_of[key] = i
                    break
            else:
                self.masks.append(mask)
                self.mask_of[key] = len(self.masks) - 1
        return self.mask_of[key]


def composite_rgba(bands: Mapping[str, np.ndarray], combination: str,
                   low_pct: float = LOW_PCT, high_pct: float = HIGH_PCT,
                   cache: StretchCache | None = None) -> np.ndarray:
    """(lines, samples, 4) uint8 RGBA composite of ``combination`` from filter-named bands.

    Pass one ``cache`` to several calls on the same ``bands`` to stretch each band once."""
    if combination not in COMPOSITES:
        raise ProductError(f"unknown combination {combination!r}; one of {list(COMPOSITES)}")
    names = [n for n in COMPOSITES[combination] if n is not None]
    missing = [n for n in names if n not in bands]
    if missing:
        raise ProductError(f"{combination} needs bands {missing}")
    arrays = [np.asarray(bands[n]) for n in names]
    _check_bands(arrays)
    cache = StretchCache() if cache is None else cache
    mi = cache.joint_mask(names, bands)
    mask = cache.masks[mi]
    out = np.empty(arrays[0].shape + (4,), dtype=np.uint8)
    for c, name in enumerate(COMPOSITES[combination]):
        key = (name or "(PAN+BLU)/2", mi, float(low_pct), float(high_pct))
        if key not in cache.channels:
            if name is None:
                src = _half_sum(np.asarray(bands["PAN"]), np.asarray(bands["BLU"]), mask)
            else:
                src = np.asarray(bands[name])
            cache.channels[key] = stretch_to_uint8(src, mask, low_pct, high_pct)
        out[:, :, c] = cache.channels[key]
    out[:, :, 3] = np.where(mask, np.uint8(255), np.uint8(0))
    return out


def _half_sum(pan: np.ndarray, blu: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """float64 0.5 * (pan + blu) where ``mask``, 0 elsewhere (one pass, no temporaries)."""
    out = np.zeros(pan.shape, dtype=np.float64)
    _half_sum_kernel(pan, blu, np.ascontiguousarray(mask, dtype=np.bool_), out)
    return out


@njit(cache=True, parallel=True)
def _half_sum_kernel(pan: np.ndarray, blu: np.ndarray, mask: np.ndarray,
                     out: np.ndarray) -> None:
    for i in prange(pan.shape[0]):
        for j in range(pan.shape[1]):
            if mask[i, j]:
                out[i, j] = 0.5 * (np.float64(pan[i, j]) + np.float64(blu[i, j]))


def available_composites(bands: Mapping[str, np.ndarray]) -> list[str]:
    """The combinations of :data:`COMPOSITES` that the given filter bands allow, in order."""
    return [c for c, rgb in COMPOSITES.items() if all(b is None or b in bands for b in rgb)]


def block_mean(band: np.ndarray, factor: int) -> np.ndarray:
    """Mean of the valid pixels in ``factor`` x ``factor`` blocks (edge blocks may be partial).

    Blocks without any valid pixel get NaN. float64 result of shape ceil(lines / factor) x
    ceil(samples / factor).
    """
    a = np.asarray(band)
    if a.ndim != 2 or factor < 1:
        raise ProductError(f"need a 2-D band and factor >= 1, got {a.shape}, {factor}")
    mask = valid_mask(a)
    lines, samples = a.shape
    pl, ps = -lines % factor, -samples % factor
    vals = np.pad(np.where(mask, a, 0).astype(np.float64), ((0, pl), (0, ps)))
    cnt = np.pad(mask.astype(np.float64), ((0, pl), (0, ps)))
    shape = (vals.shape[0] // factor, factor, vals.shape[1] // factor, factor)
    total = vals.reshape(shape).sum(axis=(1, 3))
    count = cnt.reshape(shape).sum(axis=(1, 3))
    out = np.full(total.shape, np.nan)
    np.divide(total, count, out=out, where=count > 0)
    return out


def quicklook_grey(band: np.ndarray, low_pct: float = LOW_PCT, high_pct: float = HIGH_PCT,
                   max_side: int | None = None) -> np.ndarray:
    """uint8 grey quick-look of one band (invalid pixels black).

    With ``max_side`` the band is first reduced by the smallest integer factor that makes both
    sides <= ``max_side`` pixels (mean of the valid pixels of each block).
    """
    a = np.asarray(band)
    _check_bands([a])
    if max_side is not None:
        if max_side < 1:
            raise ProductError(f"max_side must be >= 1, got {max_side}")
        factor = -(-max(a.shape) // max_side)
        if factor > 1:
            a = block_mean(a, factor)
    return stretch_to_uint8(a, valid_mask(a), low_pct, high_pct)


def png_bytes(rgba: np.ndarray) -> bytes:
    """PNG encoding of an (lines, samples, 4) uint8 RGBA image (zlib level 1, no metadata)."""
    a = np.asarray(rgba)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 4:
        raise ProductError(f"PNG needs (lines, samples, 4) uint8, got {a.dtype} {a.shape}")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(a)).save(
        buf, format="PNG", compress_level=PNG_LEVEL, optimize=False)
    return buf.getvalue()


def jpg_bytes(grey: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """Baseline JPEG of a 2-D uint8 grey image (no EXIF, fixed quality)."""
    a = np.asarray(grey)
    if a.dtype != np.uint8 or a.ndim != 2:
        raise ProductError(f"JPG needs 2-D uint8, got {a.dtype} {a.shape}")
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(a)).save(
        buf, format="JPEG", quality=int(quality), optimize=False, progressive=False)
    return buf.getvalue()


def write_composite_png(path: str | Path, bands: Mapping[str, np.ndarray], combination: str,
                        low_pct: float = LOW_PCT, high_pct: float = HIGH_PCT,
                        cache: StretchCache | None = None) -> Path:
    """Write the ``combination`` RGBA composite as PNG; returns the path. Share one ``cache``
    between the composites of the same bands."""
    out = Path(path)
    out.write_bytes(png_bytes(composite_rgba(bands, combination, low_pct, high_pct, cache)))
    return out


def write_quicklook_jpg(path: str | Path, band: np.ndarray, low_pct: float = LOW_PCT,
                        high_pct: float = HIGH_PCT, quality: int = JPEG_QUALITY,
                        max_side: int | None = None) -> Path:
    """Write a grey JPG quick-look of one band (optionally reduced to ``max_side``)."""
    out = Path(path)
    out.write_bytes(jpg_bytes(quicklook_grey(band, low_pct, high_pct, max_side), quality))
    return out
