"""The offline PDS4 validator: catches broken labels, explains the flown labels, counts products."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from cassis_pipe.products.metadata import FLOAT32_MISSING, ProductMeta, SpecialConstants
from cassis_pipe.products.pds4 import write_product
from cassis_pipe.products.validate import count_products, schematron_coverage, validate_label


@pytest.fixture()
def good_label(tmp_path):
    meta = ProductMeta(name="test_product", level="calibrated", start_utc="2020-01-01T00:00:00Z",
                       stop_utc="2020-01-01T00:00:01Z", modification_date="2026-11-21",
                       filter_name="RED", special=SpecialConstants(missing=FLOAT32_MISSING))
    dat, xml = write_product(tmp_path, meta, np.ones((4, 6), np.float32))
    return dat, xml


def _mutate(xml, old: str, new: str) -> None:
    text = xml.read_text()
    assert old in text
    xml.write_text(text.replace(old, new, 1))


def test_good_label_is_valid(good_label) -> None:
    assert validate_label(good_label[1]) == []


@pytest.mark.parametrize(("old", "new", "pattern"), [
    ("<stop_date_time>2020-01-01T00:00:01Z</stop_date_time>", "",
     r"^xsd line \d+: .*stop_date_time"),
    ("<axes>2</axes>", "<axes>two</axes>", r"^xsd line \d+: .*axes"),
    ("display_settings_to_array", "display_to_array", r"^schematron PDS4_DISP"),
    ("<processing_level>Calibrated", "<processing_level>Cooked", r"^schematron PDS4_PDS"),
    ('unit="byte"', 'unit="bytes"', r"^xsd line \d+: .*offset.*unit"),
    ("<type>Planet</type>", "<type>Planett</type>", r"^schematron PDS4_PDS.*Target"),
    ("<img:filter_id>RED</img:filter_id>", "", None),  # optional element: still valid
    ("<local_identifier_reference>image<", "<local_identifier_reference>img<",
     r"has no matching local_identifier"),
    ("<elements>6</elements>", "<elements>60</elements>", r"array needs 960 bytes"),
    ("<file_name>test_product.dat<", "<file_name>nope.dat<", r"not found next to the label"),
    ("<information_model_version>1.23.0.0<", "<information_model_version>1.15.0.0<",
     r"information_model_version"),
])
def test_broken_labels_are_caught(good_label, old, new, pattern) -> None:
    _, xml = good_label
    _mutate(xml, old, new)
    errors = validate_label(xml)
    if pattern is None:
        assert errors == []
    else:
        assert errors and any(re.search(pattern, e) for e in errors), errors


def test_missing_or_malformed_files(tmp_path) -> None:
    assert "cannot parse" in validate_label(tmp_path / "missing.xml")[0]
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b"<Product_Observational><unclosed>")
    assert "cannot parse" in validate_label(bad)[0]


def test_entities_are_not_expanded(good_label, tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    _, xml = good_label
    text = xml.read_text()
    doctype = f'<!DOCTYPE Product_Observational [<!ENTITY e SYSTEM "{secret.as_uri()}">]>\n'
    text = text.replace("<Product_Observational", doctype + "<Product_Observational", 1)
    xml.write_text(text.replace("<title>CaSSIS image product", "<title>&e;", 1))
    errors = validate_label(xml)
    assert errors and "DOCTYPE" in errors[0]
    assert not any("TOP-SECRET" in e for e in errors)


def test_flown_psa_label_fails_only_for_understood_reasons(data_dir) -> None:
    """The PSA MY36 label uses IM 1.15 (1F00) plus the PSA and em16 dictionaries we don't have.

    Against our 1N00 schemas everything else passes (core, disp, img, cart, geom): the only
    errors are the undeclared psa:/em16_tgo_cas: elements in Mission_Area (strict wildcard) and
    the information_model_version value; its 500 x 3 float32 array fits its 6000-byte DAT.
    """
    errors = validate_label(data_dir / "psa-derived" / "MY36_015782_024_0_PAN_cropped.xml")
    undeclared = [e for e in errors if "No matching global element declaration" in e]
    assert {re.search(r"\{([^}]*)\}", e).group(1) for e in undeclared} == {
        "http://psa.esa.int/psa/v1", "http://psa.esa.int/psa/em16/tgo/cas/v1"}
    rest = [e for e in errors if e not in undeclared]
    assert len(rest) == 1 and "information_model_version" in rest[0] and "1.15.0.0" in rest[0]


def test_isis_exports_fail_for_understood_reasons(data_dir) -> None:
    """tgocassisrdrgen labels (IM 1.11) use pre-1N00 class names and a placeholder LID."""
    errors = validate_label(
        data_dir / "pds4-exports" / "CAS-MCO-2016-11-26T22.50.30.181-RED-01012-B1_proj_rdrgen.xml")
    joined = "\n".join(errors)
    for expected in ("urn:nasa:pds:TBD", "Imaging_Instrument_Parameters", "semi_major_radius",
                     "information_model_version", "not found next to the label"):
        assert expected in joined
    assert len(errors) == 6


def test_schematron_subset_is_substantial() -> None:
    checked, total = schematron_coverage()
    assert total > 700 and checked > 400


def test_count_products(good_label, tmp_path, data_dir) -> None:
    (tmp_path / "sub").mkdir()
    shutil.copy(data_dir / "psa-derived" / "MY36_015782_024_0_PAN_cropped.xml", tmp_path / "sub")
    (tmp_path / "sub" / "q.jpg").write_bytes(b"\xff\xd8")
    (tmp_path / "sub" / "c.png").write_bytes(b"\x89PNG")
    (tmp_path / "sub" / "m.tif").write_bytes(b"II*\x00")
    (tmp_path / "sub" / "junk.xml").write_text("<a/>")
    (tmp_path / "sub" / "broken.xml").write_text("<a")
    counts = count_products(tmp_path)
    assert counts == {"label": 2, "dat": 1, "geotiff": 1, "png": 1, "jpg": 1,
                      "level:calibrated": 1, "level:derived": 1}


def test_flown_psa_axis_order_is_transposed(data_dir) -> None:
    """The PSA label lists Sample (500) as axis 1 and Line (3) as axis 2 with "Last Index
    Fastest", which declares lines fastest: pds4_tools reads a 500 x 3 array. The bytes are
    samples fastest (ISIS cube order): there is no period-3 structure along the file, the
    fill run is a prefix of line 1, and lines 2 and 3 are fully valid. We write Line = axis 1.
    """
    import warnings

    import pds4_tools

    a = np.fromfile(data_dir / "psa-derived" / "MY36_015782_024_0_PAN_cropped.dat", "<f4")
    valid = (a > -1e30).reshape(3, 500)
    assert valid[1:].all() and valid[0, 347:].all() and not valid[0, :347].any()
    v = a[500:].astype(np.float64)
    lag = {k: np.abs(v[k:] - v[:-k]).mean() for k in (2, 3, 4)}
    assert lag[3] > 0.9 * min(lag[2], lag[4])  # no dip at 3: rows are not 3 samples wide
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = pds4_tools.read(str(data_dir / "psa-derived" / "MY36_015782_024_0_PAN_cropped.xml"),
                            lazy_load=True, quiet=True)
        assert s[0].data.shape == (500, 3)
