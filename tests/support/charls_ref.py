"""CharLS (the JPEG-LS reference implementation) through ctypes, as a test and benchmark peer.

imagecodecs bundles libcharls but its ``jpegls_encode`` always uses the dtype width as bits per
sample (8 or 16) and exposes no preset parameters; calling the C API directly gives any bit depth
2..16, NEAR and LSE presets. Not used by the pipeline itself. ``available()`` says whether the
library was found.
"""

from __future__ import annotations

import ctypes
import glob
import os
from functools import lru_cache

import numpy as np


class _FrameInfo(ctypes.Structure):
    _fields_ = [("width", ctypes.c_uint32), ("height", ctypes.c_uint32),
                ("bits_per_sample", ctypes.c_int32), ("component_count", ctypes.c_int32)]


class _PcParams(ctypes.Structure):
    _fields_ = [("maximum_sample_value", ctypes.c_int32), ("threshold1", ctypes.c_int32),
                ("threshold2", ctypes.c_int32), ("threshold3", ctypes.c_int32),
                ("reset_value", ctypes.c_int32)]


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL | None:
    try:
        import imagecodecs
    except ImportError:
        return None
    root = os.path.dirname(os.path.dirname(imagecodecs.__file__))
    paths = glob.glob(os.path.join(root, "imagecodecs.libs", "libcharls*.so*"))
    paths += glob.glob("/usr/lib/*/libcharls.so*") + glob.glob("/usr/local/lib/libcharls.so*")
    if not paths:
        return None
    lib = ctypes.CDLL(paths[0])
    vp, sz = ctypes.c_void_p, ctypes.c_size_t
    for name, args in {
        "charls_jpegls_encoder_create": [],
        "charls_jpegls_encoder_destroy": [vp],
        "charls_jpegls_encoder_set_frame_info": [vp, ctypes.POINTER(_FrameInfo)],
        "charls_jpegls_encoder_set_near_lossless": [vp, ctypes.c_int32],
        "charls_jpegls_encoder_set_preset_coding_parameters": [vp, ctypes.POINTER(_PcParams)],
        "charls_jpegls_encoder_get_estimated_destination_size": [vp, ctypes.POINTER(sz)],
        "charls_jpegls_encoder_set_destination_buffer": [vp, vp, sz],
        "charls_jpegls_encoder_encode_from_buffer": [vp, vp, sz, ctypes.c_uint32],
        "charls_jpegls_encoder_get_bytes_written": [vp, ctypes.POINTER(sz)],
        "charls_jpegls_decoder_create": [],
        "charls_jpegls_decoder_destroy": [vp],
        "charls_jpegls_decoder_set_source_buffer": [vp, vp, sz],
        "charls_jpegls_decoder_read_header": [vp],
        "charls_jpegls_decoder_get_frame_info": [vp, ctypes.POINTER(_FrameInfo)],
        "charls_jpegls_decoder_decode_to_buffer": [vp, vp, sz, ctypes.c_uint32],
    }.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = vp if name.endswith("_create") else ctypes.c_int32
    return lib


def available() -> bool:
    """True if libcharls could be loaded."""
    return _lib() is not None


class CharLSError(RuntimeError):
    """CharLS returned an error code."""


def _check(code: int, what: str) -> None:
    if code != 0:
        raise CharLSError(f"CharLS {what} failed with error {code}")


def encode(
    image: np.ndarray, bits: int, near: int = 0,
    preset: tuple[int, int, int, int, int] | None = None,
) -> bytes:
    """CharLS-encode a 2-D uint8/uint16 image (no SPIFF header); preset = (MAXVAL, T1, T2, T3,
    RESET) with 0 meaning default."""
    lib = _lib()
    if lib is None:
        raise CharLSError("libcharls not found")
    img = np.ascontiguousarray(image, dtype=np.uint8 if bits <= 8 else np.uint16)
    h, w = img.shape
    enc = lib.charls_jpegls_encoder_create()
    try:
        fi = _FrameInfo(w, h, bits, 1)
        _check(lib.charls_jpegls_encoder_set_frame_info(enc, ctypes.byref(fi)), "frame info")
        _check(lib.charls_jpegls_encoder_set_near_lossless(enc, near), "near")
        if preset is not None:
            pc = _PcParams(*preset)
            _check(lib.charls_jpegls_encoder_set_preset_coding_parameters(enc, ctypes.byref(pc)),
                   "preset parameters")
        size = ctypes.c_size_t()
        _check(lib.charls_jpegls_encoder_get_estimated_destination_size(enc, ctypes.byref(size)),
               "size")
        dst = ctypes.create_string_buffer(2 * size.value + 4096)  # noisy data can exceed it
        _check(lib.charls_jpegls_encoder_set_destination_buffer(enc, dst, len(dst)), "dest")
        _check(lib.charls_jpegls_encoder_encode_from_buffer(
            enc, img.ctypes.data, img.nbytes, img.strides[0]), "encode")
        n = ctypes.c_size_t()
        _check(lib.charls_jpegls_encoder_get_bytes_written(enc, ctypes.byref(n)), "bytes")
        return dst.raw[:n.value]
    finally:
        lib.charls_jpegls_encoder_destroy(enc)


class Decoder:
    """Reusable CharLS decoder for one stream layout (for benchmarks: no per-call allocation)."""

    def __init__(self) -> None:
        lib = _lib()
        if lib is None:
            raise CharLSError("libcharls not found")
        self._lib = lib

    def decode(self, data: bytes, out: np.ndarray | None = None) -> np.ndarray:
        """Decode ``data``; ``out`` (right shape/dtype) is reused when given."""
        lib = self._lib
        dec = lib.charls_jpegls_decoder_create()
        try:
            src = ctypes.c_char_p(data)
            _check(lib.charls_jpegls_decoder_set_source_buffer(dec, src, len(data)), "source")
            _check(lib.charls_jpegls_decoder_read_header(dec), "header")
            fi = _FrameInfo()
            _check(lib.charls_jpegls_decoder_get_frame_info(dec, ctypes.byref(fi)), "frame")
            if fi.component_count != 1:
                raise CharLSError("only one component supported here")
            dt = np.uint8 if fi.bits_per_sample <= 8 else np.uint16
            if out is None or out.shape != (fi.height, fi.width) or out.dtype != dt:
                out = np.empty((fi.height, fi.width), dtype=dt)
            _check(lib.charls_jpegls_decoder_decode_to_buffer(
                dec, out.ctypes.data, out.nbytes, out.strides[0]), "decode")
            return out
        finally:
            lib.charls_jpegls_decoder_destroy(dec)


def decode(data: bytes) -> np.ndarray:
    """CharLS-decode a one-component stream to uint8/uint16."""
    return Decoder().decode(data)
