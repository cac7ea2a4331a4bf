"""LevelDB key layout: one prefix byte per table, so each table is a contiguous key range.

| key                          | value                                          |
| ---------------------------- | ---------------------------------------------- |
| b"H" + height (8 bytes, BE)  | block hash (the canonical chain)               |
| b"B" + block hash            | encoded block (header, raw txs, last commit)   |
| b"R" + block hash            | encoded receipts of that block                 |
| b"T" + tx hash               | msgpack [block hash, height, index]            |
| b"N" + node hash             | trie node (state and storage tries)            |
| b"C" + code hash             | contract code                                  |
| b"M" + name                  | metadata: head hash, genesis hash              |
"""

from __future__ import annotations

HEIGHT_BYTES = 8

CANONICAL = b"H"
BLOCK = b"B"
RECEIPTS = b"R"
TX_INDEX = b"T"
TRIE_NODE = b"N"
CODE = b"C"
META = b"M"

HEAD_KEY = META + b"head"
GENESIS_KEY = META + b"genesis"


def canonical_key(height: int) -> bytes:
    return CANONICAL + height.to_bytes(HEIGHT_BYTES, "big")
