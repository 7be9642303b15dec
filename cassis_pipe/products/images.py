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
from cassis_pipe.products.percentile import (
    band_percentiles,
    native,
    same_mask,
    set_valid_bit,
)
from cassis_pipe.products.png import encode_rgba, png_from_scanlines, scanline_buffer

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
#: bands at least this large (pixels) get their percentiles from :mod:`.percentile`
FAST_PERCENTILE_PX = 1 << 18
_SPECIAL_BELOW = -1e30


def valid_mask(band: np.ndarray) -> np.ndarray:
    """True where ``band`` holds a real measurement (finite and not a special value)."""
    a = np.asarray(band)
    if a.dtype.kind in "ui":
        return np.ones(a.shape, dtype=bool)
    return np.isfinite(a) & (a > _SPECIAL_BELOW)


def stretch_limits(band: np.ndarray, mask: np.ndarray, low_pct: float = LOW_PCT,
                   high_pct: float = HIGH_PCT) -> tuple[float, float]:
    """(low, high) percentiles of ``band`` over ``mask``; (0, 0) when no pixel is valid.
    Values equal ``np.percentile``; large bands use :func:`band_percentiles`."""
    if not 0.0 <= low_pct < high_pct <= 100.0:
        raise ProductError(f"need 0 <= low < high <= 100 percent, got {low_pct}, {high_pct}")
    a = np.asarray(band)
    if a.ndim == 2 and a.size >= FAST_PERCENTILE_PX and np.shape(mask) == a.shape:
        bits = np.ascontiguousarray(mask, dtype=np.bool_).view(np.uint8)
        res = band_percentiles(a, (low_pct, high_pct), bits, 1)
        return (0.0, 0.0) if res is None else (res[0], res[1])
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
    """Work shared by the composites of the same bands: one uint8 validity bit set (bit per
    band) and each channel's stretch limits per joint mask (equal joint masks share limits).
    Results are identical to uncached calls."""

    def __init__(self) -> None:
        self.bit: dict[str, int] = {}
        self.bits: np.ndarray | None = None
        self.mask_key: dict[int, int] = {}
        self.limits: dict[tuple[str, int, float, float], tuple[float, float]] = {}

    def need(self, names: list[str], bands: Mapping[str, np.ndarray]) -> int:
        """Bit set of ``names`` (their validity bits computed on first use)."""
        for n in names:
            if n not in self.bit:
                if len(self.bit) == 8:
                    raise ProductError("a StretchCache holds at most 8 bands")
                band = native(bands[n])
                if self.bits is None:
                    self.bits = np.zeros(band.shape, np.uint8)
                self.bit[n] = len(self.bit)
                set_valid_bit(band, self.bit[n], self.bits)
        return sum(1 << self.bit[n] for n in names)

    def joint_mask(self, names: list[str], bands: Mapping[str, np.ndarray]) -> int:
        """Key of the joint mask of ``names``: the first equal mask's bit set."""
        need = self.need(names, bands)
        if need not in self.mask_key:
            for other in list(self.mask_key.values()):
                if same_mask(self.bits, need, other):
                    self.mask_key[need] = other
                    break
            else:
                self.mask_key[need] = need
        return self.mask_key[need]

    def channel_limits(self, name: str | None, need: int, bands: Mapping[str, np.ndarray],
                       low_pct: float, high_pct: float) -> tuple[float, float]:
        """Stretch limits of band ``name`` (None: (PAN + BLU) / 2) over the mask ``need``."""
        key = (name or "(PAN+BLU)/2", self.joint_mask_of(need), float(low_pct),
               float(high_pct))
        if key not in self.limits:
            if not 0.0 <= low_pct < high_pct <= 100.0:
                raise ProductError(f"need 0 <= low < high <= 100 percent, got {low_pct}, "
                                   f"{high_pct}")
            a, b = ((bands["PAN"], bands["BLU"]) if name is None else (bands[name], None))
            res = band_percentiles(np.asarray(a), (low_pct, high_pct), self.bits, need, b)
            self.limits[key] = (0.0, 0.0) if res is None else (res[0], res[1])
        return self.limits[key]

    def joint_mask_of(self, need: int) -> int:
        return self.mask_key.get(need, need)

    @property
    def masks(self) -> list[np.ndarray]:
        """The distinct joint masks seen so far (boolean arrays, built on request)."""
        if self.bits is None:
            return []
        keys = sorted(set(self.mask_key.values()))
        return [(self.bits & k) == k for k in keys]


