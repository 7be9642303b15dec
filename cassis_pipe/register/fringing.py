"""Colour-fringing (misregistration) metric for a candidate rotation-mechanism offset.

A wrong offset ``delta`` moves the four filters' ground footprints differently (they sit at
different detector rows), so a reference-filter framelet and another filter's framelet of the
same ground no longer line up when one is resampled into the other's pixel grid through the
ground. For each pair the other framelet is resampled into the reference framelet's grid
(reference image -> ground with ``delta`` -> other image with ``delta``; the mapping is computed
on a coarse node grid and interpolated bilinearly) and the residual translation is measured by
gradient cross-correlation (:mod:`.correlate`, complex64 spectra). Cost = mean over pairs of
``dl^2 + ds^2`` (px^2, reference-filter image pixels); a pair that cannot be measured counts
``max_shift_px^2``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numba
import numpy as np

from ..geometry.camera import FrameCamera
from ..geometry.ellipsoid import HeightFn
from ..imaging.resample import node_positions, resample_through_nodes, upsample_grid
from ..model import Framelet
from .correlate import RegistrationError, Shift, measure_shift


@dataclass(frozen=True)
class Pair:
    """Reference framelet ``ref`` and the framelet ``other`` (indices into the framelet list)
    that sees most of the same ground; ``overlap`` = fraction of reference pixels seen by
    ``other`` at offset 0."""

    ref: int
    other: int
    overlap: float


@dataclass(frozen=True)
class PairShift:
    """Residual shift (px, reference grid) of one pair at one offset; ``shift`` None when the
    pair could not be measured (``reason`` says why)."""

    pair: Pair
    shift: Shift | None
    reason: str = ""


@dataclass(frozen=True)
class FringingResult:
    """Cost (px^2) of one candidate offset (deg) and the per-pair shifts."""

    delta_deg: float
    cost_px2: float
    shifts: list[PairShift] = field(default_factory=list)

    @property
    def n_measured(self) -> int:
        """Pairs with a measured shift."""
        return sum(p.shift is not None for p in self.shifts)


def map_pixels(src: FrameCamera, dst: FrameCamera, shape: tuple[int, int], delta_deg: float,
               node_step_px: int = 16, dem: HeightFn | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """For every pixel of a ``shape`` image of ``src``: (line, sample) in ``dst``'s image seen
    through the ground, both cameras with rotation offset ``delta_deg``. Exact at the nodes
    (every ``node_step_px`` px and the last pixel), bilinear in between; NaN off-planet."""
    nl, ns = int(shape[0]), int(shape[1])
    rl, rs, dl, ds = _map_nodes(src, dst, shape, delta_deg, node_step_px, dem)
    return upsample_grid(dl, rl, rs, nl, ns), upsample_grid(ds, rl, rs, nl, ns)


def _map_nodes(src: FrameCamera, dst: FrameCamera, shape: tuple[int, int], delta_deg: float,
               node_step_px: int, dem: HeightFn | None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Node rows and columns of ``src``'s image and ``dst``'s (line, sample) at each node."""
    rl = node_positions(int(shape[0]), node_step_px)
    rs = node_positions(int(shape[1]), node_step_px)
    ll, ss = np.meshgrid(rl, rs, indexing="ij")
    ground = src.with_rotation_offset(delta_deg).image_to_ground(ll, ss, dem)
    dl, ds = dst.with_rotation_offset(delta_deg).ground_to_image(ground)
    return (rl, rs, np.ascontiguousarray(dl, dtype=np.float64),
            np.ascontiguousarray(ds, dtype=np.float64))


def _ground_nodes(cam: FrameCamera, shape: tuple[int, int], node_step_px: int) -> np.ndarray:
    """Ground points of ``cam``'s image nodes (every ``node_step_px`` px and the last pixel)."""
    rl = node_positions(int(shape[0]), node_step_px)
    rs = node_positions(int(shape[1]), node_step_px)
    ll, ss = np.meshgrid(rl, rs, indexing="ij")
    return cam.image_to_ground(ll, ss)


def _inside_fraction(dst: FrameCamera, ground: np.ndarray, dst_shape: tuple[int, int]) -> float:
    """Fraction of ``ground`` points that ``dst`` sees inside its ``dst_shape`` image."""
    dl, ds = dst.ground_to_image(ground)
    inside = (dl >= 0) & (dl <= dst_shape[0] - 1) & (ds >= 0) & (ds <= dst_shape[1] - 1)
    return float(np.mean(inside))


@contextmanager
def _one_numba_thread() -> Iterator[None]:
    """numba kernels of the calling thread on one thread: the geometry kernels' node grids
    (<= a few thousand points) cost more in thread wake-ups than they gain, badly so on busy
    cores (select_pairs: 0.14 s CPU on one thread, 0.7-2 s on two). Values do not change."""
    n = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(n)


