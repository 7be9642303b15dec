"""Bands that see no common ground (a short observation) are reported unmeasured, not raised."""

import numpy as np

from cassis_pipe.register.quality import band_misregistration, largest_measured


def test_disjoint_bands_are_reported_unmeasured() -> None:
    rng = np.random.default_rng(0)
    pan = np.full((64, 64), np.nan, np.float32)
    blu = np.full((64, 64), np.nan, np.float32)
    pan[:20] = rng.random((20, 64))
    blu[40:] = rng.random((24, 64))
    red = pan.copy()
    mis = band_misregistration({"PAN": pan, "RED": red, "BLU": blu}, "PAN")
    assert mis["BLU"]["measured"] is False and "valid" in mis["BLU"]["reason"]
    assert abs(mis["RED"]["magnitude"]) < 1e-3
    assert largest_measured(mis.values(), lambda v: v["magnitude"]) == mis["RED"]["magnitude"]
    assert largest_measured([mis["BLU"]], lambda v: v["magnitude"]) is None
