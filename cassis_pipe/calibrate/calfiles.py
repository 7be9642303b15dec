"""Versioned calibration file set: ``calibration/<version>/`` with a ``manifest.json``.

Layout (:func:`write_calset` writes it, also for the simulator; see docs/calibration.md):

* ``master_bias.fits`` — float32 (n, n) full detector, DN per detector pixel
* ``master_flat.fits`` — float32 (n, n), relative response normalised to median 1, 0 = dead
* ``bad_pixels.fits``  — uint8 (n, n), 0 good, non-zero bad (1 dead, 2 hot)
* ``k_table.json``     — ``{"K": {"PAN": ..., ...}}``, (I/F) s / (DN AU^2)
* ``manifest.json``    — ``version``, ``detector_px`` [n, n], ``files`` {kind: {file, sha256}}
  for kinds ``bias``, ``flat``, ``bad_pixels``, ``absolute``; optional ``created`` (ISO date),
  ``saturation_dn`` (default 16383) and ``binning`` {``factor``: 2, ``mode``: "sum"|"mean"}
  (default "sum").

Arrays are row-major, 0-based (row, col) = (line, sample).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

from cassis_pipe.calibrate.binning import BIN_MODES
from cassis_pipe.calibrate.saturation import ADC_MAX_DN

FILE_KINDS = ("bias", "flat", "bad_pixels", "absolute")
DEFAULT_NAMES = {"bias": "master_bias.fits", "flat": "master_flat.fits",
                 "bad_pixels": "bad_pixels.fits", "absolute": "k_table.json"}


class CalibrationFileError(ValueError):
    """A calibration file set is missing, inconsistent or corrupt."""


@dataclass
class CalSet:
    """One version of the calibration files, loaded."""

    version: str
    bias_dn: np.ndarray
    flat: np.ndarray
    bad_pixels: np.ndarray
    k_table: dict[str, float]
    saturation_dn: float = float(ADC_MAX_DN)
    binning_mode: str = "sum"
    created: str = ""
    defaults_used: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        n = self.bias_dn.shape
        if len(n) != 2 or n[0] != n[1]:
            raise CalibrationFileError(f"bias must be a square 2-D field, got {n}")
        for name in ("flat", "bad_pixels"):
            if getattr(self, name).shape != n:
                raise CalibrationFileError(f"{name} shape {getattr(self, name).shape} != {n}")
        if self.binning_mode not in BIN_MODES:
            raise CalibrationFileError(f"binning mode {self.binning_mode!r} not in {BIN_MODES}")
        for f, k in self.k_table.items():
            if not (isinstance(k, int | float) and np.isfinite(k) and k > 0):
                raise CalibrationFileError(f"K for {f} must be a positive number, got {k!r}")

    @property
    def detector_px(self) -> int:
        """Detector size n (n x n pixels)."""
        return int(self.bias_dn.shape[0])

    def k(self, filter_name: str) -> float:
        """K of a filter, (I/F) s / (DN AU^2)."""
        try:
            return float(self.k_table[filter_name])
        except KeyError:
            raise CalibrationFileError(
                f"no K for filter {filter_name!r} in calibration {self.version} "
                f"(have {sorted(self.k_table)})") from None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _version_dir(path: Path, version: str | None) -> Path:
    path = Path(path)
    if (path / "manifest.json").is_file():
        return path
    base = path / "calibration" if (path / "calibration").is_dir() else path
    if version is not None:
        d = base / version
        if not (d / "manifest.json").is_file():
            raise CalibrationFileError(f"no manifest.json for calibration version {version} "
                                       f"under {base}")
        return d
    found = sorted(p.parent for p in base.glob("*/manifest.json"))
    if len(found) != 1:
        raise CalibrationFileError(f"{base}: {len(found)} calibration versions "
                                   f"({[p.name for p in found]}); name one")
    return found[0]


def _entry(manifest: dict, kind: str, d: Path, verify: bool) -> Path:
    try:
        ent = manifest["files"][kind]
        name = ent["file"]
    except (KeyError, TypeError):
        raise CalibrationFileError(f"{d}/manifest.json: no files.{kind}.file entry") from None
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        raise CalibrationFileError(f"{d}/manifest.json: bad file name {name!r} for {kind}")
    p = d / name
    if not p.is_file():
        raise CalibrationFileError(f"{p}: missing ({kind})")
    if verify and "sha256" in ent and _sha256(p) != ent["sha256"]:
        raise CalibrationFileError(f"{p}: sha256 does not match the manifest")
    return p


def _read_fits(p: Path, n: int, dtype: type) -> np.ndarray:
    try:
        with fits.open(p, memmap=False) as hdul:
            data = hdul[0].data
            if data is None:
                raise CalibrationFileError(f"{p}: primary HDU has no data")
            arr = np.ascontiguousarray(data, dtype=dtype)
    except (OSError, ValueError, TypeError) as exc:
        if isinstance(exc, CalibrationFileError):
            raise
        raise CalibrationFileError(f"{p}: unreadable FITS ({exc})") from exc
    if arr.shape != (n, n):
        raise CalibrationFileError(f"{p}: shape {arr.shape}, expected ({n}, {n})")
    return arr


def load_calset(path: Path | str, version: str | None = None, verify: bool = True) -> CalSet:
    """Load a calibration version.

    ``path`` is the version directory itself, a ``calibration/`` directory, or a directory
    holding ``calibration/``; ``version`` picks a subdirectory (needed when there are several).
    ``verify`` checks every file's sha256 against the manifest. Raises CalibrationFileError.
    """
    d = _version_dir(Path(path), version)
    try:
        manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CalibrationFileError(f"{d}/manifest.json: unreadable ({exc})") from exc
    if not isinstance(manifest, dict):
        raise CalibrationFileError(f"{d}/manifest.json: not a JSON object")
    ver = str(manifest.get("version", d.name))
    if version is not None and ver != version:
        raise CalibrationFileError(f"{d}: manifest version {ver!r} != requested {version!r}")
    px = manifest.get("detector_px", [2048, 2048])
    try:
        n = int(px[0])
        if int(px[1]) != n or n < 2:
            raise ValueError
    except (TypeError, ValueError, IndexError):
        raise CalibrationFileError(f"{d}/manifest.json: bad detector_px {px!r}") from None
    paths = {kind: _entry(manifest, kind, d, verify) for kind in FILE_KINDS}
    bias = _read_fits(paths["bias"], n, np.float32)
    flat = _read_fits(paths["flat"], n, np.float32)
    bad = _read_fits(paths["bad_pixels"], n, np.uint8)
    try:
        ktab = json.loads(paths["absolute"].read_text(encoding="utf-8"))
        k_table = {str(f): ktab["K"][f] for f in ktab["K"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CalibrationFileError(f"{paths['absolute']}: bad K table ({exc})") from exc
    defaults = []
    if "saturation_dn" not in manifest:
        defaults.append("saturation_dn")
    binning = manifest.get("binning")
    if not isinstance(binning, dict) or "mode" not in binning:
        defaults.append("binning")
        binning = {"factor": 2, "mode": "sum"}
    return CalSet(ver, bias, flat, bad, k_table,
                  saturation_dn=float(manifest.get("saturation_dn", ADC_MAX_DN)),
                  binning_mode=str(binning["mode"]), created=str(manifest.get("created", "")),
                  defaults_used=tuple(defaults))


def _write_fits(path: Path, data: np.ndarray, cards: list[tuple[str, object, str]]) -> None:
    hdu = fits.PrimaryHDU(data)
    for key, value, comment in cards:
        hdu.header[key] = (value, comment)
    hdu.writeto(path, overwrite=True, checksum=False)


def write_calset(out: Path | str, cal: CalSet, *,
                 cards: Sequence[tuple[str, object, str]] = (),
                 bad_pixel_codes: str = "0 good, non-zero bad",
                 record_settings: bool = True) -> Path:
    """Write ``out/calibration/<version>/`` in the layout above; returns that directory.

    ``cards`` are extra FITS header cards (key, value, comment) for every FITS file;
    ``bad_pixel_codes`` describes the bad-pixel values in its header. With
    ``record_settings=False`` the manifest leaves out ``created``, ``saturation_dn`` and
    ``binning`` (readers then use, and report, the defaults)."""
    d = Path(out) / "calibration" / cal.version
    d.mkdir(parents=True, exist_ok=True)
    common = [("INSTRUME", "CASSIS", "instrument"), ("CALVER", cal.version, "calibration version"),
              *cards]
    _write_fits(d / DEFAULT_NAMES["bias"], np.asarray(cal.bias_dn, np.float32),
                common + [("BUNIT", "DN", "bias level per detector pixel")])
    _write_fits(d / DEFAULT_NAMES["flat"], np.asarray(cal.flat, np.float32),
                common + [("BUNIT", "1", "relative response, median 1, 0 = dead")])
    _write_fits(d / DEFAULT_NAMES["bad_pixels"], np.asarray(cal.bad_pixels, np.uint8),
                common + [("BUNIT", "1", bad_pixel_codes)])
    ktab = {"version": cal.version, "unit": "(I/F) s / (DN AU^2)",
            "relation": "I/F = K * r_h^2 * DN / t_exp",
            "K": {f: float(k) for f, k in sorted(cal.k_table.items())}}
    (d / DEFAULT_NAMES["absolute"]).write_text(json.dumps(ktab, indent=2, sort_keys=True) + "\n")
    n = cal.detector_px
    manifest = {"version": cal.version, "instrument": "CaSSIS", "detector_px": [n, n],
                "layout": "full detector, row-major, 0-based (row, col) = (line, sample)",
                "files": {k: {"file": DEFAULT_NAMES[k], "sha256": _sha256(d / DEFAULT_NAMES[k])}
                          for k in FILE_KINDS}}
    if record_settings:
        manifest.update({"created": cal.created, "saturation_dn": float(cal.saturation_dn),
                         "binning": {"factor": 2, "mode": cal.binning_mode}})
    (d / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return d
