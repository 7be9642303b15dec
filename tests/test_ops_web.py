"""The monitoring page, served by `cassis-pipe web serve` on loopback: login, read-only API,
hostile requests, and the page itself driven in a real headless Chromium (selenium)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from ops_support import (
    DATA,
    KERNELS,
    T0,
    Site,
    free_port,
    inject,
    sim_hk,
    web_server,
    write_ops_config,
)

from cassis_pipe.ops.auth import hash_password, set_user, verify_password
from cassis_pipe.ops.clock import Clock
from cassis_pipe.ops.hkdb import load_hk, load_tc, open_db

USER, PASSWORD = "ops", "correct horse battery"
DELIVERIES = [{"name": "2019-05-15_pass1", "files": 3, "status": "ingested"},
              {"name": "2019-05-16_pass2", "files": 1, "status": "waiting"}]



def _tree_digest(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("web")
    clock = Clock(KERNELS / "em16_tgo_step_20190823.tsc", KERNELS / "naif0012.tls")
    # a hard out-of-limit episode on the FPA sensor: 5 samples at 2900 raw (hard high 2870)
    hk = inject(sim_hk(10.0), 0, "PT_FPA_1", T0 + 100, T0 + 104, 2900)
    with open_db(root / "hk.sqlite") as db:
        load_hk(db, hk, clock, "hk.bin")
        load_tc(db, (DATA / "ops_sim" / "tc.bin").read_bytes(), "tc.bin")
    results = root / "results"
    shutil.copytree(DATA / "ops_results", results)
    (root / "state.json").write_text(json.dumps({"deliveries": DELIVERIES}))
    set_user(root / "users.yaml", USER, PASSWORD)
    port = free_port()
    cfg = write_ops_config(root, str(root / "hk.sqlite"), results,
                           ingest_state=str(root / "state.json"),
                           web=f"{{users_file: {root / 'users.yaml'}, port: {port}}}")
    with web_server(cfg, port):
        yield Site(root, f"http://127.0.0.1:{port}", port, clock)


def test_password_hashes_are_salted_scrypt() -> None:
    a, b = hash_password("pw-12345678"), hash_password("pw-12345678")
    assert a != b and a.startswith("scrypt$")
    assert verify_password("pw-12345678", a) and not verify_password("pw-12345679", a)
    assert not verify_password("pw-12345678", "scrypt$broken")


def test_passwd_and_serve_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture) -> None:
    import io

    from cassis_pipe.cli import main
    from cassis_pipe.ops.auth import read_users

    users = tmp_path / "users.yaml"
    cfg = write_ops_config(tmp_path, str(tmp_path / "hk.sqlite"), tmp_path,
                           web=f"{{users_file: {users}, port: {free_port()}}}")
    assert main(["web", "serve", "--config", str(cfg)]) == 2  # no users yet: refuses to start
    assert "cassis-pipe web passwd" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["web", "passwd", "alice", "--config", str(cfg), "--password-stdin"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    assert main(["web", "passwd", "alice", "--config", str(cfg), "--password-stdin"]) == 0
    stored = read_users(users)["alice"]
    assert verify_password("a long enough secret", stored) and "secret" not in stored
    assert users.stat().st_mode & 0o077 == 0
    assert main(["web", "passwd", "../x", "--config", str(cfg), "--password-stdin"]) == 2


def test_unauthenticated_requests_refused(site: Site) -> None:
    status, headers, _ = site.request("GET", "/")
    assert status == 303 and headers["location"] == "/login"
    for path in ("/api/hk?channel=PT_FPA_1", "/api/observations", "/api/channels"):
        assert site.request("GET", path)[0] == 401
    assert site.request("GET", "/api/hk", cookie="cassis_session=forged-token")[0] == 401
    bad = urllib.parse.urlencode({"username": USER, "password": "wrong password"})
    assert site.request("POST", "/login", bad)[0] == 401


def test_login_sets_httponly_session_cookie(site: Site) -> None:
    form = urllib.parse.urlencode({"username": USER, "password": PASSWORD})
    status, headers, _ = site.request("POST", "/login", form)
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, _, body = site.request("GET", "/", cookie=cookie.split(";")[0])
    assert status == 200 and b'id="hk-plot"' in body


def test_api_series_limits_and_episode(site: Site) -> None:
    cookie = site.login(USER, PASSWORD)
    q = urllib.parse.urlencode({"channel": "PT_FPA_1", "from": "obt:100000090",
                                "to": "obt:100000120"})
    status, _, body = site.request("GET", "/api/hk?" + q, cookie=cookie)
    d = json.loads(body)
    assert status == 200 and d["samples"] == 31 and d["mode"] == "raw"
    assert d["limits"]["hard_high"] == 2870
    assert [(e["samples"], e["level"], e["worst"]) for e in d["episodes"]] == [(5, "hard", 2900)]
    assert sum(v == 2900 for v in d["v"]) == 5


def test_api_long_ranges_use_daily_aggregates(site: Site) -> None:
    cookie = site.login(USER, PASSWORD)
    q = urllib.parse.urlencode({"channel": "temperature_1.PT_FPA_1", "from": "2019-05-01",
                                "to": "2019-05-31T23:59:59"})
    d = json.loads(site.request("GET", "/api/hk?" + q, cookie=cookie)[2])
    assert d["mode"] == "daily" and len(d["t"]) == 1
    assert d["vmax"] == [2900] and d["vmin"][0] > 2750
    assert [e["level"] for e in d["episodes"]] == ["hard"]


def test_hostile_requests_refused_and_nothing_written(site: Site) -> None:
    cookie = site.login(USER, PASSWORD)
    before = _tree_digest(site.root / "results")
    db_before = hashlib.sha256((site.root / "hk.sqlite").read_bytes()).hexdigest()
    for q in ({"channel": "x'; DROP TABLE hk;--"},
              {"channel": "PT_FPA_1", "from": "1' OR '1'='1"},
              {"channel": "PT_FPA_1", "to": "obt:1; DELETE FROM hk_daily"},
              {"channel": "PT_FPA_1", "max_points": "10; DROP TABLE hk_channel"}):
        status, _, body = site.request("GET", "/api/hk?" + urllib.parse.urlencode(q),
                                       cookie=cookie)
        assert status == 400, (q, body)
    for path in ("/quicklook/..%2F..%2F/hk.sqlite", "/quicklook/MY35_006000_010_0/..",
                 "/quicklook/../../etc/passwd", "/static/../auth.py"):
        assert site.request("GET", path, cookie=cookie)[0] == 404
    assert site.request("POST", "/api/hk?channel=PT_FPA_1", "x=1", cookie=cookie)[0] == 405
    ok = site.request("GET", "/api/hk?channel=PT_FPA_1", cookie=cookie)
    assert ok[0] == 200 and json.loads(ok[2])["samples"] > 300
    assert _tree_digest(site.root / "results") == before
    assert hashlib.sha256((site.root / "hk.sqlite").read_bytes()).hexdigest() == db_before


# ---- the page in a real browser ---------------------------------------------------------------

def _browser(tmp: Path):  # noqa: ANN202
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_bin = shutil.which("chromedriver")
    if not chromium or not driver_bin:
        pytest.skip("Debian chromium + chromium-driver not installed")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run",
              "--disable-dev-shm-usage", "--window-size=1100,1800",
              f"--user-data-dir={tmp / 'chrome-profile'}"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(driver_bin), options=opts)


def _wait(drv, cond, timeout: float = 20.0):  # noqa: ANN001, ANN202
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(drv, timeout).until(lambda d: cond(d))


def test_page_in_headless_chromium(site: Site, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    drv = _browser(tmp_path)
    try:
        drv.get(site.base + "/")
        assert drv.current_url.endswith("/login")  # redirected: no session yet
        drv.find_element(By.ID, "username").send_keys(USER)
        drv.find_element(By.ID, "password").send_keys(PASSWORD)
        drv.find_element(By.ID, "login-button").click()
        _wait(drv, lambda d: d.find_elements(By.CSS_SELECTOR, "#hk-plot[data-points]"))
        # choose channel and range: OBT T0+89.5 .. T0+120.5 (07:20:24.3 .. 07:20:55.3 UTC)
        Select(drv.find_element(By.ID, "channel")).select_by_value("temperature_1.PT_FPA_1")
        for box, obt in (("from", T0 + 89.5), ("to", T0 + 120.5)):
            field = drv.find_element(By.ID, box)
            field.clear()
            field.send_keys(site.clock.obt_to_utc(obt))
        drv.find_element(By.ID, "plot-button").click()
        svg = _wait(drv, lambda d: [e for e in d.find_elements(By.ID, "hk-plot")
                                    if e.get_attribute("data-points") == "31"
                                    and e.get_attribute("data-channel").endswith("PT_FPA_1")])[0]
        normal = svg.find_elements(By.CSS_SELECTOR, "circle.pt")
        bad = svg.find_elements(By.CSS_SELECTOR, "circle.oolpt")
        assert len(normal) + len(bad) == 31 and len(bad) == 5
        assert {b.get_attribute("data-level") for b in bad} == {"hard"}
        assert [float(b.get_attribute("data-v")) for b in bad] == [2900.0] * 5
        assert len(svg.find_elements(By.CSS_SELECTOR, "rect.episode")) == 1
        assert len(svg.find_elements(By.CSS_SELECTOR, "line.limit-hard")) >= 1
        assert len(svg.find_elements(By.CSS_SELECTOR, "polyline.hk-line")) == 1
        rows = drv.find_elements(By.CSS_SELECTOR, "#episodes tr.episode-row")
        assert [r.find_elements(By.TAG_NAME, "td")[2].text for r in rows] == ["5"]
        shot = tmp_path / "panel.png"
        drv.save_screenshot(str(shot))
        # drag across ~10 s of the plot: the range shrinks to the selection and is re-plotted
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(drv).move_to_element_with_offset(svg, -200, 0).click_and_hold() \
            .move_by_offset(300, 0).release().perform()
        zoomed = _wait(drv, lambda d: 5 <= int(d.find_element(By.ID, "hk-plot")
                                               .get_attribute("data-points")) <= 15)
        assert zoomed and drv.find_element(By.ID, "from").get_attribute("value") > \
            site.clock.obt_to_utc(T0 + 89.5)
        # every observation with its status, offsets, quick-looks; rotation history; deliveries
        obs = _wait(drv, lambda d: d.find_elements(By.CSS_SELECTOR, "#observations tr.obs-row"))
        status = {r.get_attribute("data-obs"): r.get_attribute("data-status") for r in obs}
        assert status == {"MY35_006000_010_0": "ok", "MY35_006001_010_0": "problems"}
        assert "missing_framelets: 1" in obs[1].text and "0.3035" in obs[0].text
        assert len(obs[0].find_elements(By.CSS_SELECTOR, "img")) == 1
        _wait(drv, lambda d: d.find_elements(By.CSS_SELECTOR, "#rot-plot circle.rot-pt"))
        assert len(drv.find_elements(By.CSS_SELECTOR, "#rot-plot circle.rot-pt")) == 2
        cells = _wait(drv, lambda d: d.find_elements(By.CSS_SELECTOR, "#deliveries-table td"))
        assert "2019-05-16_pass2" in [c.text for c in cells]
        _wait(drv, lambda d: d.find_elements(By.CSS_SELECTOR, "#telecommands tbody tr"))
        assert shot.stat().st_size > 10_000
        if os.environ.get("CASSIS_SCREENSHOT"):
            shutil.copy(shot, os.environ["CASSIS_SCREENSHOT"])
    finally:
        drv.quit()
