"""Canonical msgpack: one byte string per value, so hashes of encoded records agree on every node.

Records are encoded as arrays (never maps, whose key order a decoder may not keep), integers in
their shortest form, bytes as bin and text as str, which is what msgpack-python produces with
`use_bin_type=True`. Decoding is strict: the re-encoding must equal the input.

Decoding is also bounded, since peers choose the bytes (issue 12): besides the size, at most
MAX_ARRAYS arrays (one input byte makes an empty list of 56 bytes, and a million of them keep
the garbage collector busy for a second) nested at most MAX_DEPTH deep (code that walks or
prints a decoded value recurses once per level), and only the types `pack` writes: maps,
extension types (timestamps included) and floats are refused, so no record has two encodings.
"""

from __future__ import annotations

from typing import Any

import msgpack

from brainchain.errors import DecodingError

MAX_DECODE_BYTES = 16 * 1024 * 1024
# Arrays in one record. What peers send holds a few, or one per validator (a commit
# certificate's precommits); decoding 16 Ki empty arrays takes about 15 ms.
MAX_ARRAYS = 1 << 14
# Deepest array nesting: our records nest at most five levels (stored receipts' log topics).
MAX_DEPTH = 16
_SCALARS = frozenset({int, bool, bytes, str, type(None)})


def pack(value: Any) -> bytes:
    """Encode `value` (ints, bytes, str, bool, None, lists/tuples of these) canonically."""
    packed: bytes = msgpack.packb(value, use_bin_type=True, strict_types=False)
    return packed


def unpack(data: bytes, *, max_arrays: int | None = MAX_ARRAYS) -> Any:
    """Decode canonical msgpack; lists come back as lists. `max_arrays=None` lifts the bound on
    the number of arrays, for the node's own records only (a block's stored receipts).

    Raises:
        DecodingError: malformed, oversize or non-canonical input, more than `max_arrays`
            arrays, arrays nested deeper than MAX_DEPTH, or a map, extension type or float.
    """
    if len(data) > MAX_DECODE_BYTES:
        raise DecodingError(f"msgpack record of {len(data)} bytes exceeds {MAX_DECODE_BYTES}")
    bounds = _Bounds(max_arrays)
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            list_hook=bounds.array,
            object_pairs_hook=_refuse_map,
            ext_hook=_refuse_ext,
        )
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise DecodingError(f"malformed msgpack: {exc}") from exc
    if type(value) is not list and type(value) not in _SCALARS:
        raise DecodingError(f"msgpack {type(value).__name__} is not a record type")
    if pack(value) != data:
        raise DecodingError("msgpack record is not in canonical form")
    return value


class _Bounds:
    """Checks each array as msgpack builds it, inner arrays first: how many arrays so far, how
    deep this one nests, and that its elements are of types `pack` writes."""

    __slots__ = ("_arrays_left", "_depths", "_max_arrays")

    def __init__(self, max_arrays: int | None) -> None:
        self._max_arrays = self._arrays_left = max_arrays
        self._depths: dict[int, int] = {}  # id of a decoded array holding arrays -> its depth

    def array(self, items: list[Any]) -> list[Any]:
        if self._arrays_left is not None:
            self._arrays_left -= 1
            if self._arrays_left < 0:
                raise DecodingError(f"msgpack record holds over {self._max_arrays} arrays")
        kinds = set(map(type, items))
        if list in kinds:
            kinds.discard(list)
            depth = 1 + max(self._depths.get(id(x), 1) for x in items if type(x) is list)
            if depth > MAX_DEPTH:
                raise DecodingError(f"msgpack arrays nested deeper than {MAX_DEPTH} levels")
            self._depths[id(items)] = depth  # the children are alive in `items`: ids are unique
        if not kinds <= _SCALARS:
            names = ", ".join(sorted(k.__name__ for k in kinds - _SCALARS))
            raise DecodingError(f"msgpack {names} is not a record type")
        return items


def _refuse_map(pairs: list[tuple[Any, Any]]) -> Any:
    raise DecodingError("msgpack map: records are arrays")


def _refuse_ext(code: int, data: bytes) -> Any:
    raise DecodingError(f"msgpack extension type {code}: not a record type")
