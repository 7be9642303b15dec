"""One observation through the register stage: offset search, log line, history row, plot.

File I/O (history CSV, PNG) happens here and in :mod:`.history` only; the search itself is
pure (:mod:`.rotation`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..model import Framelet
from .history import OffsetRecord, record_offset
from .rotation import OffsetSearch, find_rotation_offset, plot_curve

log = logging.getLogger(__name__)


def register_observation(framelets: Sequence[Framelet], observation_id: str, utc: str,
                         commanded_rotation_deg: float, history_path: str | Path | None,
                         plot_path: str | Path | None = None, **search: Any) -> OffsetSearch:
    """Find the rotation offset of one observation (``search`` keywords go to
    :func:`.rotation.find_rotation_offset`), log it, record it in the offset history CSV
    (replacing an earlier row of the same observation) and optionally plot the cost curve.
    ``utc``: observation start, ISO 8601; ``commanded_rotation_deg``: mechanism angle (deg)."""
    res = find_rotation_offset(framelets, **search)
    d = res.diagnostics
    log.info("%s: rotation offset %+.4f deg (+/- %.4f), commanded %.3f deg, cost %.4g px^2, "
             "%d/%d pairs, %d evaluations, %.1f s%s", observation_id, res.offset_deg,
             d["offset_sigma_deg"], commanded_rotation_deg, res.cost_px2, res.n_pairs,
             d["n_pairs_total"], d["n_evaluations"], d["elapsed_s"],
             " (AT SEARCH EDGE)" if d["at_search_edge"] else "")
    if history_path is not None:
        record_offset(history_path, OffsetRecord(observation_id, utc,
                                                 float(commanded_rotation_deg), res.offset_deg,
                                                 res.cost_px2, res.n_pairs))
    if plot_path is not None:
        plot_curve(res.curve, plot_path, res.offset_deg,
                   f"{observation_id}: rotation offset {res.offset_deg:+.3f} deg")
    return res
