"""A simulated downlink: several observations over a few orbits cut into 15-minute delivery
files of science, TC and HK telemetry, as the data dissemination system delivers them
(docs/icd.md section 11, docs/sim.md). Each observation is simulated by
:func:`cassis_pipe.sim.writer.simulate`; its streams are re-cut by ground receipt time:

* science frames arrive ``latency`` s after read-out (one latency per image, so observations
  arrive out of order) and are shuffled inside each delivery;
* the TC history (every simulated tc.bin, in time order) and continuous HK at 1 Hz over the
  whole span (one commanded timeline for all images) arrive a fixed latency after execution;
* faults: one science delivery truncated inside a frame and re-delivered complete (revision 2)
  two cycles later, one delivery delivered twice, one science frame never delivered, a run of
  garbage bytes inside one delivery, and one out-of-limit HK episode.

``truth/downlink.json`` says what each observation must receive and how deliveries arrive
(``batches``: the files of each 15-minute arrival cycle).
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from cassis_pipe.ops.delivery import format_name
from cassis_pipe.sim.acquisition import KERNELS_DIR, LSK_NAME, SCLK_NAME
from cassis_pipe.sim.config import make_config
from cassis_pipe.sim.telemetry import Timeline, hk_bytes
from cassis_pipe.sim.writer import simulate
from cassis_pipe.telemetry.hk import decode_hk, encode_hk, read_hk_stream
from cassis_pipe.telemetry.science import decode_science_frame
from cassis_pipe.telemetry.streams import read_science_stream
from cassis_pipe.telemetry.tc import decode_tc, read_tc_stream
from cassis_pipe.telemetry.timecode import FINE_PER_SECOND, encode_timecode, timecode_to_utc

#: per observation run: simulator overrides (single, stereo pair, polar, single)
DEFAULT_RUNS: tuple[dict[str, Any], ...] = (
    {"orbit": {"orbit_number": 6000, "target_lat_deg": 10.0, "target_lon_deg": 45.0}},
    {"orbit": {"orbit_number": 6001, "target_lat_deg": -20.0, "target_lon_deg": 120.0},
     "imaging": {"stereo": True}},
    {"orbit": {"orbit_number": 6002, "target_lat_deg": 72.0, "target_lon_deg": 200.0,
               "descending": True}, "scene": {"ice": True}},
    {"orbit": {"orbit_number": 6003, "target_lat_deg": -40.0, "target_lon_deg": 300.0}},
)
#: out-of-limit HK episode: from 5 s before the polar image (inside its HK window), 10 s long
HK_LIMIT = {"parameter": "PT_FPA_1", "frame_type": 0x00, "raw": 3400, "duration_s": 10}


def tiny_imaging(num_exp: int = 3, width: int = 128) -> dict[str, Any]:
    """Imaging overrides for fast downlinks: ``num_exp`` exposures, ``width``-px windows."""
    c0 = 1024 - width // 2
    rows = (("PAN", 354, 633), ("RED", 712, 967), ("NIR", 1048, 1303), ("BLU", 1409, 1664),
            ("CTL1", 200, 208), ("CTL2", 1850, 1858))
    return {"num_exp": num_exp, "windows": [
        {"name": n, "row0": r0, "row1": r1, "col0": c0, "col1": c0 + width - 1,
         "comp_ratio_id": 3} for n, r0, r1 in rows]}


def _utc(sclk_s: float) -> str:
    kern = (str(KERNELS_DIR / SCLK_NAME), str(KERNELS_DIR / LSK_NAME))
    return timecode_to_utc(encode_timecode(sclk_s), *kern)


def _slot_name(sclk_s: float) -> str:
    """UTC of a slot start as in delivery names (YYYYMMDDThhmmss)."""
    return _utc(sclk_s)[:19].replace("-", "").replace(":", "")


def _slot_origin(sclk_s: float, slot_s: float) -> float:
    """On-board time at or before ``sclk_s`` where a slot starts on a whole multiple of
    ``slot_s`` of UTC time of day (quarter hours for 900 s)."""
    hh, mm, ss = _utc(sclk_s)[11:23].split(":")
    day_s = int(hh) * 3600 + int(mm) * 60 + float(ss)
    return sclk_s - day_s % slot_s


def _tc_times(tc: bytes) -> list[tuple[float, bytes]]:
    """(execution time, frame) of a tc.bin: time-tagged commands carry their time; the others
    run 1 s before the next time-tagged command."""
    res = read_tc_stream(tc)
    out: list[tuple[float | None, bytes]] = []
    for c, off in zip(res.frames, res.offsets, strict=True):
        ts = c.params.get("timestamp")
        t = None if ts is None else ((ts >> 24) & 0xFFFFFFFF) + (ts & 0xFFFFFF) / FINE_PER_SECOND
        out.append((t, tc[off:off + 64]))
    nxt = None
    for i in range(len(out) - 1, -1, -1):
        if out[i][0] is None:
            out[i] = (nxt - 1.0, out[i][1])
        nxt = out[i][0]
    return out  # type: ignore[return-value]


def _hk_episode(hk: bytes, t_start: int) -> bytes:
    """Raise HK_LIMIT's parameter for its duration from on-board second ``t_start``."""
    res = read_hk_stream(hk)
    out = bytearray(hk)
    for f, off in zip(res.frames, res.offsets, strict=True):
        t = f.timestamp >> 24 & 0xFFFFFFFF
        if f.type == HK_LIMIT["frame_type"] and t_start <= t < t_start + HK_LIMIT["duration_s"]:
            vals = {k: v.raw for k, v in decode_hk(hk, off).fields.items()}
            vals[HK_LIMIT["parameter"]] = HK_LIMIT["raw"]
            out[off:off + 64] = encode_hk(f.type, f.timestamp, vals)
    return bytes(out)


