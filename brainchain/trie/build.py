"""Roots of whole tries built in one pass, bottom-up from sorted keys (Yellow Paper App. D).

Used where every key is known at once: a block's transactions and receipts roots (keys
rlp(index), Yellow Paper §4.3) and a genesis state. Sorting the paths makes each subtree a
contiguous run, so every node is encoded once and no intermediate trie is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from brainchain.crypto.keccak import keccak256
from brainchain.trie.nibbles import TERMINATOR, key_to_path
from brainchain.trie.node import (
    EMPTY_REF,
    EMPTY_TRIE_ROOT,
    embed,
    encode_branch,
    encode_extension,
    encode_leaf,
)

_EMPTY_SLOTS = (EMPTY_REF,) * 16
_SINGLE_BYTE_LIMIT = 0x80
_SHORT_STRING = 0x80


def _index_key(index: int) -> bytes:
    """rlp(index): the key of the index-th transaction or receipt (App. B)."""
    if index == 0:
        return b"\x80"
    if index < _SINGLE_BYTE_LIMIT:
        return bytes((index,))
    raw = index.to_bytes((index.bit_length() + 7) // 8, "big")
    return bytes((_SHORT_STRING + len(raw),)) + raw


def ordered_trie_root(items: Sequence[bytes]) -> bytes:
    """Root of the trie mapping rlp(i) to items[i]: transactions and receipts roots (§4.3).

    Empty items are left out, as `Trie.set` with an empty value would.
    """
    entries = sorted([(key_to_path(_index_key(i)), item) for i, item in enumerate(items) if item])
    return _root_of(entries)


def trie_root(items: Mapping[bytes, bytes], *, secure: bool = False) -> bytes:
    """Root of the trie holding `items` (keys hashed when `secure`); empty values left out."""
    if secure:
        pairs = [(key_to_path(keccak256(k)), v) for k, v in items.items() if v]
    else:
        pairs = [(key_to_path(k), v) for k, v in items.items() if v]
    pairs.sort()
    return _root_of(pairs)


def _root_of(entries: list[tuple[bytes, bytes]]) -> bytes:
    if not entries:
        return EMPTY_TRIE_ROOT
    paths = [path for path, _ in entries]
    values = [value for _, value in entries]
    return keccak256(_encode(paths, values, 0, len(paths), 0))


def _encode(paths: list[bytes], values: list[bytes], lo: int, hi: int, depth: int) -> bytes:
    """RLP of the node holding paths[lo:hi], which share their first `depth` nibbles."""
    if hi - lo == 1:
        return encode_leaf(paths[lo][depth:], values[lo])
    first, last = paths[lo], paths[hi - 1]
    end = depth
    while first[end] == last[end]:  # sorted: the first and last share what all share
        end += 1
    if end > depth:
        child = embed(_encode(paths, values, lo, hi, end))
        return encode_extension(first[depth:end], child)
    pieces = list(_EMPTY_SLOTS)
    value = b""
    start = lo
    while start < hi:
        nibble = paths[start][depth]
        if nibble == TERMINATOR:  # the key ending here sorts last among its siblings
            value = values[start]
            start += 1
            continue
        stop = start + 1
        while stop < hi and paths[stop][depth] == nibble:
            stop += 1
        pieces[nibble] = embed(_encode(paths, values, start, stop, depth + 1))
        start = stop
    return encode_branch(pieces, value)
