"""The node's LevelDB store: blocks, receipts, indexes, trie nodes and code.

Every block goes in ONE write batch written with sync=True, so after a kill -9 at any instant
the database holds either all of a block (with its state, receipts, indexes and the new head
pointer) or none of it.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import plyvel

from brainchain.types.block import Block, decode_block
from brainchain.types.receipt import Receipt
from node.store import schema
from node.store.codec import (
    TxLocation,
    decode_location,
    decode_receipts,
    encode_location,
    encode_receipts,
)

BLOCK_CACHE_SIZE = 256


class PrefixedReader:
    """A read-only view of one table, shaped like the tries' `NodeDB` (`get(key)`)."""

    __slots__ = ("_get", "_prefix")

    def __init__(self, db: plyvel.DB, prefix: bytes) -> None:
        self._get = db.get
        self._prefix = prefix

    def get(self, key: bytes) -> bytes | None:
        return self._get(self._prefix + key)


class Store:
    """Blocks by hash and height, receipts, transaction index, trie nodes, code, head pointer."""

    def __init__(self, path: Path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        self._db = plyvel.DB(str(path), create_if_missing=True)
        self.nodes = PrefixedReader(self._db, schema.TRIE_NODE)
        self.code = PrefixedReader(self._db, schema.CODE)
        self._blocks: OrderedDict[bytes, Block] = OrderedDict()

    def close(self) -> None:
        self._db.close()

    # --- reads ------------------------------------------------------------------------------

    def head_hash(self) -> bytes | None:
        return self._db.get(schema.HEAD_KEY)

    def genesis_hash(self) -> bytes | None:
        return self._db.get(schema.GENESIS_KEY)

    def block_hash_at(self, height: int) -> bytes | None:
        if height < 0:
            return None
        return self._db.get(schema.canonical_key(height))

    def block(self, block_hash: bytes) -> Block | None:
        cached = self._blocks.get(block_hash)
        if cached is not None:
            self._blocks.move_to_end(block_hash)
            return cached
        data = self._db.get(schema.BLOCK + block_hash)
        if data is None:
            return None
        block = decode_block(data)
        self._remember(block)
        return block

    def receipts(self, block_hash: bytes) -> tuple[Receipt, ...]:
        data = self._db.get(schema.RECEIPTS + block_hash)
        return () if data is None else decode_receipts(data)

    def tx_location(self, tx_hash: bytes) -> TxLocation | None:
        data = self._db.get(schema.TX_INDEX + tx_hash)
        return None if data is None else decode_location(data)

    # --- writes -----------------------------------------------------------------------------

    def write_block(
        self,
        block: Block,
        receipts: tuple[Receipt, ...],
        nodes: dict[bytes, bytes],
        code: dict[bytes, bytes],
        *,
        genesis: bool = False,
    ) -> None:
        """Persist a committed block and everything it changed, atomically and durably."""
        block_hash = block.hash
        with self._db.write_batch(sync=True) as batch:
            for node_hash, node in nodes.items():
                batch.put(schema.TRIE_NODE + node_hash, node)
            for code_hash, blob in code.items():
                batch.put(schema.CODE + code_hash, blob)
            batch.put(schema.BLOCK + block_hash, block.encode())
            batch.put(schema.RECEIPTS + block_hash, encode_receipts(receipts))
            for index, tx in enumerate(block.transactions):
                location = TxLocation(block_hash, block.height, index)
                batch.put(schema.TX_INDEX + tx.hash, encode_location(location))
            batch.put(schema.canonical_key(block.height), block_hash)
            batch.put(schema.HEAD_KEY, block_hash)
            if genesis:
                batch.put(schema.GENESIS_KEY, block_hash)
        self._remember(block)

    def _remember(self, block: Block) -> None:
        self._blocks[block.hash] = block
        self._blocks.move_to_end(block.hash)
        while len(self._blocks) > BLOCK_CACHE_SIZE:
            self._blocks.popitem(last=False)
