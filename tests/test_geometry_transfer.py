"""DAF transfer format -> binary DAF (pure Python), checked against CSPICE's own DAF reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import spiceypy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cassis_pipe.geometry.kernels.daf import DafArray, DafError, DafFile, daf_bytes, read_daf
from cassis_pipe.geometry.kernels.transfer import (
    TransferFormatError,
    convert_transfer,
    decode_double,
    decode_int,
    parse_transfer,
    read_transfer,
)

TGO = Path(__file__).parent / "data" / "kernels" / "tgo-2016-11-26"
TRANSFER = sorted(TGO.glob("*.x*"))
SPK1 = TGO / "CAS-MCO-2016-11-26T22.50.27.381_1.xsp"


def _spice_arrays(path: Path, nd: int, ni: int) -> list[tuple[str, tuple, tuple, np.ndarray]]:
    """Every array of a binary DAF as CSPICE reads it (name, doubles, ints, data)."""
    handle = spiceypy.dafopr(str(path))
    out = []
    try:
        spiceypy.dafbfs(handle)
        while spiceypy.daffna():
            dc, ic = spiceypy.dafus(spiceypy.dafgs(), nd, ni)
            name = spiceypy.dafgn().rstrip()
            data = np.asarray(spiceypy.dafgda(handle, int(ic[-2]), int(ic[-1])))
            out.append((name, tuple(float(v) for v in dc), tuple(int(v) for v in ic[:-2]),
                        data))
    finally:
        spiceypy.dafcls(handle)
    return out


def test_encodings() -> None:
    assert decode_int("-22E98") == -143000
    assert decode_int("1F3") == 499
    assert decode_double("2^1") == 2.0
    assert decode_double("-8^0") == -0.5
    assert decode_double("0^0") == 0.0
    assert decode_double("1FCC22FCE311D6^8") == pytest.approx(533471996.887, abs=1e-3)
    # exact: 0x1FCC22FC.E311D6 is representable
    assert decode_double("1FCC22FCE311D6^8") == float.fromhex("0x1FCC22FC.E311D6p0")
    for bad in ("1.5^0", "1F", "^3", "G^1", "1^"):
        with pytest.raises(TransferFormatError):
            decode_double(bad)


@pytest.mark.parametrize("path", TRANSFER, ids=lambda p: p.name)
def test_converted_kernel_round_trips_through_cspice(path: Path, tmp_path: Path) -> None:
    """Every segment's summary (ids, coverage, addresses) and data words as CSPICE reads them
    from our binary equal the transfer file's values; comments survive; output is
    deterministic."""
    xfer = read_transfer(path)
    out = convert_transfer(path, tmp_path / "k.bin")
    arrays = _spice_arrays(out, xfer.nd, xfer.ni)
    assert len(arrays) == len(xfer.arrays) >= 1
    for (name, dc, ic, data), ref in zip(arrays, xfer.arrays, strict=True):
        assert name == ref.name
        assert dc == ref.doubles and ic == ref.ints
        np.testing.assert_array_equal(data, ref.data)
    handle = spiceypy.dafopr(str(out))
    try:
        n, comments, _ = spiceypy.dafec(handle, 100, 1000)
    finally:
        spiceypy.dafcls(handle)
    assert [c.rstrip() for c in comments[:n]] == [c.rstrip() for c in xfer.comments]
    assert convert_transfer(path, tmp_path / "again.bin").read_bytes() == out.read_bytes()
    back = read_daf(out.read_bytes())
    assert [a.name for a in back.arrays] == [a.name for a in xfer.arrays]


def test_converted_kernels_give_states_and_attitudes(kernels_dir: Path, tmp_path: Path) -> None:
    """The converted SPK and CKs load and answer at the exposure time; coverage as summaries."""
    spiceypy.kclear()
    try:
        for name in ("naif0012.tls", "pck00010.tpc", "em16_tgo_v18.tf",
                     "em16_tgo_step_20190823.tsc"):
            spiceypy.furnsh(str(kernels_dir / name))
        bins = [convert_transfer(p, tmp_path / (p.name + ".bin")) for p in TRANSFER]
        for b in bins:
            spiceypy.furnsh(str(b))
        et = spiceypy.str2et("2016-11-26T22:50:27.381")
        state, lt = spiceypy.spkezr("TGO", et, "J2000", "NONE", "MARS")
        assert 3500 < np.linalg.norm(state[:3]) < 4200        # ~400 km above Mars
        assert 2.5 < np.linalg.norm(state[3:]) < 5.0
        for frame in ("TGO_SPACECRAFT", "TGO_CASSIS_TEL", "TGO_CASSIS_FSA"):
            m = np.asarray(spiceypy.pxform("J2000", frame, et))
            np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
        cover = spiceypy.spkcov(str(bins[1]), -143)
        lo, hi = spiceypy.wnfetd(cover, 0)
        assert lo < et < hi and hi - lo == pytest.approx(10.003, abs=1e-3)
    finally:
        spiceypy.kclear()


def test_daf_writer_multi_record_and_reader() -> None:
    """More arrays than fit one summary record, odd NI, and comments spanning records."""
    arrays = [DafArray(f"a{k}", (float(k), -k * 0.5), (k, -k, 7), np.arange(k + 1) * 1.25)
              for k in range(60)]
    daf = DafFile("DAF/TEST", 2, 5, "multi", arrays, ["x" * 700, "", "y" * 900])
    blob = daf_bytes(daf)
    back = read_daf(blob)
    assert back.comments == daf.comments and back.idword == "DAF/TEST"
    for a, b in zip(arrays, back.arrays, strict=True):
        assert (a.name, a.doubles, a.ints) == (b.name, b.doubles, b.ints)
        np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(DafError, match="offset"):
        read_daf(blob[:88] + b"BIG-IEEE" + blob[96:])


@pytest.mark.parametrize(("edit", "line", "match"), [
    (lambda t: t.replace("'DAF/SPK '", "'XYZ/SPK '"), 2, "id word"),
    (lambda t: t.replace("BEGIN_ARRAY 2 39", "BEGIN_ARRAY 3 39"), 55, "array number"),
    (lambda t: t.replace("'-C53B3D40865608^3'", "'-C53B3D4086X608^3'"), 177, "encoded double"),
    (lambda t: t.replace("END_ARRAY 1 39", "END_ARRAY 1 38"), 54, "does not match"),
    (lambda t: t.replace("TOTAL_ARRAYS 4", "TOTAL_ARRAYS 5"), 229, "TOTAL_ARRAYS"),
    (lambda t: t.replace("'1FCD874^8'\n", "", 1), 53, "data value"),
    (lambda t: t.split("BEGIN_ARRAY 4")[0], 167, "file ends"),
])
def test_corruptions_name_the_line(edit, line: int, match: str) -> None:
    text = (TGO / "CAS-MCO-2016-11-26T22.50.27.381_0.xsp").read_text()
    with pytest.raises(TransferFormatError, match=match) as err:
        parse_transfer(edit(text), "k.xsp")
    assert err.value.line == line
    assert str(err.value).startswith(f"k.xsp:{line}:")


_TEXT = SPK1.read_text()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(_TEXT) - 1), st.integers(1, 40),
       st.text(alphabet="0123456789ABCDEF^-' \nXBEGIN_ARRAYEND", max_size=12))
def test_fuzz_corrupted_transfer_gives_transfer_error(pos: int, span: int, junk: str) -> None:
    """Any splice either parses into a DAF that writes and reads back, or raises
    TransferFormatError with a line inside the file; never another exception."""
    text = _TEXT[:pos] + junk + _TEXT[pos + span:]
    try:
        daf = parse_transfer(text)
    except TransferFormatError as exc:
        assert 1 <= exc.line <= text.count("\n") + 2
        return
    back = read_daf(daf_bytes(daf))
    assert len(back.arrays) == len(daf.arrays)


def test_kernel_set_names_a_corrupt_transfer_file(tmp_path: Path) -> None:
    from cassis_pipe.geometry.kernels.kernelset import kernel_set

    bad = tmp_path / "broken.xc"
    text = TRANSFER[-1].read_text().replace("'-22E98'", "'-22E9Z'")
    bad.write_text(text)
    with pytest.raises(TransferFormatError, match=r"broken\.xc:\d+: bad encoded integer"):
        kernel_set([bad], tmp_path / "cache")
    good = kernel_set([TRANSFER[-1]], tmp_path / "cache").files[0]
    stamp = good.stat().st_mtime_ns
    assert kernel_set([TRANSFER[-1]], tmp_path / "cache").files[0] == good
    assert good.stat().st_mtime_ns == stamp  # reused, not converted again
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [good.name]
