"""Canonical msgpack: one byte string per value, so hashes of encoded records agree on every node.

Records are encoded as arrays (never maps, whose key order a decoder may not keep), integers in
their shortest form, bytes as bin and text as str, which is what msgpack-python produces with
`use_bin_type=True`. Decoding is strict: the re-encoding must equal the input.
"""

from __future__ import annotations

from typing import Any

import msgpack

from brainchain.errors import DecodingError

MAX_DECODE_BYTES = 16 * 1024 * 1024


def pack(value: Any) -> bytes:
    """Encode `value` (ints, bytes, str, bool, None, lists/tuples of these) canonically."""
    packed: bytes = msgpack.packb(value, use_bin_type=True, strict_types=False)
    return packed


def unpack(data: bytes) -> Any:
    """Decode canonical msgpack; lists come back as lists.

    Raises:
        DecodingError: malformed, oversize or non-canonical input.
    """
    if len(data) > MAX_DECODE_BYTES:
        raise DecodingError(f"msgpack record of {len(data)} bytes exceeds {MAX_DECODE_BYTES}")
    try:
        value = msgpack.unpackb(data, raw=False, use_list=True, strict_map_key=True)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise DecodingError(f"malformed msgpack: {exc}") from exc
    if pack(value) != data:
        raise DecodingError("msgpack record is not in canonical form")
    return value
