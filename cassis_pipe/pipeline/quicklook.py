"""JPG quick-looks of the non-projected swath: the calibrated framelets of one image and filter
stacked in exposure order (a missing framelet leaves a black band of its height)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

import numpy as np

from cassis_pipe.labels.ids import observation_id_string
from cassis_pipe.level0.plan import CommandPlan
from cassis_pipe.products.images import write_quicklook_jpg


def swath(framelets: Mapping[int, np.ndarray], num_exp: int) -> np.ndarray | None:
    """(num_exp x rows, cols) float32 I/F: framelet k at rows k*rows..; absent ones NaN."""
    if not framelets:
        return None
    first = next(iter(framelets.values()))
    rows, cols = first.shape
    out = np.full((num_exp * rows, cols), np.nan, dtype=np.float32)
    for k, img in framelets.items():
        if 0 <= k < num_exp and img.shape == (rows, cols):
            out[k * rows:(k + 1) * rows] = img
    return out


def write_quicklooks(directory: str | Path, plan: CommandPlan,
                     swaths: Mapping[tuple[int, str], Mapping[int, np.ndarray]],
                     filters: Collection[str], max_side: int = 1024) -> list[str]:
    """One ``<observation id>_<FILTER>.jpg`` per image and filter with at least one calibrated
    framelet; returns the file names written (sorted)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for im in plan.images:
        for f in sorted(filters):
            band = swath(swaths.get((im.uid, f), {}), im.num_exp)
            if band is None or not np.isfinite(band).any():
                continue
            name = f"{observation_id_string(im.uid)}_{f}.jpg"
            write_quicklook_jpg(out / name, band, max_side=max_side)
            names.append(name)
    return sorted(names)
