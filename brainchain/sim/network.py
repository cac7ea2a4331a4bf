"""The simulated network: seeded delay, loss, duplication, reordering and partitions.

Every fault but delay and duplication stops at the heal time, after which any two nodes are
connected with a bounded delay: the "global stabilisation time" of the paper's partial
synchrony model, after which termination is checked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LinkFaults:
    """Per-message fault probabilities and the delay range, in virtual milliseconds."""

    drop: float
    duplicate: float
    reorder: float  # chance of an extra delay of up to REORDER_FACTOR × max_delay_ms
    min_delay_ms: int
    max_delay_ms: int


@dataclass(frozen=True, slots=True)
class Partition:
    """From `start_ms` until `heal_ms` only nodes of the same group reach each other."""

    start_ms: int
    heal_ms: int
    groups: tuple[frozenset[int], ...]

    def separates(self, a: int, b: int, now_ms: int) -> bool:
        """Whether a message from `a` to `b` sent at `now_ms` is cut off."""
        if not self.start_ms <= now_ms < self.heal_ms:
            return False
        return not any(a in group and b in group for group in self.groups)


REORDER_FACTOR = 4


class Network:
    """Decides the fate of each message from one seeded random stream."""

    __slots__ = ("_faults", "_heal_ms", "_partitions", "_rng")

    def __init__(
        self,
        rng: random.Random,
        faults: LinkFaults,
        partitions: tuple[Partition, ...],
        heal_ms: int,
    ) -> None:
        self._rng = rng
        self._faults = faults
        self._partitions = partitions
        self._heal_ms = heal_ms

    def connected(self, a: int, b: int, now_ms: int) -> bool:
        """No partition cuts `a` off from `b` at `now_ms`."""
        return not any(p.separates(a, b, now_ms) for p in self._partitions)

    def delays(self, src: int, dst: int, now_ms: int) -> list[int]:
        """The delivery delays of one message: none if lost, two if duplicated."""
        if not self.connected(src, dst, now_ms):
            return []
        rng, faults = self._rng, self._faults
        healed = now_ms >= self._heal_ms
        if not healed and rng.random() < faults.drop:
            return []
        copies = 2 if rng.random() < faults.duplicate else 1
        delays = []
        for _ in range(copies):
            delay = rng.randint(faults.min_delay_ms, faults.max_delay_ms)
            if not healed and rng.random() < faults.reorder:
                delay += rng.randint(0, REORDER_FACTOR * faults.max_delay_ms)
            delays.append(delay)
        return delays
