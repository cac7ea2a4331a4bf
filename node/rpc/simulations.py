"""eth_call, eth_estimateGas, eth_createAccessList and the traces off the event loop, a bounded
number at a time.

Why: a simulation runs the EVM for up to the RPC gas cap (node/chain.py CallLimits), seconds of
CPU; on the event loop it would hold up consensus, p2p and every other request for that long.
On worker threads the loop keeps running (it takes the GIL back at least every switch
interval), and a bounded wait list turns a flood of heavy calls into quick "busy" errors
instead of an ever-growing backlog (geth bounds its RPC work the same way).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from node.rpc.errors import LIMIT_EXCEEDED, RpcError

# Methods that execute EVM code for a client rather than read stored results (the debug_trace*
# ones re-execute stored transactions: node/rpc/debug.py).
SIMULATIONS = frozenset(
    {
        "eth_call",
        "eth_estimateGas",
        "eth_createAccessList",
        "debug_traceTransaction",
        "debug_traceCall",
        "debug_traceBlockByNumber",
        "debug_traceBlockByHash",
    }
)
DEFAULT_WORKERS = 1
DEFAULT_MAX_WAITING = 64

_T = TypeVar("_T")


class SimulationPool:
    """Worker threads for simulations, with at most `max_waiting` queued behind them."""

    def __init__(
        self, workers: int = DEFAULT_WORKERS, max_waiting: int = DEFAULT_MAX_WAITING
    ) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="rpc-simulation")
        self._capacity = workers + max_waiting
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Simulations running or waiting now."""
        return self._admitted

    async def run(self, work: Callable[[], _T]) -> _T:
        """`work()` on a worker thread.

        Raises:
            RpcError: LIMIT_EXCEEDED, when `max_waiting` simulations already wait.
        """
        if self._admitted >= self._capacity:
            raise RpcError(
                LIMIT_EXCEEDED, f"too many simulations in progress ({self._capacity}); retry later"
            )
        self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._admitted -= 1

    def close(self) -> None:
        """Drop what waits; a running simulation ends at its time limit, on its own."""
        self._executor.shutdown(wait=False, cancel_futures=True)
