"""Fuzzing the JPEG-LS decoder: mutated, truncated and random streams must either decode to an
array of the declared shape or raise JpegLsError -- never crash, hang or raise anything else."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.codec import JpegLsError, decode, decode_batch, encode
from tests.support.testimages import make


@lru_cache(maxsize=1)
def _seeds() -> tuple[bytes, ...]:
    return (
        encode(make("terrain", (24, 31), 14, seed=1), bits_per_sample=14),
        encode(make("noisy", (17, 20), 8, seed=2), near=3),
        encode(make("saturated", (20, 16), 16, seed=3), near=1, restart_interval=4),
        encode(make("flat", (30, 9), 12, seed=4), bits_per_sample=12),
        encode(make("terrain", (12, 12), 5, seed=5), bits_per_sample=5, thresholds=(3, 5, 9),
               reset=20),
    )


def _try(data: bytes) -> bool:
    """Decode; True if it succeeded. Anything but JpegLsError propagates and fails the test."""
    try:
        out = decode(data)
    except JpegLsError:
        return False
    assert out.ndim == 2 and out.dtype in (np.uint8, np.uint16)
    return True


def _mutate(rng: np.random.Generator, data: bytes) -> bytes:
    b = bytearray(data)
    op = rng.integers(0, 6)
    if op == 0:  # flip bits in a few random bytes
        for _ in range(int(rng.integers(1, 5))):
            b[int(rng.integers(0, len(b)))] ^= 1 << int(rng.integers(0, 8))
    elif op == 1:  # overwrite a byte with a random value (often 0xFF: marker-like)
        b[int(rng.integers(0, len(b)))] = 0xFF if rng.random() < 0.3 else int(rng.integers(0, 256))
    elif op == 2:  # truncate
        del b[int(rng.integers(0, len(b))):]
    elif op == 3:  # insert random bytes
        i = int(rng.integers(0, len(b) + 1))
        b[i:i] = rng.integers(0, 256, size=int(rng.integers(1, 4))).astype(np.uint8).tobytes()
    elif op == 4:  # delete a range
        i = int(rng.integers(0, len(b)))
        del b[i:i + int(rng.integers(1, 8))]
    else:  # mutate the header area only (dimensions, NEAR, presets, lengths)
        i = int(rng.integers(2, min(len(b), 45)))
        b[i] = int(rng.integers(0, 256))
    return bytes(b)


def test_thousands_of_mutations_never_crash():
    rng = np.random.default_rng(2024)
    seeds = _seeds()
    ok = failed = 0
    for _ in range(6000):
        data = _mutate(rng, seeds[int(rng.integers(0, len(seeds)))])
        if _try(data):
            ok += 1
        else:
            failed += 1
    assert failed > 1000  # most mutations are detected...
    assert ok > 0  # ...and some (e.g. flipped low bits of samples) decode to another image


def test_every_truncation_raises():
    data = _seeds()[0]
    for cut in range(len(data) - 1):
        with pytest.raises(JpegLsError):
            decode(data[:cut])


def test_mutated_batch_never_crashes():
    rng = np.random.default_rng(5)
    seeds = _seeds()
    for _ in range(50):
        streams = [_mutate(rng, s) for s in seeds]
        try:
            decode_batch(streams, threads=2)
        except JpegLsError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=300))
def test_random_bytes_after_header(tail):
    header = _seeds()[0][:28]  # SOI .. SOS of a 14-bit stream
    _try(header + tail)
    _try(header + tail + b"\xff\xd9")


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=64))
def test_random_bytes(data):
    _try(b"\xff\xd8" + data)
