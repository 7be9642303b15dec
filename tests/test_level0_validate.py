"""Packet validation: each downlink fault is reported exactly, and nothing else."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cassis_pipe.labels.bern import read_bern_label
from cassis_pipe.level0.plan import build_plan, plan_from_tc, table_from_label
from cassis_pipe.level0.pseudo import predict_packets
from cassis_pipe.level0.validate import LIST_NAMES, validate, validate_bytes
from cassis_pipe.level0.wire import field_offsets, peek_header
from cassis_pipe.sim.synthetic.level0 import build_observation
from cassis_pipe.telemetry.science import (
    ScienceFrame,
    decode_science_frame,
    encode_science_frame,
)
from cassis_pipe.telemetry.streams import read_science_stream
from cassis_pipe.telemetry.tc import set_parameter_table, take_image
from cassis_pipe.telemetry.timecode import pack_timecode, unpack_timecode

FIXTURES = [HealthCheck.function_scoped_fixture]


@pytest.fixture(scope="module")
def obs():
    return build_observation(max_frame_data=200)


@pytest.fixture(scope="module")
def plan(obs):
    return plan_from_tc(obs.tc)


def run(plan, parts: list[bytes]):
    data = b"".join(parts)
    rep, _, _ = validate_bytes(data, plan)
    return rep, data


def only(rep, *names: str) -> None:
    """Every finding list outside ``names`` is empty."""
    extra = {n: rep.lists[n] for n in LIST_NAMES if n not in names and rep.lists[n]}
    assert not extra, extra


def offsets_of(parts: list[bytes]) -> list[int]:
    out, pos = [], 0
    for p in parts:
        out.append(pos)
        pos += len(p)
    return out


def multi_part_index(obs) -> int:
    """Index of a frame in the middle of a multi-part framelet."""
    for i in range(1, len(obs.frames) - 1):
        if obs.frames[i - 1][0] == obs.frames[i][0] == obs.frames[i + 1][0]:
            return i
    raise AssertionError("no multi-part framelet")


def test_no_fault_is_clean(obs, plan) -> None:
    rep, _ = run(plan, [b for _, _, b in obs.frames])
    assert rep.ok, rep.summary()
    c = rep.counts()
    assert c["expected_framelets"] == c["received_framelets"] == c["complete_framelets"] == 18
    assert c["frames"] == len(obs.frames) and c["reject_bytes"] == 0
    assert "OK" in rep.summary()
    json.dumps(rep.as_dict())


def test_dropped_frame_is_a_gap(obs, plan) -> None:
    i = multi_part_index(obs)
    key, off, frame = obs.frames[i]
    n = len(decode_science_frame(frame)[0].data)
    rep, _ = run(plan, [b for j, (_, _, b) in enumerate(obs.frames) if j != i])
    only(rep, "incomplete_framelets")
    (inc,) = rep.lists["incomplete_framelets"]
    assert (inc["uid"], inc["window"], inc["sequence"]) == key
    assert inc["missing"] == [[off, off + n]]


def test_dropped_framelet_is_missing(obs, plan) -> None:
    key = obs.frames[0][0]
    rep, _ = run(plan, [b for k, _, b in obs.frames if k != key])
    only(rep, "missing_framelets")
    (m,) = rep.lists["missing_framelets"]
    assert (m["uid"], m["window"], m["sequence"], m["filter"]) == (*key, "PAN")
    c = rep.counts()
    assert c["received_framelets"] == c["expected_framelets"] - 1 == 17


def test_duplicated_frame(obs, plan) -> None:
    parts = [b for _, _, b in obs.frames]
    parts.insert(6, parts[5])
    rep, _ = run(plan, parts)
    only(rep, "duplicates")
    (d,) = rep.lists["duplicates"]
    offs = offsets_of(parts)
    assert (d["file_offset"], d["first_file_offset"], d["identical"]) == (offs[6], offs[5], True)
    fl = rep.framelets[obs.frames[5][0]]
    assert fl.status == "complete" and [p.file_offset for p in fl.duplicates] == [offs[6]]


def test_conflicting_duplicate(obs, plan) -> None:
    parts = [b for _, _, b in obs.frames]
    f = decode_science_frame(parts[5])[0]
    bad = bytearray(f.data)
    bad[3] ^= 0xFF
    parts.insert(6, encode_science_frame(dataclasses.replace(f, data=bytes(bad))))
    rep, _ = run(plan, parts)
    only(rep, "duplicates", "conflicting_framelets")
    assert rep.lists["duplicates"][0]["identical"] is False
    (c,) = rep.lists["conflicting_framelets"]
    assert c["conflicts"][0]["ranges"] == [[f.offset + 3, f.offset + 4]]


def test_reordered_frames(obs, plan) -> None:
    parts = [b for _, _, b in obs.frames]
    parts[7], parts[8] = parts[8], parts[7]
    rep, _ = run(plan, parts)
    only(rep, "out_of_order")
    (o,) = rep.lists["out_of_order"]  # one of the two swapped frames is blamed
    assert o["file_offset"] in offsets_of(parts)[7:9]
    assert rep.counts()["complete_framelets"] == 18


def test_bit_flipped_frame(obs, plan) -> None:
    i = multi_part_index(obs)
    key, off, frame = obs.frames[i]
    parts = [b for _, _, b in obs.frames]
    flipped = bytearray(frame)
    flipped[-40] ^= 0x10  # inside the data TLV
    parts[i] = bytes(flipped)
    rep, _ = run(plan, parts)
    only(rep, "corrupt", "incomplete_framelets")
    (c,) = rep.lists["corrupt"]
    at = offsets_of(parts)[i]
    assert (c["file_offset"], c["length"], c["reason"]) == (at, len(frame), "md5 mismatch")
    assert [(h["uid"], h["window"], h["sequence"], h["offset"]) for h in c["frames"]] == [
        (*key, off)]
    (inc,) = rep.lists["incomplete_framelets"]
    assert inc["corrupt_file_offsets"] == [at]


def test_truncated_frame(obs, plan) -> None:
    i = multi_part_index(obs)
    key, off, frame = obs.frames[i]
    parts = [b for _, _, b in obs.frames]
    for keep in (180, 90):  # cut in the data, cut inside the PE-HK TLV
        parts[i] = frame[:keep]
        rep, _ = run(plan, parts)
        only(rep, "corrupt", "incomplete_framelets")
        (c,) = rep.lists["corrupt"]
        assert (c["file_offset"], c["length"]) == (offsets_of(parts)[i], keep)
        (h,) = c["frames"]
        assert (h["uid"], h["window"], h["sequence"], h["offset"]) == (*key, off)
        assert h.get("partial", False) is (keep == 90)


def test_garbage_between_frames(obs, plan) -> None:
    parts = [b for _, _, b in obs.frames]
    parts.insert(4, bytes(range(7, 107)))
    rep, _ = run(plan, parts)
    only(rep, "corrupt")
    (c,) = rep.lists["corrupt"]
    assert (c["file_offset"], c["length"], c["reason"], c["frames"]) == (
        offsets_of(parts)[4], 100, "garbage", [])


def test_header_field_changed(obs, plan) -> None:
    parts = [b for _, _, b in obs.frames]
    f = decode_science_frame(parts[3])[0]
    parts[3] = encode_science_frame(dataclasses.replace(f, position_mdeg=f.position_mdeg + 1))
    rep, data = run(plan, parts)
    only(rep, "header_mismatches")
    (m,) = rep.lists["header_mismatches"]
    start = offsets_of(parts)[3] + field_offsets(f)["position_mdeg"][0]
    assert (m["field"], m["expected"], m["actual"]) == ("position_mdeg", 100228, 100229)
    assert m["file_offset"] == start and m["byte_offsets"] == [start + 3]
    assert data[start : start + 4] == (100229).to_bytes(4, "big")


def test_header_byte_changed_without_md5_is_corrupt(obs, plan) -> None:
    parts = [b for _, _, b in obs.frames]
    f = decode_science_frame(parts[3])[0]
    b = bytearray(parts[3])
    b[field_offsets(f)["compression"][0]] ^= 1
    parts[3] = bytes(b)
    rep, _ = run(plan, parts)
    assert rep.lists["corrupt"][0]["reason"] == "md5 mismatch"
    only(rep, "corrupt", "missing_framelets", "incomplete_framelets")


def test_exposure_time_total_length_and_unexpected(obs, plan) -> None:
    parts = [b for _, _, b in obs.frames]
    raw_i = next(i for i, (k, _, _) in enumerate(obs.frames) if k[1] == 4)
    f = decode_science_frame(parts[raw_i])[0]
    c, fine = unpack_timecode(f.exposure_timestamp)
    parts[raw_i] = encode_science_frame(dataclasses.replace(
        f, exposure_timestamp=pack_timecode(c - 1, fine), total_length=f.total_length + 2))
    parts.append(encode_science_frame(dataclasses.replace(f, uid=5)))
    parts.append(encode_science_frame(dataclasses.replace(f, type=2)))
    rep, _ = run(plan, parts)
    only(rep, "header_mismatches", "unexpected", "non_science", "conflicting_framelets")
    fields = {m["field"]: m for m in rep.lists["header_mismatches"]}
    assert set(fields) == {"exposure_timestamp", "total_length"}
    assert fields["exposure_timestamp"]["delta_s"] == -1.0
    assert rep.lists["unexpected"][0]["reason"] == "unknown UID"
    assert rep.lists["non_science"][0]["type"] == 2
    # its two parts now disagree on the total length
    (c,) = rep.lists["conflicting_framelets"]
    assert c["conflicts"][0]["values"] == [f.total_length, f.total_length + 2]


def test_report_is_deterministic(obs, plan) -> None:
    parts = [b for _, _, b in obs.frames]
    parts[2], parts[9] = parts[9], parts[2]
    parts.insert(5, b"\x00" * 30)
    a = json.dumps(run(plan, parts)[0].as_dict(), sort_keys=True)
    assert a == json.dumps(run(plan, parts)[0].as_dict(), sort_keys=True)


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURES)
@given(data=st.data())
def test_random_drops_are_exactly_accounted(obs, plan, data) -> None:
    n = len(obs.frames)
    drop = set(data.draw(st.sets(st.integers(0, n - 1), max_size=8)))
    rep, _ = run(plan, [b for j, (_, _, b) in enumerate(obs.frames) if j not in drop])
    only(rep, "missing_framelets", "incomplete_framelets")
    hit = {obs.frames[j][0] for j in drop}
    gone = {k for k in hit if all(j in drop for j, f in enumerate(obs.frames) if f[0] == k)}
    missing = {(m["uid"], m["window"], m["sequence"]) for m in rep.lists["missing_framelets"]}
    incomplete = {(m["uid"], m["window"], m["sequence"])
                  for m in rep.lists["incomplete_framelets"]}
    assert missing == gone
    # a framelet that lost only its last part(s) still knows total_length: always detected
    assert incomplete == hit - gone


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(data=st.data())
def test_fuzzed_streams_never_raise(obs, plan, data) -> None:
    orig = b"".join(b for _, _, b in obs.frames)
    buf = bytearray(orig)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if kind == "flip":
            buf[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "cut":
            del buf[pos : pos + data.draw(st.integers(1, 300))]
        else:
            buf[pos:pos] = data.draw(st.binary(min_size=1, max_size=50))
    rep, _ = run(plan, [bytes(buf)])
    assert rep.ok == (bytes(buf) == orig)
    json.dumps(rep.as_dict())


def test_peek_header_rejects_garbage() -> None:
    assert peek_header(b"\xfa\x00\x00\x00\x10" + bytes(40), 0) is None
    assert peek_header(b"", 0) is None


# ---- flown headers ---------------------------------------------------------------------------


def flown_frame(label) -> ScienceFrame:
    h = label.fsw_header
    return ScienceFrame(
        timestamp=bytes.fromhex(h["Timestamp"]), uid=int(h["UID"]),
        window=int(h["WindowCounter"]), sequence=int(h["SequenceCounter"]),
        compression=int(h["CompressionRatio"]), total_length=int(h["TotalDataLength"]),
        offset=int(h["Offset"]), type=int(h["Type"]), error=int(h["Error"]),
        position_mdeg=int(h["Position"]), exposure_timestamp=bytes.fromhex(h["ExposureTimestamp"]),
        pehk=bytes.fromhex(h["PEHK"]), data=bytes(int(h["Data_Length"])),
        compression_len=int(h["CompressionRatio_Length"]))


@pytest.mark.parametrize("which", range(5))
def test_flown_headers_validate(all_bern_labels, which) -> None:
    """Each flown FSW header matches the pseudo packet predicted from its IMAGE_COMMAND (take-image
    time = exposure time - sequence x Step_exp, since the labels give the command time as 0)."""
    from cassis_pipe.level0.plan import add_microseconds

    label = read_bern_label(all_bern_labels[which])
    table = table_from_label(label)
    frame = flown_frame(label)
    start = add_microseconds(frame.exposure_timestamp, -frame.sequence * table.step_exp_us)
    plan = build_plan([set_parameter_table(4, table), take_image(frame.uid, start, 4)])
    word = 520 if frame.compression == 520 else None
    packets = predict_packets(plan, compression_word=word)
    wire = encode_science_frame(frame)
    rep = validate(read_science_stream(wire), packets, wire, plan)
    assert rep.lists["header_mismatches"] == []
    assert rep.framelets[(frame.uid, frame.window, frame.sequence)].status == "complete"
    p = next(p for p in packets if p.key == (frame.uid, frame.window, frame.sequence))
    assert p.filter == label.filter
    assert p.total_length == (None if word else len(frame.data))


def test_pehk_differing_within_an_exposure(obs, plan) -> None:
    parts = [b for _, _, b in obs.frames]
    i = next(i for i, (k, _, _) in enumerate(obs.frames) if k[1] == 2)  # NIR, exposure 0
    f = decode_science_frame(parts[i])[0]
    pehk = bytearray(f.pehk)
    pehk[1] = 0x96
    parts[i] = encode_science_frame(dataclasses.replace(f, pehk=bytes(pehk)))
    rep, data = run(plan, parts)
    only(rep, "pehk_inconsistent")
    (m,) = rep.lists["pehk_inconsistent"]
    (at,) = m["byte_offsets"]
    assert m["reference_file_offset"] == 0 and data[at] == 0x96
    assert at == offsets_of(parts)[i] + field_offsets(f)["pehk"][0] + 1


def test_flown_pehk_is_the_same_for_all_windows_of_an_exposure(level1b_labels) -> None:
    blocks = {read_bern_label(p).fsw_header["PEHK"] for p in level1b_labels}
    assert len(blocks) == 1


def test_two_images_with_their_own_rotation() -> None:
    a = build_observation(uid=1000, start_s=2e8, position_mdeg=10_000, seed=1,
                          max_frame_data=500)
    b = build_observation(uid=2000, start_s=2e8 + 30, position_mdeg=190_000, seed=2,
                          max_frame_data=500)
    plan = plan_from_tc(a.tc + b.tc)
    assert [(im.uid, im.position_mdeg) for im in plan.images] == [(1000, 10_000),
                                                                   (2000, 190_000)]
    rep, _ = run(plan, [b_ for _, _, b_ in a.frames + b.frames])
    assert rep.ok and rep.counts()["complete_framelets"] == 36
    # the second image's frames first: the smaller of the two blocks is out of order
    rep, _ = run(plan, [b_ for _, _, b_ in b.frames + a.frames])
    only(rep, "out_of_order")
    assert len(rep.lists["out_of_order"]) == min(len(a.frames), len(b.frames))
    # rotation positions swapped between images: one mismatch per frame
    swapped = [encode_science_frame(dataclasses.replace(
        decode_science_frame(x)[0], position_mdeg=190_000)) for _, _, x in a.frames]
    rep, _ = run(plan, swapped + [x for _, _, x in b.frames])
    only(rep, "header_mismatches")
    assert {m["field"] for m in rep.lists["header_mismatches"]} == {"position_mdeg"}
    assert len(rep.lists["header_mismatches"]) == len(a.frames)


def test_take_image_without_time_code_skips_exposure_times(obs) -> None:
    """The flown labels print the take-image time as 0: sizes and headers are still
    predicted, exposure time codes are not."""
    plan = build_plan([set_parameter_table(4, obs.table), take_image(obs.uid, 0, 4)])
    assert "not a CaSSIS time code" in plan.images[0].issues[0]
    packets = predict_packets(plan)
    assert len(packets) == 18 and all(p.exposure_timestamp is None for p in packets)
    rep = validate(read_science_stream(obs.science), packets, obs.science, plan)
    assert rep.ok, rep.summary()
