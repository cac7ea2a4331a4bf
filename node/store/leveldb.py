"""The node's LevelDB store: blocks, receipts, indexes, trie nodes and code.

Every block goes in ONE write batch written with sync=True, so after a kill -9 at any instant
the database holds either all of a block (with its state, receipts, indexes and the new head
pointer) or none of it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Generic, TypeVar

import plyvel

from brainchain.types.block import Block, decode_block
from brainchain.types.evidence import decode_evidence
from brainchain.types.receipt import Receipt
from node.store import schema
from node.store.blobs import BlobStore
from node.store.codec import (
    TxLocation,
    decode_location,
    decode_receipts,
    encode_location,
    encode_receipts,
)
from node.store.inference_journal import InferenceJournal
from node.store.tx_journal import TxJournal
from node.store.wal import Wal

T = TypeVar("T")
BLOCK_CACHE_SIZE = 256
RECEIPTS_CACHE_SIZE = 64  # receipt lookups cluster on recent blocks (clients poll for them)


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
        self.wal = Wal(self._db)
        self.inference = InferenceJournal(self._db)
        self.tx_journal = TxJournal(self._db)
        self.blobs = BlobStore(self._db)
        self._blocks: LRU[Block] = LRU(BLOCK_CACHE_SIZE)
        self._receipts: LRU[tuple[Receipt, ...]] = LRU(RECEIPTS_CACHE_SIZE)

    def close(self) -> None:
        self.tx_journal.close()
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
        block = self._blocks.get(block_hash)
        if block is None:
            data = self._db.get(schema.BLOCK + block_hash)
            if data is None:
                return None
            block = decode_block(data)
            self._blocks.put(block_hash, block)
        return block

    def receipts(self, block_hash: bytes) -> tuple[Receipt, ...]:
        receipts = self._receipts.get(block_hash)
        if receipts is None:
            data = self._db.get(schema.RECEIPTS + block_hash)
            if data is None:
                return ()
            receipts = decode_receipts(data)
            self._receipts.put(block_hash, receipts)
        return receipts

    def evidence_height(self, key: bytes) -> int | None:
        """The height of the block that recorded the offence `key` (DoubleSign.key), if any."""
        data = self._db.get(schema.EVIDENCE + key)
        return None if data is None else int.from_bytes(data, "big")

    def commit_at(self, height: int) -> bytes | None:
        """The encoded commit certificate this node holds for the block at `height`."""
        return self._db.get(schema.commit_key(height))

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
        commit: bytes = b"",
        genesis: bool = False,
    ) -> None:
        """Persist a committed block and everything it changed, atomically and durably.

        `commit` is the encoded certificate that decided it; the block's WAL entries go in the
        same batch, as the height is over.
        """
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
            if commit:
                batch.put(schema.commit_key(block.height), commit)
            for evidence in block.evidence:
                key = decode_evidence(evidence).key
                batch.put(schema.EVIDENCE + key, block.height.to_bytes(schema.HEIGHT_BYTES, "big"))
            self.wal.prune(batch, block.height)
            if genesis:
                batch.put(schema.GENESIS_KEY, block_hash)
        self._blocks.put(block_hash, block)
        self._receipts.put(block_hash, receipts)


class LRU(Generic[T]):
    """A small least-recently-used cache of decoded records by key.

    Locked: the block producer's worker thread fills it while RPC handlers read it.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[bytes, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> T | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: bytes, item: T) -> None:
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
