"""Node timers: the machine's timeouts as loop timers that deliver `TimeoutFired` (STYLE §4).

Durations come from the machine's pure function of the round (brainchain/consensus/timeouts.py);
here a loop timer delivers each event, as the simulator's clock does in brainchain/sim. A stale
one is harmless: it fails the machine's height/round/step guards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from brainchain.consensus.events import Event
from brainchain.consensus.timeouts import TimeoutConfig


def timeouts_for(interval_s: float) -> TimeoutConfig:
    """CometBFT's timeouts, with the propose timeout covering the wait for the block interval."""
    base = TimeoutConfig()
    return TimeoutConfig(propose_ms=base.propose_ms + int(interval_s * 1000))


class Timers:
    """Loop timers that hand their event to `deliver`; `cancel_all` stops those not yet fired."""

    def __init__(self, deliver: Callable[[Event], None]) -> None:
        self._deliver = deliver
        self._pending: set[asyncio.TimerHandle] = set()

    def later(self, delay_s: float, event: Event) -> None:
        """Deliver `event` after `delay_s` seconds."""
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle

        def fire() -> None:
            self._pending.discard(timer)
            self._deliver(event)

        timer = loop.call_later(delay_s, fire)
        self._pending.add(timer)

    def cancel_all(self) -> None:
        for timer in self._pending:
            timer.cancel()
