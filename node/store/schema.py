"""LevelDB key layout: one prefix byte per table, so each table is a contiguous key range.

| key                          | value                                          |
| ---------------------------- | ---------------------------------------------- |
| b"H" + height (8 bytes, BE)  | block hash (the canonical chain)               |
| b"B" + block hash            | encoded block (header, raw txs, last commit)   |
| b"R" + block hash            | encoded receipts of that block                 |
| b"T" + tx hash               | msgpack [block hash, height, index]            |
| b"N" + node hash             | trie node (state and storage tries)            |
| b"C" + code hash             | contract code                                  |
| b"K" + height (8 bytes, BE)  | the commit certificate this node saw for it    |
| b"W" + height + seq (4, BE)  | consensus WAL: our own signed votes/proposals  |
| b"P" + height + block hash   | blocks we proposed or precommitted, by the WAL |
| b"E" + offence key           | height of the block that recorded the evidence |
| b"I" + request id (32, BE)   | inference journal: output and salt we commit to |
| b"I" + b"fs" + proposal id   | FL score and salt we commit to                 |
| b"I" + b"fv" + task + version| FL version we recomputed (inference_journal.py) |
| b"J" + sender + nonce + hash | transaction journal: raw txs clients sent here  |
| b"L" + blob id (32)          | blob size (8, BE), written with its chunks     |
| b"L" + blob id + index (4)   | a chunk of the blob (node/store/blobs.py)      |
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
COMMIT = b"K"
WAL = b"W"
WAL_BLOCK = b"P"
EVIDENCE = b"E"
INFERENCE_JOB = b"I"
TX_JOURNAL = b"J"
BLOB = b"L"
WAL_SEQ_BYTES = 4

HEAD_KEY = META + b"head"
GENESIS_KEY = META + b"genesis"


def canonical_key(height: int) -> bytes:
    return CANONICAL + height.to_bytes(HEIGHT_BYTES, "big")


def commit_key(height: int) -> bytes:
    return COMMIT + height.to_bytes(HEIGHT_BYTES, "big")


def wal_key(height: int, seq: int) -> bytes:
    return WAL + height.to_bytes(HEIGHT_BYTES, "big") + seq.to_bytes(WAL_SEQ_BYTES, "big")


def wal_block_key(height: int, block_hash: bytes) -> bytes:
    return WAL_BLOCK + height.to_bytes(HEIGHT_BYTES, "big") + block_hash
