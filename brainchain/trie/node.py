"""Merkle Patricia Trie nodes in memory, and their RLP encoding (Yellow Paper App. D).

Nodes are bare tuples and lists, not objects, to keep the per-node cost of a big state trie
low:

- branch: 17 items, slots 0-15 hold child references and slot 16 the value (b"" for none);
  a `list` while dirty (it may be mutated in place), a `tuple` once clean;
- leaf: `(path, value)` where `path` ends with the terminator nibble (see `nibbles`);
- extension: `(path, child)` where `path` is non-empty and has no terminator.

A child reference is the child's RLP form as its parent embeds it (App. D eq. 193):
`EMPTY_REF` (b"\\x80") for no child, `HASH_REF_PREFIX + keccak` (33 bytes) for a child whose
encoding is 32 bytes or longer, or the child node itself (a tuple or list) when it is inlined
or not yet hashed. Keeping hash references pre-encoded makes encoding a branch one `join`.
"""

from __future__ import annotations

from typing import Any

from brainchain.crypto.keccak import keccak256
from brainchain.encoding import rlp
from brainchain.errors import DecodingError
from brainchain.trie.nibbles import TERMINATOR, hp_decode, hp_encode_extension, hp_encode_leaf

Node = tuple[Any, ...] | list[Any]
Ref = bytes | Node

EMPTY_REF = b"\x80"
"""RLP of the empty string: an empty branch slot, or the root of an empty trie."""

EMPTY_TRIE_ROOT = keccak256(EMPTY_REF)
"""Root hash of a trie with no keys: keccak256(rlp(b""))."""

HASH_REF_PREFIX = b"\xa0"
"""RLP prefix of a 32-byte string: a hash reference is this byte followed by the hash."""

HASH_SIZE = 32
"""Nodes whose encoding is at least this long are referenced by hash (App. D eq. 193)."""

BRANCH_WIDTH = 17
"""A branch node has 16 child slots and one value slot."""

_SHORT_LIMIT = 56
_STRING_PREFIX = tuple(bytes((0x80 + n,)) for n in range(_SHORT_LIMIT))
_SINGLE_BYTE_LIMIT = 0x80
_LONG_STRING = 0xB7
_LONG_LIST = 0xF7
_SHORT_LIST = 0xC0


def _long_prefix(length: int, offset: int) -> bytes:
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((offset + len(size),)) + size


_LIST_HEADER_TABLE = 1024  # covers every branch of hash references and most leaves
_LIST_HEADERS = tuple(
    bytes((_SHORT_LIST + n,)) if n < _SHORT_LIMIT else _long_prefix(n, _LONG_LIST)
    for n in range(_LIST_HEADER_TABLE)
)


def encode_string(data: bytes) -> bytes:
    """RLP of a byte string (App. B)."""
    n = len(data)
    if n < _SHORT_LIMIT:
        if n == 1 and data[0] < _SINGLE_BYTE_LIMIT:
            return data
        return _STRING_PREFIX[n] + data
    return _long_prefix(n, _LONG_STRING) + data


def list_header(payload_length: int) -> bytes:
    """RLP prefix of a list whose items encode to `payload_length` bytes (App. B)."""
    if payload_length < _LIST_HEADER_TABLE:
        return _LIST_HEADERS[payload_length]
    return _long_prefix(payload_length, _LONG_LIST)


def encode_branch(pieces: list[bytes], value: bytes) -> bytes:
    """RLP of a branch from its 16 children's embedded forms and its value."""
    pieces.append(encode_string(value))
    payload = b"".join(pieces)
    return list_header(len(payload)) + payload


def encode_leaf(path: bytes, value: bytes) -> bytes:
    """RLP of a leaf: [HP(path, leaf), value]."""
    payload = encode_string(hp_encode_leaf(path)) + encode_string(value)
    return list_header(len(payload)) + payload


def encode_extension(path: bytes, child_piece: bytes) -> bytes:
    """RLP of an extension: [HP(path, extension), child's embedded form]."""
    payload = encode_string(hp_encode_extension(path)) + child_piece
    return list_header(len(payload)) + payload


