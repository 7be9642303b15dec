"""The Schematron -> XSLT compiler run by Saxon-HE: ISO semantics on a small schema (first
matching rule per pattern, lets, reports, roles, value-of) and the vendored PDS4 rules on real
and broken labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from cassis_pipe.archive.checks import label_errors
from cassis_pipe.archive.schematron import (
    SchematronError,
    compile_schematron,
    validate_schematron,
)
from cassis_pipe.products.validate import SCHEMA_DIR

pytest.importorskip("saxonche")

SCH = b"""<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <sch:ns prefix="t" uri="urn:test"/>
  <sch:let name="limit" value="10"/>
  <sch:pattern>
    <sch:rule context="t:item[@kind = 'special']">
      <sch:assert test="xs:integer(t:n) lt 100">special n too big</sch:assert>
    </sch:rule>
    <sch:rule context="t:item">
      <sch:let name="n" value="xs:integer(t:n)"/>
      <sch:assert test="$n le $limit">n = <sch:value-of select="$n"/> above <sch:value-of
        select="$limit"/></sch:assert>
      <sch:report test="every $w in tokenize(t:w, ',') satisfies $w = ('a', 'b')"
        role="warning">only a/b words in <sch:name/></sch:report>
    </sch:rule>
  </sch:pattern>
  <sch:pattern>
    <sch:rule context="t:item/@kind">
      <sch:assert test=". = ('plain', 'special')">kind <sch:value-of select="."/></sch:assert>
    </sch:rule>
  </sch:pattern>
</sch:schema>"""


def _run(tmp_path: Path, doc: bytes) -> list:
    sch = tmp_path / "t.sch"
    sch.write_bytes(SCH)
    return validate_schematron(doc, [sch])


def test_iso_rule_semantics(tmp_path: Path) -> None:
    doc = (b'<r xmlns="urn:test"><item kind="special"><n>50</n><w>a,b</w></item>'
           b'<item kind="plain"><n>12</n><w>a,c</w></item>'
           b'<item kind="odd"><n>3</n><w>b</w></item></r>')
    res = _run(tmp_path, doc)
    got = [(r.role, r.message) for r in res]
    # item 1 is caught by the first rule only (n = 50 passes it; the generic rule must not
    # fire on it); item 2 breaks the limit; item 3 fires the warning report; @kind checked
    assert got == [("error", "n = 12 above 10"), ("warning", "only a/b words in item"),
                   ("error", "kind odd")]
    assert res[0].location.endswith("item[2]") and res[2].location.endswith("@kind")
    assert _run(tmp_path, doc.replace(b"<n>50</n>", b"<n>500</n>"))[0].message == \
        "special n too big"


def test_unsupported_schematron_refused() -> None:
    with pytest.raises(SchematronError, match="abstract"):
        compile_schematron(SCH.replace(b"<sch:pattern>", b'<sch:pattern abstract="true">', 1))
    with pytest.raises(SchematronError, match="sch:include"):
        compile_schematron(SCH.replace(b"<sch:pattern>", b'<sch:include href="x.sch"/>'
                                       b"<sch:pattern>", 1))
    with pytest.raises(SchematronError, match="queryBinding"):
        compile_schematron(SCH.replace(b'"xslt2"', b'"exslt"'))


def test_pds4_rules_on_real_labels(data_dir: Path, tmp_path: Path) -> None:
    # a flown PSA label of IM 1.15: the 1N00 (IM 1.23) rules find exactly the version
    psa = data_dir / "psa-derived" / "MY36_015782_024_0_PAN_cropped.xml"
    res = validate_schematron(psa.read_bytes(), [SCHEMA_DIR / "PDS4_PDS_1N00.sch"])
    assert [r.role for r in res] == ["error"]
    assert "information_model_version must be equal to the value '1.23.0.0'" in res[0].message
    # the delivery check refuses a label whose Schematron files it does not hold (the flown
    # label names the IM 1.15 and PSA dictionary rules), rather than skipping them
    errors, _ = label_errors(psa)
    assert "schematron PDS4_PSA_1F00_1300.sch named by the label is not vendored" in errors
