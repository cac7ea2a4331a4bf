"""The consensus write-ahead log: our own signed proposals and votes, durable before sent.

Tendermint safety for a restarted validator rests on it never signing two different messages
for one height, round and step (DESIGN.md §4). Each entry is written with sync=True before the
driver broadcasts it, so after kill -9 at any instant a message that left the node is in the
log; the restarted machine replays it (brainchain/consensus/machine.py `_restore`). The block
bytes of what we proposed or precommitted are logged with the message: after a restart the
node may have to re-propose its locked block, or commit the one it voted for, and no peer may
have it. Entries of a height are deleted in the same batch that commits its block.
"""

from __future__ import annotations

import plyvel

from brainchain.types.vote import ConsensusMessage, decode_message, encode_message
from node.store import schema

HEIGHT_PREFIX = schema.WAL


class Wal:
    """Append-only per height; read back in append order."""

    def __init__(self, db: plyvel.DB) -> None:
        self._db = db

    def append(self, message: ConsensusMessage, block: bytes = b"") -> None:
        """Persist one signed message (and the block it names), fsynced, after the others."""
        height = message.height
        prefix = HEIGHT_PREFIX + height.to_bytes(schema.HEIGHT_BYTES, "big")
        seq = sum(1 for _ in self._db.iterator(prefix=prefix, include_value=False))
        with self._db.write_batch(sync=True) as batch:
            batch.put(schema.wal_key(height, seq), encode_message(message))
            if block and message.block_hash is not None:
                batch.put(schema.wal_block_key(height, message.block_hash), block)

    def entries(self, height: int) -> list[ConsensusMessage]:
        """The messages logged for `height`, in append order.

        Raises:
            DecodingError: an entry is corrupt (the log is ours: that is a bug or a bad disk).
        """
        prefix = HEIGHT_PREFIX + height.to_bytes(schema.HEIGHT_BYTES, "big")
        return [decode_message(value) for _, value in self._db.iterator(prefix=prefix)]

    def blocks(self, height: int) -> list[bytes]:
        """The encoded blocks logged with messages of `height`."""
        prefix = schema.WAL_BLOCK + height.to_bytes(schema.HEIGHT_BYTES, "big")
        return [value for _, value in self._db.iterator(prefix=prefix)]

    def prune(self, batch: plyvel.WriteBatch, upto_height: int) -> None:
        """Delete, in `batch`, the entries of every height up to and including `upto_height`."""
        for table in (schema.WAL, schema.WAL_BLOCK):
            start = table + bytes(schema.HEIGHT_BYTES)
            stop = table + (upto_height + 1).to_bytes(schema.HEIGHT_BYTES, "big")
            for key in self._db.iterator(start=start, stop=stop, include_value=False):
                batch.delete(key)
