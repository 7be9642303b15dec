"""File-count validation per pipeline stage."""

from __future__ import annotations

import json

import pytest

from cassis_pipe.level0.decompress import OK, decompress
from cassis_pipe.level0.plan import plan_from_tc
from cassis_pipe.level0.pseudo import predict_packets
from cassis_pipe.level0.report import pipeline_counts, stage_check, summary_text
from cassis_pipe.level0.validate import validate_bytes
from cassis_pipe.sim.synthetic.level0 import build_observation, make_table


@pytest.fixture(scope="module")
def setup():
    obs = build_observation(table=make_table(num_exp=2), max_frame_data=400)
    plan = plan_from_tc(obs.tc)
    return obs, plan, predict_packets(plan)


def test_all_present(setup) -> None:
    _, _, packets = setup
    c = stage_check("raw", packets, [p.key for p in packets])
    assert c["ok"] and c["expected"] == c["produced"] == 12
    assert c["per_filter"]["CTL"] == {"expected": 4, "produced": 4}
    assert c["per_filter"]["PAN"] == {"expected": 2, "produced": 2}


def test_missing_unexpected_repeated(setup) -> None:
    _, _, packets = setup
    keys = [p.key for p in packets]
    made = keys[1:] + [keys[3], (1, 2, 3)]
    c = stage_check("cal", packets, made)
    assert not c["ok"]
    assert c["missing"] == [{"uid": keys[0][0], "window": 0, "sequence": 0, "filter": "PAN"}]
    assert c["unexpected"] == [{"uid": 1, "window": 2, "sequence": 3}]
    assert [r["count"] for r in c["repeated"]] == [2]
    json.dumps(c)


def test_filter_restriction(setup) -> None:
    _, _, packets = setup
    colour = [p.key for p in packets if p.filter != "CTL"]
    c = stage_check("calibrated", packets, colour, filters={"PAN", "RED", "NIR", "BLU"})
    assert c["ok"] and c["expected"] == 8


def test_dropped_framelet_shows_in_every_stage(setup) -> None:
    obs, plan, packets = setup
    lost = (obs.uid, 2, 1)
    science = b"".join(b for k, _, b in obs.frames if k != lost)
    rep, _, pk = validate_bytes(science, plan)
    dec = decompress(rep.framelets.values(), pk)
    counts = pipeline_counts(packets, {
        "received": rep.framelets.keys(),
        "complete": [k for k, f in rep.framelets.items() if f.status == "complete"],
        "decoded": [r.key for r in dec if r.status == OK],
    })
    assert not counts["ok"]
    for c in counts["stages"]:
        assert c["missing"] == [{"uid": obs.uid, "window": 2, "sequence": 1, "filter": "NIR"}]
        assert c["distinct"] == 11
    text = summary_text(counts)
    assert text.count("missing 1") == 3 and "MISMATCH" in text


def test_process_level0_end_to_end(setup) -> None:
    from cassis_pipe.level0.run import process_level0

    obs, _, _ = setup
    res = process_level0(obs.science, obs.tc, threads=2)
    assert res.ok and len(res.framelets) == 12
    assert [c["distinct"] for c in res.counts["stages"]] == [12, 12, 12]
    json.dumps(res.as_dict())
    assert "decoded 12" in res.summary()
    lost = (obs.uid, 0, 1)
    res = process_level0(b"".join(b for k, _, b in obs.frames if k != lost), obs.tc)
    assert not res.ok
    assert all(c["missing"][0]["sequence"] == 1 for c in res.counts["stages"])
