"""Transfer throughput: signature recovery, block execution, and end to end over JSON-RPC.

    python -m bench.transfers --seed 1 --size 20000

(a) secp256k1 public-key recovery per second on one core: the bound on transfers per core.
(b) block execution on pre-signed transfers, one core: decode + recover + execute + all roots.
(c) committed transfers per second when they are sent over JSON-RPC to a running node.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from bench.machine import banner
from brainchain.crypto import ecvrf
from brainchain.crypto.secp256k1 import private_key_to_address, recover_address, sign
from brainchain.randomness import prove_randomness
from brainchain.state.state import State
from brainchain.types.transaction import TX_FEE_MARKET, decode_transaction, sign_transaction
from genesis.block import build_genesis_block
from genesis.format import Genesis, GenesisValidator, validator_set_hash
from vm.transition import build_block

GWEI = 10**9
CHAIN_ID = 1337
BLOCK_TXS = 2_000
VRF_KEY = bytes([1]) * 32  # the lone proposer's: it proves each block's randomness


def _keys(rng: random.Random, count: int) -> list[bytes]:
    return [rng.randbytes(32) for _ in range(count)]


def bench_recovery(rng: random.Random, size: int) -> float:
    key = rng.randbytes(32)
    hashes = [rng.randbytes(32) for _ in range(size)]
    signatures = [sign(h, key) for h in hashes]
    start = time.perf_counter()
    for h, (parity, r, s) in zip(hashes, signatures, strict=True):
        recover_address(h, parity, r, s)
    return size / (time.perf_counter() - start)


def presign(keys: list[bytes], size: int, rng: random.Random) -> list[bytes]:
    """Round-robin transfers from `keys` to random recipients, as raw bytes."""
    raws = []
    nonces = [0] * len(keys)
    for i in range(size):
        k = i % len(keys)
        raws.append(
            sign_transaction(
                private_key=keys[k],
                tx_type=TX_FEE_MARKET,
                chain_id=CHAIN_ID,
                nonce=nonces[k],
                gas=21_000,
                to=rng.randbytes(20),
                value=1,
                max_fee_per_gas=100 * GWEI,
                max_priority_fee_per_gas=GWEI,
            ).raw
        )
        nonces[k] += 1
    return raws


def bench_block_execution(rng: random.Random, size: int) -> tuple[float, int]:
    keys = _keys(rng, 500)
    proposer = bytes(20)
    genesis = Genesis(
        chain_id=CHAIN_ID,
        timestamp=0,
        gas_limit=BLOCK_TXS * 21_000,
        base_fee=GWEI,
        validators=(GenesisValidator("v", proposer, bytes(32), ecvrf.public_key(VRF_KEY), 1),),
        alloc=tuple(sorted((private_key_to_address(k), 10**24) for k in keys)),
    )
    db: dict[bytes, bytes] = {}
    block, nodes = build_genesis_block(genesis, State(db))
    db.update(nodes)
    raws = presign(keys, size, rng)
    vhash = validator_set_hash(genesis.validators)
    state = State(db, block.header.state_root)
    parent = block.header
    start = time.perf_counter()
    included = 0
    for offset in range(0, size, BLOCK_TXS):
        txs = [decode_transaction(raw) for raw in raws[offset : offset + BLOCK_TXS]]
        built = build_block(
            state,
            parent,
            txs,
            proposer=proposer,
            timestamp=parent.timestamp + 1,
            validators_hash=vhash,
            randomness_proof=prove_randomness(VRF_KEY, parent),
        )
        db.update(built.nodes)
        included += len(built.block.transactions)
        parent = built.block.header
    return included / (time.perf_counter() - start), included


async def _rpc(session, url: str, payload):  # type: ignore[no-untyped-def]
    async with session.post(url, json=payload) as response:
        return await response.json()


async def _end_to_end(url: str, raws: list[bytes], batch: int) -> tuple[float, int]:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        start = time.perf_counter()
        hashes = []
        for offset in range(0, len(raws), batch):
            payload = [
                {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "eth_sendRawTransaction",
                    "params": ["0x" + r.hex()],
                }
                for i, r in enumerate(raws[offset : offset + batch])
            ]
            for answer in await _rpc(session, url, payload):
                if "error" in answer:
                    raise RuntimeError(f"node refused a transfer: {answer['error']}")
                hashes.append(answer["result"])
        pending = set(hashes)
        while pending:
            probe = sorted(pending)[:500]
            payload = [
                {"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt", "params": [h]}
                for i, h in enumerate(probe)
            ]
            answers = await _rpc(session, url, payload)
            for h, answer in zip(probe, sorted(answers, key=lambda a: a["id"]), strict=True):
                if answer.get("result"):
                    pending.discard(h)
            if pending:
                await asyncio.sleep(0.05)
        return len(hashes) / (time.perf_counter() - start), len(hashes)


def _fund(url: str, keys: list[bytes]) -> None:
    """Give each key 100 ether from the devnet's development accounts, and wait for it."""
    from genesis.devnet import DEV_ACCOUNTS

    raws = []
    for i, key in enumerate(keys):
        dev = DEV_ACCOUNTS[i % len(DEV_ACCOUNTS)]
        raws.append(
            sign_transaction(
                private_key=dev.private_key,
                tx_type=TX_FEE_MARKET,
                chain_id=CHAIN_ID,
                nonce=i // len(DEV_ACCOUNTS),
                gas=21_000,
                to=private_key_to_address(key),
                value=100 * 10**18,
                max_fee_per_gas=100 * GWEI,
                max_priority_fee_per_gas=GWEI,
            ).raw
        )
    asyncio.run(_end_to_end(url, raws, len(raws)))


def bench_end_to_end(rng: random.Random, size: int, interval: float) -> tuple[float, int]:
    """Start a real node process, fund fresh senders, then push pre-signed transfers over RPC."""
    from node import devnet

    keys = _keys(rng, 200)
    raws = presign(keys, size, rng)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "net"
        devnet.create(
            home,
            validators=1,
            chain_id=CHAIN_ID,
            rpc_port=0,
            p2p_port=0,
            metrics_port=0,
            block_interval_s=interval,
        )
        node_home = home / "node0"
        url = devnet.start_node(node_home)
        try:
            _fund(url, keys)
            return asyncio.run(_end_to_end(url, raws, 500))
        finally:
            devnet.stop_node(node_home)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=20_000, help="transfers per measurement")
    parser.add_argument("--interval", type=float, default=0.5, help="block interval for (c), s")
    parser.add_argument("--skip-e2e", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(banner())
    rate = bench_recovery(rng, args.size)
    print(f"(a) secp256k1 recovery: {rate:,.0f} recoveries/s (one core)")
    tps, n = bench_block_execution(rng, args.size)
    print(
        f"(b) block execution: {tps:,.0f} transfers/s (one core, {n} transfers, "
        f"blocks of {BLOCK_TXS}, decode+recover+execute+roots)"
    )
    if not args.skip_e2e:
        tps, n = bench_end_to_end(rng, args.size, args.interval)
        print(
            f"(c) end to end over JSON-RPC: {tps:,.0f} committed transfers/s "
            f"({n} transfers, block interval {args.interval}s)"
        )


if __name__ == "__main__":
    main()
