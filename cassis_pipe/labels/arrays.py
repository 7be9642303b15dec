"""Array geometry of a label's data file (PDS4 ``Array_*`` / Bern ``Array_2D_Image`` blocks).

Pure parsing of one XML element into :class:`ArrayGeometry`; the data-file reader is in dat.py.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np

from cassis_pipe.labels.xmlsafe import child, children, local, text, to_float, to_int

#: PDS4 data_type -> numpy dtype string (explicit byte order).
PDS4_DTYPES: dict[str, str] = {
    "IEEE754LSBSingle": "<f4",
    "IEEE754MSBSingle": ">f4",
    "IEEE754LSBDouble": "<f8",
    "IEEE754MSBDouble": ">f8",
    "UnsignedByte": "u1",
    "UnsignedLSB1": "u1",
    "SignedByte": "i1",
    "UnsignedLSB2": "<u2",
    "UnsignedMSB2": ">u2",
    "SignedLSB2": "<i2",
    "SignedMSB2": ">i2",
    "UnsignedLSB4": "<u4",
    "UnsignedMSB4": ">u4",
    "SignedLSB4": "<i4",
    "SignedMSB4": ">i4",
    "UnsignedLSB8": "<u8",
    "UnsignedMSB8": ">u8",
    "SignedLSB8": "<i8",
    "SignedMSB8": ">i8",
}

#: Axis names read as image axes, slowest first in the stored (band-sequential) layout.
_IMAGE_AXIS_ORDER = ("band", "line", "sample")


@dataclass(frozen=True, slots=True)
class Axis:
    """One ``Axis_Array``: name, number of elements and PDS4 sequence number (1-based)."""

    name: str
    elements: int
    sequence_number: int


@dataclass(frozen=True, slots=True)
class ArrayGeometry:
    """Layout of the binary array a label describes.

    ``offset_bytes`` is where the array starts in its file; ``special_constants`` maps PDS4
    names (missing_constant, high_representation_saturation, ...) to their values.
    """

    kind: str
    axes: tuple[Axis, ...]
    data_type: str | None
    axis_index_order: str | None
    offset_bytes: int = 0
    scaling_factor: float = 1.0
    value_offset: float = 0.0
    unit: str | None = None
    special_constants: dict[str, float] = field(default_factory=dict)

    @property
    def dtype(self) -> np.dtype | None:
        """numpy dtype with the label's byte order, or None for an unknown data_type."""
        code = PDS4_DTYPES.get(self.data_type or "")
        return np.dtype(code) if code else None

    @property
    def byte_order(self) -> str | None:
        """'little', 'big' or 'n/a' (single-byte types); None if the data_type is unknown."""
        dt = self.dtype
        if dt is None:
            return None
        return {"<": "little", ">": "big"}.get(dt.str[0], "n/a")

    @property
    def shape(self) -> tuple[int, ...]:
        """C-order numpy shape of the stored array.

        Axes named Band/Line/Sample are stored band-sequential with Sample fastest, whatever
        ``axis_index_order`` says (the ISIS exports label Sample as sequence 1 with "Last Index
        Fastest", yet their data are Sample-fastest, as ISIS itself reads them). Other axes
        follow the PDS4 rule: "Last Index Fastest" -> sequence order; "First Index Fastest" ->
        reversed.
        """
        axes = sorted(self.axes, key=lambda a: a.sequence_number)
        names = [a.name.strip().lower() for a in axes]
        if axes and all(n in _IMAGE_AXIS_ORDER for n in names) and len(set(names)) == len(names):
            ordered = sorted(axes, key=lambda a: _IMAGE_AXIS_ORDER.index(a.name.strip().lower()))
            return tuple(a.elements for a in ordered)
        order = (self.axis_index_order or "").replace("_", " ").lower()
        if order.startswith("first"):
            axes = axes[::-1]
        return tuple(a.elements for a in axes)

    @property
    def n_elements(self) -> int:
        """Number of array elements (product of the axis lengths)."""
        return math.prod(a.elements for a in self.axes) if self.axes else 0

    @property
    def n_bytes(self) -> int | None:
        """Size of the array in bytes, None if the data type is unknown."""
        dt = self.dtype
        return None if dt is None else self.n_elements * dt.itemsize


def parse_array(elem: ET.Element) -> ArrayGeometry:
    """Read an ``Array``/``Array_2D_Image``/``Array_3D_Image``... element (namespace-agnostic).

    Missing pieces become None/defaults; axis entries without an element count are skipped.
    """
    axes: list[Axis] = []
    for i, ax in enumerate(children(elem, "Axis_Array")):
        n = to_int(text(child(ax, "elements")))
        if n is None:
            continue
        seq = to_int(text(child(ax, "sequence_number")))
        axes.append(Axis(text(child(ax, "axis_name")) or f"axis{i + 1}", n, seq or i + 1))
    ea = child(elem, "Element_Array")
    scale = to_float(text(child(ea, "scaling_factor")))
    # PDS4 calls it value_offset; the Bern header calls it offset.
    voff = to_float(text(child(ea, "value_offset")))
    if voff is None:
        voff = to_float(text(child(ea, "offset")))
    specials: dict[str, float] = {}
    for sc in children(elem, "Special_Constants"):
        for c in sc:
            v = to_float(text(c))
            if v is not None:
                specials[local(c.tag)] = v
    order = text(child(elem, "axis_index_order")) or text(child(ea, "order"))
    return ArrayGeometry(
        kind=local(elem.tag),
        axes=tuple(axes),
        data_type=text(child(ea, "data_type")),
        axis_index_order=order,
        offset_bytes=to_int(text(child(elem, "offset"))) or 0,
        scaling_factor=1.0 if scale is None else scale,
        value_offset=0.0 if voff is None else voff,
        unit=text(child(ea, "unit")),
        special_constants=specials,
    )


def find_array(file_area: ET.Element | None) -> ET.Element | None:
    """First ``Array*`` element inside a File_Area_Observational, or None."""
    if file_area is None:
        return None
    for c in file_area:
        if local(c.tag).startswith("Array"):
            return c
    return None