def simulate_downlink(out: Path, seed: int = 1, runs: tuple[dict[str, Any], ...] = DEFAULT_RUNS,
                      spacing_s: float = 900.0, slot_s: float = 900.0,
                      imaging: dict[str, Any] | None = None, size: str = "small",
                      base_sclk_s: float = 100_000_000.0) -> dict[str, Any]:
    """Simulate ``runs`` (observation centres ``spacing_s`` apart) and write ``out/downlink/``
    (delivery files), ``out/calibration/<version>/``, ``out/geometry/`` and
    ``out/truth/downlink.json``; returns the truth."""
    out = Path(out)
    rng = np.random.Generator(np.random.PCG64([seed, 1313]))
    imaging = tiny_imaging() if imaging is None else imaging
    sci: list[tuple[float, bytes, int]] = []        # (receipt time, frame, uid)
    tc_hist: list[tuple[float, bytes]] = []
    images, obs_truth = [], {}
    for k, run in enumerate(runs):
        ov = {key: dict(val) for key, val in run.items()}
        ov.setdefault("orbit", {})["centre_sclk_s"] = base_sclk_s + k * spacing_s
        ov["imaging"] = {**imaging, **ov.get("imaging", {})}
        cfg = make_config(size, seed, ov)
        sdir = out / "sims" / f"run{k}"
        summary = simulate(cfg, sdir)
        if k == 0:
            shutil.copytree(sdir / "calibration", out / "calibration", dirs_exist_ok=True)
        shutil.rmtree(sdir / "calibration")
        shutil.copytree(sdir / "geometry", out / "geometry", dirs_exist_ok=True)
        science = (sdir / "science.bin").read_bytes()
        res = read_science_stream(science)
        for im in summary["images"]:
            lat = float(rng.uniform(1.0, 4.0)) * slot_s
            frames = [(science[o:o + f.wire_length], f) for f, o in
                      zip(res.frames, res.offsets, strict=True) if f.uid == im["uid"]]
            for raw, f in frames:
                t_read = int.from_bytes(f.timestamp[1:5], "big")
                sci.append((t_read + lat, raw, im["uid"]))
            images.append((im["uid"], im["exposure_sclk_s"][0],
                           im["exposure_sclk_s"][-1] + summary["t_exp_s"],
                           im["commanded_rotation_deg"]))
            kind = "stereo" if len(summary["images"]) == 2 else (
                "polar" if abs(cfg.orbit.target_lat_deg) > 60 else "single")
            obs_truth[im["observation_id"]] = {
                "uid": im["uid"], "run": k, "sim_dir": f"sims/run{k}", "kind": kind,
                "image_type": im["uid"] & 3, "single_image_run": len(summary["images"]) == 1,
                "target_latlon_deg": [cfg.orbit.target_lat_deg, cfg.orbit.target_lon_deg],
                "expected_framelets": cfg.imaging.num_exp * len(cfg.imaging.windows),
                "frames": [raw for raw, _ in frames]}
        tc_hist += _tc_times((sdir / "tc.bin").read_bytes())
    tc_hist.sort(key=lambda x: x[0])
    moves, prev = [], 0.0
    for t, raw in tc_hist:
        c = decode_tc(raw)
        if c.name == "move_motor_absolute":
            moves.append((t, prev, c.params["position"] / 1000.0))
            prev = c.params["position"] / 1000.0
    t0 = math.floor(moves[0][0] - 60.0)
    t1 = math.ceil(max(e for _, _, e, _ in images) + 60.0)
    tl = Timeline(moves, [(u, s, e) for u, s, e, _ in images], float(t0), float(t1))
    obs_list = list(obs_truth.values())
    polar = next((o for o in obs_list if o["kind"] == "polar"), obs_list[0])
    ep_start = int(math.floor(images[[u for u, *_ in images].index(polar["uid"])][1])) - 5
    hk = _hk_episode(hk_bytes(tl, seed), ep_start)
    hk_frames = [hk[i:i + 64] for i in range(0, len(hk), 64)]
    hk_items = [(int.from_bytes(f[3:7], "big") + slot_s / 3, f) for f in hk_frames]
    # faults: one frame never delivered (second stereo image, else the last one: last frame)
    stereo2 = next((o for o in obs_list if o["kind"] == "stereo" and o["image_type"] == 2),
                   obs_list[-1])
    dropped = stereo2["frames"].pop()
    sci = [s for s in sci if s[1] != dropped]
    polar_obs = next(o for o, t in obs_truth.items() if t is polar)
    tc_items = [(t + slot_s / 3, f) for t, f in tc_hist]
    return _cut(out, rng, slot_s, _slot_origin(t0, slot_s), sci, tc_items, hk_items, obs_truth,
                dropped, (ep_start, polar_obs), seed)


