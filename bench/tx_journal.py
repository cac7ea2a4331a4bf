"""The transaction journal: what an fsync per accepted transaction costs, what group commit saves.

    python -m bench.tx_journal --seed 1 --size 4000 [--dir /path/on/the/node's/disk]

(a) admission alone: Chain.submit_transaction without the journal, transactions/s (one core).
(b) one fsynced LevelDB put per transaction: the journal without group commit, µs per put.
(c) admission and journal as eth_sendRawTransaction does them: each of `clients` concurrent
    clients submits one transaction and waits for TxJournal.sync before the next;
    transactions/s, and transactions per fsynced write.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

import plyvel

from bench.machine import banner
from bench.transfers import CHAIN_ID, presign
from brainchain.crypto.secp256k1 import private_key_to_address
from genesis.devnet import make_devnet_genesis
from genesis.format import Genesis, GenesisValidator
from node.chain import Chain
from node.store import schema

PROPOSER = bytes.fromhex("11" * 20)
SENDERS = 64  # transactions go round-robin over them; a client sends for whole senders
CLIENTS = (1, 8, 64)


def _genesis(key_sets: list[list[bytes]]) -> Genesis:
    funded = {private_key_to_address(k): 10**24 for keys in key_sets for k in keys}
    validator = GenesisValidator("v0", PROPOSER, bytes(32), bytes(32), 1)
    return make_devnet_genesis([validator], chain_id=CHAIN_ID, extra_alloc=funded)


def bench_admission(data_dir: Path, genesis: Genesis, raws: list[bytes]) -> float:
    chain = Chain.open(data_dir, genesis, proposer=PROPOSER)
    try:
        start = time.perf_counter()
        for raw in raws:
            chain.submit_transaction(raw)
        return len(raws) / (time.perf_counter() - start)
    finally:
        chain.close()


def bench_fsync(data_dir: Path, raws: list[bytes]) -> float:
    db = plyvel.DB(str(data_dir), create_if_missing=True)
    try:
        start = time.perf_counter()
        for i, raw in enumerate(raws):
            db.put(schema.TX_JOURNAL + i.to_bytes(8, "big"), raw, sync=True)
        return (time.perf_counter() - start) / len(raws) * 1e6
    finally:
        db.close()


async def _journaled(chain: Chain, raws: list[bytes], clients: int) -> tuple[float, int]:
    journal = chain.store.tx_journal
    fsyncs = 0
    write = journal._write

    def counted(batch, sync):  # type: ignore[no-untyped-def]
        nonlocal fsyncs
        fsyncs += sync
        write(batch, sync)

    journal._write = counted  # type: ignore[method-assign]

    async def client(share: list[bytes]) -> None:
        for raw in share:
            chain.submit_transaction(raw, journal=True)
            await journal.sync()

    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for i in range(clients):  # SENDERS % clients == 0: each sender's nonces stay in order
            tg.create_task(client(raws[i::clients]))
    return len(raws) / (time.perf_counter() - start), fsyncs


def bench_journaled(
    data_dir: Path, genesis: Genesis, raws: list[bytes], clients: int
) -> tuple[float, int]:
    chain = Chain.open(data_dir, genesis, proposer=PROPOSER)
    try:
        return asyncio.run(_journaled(chain, raws, clients))
    finally:
        chain.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=4000, help="transactions per measurement")
    parser.add_argument("--dir", type=Path, default=None, help="where the databases go")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    # Fresh senders per run: decoding remembers transactions, and a second run would skip it.
    key_sets = [[rng.randbytes(32) for _ in range(SENDERS)] for _ in range(1 + len(CLIENTS))]
    genesis = _genesis(key_sets)
    raw_sets = [presign(keys, args.size, rng) for keys in key_sets]
    print(banner(f"{args.size} transfers per run, {SENDERS} senders"))
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        print(f"data directory: {tmp}")
        rate = bench_admission(Path(tmp) / "a", genesis, raw_sets[0])
        print(f"(a) admission alone: {rate:,.0f} tx/s ({1e6 / rate:.0f} µs/tx)")
        put = bench_fsync(Path(tmp) / "b", raw_sets[0])
        print(f"(b) one fsynced put per transaction: {put:.0f} µs/put")
        for run, clients in enumerate(CLIENTS, start=1):
            rate, fsyncs = bench_journaled(
                Path(tmp) / f"c{clients}", genesis, raw_sets[run], clients
            )
            print(
                f"(c) admission + journal, {clients:>2} client(s) at once: {rate:,.0f} tx/s, "
                f"{args.size / fsyncs:.1f} tx per fsync"
            )


if __name__ == "__main__":
    main()
