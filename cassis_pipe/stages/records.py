"""The contract between stages: the records one stage writes into its stage JSON and the next
stage reads, each with ``to_dict``/``from_dict`` and a JSON Schema
(``cassis_pipe/stages/schemas/*.schema.json``, checked on every read).

* :class:`Level0Record`: one level-0 framelet (``level0.json`` ``products``): key, filter, the
  observation it belongs to (id and take-image index in tc.bin), time code, start UTC,
  exposure time, commanded detector window and binning, commanded rotation angle, product;
* :class:`Level1Record`: one calibrated framelet (``calibrate.json`` ``products``);
* :class:`MapStage`: the map stage JSON (``map.json``) as the accuracy stage reads it.

Facts are carried forward in these records (the command plan is parsed once, by the validate
stage): no later stage re-derives them from tc.bin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from cassis_pipe.instrument.detector import Window
from cassis_pipe.mapping.grid import MapGrid
from cassis_pipe.stages._io import PipelineError


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``name`` (``level0_record``, ``level1_record``, ``map_stage``)."""
    text = resources.files("cassis_pipe.stages").joinpath(f"schemas/{name}.schema.json")
    return json.loads(text.read_text())


@cache
def _validator(name: str) -> Any:
    """A validator of schema ``name``, built (and the schema itself checked) once per process:
    every record of a stage JSON is checked on read, thousands per campaign."""
    sch = schema(name)
    cls = jsonschema.validators.validator_for(sch)
    cls.check_schema(sch)
    return cls(sch)


def check(name: str, data: Any, what: str) -> None:
    """Raise :class:`PipelineError` naming ``what`` when ``data`` breaks schema ``name``."""
    error = jsonschema.exceptions.best_match(_validator(name).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise PipelineError(f"{what}: not a valid {name} at {where}: {error.message}")


@dataclass(frozen=True)
class DetectorWindow:
    """Commanded detector window: first row/column (0-based) and rows/columns read (detector
    pixels, before binning)."""

    row0: int
    col0: int
    rows: int
    cols: int

    def to_dict(self) -> dict[str, int]:
        return {"row0": self.row0, "col0": self.col0, "rows": self.rows, "cols": self.cols}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DetectorWindow:
        return cls(int(d["row0"]), int(d["col0"]), int(d["rows"]), int(d["cols"]))

    def window(self, filter_name: str, binning: int = 1) -> Window:
        """The detector :class:`~cassis_pipe.instrument.detector.Window` of this extent."""
        return Window.from_extent(self.row0, self.col0, self.rows, self.cols,
                                  filter=filter_name, binning=binning)


@dataclass(frozen=True)
class Level0Record:
    """One level-0 framelet as the level-0 stage wrote it (see the module docstring)."""

    uid: int
    window: int
    sequence: int
    filter: str
    image_index: int
    """Index of the take-image command in tc.bin (stereo pairs: two images, two UIDs)."""
    exposure_timecode: str
    """CaSSIS time code of the exposure start (16 hex digits)."""
    start_utc: str | None
    t_exp_s: float | None
    """Commanded exposure time (s)."""
    binning: int
    bin_factor: int
    detector_window: DetectorWindow | None
    shape: list[int] | None
    encoding: str | None
    tail_pixels: int = 0
    dn_over_14bit: int = 0
    shape_mismatch: bool = False
    product: str = ""
    observation_id: str = ""
    commanded_angle_deg: float | None = None
    """Commanded rotation-mechanism angle of the image (deg), from the command plan."""

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.uid, self.window, self.sequence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid, "window": self.window, "sequence": self.sequence,
            "filter": self.filter, "image_index": self.image_index,
            "exposure_timecode": self.exposure_timecode, "start_utc": self.start_utc,
            "t_exp_s": self.t_exp_s, "binning": self.binning, "bin_factor": self.bin_factor,
            "detector_window": (None if self.detector_window is None
                                else self.detector_window.to_dict()),
            "shape": self.shape, "encoding": self.encoding, "tail_pixels": self.tail_pixels,
            "dn_over_14bit": self.dn_over_14bit, "shape_mismatch": self.shape_mismatch,
            "product": self.product, "observation_id": self.observation_id,
            "commanded_angle_deg": self.commanded_angle_deg,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], what: str = "level-0 record") -> Level0Record:
        check("level0_record", d, what)
        w = d["detector_window"]
        return cls(
            int(d["uid"]), int(d["window"]), int(d["sequence"]), d["filter"],
            int(d["image_index"]), d["exposure_timecode"], d["start_utc"], d["t_exp_s"],
            int(d["binning"]), int(d["bin_factor"]),
            None if w is None else DetectorWindow.from_dict(w), d["shape"], d["encoding"],
            int(d.get("tail_pixels", 0)), int(d.get("dn_over_14bit", 0)),
            bool(d.get("shape_mismatch", False)), d.get("product", ""),
            d.get("observation_id", ""), d.get("commanded_angle_deg"))


@dataclass(frozen=True)
class Level1Record:
    """One calibrated framelet as the calibrate stage wrote it: key, filter, product name and
    the calibration figures (``stats``: I/F per DN, r_h, straylight, bad and saturated
    pixels)."""

    uid: int
    window: int
    sequence: int
    filter: str
    product: str
    straylight: str | None
    saturated_px: int
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.uid, self.window, self.sequence)

    def to_dict(self) -> dict[str, Any]:
        return {"uid": self.uid, "window": self.window, "sequence": self.sequence,
                "filter": self.filter, "product": self.product, "straylight": self.straylight,
                "saturated_px": self.saturated_px, "stats": self.stats}

    @classmethod
    def from_dict(cls, d: dict[str, Any], what: str = "level-1 record") -> Level1Record:
        check("level1_record", d, what)
        return cls(int(d["uid"]), int(d["window"]), int(d["sequence"]), d["filter"],
                   d["product"], d.get("straylight"), int(d.get("saturated_px", 0)),
                   dict(d.get("stats") or {}))


@dataclass(frozen=True)
class MapStage:
    """What the accuracy stage needs of ``map.json``: the observation, the offset used, the
    map grid, the bands written and the band misregistration measured on them."""

    observation_id: str
    rotation_offset_deg: float
    grid: MapGrid
    valid_pixels: dict[str, int]
    band_misregistration_px: dict[str, Any]
    ok: bool

    @classmethod
    def from_dict(cls, d: dict[str, Any], what: str = "map stage JSON") -> MapStage:
        check("map_stage", d, what)
        return cls(d["observation_id"], float(d["rotation_offset_deg"]),
                   MapGrid.from_dict(d["grid"]), dict(d["valid_pixels"]),
                   dict(d.get("band_misregistration_px") or {}), bool(d["ok"]))
