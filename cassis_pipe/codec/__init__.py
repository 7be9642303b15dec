"""codec stage of cassis-pipe: JPEG-LS (ITU-T T.87) encoder/decoder in numba."""

from .errors import JpegLsError
from .jpegls import decode, decode_batch, encode
from .ratio import NEAR_FOR_RATIO_ID, near_for_ratio_id

__all__ = ["JpegLsError", "decode", "decode_batch", "encode", "NEAR_FOR_RATIO_ID",
           "near_for_ratio_id"]
