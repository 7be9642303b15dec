"""Downlink ingest end to end on a simulated downlink (cassis_pipe/sim/downlink.py): deliveries
fed in shuffled order over several runs, idempotence, truncated + re-delivered and duplicate
deliveries, byte accounting, per-observation files against the simulator, readiness."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import pytest

from cassis_pipe.level0.plan import plan_from_files
from cassis_pipe.level0.pseudo import predict_packets
from cassis_pipe.level0.validate import validate_files
from cassis_pipe.ops.delivery import split_delivery
from cassis_pipe.ops.ingest import IngestConfig, ingest
from cassis_pipe.ops.ledger import (
    delivery_breakdown,
    latest_deliveries,
    latest_runs,
    open_ledger,
)
from cassis_pipe.sim.downlink import HK_LIMIT, simulate_downlink
from cassis_pipe.telemetry.hk import read_hk_stream

FILES = ("tc.bin", "science.bin", "hk.bin")


@pytest.fixture(scope="module")
def dl(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("downlink")
    truth = simulate_downlink(out, seed=1)
    return out, truth


def feed(src: Path, work: Path, batches: list[list[str]], wait_s: float = 3600.0,
         step_s: float = 900.0, **kw: object) -> tuple[IngestConfig, list[dict]]:
    """Copy each batch into work/downlink and ingest it (one run per 15-minute cycle)."""
    (work / "downlink").mkdir(parents=True, exist_ok=True)
    cfg = IngestConfig(downlink=work / "downlink", root=work / "ingest", wait_s=wait_s, **kw)
    reports = []
    for i, batch in enumerate(batches):
        for name in batch:
            shutil.copy(src / "downlink" / name, work / "downlink" / name)
        reports.append(ingest(cfg, now=i * step_s))
    return cfg, reports


def obs_files(root: Path, truth: dict) -> dict[str, bytes]:
    return {f"{o}/{n}": (root / o / n).read_bytes() for o in truth["observations"] for n in FILES}


@pytest.fixture(scope="module")
def natural(dl: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory):
    """Deliveries in their arrival cycles, then one late run after the wait."""
    src, truth = dl
    work = tmp_path_factory.mktemp("natural")
    cfg, reps = feed(src, work, [*truth["batches"], []] + [[]] * 8)
    return work, cfg, reps


def test_science_files_equal_what_the_simulator_wrote(dl, natural) -> None:
    src, truth = dl
    work, _, _ = natural
    for obs, t in truth["observations"].items():
        data = (work / "ingest" / obs / "science.bin").read_bytes()
        assert hashlib.sha256(data).hexdigest() == t["science_sha256"], obs
        assert len(split_delivery("SCI", data).frames) == t["science_frames"]


def test_shuffled_order_gives_byte_identical_files(dl, natural, tmp_path: Path) -> None:
    """All deliveries in a random order, 3 per run: same files as in arrival order."""
    src, truth = dl
    names = [d["name"] for d in truth["deliveries"]]
    random.Random(7).shuffle(names)
    batches = [names[i:i + 3] for i in range(0, len(names), 3)] + [[]] * 8
    cfg, reps = feed(src, tmp_path, batches)
    assert obs_files(tmp_path / "ingest", truth) == obs_files(natural[0] / "ingest", truth)
    sheets = [(d / "ingest" / "observations.tsv").read_text().replace(str(d), "")
              for d in (tmp_path, natural[0])]
    assert sheets[0] == sheets[1] and sheets[0].count("\n") == 1 + len(truth["observations"])
    assert reps[-1]["accounting"]["pending"] == 0


def test_byte_accounting(dl, natural) -> None:
    """routed + duplicate + rejected == delivered; routed = every unique frame once."""
    _, truth = dl
    acc = natural[2][-1]["accounting"]
    assert acc["balanced"] and acc["pending"] == 0
    assert acc["delivered"] == truth["delivered_bytes"]
    dest = dict(acc["routed_by_dest"])
    assert dest.pop("tc-history") == truth["unique_bytes"]["tc"]
    assert dest.pop("hk-archive") == truth["unique_bytes"]["hk"]
    assert sum(dest.values()) == truth["unique_bytes"]["science"]
    for obs, t in truth["observations"].items():
        assert dest[obs] == t["science_bytes"]
    assert acc["rejected"] == truth["faults"]["garbage"]["bytes"]
    dup = truth["faults"]["duplicate"]["size"] + truth["faults"]["truncated"]["cut"]
    assert acc["duplicate"] == dup
    assert acc["routed"] + acc["duplicate"] + acc["rejected"] == acc["delivered"]
    # each delivery's spans tile it exactly: every byte in exactly one place
    db = open_ledger(natural[0] / "ingest")
    sizes = dict(db.execute("SELECT name, size FROM deliveries"))
    ends: dict[str, int] = {}
    for name, off, n in db.execute("SELECT name, offset, length FROM spans "
                                   "ORDER BY name, offset"):
        assert off == ends.get(name, 0) and n > 0
        ends[name] = off + n
    db.close()
    assert ends == sizes and len(sizes) == len(truth["deliveries"])


def test_truncated_delivery_pending_then_completed(dl, natural) -> None:
    _, truth = dl
    work, _, reps = natural
    tr = truth["faults"]["truncated"]
    first = next(d for r in reps for d in r["deliveries"] if d["name"] == tr["first"])
    assert first["pending"] > 0 and first["pending"] + first["routed"] == tr["cut"]
    red = next(d for r in reps for d in r["deliveries"] if d["name"] == tr["redelivery"])
    # the re-delivery is read from the start of the cut frame: no frame taken twice
    assert red["read_from"] == tr["cut"] - first["pending"]
    assert red["duplicate"] == red["read_from"]
    assert red["routed"] == tr["size"] - red["read_from"]
    db = open_ledger(work / "ingest")
    rows = {d["name"]: d for d in latest_deliveries(db)}
    assert rows[tr["first"]]["pending"] == 0
    assert rows[tr["first"]]["duplicate"] == first["pending"]
    parts = delivery_breakdown(db, tr["redelivery"])
    assert sum(p["bytes"] for p in parts) == tr["size"]
    assert {p["class"] for p in parts} == {"duplicate", "routed"}
    assert [r["run"] for r in latest_runs(db, 2)] == [len(reps), len(reps) - 1]
    db.close()


def test_truncated_without_redelivery_rejected_after_wait(dl, tmp_path: Path) -> None:
    src, truth = dl
    tr = truth["faults"]["truncated"]
    cfg, reps = feed(src, tmp_path, [[tr["first"]], [], []], wait_s=1000.0)
    assert reps[0]["accounting"]["pending"] > 0 and reps[1]["expired_pending"] == []
    assert reps[2]["expired_pending"] == [tr["first"]]
    acc = reps[2]["accounting"]
    assert acc["pending"] == 0 and acc["rejected"] == reps[0]["accounting"]["pending"]
    assert acc["balanced"]


def test_delivery_grown_in_place_read_from_consumed(dl, tmp_path: Path) -> None:
    """A delivery file that was still being written: the same name later holds more bytes."""
    src, truth = dl
    tr = truth["faults"]["truncated"]
    full = (src / "downlink" / tr["redelivery"]).read_bytes()
    d = tmp_path / "downlink"
    d.mkdir()
    (d / tr["first"]).write_bytes(full[:tr["cut"]])
    cfg = IngestConfig(downlink=d, root=tmp_path / "ingest")
    r1 = ingest(cfg, now=0.0)
    (d / tr["first"]).write_bytes(full)
    r2 = ingest(cfg, now=900.0)
    assert r2["deliveries"][0]["note"] == "grown in place"
    assert r2["deliveries"][0]["read_from"] == tr["cut"] - r1["accounting"]["pending"]
    acc = r2["accounting"]
    assert acc["balanced"] and acc["pending"] == 0 and acc["duplicate"] == 0
    assert acc["routed"] == len(full)


def test_idempotent(dl, natural) -> None:
    """Re-running (even after touching every delivery) adds nothing and rewrites nothing."""
    _, truth = dl
    work, cfg, reps = natural
    before = {p: p.stat().st_mtime_ns for p in (work / "ingest").rglob("*.bin")}
    for p in (work / "downlink").iterdir():
        os.utime(p)
    rep = ingest(cfg, now=99 * 900.0)
    assert rep["deliveries"] == [] and rep["changed"] == []
    assert rep["accounting"] == reps[-1]["accounting"]
    assert {p: p.stat().st_mtime_ns for p in (work / "ingest").rglob("*.bin")} == before
    # a copy of a delivery under a new revision name is a duplicate, byte for byte
    name = truth["deliveries"][0]["name"]
    copy = name.replace("_R01", "_R07")
    shutil.copy(work / "downlink" / name, work / "downlink" / copy)
    rep = ingest(cfg, now=100 * 900.0)
    assert [(d["name"], d["duplicate"], d["routed"]) for d in rep["deliveries"]] == \
        [(copy, truth["deliveries"][0]["size"], 0)]
    (work / "downlink" / copy).unlink()


def test_tc_routed_to_the_observations_they_command(dl, natural) -> None:
    src, truth = dl
    root = natural[0] / "ingest"
    for obs, t in truth["observations"].items():
        sim_tc = src / t["sim_dir"] / "tc.bin"
        if t["single_image_run"]:
            assert (root / obs / "tc.bin").read_bytes() == sim_tc.read_bytes(), obs
        got = [p for p in predict_packets(plan_from_files(root / obs / "tc.bin"))]
        want = [p for p in predict_packets(plan_from_files(sim_tc)) if p.uid == t["uid"]]
        assert [p.as_dict() | {"image_index": 0} for p in got] == \
            [p.as_dict() | {"image_index": 0} for p in want], obs


def test_level0_validation_of_ingested_observations(dl, natural) -> None:
    """No missing framelet where truth says complete, exactly the dropped one otherwise."""
    _, truth = dl
    root = natural[0] / "ingest"
    for obs, t in truth["observations"].items():
        rep, _, _ = validate_files(root / obs / "science.bin", root / obs / "tc.bin")
        missing = [{k: m[k] for k in ("uid", "window", "sequence")}
                   for m in rep.lists["missing_framelets"]]
        assert missing == t["missing"], obs
        assert rep.expected_framelets == t["expected_framelets"]
        assert not rep.lists["incomplete_framelets"] and not rep.lists["corrupt"]


def test_hk_by_time_and_out_of_limit_episode(dl, natural) -> None:
    _, truth = dl
    root = natural[0] / "ingest"
    ep = truth["faults"]["hk_out_of_limit"]
    seen_episode = {}
    for obs in truth["observations"]:
        res = read_hk_stream((root / obs / "hk.bin").read_bytes())
        assert not res.rejects and res.frames
        secs = sorted({f.timestamp >> 24 & 0xFFFFFFFF for f in res.frames})
        assert secs == list(range(secs[0], secs[-1] + 1))   # 1 Hz, no gap
        assert [f.timestamp for f in res.frames] == sorted(f.timestamp for f in res.frames)
        seen_episode[obs] = sum(f.fields[ep["parameter"]].raw == HK_LIMIT["raw"]
                                for f in res.frames if f.type == ep["frame_type"])
    assert seen_episode.pop(ep["observation"]) == HK_LIMIT["duration_s"]
    assert set(seen_episode.values()) == {0}
    db = open_ledger(root)
    archive = b"".join(r[0] for r in db.execute("SELECT frame FROM hk WHERE type=0"))
    db.close()
    n = sum(f.fields[ep["parameter"]].raw == HK_LIMIT["raw"]
            for f in read_hk_stream(archive).frames)
    assert n == HK_LIMIT["duration_s"]


def test_readiness_and_sheet(dl, natural, tmp_path: Path) -> None:
    """Complete observations are ready at once; the incomplete one only after the wait, with
    its missing framelet reported; never while waiting."""
    _, truth = dl
    work, cfg, reps = natural
    incomplete = [o for o, t in truth["observations"].items() if not t["complete"]]
    assert len(incomplete) == 1
    sheet = reps[-1]["sheet"]
    assert sheet == sorted(truth["observations"])
    st = json.loads((work / "ingest" / incomplete[0] / "ingest.json").read_text())
    assert st["status"] == "ready_incomplete"
    assert [{k: m[k] for k in ("uid", "window", "sequence")} for m in st["missing"]] == \
        truth["observations"][incomplete[0]]["missing"]
    # with an endless wait the incomplete observation is never handed over
    cfg2, reps2 = feed(dl[0], tmp_path, [*truth["batches"], []], wait_s=1e9)
    assert incomplete[0] not in reps2[-1]["sheet"]
    assert set(reps2[-1]["sheet"]) == set(truth["observations"]) - set(incomplete)
    rows = (tmp_path / "ingest" / "observations.tsv").read_text().splitlines()
    assert rows[0].split("\t") == ["observation_id", "raw_dir", "calibration_version",
                                   "simulate", "description"]


def test_sheet_rows_valid_and_processed_not_listed_again(dl, tmp_path: Path) -> None:
    import yaml
    from jsonschema import validate

    src, truth = dl
    names = [d["name"] for d in truth["deliveries"]]
    results = tmp_path / "results"
    cfg, reps = feed(src, tmp_path, [names, []], wait_s=0.0, results_dir=results,
                     calibration_dir="cal", geometry_dir=src / "geometry")
    schema = yaml.safe_load((Path(__file__).parents[1] / "workflow" / "schemas" /
                             "observations.schema.yaml").read_text())
    lines = (tmp_path / "ingest" / "observations.tsv").read_text().splitlines()
    head = lines[0].split("\t")
    for line in lines[1:]:
        row = dict(zip(head, line.split("\t"), strict=True))
        row["simulate"] = row["simulate"] == "true"
        validate(row, schema)
        assert (Path(row["raw_dir"]) / "geometry" / f"{row['observation_id']}.json").is_file()
    done = sorted(truth["observations"])[0]
    (results / done).mkdir(parents=True)
    (results / done / "summary.json").write_text("{}")
    rep = ingest(cfg, now=5000.0)
    assert done not in rep["sheet"] and len(rep["sheet"]) == len(truth["observations"]) - 1
    rep = ingest(cfg, now=5001.0, reprocess={done})
    assert done in rep["sheet"]


def test_cli(dl, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cassis_pipe.cli import main

    src, truth = dl
    shutil.copytree(src / "downlink", tmp_path / "downlink")
    (tmp_path / "downlink" / "not_a_delivery.txt").write_bytes(b"hello")
    args = ["ingest", "--downlink", str(tmp_path / "downlink"), "--root",
            str(tmp_path / "ingest"), "--wait-s", "0", "--now", "0"]
    assert main(args) == 0
    rep = json.loads(capsys.readouterr().out)
    bad = next(d for d in rep["deliveries"] if d["name"] == "not_a_delivery.txt")
    assert bad["rejected"] == 5
    assert rep["accounting"]["delivered"] == truth["delivered_bytes"] + 5
    conf = tmp_path / "config.yaml"
    conf.write_text(json.dumps({"results_dir": "res", "ingest": {
        "downlink": str(tmp_path / "downlink"), "root": str(tmp_path / "ingest"),
        "wait_s": 0, "calibration_version": "v9"}}))
    assert main(["ingest", "--config", str(conf), "--now", "10"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["deliveries"] == [] and rep["sheet"] == sorted(truth["observations"])
    assert "\tv9\t" in (tmp_path / "ingest" / "observations.tsv").read_text()
    assert main(["ingest", "--root", str(tmp_path / "ingest"), "--status"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert len(status["observations"]) == len(truth["observations"])
    assert main(["ingest", "--downlink", str(tmp_path / "nowhere"), "--root",
                 str(tmp_path / "i2")]) == 2


def test_redelivery_before_truncated_delivery(dl, tmp_path: Path) -> None:
    """The complete revision arrives first: the truncated one is then a duplicate, whole."""
    src, truth = dl
    tr = truth["faults"]["truncated"]
    cfg, reps = feed(src, tmp_path, [[tr["redelivery"]], [tr["first"]]])
    d = reps[1]["deliveries"][0]
    assert (d["name"], d["duplicate"], d["routed"], d["pending"]) == \
        (tr["first"], tr["cut"], 0, 0)
    assert reps[1]["accounting"]["routed"] == tr["size"]


def test_science_before_its_command_is_never_handed_over(dl, tmp_path: Path) -> None:
    src, truth = dl
    sci = [d["name"] for d in truth["deliveries"] if d["kind"] == "SCI"]
    rest = [d["name"] for d in truth["deliveries"] if d["kind"] != "SCI"]
    cfg, reps = feed(src, tmp_path, [sci, [], []], wait_s=0.0)
    assert reps[-1]["sheet"] == []
    for obs in truth["observations"]:
        st = json.loads((tmp_path / "ingest" / obs / "ingest.json").read_text())
        assert st["status"] == "no_command", obs
    for name in rest:
        shutil.copy(src / "downlink" / name, tmp_path / "downlink" / name)
    rep = ingest(cfg, now=5000.0)
    assert rep["sheet"] == sorted(truth["observations"])


def test_late_hk_neither_waits_nor_reprocesses(dl, tmp_path: Path) -> None:
    src, truth = dl
    hk = [d["name"] for d in truth["deliveries"] if d["kind"] == "HK"]
    rest = [d["name"] for d in truth["deliveries"] if d["kind"] != "HK"]
    results = tmp_path / "results"
    cfg, reps = feed(src, tmp_path, [rest, []], wait_s=0.0, results_dir=results)
    assert reps[-1]["sheet"] == sorted(truth["observations"])
    for obs in truth["observations"]:
        assert (tmp_path / "ingest" / obs / "hk.bin").read_bytes() == b""
        (results / obs).mkdir(parents=True)
        (results / obs / "summary.json").write_text("{}")
    for name in hk:
        shutil.copy(src / "downlink" / name, tmp_path / "downlink" / name)
    rep = ingest(cfg, now=2000.0)
    assert rep["hk_changed"] == sorted(truth["observations"])
    assert rep["changed"] == [] and rep["sheet"] == []


def test_monitoring_page_reads_the_ledger(dl, natural) -> None:
    """The deliveries panel of the monitoring page reads the ingest ledger itself (read-only):
    every delivery ingested is listed, with the ledger's size and byte totals."""
    from cassis_pipe.ops.status import read_deliveries

    _, truth = dl
    shown = read_deliveries(natural[0] / "ingest" / "ingest.sqlite")
    db = open_ledger(natural[0] / "ingest")
    sizes = dict(db.execute("SELECT name, size FROM deliveries"))
    db.close()
    assert {d["name"]: d["size"] for d in shown} == sizes
    assert sum(d["rejected"] for d in shown) == truth["faults"]["garbage"]["bytes"]