def select_pairs(framelets: Sequence[Framelet], reference: str = "PAN",
                 min_overlap: float = 0.3, max_pairs: int | None = None) -> list[Pair]:
    """For each framelet of the ``reference`` filter and each other filter, the framelet of
    that filter whose footprint covers most of it (offset 0), if it covers at least
    ``min_overlap`` (after the first match only exposures within 2 of the same lag are
    tried). ``max_pairs`` keeps that many, spread evenly over the list. Raises
    ``ValueError`` when the reference filter is absent."""
    refs = [k for k, f in enumerate(framelets) if f.filter == reference]
    if not refs:
        raise ValueError(f"no {reference} framelet to register against")
    with _one_numba_thread():
        pairs = _match_pairs(framelets, refs, reference, min_overlap)
    pairs.sort(key=lambda p: (p.ref, framelets[p.other].filter))
    if max_pairs is not None and len(pairs) > max_pairs:
        pick = np.unique(np.round(np.linspace(0, len(pairs) - 1, max_pairs)).astype(int))
        pairs = [pairs[i] for i in pick]
    return pairs


def _match_pairs(framelets: Sequence[Framelet], refs: list[int], reference: str,
                 min_overlap: float) -> list[Pair]:
    """Unsorted best pairs of :func:`select_pairs`."""
    others = sorted({f.filter for f in framelets} - {reference})
    pairs: list[Pair] = []
    grounds: dict[int, np.ndarray] = {}
    for name in others:
        cands = [k for k, f in enumerate(framelets) if f.filter == name]
        lag: int | None = None          # exposure lag of the last match (search near it)
        for r in refs:
            fr = framelets[r]
            if r not in grounds:    # the reference nodes' ground, once per framelet
                grounds[r] = _ground_nodes(fr.camera.with_rotation_offset(0.0), fr.image.shape, 32)
            pool = cands if lag is None else [
                k for k in cands if abs(framelets[k].exposure - fr.exposure - lag) <= 2]
            best: Pair | None = None
            for k in pool:
                fo = framelets[k]
                frac = _inside_fraction(fo.camera.with_rotation_offset(0.0), grounds[r],
                                        fo.image.shape)
                if frac >= min_overlap and (best is None or frac > best.overlap):
                    best = Pair(r, k, frac)
            if best is not None:
                pairs.append(best)
                lag = framelets[best.other].exposure - fr.exposure
    return pairs


def pair_shift(framelets: Sequence[Framelet], pair: Pair, delta_deg: float,
               max_shift_px: float = 48.0, node_step_px: int = 16, min_peak: float = 0.1,
               dem: HeightFn | None = None, images: Sequence[np.ndarray] | None = None,
               iterations: int = 2, decimate: int = 1) -> PairShift:
    """Residual shift of ``pair`` at offset ``delta_deg``. ``images`` (optional) replaces the
    framelet images (e.g. pre-smoothed copies), index for index; ``iterations`` as in
    :func:`.correlate.measure_shift`. ``decimate`` > 1 measures on every ``decimate``-th line
    and sample of the reference grid (about ``decimate^2`` times faster, for a coarse search);
    the shift is still in full-resolution px."""
    ref, oth = framelets[pair.ref], framelets[pair.other]
    a = np.asarray(ref.image if images is None else images[pair.ref], dtype=np.float64)
    b_src = np.asarray(oth.image if images is None else images[pair.other], dtype=np.float64)
    rl, rs, dl, ds = _map_nodes(ref.camera, oth.camera, a.shape, delta_deg, node_step_px, dem)
    d = max(int(decimate), 1)
    if d > 1:                   # the decimated grid's pixel k is full-resolution pixel d k
        a = np.ascontiguousarray(a[::d, ::d])
        rl, rs = rl / d, rs / d
    b = resample_through_nodes(np.ascontiguousarray(b_src), dl, ds, rl, rs, a.shape[0],
                               a.shape[1])
    try:
        s = measure_shift(a, b, max_shift_px=max_shift_px / d, iterations=iterations,
                          single=True)
    except RegistrationError as exc:
        return PairShift(pair, None, str(exc))
    if not s.peak >= min_peak:
        return PairShift(pair, None, f"correlation peak {s.peak:.3f} < {min_peak}")
    if d > 1:
        s = Shift(s.dl * d, s.ds * d, s.peak, s.n_valid)
    return PairShift(pair, s)


def fringing_cost(framelets: Sequence[Framelet], pairs: Sequence[Pair], delta_deg: float,
                  max_shift_px: float = 48.0, node_step_px: int = 16, min_peak: float = 0.1,
                  dem: HeightFn | None = None, images: Sequence[np.ndarray] | None = None,
                  iterations: int = 2, threads: int = 1, decimate: int = 1) -> FringingResult:
    """Mean squared residual shift (px^2) over ``pairs`` at offset ``delta_deg`` (deg).
    ``threads`` > 1 measures pairs concurrently (the kernels release the GIL); numba's
    parallel geometry kernels run on one thread either way (small node grids); the result
    does not depend on it. ``decimate``: see :func:`pair_shift`."""
    if not pairs:
        raise ValueError("no framelet pairs to measure fringing on")

    def one(p: Pair) -> PairShift:
        return pair_shift(framelets, p, delta_deg, max_shift_px, node_step_px, min_peak, dem,
                          images, iterations, decimate)

    if threads > 1 and len(pairs) > 1:
        with ThreadPoolExecutor(max_workers=threads, initializer=numba.set_num_threads,
                                initargs=(1,)) as pool:
            shifts = list(pool.map(one, pairs))
    else:
        with _one_numba_thread():
            shifts = [one(p) for p in pairs]
    sq = [max_shift_px ** 2 if p.shift is None else p.shift.dl ** 2 + p.shift.ds ** 2
          for p in shifts]
    return FringingResult(float(delta_deg), float(np.mean(sq)), shifts)
