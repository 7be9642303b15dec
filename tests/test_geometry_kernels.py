"""SPICE text-kernel parser: all six real kernels against the SPICE toolkit, plus edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import spiceypy
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.instrument.kernels import (
    TextKernelError,
    get_float,
    get_floats,
    get_string,
    parse_text_kernel,
    read_text_kernel,
)

KERNELS = ["em16_tgo_cassis_v07.ti", "tgoCassisAddendum007.ti", "em16_tgo_v18.tf",
           "em16_tgo_step_20190823.tsc", "naif0012.tls", "pck00010.tpc"]


@pytest.mark.parametrize("name", KERNELS)
def test_real_kernel_matches_spice(kernels_dir: Path, name: str) -> None:
    path = kernels_dir / name
    pool = read_text_kernel(path)
    spiceypy.kclear()
    try:
        spiceypy.furnsh(str(path))
        names = spiceypy.gnpool("*", 0, 10000)
        assert set(names) == set(pool)
        for n in names:
            _, kind = spiceypy.dtpool(n)
            if kind == "C":
                assert list(spiceypy.gcpool(n, 0, 10000)) == pool[n], n
            else:
                ref = spiceypy.gdpool(n, 0, 100000)
                # SPICE parses decimals with its own routine: allow a few ulp
                np.testing.assert_allclose(ref, [float(v) for v in pool[n]], rtol=1e-15,
                                           atol=0, err_msg=n)
    finally:
        spiceypy.kclear()


def test_iak_values(kernels_dir: Path) -> None:
    pool = read_text_kernel(kernels_dir / "tgoCassisAddendum007.ti")
    assert get_float(pool, "INS-143400_FOCAL_LENGTH") == 874.9
    assert get_float(pool, "INS-143400_BORESIGHT_LINE") == 1024.5
    assert len(get_floats(pool, "INS-143400_OD_A3_DIST")) == 6
    assert get_string(pool, "INS-143400_LIGHTTIME_CORRECTION") == "LT+S"
    # the filter offsets sit in a \begintext block: comments, not data
    assert "INS-143421_FILTER_OFFSET" not in pool


def test_syntax_features() -> None:
    text = (
        "ignored = 1\n\\begindata\n"
        "A = ( 1, 2.5D3\n -4E-2 )\nB = 'it''s'\nB += 'x'\nC=7\n"
        "D = @2000-JAN-01/12:00:00\nE = ( 'a', 'b' )\n"
        "\\begintext\nF = 3\n\\begindata\nC = 8 G+= 1\n"
    )
    pool = parse_text_kernel(text)
    assert pool == {"A": [1, 2500.0, -0.04], "B": ["it's", "x"], "C": [8],
                    "D": [0.0], "E": ["a", "b"], "G": [1]}
    assert isinstance(pool["A"][0], int)
    assert get_floats(pool, "A") == [1.0, 2500.0, -0.04]
    with pytest.raises(ValueError):
        get_float(pool, "A")
    with pytest.raises(ValueError):
        get_floats(pool, "B")
    with pytest.raises(ValueError):
        get_string(pool, "C")


@pytest.mark.parametrize("bad", [
    "\\begindata\nA = ( 1, 2\n", "\\begindata\nA = 'open\n", "\\begindata\nA 1\n",
    "\\begindata\nA = 1x\n", "\\begindata\nA = @2000-XYZ-01\n", "\\begindata\nA = )\n",
    "\\begindata\nA =\n", "\\begindata\nA = @2000-FEB-31\n", "\\begindata\nA = @2000-13-01\n",
])
def test_malformed_raises_with_offset(bad: str) -> None:
    with pytest.raises(TextKernelError) as info:
        parse_text_kernel(bad)
    assert 0 <= info.value.offset <= len(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60)
       | st.text(alphabet=st.sampled_from(list("AB=+()',@ \n.0123456789-EDJANFEB/:")), max_size=80))
def test_fuzz_only_kernel_errors(body: str) -> None:
    try:
        pool = parse_text_kernel("\\begindata\n" + body)
    except TextKernelError as exc:
        assert exc.offset >= 0
    else:
        assert all(isinstance(v, list) for v in pool.values())
