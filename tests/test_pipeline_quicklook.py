"""Quick-looks: the stage block-averages swaths in worker threads and hands the reduced image
to the JPG writer; that must give the bytes of reducing inside the writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cassis_pipe.products.images import block_mean, write_quicklook_jpg
from cassis_pipe.stages.quicklook import swath


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 1000), n=st.integers(1, 6), max_side=st.sampled_from([16, 40, 64]),
       on_top=st.booleans())
def test_prereduced_swath_gives_the_same_jpg(tmp_path: Path, seed: int, n: int, max_side: int,
                                             on_top: bool) -> None:
    rng = np.random.default_rng(seed)
    frames = {k: rng.uniform(0.0, 0.3, (23, 57)).astype(np.float32) for k in range(n)
              if k != 1}
    if 0 in frames:
        frames[0][3:5, 7:30] = np.nan
    band = swath(frames, n, on_top)
    if band is None or not np.isfinite(band).any():
        return
    factor = -(-max(band.shape) // max_side)
    small = block_mean(band, factor) if factor > 1 else band
    a = write_quicklook_jpg(tmp_path / "a.jpg", band, max_side=max_side).read_bytes()
    b = write_quicklook_jpg(tmp_path / "b.jpg", small, max_side=max_side).read_bytes()
    assert a == b
