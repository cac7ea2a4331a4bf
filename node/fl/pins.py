"""Blobs that must survive garbage collection although no version needs them yet.

The FL service keeps the blobs its versions and pending proposals need and collects the rest
(node/fl/service.py). A blob can be wanted before the chain says so: a trainer uploads its
weights (POST /blobs) and only then sends `propose`, a task's creator uploads the initial
weights before `createTask` lands, a committee member fetches a proposal's blob while the next
block commits. Each of those pins the blob for PIN_BLOCKS heights, time for the transaction
that names it to be included; after that only the chain's needs keep it.

A collection reads the pins once, then deletes what is not needed in a worker thread. A pin
taken in between would not save a blob stored before the deletes, so pinning waits while a
collection runs (`collecting`), and what is pinned afterwards is seen by the next one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# About five minutes of 1 s blocks: an upload followed by its proposal, with room for a slow
# trainer, yet junk uploaded to a node's local RPC does not stay for long.
PIN_BLOCKS = 300


class BlobPins:
    """Blob ids pinned until a height; used on the event loop only."""

    def __init__(self, blocks: int = PIN_BLOCKS) -> None:
        self.blocks = blocks
        self._until: dict[bytes, int] = {}
        self._collection = asyncio.Lock()

    async def pin(self, blob_id: bytes, height: int) -> None:
        """Keep `blob_id` until `height` + `blocks`; returns once no collection that could
        have missed the pin is running, so the blob may be stored from then on."""
        async with self._collection:
            self._until[blob_id] = max(self._until.get(blob_id, 0), height + self.blocks)

    def live(self, height: int) -> set[bytes]:
        """The ids pinned at `height`; forgets the ones whose pin has run out."""
        self._until = {b: until for b, until in self._until.items() if until >= height}
        return set(self._until)

    @asynccontextmanager
    async def collecting(self, height: int) -> AsyncIterator[set[bytes]]:
        """Hold off new pins while a collection runs; yields the ids pinned at `height`."""
        async with self._collection:
            yield self.live(height)
