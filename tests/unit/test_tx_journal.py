"""The transaction journal: what clients sent survives a restart until a block commits it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plyvel
import pytest

from brainchain.crypto import ecvrf
from brainchain.crypto.secp256k1 import private_key_to_address
from brainchain.errors import MempoolFull, NonceTooLow
from brainchain.mempool.pool import Mempool
from brainchain.types.transaction import (
    TX_FEE_MARKET,
    Transaction,
    decode_transaction,
    sign_transaction,
)
from genesis.format import Genesis, GenesisValidator
from node.chain import Chain
from node.p2p.gossip import unpack_batch
from node.store import schema
from node.store.tx_journal import TxJournal
from node.tx_relay import TX_RELAY_DELAY_S, TransactionRelay
from tests.unit.blocks import VRF_KEY
from tests.unit.rpc_harness import call, serving

GWEI = 10**9
KEYS = [bytes([7]) * 32, bytes([8]) * 32]
SENDERS = [private_key_to_address(key) for key in KEYS]
PROPOSER = bytes.fromhex("11" * 20)
TO = bytes.fromhex("22" * 20)
GENESIS = Genesis(
    chain_id=1337,
    timestamp=1_700_000_000,
    gas_limit=30_000_000,
    base_fee=GWEI,
    validators=(GenesisValidator("v0", PROPOSER, bytes(32), ecvrf.public_key(VRF_KEY), 1),),
    alloc=tuple((sender, 10**21) for sender in SENDERS),
)


def transfer(
    sender: int, nonce: int, tip: int = GWEI, chain_id: int = 1337, cap: int = 100 * GWEI
) -> bytes:
    return sign_transaction(
        private_key=KEYS[sender],
        tx_type=TX_FEE_MARKET,
        chain_id=chain_id,
        nonce=nonce,
        gas=21_000,
        to=TO,
        value=1,
        max_fee_per_gas=cap,
        max_priority_fee_per_gas=tip,
    ).raw


def on_disk(db: plyvel.DB) -> set[bytes]:
    """The raw transactions the journal's table holds."""
    return {raw for _, raw in db.iterator(prefix=schema.TX_JOURNAL)}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[plyvel.DB]:
    db = plyvel.DB(str(tmp_path / "db"), create_if_missing=True)
    yield db
    db.close()


def reopened(db: plyvel.DB, tmp_path: Path) -> plyvel.DB:
    """Close `db` as a killed process leaves it (no journal close) and open it again."""
    db.close()
    return plyvel.DB(str(tmp_path / "db"))


# --- the journal alone ----------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_synced_entries_come_back_in_nonce_order_per_sender(
    tmp_path: Path, db: plyvel.DB, seed: int
) -> None:
    txs = [decode_transaction(transfer(s, n)) for s in range(2) for n in range(4)]
    random.Random(seed).shuffle(txs)
    journal = TxJournal(db)
    for tx in txs:
        journal.add(tx)
    await journal.sync()
    db = reopened(db, tmp_path)
    replayed: list[tuple[bytes, int]] = []

    def admit(raw: bytes) -> bytes:
        tx = decode_transaction(raw)
        replayed.append((tx.sender, tx.nonce))
        return tx.hash

    again = TxJournal(db)
    assert again.replay(admit) == 8
    assert replayed == sorted((tx.sender, tx.nonce) for tx in txs)
    assert all(tx.hash in again for tx in txs)
    db.close()


@pytest.mark.asyncio
async def test_replay_deletes_what_admission_refuses(db: plyvel.DB) -> None:
    committed, crowded, kept = (decode_transaction(transfer(0, n)) for n in range(3))
    journal = TxJournal(db)
    for tx in (committed, crowded, kept):
        journal.add(tx)
    await journal.sync()
    refusals = {committed.hash: NonceTooLow(1, 0), crowded.hash: MempoolFull("txpool is full")}

    def admit(raw: bytes) -> bytes:
        tx = decode_transaction(raw)
        if tx.hash in refusals:
            raise refusals[tx.hash]
        return tx.hash

    assert TxJournal(db).replay(admit) == 1
    assert on_disk(db) == {kept.raw}


