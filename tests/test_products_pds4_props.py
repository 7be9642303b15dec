"""Property and fuzz tests: random products always validate and read back; the validator never
crashes on mangled labels."""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
import pds4_tools
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cassis_pipe.instrument.constants import FILTER_ORDER
from cassis_pipe.products.crs import equirectangular, polar_stereographic
from cassis_pipe.products.metadata import (
    FLOAT32_MISSING,
    PROCESSING_LEVELS,
    MapInfo,
    ProcessingRecord,
    ProductMeta,
    SpecialConstants,
)
from cassis_pipe.products.pds4 import read_product, write_product
from cassis_pipe.products.validate import validate_label

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", fullmatch=True)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40)
ascii_texts = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=40)
floats = st.floats(-1e7, 1e7, allow_nan=False)


@st.composite
def map_infos(draw) -> MapInfo | None:
    kind = draw(st.sampled_from(["none", "eqc", "polar"]))
    if kind == "none":
        return None
    if kind == "eqc":
        proj = equirectangular(draw(st.floats(-180, 360)), draw(st.floats(-89.9, 89.9)),
                               draw(st.floats(3.3e6, 3.4e6)))
    else:
        proj = polar_stereographic(draw(st.booleans()), draw(st.floats(-180, 360)),
                                   draw(st.floats(0.5, 1.0)))
    south = draw(st.floats(-90, 90))
    north = draw(st.floats(south, 90))
    return MapInfo(proj, draw(st.floats(0.01, 1e4)), draw(st.floats(0.01, 1e4)), draw(floats),
                   draw(floats), draw(st.floats(-180, 360)), draw(st.floats(-180, 360)),
                   north, south)


@st.composite
def products(draw) -> tuple[ProductMeta, np.ndarray, MapInfo | None]:
    dtype = draw(st.sampled_from(["uint16", "float32"]))
    shape = (draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype == "uint16":
        a = rng.integers(0, 65536, shape).astype(np.uint16)
        special = SpecialConstants(saturated=draw(st.none() | st.integers(0, 65535)))
    else:
        a = rng.standard_normal(shape).astype(np.float32)
        special = SpecialConstants(missing=draw(st.none() | st.just(FLOAT32_MISSING)),
                                   invalid=draw(st.none() | st.floats(-1e6, 1e6, width=32)))
    proc = draw(st.none() | st.builds(
        ProcessingRecord, software_name=texts.filter(str.strip), software_version=names,
        description=texts,
        calibration_files=st.lists(names, max_size=3).map(tuple),
        parameters=st.lists(st.tuples(texts.filter(str.strip), ascii_texts.filter(str.strip)),
                            max_size=3).map(tuple)))
    meta = ProductMeta(
        name=draw(names), level=draw(st.sampled_from(sorted(PROCESSING_LEVELS))),
        start_utc="2018-05-05T23:11:48.767", stop_utc="2018-05-05T23:11:49.100Z",
        modification_date="2026-11-21", title=draw(texts.filter(str.strip)),
        filter_name=draw(st.none() | st.sampled_from(FILTER_ORDER)),
        exposure_duration_s=draw(st.none() | st.floats(1e-5, 1.0)),
        description=draw(texts), special=special, processing=proc,
    )
    return meta, a, draw(map_infos())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(products())
def test_random_products_validate_and_read_back(product) -> None:
    meta, a, map_info = product
    with tempfile.TemporaryDirectory() as d:
        dat, xml = write_product(d, meta, a, map_info)
        assert validate_label(xml) == []
        assert np.array_equal(read_product(xml).view(np.uint8), a.view(np.uint8))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = np.asarray(pds4_tools.read(str(xml), lazy_load=True, quiet=True)[0].data)
        assert np.array_equal(got.view(np.uint8), a.view(np.uint8))


def _good_label(directory: Path) -> Path:
    meta = ProductMeta(name="fuzz", level="derived", start_utc="2020-01-01T00:00:00",
                       stop_utc="2020-01-01T00:00:01", modification_date="2026-11-21",
                       filter_name="NIR", special=SpecialConstants(missing=FLOAT32_MISSING),
                       processing=ProcessingRecord(parameters=(("x", "1"),)))
    info = MapInfo(equirectangular(180, 20), 4, 4, 0, 0, 0, 1, 1, 0)
    return write_product(directory, meta, np.zeros((3, 4), np.float32), info)[1]


def test_validator_survives_mangled_labels(tmp_path) -> None:
    """800 random byte edits / truncations: always a list of strings, never an exception."""
    xml = _good_label(tmp_path)
    good = xml.read_bytes()
    rng = np.random.default_rng(1234)
    invalid = 0
    for i in range(800):
        buf = bytearray(good)
        op = i % 4
        if op == 0:
            buf = buf[: rng.integers(0, len(buf))]
        elif op == 1:
            for pos in rng.integers(0, len(buf), rng.integers(1, 4)):
                buf[pos] = rng.integers(0, 256)
        elif op == 2:  # delete a span
            a = int(rng.integers(0, len(buf)))
            del buf[a : a + int(rng.integers(1, 200))]
        else:  # duplicate a span
            a = int(rng.integers(0, len(buf)))
            buf[a:a] = buf[a : a + int(rng.integers(1, 200))]
        xml.write_bytes(bytes(buf))
        errors = validate_label(xml)
        assert isinstance(errors, list) and all(isinstance(e, str) for e in errors)
        invalid += bool(errors)
    assert invalid > 600  # almost every edit is caught
