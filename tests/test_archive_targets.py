"""Target retirement: equal-area coverage on the sphere (0/360 meridian, poles), conditions,
the SQLite store and its import, and the end-to-end check of two small simulated observations
against a target list with hits and near misses, with the e-mails received by a real SMTP
server (aiosmtpd) on loopback: one per retirement, none on a rerun or after a re-open."""

from __future__ import annotations

import email
import json
import math
import socket
import threading
from email import policy
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cassis_pipe.archive.conditions import local_solar_time_h, solar_longitude_deg
from cassis_pipe.archive.sphere import covered_fraction, region_area_km2, sample_region
from cassis_pipe.archive.targets import TargetError, connect, get_targets, read_targets
from cassis_pipe.cli import main
from cassis_pipe.mapping.grid import MapGrid
from cassis_pipe.mapping.projections import choose_projection

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

EQ, POLAR = "MY35_006000_005_0", "MY35_006001_081_0"


def box(lon0: float, lon1: float, lat0: float, lat1: float) -> list[list[float]]:
    return [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]


# -- geometry on the sphere ------------------------------------------------------------------
def test_samples_are_equal_area() -> None:
    lat, _ = sample_region(np.array(box(0, 10, 0, 60)))
    # share of the band below 30 deg: sin 30 / sin 60 on the sphere (0.5 in latitude)
    assert abs((lat < 30).mean() - math.sin(math.radians(30)) / math.sin(math.radians(60))) \
        < 0.003
    cap = region_area_km2(np.array([[0, 80], [90, 80], [180, 80], [270, 80]]), 3389.5)
    assert cap == pytest.approx(2 * math.pi * 3389.5 ** 2 * (1 - math.sin(math.radians(80))),
                                rel=1e-3)


def test_coverage_across_the_meridian_and_at_the_pole() -> None:
    # equirectangular grid straddling 0 deg; only pixels west of the meridian are valid
    proj = choose_projection(5.0, 0.0)
    lines = samples = 400
    grid = MapGrid(proj, 100.0, *_corner(proj, 5.0, 0.0, lines, samples), lines, samples)
    _, lon = grid.pixel_latlon()
    west = lon > 180.0
    region = np.array(box(359.9, 0.3, 4.95, 5.05))  # 0.1 deg west of 0, 0.3 deg east
    lat_s, lon_s = sample_region(region)
    assert lon_s.max() > 359.8 and lon_s.min() < 0.2  # sampled on both sides, not around
    assert covered_fraction(lat_s, lon_s, west, grid.latlon_to_index) == \
        pytest.approx(0.25, abs=0.01)
    # polar stereographic grid centred on the pole; valid where east lon in [0, 180)
    pole = choose_projection(89.9, 0.0)
    pg = MapGrid(pole, 50.0, -20000.0, 20000.0, 800, 800)
    _, plon = pg.pixel_latlon()
    ring = np.array([[lon, 89.8] for lon in range(0, 360, 30)])  # cap around the pole
    la, lo = sample_region(ring)
    assert la.max() > 89.99
    assert covered_fraction(la, lo, plon < 180.0, pg.latlon_to_index) == \
        pytest.approx(0.5, abs=0.01)
    assert covered_fraction(la, lo, plon < 90.0, pg.latlon_to_index) == \
        pytest.approx(0.25, abs=0.01)


def _corner(proj, lat: float, lon: float, lines: int, samples: int) -> tuple[float, float]:  # noqa: ANN001
    x, y = proj.forward(np.array([lat]), np.array([lon]), x_ref_m=-1.0e7)
    return float(x[0]) - samples * 50.0, float(y[0]) + lines * 50.0


def test_solar_longitude_and_local_time() -> None:
    # Mars years start at Ls 0: MY35 on 2019-03-23, MY36 on 2021-02-07 (ET ~ s past J2000)
    for days in (7021.0, 7708.0):  # 2019-03-23 and 2021-02-07, 12:00 TT
        ls = solar_longitude_deg(days * 86400.0)
        assert min(ls, 360.0 - ls) < 0.6
    assert local_solar_time_h(30.0, 0.0) == pytest.approx(14.0)
    assert local_solar_time_h(350.0, 10.0) == pytest.approx(10.666666, abs=1e-5)


