"""Absolute calibration against the four flown Bern level-1b labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from cassis_pipe.calibrate.absolute import (
    exposure_time_s,
    iof_per_dn,
    k_from_factor,
    to_iof,
)

#: K per filter, (I/F) s / (DN AU^2), from the reference README
K_REF = {"PAN": 1.341e-8, "RED": 3.497e-8, "NIR": 3.645e-8, "BLU": 2.658e-8}


def _label(path: Path) -> dict[str, float | str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.parse(str(path), parser).getroot()

    def text(tag: str) -> str:
        el = root.find(f".//{tag}")
        assert el is not None, f"{path.name}: no {tag}"
        return el.text.strip()

    return {"filter": text("Filter"), "factor": float(text("ABSOLUTE_CALIBRATION")),
            "r_h": float(text("HELIOCENTRIC_DISTANCE")), "t_exp_units": int(text("T_exp")),
            "pehk_t_exp": float(root.find(".//PEHK_HEADER").get("Exposure_Time"))}


def test_k_from_all_flown_labels(level1b_labels: list[Path]) -> None:
    assert len(level1b_labels) == 4
    seen = set()
    for path in level1b_labels:
        lab = _label(path)
        t_exp = exposure_time_s(lab["t_exp_units"])
        assert t_exp == pytest.approx(lab["pehk_t_exp"], rel=1e-12)   # 150 x 9.6 us = 1.44 ms
        k = k_from_factor(lab["factor"], lab["r_h"], t_exp)
        assert k == pytest.approx(K_REF[lab["filter"]], rel=5e-4), (path.name, k)
        # and forward: K r_h^2 / t_exp reproduces the label factor from the tabulated K
        assert iof_per_dn(K_REF[lab["filter"]], lab["r_h"], t_exp) == pytest.approx(
            lab["factor"], rel=5e-4)
        seen.add(lab["filter"])
    assert seen == set(K_REF)


def test_pan_worked_example() -> None:
    k = k_from_factor(1.79157e-05, 1.3870363, 1.44e-3)
    assert k == pytest.approx(1.3410e-8, rel=1e-4)


def test_to_iof_scalar_and_per_framelet() -> None:
    dn = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    out = to_iof(dn, 2.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, 2 * dn)
    out = to_iof(dn, np.array([1.0, 3.0]))
    np.testing.assert_array_equal(out[1], 3 * dn[1])
    np.testing.assert_array_equal(to_iof(dn[0], 0.5), 0.5 * dn[0])
    with pytest.raises(ValueError):
        iof_per_dn(1e-8, 1.4, 0.0)
