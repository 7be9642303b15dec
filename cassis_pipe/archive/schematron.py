"""Full ISO Schematron validation of PDS4 labels: our own Schematron -> XSLT 3.0 compiler, run
by Saxon-HE (``saxonche``, PyPI).

The PDS4 ``.sch`` files declare ``queryBinding="xslt2"`` (XPath 2 tests such as
``tokenize``, ``every ... satisfies``, ``eq``); lxml's Schematron is XSLT 1 only and the ISO
skeleton stylesheets are not shipped by any package we may install, so the ``.sch`` file is
translated here into an XSLT stylesheet (written with lxml, so every expression is escaped as
an attribute value, never pasted into markup):

- each ``sch:pattern`` becomes one XSLT mode; the nodes its rule contexts can match are
  selected from the root (relative match patterns prefixed with ``//``, each node once, in
  document order) and within a pattern the FIRST rule whose ``context`` matches a node fires
  (ISO rule order: template priorities decrease with the rule's position). This gives the
  same results as visiting every node once per pattern (checked on the sample deliveries and
  broken variants of them) at a fifteenth of the cost;
- ``sch:let`` (schema, pattern or rule level) becomes an ``xsl:variable`` in that scope;
- ``sch:assert`` fails when its ``test`` is false, ``sch:report`` when it is true; the message
  is the element's text with ``sch:value-of``/``sch:name`` evaluated, minus the PDS ``<title>``;
- ``role="warning"`` (or ``info``) results are warnings; everything else is an error.

The stylesheet writes ``<failed role= pattern= test= location=>message</failed>`` records;
``location`` is the XPath 3 ``path()`` of the node. Compiled stylesheets are cached per
process. Labels are parsed by lxml first (no DOCTYPE, no entities) and handed to Saxon as text.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
_OUT = "urn:cassis-pipe:schematron-result"
_WARNING_ROLES = {"warning", "warn", "info", "information"}


class SchematronError(RuntimeError):
    """A Schematron file cannot be compiled, or Saxon is missing or failed."""


@dataclass(frozen=True)
class SchematronResult:
    """One failed assert / successful report: ``role`` is ``error`` or ``warning``."""

    schema: str
    role: str
    test: str
    location: str
    message: str

    def __str__(self) -> str:
        return f"schematron {self.schema} {self.role} at {self.location}: {self.message} " \
               f"[test: {self.test}]"


def _x(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{XSL}}}{tag}")
    for k, v in attrs.items():
        el.set(k, v)
    return el


def _message(parent: etree._Element, node: etree._Element) -> None:
    """Copy the assert's message into ``parent`` as XSLT: text, value-of, name."""
    if node.text:
        _x(parent, "text").text = node.text
    for child in node:
        if child.tag == f"{{{SCH}}}value-of":
            _x(parent, "value-of", select=child.get("select", "."), separator=" ")
        elif child.tag == f"{{{SCH}}}name":
            _x(parent, "value-of", select=f"name({child.get('path', '.')})")
        elif isinstance(child.tag, str) and etree.QName(child).localname != "title":
            _x(parent, "value-of", select="()")  # other markup: keep only its tail
        if child.tail:
            _x(parent, "text").text = child.tail


def _lets(parent: etree._Element, owner: etree._Element) -> None:
    for let in owner.iterfind(f"{{{SCH}}}let"):
        if let.get("value") is None:
            raise SchematronError(f"sch:let {let.get('name')!r} without @value is not supported")
        _x(parent, "variable", name=let.get("name", ""), select=let.get("value", ""))


