"""Consensus on a real 4-validator devnet over libp2p: heights/s, commit latency, tx/s.

    python -m bench.consensus --seed 1 --size 4000 [--validators 4] [--seconds 10]

(a) heights per second with empty blocks and a zero block interval: what consensus alone
    sustains (four processes on this machine's cores, gossip over 127.0.0.1).
(b) commit latency: one transfer at a time sent to a node's JSON-RPC, until its receipt is
    readable there; p50 and p95.
(c) committed transfers per second under sustained load: pre-signed transfers from many
    senders, each sender's stream to one node, every node receiving a share, until every
    receipt is readable on the node it was sent to.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.machine import banner
from bench.transfers import CHAIN_ID, _end_to_end, _fund, _keys, presign
from node import devnet

SENDERS = 200


async def _call(session: aiohttp.ClientSession, url: str, method: str, *params: object) -> object:
    payload = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    async with session.post(url, json=payload) as response:
        answer = await response.json()
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


async def heights_per_second(urls: list[str], seconds: float) -> float:
    async with aiohttp.ClientSession() as session:
        start_height = int(str(await _call(session, urls[0], "eth_blockNumber")), 16)
        start = time.perf_counter()
        await asyncio.sleep(seconds)
        end_height = int(str(await _call(session, urls[0], "eth_blockNumber")), 16)
        return (end_height - start_height) / (time.perf_counter() - start)


async def commit_latencies(urls: list[str], raws: list[bytes]) -> list[float]:
    """Seconds from eth_sendRawTransaction to a readable receipt, one transfer at a time."""
    latencies = []
    async with aiohttp.ClientSession() as session:
        for i, raw in enumerate(raws):
            url = urls[i % len(urls)]
            start = time.perf_counter()
            tx_hash = await _call(session, url, "eth_sendRawTransaction", "0x" + raw.hex())
            while await _call(session, url, "eth_getTransactionReceipt", tx_hash) is None:
                await asyncio.sleep(0.002)
            latencies.append(time.perf_counter() - start)
    return latencies


async def load(urls: list[str], raws_per_node: list[list[bytes]]) -> tuple[float, int]:
    """Send each node its share concurrently; time until each has the receipts of its share."""
    start = time.perf_counter()
    results = await asyncio.gather(
        *(_end_to_end(url, raws, 500) for url, raws in zip(urls, raws_per_node, strict=True))
    )
    total = sum(count for _, count in results)
    return total / (time.perf_counter() - start), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=4_000, help="transfers for (c)")
    parser.add_argument("--validators", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of (a)")
    parser.add_argument("--latency-samples", type=int, default=40)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(banner(f"{args.validators} validators"))
    keys = _keys(rng, SENDERS)
    raws = presign(keys, args.size + args.latency_samples, rng)
    # presign deals transfers round-robin over the senders; sender k goes to node k % n.
    n = args.validators
    latency_raws = raws[: args.latency_samples]
    shares: list[list[bytes]] = [[] for _ in range(n)]
    for i, raw in enumerate(raws[args.latency_samples :], start=args.latency_samples):
        shares[(i % SENDERS) % n].append(raw)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "net"
        devnet.create(
            home,
            validators=n,
            chain_id=CHAIN_ID,
            rpc_port=0,
            p2p_port=0,
            metrics_port=0,
            block_interval_s=0.0,
        )
        urls = devnet.start_all(home)
        try:
            _fund(urls[0], keys)
            rate = asyncio.run(heights_per_second(urls, args.seconds))
            print(f"(a) empty blocks, zero interval: {rate:8.1f} heights/s")
            latencies = sorted(asyncio.run(commit_latencies(urls, latency_raws)))
            p50 = statistics.median(latencies)
            p95 = latencies[int(0.95 * (len(latencies) - 1))]
            print(f"(b) commit latency: p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
            tps, total = asyncio.run(load(urls, shares))
            print(f"(c) sustained load over JSON-RPC to all nodes: {tps:8.0f} tx/s ({total} txs)")
        finally:
            for node_home in devnet.node_homes(home):
                devnet.stop_node(node_home)


if __name__ == "__main__":
    main()
