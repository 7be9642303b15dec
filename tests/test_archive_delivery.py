"""Archive delivery of two small simulated observations produced by the real workflow:
a clean delivery passes every check; a label broken in a way only the Schematron sees, a
dangling reference and a corrupted / missing / extra file in the archive copy are each caught
with their reason; redelivery after reprocessing makes new versions and overwrites nothing."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.archive.checks import label_errors
from cassis_pipe.archive.deliver import deliver
from cassis_pipe.archive.manifest import check_archive, md5_file, read_manifest
from cassis_pipe.cli import main
from cassis_pipe.products.pds4 import parse_label
from cassis_pipe.products.validate import validate_label

pytest.importorskip("saxonche")
pytest.importorskip("cassis_pipe.sim.writer")

from archive_sample import OBSERVATIONS, sample_workdir  # noqa: E402

EQ, POLAR = sorted(OBSERVATIONS)
DATE = "2026-12-04"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_workdir(tmp_path_factory.getbasetemp()) / "results"


def clone(results: Path, dest: Path) -> Path:
    """Hard-linked copy of the results (files are replaced, never edited in place)."""
    shutil.copytree(results, dest, copy_function=os.link)
    return dest


def replace(path: Path, data: bytes) -> None:
    path.unlink()
    path.write_bytes(data)


def archive_copy(deliveries: Path, dest: Path) -> Path:
    """What the archive holds after receiving every delivery."""
    for d in sorted(deliveries.glob("delivery_*")):
        shutil.copytree(d / "em16_tgo_cas", dest / "em16_tgo_cas", dirs_exist_ok=True)
    return dest


def inventory(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    return list(csv.reader(raw.decode("ascii").splitlines()))


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_manifest_reader_fuzz(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    f = tmp_path_factory.mktemp("man") / "transfer_manifest.csv"
    f.write_bytes(b"path,size_bytes,md5\n" + raw)
    try:
        rows = read_manifest(f)
    except ValueError:
        return
    assert all(size >= 0 and len(md5) == 32 for size, md5 in rows.values())


def test_clean_delivery_passes_every_check(results: Path, tmp_path: Path) -> None:
    rep = deliver(results, [EQ, POLAR], tmp_path / "deliveries", DATE)
    assert rep.blocked == {} and rep.delivery == "delivery_0001"
    n_labels = {o: len([p for d in ("level0/framelets", "level1/framelets", "level1c/strips",
                                    "level2/products")
                        for p in (results / o / d).glob("*.xml")]) for o in (EQ, POLAR)}
    n_browse = {o: len(list((results / o / "level2" / "products").glob("*-*.png")))
                + len(list((results / o / "level1" / "quicklook").glob("*.jpg")))
                for o in (EQ, POLAR)}
    assert min(n_labels.values()) >= 30 and min(n_browse.values()) >= 8
    assert rep.delivered == {o: n_labels[o] + n_browse[o] for o in (EQ, POLAR)}
    top = rep.path / "em16_tgo_cas"
    # every label sent (products, browse, collections, bundle) passes XSD + Schematron + files
    labels = sorted(top.rglob("*.xml"))
    assert len(labels) == sum(n_labels.values()) + sum(n_browse.values()) + 4 + 1
    for label in labels:
        assert label_errors(label)[0] == [], label
    # collections by processing level; inventories hold exactly the delivered LIDVIDs
    for coll, level in (("data_raw", "Raw"), ("data_calibrated", "Calibrated"),
                        ("data_derived", "Derived"), ("browse", None)):
        rows = inventory(top / coll / f"collection_{coll}_v1_0.csv")
        lids = {parse_label(p).getroot().findtext(
            "{*}Identification_Area/{*}logical_identifier") + "::1.0"
            for p in (top / coll).glob("*/*.xml")}
        assert {r[1] for r in rows} == lids and {r[0] for r in rows} == {"P"}
        for p in (top / coll).glob("*/*.xml"):
            if level:
                assert f"<processing_level>{level}</processing_level>" in p.read_text()
            else:  # browse of the map products / strips it shows, which are delivered too
                assert "<reference_type>browse_to_data</reference_type>" in p.read_text()
    bundle = (top / "bundle_em16_tgo_cas_v1_0.xml").read_text()
    for coll in ("data_raw", "data_calibrated", "data_derived", "browse"):
        assert f"urn:esa:psa:em16_tgo_cas:{coll}::1.0</lidvid_reference>" in bundle
    # the manifest lists every file sent with its size and MD5, nothing else
    man = read_manifest(rep.path / "transfer_manifest.csv")
    files = {p.relative_to(rep.path).as_posix(): p for p in top.rglob("*") if p.is_file()}
    assert set(man) == set(files)
    assert all(man[k] == (f.stat().st_size, md5_file(f)) for k, f in files.items())
    # the archive's copy matches; the CLI agrees (exit 0)
    copy = archive_copy(tmp_path / "deliveries", tmp_path / "psa")
    assert check_archive(copy, tmp_path / "deliveries").ok
    assert main(["deliver", "--check", str(copy), "--deliveries",
                 str(tmp_path / "deliveries")]) == 0


def test_broken_label_blocks_only_its_observation(results: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    res = clone(results, tmp_path / "results")
    label = res / EQ / "level2" / "products" / f"{EQ}_PAN.xml"
    text = label.read_text()
    bad = text.replace("<disp:horizontal_display_axis>Sample<",
                       "<disp:horizontal_display_axis>Samples<", 1)
    assert bad != text
    replace(label, bad.encode())
    # the XSD and the simple enumerated-value rules accept it: only the Schematron sees it
    assert validate_label(label) == []
    code = main(["deliver", EQ, POLAR, "--results", str(res), "--deliveries",
                 str(tmp_path / "d"), "--date", DATE])
    out = capsys.readouterr().out
    assert code == 1
    assert f"BLOCKED   {EQ}" in out and f"delivered {POLAR}" in out
    assert "PDS4_DISP_1N00_1510.sch" in out and "horizontal display axis (Samples)" in out
    sent = {p.parent.name for p in (tmp_path / "d" / "delivery_0001").rglob("*.dat")}
    assert sent == {POLAR}
    inv = (tmp_path / "d" / "delivery_0001" / "em16_tgo_cas" / "data_derived" /
           "collection_data_derived_v1_0.csv").read_text()
    assert EQ.lower() not in inv and POLAR.lower() in inv


def test_dangling_reference_blocks_with_reason(results: Path, tmp_path: Path) -> None:
    res = clone(results, tmp_path / "results")
    label = res / POLAR / "level2" / "products" / f"{POLAR}_RED.xml"
    text = label.read_text()
    ghost = "urn:esa:psa:em16_tgo_cas:data_calibrated:cas_cal_sc_no_such_framelet"
    # point the first input-product reference at a product nobody made (schema-valid)
    first = text.index("<lid_reference>urn:esa:psa:em16_tgo_cas:data_calibrated:")
    end = text.index("</lid_reference>", first)
    bad = text[:first] + f"<lid_reference>{ghost}" + text[end:]
    replace(label, bad.encode())
    assert label_errors(label)[0] == []  # the label itself is valid
    rep = deliver(res, [POLAR, EQ], tmp_path / "d", DATE)
    assert list(rep.blocked) == [POLAR]
    assert rep.blocked[POLAR] == [f"{POLAR}_RED.xml: lid_reference {ghost} resolves to no "
                                  "product"]
    assert rep.delivered == {EQ: rep.delivered[EQ]}


def test_redelivery_new_versions_and_references_to_earlier_deliveries(
        results: Path, tmp_path: Path) -> None:
    res = clone(results, tmp_path / "results")
    root = tmp_path / "d"
    first = deliver(res, [EQ], root, DATE)
    assert first.delivered[EQ] > 0
    # nothing changed: nothing is sent again
    again = deliver(res, [EQ], root, "2026-12-05")
    assert again.delivery is None and again.unchanged[EQ] == first.delivered[EQ]
    # reprocessing: one map product's data changes, one stitched strip's label changes
    dat = res / EQ / "level2" / "products" / f"{EQ}_NIR.dat"
    raw = bytearray(dat.read_bytes())
    raw[100] ^= 0x01
    replace(dat, bytes(raw))
    strip = sorted((res / EQ / "level1c" / "strips").glob("*-blu-*-sti.xml"))[0]
    replace(strip, strip.read_bytes().replace(b"<title>", b"<title>Reprocessed ", 1))
    rep = deliver(res, [EQ], root, "2026-12-06")
    assert rep.delivery == "delivery_0002" and rep.delivered == {EQ: 2}
    top = rep.path / "em16_tgo_cas"
    nir = top / "data_derived" / EQ / f"{EQ}_NIR_v2_0.xml"
    blu = top / "data_calibrated" / EQ / strip.name.replace(".xml", "_v1_1.xml")
    assert (top / "data_derived" / EQ / f"{EQ}_NIR_v2_0.dat").is_file()
    assert "<version_id>2.0</version_id>" in nir.read_text()
    assert "<file_name>" + f"{EQ}_NIR_v2_0.dat" in nir.read_text()
    assert "<version_id>1.1</version_id>" in blu.read_text()
    # every product version is complete: the unchanged data file travels with the new label
    blu_dat = top / "data_calibrated" / EQ / strip.name.replace(".xml", "_v1_1.dat")
    assert md5_file(blu_dat) == md5_file(strip.with_suffix(".dat"))
    assert "2026-12-06" in blu.read_text() and "label changed" in blu.read_text()
    # the map product's references to level-1 framelets resolve in delivery_0001
    assert sorted(p.name for p in top.rglob(f"{EQ}/*.xml")) == sorted([blu.name, nir.name])
    # collections and bundle: new versions; the inventory names the new product versions
    inv = inventory(top / "data_derived" / "collection_data_derived_v2_0.csv")
    nir_lid = f"urn:esa:psa:em16_tgo_cas:data_derived:{EQ.lower()}_nir"
    assert ["P", f"{nir_lid}::2.0"] in inv and ["P", f"{nir_lid}::1.0"] not in inv
    assert len(inv) == 4
    bundle = (top / "bundle_em16_tgo_cas_v2_0.xml").read_text()
    assert "data_raw::1.0<" in bundle and "data_calibrated::2.0<" in bundle
    assert "data_derived::2.0<" in bundle and "browse::1.0<" in bundle
    assert not (top / "data_raw").exists() and not (top / "browse").exists()
    # the archive holds both deliveries side by side: nothing overwritten, check clean
    copy = archive_copy(root, tmp_path / "psa")
    assert (copy / "em16_tgo_cas" / "data_derived" / EQ / f"{EQ}_NIR.dat").is_file()
    res_check = check_archive(copy, root)
    assert res_check.ok and res_check.expected == res_check.present


def test_archive_copy_problems_reported(results: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "d"
    deliver(results, [POLAR], root, DATE)
    copy = archive_copy(root, tmp_path / "psa")
    top = copy / "em16_tgo_cas"
    dat = sorted((top / "data_raw" / POLAR).glob("*.dat"))[0]
    raw = bytearray(dat.read_bytes())
    raw[7] ^= 0x40  # same size, different content
    dat.write_bytes(bytes(raw))
    gone = sorted((top / "data_derived" / POLAR).glob("*.xml"))[0]
    gone.unlink()
    (top / "data_raw" / "stray.txt").write_text("not sent by us\n")
    res = check_archive(copy, root)
    rel = lambda p: p.relative_to(copy).as_posix()  # noqa: E731
    assert res.missing == [rel(gone)] and res.extra == ["em16_tgo_cas/data_raw/stray.txt"]
    assert len(res.corrupted) == 1 and res.corrupted[0].startswith(f"{rel(dat)}: md5 ")
    assert main(["deliver", "--check", str(copy), "--deliveries", str(root)]) == 1
    out = capsys.readouterr().out
    assert f"MISSING   {rel(gone)}" in out and f"CORRUPTED {rel(dat)}" in out
    assert "EXTRA     em16_tgo_cas/data_raw/stray.txt" in out and "PROBLEMS FOUND" in out
