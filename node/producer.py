"""The single-validator block producer: one block per interval, from the mempool."""

from __future__ import annotations

import asyncio
import logging

from node.chain import Chain

log = logging.getLogger(__name__)


async def serve(
    chain: Chain, *, interval_s: float, empty_blocks: bool, ready: asyncio.Event
) -> None:
    """Produce blocks until cancelled.

    With `empty_blocks` off, the producer waits for a transaction before building; with a zero
    interval it builds as fast as execution and the disk allow.
    """
    loop = asyncio.get_running_loop()
    ready.set()
    next_slot = loop.time()
    while True:
        delay = next_slot - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if not empty_blocks:
            while not chain.has_pending():
                chain.tx_arrived.clear()
                await chain.tx_arrived.wait()
        block = await chain.produce_block()
        if block.transactions:
            log.info(
                "block %d: %d txs, gas %d",
                block.height,
                len(block.transactions),
                block.header.gas_used,
            )
        next_slot = max(next_slot + interval_s, loop.time()) if interval_s else loop.time()
        if not interval_s:
            await asyncio.sleep(0)