def _split_union(pattern: str) -> list[str]:
    """Top-level ``|`` alternatives of an XSLT match pattern (not inside [], () or quotes)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(pattern):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    return [p.strip() for p in [*parts, pattern[start:]]]


def _selector(pattern: str) -> str:
    """XPath selecting every node a match pattern matches: relative alternatives are taken
    from the root (``//``); absolute ones are already paths."""
    return " | ".join(p if p.startswith("/") else f"//{p}" for p in _split_union(pattern))


def compile_schematron(sch: bytes, name: str = "schema.sch") -> bytes:
    """XSLT 3.0 stylesheet (UTF-8 bytes) that validates a document against the Schematron."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(sch, parser)
    except etree.XMLSyntaxError as exc:
        raise SchematronError(f"{name}: not XML: {exc}") from exc
    if root.tag != f"{{{SCH}}}schema":
        raise SchematronError(f"{name}: root is not sch:schema")
    binding = root.get("queryBinding", "xslt")
    if binding not in ("xslt", "xslt2", "xslt3", "xpath2", "xpath3"):
        raise SchematronError(f"{name}: queryBinding {binding!r} not supported")
    for tag in ("include", "extends"):
        if root.find(f".//{{{SCH}}}{tag}") is not None:
            raise SchematronError(f"{name}: sch:{tag} is not supported")
    nsmap = {"xsl": XSL, "r": _OUT, "xs": "http://www.w3.org/2001/XMLSchema"}
    for ns in root.iterfind(f"{{{SCH}}}ns"):
        nsmap[ns.get("prefix")] = ns.get("uri")
    style = etree.Element(f"{{{XSL}}}stylesheet", nsmap=nsmap, version="3.0")
    style.set("exclude-result-prefixes", " ".join(p for p in nsmap if p != "r"))
    _x(style, "output", method="xml", indent="no")
    _lets(style, root)  # schema-level lets: global variables
    top = _x(style, "template", match="/")
    out = etree.SubElement(top, f"{{{_OUT}}}report")
    patterns = list(root.iterfind(f"{{{SCH}}}pattern"))
    for pi, pattern in enumerate(patterns):
        mode = f"p{pi}"
        contexts = [r.get("context") for r in pattern.iterfind(f"{{{SCH}}}rule")]
        if contexts and all(contexts):
            select = " | ".join(f"({_selector(c)})" for c in contexts)
            _x(out, "apply-templates", select=select, mode=mode)
        if pattern.get("abstract") == "true" or pattern.get("is-a"):
            raise SchematronError(f"{name}: abstract patterns are not supported")
        rules = list(pattern.iterfind(f"{{{SCH}}}rule"))
        for ri, rule in enumerate(rules):
            ctx = rule.get("context")
            if not ctx:
                raise SchematronError(f"{name}: rule without context (abstract rules unsupported)")
            t = _x(style, "template", match=ctx, mode=mode, priority=str(len(rules) - ri + 1))
            _lets(t, pattern)
            _lets(t, rule)
            rule_role = rule.get("role", "")
            for check in rule:
                kind = etree.QName(check).localname if isinstance(check.tag, str) else ""
                if check.tag not in (f"{{{SCH}}}assert", f"{{{SCH}}}report"):
                    continue
                test = check.get("test", "true()")
                cond = f"not({test})" if kind == "assert" else f"boolean({test})"
                role = (check.get("role") or rule_role).lower()
                role = "warning" if role in _WARNING_ROLES else "error"
                hit = _x(t, "if", test=cond)
                rec = etree.SubElement(hit, f"{{{_OUT}}}failed")
                rec.set("role", role)
                rec.set("test", test)
                _x(rec, "attribute", name="location", select="path(.)")
                _message(rec, check)
        _x(style, "template", match="@*|node()", mode=mode, priority="-10")  # no rule: nothing
    return etree.tostring(style, xml_declaration=True, encoding="UTF-8")


_LOCK = threading.Lock()
_PROC = None


def _processor():  # noqa: ANN202 - saxonche objects have no public type
    """One Saxon processor per process (SaxonC must not be released and re-created)."""
    global _PROC
    if _PROC is None:
        try:
            from saxonche import PySaxonProcessor
        except ImportError as exc:  # pragma: no cover - saxonche is a runtime dependency
            raise SchematronError("saxonche (Saxon-HE for Python) is not installed") from exc
        _PROC = PySaxonProcessor(license=False)
    return _PROC


@lru_cache(maxsize=16)
def _executable(sch: bytes, name: str):  # noqa: ANN202 - keyed by the Schematron's content
    xslt = compile_schematron(sch, name)
    proc = _processor()
    try:
        return proc.new_xslt30_processor().compile_stylesheet(stylesheet_text=xslt.decode())
    except Exception as exc:  # saxonche raises PySaxonApiError
        raise SchematronError(f"{name}: XSLT compile failed: {exc}") from exc


def validate_schematron(document: bytes, sch_paths: list[Path]) -> list[SchematronResult]:
    """Every failed assert / fired report of ``document`` (XML bytes, already parsed safely by
    the caller) against each Schematron file, in file and document order."""
    results: list[SchematronResult] = []
    with _LOCK:
        proc = _processor()
        try:
            node = proc.parse_xml(xml_text=document.decode("utf-8"))
        except Exception as exc:
            raise SchematronError(f"Saxon cannot parse the document: {exc}") from exc
        for sch in sch_paths:
            exe = _executable(Path(sch).read_bytes(), Path(sch).name)
            try:
                text = exe.transform_to_string(xdm_node=node)
            except Exception as exc:
                raise SchematronError(f"{sch.name}: transform failed: {exc}") from exc
            rep = etree.fromstring(text.encode(), etree.XMLParser(resolve_entities=False))
            for f in rep.iterfind(f"{{{_OUT}}}failed"):
                results.append(SchematronResult(sch.name, f.get("role", "error"),
                                                f.get("test", ""), f.get("location", ""),
                                                " ".join("".join(f.itertext()).split())))
    return results
