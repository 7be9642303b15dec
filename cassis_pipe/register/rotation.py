"""Search for the rotation-mechanism offset that minimises colour fringing.

The commanded mechanism angle is only exact at 0/360 deg; the true angle is commanded +
``delta`` (deg, :meth:`FrameCamera.with_rotation_offset`). A coarse grid over
``centre +/- search_deg`` locates the basin of the fringing cost (:mod:`.fringing`); the
refinement then uses that every pair's residual shift is (close to) linear in ``delta``: two
evaluations near the vertex of a parabola through the coarse costs give each pair's shift and
its slope (px/deg); Newton steps with those slopes (a chord Gauss-Newton on the cost) move to
the least-squares zero of the linearised shifts until a step is below ``tol_deg`` (typically
three or four refinement evaluations; steps stay inside the bracket).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..geometry.ellipsoid import HeightFn
from ..model import Framelet
from .correlate import smooth
from .fringing import FringingResult, Pair, PairShift, fringing_cost, select_pairs


@dataclass
class OffsetSearch:
    """Result of :func:`find_rotation_offset`. ``curve``: every evaluated (delta_deg, cost_px2)
    sorted by delta; ``shifts``: per-pair residual shifts (px) at the optimum."""

    offset_deg: float
    cost_px2: float
    curve: np.ndarray
    pairs: list[Pair]
    shifts: list[PairShift]
    diagnostics: dict[str, Any] = field(default_factory=dict)

    @property
    def n_pairs(self) -> int:
        """Pairs with a measured shift at the optimum."""
        return sum(s.shift is not None for s in self.shifts)


def find_rotation_offset(framelets: Sequence[Framelet], pairs: Sequence[Pair] | None = None,
                         reference: str = "PAN", centre_deg: float = 0.0,
                         search_deg: float = 2.0, coarse_step_deg: float = 0.5,
                         tol_deg: float = 0.005, smooth_px: float = 0.0,
                         max_shift_px: float = 48.0, node_step_px: int = 16,
                         max_pairs: int | None = 12, min_overlap: float = 0.3,
                         coarse_iterations: int = 1, fine_iterations: int = 2,
                         max_fine: int = 6, coarse_decimate: int = 1,
                         dem: HeightFn | None = None, threads: int = 1) -> OffsetSearch:
    """Offset (deg) minimising the fringing cost over ``framelets`` (cameras at the commanded
    angle). ``pairs`` default: :func:`select_pairs` against ``reference``. ``smooth_px``:
    Gaussian sigma applied to every image once before the search (noise); ``max_fine``:
    most refinement evaluations; ``coarse_decimate``: the coarse grid measures on every n-th
    line and sample (:func:`.fringing.pair_shift`). Raises ``ValueError`` if no pair can be
    formed."""
    t0 = time.perf_counter()
    if pairs is None:
        pairs = select_pairs(framelets, reference, min_overlap=min_overlap, max_pairs=max_pairs)
    pairs = list(pairs)
    if not pairs:
        raise ValueError("no overlapping framelet pairs between the reference and other filters")
    used = sorted({p.ref for p in pairs} | {p.other for p in pairs})
    images: list[np.ndarray] = [np.empty((0, 0))] * len(framelets)
    for k in used:
        images[k] = smooth(framelets[k].image, smooth_px)
    evaluated: dict[float, FringingResult] = {}
    calls = [0]

    def cost(delta: float, iterations: int, decimate: int = 1) -> float:
        key = round(float(delta), 9)
        if key not in evaluated or iterations > 1:
            calls[0] += 1
            evaluated[key] = fringing_cost(framelets, pairs, key, max_shift_px, node_step_px,
                                           dem=dem, images=images, iterations=iterations,
                                           threads=threads, decimate=decimate)
        return evaluated[key].cost_px2

    n = max(int(round(search_deg / coarse_step_deg)), 1)
    grid = centre_deg + coarse_step_deg * np.arange(-n, n + 1)
    coarse = np.array([cost(d, coarse_iterations, coarse_decimate) for d in grid])
    k = int(np.argmin(coarse))
    lo, hi = _bracket(grid, coarse, k, coarse_step_deg)
    fine_evals: list[tuple[float, float]] = []

    def fine(delta: float) -> FringingResult:
        c = cost(delta, fine_iterations)
        fine_evals.append((round(float(delta), 9), c))
        return evaluated[round(float(delta), 9)]

    _refine(fine, lo, hi, coarse_step_deg, tol_deg, max_fine)
    best = min(fine_evals, key=lambda e: (e[1], e[0]))[0]
    final = evaluated[best]
    curve = np.array(sorted((d, r.cost_px2) for d, r in evaluated.items()))
    curvature = _curvature(grid, coarse, k)
    measured = final.n_measured
    sigma = (float(np.sqrt(final.cost_px2 / (max(measured, 1) * curvature)))
             if curvature > 0 else float("nan"))
    diagnostics = {
        "n_evaluations": calls[0],
        "coarse_grid_deg": grid.tolist(), "coarse_cost_px2": coarse.tolist(),
        "coarse_best_deg": float(grid[k]), "bracket_deg": [float(lo), float(hi)],
        "fine_evaluations": fine_evals, "at_search_edge": k in (0, len(grid) - 1),
        "curvature_px2_per_deg2": curvature, "offset_sigma_deg": sigma,
        "residual_rms_px": float(np.sqrt(final.cost_px2)), "n_pairs_total": len(pairs),
        "n_pairs_measured": measured, "elapsed_s": time.perf_counter() - t0,
        "tol_deg": tol_deg,
    }
    return OffsetSearch(best, final.cost_px2, curve, pairs, final.shifts, diagnostics)


def _refine(fine: Callable[[float], FringingResult], lo: float, hi: float, step: float,
            tol: float, max_evals: int) -> None:
    """Gauss-Newton (chord) refinement inside ``[lo, hi]`` (deg): the bracket centre and a
    point half a coarse ``step`` from it give every pair's shift slope (px/deg, kept fixed:
    a wide baseline, immune to the measurement jitter of nearby points); then Newton steps
    to the least-squares zero of the linearised shifts from the last point, until a step is
    below ``tol`` (deg), the slopes vanish or ``max_evals`` evaluations are spent."""
    x0 = 0.5 * (lo + hi)
    x1 = x0 + 0.5 * step if x0 + 0.5 * step <= hi else x0 - 0.5 * step
    r0, r1 = fine(x0), fine(x1)
    slopes = _slopes(x0, r0, x1, r1)
    x, r = x1, r1
    for _ in range(max_evals - 2):
        nxt = _newton(x, r, slopes)
        if nxt is None:
            return
        nxt = float(np.clip(nxt, lo, hi))
        if abs(nxt - x) < tol:
            return
        x, r = nxt, fine(nxt)


def _slopes(x0: float, r0: FringingResult, x1: float, r1: FringingResult
            ) -> dict[Pair, tuple[float, float]]:
    """Per pair measured at both offsets: (d dl/d delta, d ds/d delta) in px/deg."""
    s0 = {p.pair: p.shift for p in r0.shifts if p.shift is not None}
    out: dict[Pair, tuple[float, float]] = {}
    if x1 == x0:
        return out
    for p in r1.shifts:
        a = s0.get(p.pair)
        if p.shift is not None and a is not None:
            out[p.pair] = ((p.shift.dl - a.dl) / (x1 - x0), (p.shift.ds - a.ds) / (x1 - x0))
    return out


def _newton(x: float, r: FringingResult, slopes: dict[Pair, tuple[float, float]]
            ) -> float | None:
    """Offset (deg) where the pair shifts at ``x``, extended along ``slopes``, have the least
    sum of squares; None without a pair with a slope."""
    rows = [(p.shift, slopes[p.pair]) for p in r.shifts
            if p.shift is not None and p.pair in slopes]
    if not rows:
        return None
    v = np.array([(sh.dl, sh.ds) for sh, _ in rows]).ravel()
    j = np.array([jj for _, jj in rows]).ravel()
    jj = float(j @ j)
    if not jj > 0.0:
        return None
    return x - float(j @ v) / jj


def _bracket(grid: np.ndarray, cost: np.ndarray, k: int, step: float) -> tuple[float, float]:
    """Refinement interval: one grid step either side of the vertex of a parabola through the
    coarse costs around the best grid point (vertex kept within one step of that point, so a
    noisy coarse minimum one cell off still brackets the truth); clipped to the grid."""
    centre = float(grid[k])
    sl = slice(max(k - 2, 0), min(k + 3, len(grid)))
    if sl.stop - sl.start >= 3:
        a, b, _ = np.polyfit(grid[sl] - grid[k], cost[sl], 2)
        if a > 0:
            centre += float(np.clip(-b / (2 * a), -step, step))
    return max(centre - step, float(grid[0])), min(centre + step, float(grid[-1]))


def _curvature(grid: np.ndarray, cost: np.ndarray, k: int) -> float:
    """Second-order coefficient (px^2/deg^2) of a parabola through the coarse costs within
    three grid steps of the minimum."""
    sl = slice(max(k - 3, 0), min(k + 4, len(grid)))
    if sl.stop - sl.start < 3:
        return float("nan")
    return float(np.polyfit(grid[sl], cost[sl], 2)[0])


def plot_curve(curve: np.ndarray, path: str | Path, offset_deg: float | None = None,
               title: str | None = None) -> Path:
    """Write a PNG of the fringing cost (px^2, log scale) against the offset (deg); marks
    ``offset_deg`` if given. Returns the path."""
    # the object-oriented Agg API: no pyplot (its import and figure manager cost ~0.3 s)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    c = np.asarray(curve, dtype=np.float64).reshape(-1, 2)
    fig = Figure(figsize=(6.0, 4.0), dpi=100)
    FigureCanvasAgg(fig)
    # fixed margins instead of tight_layout (which measures every log-axis tick label: ~1 s)
    ax = fig.add_axes((0.14, 0.12, 0.82, 0.8))
    ax.semilogy(c[:, 0], np.maximum(c[:, 1], 1e-6), "o-", ms=3, lw=1)
    if offset_deg is not None:
        ax.axvline(offset_deg, color="tab:red", lw=1, label=f"offset {offset_deg:+.3f} deg")
        ax.legend()
    ax.set_xlabel("rotation offset (deg)")
    ax.set_ylabel("mean squared residual shift (px$^2$)")
    ax.set_title(title or "colour-fringing cost")
    ax.grid(True, which="both", alpha=0.3)
    path = Path(path)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path
