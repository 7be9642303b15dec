"""Stage "accuracy": the map products of a SIMULATED observation against the simulator's truth
(``<raw_dir>/truth/``): rotation-offset error, geolocation, I/F bias and band misregistration,
written to ``accuracy.json``. The truth comparison itself is the simulator's oracle
(:mod:`cassis_pipe.sim.oracle.accuracy`), imported only when this stage runs: the production
stages never import the simulator.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numba
import numpy as np

from cassis_pipe.products.pds4 import read_product
from cassis_pipe.register.quality import nan_fill
from cassis_pipe.stages._io import PipelineError, read_json, write_json
from cassis_pipe.stages.records import MapStage


def run_accuracy(map_json: str | Path, products_dir: str | Path, truth_dir: str | Path,
                 rotation_json: str | Path, out_json: str | Path, *,
                 observation_id: str | None = None) -> dict[str, Any]:
    """Accuracy of the map products against the simulator truth (``truth_dir`` = the
    simulator's ``truth/``), written to ``accuracy.json``. ``observation_id`` (the rule's
    wildcard) must be the map stage's."""
    from cassis_pipe.sim.oracle.accuracy import accuracy

    m = MapStage.from_dict(read_json(map_json), str(map_json))
    grid, obs = m.grid, m.observation_id
    if observation_id is not None and obs != observation_id:
        raise PipelineError(f"observation id mismatch: the sheet's {observation_id} but "
                            f"{map_json} is of {obs}")

    def load(f: str) -> np.ndarray:
        arr = read_product(Path(products_dir) / f"{obs}_{f}.xml")     # new float32 array
        return nan_fill(np.ascontiguousarray(arr, dtype=np.float32))

    # file reads and the nogil fill kernel run in numba's thread count of worker threads
    with ThreadPoolExecutor(max_workers=max(1, numba.get_num_threads())) as pool:
        mosaics = dict(zip(m.valid_pixels, pool.map(load, m.valid_pixels), strict=True))
    truth = read_json(Path(truth_dir) / "truth.json")
    # the map stage measured the band misregistration on the same pixels (the products hold
    # the mosaics exactly): reuse it rather than correlating every band again
    ref = "PAN" if "PAN" in mosaics else next(iter(mosaics), None)
    known = m.band_misregistration_px
    mis = known.get("bands") if known.get("reference") == ref else None
    rec = accuracy(mosaics, grid, truth_dir, float(read_json(rotation_json)["offset_deg"]),
                   float(truth["rotation_offset_deg"]), misregistration=mis)
    rec = {"stage": "accuracy", "observation_id": obs, **rec}
    write_json(out_json, rec)
    return rec
