"""libp2p between two hosts on 127.0.0.1: connect time, gossip with and without batching, direct
messages (node.p2p.direct), and request/response round trips, all through node.p2p's asyncio
facade.

    python -m bench.p2p --seed 1 --size 5000

Prints figures only; never asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time
from collections.abc import AsyncIterator, Callable
from importlib.metadata import version

from bench.machine import banner
from node.p2p.bridge import P2PNode, TrioGuest
from node.p2p.gossip import pack_batches, unpack_batch
from node.p2p.limits import PROTOCOL_BLOCK_SYNC, TOPIC_TXS

TX_SIZE = 110  # about a signed transfer transaction
IN_FLIGHT = 256  # gossip messages published but not yet received: keeps the outbox from filling
CONNECT_SAMPLES = 10
CONCURRENT_REQUESTS = 16
WAIT_S = 60.0


def _ms(seconds: list[float]) -> str:
    cuts = statistics.quantiles(seconds, n=20)
    return f"p50 {statistics.median(seconds) * 1e3:.1f} ms, p95 {cuts[18] * 1e3:.1f} ms"


async def _echo(peer_id: str, data: bytes) -> bytes:
    return data


class _Nodes:
    """Nodes on one trio guest, each served in the same TaskGroup."""

    def __init__(self, guest: TrioGuest, tg: asyncio.TaskGroup) -> None:
        self.guest, self.tg, self.tasks = guest, tg, list[asyncio.Task[None]]()

    async def start(self, seed: bytes) -> P2PNode:
        node = P2PNode(
            self.guest, key_seed=seed, topics=[TOPIC_TXS], protocols={PROTOCOL_BLOCK_SYNC: _echo}
        )
        ready = asyncio.Event()
        self.tasks.append(self.tg.create_task(node.serve(ready)))
        await ready.wait()
        return node


@contextlib.asynccontextmanager
async def _running() -> AsyncIterator[_Nodes]:
    guest = TrioGuest()
    async with asyncio.TaskGroup() as tg:
        ready = asyncio.Event()
        guest_task = tg.create_task(guest.serve(ready))
        await ready.wait()
        nodes = _Nodes(guest, tg)
        try:
            yield nodes
        finally:
            for task in reversed(nodes.tasks):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            guest_task.cancel()


async def bench_connect(rng: random.Random) -> None:
    connects, meshes = [], []
    for _ in range(CONNECT_SAMPLES):
        async with _running() as nodes:
            a, b = await nodes.start(rng.randbytes(32)), await nodes.start(rng.randbytes(32))
            start = time.perf_counter()
            await b.connect(a.listen_addrs[0])
            connected = time.perf_counter()
            await b.wait_for_mesh(a.peer_id, TOPIC_TXS, WAIT_S)
            await a.wait_for_mesh(b.peer_id, TOPIC_TXS, WAIT_S)
            connects.append(connected - start)
            meshes.append(time.perf_counter() - start)
    print(f"connect (dial, Noise, yamux): {_ms(connects)}; until both meshes hold: {_ms(meshes)}")


async def _gossip(
    send: Callable[[str, bytes], None],
    b: P2PNode,
    messages: list[bytes],
    count: Callable[[bytes], int],
) -> float:
    """`send` (a's publish or send) `messages`, keeping IN_FLIGHT unreceived at most; seconds
    until b has all."""
    sent = received = items = 0
    start = time.perf_counter()
    async with asyncio.timeout(WAIT_S):
        while received < len(messages):
            while sent < len(messages) and sent - received < IN_FLIGHT:
                send(TOPIC_TXS, messages[sent])
                sent += 1
            items += count((await b.inbound.get()).data)
            received += 1
    assert items == sum(count(message) for message in messages)
    return time.perf_counter() - start


async def bench_gossip(rng: random.Random, size: int) -> None:
    txs = [rng.randbytes(TX_SIZE) for _ in range(size)]
    async with _running() as nodes:
        a, b = await nodes.start(rng.randbytes(32)), await nodes.start(rng.randbytes(32))
        await b.connect(a.listen_addrs[0])
        await a.wait_for_mesh(b.peer_id, TOPIC_TXS, WAIT_S)

        for how, send in (("gossip", a.publish), ("direct", a.send)):
            seconds = await _gossip(send, b, txs, lambda _: 1)
            mb = size * TX_SIZE / seconds / 1e6
            print(
                f"{how}, one {TX_SIZE}-byte tx a message: {size / seconds:,.0f} msgs/s,"
                f" {mb:.2f} MB/s"
            )
        for batch_bytes in (4 * 1024, 64 * 1024, 256 * 1024):
            batches = pack_batches(txs, batch_bytes)
            seconds = await _gossip(a.publish, b, batches, lambda data: len(unpack_batch(data)))
            mb = sum(map(len, batches)) / seconds / 1e6
            print(
                f"gossip, batches of {batch_bytes // 1024} KiB ({size // len(batches)} txs):"
                f" {len(batches) / seconds:,.0f} msgs/s, {size / seconds:,.0f} txs/s, {mb:.2f} MB/s"
            )


async def bench_requests(rng: random.Random, size: int) -> None:
    rounds = max(size // 20, 20)
    async with _running() as nodes:
        a, b = await nodes.start(rng.randbytes(32)), await nodes.start(rng.randbytes(32))
        await b.connect(a.listen_addrs[0])
        payload = rng.randbytes(64)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, payload)
            times.append(time.perf_counter() - start)
        print(
            f"request/response, {len(payload)} bytes, one at a time: "
            f"{rounds / sum(times):,.0f} round trips/s, {_ms(times)}"
        )
        slots = asyncio.Semaphore(CONCURRENT_REQUESTS)

        async def one() -> None:
            async with slots:
                await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, payload)

        start = time.perf_counter()
        async with asyncio.TaskGroup() as tg:
            for _ in range(rounds):
                tg.create_task(one())
        seconds = time.perf_counter() - start
        print(
            f"request/response, {CONCURRENT_REQUESTS} in flight: "
            f"{rounds / seconds:,.0f} round trips/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=5_000, help="transactions to gossip")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(banner(f"libp2p {version('libp2p')}, trio {version('trio')}"))
    asyncio.run(bench_connect(rng))
    asyncio.run(bench_gossip(rng, args.size))
    asyncio.run(bench_requests(rng, args.size))


if __name__ == "__main__":
    main()
