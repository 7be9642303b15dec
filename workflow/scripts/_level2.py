"""Shared by the level-2 scripts: this checkout first on sys.path, numba threads from the
rule's ``threads``, the stage outcome (or the traceback) in the rule's log, level-1 input."""

import contextlib
import json
import sys
import traceback
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path[:1]:
    sys.path.insert(0, _ROOT)

from cassis_pipe.parallel import set_threads  # noqa: E402
from cassis_pipe.pipeline.level2 import load_level1  # noqa: E402


@contextlib.contextmanager
def run(sm):
    """Yield a dict with ``threads``; put the stage JSON under ``"stage"`` to log it."""
    log = Path(sm.log[0])
    log.parent.mkdir(parents=True, exist_ok=True)
    ctx = {"threads": set_threads(int(sm.threads))}
    with open(log, "w") as fh:
        fh.write(f"rule {sm.rule}: numba threads {ctx['threads']}\n")
        try:
            yield ctx
        except BaseException:
            fh.write(traceback.format_exc())
            raise
        st = ctx.get("stage", {})
        short = {k: st[k] for k in ("stage", "ok", "offset_deg", "counts", "max_geolocation_px",
                                    "max_abs_iof_bias", "max_band_misregistration_px",
                                    "band_misregistration_px") if k in st}
        fh.write(json.dumps(short, sort_keys=True, default=str) + "\n")


def level1(sm):
    """(framelets, info) of the rule's level-1 inputs."""
    return load_level1(sm.input.level0_json, sm.input.calibrate_json, sm.input.level1_dir,
                       sm.params.geometry_dir, sclk=sm.params.sclk, lsk=sm.params.lsk)
