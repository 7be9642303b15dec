"""Simulator configuration: one frozen tree of dataclasses, loadable from YAML.

Every physical quantity carries its unit in the field name (``_km``, ``_deg``, ``_us``, ``_s``,
``_e`` for electrons, ``_dn`` for digital numbers).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cassis_pipe.instrument.constants import FILTER_ORDER
from cassis_pipe.instrument.detector import Window


@dataclass(frozen=True)
class OrbitConfig:
    """Circular orbit about the Mars ellipsoid."""

    altitude_km: float = 400.0          # above the equatorial radius
    inclination_deg: float = 74.0
    target_lat_deg: float = 10.0        # planetocentric latitude of the target
    target_lon_deg: float = 45.0        # east longitude of the target
    descending: bool = False            # pass direction over the target
    mars_radii_km: tuple[float, float] = (3396.19, 3376.2)
    mars_gm_km3_s2: float = 42828.314
    mars_rate_rad_s: float = 7.088218e-5
    sc_yaw_deg: float = 15.0            # spacecraft yaw about nadir w.r.t. the ground track
    incidence_deg: float = 45.0         # solar incidence at the target
    sun_azimuth_deg: float = 270.0      # azimuth of the sun at the target (from north, east+)
    heliocentric_au: float = 1.387
    centre_sclk_s: float = 100000000.0  # on-board time (SCLK s) of the observation centre
    kernels_dir: str = ""               # LSK + TGO SCLK for SCLK->ET ("" = package data kernels)
    period: int = 2                     # UID operation period (2 = MY35)
    orbit_number: int = 6000


@dataclass(frozen=True)
class WindowConfig:
    """One commanded detector window (0-based inclusive rows/cols, binning CODE) as written in
    the configuration; :attr:`window` is its geometry."""

    name: str
    row0: int
    row1: int
    col0: int
    col1: int
    binning: int = 0                    # 0: none, 1: 2x2
    comp_ratio_id: int = 0

    @property
    def window(self) -> Window:
        """The detector :class:`~cassis_pipe.instrument.detector.Window` (binning factor)."""
        return Window.from_code(self.name, self.row0, self.row1, self.col0, self.col1,
                                self.binning)


def default_windows(width: int, col0: int) -> tuple[WindowConfig, ...]:
    """Flight-like window set: 4 filter windows plus two dark control windows (5, 6)."""
    c1 = col0 + width - 1
    return (
        WindowConfig("PAN", 354, 633, col0, c1, 0, 3),
        WindowConfig("RED", 712, 967, col0, c1, 0, 3),
        WindowConfig("NIR", 1048, 1303, col0, c1, 0, 3),
        WindowConfig("BLU", 1409, 1664, col0, c1, 0, 3),
        WindowConfig("CTL1", 200, 208, 640, 767, 0, 0),
        WindowConfig("CTL2", 1850, 1858, 1280, 1407, 0, 0),
    )


@dataclass(frozen=True)
class ImagingConfig:
    """The commanded imaging parameter table and the rotation mechanism."""

    num_exp: int = 40
    t_exp_units: int = 100              # T_exp in units of 9.6 us (100 -> 0.96 ms)
    step_exp_us: int = 0                # 0: derive from ground speed and overlap
    overlap: float = 0.10               # along-track overlap between framelets
    rotation_deg: float | None = None   # commanded angle; None: along-track forward view
    rotation_offset_deg: float = 0.3    # TRUE angle = commanded + offset
    stereo: bool = False                # second image at rotation + 180 deg
    stereo_gap_s: float = 0.0           # 0: derive so both images see the target
    param_table_ref: int = 4
    windows: tuple[WindowConfig, ...] = field(default_factory=lambda: default_windows(2048, 0))
    max_frame_data_bytes: int = 32512   # JPEG-LS bytes per SpW science frame


@dataclass(frozen=True)
class DetectorConfig:
    """Detector and electronics."""

    size_px: int = 2048
    pixel_pitch_mm: float = 0.010
    focal_length_mm: float = 874.9
    boresight_tilt_deg: float = 10.0
    gain_e_per_dn: float = 7.0
    read_noise_e: float = 61.0
    full_well_bits: int = 14
    bias_level_dn: float = 300.0
    bias_col_rms_dn: float = 6.0
    bias_row_rms_dn: float = 2.0
    flat_vignetting: float = 0.08       # relative fall-off at the corners
    flat_prnu: float = 0.01             # pixel-to-pixel response rms
    dead_fraction: float = 2e-5
    hot_fraction: float = 2e-5
    straylight_dn: float = 40.0         # peak of the smooth additive straylight
    binning_mode: str = "mean"          # 2x2 on-board binning: "mean" (rounded) or "sum"
    psf_sigma_px: float = 0.5


@dataclass(frozen=True)
class SceneConfig:
    """Procedural surface."""

    ice: bool = False
    crater_density: float = 0.5
    dune_fraction: float = 0.25


@dataclass(frozen=True)
class FaultConfig:
    """Counts of each fault to inject into science.bin (0 = none)."""

    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    bitflipped: int = 0
    truncated: int = 0
    garbage: int = 0
    missing_framelet: int = 0
    adjacent: bool = False  # place the faults on consecutive frames (ADJACENT_ORDER, round robin)


@dataclass(frozen=True)
class SimConfig:
    """Everything one ``simulate`` run needs."""

    seed: int = 1
    size: str = "full"
    orbit: OrbitConfig = field(default_factory=OrbitConfig)
    imaging: ImagingConfig = field(default_factory=ImagingConfig)
    detector: DetectorConfig = field(default_factory=DetectorConfig)
    scene: SceneConfig = field(default_factory=SceneConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)
    calibration_version: str = "sim-v1"
    map_scale_m: float = 0.0            # truth map pixel size; 0: ~1 detector pixel


def size_preset(size: str) -> dict[str, Any]:
    """Imaging overrides for the named size ("full": 40 x 2048 px, "small": 6 x 512 px crop)."""
    if size == "full":
        return {"num_exp": 40, "windows": default_windows(2048, 0)}
    if size == "small":
        return {"num_exp": 6, "windows": default_windows(512, 768)}
    raise ValueError(f"unknown size {size!r} (full|small)")


def _build(cls: type, data: dict[str, Any]) -> Any:
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(names)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys: {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        sub = _NESTED.get((cls, key))
        if sub is not None and isinstance(value, dict):
            kwargs[key] = _build(sub, value)
        elif key == "windows":
            kwargs[key] = tuple(w if isinstance(w, WindowConfig) else WindowConfig(**w)
                                for w in value)
        elif isinstance(value, list):
            kwargs[key] = tuple(value)
        else:
            kwargs[key] = value
    return cls(**kwargs)


_NESTED: dict[tuple[type, str], type] = {
    (SimConfig, "orbit"): OrbitConfig,
    (SimConfig, "imaging"): ImagingConfig,
    (SimConfig, "detector"): DetectorConfig,
    (SimConfig, "scene"): SceneConfig,
    (SimConfig, "faults"): FaultConfig,
}


def make_config(size: str = "full", seed: int = 1, overrides: dict[str, Any] | None = None
                ) -> SimConfig:
    """Build a configuration: size preset, then ``overrides`` (nested dict as in YAML)."""
    data: dict[str, Any] = {"size": size, "seed": seed,
                            "imaging": dict(size_preset(size))}
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    data["size"], data["seed"] = size, seed
    return validate(_build(SimConfig, data))


def validate(cfg: SimConfig) -> SimConfig:
    """Raise ValueError for a configuration the instrument could not fly; return it otherwise."""
    oc, ic = cfg.orbit, cfg.imaging
    if abs(oc.target_lat_deg) > oc.inclination_deg:
        raise ValueError(f"target latitude {oc.target_lat_deg} deg above the orbit "
                         f"inclination {oc.inclination_deg} deg")
    if not 1 <= ic.num_exp <= 255:
        raise ValueError(f"num_exp {ic.num_exp} not in 1..255")
    if not 1 <= ic.t_exp_units < 1 << 16:
        raise ValueError(f"t_exp_units {ic.t_exp_units} not in 1..65535")
    if not 0.0 <= ic.overlap < 0.9:
        raise ValueError(f"overlap {ic.overlap} not in [0, 0.9)")
    if not 1 <= len(ic.windows) <= 6 or [w.name for w in ic.windows[:4]] != list(FILTER_ORDER):
        raise ValueError("windows: 1..6 windows, the first four PAN, RED, NIR, BLU")
    for w in ic.windows:
        if w.binning not in (0, 1) or not 0 <= w.comp_ratio_id <= 5:
            raise ValueError(f"window {w.name}: binning code 0/1 and ratio id 0..5 only")
        win = w.window  # ValueError for an unknown name or an extent outside the detector
        if win.used_shape != win.shape:
            raise ValueError(f"window {w.name}: odd size cannot be 2x2 binned")
    if cfg.detector.binning_mode not in ("sum", "mean"):
        raise ValueError(f"binning_mode {cfg.detector.binning_mode!r} not 'sum' or 'mean'")
    return cfg


def load_config(path: Path | None, size: str, seed: int) -> SimConfig:
    """Read a YAML override file (may be None) on top of the size preset."""
    overrides: dict[str, Any] = {}
    if path is not None:
        with open(path, encoding="utf-8") as fh:
            overrides = yaml.safe_load(fh) or {}
        if not isinstance(overrides, dict):
            raise ValueError(f"{path}: top level must be a mapping")
    return make_config(size, seed, overrides)


def config_to_dict(cfg: SimConfig) -> dict[str, Any]:
    """Plain-JSON form of a configuration (for truth.json)."""
    return dataclasses.asdict(cfg)
