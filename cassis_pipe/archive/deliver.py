"""PDS4 delivery of chosen observations to the archive (PSA bundle ``urn:esa:psa:em16_tgo_cas``).

``deliver(results_dir, observations, deliveries_root, date)`` writes
``<deliveries_root>/delivery_NNNN/`` with

- ``em16_tgo_cas/``: the files sent: ``bundle_em16_tgo_cas_vM_m.xml``,
  ``<collection>/collection_<collection>_vM_m.{xml,csv}`` and the products under
  ``<collection>/<observation>/`` (label + data files);
- ``transfer_manifest.csv`` (every file sent, size, MD5; :mod:`.manifest`);
- ``delivery.json``: per product LID, version, files and source MD5s (the archive's holdings
  for later deliveries) and per observation delivered / unchanged / blocked with the reasons.

Nothing is sent unless every label of an observation passes XSD + Schematron + file checks,
its LIDVIDs are unique and every reference resolves within the delivery, the previous
deliveries or the known context products; a failing observation is blocked with its reasons
and the others are delivered. Redelivery after reprocessing: a product whose data files
changed gets the next major version (1.0 -> 2.0), one whose label alone changed the next minor
version (1.0 -> 1.1); files of a new version carry ``_vM_m`` in their names, so nothing already
in the archive is ever overwritten. Unchanged products are not sent again.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from cassis_pipe.archive.browse import write_browse
from cassis_pipe.archive.bundle import (
    BUNDLE_LID,
    COLLECTIONS,
    bundle_label,
    collection_label,
    inventory_bytes,
)
from cassis_pipe.archive.checks import label_errors, read_info
from cassis_pipe.archive.manifest import manifest_rows, md5_file, write_manifest
from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.pds4 import PDS, parse_label

#: product folders of results/<obs>/, in processing order
PRODUCT_DIRS = ("level0/framelets", "level1/framelets", "level1b/assembled", "level1c/strips",
                "level2/products")
#: context products the archive holds (references to them resolve)
CONTEXT_LIDS = ("urn:esa:psa:context:investigation:mission.em16",
                "urn:esa:psa:context:instrument_host:spacecraft.tgo",
                "urn:esa:psa:context:instrument:tgo.cassis",
                "urn:nasa:pds:context:target:planet.mars")
TOP = BUNDLE_LID.rsplit(":", 1)[-1]
_NS = {"pds": PDS}


class DeliveryError(RuntimeError):
    """The delivery as a whole cannot be made (bad arguments, broken bundle labels)."""


def _vid(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise ValueError(f"version_id {text!r} is not M.n")
    return int(major), int(minor)


def _vstr(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


@dataclass
class Holdings:
    """What the archive holds from previous deliveries (their ``delivery.json``)."""

    products: dict[str, dict] = field(default_factory=dict)  # lid -> latest record
    lidvids: set[str] = field(default_factory=set)
    collections: dict[str, str] = field(default_factory=dict)  # collection -> latest vid
    bundle_vid: str | None = None
    deliveries: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, root: Path) -> Holdings:
        h = cls()
        for f in sorted(root.glob("delivery_*/delivery.json")):
            d = json.loads(f.read_text())
            h.deliveries.append(d["delivery"])
            for rec in d["products"]:
                h.products[rec["lid"]] = rec
                h.lidvids.add(f"{rec['lid']}::{rec['vid']}")
            for name, vid in d["collections"].items():
                h.collections[name] = vid
                h.lidvids.add(f"{BUNDLE_LID}:{name}::{vid}")
            if d.get("bundle_vid"):
                h.bundle_vid = d["bundle_vid"]
                h.lidvids.add(f"{BUNDLE_LID}::{d['bundle_vid']}")
        return h

    def members(self, collection: str) -> dict[str, str]:
        """lid -> latest vid of the collection's products."""
        return {lid: r["vid"] for lid, r in self.products.items()
                if r["collection"] == collection}


