"""Target retirement after map projection (SpaceOps 2023 paper, 3.4): each observation's
footprint and conditions against the open suggested targets; a target whose region is covered
to the configured fraction under the requested conditions is retired, the retiring observation
recorded, and its suggester gets exactly one e-mail (observation, coverage, conditions, a
reduced colour composite attached).

Footprint: the valid-pixel mask of the map products ``results/<obs>/level2/products/
<obs>_<FILTER>.xml`` on the grid of ``level2/map.json`` (``mode`` colour: at least 3 filters
valid at a pixel; otherwise any). Coverage: :func:`cassis_pipe.archive.sphere.sample_region`.
Conditions: :func:`cassis_pipe.archive.conditions.observation_conditions`.
"""

from __future__ import annotations

import json
import smtplib
import sqlite3
from dataclasses import dataclass
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image

from cassis_pipe.archive.conditions import Conditions, observation_conditions
from cassis_pipe.archive.sphere import covered_fraction, sample_region
from cassis_pipe.archive.targets import Target, get_targets
from cassis_pipe.instrument.constants import FILTER_ORDER as FILTERS
from cassis_pipe.mapping.grid import MapGrid
from cassis_pipe.products.metadata import FLOAT32_MISSING
from cassis_pipe.products.pds4 import read_product

QUICKLOOK_MAX_SIDE = 512
_COMPOSITE_ORDER = ("NIR-RED-BLU", "RED-PAN-BLU", "NIR-PAN-BLU", "NIR-RED-PAN", "PAN-BLU")


@dataclass(frozen=True)
class Footprint:
    """Map grid and per-pixel count of valid filters of one observation."""

    observation_id: str
    grid: MapGrid
    n_valid: np.ndarray  # uint8 (lines, samples): filters with data at the pixel

    def mask(self, mode: str) -> np.ndarray:
        return self.n_valid >= (3 if mode == "colour" else 1)

    def centre_latlon(self) -> tuple[float, float]:
        """(lat, lon) deg of the centroid of the valid pixels (pixel-index mean)."""
        li, si = np.nonzero(self.n_valid)
        if li.size == 0:
            raise ValueError(f"{self.observation_id}: map has no valid pixel")
        lat, lon = self.grid.index_to_latlon(np.array([li.mean()]), np.array([si.mean()]))
        return float(lat[0]), float(lon[0]) % 360.0


def read_footprint(obs_dir: Path) -> Footprint:
    """Footprint of ``results/<obs>`` from its map products and ``level2/map.json``."""
    obs = obs_dir.name
    stage = json.loads((obs_dir / "level2" / "map.json").read_text())
    grid = MapGrid.from_dict(stage["grid"])
    n = np.zeros(grid.shape, np.uint8)
    found = 0
    for f in FILTERS:
        label = obs_dir / "level2" / "products" / f"{obs}_{f}.xml"
        if not label.is_file():
            continue
        a = read_product(label)
        if a.shape != grid.shape:
            raise ValueError(f"{label.name}: shape {a.shape} differs from the grid {grid.shape}")
        n += (np.isfinite(a) & (a != np.float32(FLOAT32_MISSING))).astype(np.uint8)
        found += 1
    if not found:
        raise FileNotFoundError(f"no map products in {obs_dir / 'level2' / 'products'}")
    return Footprint(obs, grid, n)


def _in_range(value: float, rng: tuple[float | None, float | None], period: float | None
              ) -> bool:
    lo, hi = rng
    if lo is None and hi is None:
        return True
    lo = -np.inf if lo is None else lo
    hi = np.inf if hi is None else hi
    if period is not None and lo > hi:  # wraps (midnight, Ls 0)
        return value >= lo or value <= hi
    return lo <= value <= hi


def conditions_match(t: Target, c: Conditions, stereo: bool = False) -> list[str]:
    """Reasons the conditions do not match the request ([] = they match)."""
    why = []
    if not _in_range(c.incidence_deg, t.incidence_deg, None):
        why.append(f"incidence {c.incidence_deg:.1f} deg outside {t.incidence_deg}")
    if not _in_range(c.local_solar_time_h, t.lst_h, 24.0):
        why.append(f"local solar time {c.local_solar_time_h:.2f} h outside {t.lst_h}")
    if not _in_range(c.solar_longitude_deg, t.ls_deg, 360.0):
        why.append(f"Ls {c.solar_longitude_deg:.1f} deg outside {t.ls_deg}")
    if t.mode == "stereo" and not stereo:
        why.append("stereo requested, observation is not a stereo pair")
    return why


def coverage(t: Target, fp: Footprint) -> float:
    """Fraction of the target's area covered by the footprint (mode-dependent mask)."""
    lat, lon = sample_region(np.array(t.region))
    return covered_fraction(lat, lon, fp.mask(t.mode), fp.grid.latlon_to_index)


@dataclass(frozen=True)
class Evaluation:
    """One target checked against one observation."""

    target_id: str
    coverage: float
    reasons: tuple[str, ...]
    retired: bool


