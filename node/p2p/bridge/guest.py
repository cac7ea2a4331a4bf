"""The one trio run of a process, driven as a guest of the asyncio loop (STYLE §5).

py-libp2p is trio-only. `trio.lowlevel.start_guest_run` drives trio from the asyncio loop on the
same thread, so values cross without locks: asyncio hands trio work through memory channels
(`send_nowait`), trio answers through asyncio futures, events and queues (`put_nowait`). Trio
allows one run per thread, so a process holds one `TrioGuest`, and each `P2PNode` (one in a node,
several in a test) runs its host as a task in the guest's nursery. Stopping waits for the hosts,
then cancels the guest's `CancelScope` and awaits its done callback before the loop closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import trio

from node.p2p import P2PError
from node.p2p.bridge.patches import FRAME_WRITE_TIMEOUT_S

if TYPE_CHECKING:
    import outcome

# How long a host has to stop: close its connections (a frame, then GO_AWAY), then its tasks.
CLOSE_TIMEOUT_S = 2 * FRAME_WRITE_TIMEOUT_S
STOP_TIMEOUT_S = CLOSE_TIMEOUT_S + 5.0

Work = Callable[[], Awaitable[None]]
"""A trio task not yet started: asyncio code hands these to trio."""


class TrioGuest:
    """The one trio run on this thread, a guest of the asyncio loop; hosts run in its nursery."""

    def __init__(self) -> None:
        self._spawn, self._spawned = trio.open_memory_channel[Work](math.inf)
        self._scope = trio.CancelScope()
        self.running = False

    async def serve(self, ready: asyncio.Event) -> None:
        """Run trio until cancelled; then wait for the hosts to stop, and end the guest run.

        Raises:
            What a trio task let escape: a bug, which ends the run.
        """
        loop = asyncio.get_running_loop()
        finished = asyncio.Event()
        result: list[outcome.Outcome[None]] = []

        def done(run: outcome.Outcome[None]) -> None:
            self.running = False
            result.append(run)
            finished.set()

        # The ignores: libp2p pulls in trio-typing, whose stale stubs want callbacks returning None.
        trio.lowlevel.start_guest_run(
            self._main,
            run_sync_soon_threadsafe=loop.call_soon_threadsafe,  # type: ignore[arg-type]
            run_sync_soon_not_threadsafe=loop.call_soon,  # type: ignore[arg-type]
            done_callback=done,
            host_uses_signal_set_wakeup_fd=True,
        )
        self.running = True
        try:
            ready.set()
            await finished.wait()
        finally:
            # Hosts first: a TaskGroup cancels their `serve` along with this one, and each stops
            # its host in order. Only what is still running after that is cancelled.
            self._spawn.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await finished.wait()
            self._scope.cancel()
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await finished.wait()
            result[0].unwrap()

    def start_soon(self, work: Work) -> None:
        """Run `work` as a trio task in the guest's nursery.

        Raises:
            P2PError: the guest is not running.
        """
        if not self.running:
            raise P2PError("the trio guest is not running")
        self._spawn.send_nowait(work)

    async def _main(self) -> None:
        with self._scope:
            async with trio.open_nursery() as nursery:
                async for work in self._spawned:
                    nursery.start_soon(work)
