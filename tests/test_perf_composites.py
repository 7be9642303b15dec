"""Performance changes keep the composites' pixels: shared stretch cache == independent calls
== the plain per-channel recipe (stretch over the joint mask, synthetic green in float64)."""

from __future__ import annotations

import numpy as np

from cassis_pipe.products.images import (
    COMPOSITES,
    StretchCache,
    composite_rgba,
    png_bytes,
    stretch_to_uint8,
    valid_mask,
)


def _bands(seed: int, same_footprint: bool) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    holes = rng.random((60, 70)) < 0.02
    out = {}
    for k, name in enumerate(("PAN", "RED", "NIR", "BLU")):
        a = rng.gamma(2.0, 0.05, (60, 70)).astype(np.float32)
        a[:, : (0 if same_footprint else 3 * k)] = np.nan
        a[holes if same_footprint else rng.random(a.shape) < 0.02] = np.float32(-3.4e38)
        out[name] = a
    return out


def _reference(bands: dict[str, np.ndarray], combo: str) -> np.ndarray:
    names = [n for n in COMPOSITES[combo] if n is not None]
    mask = np.logical_and.reduce([valid_mask(bands[n]) for n in names])
    chans = []
    for n in COMPOSITES[combo]:
        if n is None:
            src = np.where(mask, 0.5 * (bands["PAN"].astype(np.float64)
                                        + bands["BLU"].astype(np.float64)), 0.0)
        else:
            src = bands[n]
        chans.append(stretch_to_uint8(src, mask))
    return np.dstack(chans + [np.where(mask, 255, 0).astype(np.uint8)])


def test_cached_composites_equal_reference() -> None:
    for seed, same in ((1, False), (2, True)):
        bands = _bands(seed, same)
        cache = StretchCache()
        for combo in COMPOSITES:
            ref = _reference(bands, combo)
            assert np.array_equal(composite_rgba(bands, combo, cache=cache), ref)
            assert np.array_equal(composite_rgba(bands, combo), ref)
        # identical footprints: all five combinations share one joint mask
        assert len(cache.masks) == (1 if same else len(COMPOSITES))


def test_threaded_png_writing_is_deterministic(tmp_path) -> None:
    from cassis_pipe.stages.map import write_composites

    bands = _bands(3, False)
    files = {}
    for n in (1, 2):
        d = tmp_path / str(n)
        d.mkdir()
        names = write_composites(d, "MY35_006000_010_0", bands, threads=n)
        assert len(names) == len(COMPOSITES)
        files[n] = {p: (d / p).read_bytes() for p in names}
    assert files[1] == files[2]
    combo = "NIR-PAN-BLU"
    name = [p for p in files[1] if combo in p][0]
    assert files[1][name] == png_bytes(_reference(bands, combo))