# -- store ------------------------------------------------------------------------------------
def test_import_rejects_bad_records(tmp_path: Path) -> None:
    good = "target_id,suggester,email,region,incidence_min,incidence_max\n" \
           "A1,Ann,ann@example.org,0 0; 1 0; 1 1,30,60\n"
    (tmp_path / "ok.csv").write_text(good)
    assert read_targets(tmp_path / "ok.csv")[0].incidence_deg == (30.0, 60.0)
    for line, why in (("B,Bo,not-an-address,0 0; 1 0; 1 1,,", "invalid e-mail"),
                      ("C,Cy,c@example.org,0 0; 1 0,,", "at least 3"),
                      ("D,Di,d@example.org,0 0; 1 0; 1 1,70,20", "incidence_min 70.0 > "),
                      ("E,Ed,e@example.org,0 0; 1 0; 1 95,,", "latitudes")):
        (tmp_path / "bad.csv").write_text(good.splitlines()[0] + "\n" + line + "\n")
        with pytest.raises(TargetError, match=why):
            read_targets(tmp_path / "bad.csv")
    conn = connect(tmp_path / "t.sqlite")
    assert main(["targets", "--db", str(tmp_path / "t.sqlite"), "import",
                 str(tmp_path / "ok.csv")]) == 0
    assert main(["targets", "--db", str(tmp_path / "t.sqlite"), "import",
                 str(tmp_path / "ok.csv")]) == 2  # already stored: all or nothing
    assert [t.target_id for t in get_targets(conn)] == ["A1"]


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                     lambda c: st.lists(c, max_size=5) | st.dictionaries(st.sampled_from(
                         ["type", "features", "geometry", "coordinates", "properties",
                          "target_id", "email", "suggester", "priority", "mode"]), c,
                         max_size=5), max_leaves=30)


@settings(max_examples=150, deadline=None)
@given(doc=_JSON, raw=st.binary(max_size=200), csv_text=st.text(max_size=200))
def test_import_fuzz_never_crashes(tmp_path_factory: pytest.TempPathFactory, doc: object,
                                   raw: bytes, csv_text: str) -> None:
    d = tmp_path_factory.mktemp("fuzz")
    header = "target_id,suggester,email,region,priority,incidence_min,mode\n"
    files = {"a.geojson": json.dumps({"type": "FeatureCollection", "features": doc}).encode(),
             "b.geojson": json.dumps(doc).encode(), "c.json": raw, "d.csv": raw,
             "e.csv": (header + csv_text).encode()}
    for name, data in files.items():
        (d / name).write_bytes(data)
        try:
            targets = read_targets(d / name)
        except TargetError:
            continue
        assert all(t.email.count("@") == 1 and len(t.region) >= 3 for t in targets)


# -- end to end with a real SMTP server ----------------------------------------------------------
class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


@pytest.fixture()
def smtp_server():
    inbox = _Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    try:
        ctl.start()
    except (OSError, RuntimeError) as exc:  # pragma: no cover - environment without sockets
        pytest.skip(f"cannot start an SMTP server on loopback: {exc}")
    yield inbox, port
    ctl.stop()
    assert not isinstance(threading.current_thread(), threading._DummyThread)