def evaluate(conn: sqlite3.Connection, obs_dir: Path, raw_dir: Path, fraction: float,
             stereo: bool = False) -> list[Evaluation]:
    """Check the open targets against ``results/<obs>``; retire those covered to ``fraction``
    under their conditions (recorded with the observation). Targets this observation was
    already checked against in an earlier round are skipped (a reopened target is not
    retired again by the observation that retired it, and reprocessing changes nothing)."""
    fp = read_footprint(obs_dir)
    obs = fp.observation_id
    cond = observation_conditions(raw_dir, obs, *fp.centre_latlon())
    out = []
    for t in get_targets(conn, "open"):
        seen = conn.execute("SELECT 1 FROM target_evaluations WHERE target_id = ? AND "
                            "observation_id = ? AND round < ?", (t.target_id, obs, t.round))
        if seen.fetchone():
            continue
        cov = coverage(t, fp)
        cond_why = conditions_match(t, cond, stereo)
        why = ([f"coverage {cov:.3f} below {fraction}"] if cov < fraction else []) + cond_why
        retired = not why
        with conn:
            conn.execute("INSERT OR REPLACE INTO target_evaluations VALUES (?,?,?,?,?)",
                         (t.target_id, t.round, obs, cov, int(not cond_why)))
            if retired:
                conn.execute("UPDATE target_suggestions SET status = 'retired' "
                             "WHERE target_id = ? AND status = 'open'", (t.target_id,))
                conn.execute("INSERT INTO target_retirements (target_id, round, observation_id,"
                             " coverage, conditions_json) VALUES (?,?,?,?,?)",
                             (t.target_id, t.round, obs, cov, json.dumps(cond.to_dict())))
        out.append(Evaluation(t.target_id, cov, tuple(why), retired))
    return out


def quicklook_png(obs_dir: Path, max_side: int = QUICKLOOK_MAX_SIDE) -> tuple[str, bytes] | None:
    """(file name, PNG bytes) of the first available colour composite reduced to
    ``max_side`` pixels, or None when the observation has none."""
    obs = obs_dir.name
    for combo in _COMPOSITE_ORDER:
        src = obs_dir / "level2" / "products" / f"{obs}_{combo}.png"
        if src.is_file():
            with Image.open(src) as im:
                im = im.copy()
            im.thumbnail((max_side, max_side), Image.Resampling.BOX)
            buf = BytesIO()
            im.save(buf, format="PNG")
            return f"{obs}_{combo}_quicklook.png", buf.getvalue()
    return None


def retirement_message(t: Target, obs: str, cov: float, cond: dict, sender: str,
                       quicklook: tuple[str, bytes] | None) -> EmailMessage:
    """The e-mail to the suggester of a retired target."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = f"{t.suggester} <{t.email}>"
    msg["Subject"] = f"CaSSIS target {t.target_id} retired by observation {obs}"
    lines = [f"Dear {t.suggester},", "",
             f"your suggested target {t.target_id} has been imaged by CaSSIS and retired.", "",
             f"Observation:        {obs}",
             f"Coverage:           {100 * cov:.1f} % of the target area",
             f"Incidence (centre): {cond['incidence_deg']:.2f} deg",
             f"Local solar time:   {cond['local_solar_time_h']:.2f} h",
             f"Solar longitude Ls: {cond['solar_longitude_deg']:.2f} deg",
             f"Footprint centre:   {cond['centre_lat_deg']:.4f} N, "
             f"{cond['centre_lon_deg']:.4f} E",
             f"Requested:          incidence {t.incidence_deg}, local solar time {t.lst_h}, "
             f"Ls {t.ls_deg}, mode {t.mode}", "",
             "A reduced colour composite is attached." if quicklook else
             "No colour composite is available for this observation.",
             "To request further imaging (other or identical illumination), ask for the target"
             f" to be re-opened: cassis-pipe targets reopen {t.target_id}", "",
             "CaSSIS operations"]
    msg.set_content("\n".join(lines) + "\n")
    if quicklook:
        msg.add_attachment(quicklook[1], maintype="image", subtype="png",
                           filename=quicklook[0])
    return msg


def send_pending(conn: sqlite3.Connection, results_dir: Path, host: str, port: int,
                 sender: str) -> list[str]:
    """E-mail every retirement not yet announced (one message each, marked sent after the
    server accepted it); returns the target ids announced."""
    rows = conn.execute("SELECT target_id, round, observation_id, coverage, conditions_json "
                        "FROM target_retirements WHERE email_sent = 0 ORDER BY target_id, "
                        "round").fetchall()
    if not rows:
        return []
    targets = {t.target_id: t for t in get_targets(conn)}
    sent = []
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        for tid, rnd, obs, cov, cond in rows:
            msg = retirement_message(targets[tid], obs, cov, json.loads(cond), sender,
                                     quicklook_png(results_dir / obs))
            smtp.send_message(msg)
            with conn:
                conn.execute("UPDATE target_retirements SET email_sent = 1 WHERE target_id = ?"
                             " AND round = ?", (tid, rnd))
            sent.append(tid)
    return sent
