"""Pre-delivery checks of one PDS4 label: XSD, full Schematron, files, references.

:func:`label_errors` = XML Schema (the vendored 1N00 XSDs, ``products.validate``) + every
Schematron rule of the ``.sch`` files the label names in its ``<?xml-model?>`` instructions
(mapped by file name to the vendored copies; the core ``PDS4_PDS_1N00.sch`` always), run by
:mod:`cassis_pipe.archive.schematron` + every ``File_Area_*`` file present next to the label.
:func:`references` lists the label's Internal_Reference targets for the resolver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from cassis_pipe.archive.schematron import SchematronError, validate_schematron
from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.pds4 import PDS, SCHEMA_FILES, parse_label
from cassis_pipe.products.validate import SCHEMA_DIR, validate_label

_NS = {"pds": PDS}
_CORE_SCH = SCHEMA_FILES[PDS][1]
_QNAME = re.compile(r"Q\{[^}]*\}")


@dataclass(frozen=True)
class LabelInfo:
    """What the delivery needs from a label: identity, class, files and references."""

    lid: str
    vid: str
    product_class: str
    processing_level: str
    files: tuple[str, ...]
    lid_refs: tuple[str, ...]
    lidvid_refs: tuple[str, ...]


def read_info(tree: etree._ElementTree) -> LabelInfo:
    """Identity, file names and references of a parsed label."""
    root = tree.getroot()
    ia = "pds:Identification_Area/pds:"
    files = tuple(e.text or "" for e in root.iterfind("./*/pds:File/pds:file_name", _NS))
    return LabelInfo(
        lid=(root.findtext(ia + "logical_identifier", "", _NS) or "").strip(),
        vid=(root.findtext(ia + "version_id", "", _NS) or "").strip(),
        product_class=etree.QName(root).localname,
        processing_level=(root.findtext(".//pds:Primary_Result_Summary/pds:processing_level",
                                        "", _NS) or "").strip(),
        files=files,
        lid_refs=tuple((e.text or "").strip() for e in root.iter(f"{{{PDS}}}lid_reference")),
        lidvid_refs=tuple((e.text or "").strip()
                          for e in root.iter(f"{{{PDS}}}lidvid_reference")),
    )


def schematron_files(tree: etree._ElementTree) -> tuple[list[Path], list[str]]:
    """Vendored ``.sch`` files named by the label's xml-model instructions (+ the core one),
    and errors for Schematron files we do not hold."""
    names = {_CORE_SCH}
    errors = []
    node = tree.getroot().getprevious()
    while node is not None:
        if isinstance(node, etree._ProcessingInstruction) and node.target == "xml-model":
            href = re.search(r'href="([^"]+)"', node.text or "")
            if href and "schematron" in (node.text or ""):
                name = href.group(1).rsplit("/", 1)[-1]
                if (SCHEMA_DIR / name).is_file():
                    names.add(name)
                else:
                    errors.append(f"schematron {name} named by the label is not vendored")
        node = node.getprevious()
    return [SCHEMA_DIR / n for n in sorted(names)], errors


def label_errors(path: Path) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the label at ``path``: XSD, Schematron, files next to it."""
    try:
        tree = parse_label(path)
    except ProductError as exc:
        return [str(exc)], []
    # XSD + array/file consistency of observational products (the simple Schematron subset
    # of products.validate is superseded by the full run below)
    errors = [e for e in validate_label(path) if not e.startswith("schematron ")]
    schs, errs = schematron_files(tree)
    errors += errs
    warnings: list[str] = []
    try:
        results = validate_schematron(etree.tostring(tree, encoding="UTF-8"), schs)
    except SchematronError as exc:
        return errors + [f"schematron could not run: {exc}"], warnings
    for r in results:
        text = f"schematron {r.schema} at {_QNAME.sub('', r.location)}: {r.message}"
        (warnings if r.role == "warning" else errors).append(text)
    for name in read_info(tree).files:
        if not name or "/" in name or "\\" in name:
            errors.append(f"file_name {name!r} is not a bare file name")
        elif not (path.parent / name).is_file():
            errors.append(f"file {name!r} named in the File_Area is missing")
    return sorted(set(errors), key=errors.index), warnings
