"""Hostile inputs for decoders: random bytes, mutated valid encodings, deep nesting, huge lengths.

Each decoder's test draws from `hostile(valid, RLP or MSGPACK)`: `valid` are real encodings of
what the decoder reads (so mutations land near the accepted language, where the bugs are); the
format names the type and length bytes a mutation writes in (boundaries between short and long
forms, containers, the bytes it leaves undefined) and how it nests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgpack
from hypothesis import strategies as st

from brainchain.encoding import msgpack_canon, rlp

# Nesting around each decoder's bound (16 for RLP and msgpack) and far past it: the issue's
# 100,000 levels, which would overflow a recursive decoder's stack; 1,023 is as deep as
# msgpack's C decoder goes (its stack holds 1,024 arrays), around a field of a record.
DEPTHS = (15, 16, 17, 1_000, 1_023, 100_000)


def rlp_nested(depth: int, core: bytes = b"\x80") -> bytes:
    """`depth` RLP lists, each holding the next, around `core`, every length exact."""
    headers = []
    length = len(core)
    for _ in range(depth):
        header = _rlp_list_header(length)
        headers.append(header)
        length += len(header)
    return b"".join(reversed(headers)) + core


def _rlp_list_header(length: int) -> bytes:
    if length <= rlp.MAX_SHORT_PAYLOAD:
        return bytes([rlp.SHORT_LIST + length])
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([rlp.LONG_LIST + len(size)]) + size


def msgpack_nested(depth: int) -> bytes:
    """`depth` msgpack arrays of one element, each holding the next, around nil."""
    return b"\x91" * depth + b"\xc0"


@dataclass(frozen=True)
class Format:
    """Where a format's structure lives: `markers` are its type bytes worth writing in, `long`
    those followed by a length field, `nested` builds `depth` nested containers."""

    markers: bytes
    long: bytes
    nested: Callable[[int], bytes]


RLP = Format(
    markers=bytes.fromhex("00 7f 80 81 b7 b8 bf c0 c1 f7 f8 ff"),
    long=bytes([*range(0xB8, 0xC0), *range(0xF8, 0x100)]),
    nested=rlp_nested,
)
MSGPACK = Format(
    # fixint, fixmap, fixarray, fixstr, nil, the unused byte, bools, bin, ext, floats, uints,
    # ints, fixext, str, array 16/32, map 16/32, negative fixint.
    markers=bytes.fromhex(
        "00 7f 80 8f 90 9f a0 bf c0 c1 c2 c3 c4 c5 c6 c7 ca cb cc cf d0 d3 d4 d8 d9 db dc dd de df"
        " e0 ff"
    ),
    long=bytes.fromhex("c4 c5 c6 c7 c8 c9 d9 da db dc dd de df"),
    nested=msgpack_nested,
)


@st.composite
def mutated(draw: st.DrawFn, valid: Sequence[bytes], markers: bytes) -> bytes:
    """A valid encoding with one to four edits: a byte flipped or set to a marker, bytes
    inserted, deleted or repeated, or the tail cut."""
    data = bytearray(draw(st.sampled_from(valid)))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(("flip", "marker", "insert", "delete", "repeat", "cut")))
        if edit == "flip" and pos < len(data):
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif edit == "marker" and pos < len(data):
            data[pos] = draw(st.sampled_from(markers))
        elif edit == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        elif edit == "repeat":
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 64))] * draw(st.integers(2, 64))
        elif edit == "cut":
            del data[pos:]
    return bytes(data)


def huge_lengths(fmt: Format) -> st.SearchStrategy[bytes]:
    """A length-prefixed form whose length field claims up to 2**64 bytes, then a short tail."""
    return st.builds(
        lambda marker, size, tail: bytes([marker]) + size + tail,
        st.sampled_from(fmt.long),
        st.sampled_from([b"\xff" * n for n in (1, 2, 4, 8)] + [b"\x7f\xff\xff\xff"]),
        st.binary(max_size=16),
    )


def hostile(valid: Sequence[bytes], fmt: Format) -> st.SearchStrategy[bytes]:
    """What a peer or client may send in place of one of `valid`."""
    return st.one_of(
        st.sampled_from(valid),
        st.binary(max_size=256),
        mutated(valid, fmt.markers),
        st.sampled_from(DEPTHS).map(fmt.nested),
        huge_lengths(fmt),
    )


# Values a canonical msgpack record may hold, integers at msgpack's own bounds included.
msgpack_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.sampled_from([0, 1, -1, 2**32, 2**63 - 1, 2**64 - 1, -(2**63)]),
    st.binary(max_size=80),
    st.text(max_size=8),
)
msgpack_values = st.recursive(
    msgpack_scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=8
)


def shaped(fields: int) -> st.SearchStrategy[list[object]]:
    """Arrays of `fields` values of any type: a record's shape with the wrong contents."""
    return st.lists(msgpack_values, min_size=fields, max_size=fields)


def depth(value: object) -> int:
    """How deeply lists and dicts nest in `value` (0 for a scalar), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level + 1)
            stack.extend((child, level + 1) for child in item)
    return deepest


@st.composite
def deep_field(draw: st.DrawFn, fields: int) -> bytes:
    """A msgpack array of `fields` values, one of them arrays nested DEPTHS deep: the right
    shape, so a decoder gets as far as checking (and describing) that field."""
    values = [msgpack_canon.pack(v) for v in draw(shaped(fields))]
    values[draw(st.integers(0, fields - 1))] = msgpack_nested(draw(st.sampled_from(DEPTHS)))
    header: bytes = msgpack.Packer().pack_array_header(fields)
    return header + b"".join(values)
