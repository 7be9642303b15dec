"""Browse products of an observation: the PNG colour composites of the map products and the
JPG quick-looks of the calibrated swath (SpaceOps 2023 paper, 4: both go to the PSA), each
with a PDS4 ``Product_Browse`` label written at delivery time into collection ``browse``.

``<obs>_<A-B-C>.png`` (level2/products) is browse of the map products of filters A, B, C;
``<obs>_<F>.jpg`` (level1/quicklook) of the stitched strip(s) of filter F (else of the
calibrated framelets of F). Labels are deterministic: their modification date is the one of
the data products they show, never the delivery date, so an unchanged image and unchanged
data give byte-identical browse labels (and no new version).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from cassis_pipe.archive.bundle import BUNDLE_LID, pds_root, pds_sub, serialise
from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.pds4 import (
    IMG,
    INFORMATION_MODEL_VERSION,
    PDS,
    parse_label,
)

_NS = {"pds": PDS, "img": IMG}


@dataclass(frozen=True)
class _Data:
    lid: str
    filter_name: str
    date: str


def _data_labels(directory: Path) -> list[_Data]:
    out = []
    for p in sorted(directory.glob("*.xml")):
        try:
            root = parse_label(p).getroot()
        except ProductError:
            continue  # reported by the product checks
        out.append(_Data(root.findtext("pds:Identification_Area/pds:logical_identifier", "",
                                       _NS).strip(),
                         root.findtext(".//img:Optical_Filter/img:filter_name", "", _NS).strip(),
                         root.findtext(".//pds:Modification_Detail/pds:modification_date", "",
                                       _NS).strip()))
    return out


def browse_label(image: Path, lid: str, title: str, data: list[_Data]) -> bytes:
    """Product_Browse label of ``image`` (PNG or JPEG) showing the ``data`` products."""
    root = pds_root("Product_Browse")
    ia = pds_sub(root, "Identification_Area")
    pds_sub(ia, "logical_identifier", lid)
    pds_sub(ia, "version_id", "1.0")
    pds_sub(ia, "title", title)
    pds_sub(ia, "information_model_version", INFORMATION_MODEL_VERSION)
    pds_sub(ia, "product_class", "Product_Browse")
    md = pds_sub(pds_sub(ia, "Modification_History"), "Modification_Detail")
    pds_sub(md, "modification_date", max(d.date for d in data))
    pds_sub(md, "version_id", "1.0")
    pds_sub(md, "description", "Browse image written by the CaSSIS ground processing.")
    rl = pds_sub(root, "Reference_List")
    for d in data:
        ir = pds_sub(rl, "Internal_Reference")
        pds_sub(ir, "lid_reference", d.lid)
        pds_sub(ir, "reference_type", "browse_to_data")
    fa = pds_sub(root, "File_Area_Browse")
    pds_sub(pds_sub(fa, "File"), "file_name", image.name)
    enc = pds_sub(fa, "Encoded_Image")
    pds_sub(enc, "offset", "0").set("unit", "byte")
    pds_sub(enc, "object_length", str(image.stat().st_size)).set("unit", "byte")
    pds_sub(enc, "encoding_standard_id", "PNG" if image.suffix.lower() == ".png" else "JPEG")
    return serialise(root)


def write_browse(obs_dir: Path, out_dir: Path) -> list[Path]:
    """Write a browse label next to a copy of every composite / quick-look of
    ``results/<obs>`` into ``out_dir``; returns the labels. Images without the data products
    they show are skipped (nothing to browse)."""
    obs = obs_dir.name
    maps = {d.filter_name: d for d in _data_labels(obs_dir / "level2" / "products")}
    strips = _data_labels(obs_dir / "level1c" / "strips")
    frames = _data_labels(obs_dir / "level1" / "framelets")
    jobs: list[tuple[Path, str, list[_Data]]] = []
    for png in sorted((obs_dir / "level2" / "products").glob(f"{obs}_*-*.png")):
        combo = png.stem[len(obs) + 1:]
        data = [maps[f] for f in combo.split("-") if f in maps]
        if data and len(data) == len(combo.split("-")):
            jobs.append((png, f"CaSSIS map-projected colour composite {combo} {obs}", data))
    for jpg in sorted((obs_dir / "level1" / "quicklook").glob(f"{obs}_*.jpg")):
        f = jpg.stem[len(obs) + 1:]
        data = [d for d in strips if d.filter_name == f] or \
               [d for d in frames if d.filter_name == f]
        if data:
            jobs.append((jpg, f"CaSSIS calibrated swath quick-look {f} {obs}", data))
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = []
    for image, title, data in jobs:
        name = image.stem.lower()
        shutil.copyfile(image, out_dir / image.name)
        label = out_dir / f"{image.stem}.xml"
        label.write_bytes(browse_label(out_dir / image.name, f"{BUNDLE_LID}:browse:{name}",
                                       title, data))
        labels.append(label)
    return labels