@pytest.mark.asyncio
async def test_retain_deletes_entries_the_pool_dropped(db: plyvel.DB) -> None:
    txs = [decode_transaction(transfer(0, n)) for n in range(4)]
    journal = TxJournal(db)
    for tx in txs[:3]:
        journal.add(tx)
    await journal.sync()
    journal.add(txs[3])  # queued, not yet written
    journal.retain(lambda tx_hash: tx_hash == txs[1].hash)
    assert len(journal) == 1 and txs[1].hash in journal
    journal.close()  # writes what is queued: nothing of the dropped ones
    assert on_disk(db) == {txs[1].raw}


@pytest.mark.asyncio
async def test_unsynced_entries_are_not_on_disk_and_close_writes_them(db: plyvel.DB) -> None:
    tx = decode_transaction(transfer(0, 0))
    journal = TxJournal(db)
    journal.add(tx)
    assert on_disk(db) == set()  # no client was answered yet: sync() writes
    journal.close()  # a clean stop keeps it anyway
    assert on_disk(db) == {tx.raw}


@pytest.mark.asyncio
async def test_concurrent_clients_share_fsynced_writes_and_wait_for_theirs(
    db: plyvel.DB, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = TxJournal(db)
    writes: list[tuple[int, bool]] = []
    write = journal._write

    def counted(batch: tuple[dict[bytes, bytes], set[bytes]], sync: bool) -> None:
        write(batch, sync)
        writes.append((len(batch[0]), sync))

    monkeypatch.setattr(journal, "_write", counted)

    async def client(nonce: int) -> bool:
        tx = decode_transaction(transfer(0, nonce))
        journal.add(tx)
        await journal.sync()
        return tx.raw in on_disk(db)

    assert all(await asyncio.gather(*(client(n) for n in range(20))))
    # The first client's write carries its own; the other 19 arrive while it runs: one more.
    assert writes == [(1, True), (19, True)]


@pytest.mark.asyncio
async def test_a_client_that_hangs_up_does_not_fail_the_others(db: plyvel.DB) -> None:
    journal = TxJournal(db)
    tx = decode_transaction(transfer(0, 0))
    journal.add(tx)
    async with asyncio.TaskGroup() as tg:
        leaver = tg.create_task(journal.sync())
        stayer = tg.create_task(journal.sync())
        await asyncio.sleep(0)  # both wait on the write the leaver started
        leaver.cancel()
    assert leaver.cancelled() and not stayer.cancelled()
    assert on_disk(db) == {tx.raw}


class InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs each job as it is submitted: a write is over before the loop hears of it."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_result(fn(*args, **kwargs))
        return future


@pytest.mark.asyncio
async def test_a_client_arriving_as_a_write_ends_is_carried_by_the_next(db: plyvel.DB) -> None:
    asyncio.get_running_loop().set_default_executor(InlineExecutor())
    journal = TxJournal(db)
    first, second = (decode_transaction(transfer(0, n)) for n in range(2))

    async def client(tx: Transaction) -> None:
        journal.add(tx)
        await journal.sync()

    async with asyncio.TaskGroup() as tg:
        tg.create_task(client(first))
        await asyncio.sleep(0)  # the first write is over; the loop has yet to hear of it
        tg.create_task(client(second))
    assert on_disk(db) == {first.raw, second.raw}


# --- through the chain and the RPC ----------------------------------------------------------


@pytest.mark.asyncio
async def test_reopened_chain_readmits_and_relays_what_no_block_committed(
    tmp_path: Path,
) -> None:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    raws = [transfer(0, n) for n in range(3)]
    for raw in raws:
        chain.submit_transaction(raw, journal=True)
    await chain.store.tx_journal.sync()
    built = chain.build_candidate(
        [decode_transaction(raws[0])], vrf_key=VRF_KEY, timestamp=1_700_000_001, last_commit=b""
    )
    await chain.commit_block(built, b"")
    assert len(chain.store.tx_journal) == 2  # the committed one left with the block
    chain.close()

    again = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    try:
        pending = [tx.raw for tx in again.mempool.pending()]
        assert pending == raws[1:]
        assert again.take_relay() == raws[1:]
        assert again.pool_counts() == (2, 0)
    finally:
        again.close()


@pytest.mark.asyncio
async def test_readmitted_transactions_are_relayed_once_a_peer_connects(tmp_path: Path) -> None:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    raws = [transfer(0, n) for n in range(2)]
    for raw in raws:
        chain.submit_transaction(raw, journal=True)
    chain.close()
    again = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    peers: list[str] = []
    sent: list[bytes] = []
    relay = TransactionRelay(again, sent.append, lambda: peers, relays=False)
    try:
        async with asyncio.TaskGroup() as tg:
            running = tg.create_task(relay.run())
            await asyncio.sleep(5 * TX_RELAY_DELAY_S)
            assert sent == []  # nobody to send to yet: kept, not dropped
            peers.append("a peer")
            async with asyncio.timeout(10):
                while not sent:
                    await asyncio.sleep(TX_RELAY_DELAY_S)
            running.cancel()
    finally:
        again.close()
    assert [raw for batch in sent for raw in unpack_batch(batch)] == raws


@pytest.mark.asyncio
async def test_reopen_drops_entries_committed_or_invalid_meanwhile(tmp_path: Path) -> None:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    committed = transfer(0, 0)
    chain.submit_transaction(committed)
    built = chain.build_candidate(
        chain.select_candidates(), vrf_key=VRF_KEY, timestamp=1_700_000_001, last_commit=b""
    )
    await chain.commit_block(built, b"")
    journal = chain.store.tx_journal
    # Entries whose unsynced delete a crash lost, or that stopped being valid.
    journal.add(decode_transaction(committed))
    journal.add(decode_transaction(transfer(1, 0, chain_id=1)))
    kept = transfer(1, 0)
    chain.submit_transaction(kept, journal=True)
    chain.close()

    for _ in range(2):  # the second opening finds the refused ones gone from disk
        again = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
        try:
            assert [tx.raw for tx in again.mempool.pending()] == [kept]
            assert len(again.store.tx_journal) == 1
        finally:
            again.close()


@pytest.mark.asyncio
async def test_evicted_and_replaced_transactions_leave_the_journal(tmp_path: Path) -> None:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    journal = chain.store.tx_journal
    try:
        chain.mempool = Mempool(max_size=2)
        a0, a1 = transfer(0, 0), transfer(0, 1)
        b0, b0_bumped, b1 = (
            transfer(1, 0, 2 * GWEI),
            transfer(1, 0, 3 * GWEI, cap=200 * GWEI),
            transfer(1, 1, 4 * GWEI),
        )
        for raw in (a0, a1, b0):  # b0 outbids a1, sender 0's tail: a1 is evicted
            chain.submit_transaction(raw, journal=True)
        assert {tx.raw for tx in chain.mempool.pending()} == {a0, b0}
        chain.submit_transaction(b0_bumped, journal=True)  # replaces b0
        chain.submit_transaction(b1)  # from a peer: evicts a0, and is not journaled
        hashes = {decode_transaction(raw).hash: raw for raw in (a0, a1, b0, b0_bumped, b1)}
        assert {raw for h, raw in hashes.items() if h in journal} == {b0_bumped}
        await journal.sync()
    finally:
        chain.close()
    again = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    try:
        assert [tx.raw for tx in again.mempool.pending()] == [b0_bumped]
    finally:
        again.close()


@pytest.mark.asyncio
async def test_rpc_answers_once_accepted_transactions_are_on_disk(tmp_path: Path) -> None:
    async with serving(tmp_path / "data", GENESIS, PROPOSER) as (client, chain):
        db = chain.store._db
        raw = transfer(0, 0)
        answer = await call(client, "eth_sendRawTransaction", "0x" + raw.hex())
        assert "result" in answer and on_disk(db) == {raw}
        refused = await call(client, "eth_sendRawTransaction", "0x" + raw.hex())
        assert "error" in refused  # already known: nothing more journaled
        batch = [transfer(1, n) for n in range(5)]
        body = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_sendRawTransaction",
                "params": ["0x" + r.hex()],
            }
            for i, r in enumerate(batch)
        ]
        answers = await (await client.post("/", json=body)).json()
        assert all("result" in a for a in answers)
        assert on_disk(db) == {raw, *batch}
        assert await call(client, "eth_blockNumber") == {"jsonrpc": "2.0", "id": 1, "result": "0x0"}
