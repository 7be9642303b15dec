"""Offline validation of PDS4 labels against the vendored 1N00 schemas, plus product checks.

``validate_label(path)`` returns a list of error strings (empty = valid). Three layers:

1. XML Schema (XSD 1.0) with lxml: every namespace is mapped to its local file in ``schemas/``;
   remote ``schemaLocation`` URLs are never fetched (a resolver maps them by file name, anything
   else resolves to nothing; the parser has ``no_network=True``).
2. The simple Schematron rules of the vendored ``.sch`` files: enumerated values
   (``. = ('a', 'b')``, ``@unit = (...)``, ``if (x) then x = (...) else true()``,
   ``every $ref in (x) satisfies $ref = (...)``) on plain path contexts. The rest of the
   Schematron (XSLT 2 / XPath 2 expressions) is not evaluated; :func:`schematron_coverage` says
   how many asserts are checked.
3. Product consistency: the data file exists next to the label, arrays fit in it (offset +
   lines x samples x item size), axes are numbered 1..n, local references resolve.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from lxml import etree

from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.pds4 import PDS, SCHEMA_FILES, parse_label

SCHEMA_DIR = Path(__file__).parent / "schemas"
GEOM = "http://pds.nasa.gov/pds4/geom/v1"
_ALL_SCHEMAS: dict[str, str] = {ns: f[0] for ns, f in SCHEMA_FILES.items()} | {
    GEOM: "PDS4_GEOM_1N00_1980.xsd"
}
_SCH = "http://purl.oclc.org/dsdl/schematron"
_ITEM_BYTES = {
    "UnsignedByte": 1, "SignedByte": 1, "UnsignedLSB2": 2, "UnsignedMSB2": 2, "SignedLSB2": 2,
    "SignedMSB2": 2, "UnsignedLSB4": 4, "UnsignedMSB4": 4, "SignedLSB4": 4, "SignedMSB4": 4,
    "IEEE754LSBSingle": 4, "IEEE754MSBSingle": 4, "IEEE754LSBDouble": 8, "IEEE754MSBDouble": 8,
}


class _LocalSchemas(etree.Resolver):
    """Resolve any schema URL whose file name is vendored to the local copy; deny the rest."""

    def resolve(self, system_url, public_id, context):  # noqa: ANN001, ANN201 - lxml API
        name = (system_url or "").rsplit("/", 1)[-1]
        local = SCHEMA_DIR / name
        if name and local.is_file():
            return self.resolve_filename(str(local), context)
        return self.resolve_string(b"", context)


@lru_cache(maxsize=1)
def _xml_schema() -> etree.XMLSchema:
    imports = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{(SCHEMA_DIR / f).as_uri()}"/>'
        for ns, f in _ALL_SCHEMAS.items()
    )
    driver = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        f'targetNamespace="urn:cassis-pipe:schema-driver">{imports}</xs:schema>'
    ).encode()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.resolvers.add(_LocalSchemas())
    doc = etree.fromstring(driver, parser, base_url=(SCHEMA_DIR / "driver.xsd").as_uri())
    return etree.XMLSchema(etree.ElementTree(doc))


_NAME = r"[A-Za-z_][\w.-]*:[\w.-]+"
_CONTEXT_RE = re.compile(rf"^(?://)?{_NAME}(?:/{_NAME})*$")
_VALS = r"\(\s*'[^']*'(?:\s*,\s*'[^']*')*\s*\)|'[^']*'"
_LHS = rf"\.|@[\w]+|{_NAME}"
_TESTS = (
    re.compile(rf"^(?P<lhs>{_LHS}) = (?P<vals>{_VALS})$"),
    re.compile(
        rf"^if \((?P<cond>{_LHS})\) then (?P<lhs>{_LHS}) = (?P<vals>{_VALS}) else true\(\)$"
    ),
    re.compile(rf"^every \$ref in \((?P<lhs>{_LHS})\) satisfies \$ref = (?P<vals>{_VALS})$"),
)


@lru_cache(maxsize=1)
def _schematron_rules() -> tuple[tuple[tuple[str, str, str, str, tuple[str, ...], dict], ...],
                                 int]:
    """(rules, total asserts): rule = (sch file, xpath context, kind, lhs, values, nsmap)."""
    rules = []
    total = 0
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for _, (_, sch_name) in sorted(SCHEMA_FILES.items()):
        doc = etree.parse(str(SCHEMA_DIR / sch_name), parser)
        nsmap = {n.get("prefix"): n.get("uri") for n in doc.iterfind(f"{{{_SCH}}}ns")}
        for rule in doc.iter(f"{{{_SCH}}}rule"):
            for a in rule.iterfind(f"{{{_SCH}}}assert"):
                total += 1
                ctx = rule.get("context", "")
                if rule.get("role") == "warning" or not _CONTEXT_RE.match(ctx):
                    continue
                test = " ".join(a.get("test", "").split())
                for kind, rx in enumerate(_TESTS):
                    m = rx.match(test)
                    if m and (kind != 1 or m.group("cond") == m.group("lhs")):
                        vals = tuple(re.findall(r"'([^']*)'", m.group("vals")))
                        xp = "//" + ctx.lstrip("/")
                        rules.append((sch_name, xp, ("eq", "if", "every")[kind],
                                      m.group("lhs"), vals, nsmap))
                        break
    return tuple(rules), total


def schematron_coverage() -> tuple[int, int]:
    """(asserts evaluated, asserts in the vendored Schematron files)."""
    rules, total = _schematron_rules()
    return len(rules), total


def _lhs_values(node: etree._Element, lhs: str, nsmap: dict) -> list[str]:
    if lhs == ".":
        return ["".join(node.itertext()).strip()]
    if lhs.startswith("@"):
        v = node.get(lhs[1:])
        return [] if v is None else [v.strip()]
    return ["".join(n.itertext()).strip() for n in node.xpath(lhs, namespaces=nsmap)]


def _check_schematron(tree: etree._ElementTree) -> list[str]:
    errors = []
    rules, _ = _schematron_rules()
    present = {el.tag.split("}")[0][1:] for el in tree.iter() if isinstance(el.tag, str)}
    for sch, ctx, kind, lhs, vals, nsmap in rules:
        if not any(nsmap.get(p) in present for p in re.findall(r"([\w]+):", ctx)):
            continue
        for node in tree.xpath(ctx, namespaces=nsmap):
            got = _lhs_values(node, lhs, nsmap)
            if kind == "eq":
                ok = any(v in vals for v in got)
            elif kind == "if":
                ok = not got or any(v in vals for v in got)
            else:
                ok = all(v in vals for v in got)
            if not ok:
                errors.append(
                    f"schematron {sch} line {node.sourceline}: {ctx.lstrip('/')} {lhs} = "
                    f"{got or 'missing'} not in {list(vals)}"
                )
    return errors


def _check_files(tree: etree._ElementTree, label_dir: Path) -> list[str]:
    ns = {"pds": PDS}
    errors = []
    ids = {e.text for e in tree.iterfind(".//pds:local_identifier", ns)}
    for ref in tree.iterfind(".//pds:local_identifier_reference", ns):
        if ref.text not in ids:
            errors.append(f"line {ref.sourceline}: local_identifier_reference {ref.text!r} "
                          "has no matching local_identifier")
    for fa in tree.iterfind(".//pds:File_Area_Observational", ns):
        name = fa.findtext("pds:File/pds:file_name", "", ns)
        path = label_dir / name
        if not name or "/" in name or not path.is_file():
            errors.append(f"line {fa.sourceline}: data file {name!r} not found next to the label")
            continue
        size = path.stat().st_size
        for arr in fa:
            if not isinstance(arr.tag, str) or not arr.tag.startswith(f"{{{PDS}}}Array"):
                continue
            try:
                offset = int(arr.findtext("pds:offset", "", ns))
                dims = [int(a.findtext("pds:elements", "", ns))
                        for a in arr.iterfind("pds:Axis_Array", ns)]
                seqs = sorted(int(a.findtext("pds:sequence_number", "", ns))
                              for a in arr.iterfind("pds:Axis_Array", ns))
            except ValueError:
                errors.append(f"line {arr.sourceline}: non-integer offset/elements/sequence")
                continue
            if seqs != list(range(1, len(seqs) + 1)):
                errors.append(f"line {arr.sourceline}: axis sequence numbers {seqs} not 1..n")
            item = _ITEM_BYTES.get(arr.findtext("pds:Element_Array/pds:data_type", "", ns))
            if item is None:
                errors.append(f"line {arr.sourceline}: data_type not supported by the checker")
                continue
            need = offset
            n = 1
            for d in dims:
                n *= d
            need += n * item
            if need > size:
                errors.append(f"line {arr.sourceline}: array needs {need} bytes, "
                              f"{name} has {size}")
    return errors


def validate_label(path: str | Path, check_files: bool = True) -> list[str]:
    """Errors of the PDS4 label at ``path`` (XSD, simple Schematron rules, data file); [] = ok."""
    p = Path(path)
    try:
        tree = parse_label(p)
    except ProductError as exc:
        return [str(exc)]
    errors = []
    schema = _xml_schema()
    try:
        if not schema.validate(tree):
            errors += [f"xsd line {e.line}: {e.message}" for e in schema.error_log]
    except etree.XMLSchemaValidateError as exc:
        errors.append(f"xsd: validation aborted: {exc}")
    errors += _check_schematron(tree)
    if check_files:
        errors += _check_files(tree, p.parent)
    return errors


def count_products(directory: str | Path) -> dict[str, int]:
    """Count product files under ``directory`` (recursively) by kind.

    Keys: ``label`` (``*.xml`` whose root is a PDS4 ``Product_Observational``), ``dat``,
    ``geotiff`` (``*.tif``/``*.tiff``), ``png``, ``jpg`` (``*.jpg``/``*.jpeg``), and one
    ``level:<x>`` per collection found in the labels' logical identifiers
    (``urn:...:data_<x>:<name>``).
    """
    counts = {"label": 0, "dat": 0, "geotiff": 0, "png": 0, "jpg": 0}
    kinds = {".dat": "dat", ".tif": "geotiff", ".tiff": "geotiff", ".png": "png",
             ".jpg": "jpg", ".jpeg": "jpg"}
    for f in sorted(Path(directory).rglob("*")):
        if not f.is_file():
            continue
        suffix = f.suffix.lower()
        if suffix in kinds:
            counts[kinds[suffix]] += 1
        elif suffix == ".xml":
            try:
                root = parse_label(f).getroot()
            except ProductError:
                continue
            if root.tag != f"{{{PDS}}}Product_Observational":
                continue
            counts["label"] += 1
            lid = root.findtext(f"{{{PDS}}}Identification_Area/{{{PDS}}}logical_identifier", "")
            m = re.match(r"^urn:[^:]+:[^:]+:[^:]+:data_([a-z_]+):", lid)
            if m:
                key = f"level:{m.group(1)}"
                counts[key] = counts.get(key, 0) + 1
    return counts