def _composite_setup(bands: Mapping[str, np.ndarray], combination: str, low_pct: float,
                     high_pct: float, cache: StretchCache | None
                     ) -> tuple[list[np.ndarray], StretchCache, int, np.ndarray, np.ndarray]:
    """(channel sources r, g, b, g2 (BLU for the synthetic green), cache, mask bits, lows,
    scales (-1 = constant 0 channel))."""
    if combination not in COMPOSITES:
        raise ProductError(f"unknown combination {combination!r}; one of {list(COMPOSITES)}")
    names = [n for n in COMPOSITES[combination] if n is not None]
    missing = [n for n in names if n not in bands]
    if missing:
        raise ProductError(f"{combination} needs bands {missing}")
    arrays = [np.asarray(bands[n]) for n in names]
    _check_bands(arrays)
    cache = StretchCache() if cache is None else cache
    need = cache.need(names, bands)
    cache.joint_mask(names, bands)
    lows = np.zeros(3)
    scales = np.full(3, -1.0)
    srcs = []
    for c, name in enumerate(COMPOSITES[combination]):
        lo, hi = cache.channel_limits(name, need, bands, low_pct, high_pct)
        if hi > lo:
            lows[c], scales[c] = lo, 255.0 / (hi - lo)
        srcs.append(native(bands["PAN" if name is None else name]))
    g2 = native(bands["BLU"]) if COMPOSITES[combination][1] is None else srcs[1]
    return srcs + [g2], cache, need, lows, scales


@njit(cache=True, inline="always")
def _level(v: float, lo: float, scale: float) -> np.uint8:
    """round(clip((v - lo) * scale, 0, 255)); 0 for a constant channel (scale < 0)."""
    if scale < 0.0:
        return np.uint8(0)
    x = (v - lo) * scale
    if x <= 0.0:
        return np.uint8(0)
    if x >= 255.0:
        return np.uint8(255)
    return np.uint8(np.rint(x))


@njit(cache=True, inline="always")
def _pixel_row(r: np.ndarray, g: np.ndarray, b: np.ndarray, g2: np.ndarray, half_green: bool,
               bits: np.ndarray, need: int, lows: np.ndarray, scales: np.ndarray, i: int,
               row: np.ndarray) -> None:
    """RGBA of map row ``i`` into ``row`` (4 samples uint8)."""
    for j in range(r.shape[1]):
        k = 4 * j
        if bits[i, j] & need == need:
            gv = np.float64(g[i, j])
            if half_green:
                gv = 0.5 * (gv + np.float64(g2[i, j]))
            row[k] = _level(np.float64(r[i, j]), lows[0], scales[0])
            row[k + 1] = _level(gv, lows[1], scales[1])
            row[k + 2] = _level(np.float64(b[i, j]), lows[2], scales[2])
            row[k + 3] = 255
        else:
            row[k] = 0
            row[k + 1] = 0
            row[k + 2] = 0
            row[k + 3] = 0