@dataclass
class Product:
    """One product of an observation on its way into the delivery."""

    obs: str
    source: Path
    lid: str
    vid: str
    collection: str
    data_md5: dict[str, str]
    label_md5: str
    change: str  # "new", "data", "label"
    files: dict[str, str] = field(default_factory=dict)  # delivery-relative path -> md5
    label_rel: str = ""
    lid_refs: tuple[str, ...] = ()
    lidvid_refs: tuple[str, ...] = ()


@dataclass
class DeliveryReport:
    """Outcome of :func:`deliver`."""

    delivery: str | None
    delivered: dict[str, int] = field(default_factory=dict)   # obs -> products sent
    unchanged: dict[str, int] = field(default_factory=dict)   # obs -> products not resent
    blocked: dict[str, list[str]] = field(default_factory=dict)  # obs -> reasons
    warnings: dict[str, list[str]] = field(default_factory=dict)
    path: Path | None = None


def _collection_of(lid: str, level: str, name: str, product_class: str
                   ) -> tuple[str | None, str | None]:
    parts = lid.split(":")
    if len(parts) != 6 or ":".join(parts[:4]) != BUNDLE_LID:
        return None, f"{name}: LID {lid!r} is not a product of bundle {BUNDLE_LID}"
    coll = parts[4]
    if coll not in COLLECTIONS:
        return None, f"{name}: LID collection {coll!r} is not one of {sorted(COLLECTIONS)}"
    if (coll == "browse") != (product_class == "Product_Browse"):
        return None, f"{name}: a {product_class} does not belong in collection {coll}"
    if coll != "browse" and COLLECTIONS[coll][0] != level:
        return None, (f"{name}: processing_level {level!r} does not belong in collection "
                      f"{coll} ({COLLECTIONS[coll][0]})")
    return coll, None


def _versioned(name: str, vid: str) -> str:
    stem, dot, ext = name.rpartition(".")
    suffix = "_v" + vid.replace(".", "_")
    return f"{stem}{suffix}.{ext}" if dot else name + suffix


def _scan(results_dir: Path, obs: str, held: Holdings, browse_dir: Path
          ) -> tuple[list[Product], int, list[str]]:
    """Products of ``obs`` that need sending, count of unchanged ones, and scan errors;
    browse labels are written into ``browse_dir`` first."""
    base = results_dir / obs
    if not base.is_dir():
        return [], 0, [f"no results directory {base}"]
    out, errors, unchanged = [], [], 0
    labels = [p for d in PRODUCT_DIRS for p in sorted((base / d).glob("*.xml"))]
    if not labels:
        errors.append(f"no PDS4 product labels under {base}/{{{','.join(PRODUCT_DIRS)}}}")
    labels += write_browse(base, browse_dir)
    for label in labels:
        try:
            info = read_info(parse_label(label))
        except ProductError as exc:
            errors.append(str(exc))
            continue
        coll, err = _collection_of(info.lid, info.processing_level, label.name,
                                   info.product_class)
        if err:
            errors.append(err)
            continue
        data = {n: md5_file(label.parent / n) for n in info.files
                if n and "/" not in n and (label.parent / n).is_file()}
        lmd5 = md5_file(label)
        prev = held.products.get(info.lid)
        if prev is None:
            vid, change = info.vid, "new"
        elif prev["data_md5"] == data and prev["label_md5"] == lmd5:
            unchanged += 1
            continue
        else:
            major, minor = _vid(prev["vid"])
            change = "data" if prev["data_md5"] != data else "label"
            vid = _vstr((major + 1, 0) if change == "data" else (major, minor + 1))
        out.append(Product(obs, label, info.lid, vid, coll, data, lmd5, change,
                           lid_refs=info.lid_refs, lidvid_refs=info.lidvid_refs))
    return out, unchanged, errors