TARGETS = {  # id: (region, conditions, observation expected to retire it or None)
    "EQ-HIT-0LON": (box(359.996, 0.008, 4.995, 5.005), {}, EQ),
    "EQ-LS-WRAP": (box(359.998, 0.006, 4.997, 5.003), {"ls_min": 350, "ls_max": 40}, EQ),
    "EQ-COLOUR": (box(359.9908, 359.9920, 5.0160, 5.0172), {"mode": "colour"}, EQ),
    "EQ-PARTIAL": (box(0.015, 0.045, 4.995, 5.005), {}, None),
    "EQ-INCIDENCE": (box(359.996, 0.008, 4.995, 5.005),
                     {"incidence_min": 60, "incidence_max": 80}, None),
    "EQ-MORNING": (box(359.996, 0.008, 4.995, 5.005), {"lst_min": 6, "lst_max": 11}, None),
    "EQ-STEREO": (box(359.996, 0.008, 4.995, 5.005), {"mode": "stereo"}, None),
    "POLAR-HIT": (box(299.99, 300.03, 71.99, 72.0), {"incidence_min": 30,
                                                     "incidence_max": 50}, POLAR),
    "FAR-AWAY": (box(120.0, 120.1, -30.1, -30.0), {}, None),
}


def _geojson(path: Path) -> Path:
    feats = [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [region]},
              "properties": {"target_id": tid, "suggester": f"Suggester {tid}",
                             "email": f"{tid.lower()}@example.org", "priority": 2, **cond}}
             for tid, (region, cond, _) in TARGETS.items()]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_retirement_end_to_end(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path,
                               smtp_server, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("cassis_pipe.sim.writer")
    from archive_sample import sample_workdir

    work = sample_workdir(tmp_path_factory.getbasetemp())
    inbox, port = smtp_server
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"archive:\n  targets_db: {tmp_path / 'targets.sqlite'}\n"
                   "  coverage_fraction: 0.8\n"
                   f"  smtp: {{host: 127.0.0.1, port: {port}, sender: ops@cassis.test}}\n")
    base = ["targets", "--config", str(cfg)]
    assert main([*base, "import", str(_geojson(tmp_path / "targets.geojson"))]) == 0
    check = [*base, "check", EQ, POLAR, "--results", str(work / "results"),
             "--raw-root", str(work / "raw")]
    capsys.readouterr()
    assert main(check) == 0
    out = capsys.readouterr().out
    want = {tid: obs for tid, (_, _, obs) in TARGETS.items() if obs}
    conn = connect(tmp_path / "targets.sqlite")
    assert {t.target_id for t in get_targets(conn, "retired")} == set(want)
    rows = dict(conn.execute("SELECT target_id, observation_id FROM target_retirements"))
    assert rows == want
    # near misses are open for the stated reason
    for tid, why in (("EQ-PARTIAL", "coverage 0."), ("EQ-INCIDENCE", "incidence 45.0 deg"),
                     ("EQ-MORNING", "local solar time 15."), ("EQ-STEREO", "stereo requested"),
                     ("FAR-AWAY", "coverage 0.000")):
        line = next(ln for ln in out.splitlines() if f" {tid} " in ln and ln.startswith(EQ))
        assert "open" in line and why in line, line
    partial = conn.execute("SELECT coverage FROM target_evaluations WHERE target_id = "
                           "'EQ-PARTIAL' AND observation_id = ?", (EQ,)).fetchone()[0]
    assert 0.2 < partial < 0.6
    # exactly one e-mail per retirement, to its suggester, with the details and a quick-look
    assert sorted(rcpt[0] for _, rcpt in inbox.envelopes) == \
        sorted(f"{t.lower()}@example.org" for t in want)
    covs = dict(conn.execute("SELECT target_id, coverage FROM target_retirements"))
    assert covs["EQ-HIT-0LON"] == 1.0 and min(covs.values()) >= 0.8
    for msg in inbox.messages:
        tid = msg["Subject"].split()[2]
        body = msg.get_body(("plain",)).get_content()
        assert msg["Subject"] == f"CaSSIS target {tid} retired by observation {want[tid]}"
        assert f"Observation:        {want[tid]}" in body
        assert f"Coverage:           {100 * covs[tid]:.1f} % of the target area" in body
        assert "Incidence (centre): 45.0" in body and "Solar longitude Ls: 25." in body
        png = [p for p in msg.iter_attachments() if p.get_content_type() == "image/png"]
        assert len(png) == 1 and png[0].get_content()[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(BytesIO(png[0].get_content())) as im:
            assert max(im.size) <= 512
    # rerun (e.g. after reprocessing): no second e-mail, nothing else retires
    assert main(check) == 0
    assert len(inbox.messages) == len(want)
    # the suggester re-opens; the same observation does not retire it again or e-mail
    assert main([*base, "reopen", "EQ-HIT-0LON"]) == 0
    assert main(check) == 0
    assert len(inbox.messages) == len(want)
    hit = next(t for t in get_targets(conn) if t.target_id == "EQ-HIT-0LON")
    assert hit.status == "open" and hit.round == 2
    assert main([*base, "reopen", "EQ-PARTIAL"]) == 2  # never retired


def test_unreachable_smtp_keeps_the_retirement_pending(tmp_path_factory: pytest.TempPathFactory,
                                                       tmp_path: Path, smtp_server) -> None:
    pytest.importorskip("cassis_pipe.sim.writer")
    from archive_sample import sample_workdir

    work = sample_workdir(tmp_path_factory.getbasetemp())
    inbox, port = smtp_server
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    cfg = tmp_path / "config.yaml"
    db = tmp_path / "t.sqlite"

    def config(p: int) -> None:
        cfg.write_text(f"archive:\n  targets_db: {db}\n  smtp: {{host: 127.0.0.1, port: {p}}}\n")

    config(dead)
    (tmp_path / "t.csv").write_text("target_id,suggester,email,region\n"
                                    "HIT,Ann,ann@example.org,359.996 4.995; 0.008 4.995; "
                                    "0.008 5.005; 359.996 5.005\n")
    base = ["targets", "--config", str(cfg)]
    assert main([*base, "import", str(tmp_path / "t.csv")]) == 0
    check = [*base, "check", EQ, "--results", str(work / "results"), "--raw-dir",
             str(work / "raw" / EQ)]
    assert main(check) == 1  # retired, but the e-mail could not go out
    conn = connect(db)
    assert conn.execute("SELECT observation_id, email_sent FROM target_retirements"
                        ).fetchall() == [(EQ, 0)]
    config(port)
    assert main(check) == 0 and len(inbox.messages) == 1
    assert inbox.envelopes[0][1] == ["ann@example.org"]
    assert main(check) == 0 and len(inbox.messages) == 1


def test_targets_stage_of_the_workflow(tmp_path_factory: pytest.TempPathFactory,
                                       tmp_path: Path, smtp_server) -> None:
    """Rule targets' stage function: the same retirements as the CLI, written as the stage
    JSON, one e-mail each; run again (reprocessing): nothing retires or is sent twice."""
    pytest.importorskip("cassis_pipe.sim.writer")
    from archive_sample import sample_workdir

    from cassis_pipe.archive.targets import import_targets, read_targets
    from cassis_pipe.stages.targets import run_targets

    work = sample_workdir(tmp_path_factory.getbasetemp())
    inbox, port = smtp_server
    conn = connect(tmp_path / "targets.sqlite")
    import_targets(conn, read_targets(_geojson(tmp_path / "targets.geojson")))
    conn.close()
    want = sorted(tid for tid, (_, _, obs) in TARGETS.items() if obs == EQ)

    def run(out: Path) -> dict:
        return run_targets(EQ, work / "results", work / "raw" / EQ, tmp_path / "targets.sqlite",
                           out, fraction=0.8, smtp_host="127.0.0.1", smtp_port=port,
                           sender="ops@cassis.test")

    stage = run(tmp_path / "targets.json")
    assert stage["ok"] and stage["retired"] == want == sorted(stage["emailed"])
    assert json.loads((tmp_path / "targets.json").read_text())["retired"] == want
    assert sorted(r[0] for _, r in inbox.envelopes) == sorted(f"{t.lower()}@example.org"
                                                              for t in want)
    again = run(tmp_path / "again.json")
    assert again["retired"] == [] and again["emailed"] == [] and len(inbox.messages) == len(want)
