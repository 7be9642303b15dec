"""CRC-16/CCITT-FALSE against its check value and an independent implementation (crccheck)."""

from crccheck.crc import Crc16CcittFalse
from hypothesis import given
from hypothesis import strategies as st

from cassis_pipe.telemetry.crc import crc16


def test_check_value() -> None:
    assert crc16(b"123456789") == 0x29B1


def test_empty_is_init() -> None:
    assert crc16(b"") == 0xFFFF


@given(st.binary(max_size=300))
def test_matches_crccheck(data: bytes) -> None:
    assert crc16(data) == Crc16CcittFalse.calc(data)