def _stage(p: Product, dest: Path, date: str) -> None:
    """Copy the product into ``dest`` (label rewritten for a new version)."""
    dest.mkdir(parents=True, exist_ok=True)
    tree = parse_label(p.source)
    names = {n: n for n in p.data_md5}
    label_name = p.source.name
    if p.change != "new":
        names = {n: _versioned(n, p.vid) for n in p.data_md5}
        label_name = _versioned(label_name, p.vid)
        root = tree.getroot()
        ia = root.find("pds:Identification_Area", _NS)
        ia.find("pds:version_id", _NS).text = p.vid
        mh = ia.find("pds:Modification_History", _NS)
        if mh is None:
            raise DeliveryError(f"{p.source.name}: no Modification_History to record {p.vid}")
        md = etree.SubElement(mh, f"{{{PDS}}}Modification_Detail")
        for tag, text in (("modification_date", date), ("version_id", p.vid),
                          ("description", "Reprocessed: data changed." if p.change == "data"
                           else "Reprocessed: label changed, data unchanged.")):
            etree.SubElement(md, f"{{{PDS}}}{tag}").text = text
        for fn in root.iterfind("./*/pds:File/pds:file_name", _NS):
            fn.text = names.get(fn.text or "", fn.text)
        etree.indent(tree, space="  ")
        (dest / label_name).write_bytes(
            etree.tostring(tree, xml_declaration=True, encoding="UTF-8", standalone=True) + b"\n")
    else:
        shutil.copyfile(p.source, dest / label_name)
    for src, dst in names.items():
        shutil.copyfile(p.source.parent / src, dest / dst)
    for name in [label_name, *names.values()]:
        rel = (dest / name).relative_to(dest.parents[2]).as_posix()  # em16_tgo_cas/...
        p.files[rel] = md5_file(dest / name)
    p.label_rel = (dest / label_name).relative_to(dest.parents[2]).as_posix()


def _resolve(products: dict[str, list[Product]], held: Holdings, context: set[str],
             blocked: dict[str, list[str]]) -> None:
    """Block observations with dangling references until every remaining reference resolves
    (a blocked observation can leave references of another one dangling)."""
    while True:
        live = [p for o, ps in products.items() if o not in blocked for p in ps]
        lids = set(held.products) | context | {p.lid for p in live}
        lidvids = held.lidvids | {f"{p.lid}::{p.vid}" for p in live}
        changed = False
        for obs, ps in products.items():
            if obs in blocked:
                continue
            bad = [f"{p.source.name}: lid_reference {r} resolves to no product"
                   for p in ps for r in p.lid_refs if r not in lids]
            bad += [f"{p.source.name}: lidvid_reference {r} resolves to no product"
                    for p in ps for r in p.lidvid_refs if r not in lidvids]
            if bad:
                blocked[obs] = bad
                changed = True
        if not changed:
            return


def _check_staged(delivery_dir: Path, ps: list[Product], warnings: list[str]) -> list[str]:
    """Errors of the staged labels (what is sent); warnings are collected."""
    errors = []
    for p in ps:
        label = delivery_dir / p.label_rel
        errs, warns = label_errors(label)
        errors += [f"{label.name}: {e}" for e in errs]
        warnings += [f"{label.name}: {w}" for w in warns]
    return errors


def _next_major(vid: str | None) -> str:
    return "1.0" if vid is None else _vstr((_vid(vid)[0] + 1, 0))


def _write_collections(stage: Path, held: Holdings, live: list[Product], date: str,
                       tag: str) -> dict[str, str]:
    """Collection labels + inventories of every collection with new members; returns
    collection -> new vid."""
    out = {}
    for coll in COLLECTIONS:
        new = {p.lid: p.vid for p in live if p.collection == coll}
        if not new:
            continue
        members = held.members(coll) | new
        vid = _next_major(held.collections.get(coll))
        v = vid.replace(".", "_")
        d = stage / TOP / coll
        d.mkdir(parents=True, exist_ok=True)
        inv = f"collection_{coll}_v{v}.csv"
        (d / inv).write_bytes(inventory_bytes([("P", f"{lid}::{members[lid]}")
                                               for lid in sorted(members)]))
        (d / f"collection_{coll}_v{v}.xml").write_bytes(
            collection_label(coll, vid, inv, len(members), [(date, vid, tag)]))
        out[coll] = vid
    return out