def _cut(out: Path, rng: np.random.Generator, slot_s: float, base: float, sci: list, tc: list,
         hk: list, obs_truth: dict, dropped: bytes, episode: tuple[int, str], seed: int
         ) -> dict[str, Any]:
    """Cut the three streams into delivery files and write the truth."""
    slots: dict[tuple[str, int], list[tuple[float, bytes]]] = {}
    for kind, items in (("SCI", [(t, f) for t, f, _ in sci]), ("TC", tc), ("HK", hk)):
        for t, f in items:
            slots.setdefault((kind, int((t - base) // slot_s)), []).append((t, f))
    ddir = out / "downlink"
    ddir.mkdir(parents=True, exist_ok=True)
    deliveries, faults = [], {}
    sci_keys = sorted(k for k in slots if k[0] == "SCI" and len(slots[k]) >= 3)
    trunc_key, dup_key, garb_key = sci_keys[0], sci_keys[-1], sci_keys[len(sci_keys) // 2]
    for key in sorted(slots, key=lambda k: (k[1], k[0])):
        kind, idx = key
        items = sorted(slots[key], key=lambda x: x[0])
        frames = [f for _, f in items]
        if kind == "SCI":
            frames = [frames[i] for i in rng.permutation(len(frames))]
        data = b"".join(frames)
        if key == garb_key:
            cut = len(frames[0])
            data = data[:cut] + bytes(range(1, 38)) + data[cut:]
            faults["garbage"] = {"bytes": 37, "at": cut}
        slot = _slot_name(base + idx * slot_s)
        batch = idx + 1 + int(rng.integers(0, 2))
        name = format_name(kind, slot, 1)
        if key == trunc_key:
            cut = len(data) - len(frames[-1]) // 2
            _write(ddir, name, data[:cut], batch, deliveries, "truncated")
            name2 = format_name(kind, slot, 2)
            _write(ddir, name2, data, batch + 2, deliveries, "re-delivery of a truncated one")
            faults["truncated"] = {"first": name, "redelivery": name2, "cut": cut,
                                   "size": len(data)}
            continue
        _write(ddir, name, data, batch, deliveries, "")
        if key == dup_key:
            name2 = format_name(kind, slot, 2)
            _write(ddir, name2, data, batch + 1, deliveries, "duplicate delivery")
            faults["duplicate"] = {"first": name, "duplicate": name2, "size": len(data)}
    n_batches = max(d["batch"] for d in deliveries) + 1
    batches = [[d["name"] for d in deliveries if d["batch"] == b] for b in range(n_batches)]
    for o in obs_truth.values():
        fr = o.pop("frames")
        o["science_frames"], o["science_bytes"] = len(fr), sum(len(f) for f in fr)
        o["science_sha256"] = hashlib.sha256(b"".join(fr)).hexdigest()
        o["complete"] = True
        o["missing"] = []
    df, _ = decode_science_frame(dropped)
    miss = next(o for o in obs_truth.values() if o["uid"] == df.uid)
    miss["complete"] = False
    miss["missing"] = [{"uid": df.uid, "window": df.window, "sequence": df.sequence}]
    faults["dropped_frame"] = {**miss["missing"][0], "bytes": len(dropped)}
    faults["hk_out_of_limit"] = {**HK_LIMIT, "start_sclk_s": episode[0],
                                 "observation": episode[1]}
    truth = {
        "seed": seed, "slot_s": slot_s, "deliveries": deliveries, "batches": batches,
        "observations": obs_truth, "faults": faults,
        "unique_bytes": {"science": sum(len(f) for _, f, _ in sci),
                         "tc": sum(len(f) for _, f in tc), "hk": sum(len(f) for _, f in hk)},
        "unique_frames": {"science": len(sci), "tc": len(tc), "hk": len(hk)},
        "delivered_bytes": sum(d["size"] for d in deliveries),
        "calibration": sorted(str(p.parent.relative_to(out)) for p in
                              (out / "calibration").glob("*/manifest.json")),
        "geometry_dir": "geometry"}
    (out / "truth").mkdir(parents=True, exist_ok=True)
    (out / "truth" / "downlink.json").write_text(json.dumps(truth, indent=1, sort_keys=True)
                                                 + "\n")
    return truth


def _write(ddir: Path, name: str, data: bytes, batch: int, deliveries: list, note: str) -> None:
    (ddir / name).write_bytes(data)
    kind = name.split("_")[1]
    deliveries.append({"name": name, "kind": kind, "size": len(data), "batch": batch,
                       "sha256": hashlib.sha256(data).hexdigest(), "note": note})
