"""PDS4 bundle and collection labels and collection inventories of the CaSSIS PSA bundle.

Bundle ``urn:esa:psa:em16_tgo_cas`` (odes-cassis-overview: products grouped into collections
by processing level). Our product levels -> collections (docs/archive.md):

====================================  ==========================  =========================
results/<obs>/...                     PDS4 processing_level       collection
====================================  ==========================  =========================
level0/framelets  (``cas_raw_sc_``)   Raw                         ``data_raw``
(Bern level1a / level1, none yet)     Partially Processed         ``data_partially_processed``
level1/framelets  (``cas_cal_sc_``)   Calibrated (Bern level1c)   ``data_calibrated``
level1c/strips    (``…-sti``)         Calibrated (Bern stitched)  ``data_calibrated``
level2/products   (``<obs>_<FILTER>``)  Derived (map-projected)   ``data_derived``
level2/products ``*.png``, level1/quicklook ``*.jpg``   Product_Browse  ``browse``
====================================  ==========================  =========================

The inventory is the PDS4 delimited table: ``P,<lid>::<vid>`` per member, CR LF records.
Labels are deterministic (no wall-clock time: the modification date is the delivery date).
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from cassis_pipe.products.pds4 import INFORMATION_MODEL_VERSION, PDS, SCHEMA_FILES, XSI

BUNDLE_LID = "urn:esa:psa:em16_tgo_cas"
#: collection name -> (PDS4 processing_level of its members, description)
COLLECTIONS: dict[str, tuple[str, str]] = {
    "data_raw": ("Raw", "raw science data (decoded DN framelets)"),
    "data_partially_processed": ("Partially Processed",
                                 "science data with some but not all calibrations applied"),
    "data_calibrated": ("Calibrated",
                        "radiometrically calibrated framelets (level1c) and stitched strips"),
    "data_derived": ("Derived", "map-projected I/F products"),
    "browse": ("", "browse images: PNG colour composites of the map products and JPG "
                   "quick-looks of the calibrated swath"),
}


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{PDS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _root(tag: str) -> etree._Element:
    root = etree.Element(f"{{{PDS}}}{tag}", nsmap={None: PDS, "xsi": XSI})
    xsd = f"https://pds.nasa.gov/pds4/pds/v1/{SCHEMA_FILES[PDS][0]}"
    root.set(f"{{{XSI}}}schemaLocation", f"{PDS} {xsd}")
    return root


def _identification(root: etree._Element, lid: str, vid: str, title: str, product_class: str,
                    history: Sequence[tuple[str, str, str]]) -> None:
    ia = _sub(root, "Identification_Area")
    _sub(ia, "logical_identifier", lid)
    _sub(ia, "version_id", vid)
    _sub(ia, "title", title)
    _sub(ia, "information_model_version", INFORMATION_MODEL_VERSION)
    _sub(ia, "product_class", product_class)
    ci = _sub(ia, "Citation_Information")
    _sub(ci, "publication_year", history[-1][0][:4])
    _sub(ci, "description", f"{title}, version {vid}.")
    mh = _sub(ia, "Modification_History")
    for date, version, text in history:
        md = _sub(mh, "Modification_Detail")
        _sub(md, "modification_date", date)
        _sub(md, "version_id", version)
        _sub(md, "description", text)


def _serialise(root: etree._Element) -> bytes:
    tree = etree.ElementTree(root)
    pi = etree.ProcessingInstruction(
        "xml-model", f'href="https://pds.nasa.gov/pds4/pds/v1/{SCHEMA_FILES[PDS][1]}" '
        'schematypens="http://purl.oclc.org/dsdl/schematron"')
    pi.tail = "\n"
    root.addprevious(pi)
    etree.indent(tree, space="  ")
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", standalone=True) + b"\n"


def inventory_bytes(members: Sequence[tuple[str, str]]) -> bytes:
    """Inventory table: one ``<status>,<lidvid>`` record per (status P|S, lidvid), CR LF."""
    for status, lidvid in members:
        if status not in ("P", "S") or "::" not in lidvid or "," in lidvid:
            raise ValueError(f"bad inventory member {status!r}, {lidvid!r}")
    return "".join(f"{s},{lv}\r\n" for s, lv in members).encode("ascii")


def collection_label(name: str, vid: str, inventory_file: str, records: int,
                     history: Sequence[tuple[str, str, str]]) -> bytes:
    """Product_Collection label of ``data_<level>`` with its inventory file."""
    level, description = COLLECTIONS[name]
    kind = "Browse" if name == "browse" else "Data"
    root = _root("Product_Collection")
    what = "browse" if name == "browse" else f"{level.lower()} data"
    _identification(root, f"{BUNDLE_LID}:{name}", vid,
                    f"ExoMars TGO CaSSIS {what} collection", "Product_Collection", history)
    coll = _sub(root, "Collection")
    _sub(coll, "collection_type", kind)
    _sub(coll, "description", f"CaSSIS {description}.")
    fa = _sub(root, "File_Area_Inventory")
    _sub(_sub(fa, "File"), "file_name", inventory_file)
    inv = _sub(fa, "Inventory")
    _sub(inv, "offset", "0").set("unit", "byte")
    _sub(inv, "parsing_standard_id", "PDS DSV 1")
    _sub(inv, "records", str(records))
    _sub(inv, "record_delimiter", "Carriage-Return Line-Feed")
    _sub(inv, "field_delimiter", "Comma")
    rd = _sub(inv, "Record_Delimited")
    _sub(rd, "fields", "2")
    _sub(rd, "groups", "0")
    for number, (fname, dtype, length) in enumerate(
            (("Member Status", "ASCII_String", "1"), ("LIDVID_LID", "ASCII_LIDVID_LID", "255")),
            start=1):
        fd = _sub(rd, "Field_Delimited")
        _sub(fd, "name", fname)
        _sub(fd, "field_number", str(number))
        _sub(fd, "data_type", dtype)
        _sub(fd, "maximum_field_length", length).set("unit", "byte")
    _sub(inv, "reference_type", "inventory_has_member_product")
    return _serialise(root)


def bundle_label(vid: str, collections: Sequence[str], history: Sequence[tuple[str, str, str]]
                 ) -> bytes:
    """Product_Bundle label; ``collections`` are collection LIDVIDs (all Primary members)."""
    root = _root("Product_Bundle")
    _identification(root, BUNDLE_LID, vid, "ExoMars TGO CaSSIS bundle", "Product_Bundle",
                    history)
    b = _sub(root, "Bundle")
    _sub(b, "bundle_type", "Archive")
    _sub(b, "description", "Colour and Stereo Surface Imaging System (CaSSIS) data of the "
                           "ExoMars Trace Gas Orbiter, grouped into collections by "
                           "processing level.")
    for lidvid in collections:
        e = _sub(root, "Bundle_Member_Entry")
        _sub(e, "lidvid_reference", lidvid)
        _sub(e, "member_status", "Primary")
        kind = "browse" if lidvid.split("::")[0].endswith(":browse") else "data"
        _sub(e, "reference_type", f"bundle_has_{kind}_collection")
    return _serialise(root)