def deliver(results_dir: Path, observations: list[str], deliveries_root: Path, date: str,
            context_lids: tuple[str, ...] = CONTEXT_LIDS) -> DeliveryReport:
    """Build the next delivery of ``observations`` (see the module docstring). ``date``
    (YYYY-MM-DD) is written as modification date; no other clock is read."""
    if len(date) != 10 or date[4] != "-" or date[7] != "-":
        raise DeliveryError(f"date must be YYYY-MM-DD, got {date!r}")
    deliveries_root.mkdir(parents=True, exist_ok=True)
    held = Holdings.load(deliveries_root)
    name = f"delivery_{len(held.deliveries) + 1:04d}"
    report = DeliveryReport(name)
    stage = deliveries_root / f".{name}.partial"
    shutil.rmtree(stage, ignore_errors=True)
    products: dict[str, list[Product]] = {}
    seen: dict[str, str] = {}  # lidvid -> obs
    for obs in dict.fromkeys(observations):
        ps, unchanged, errors = _scan(results_dir, obs, held, stage / ".sources" / obs)
        report.unchanged[obs] = unchanged
        for p in ps:
            lv = f"{p.lid}::{p.vid}"
            if lv in seen:
                errors.append(f"{p.source.name}: LIDVID {lv} also in {seen[lv]}")
            elif lv in held.lidvids:
                errors.append(f"{p.source.name}: LIDVID {lv} already in the archive")
            seen.setdefault(lv, obs)
        warnings: list[str] = []
        if not errors:
            for p in ps:
                _stage(p, stage / TOP / p.collection / obs, date)
            errors = _check_staged(stage, ps, warnings)
        if errors:
            report.blocked[obs] = errors
        report.warnings[obs] = warnings
        products[obs] = ps
    _resolve(products, held, set(context_lids), report.blocked)
    for obs in report.blocked:
        for coll in COLLECTIONS:
            shutil.rmtree(stage / TOP / coll / obs, ignore_errors=True)
    live = [p for o, ps in products.items() if o not in report.blocked for p in ps]
    report.delivered = {o: len(ps) for o, ps in products.items()
                        if o not in report.blocked and ps}
    if not live:
        shutil.rmtree(stage, ignore_errors=True)
        report.delivery = None
        return report
    tag = f"Delivered in {name}."
    colls = _write_collections(stage, held, live, date, tag)
    bundle_vid = _next_major(held.bundle_vid)
    all_colls = held.collections | colls
    (stage / TOP / f"bundle_{TOP}_v{bundle_vid.replace('.', '_')}.xml").write_bytes(
        bundle_label(bundle_vid, [f"{BUNDLE_LID}:{c}::{v}" for c, v in sorted(all_colls.items())],
                     [(date, bundle_vid, tag)]))
    for f in sorted((stage / TOP).glob("**/collection_*.xml")) + \
            sorted((stage / TOP).glob("bundle_*.xml")):
        errs, _ = label_errors(f)
        if errs:
            raise DeliveryError(f"{f.name} does not validate: {errs}")
    shutil.rmtree(stage / ".sources", ignore_errors=True)
    write_manifest(stage, manifest_rows(stage, TOP))
    record = {"delivery": name, "date": date, "bundle_vid": bundle_vid, "collections": colls,
              "observations": {"delivered": report.delivered, "unchanged": report.unchanged,
                               "blocked": report.blocked},
              "products": [{"lid": p.lid, "vid": p.vid, "collection": p.collection,
                            "observation": p.obs, "change": p.change, "label": p.label_rel,
                            "files": p.files, "data_md5": p.data_md5, "label_md5": p.label_md5}
                           for p in live]}
    (stage / "delivery.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    final = deliveries_root / name
    stage.rename(final)
    report.path = final
    return report
