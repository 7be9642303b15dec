"""Full-size simulation (opt-in: --runslow): a real 40 x 4 x 2048 observation."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cassis_pipe.sim.config import make_config
from cassis_pipe.sim.writer import simulate
from cassis_pipe.telemetry.streams import read_science_stream


@pytest.mark.slow
def test_full_size_observation(tmp_path: Path) -> None:
    t0 = time.process_time()
    summary = simulate(make_config("full", 1), tmp_path)
    cpu_s = time.process_time() - t0
    res = read_science_stream((tmp_path / "science.bin").read_bytes())
    assert res.rejects == []
    assert len({(f.sequence, f.window) for f in res.frames}) == 40 * 6
    assert 2.5 < summary["compression"]["ratio"] < 3.5
    assert cpu_s < 240.0          # CPU seconds summed over threads (2 cores: < 2 min wall)
    truth = json.loads((tmp_path / "truth" / "truth.json").read_text())
    assert len(truth["images"][0]["dn_files"]) == 40
