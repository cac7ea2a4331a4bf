"""The transactions clients sent to this node, kept on disk until a block commits them.

Issue 12: nothing a node's JSON-RPC accepted is lost, kill -9 included. As geth journals its
local transactions (`core/txpool/locals/journal.go`, `--txpool.journal`) and loads them back
at start, a transaction accepted by eth_sendRawTransaction is written here, and the RPC
server answers with its hash only once the write is fsynced (node/rpc/server.py); at start
the node re-admits every entry through its normal admission, which relays them too
(node/chain.py `Chain.open`). Transactions from peers are not journaled, as in geth: they
reached at least one other node, which holds them itself.

The journal mirrors the local part of the mempool: an entry goes when its transaction leaves
the pool for any reason (committed, stale below its sender's nonce, rejected by a block,
evicted or replaced), so it never holds more than the pool's limits, and replay drops what
was committed or became invalid meanwhile. Deletes are not fsynced: an entry whose delete a
crash lost is dropped by replay if committed, else it is pending again.

Group commit: an fsync costs 0.8-1.4 ms on the 2-core test machine, three to four times the
admission of a transfer (bench/tx_journal.py), and would stall the event loop; so writes run
on a worker thread, one at a time, each carrying every transaction accepted while the
previous one ran, and each client waits for the write that carries its own. With 64
concurrent clients the journal keeps 65-100% of the admission rate; one at a time, each pays
its fsync. LevelDB hands even an unsynced write to the OS before returning, which a process
kill cannot undo; the fsync is for a machine that goes down with the node, as block writes
are (node/store/leveldb.py).

Keys are b"J" + sender + nonce (8 bytes, BE) + hash, so replay reads each sender's
transactions in nonce order and never opens a gap the pool would refuse.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import plyvel

from brainchain.errors import InvalidTransaction
from brainchain.types.transaction import Transaction
from node.store import schema

NONCE_BYTES = 8  # nonces stop at 2**64 - 1 (EIP-2681)

# (puts: key -> raw transaction, deletes), written in one batch, puts after deletes
Batch = tuple[dict[bytes, bytes], set[bytes]]


def _key(tx: Transaction) -> bytes:
    return schema.TX_JOURNAL + tx.sender + tx.nonce.to_bytes(NONCE_BYTES, "big") + tx.hash


class TxJournal:
    """Local transactions by sender and nonce; one accepted is durable once `sync` returns.

    Runs on the event loop thread; only the batch writes run on a worker thread, one at a time.
    """

    def __init__(self, db: plyvel.DB) -> None:
        self._db = db
        self._keys: dict[bytes, bytes] = {}  # tx hash -> key, for every entry kept
        self._puts: dict[bytes, bytes] = {}  # key -> raw, for the next write
        self._deletes: set[bytes] = set()  # keys of entries written (or being written) to drop
        self.accepted = 0  # transactions added, ever
        self._durable = 0  # how many of the first `accepted` are on disk
        self._writing: asyncio.Future[None] | None = None
        self._in_flight: Batch = ({}, set())
        self._lock = threading.Lock()  # a worker's write against close()
        self._closed = False

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, tx_hash: object) -> bool:
        return tx_hash in self._keys

    def add(self, tx: Transaction) -> None:
        """Keep `tx`, which a client sent and the pool admitted; on disk after `sync`."""
        key = _key(tx)
        self._keys[tx.hash] = key
        self._deletes.discard(key)
        self._puts[key] = tx.raw
        self.accepted += 1

    def retain(self, pooled: Callable[[bytes], bool]) -> None:
        """Drop the entries whose transaction the pool no longer holds (`pooled(hash)` false)."""
        for tx_hash in [h for h in self._keys if not pooled(h)]:
            key = self._keys.pop(tx_hash)
            if self._puts.pop(key, None) is None:
                self._deletes.add(key)
        if self._deletes and self._writing is None:
            self._write(({}, self._deletes), sync=False)
            self._deletes = set()

    async def sync(self) -> None:
        """Return once every transaction added before the call is on disk, fsynced.

        Raises:
            plyvel.Error: the write failed (the disk, not the transaction).
        """
        target = self.accepted
        while self._durable < target:
            if self._writing is None:
                self._start_write()
            assert self._writing is not None
            # Shielded: a client that hangs up must not cancel the write others wait on.
            await asyncio.shield(self._writing)

    def _start_write(self) -> None:
        """Hand everything queued to a worker thread as one fsynced batch.

        `_writing` resolves only once `_durable` counts the batch: awaiting a future that is
        already done does not yield, so `sync` must never find one done before that.
        """
        batch, upto = (self._puts, self._deletes), self.accepted
        self._puts, self._deletes = {}, set()
        self._in_flight = batch
        loop = asyncio.get_running_loop()
        writing: asyncio.Future[None] = loop.create_future()

        def written(write: asyncio.Future[None]) -> None:
            self._writing, self._in_flight = None, ({}, set())
            error = write.exception()
            if error is not None:
                writing.set_exception(error)  # to the waiters; queued entries wait for the next
                return
            self._durable = upto
            if self._puts or self._deletes:
                self._start_write()
            writing.set_result(None)

        loop.run_in_executor(None, self._write, batch, True).add_done_callback(written)
        self._writing = writing

    def _write(self, batch: Batch, sync: bool) -> None:
        puts, deletes = batch
        with self._lock:
            if self._closed:
                return  # close() wrote this batch before the store closed
            with self._db.write_batch(sync=sync) as wb:
                for key in deletes:
                    wb.delete(key)
                for key, raw in puts.items():
                    wb.put(key, raw)

    def replay(self, admit: Callable[[bytes], bytes]) -> int:
        """Re-admit every entry through `admit` and keep those it accepts; delete the rest.

        `admit` is the node's admission of a raw transaction: it returns the hash or raises
        InvalidTransaction (committed since, so its nonce is below the sender's; or no longer
        valid, or the pool is full). Returns how many entries were kept.
        """
        refused: set[bytes] = set()
        for key, raw in self._db.iterator(prefix=schema.TX_JOURNAL):
            try:
                tx_hash = admit(raw)
            except InvalidTransaction:
                refused.add(key)
                continue
            self._keys[tx_hash] = key
        if refused:
            self._write(({}, refused), sync=False)
        return len(self._keys)

    def close(self) -> None:
        """Write, fsynced, what is queued or being written, then refuse writes (the store is
        closing). Waits for a worker's write under way."""
        with self._lock:
            if self._closed:
                return
            (puts, deletes), batch = self._in_flight, self._db.write_batch(sync=True)
            for key, raw in puts.items():
                batch.put(key, raw)
            for key in deletes | self._deletes:
                batch.delete(key)
            for key, raw in self._puts.items():
                batch.put(key, raw)
            batch.write()
            self._closed = True
