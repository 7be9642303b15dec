"""Stage "hk": the observation's housekeeping (hk.bin) read and checked: frames per type, CRC
and other rejects, gaps in time, limit violations per channel (``level0.hk_check``). Writes
``hk.json``; every fault is a one-line entry of its ``problems`` (the summary reports them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cassis_pipe.level0.hk_check import check_hk, load_limits
from cassis_pipe.stages._io import input_info, read_input, write_json
from cassis_pipe.telemetry.hk import read_hk_stream
from cassis_pipe.telemetry.timecode import encode_timecode, timecode_to_utc


def _add_utc(body: dict[str, Any], sclk: str | Path, lsk: str | Path) -> None:
    """UTC next to every on-board time (s) of the HK summary: stream, gaps, violations."""
    def utc(s: float | None) -> str | None:
        return None if s is None else timecode_to_utc(encode_timecode(s), sclk, lsk)

    t = body["time"]
    t["first_utc"], t["last_utc"] = utc(t["first_s"]), utc(t["last_s"])
    for g in t["gaps"]:
        g["from_utc"], g["to_utc"] = utc(g["from_s"]), utc(g["to_s"])
    for v in body["limits"]["violations"].values():
        v["first_utc"], v["last_utc"] = utc(v["first_s"]), utc(v["last_s"])


def run_hk(hk_path: str | Path | None, out_json: str | Path, *, observation_id: str,
           gap_threshold_s: float = 1.5, limits_path: str | Path | None = None,
           sclk: str | Path | None = None, lsk: str | Path | None = None) -> dict[str, Any]:
    """Read and check ``hk_path`` (None: there is no hk.bin, reported as a problem); write
    ``out_json`` (returned). ``gap_threshold_s``: longer steps between frames are gaps (s).
    With the clock kernels ``sclk``/``lsk``, on-board times are also given in UTC."""
    limits = load_limits(limits_path)
    if hk_path is None:
        body: dict[str, Any] = {
            "inputs": [], "frames": {"valid": 0, "per_type": {}},
            "problems": ["no hk.bin in the raw directory: housekeeping not checked"]}
    else:
        data = read_input(hk_path)
        body = {"inputs": [input_info(hk_path, data)],
                **check_hk(read_hk_stream(data), limits, gap_threshold_s)}
        if sclk is not None and lsk is not None:
            _add_utc(body, sclk, lsk)
    stage = {"stage": "hk", "observation_id": observation_id,
             "limits_table": "package default" if limits_path is None else Path(limits_path).name,
             **body, "ok": not body["problems"]}
    write_json(out_json, stage)
    return stage
