"""Merkle Patricia Trie throughput: building a state trie, per-block updates, block roots.

Run as `python -m bench.trie --seed 1 --size 100000`. Prints figures only; never asserts on
time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from bench.machine import banner
from brainchain.crypto.keccak import keccak256
from brainchain.trie import Trie, ordered_trie_root

ACCOUNT_VALUE_SIZE = 70  # about an account's RLP: nonce, balance, storage root, code hash
ADDRESS_SIZE = 20
ITEM_SIZE = 110  # about a signed transfer transaction


def _per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "inf/s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=100_000, help="accounts in the state trie")
    parser.add_argument("--updates", type=int, default=2_000, help="account updates per block")
    parser.add_argument("--blocks", type=int, default=5, help="blocks to average over")
    parser.add_argument("--items", type=int, default=1_000, help="transactions per block root")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    print(banner())
    start = time.perf_counter()
    for _ in range(10_000):
        keccak256(b"x" * 100)
    print(f"keccak256 (100 bytes): {(time.perf_counter() - start) * 100:.2f} µs/call")

    addresses = [rng.randbytes(ADDRESS_SIZE) for _ in range(args.size)]
    db: dict[bytes, bytes] = {}
    trie = Trie(db, secure=True)
    start = time.perf_counter()
    for address in addresses:
        trie.set(address, rng.randbytes(ACCOUNT_VALUE_SIZE))
    inserted = time.perf_counter()
    db.update(trie.commit())
    built = time.perf_counter()
    print(
        f"build: {args.size:,} accounts, {_per_second(args.size, built - start)} "
        f"(set {inserted - start:.2f} s, commit {built - inserted:.2f} s, {len(db):,} nodes)"
    )

    def run_blocks(label: str, reopen: bool) -> None:
        nonlocal trie
        reads, writes = [], []
        for _ in range(args.blocks):
            if reopen:
                trie = Trie(db, trie.root_hash(), secure=True)
            touched = rng.sample(addresses, args.updates)
            values = [rng.randbytes(ACCOUNT_VALUE_SIZE) for _ in touched]
            start = time.perf_counter()
            for address in touched:
                trie.get(address)
            read = time.perf_counter()
            for address, value in zip(touched, values, strict=True):
                trie.set(address, value)
            db.update(trie.commit())
            reads.append(read - start)
            writes.append(time.perf_counter() - read)
        write = statistics.fmean(writes)
        read = statistics.fmean(reads)
        print(
            f"block ({label}): {args.updates:,} updates + commit in {write * 1e3:.1f} ms"
            f" = {_per_second(args.updates, write)} keys (best {min(writes) * 1e3:.1f} ms);"
            f" reading them first: {read * 1e6 / args.updates:.1f} µs/key"
        )

    run_blocks("warm cache", reopen=False)
    run_blocks("cold, each block reopened from the db", reopen=True)

    items = [rng.randbytes(ITEM_SIZE) for _ in range(args.items)]
    times = []
    for _ in range(10):
        start = time.perf_counter()
        ordered_trie_root(items)
        times.append(time.perf_counter() - start)
    print(
        f"ordered_trie_root: {args.items:,} items of {ITEM_SIZE} bytes in "
        f"{statistics.median(times) * 1e3:.2f} ms (median of {len(times)})"
    )


if __name__ == "__main__":
    main()