@njit(cache=True, parallel=True)
def _composite_kernel(r: np.ndarray, g: np.ndarray, b: np.ndarray, g2: np.ndarray,
                      half_green: bool, bits: np.ndarray, need: int, lows: np.ndarray,
                      scales: np.ndarray, out: np.ndarray, up: bool) -> None:
    """RGBA of every pixel (stretched channels and alpha 255 where the joint mask holds, all
    0 elsewhere; float64 arithmetic; the synthetic green is 0.5 * (g + g2)). ``up`` False:
    ``out`` (lines, 4 samples) gets the pixels; True: ``out`` (lines, 1 + 4 samples) gets
    PNG scanlines with the "Up" filter (filter byte 2, row minus the row above, mod 256).
    Rows are done in fixed blocks; each block recomputes the row above it."""
    lines = r.shape[0]
    width = 4 * r.shape[1]
    col0 = 1 if up else 0
    nblock = max(1, min(64, lines))
    for bk in prange(nblock):
        i0 = bk * lines // nblock
        i1 = (bk + 1) * lines // nblock
        rows = np.zeros((2, width), np.uint8)  # row i in rows[i % 2], the row above in the other
        if up and i0 > 0:
            _pixel_row(r, g, b, g2, half_green, bits, need, lows, scales, i0 - 1,
                       rows[(i0 - 1) % 2])
        for i in range(i0, i1):
            cur = rows[i % 2]
            _pixel_row(r, g, b, g2, half_green, bits, need, lows, scales, i, cur)
            dst = out[i, col0:col0 + width]
            if up:
                out[i, 0] = 2
                prev = rows[(i + 1) % 2]
                for k in range(width):
                    dst[k] = cur[k] - prev[k]
            else:
                dst[:] = cur


def composite_rgba(bands: Mapping[str, np.ndarray], combination: str,
                   low_pct: float = LOW_PCT, high_pct: float = HIGH_PCT,
                   cache: StretchCache | None = None) -> np.ndarray:
    """(lines, samples, 4) uint8 RGBA composite of ``combination`` from filter-named bands.

    Pass one ``cache`` to several calls on the same ``bands`` to share validity and limits."""
    (r, g, b, g2), cache, need, lows, scales = _composite_setup(bands, combination, low_pct,
                                                                 high_pct, cache)
    lines, samples = r.shape
    out = np.empty((lines, samples, 4), dtype=np.uint8)
    _composite_kernel(r, g, b, g2, COMPOSITES[combination][1] is None, cache.bits, need, lows,
                      scales, out.reshape(lines, 4 * samples), False)
    return out


def composite_png(bands: Mapping[str, np.ndarray], combination: str,
                  low_pct: float = LOW_PCT, high_pct: float = HIGH_PCT,
                  cache: StretchCache | None = None, out: np.ndarray | None = None
                  ) -> np.ndarray:
    """The composite as PNG scanlines ready for :func:`png_from_scanlines` ("Up"-filtered,
    (lines, 1 + 4 samples) uint8), built without an RGBA temporary; written into ``out``
    when given (a reused buffer saves the page faults of a fresh one)."""
    (r, g, b, g2), cache, need, lows, scales = _composite_setup(bands, combination, low_pct,
                                                                 high_pct, cache)
    shape = (r.shape[0], 1 + 4 * r.shape[1])
    if out is not None and (out.shape != shape or out.dtype != np.uint8
                            or not out.flags.c_contiguous):
        raise ProductError(f"scanline buffer must be C-contiguous uint8 {shape}")
    buf = scanline_buffer(*r.shape) if out is None else out
    _composite_kernel(r, g, b, g2, COMPOSITES[combination][1] is None, cache.bits, need, lows,
                      scales, buf, True)
    return buf


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
    """PNG encoding of an (lines, samples, 4) uint8 RGBA image (:mod:`.png`: "Up" filter,
    libdeflate level 1, no metadata)."""
    return encode_rgba(rgba)


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
    rows = composite_png(bands, combination, low_pct, high_pct, cache)
    out.write_bytes(png_from_scanlines(rows, (rows.shape[1] - 1) // 4))
    return out


def write_quicklook_jpg(path: str | Path, band: np.ndarray, low_pct: float = LOW_PCT,
                        high_pct: float = HIGH_PCT, quality: int = JPEG_QUALITY,
                        max_side: int | None = None) -> Path:
    """Write a grey JPG quick-look of one band (optionally reduced to ``max_side``)."""
    out = Path(path)
    out.write_bytes(jpg_bytes(quicklook_grey(band, low_pct, high_pct, max_side), quality))
    return out
