"""Safe XML loading for label readers: no DTDs, no entities, no network, bounded size.

Every failure (unreadable file, malformed XML, DTD/entity tricks, oversize input) is raised as
:class:`LabelError` carrying the file name, so callers deal with one exception type.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import defusedxml
import defusedxml.ElementTree as DET

#: Largest label we agree to parse, in bytes (real CaSSIS labels are < 64 KiB).
MAX_LABEL_BYTES = 16 * 1024 * 1024


class LabelError(ValueError):
    """A label (or the data file it describes) could not be read.

    ``source`` is the file name (or ``"<bytes>"``) and ``reason`` a short phrase.
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def check_xml_start(head: bytes, source: str) -> None:
    """Raise LabelError("not an XML label: ...") unless ``head`` (the first bytes of a file)
    starts, after an optional byte-order mark and white space, with ``<``. Catches data files
    (.dat, .bin, images) given where a label is expected before their size is even looked at."""
    for bom in _BOMS:
        if head.startswith(bom):
            return
    text = head.lstrip(b" \t\r\n")
    if text and not text.startswith(b"<"):
        raise LabelError(source, f"not an XML label: starts with bytes {text[:8].hex(' ')} "
                                 "instead of '<' (a data file?)")


def load_xml(data: bytes, source: str = "<bytes>") -> ET.Element:
    """Parse label bytes into an ElementTree root; DOCTYPE declarations are refused outright."""
    check_xml_start(data[:4096], source)
    if len(data) > MAX_LABEL_BYTES:
        raise LabelError(source, f"label larger than {MAX_LABEL_BYTES} bytes")
    if not data.strip():
        raise LabelError(source, "empty label")
    try:
        return DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise LabelError(source, f"unsafe XML refused ({type(exc).__name__})") from exc
    except ET.ParseError as exc:
        raise LabelError(source, f"malformed XML ({exc})") from exc
    except (ValueError, LookupError) as exc:  # bad or unknown encoding declaration
        raise LabelError(source, f"malformed XML ({exc})") from exc


def read_xml(path: str | Path) -> ET.Element:
    """Read and parse the label file at ``path`` (see :func:`load_xml`)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            check_xml_start(fh.read(4096), p.name)
        size = p.stat().st_size
        if size > MAX_LABEL_BYTES:
            raise LabelError(p.name, f"label larger than {MAX_LABEL_BYTES} bytes")
        data = p.read_bytes()
    except OSError as exc:
        raise LabelError(p.name, f"cannot read ({exc.strerror or exc})") from exc
    return load_xml(data, p.name)


def local(tag: object) -> str:
    """Tag name without its ``{namespace}`` prefix ('' for comments / processing instructions)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def children(elem: ET.Element | None, name: str) -> Iterator[ET.Element]:
    """Direct children of ``elem`` whose local name is ``name``."""
    if elem is None:
        return iter(())
    return (c for c in elem if local(c.tag) == name)


def child(elem: ET.Element | None, *path: str) -> ET.Element | None:
    """Follow a path of local names through direct children; None when any step is missing."""
    for name in path:
        if elem is None:
            return None
        elem = next(children(elem, name), None)
    return elem


def find(elem: ET.Element | None, name: str) -> ET.Element | None:
    """First descendant (depth-first) of ``elem`` with local name ``name``, or None."""
    if elem is None:
        return None
    for e in elem.iter():
        if local(e.tag) == name and e is not elem:
            return e
    return None


def find_all(elem: ET.Element | None, name: str) -> list[ET.Element]:
    """Every descendant of ``elem`` with local name ``name`` in document order."""
    if elem is None:
        return []
    return [e for e in elem.iter() if local(e.tag) == name and e is not elem]


def text(elem: ET.Element | None) -> str | None:
    """Stripped text of ``elem``; None for a missing element or empty text."""
    if elem is None or elem.text is None:
        return None
    s = elem.text.strip()
    return s or None


def to_float(s: str | None) -> float | None:
    """Float from label text, tolerant of padding; None when absent or not a number."""
    if s is None:
        return None
    try:
        return float(s.strip())
    except ValueError:
        return None


def to_int(s: str | None) -> int | None:
    """Decimal integer from label text; None when absent or not an integer."""
    if s is None:
        return None
    try:
        return int(s.strip())
    except ValueError:
        return None
