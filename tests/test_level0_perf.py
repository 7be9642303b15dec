"""Full-size timing run (opt-in with --runslow): flown-size windows, 32512-byte frames."""

from __future__ import annotations

import time

import pytest

from cassis_pipe.level0.decompress import OK, decompress
from cassis_pipe.level0.plan import plan_from_tc
from cassis_pipe.level0.validate import validate_bytes
from cassis_pipe.sim.synthetic.level0 import build_observation, make_table

FLOWN_WINDOWS = (
    (354, 634, 0, 2047, 0, 3),
    (712, 968, 0, 2047, 0, 3),
    (1048, 1304, 0, 2047, 1, 3),
    (1409, 1665, 0, 2047, 0, 3),
    (200, 209, 640, 767, 0, 0),
    (1850, 1859, 1280, 1407, 0, 0),
)


@pytest.mark.slow
def test_full_size_timing() -> None:
    obs = build_observation(table=make_table(num_exp=6, windows=FLOWN_WINDOWS),
                            max_frame_data=32512)
    science = obs.science
    plan = plan_from_tc(obs.tc)
    t0 = time.perf_counter()
    rep, _, packets = validate_bytes(science, plan)
    t1 = time.perf_counter()
    out = decompress(rep.framelets.values(), packets, threads=2)
    t2 = time.perf_counter()
    print(f"\n{len(science)} B, {rep.frames} frames, {len(out)} framelets: "
          f"read+validate {t1 - t0:.2f} s, decompress {t2 - t1:.2f} s")
    assert rep.ok and all(r.status == OK for r in out)
    assert t1 - t0 < 10
