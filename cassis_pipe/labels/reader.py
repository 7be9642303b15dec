"""Label kind detection and plain-data export (JSON-ready dicts, short text summaries)."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from cassis_pipe.labels.bern import FrameletLabel, parse_bern_root
from cassis_pipe.labels.ids import uid_to_observation_id
from cassis_pipe.labels.pds4 import Pds4Label, parse_pds4_root
from cassis_pipe.labels.values import iso_utc
from cassis_pipe.labels.xmlsafe import LabelError, find, read_xml


def read_label(path: str | Path) -> FrameletLabel | Pds4Label:
    """Read a Bern framelet header or a PDS4 product label, whichever ``path`` holds."""
    p = Path(path)
    root = read_xml(p)
    if find(root, "CaSSIS_Header") is not None:
        return parse_bern_root(root, p.name)
    return parse_pds4_root(root, p.name)


def plain(value: Any) -> Any:
    """Recursively turn dataclasses/tuples/datetimes into JSON types (times as ISO UTC strings).

    Non-finite floats become None so the output is strict JSON.
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in ("shape", "byte_order", "n_bytes", "rows", "cols", "binning"):
            if hasattr(type(value), name) and isinstance(getattr(type(value), name), property):
                out[name] = plain(getattr(value, name))
        if hasattr(type(value), "dtype") and getattr(value, "dtype", None) is not None:
            out["dtype"] = str(value.dtype)
        return out
    if isinstance(value, datetime):
        return iso_utc(value, 6).rstrip("0").rstrip(".") + "Z"
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def label_to_dict(label: FrameletLabel | Pds4Label) -> dict[str, Any]:
    """JSON-ready dict of everything the reader extracted, plus 'kind' and 'observation_id'."""
    d = plain(label)
    d["kind"] = "bern" if isinstance(label, FrameletLabel) else "pds4"
    if isinstance(label, FrameletLabel):
        obs = label.observation_id
    else:
        uid = label.observation_uid
        obs = uid_to_observation_id(uid) if uid is not None and 0 <= uid < 1 << 32 else None
    d["observation_id"] = None if obs is None else str(obs)
    return d


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}{unit}"
    return f"{v}{unit}"


def summary(label: FrameletLabel | Pds4Label) -> str:
    """A few human-readable lines describing the label."""
    d = label_to_dict(label)
    arr = label.array
    shape = "x".join(str(n) for n in arr.shape) if arr is not None else "-"
    dtype = str(arr.dtype) if arr is not None and arr.dtype is not None else "-"
    if isinstance(label, FrameletLabel):
        w = label.window
        win = f"rows {w.start_row}-{w.end_row} cols {w.start_col}-{w.end_col}" if w else "-"
        lines = [
            f"{label.source}: Bern framelet header",
            f"  product      {_fmt(label.product_name)}",
            f"  filter       {_fmt(label.filter)}  phase {_fmt(label.mission_phase)}",
            f"  UID          {_fmt(label.uid)}  obs {_fmt(d['observation_id'])}",
            f"  window/seq   {_fmt(label.window_counter)}/{_fmt(label.sequence_counter)}  {win}"
            f"  binning {_fmt(label.binning)}",
            f"  acquired     {_fmt(d['acquisition_time'])}",
            f"  exposure     {_fmt(label.exposure_time_s, ' s')}  rotation "
            f"{_fmt(label.rotation_deg, ' deg')}",
            f"  compression  {_fmt(label.compression_name)} id {_fmt(label.compression_ratio_id)}"
            f" ratio {_fmt(label.compression_ratio_actual)}",
            f"  I/F per DN   {_fmt(label.absolute_calibration)}  r_h "
            f"{_fmt(label.heliocentric_distance_au, ' AU')}",
        ]
    else:
        c = label.cartography
        lines = [
            f"{label.source}: PDS4 product label",
            f"  LID          {_fmt(label.logical_identifier)}",
            f"  alias        {_fmt(label.alternate_id)}  filter {_fmt(label.filter)}",
            f"  time         {_fmt(d['start_time'])} .. {_fmt(d['stop_time'])}",
        ]
        if c is not None:
            lines.append(
                f"  map          {_fmt(c.projection_name)} {_fmt(c.pixel_resolution_x_m, ' m/px')}"
                f" lon {_fmt(c.west_lon_deg)}..{_fmt(c.east_lon_deg)}"
                f" lat {_fmt(c.south_lat_deg)}..{_fmt(c.north_lat_deg)}"
            )
    lines.append(f"  array        {shape} {dtype}")
    return "\n".join(lines)


__all__ = ["LabelError", "label_to_dict", "plain", "read_label", "summary"]
