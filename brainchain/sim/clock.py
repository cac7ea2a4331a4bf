"""Virtual time and the agenda of a simulation: a heap of (virtual_ms, seq, node, item)."""

from __future__ import annotations

import heapq
from typing import Generic, TypeVar

T = TypeVar("T")


class Clock(Generic[T]):
    """Items due at virtual times; equal times pop in scheduling order (the seq tie-break)."""

    __slots__ = ("_agenda", "_seq", "now_ms")

    def __init__(self) -> None:
        self.now_ms = 0
        self._seq = 0
        self._agenda: list[tuple[int, int, int, T]] = []

    def schedule(self, at_ms: int, node: int, item: T) -> None:
        """Deliver `item` to `node` at virtual time `at_ms` (never before now)."""
        self._seq += 1
        heapq.heappush(self._agenda, (max(at_ms, self.now_ms), self._seq, node, item))

    def pop(self) -> tuple[int, T] | None:
        """The next due (node, item), advancing the clock to its time; None when idle."""
        if not self._agenda:
            return None
        at_ms, _, node, item = heapq.heappop(self._agenda)
        self.now_ms = at_ms
        return node, item
