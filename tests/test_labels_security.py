"""Hostile XML must be refused with LabelError, never expanded or fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from cassis_pipe.labels import xmlsafe
from cassis_pipe.labels.bern import read_bern_label
from cassis_pipe.labels.pds4 import read_pds4_label
from cassis_pipe.labels.reader import read_label
from cassis_pipe.labels.xmlsafe import LabelError, load_xml

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Product_Observational [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Product_Observational><CaSSIS_Header><DERIVED_HEADER_DATA>
<Filter>&secret;</Filter></DERIVED_HEADER_DATA></CaSSIS_Header></Product_Observational>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Product_Observational><Identification_Area><title>&lol9;</title>
</Identification_Area></Product_Observational>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Product_Observational SYSTEM "http://127.0.0.1:9/evil.dtd">
<Product_Observational><Identification_Area/></Product_Observational>"""

PARAM_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<Product_Observational/>"""

HOSTILE = {
    "xxe": XXE,
    "billion_laughs": LAUGHS,
    "external_dtd": EXTERNAL_DTD,
    "param": PARAM_ENTITY,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("reader", [read_bern_label, read_pds4_label, read_label])
def test_hostile_labels_refused(tmp_path: Path, name: str, reader: object) -> None:
    path = tmp_path / f"{name}.xml"
    path.write_bytes(HOSTILE[name])
    with pytest.raises(LabelError, match=f"{name}.xml") as info:
        reader(path)  # type: ignore[operator]
    assert "unsafe XML" in info.value.reason


def test_oversize_label_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xmlsafe, "MAX_LABEL_BYTES", 100)
    path = tmp_path / "big.xml"
    path.write_bytes(b"<Product_Observational>" + b" " * 200 + b"</Product_Observational>")
    with pytest.raises(LabelError, match="larger than"):
        read_label(path)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"<a>",
        b"\xff\xfe\x00<",
        b"not xml at all",
        b'<?xml version="1.0" encoding="U-F-8"?><a/>',
    ],
)
def test_malformed_is_label_error(data: bytes) -> None:
    with pytest.raises(LabelError):
        load_xml(data, "bad.xml")
