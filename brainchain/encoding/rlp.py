"""Recursive Length Prefix encoding (Yellow Paper App. B), strict on decode.

Hand-written rather than taken from `rlp` (pyrlp): transaction decoding and trie hashing call
it for every transaction and node, and a direct loop over bytes is several times faster than
pyrlp's sedes machinery. Decoding rejects every non-canonical form the RLPTests fixtures name:
leading zeros in lengths, long forms for short payloads, single bytes wrapped as strings,
and trailing bytes. It also refuses lists nested deeper than MAX_DEPTH, so hostile input cannot
drive its recursion (or the recursion of code that walks the result) anywhere near Python's
recursion limit (issue 12).
"""

from __future__ import annotations

from typing import TypeAlias

from brainchain.errors import DecodingError

Item: TypeAlias = bytes | list["Item"]

SHORT_STRING = 0x80
LONG_STRING = 0xB7
SHORT_LIST = 0xC0
LONG_LIST = 0xF7
MAX_SHORT_PAYLOAD = 55
# Deepest list nesting decoded. What we decode nests at most four levels (an EIP-2930 access
# list's storage keys inside its entry, inside the list, inside the transaction; trie nodes with
# inlined children and the RLPTests fixtures no deeper), so this leaves ample room.
MAX_DEPTH = 16


def _length_prefix(length: int, offset: int) -> bytes:
    if length <= MAX_SHORT_PAYLOAD:
        return bytes((offset + length,))
    length_bytes = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((offset + MAX_SHORT_PAYLOAD + len(length_bytes),)) + length_bytes


def encode(item: Item) -> bytes:
    """Encode bytes or a (nested) list of bytes.

    Raises:
        TypeError: for anything but bytes-like objects and lists/tuples of them.
    """
    if isinstance(item, (bytes, bytearray, memoryview)):
        item = bytes(item)
        if len(item) == 1 and item[0] < SHORT_STRING:
            return item
        return _length_prefix(len(item), SHORT_STRING) + item
    if isinstance(item, (list, tuple)):
        payload = b"".join([encode(x) for x in item])
        return _length_prefix(len(payload), SHORT_LIST) + payload
    raise TypeError(f"cannot RLP-encode {type(item).__name__}")


def encode_uint(value: int) -> bytes:
    """Big-endian bytes of a non-negative integer with no leading zeros (0 → empty)."""
    if value < 0:
        raise ValueError("RLP integers are non-negative")
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def decode_uint(data: bytes, max_bits: int = 256) -> int:
    """Parse a canonical RLP integer.

    Raises:
        DecodingError: leading zero byte, a list, or more than `max_bits` bits.
    """
    if not isinstance(data, bytes):
        raise DecodingError("expected an integer, got a list")
    if data[:1] == b"\x00":
        raise DecodingError("integer has leading zero bytes")
    value = int.from_bytes(data, "big")
    if value.bit_length() > max_bits:
        raise DecodingError(f"integer wider than {max_bits} bits")
    return value


def _decode_at(data: bytes, pos: int, end: int, depth: int) -> tuple[Item, int]:
    """Decode one item starting at `pos`, inside `depth` lists; return it and the position
    after it."""
    if pos >= end:
        raise DecodingError("input ends inside an item")
    prefix = data[pos]
    if prefix < SHORT_STRING:
        return data[pos : pos + 1], pos + 1
    if prefix <= LONG_STRING:
        length = prefix - SHORT_STRING
        start = pos + 1
        if length == 1 and start < end and data[start] < SHORT_STRING:
            raise DecodingError("single byte below 0x80 must be encoded as itself")
        stop = start + length
        if stop > end:
            raise DecodingError("string runs past the end of input")
        return data[start:stop], stop
    if prefix < SHORT_LIST:
        start, stop = _long_bounds(data, pos, end, prefix - LONG_STRING)
        return data[start:stop], stop
    if prefix <= LONG_LIST:
        start, stop = pos + 1, pos + 1 + prefix - SHORT_LIST
    else:
        start, stop = _long_bounds(data, pos, end, prefix - LONG_LIST)
    if stop > end:
        raise DecodingError("list runs past the end of input")
    if depth == MAX_DEPTH:
        raise DecodingError(f"lists nested deeper than {MAX_DEPTH} levels")
    items: list[Item] = []
    while start < stop:
        item, start = _decode_at(data, start, stop, depth + 1)
        items.append(item)
    return items, stop


def _long_bounds(data: bytes, pos: int, end: int, size_of_length: int) -> tuple[int, int]:
    """Payload bounds of a long-form string or list whose length takes `size_of_length` bytes."""
    start = pos + 1 + size_of_length
    if start > end:
        raise DecodingError("length runs past the end of input")
    if data[pos + 1] == 0:
        raise DecodingError("length has leading zero bytes")
    length = int.from_bytes(data[pos + 1 : start], "big")
    if length <= MAX_SHORT_PAYLOAD:
        raise DecodingError("long form used for a short payload")
    stop = start + length
    if stop > end:
        raise DecodingError("payload runs past the end of input")
    return start, stop


def decode(data: bytes) -> Item:
    """Decode exactly one canonical RLP item spanning all of `data`.

    Raises:
        DecodingError: empty or truncated input, non-canonical forms, trailing bytes, lists
            nested deeper than MAX_DEPTH.
    """
    data = bytes(data)
    item, pos = _decode_at(data, 0, len(data), 0)
    if pos != len(data):
        raise DecodingError(f"{len(data) - pos} trailing bytes after the RLP item")
    return item
