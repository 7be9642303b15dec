"""Stage "offset_history": the rotation-offset history CSV of the sheet's observations (one row
per observation, sorted by time), built from their rotation stage JSONs and written under a
lock, atomically (:mod:`cassis_pipe.register.history`). It is the declared output of one rule,
so no rotation job writes a shared file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cassis_pipe.register.history import OffsetRecord, write_history
from cassis_pipe.stages._io import read_json


def run_offset_history(rotation_jsons: Sequence[str | Path], history_csv: str | Path
                       ) -> dict[str, Any]:
    """Write the history of ``rotation_jsons`` to ``history_csv``; returns a small stage dict
    (not written: the CSV is the product)."""
    records = []
    for path in rotation_jsons:
        st = read_json(path)
        records.append(OffsetRecord(st["observation_id"], st["utc"],
                                    float(st["commanded_rotation_deg"]), float(st["offset_deg"]),
                                    # no search (one exposure): cost not a number
                                    float(st["cost_px2"] if st["cost_px2"] is not None
                                          else "nan"), int(st["n_pairs"])))
    rows = write_history(history_csv, records)
    return {"stage": "offset_history", "observations": len(rows), "ok": True}