def embed(encoded: bytes) -> bytes:
    """A node's form inside its parent: itself when short, else the hash reference (eq. 193)."""
    if len(encoded) < HASH_SIZE:
        return encoded
    return HASH_REF_PREFIX + keccak256(encoded)


def encode_node(node: Node) -> bytes:
    """RLP of a clean node (children hashed or inline); inline children are encoded in place."""
    if len(node) == BRANCH_WIDTH:
        pieces = [c if type(c) is bytes else embed(encode_node(c)) for c in node[:16]]
        return encode_branch(pieces, node[16])
    path, second = node
    if path[-1] == TERMINATOR:
        return encode_leaf(path, second)
    piece = second if type(second) is bytes else embed(encode_node(second))
    return encode_extension(path, piece)


_ONE_BYTE_LENGTH = 0xF8  # list prefix: payload length in the next byte
_TWO_BYTE_LENGTH = 0xF9  # list prefix: payload length in the next two bytes
_TWO_BYTE_MIN = 256
_EMPTY_MARKER = EMPTY_REF[0]
_HASH_MARKER = HASH_REF_PREFIX[0]
_HASH_REF_SIZE = HASH_SIZE + 1


def decode_node(encoded: bytes) -> Node:
    """Parse a node's RLP into the in-memory form (a clean tuple).

    Raises:
        DecodingError: invalid RLP, or a structure that is not a trie node.
    """
    node = _decode_plain_branch(encoded)
    return _from_item(rlp.decode(encoded)) if node is None else node


def _decode_plain_branch(encoded: bytes) -> Node | None:
    """Fast path for the commonest stored node: a branch of hash references and no value.

    Returns None for anything else, which the strict general decoder then handles; what it
    accepts is exactly canonical, so both paths agree.
    """
    size = len(encoded)
    if size < _SHORT_LIMIT:
        return None
    if encoded[0] == _TWO_BYTE_LENGTH and encoded[1]:
        pos = 3
        length = (encoded[1] << 8) | encoded[2]
        if length < _TWO_BYTE_MIN:
            return None
    elif encoded[0] == _ONE_BYTE_LENGTH and encoded[1] >= _SHORT_LIMIT:
        pos = 2
        length = encoded[1]
    else:
        return None
    end = pos + length
    if end != size:
        return None
    children: list[bytes] = []
    for _ in range(16):
        marker = encoded[pos]
        if marker == _EMPTY_MARKER and pos + 1 < end:
            children.append(EMPTY_REF)
            pos += 1
        elif marker == _HASH_MARKER and pos + _HASH_REF_SIZE < end:
            children.append(encoded[pos : pos + _HASH_REF_SIZE])
            pos += _HASH_REF_SIZE
        else:
            return None
    if pos + 1 != end or encoded[pos] != _EMPTY_MARKER:
        return None
    return (*children, b"")


def _ref_from_item(item: rlp.Item) -> Ref:
    if type(item) is bytes:
        if not item:
            return EMPTY_REF
        if len(item) == HASH_SIZE:
            return HASH_REF_PREFIX + item
        raise DecodingError(f"child reference of {len(item)} bytes is neither empty nor a hash")
    return _from_item(item)


def _from_item(item: rlp.Item) -> Node:
    if type(item) is not list:
        raise DecodingError("trie node is not an RLP list")
    if len(item) == BRANCH_WIDTH:
        value = item[16]
        if type(value) is not bytes:
            raise DecodingError("branch value is a list")
        return (*[_ref_from_item(c) for c in item[:16]], value)
    if len(item) != 2:
        raise DecodingError(f"trie node has {len(item)} items, not 2 or 17")
    encoded_path, second = item
    if type(encoded_path) is not bytes:
        raise DecodingError("node path is a list")
    path, is_leaf = hp_decode(encoded_path)
    if is_leaf:
        if type(second) is not bytes:
            raise DecodingError("leaf value is a list")
        return (path, second)
    if not path:
        raise DecodingError("extension with an empty path")
    child = _ref_from_item(second)
    if child == EMPTY_REF:
        raise DecodingError("extension without a child")
    return (path, child)
