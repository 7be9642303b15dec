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


def pds_sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    """Child ``tag`` in the PDS4 core namespace, with ``text``."""
    el = etree.SubElement(parent, f"{{{PDS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def pds_root(tag: str) -> etree._Element:
    """Root element of a PDS4 core-only label (schemaLocation of the core XSD)."""
    root = etree.Element(f"{{{PDS}}}{tag}", nsmap={None: PDS, "xsi": XSI})
    xsd = f"https://pds.nasa.gov/pds4/pds/v1/{SCHEMA_FILES[PDS][0]}"
    root.set(f"{{{XSI}}}schemaLocation", f"{PDS} {xsd}")
    return root


def _identification(root: etree._Element, lid: str, vid: str, title: str, product_class: str,
                    history: Sequence[tuple[str, str, str]]) -> None:
    ia = pds_sub(root, "Identification_Area")
    pds_sub(ia, "logical_identifier", lid)
    pds_sub(ia, "version_id", vid)
    pds_sub(ia, "title", title)
    pds_sub(ia, "information_model_version", INFORMATION_MODEL_VERSION)
    pds_sub(ia, "product_class", product_class)
    ci = pds_sub(ia, "Citation_Information")
    pds_sub(ci, "publication_year", history[-1][0][:4])
    pds_sub(ci, "description", f"{title}, version {vid}.")
    mh = pds_sub(ia, "Modification_History")
    for date, version, text in history:
        md = pds_sub(mh, "Modification_Detail")
        pds_sub(md, "modification_date", date)
        pds_sub(md, "version_id", version)
        pds_sub(md, "description", text)


def serialise(root: etree._Element) -> bytes:
    """Label bytes: core Schematron xml-model instruction, 2-space indentation, UTF-8."""
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
    root = pds_root("Product_Collection")
    what = "browse" if name == "browse" else f"{level.lower()} data"
    _identification(root, f"{BUNDLE_LID}:{name}", vid,
                    f"ExoMars TGO CaSSIS {what} collection", "Product_Collection", history)
    coll = pds_sub(root, "Collection")
    pds_sub(coll, "collection_type", kind)
    pds_sub(coll, "description", f"CaSSIS {description}.")
    fa = pds_sub(root, "File_Area_Inventory")
    pds_sub(pds_sub(fa, "File"), "file_name", inventory_file)
    inv = pds_sub(fa, "Inventory")
    pds_sub(inv, "offset", "0").set("unit", "byte")
    pds_sub(inv, "parsing_standard_id", "PDS DSV 1")
    pds_sub(inv, "records", str(records))
    pds_sub(inv, "record_delimiter", "Carriage-Return Line-Feed")
    pds_sub(inv, "field_delimiter", "Comma")
    rd = pds_sub(inv, "Record_Delimited")
    pds_sub(rd, "fields", "2")
    pds_sub(rd, "groups", "0")
    for number, (fname, dtype, length) in enumerate(
            (("Member Status", "ASCII_String", "1"), ("LIDVID_LID", "ASCII_LIDVID_LID", "255")),
            start=1):
        fd = pds_sub(rd, "Field_Delimited")
        pds_sub(fd, "name", fname)
        pds_sub(fd, "field_number", str(number))
        pds_sub(fd, "data_type", dtype)
        pds_sub(fd, "maximum_field_length", length).set("unit", "byte")
    pds_sub(inv, "reference_type", "inventory_has_member_product")
    return serialise(root)


def bundle_label(vid: str, collections: Sequence[str], history: Sequence[tuple[str, str, str]]
                 ) -> bytes:
    """Product_Bundle label; ``collections`` are collection LIDVIDs (all Primary members)."""
    root = pds_root("Product_Bundle")
    _identification(root, BUNDLE_LID, vid, "ExoMars TGO CaSSIS bundle", "Product_Bundle",
                    history)
    b = pds_sub(root, "Bundle")
    pds_sub(b, "bundle_type", "Archive")
    pds_sub(b, "description", "Colour and Stereo Surface Imaging System (CaSSIS) data of the "
                           "ExoMars Trace Gas Orbiter, grouped into collections by "
                           "processing level.")
    for lidvid in collections:
        e = pds_sub(root, "Bundle_Member_Entry")
        pds_sub(e, "lidvid_reference", lidvid)
        pds_sub(e, "member_status", "Primary")
        kind = "browse" if lidvid.split("::")[0].endswith(":browse") else "data"
        pds_sub(e, "reference_type", f"bundle_has_{kind}_collection")
    return serialise(root)
