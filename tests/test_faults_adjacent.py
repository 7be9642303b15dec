"""Every fault kind injected at once on consecutive frames: the validation report lists exactly
the injected faults (none hidden by its neighbour, e.g. a bit-flipped frame right after garbage)."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from cassis_pipe.level0.validate import validate_files
from cassis_pipe.sim.config import default_windows, make_config
from cassis_pipe.sim.faults import ADJACENT_ORDER
from cassis_pipe.sim.writer import simulate

WINDOWS = [asdict(replace(w, binning=1) if w.name == "NIR" else w)
           for w in default_windows(512, 768)]


def _run(tmp_path: Path, per_kind: int, seed: int) -> tuple[list[dict], dict]:
    faults = dict.fromkeys(ADJACENT_ORDER, per_kind) | {"missing_framelet": 1, "adjacent": True}
    simulate(make_config("small", seed, {"imaging": {"num_exp": 3, "windows": WINDOWS},
                                         "faults": faults}), tmp_path)
    injected = json.loads((tmp_path / "truth" / "faults.json").read_text())["faults"]
    report, _, _ = validate_files(tmp_path / "science.bin", tmp_path / "tc.bin")
    return injected, report.as_dict()


@pytest.mark.parametrize(("per_kind", "seed"), [(1, 3), (2, 5)])
def test_adjacent_faults_reported_exactly(tmp_path: Path, per_kind: int, seed: int) -> None:
    from cassis_pipe.sim.oracle.truth import match_faults

    injected, report = _run(tmp_path, per_kind, seed)
    kinds = [f["kind"] for f in injected]
    assert all(kinds.count(k) == (1 if k == "missing_framelet" else per_kind)
               for k in ADJACENT_ORDER)
    offsets = sorted(f.get("frame_offset", f.get("byte_offset", -1)) for f in injected
                     if f["kind"] in ("garbage", "bitflipped", "truncated"))
    flipped = [f["frame_offset"] for f in injected if f["kind"] == "bitflipped"]
    garbage_ends = {f["byte_offset"] + f["length"] for f in injected if f["kind"] == "garbage"}
    assert garbage_ends & set(flipped), "the test must put a bit-flipped frame right after garbage"
    assert [c["file_offset"] for c in report["corrupt"]] == offsets  # one entry per corrupt frame
    m = match_faults(report, injected)
    assert m["unreported"] == [] and m["unexplained"] == [], m
    assert m["exact"]
