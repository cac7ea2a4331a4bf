"""Gossip payloads: what a subscriber receives, and batches of many small items per message.

pubsub carries a few hundred messages a second whatever their size (bench/p2p.py), so items
such as transactions travel as batches: a canonical msgpack array of byte strings, cut to fit
the topic's limit. A batch is one gossip message, so losing it loses many items: gossip is
never the only path (re-broadcast, then request/response).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError

# msgpack array header: fixarray (1 byte), array 16 (3) or array 32 (5).
ARRAY_HEADER_MAX_BYTES = 5


@dataclass(frozen=True, slots=True)
class Gossip:
    """One message on a topic; `origin` is the peer that signed it, not the one that relayed it."""

    topic: str
    origin: str
    data: bytes


def pack_batches(items: Iterable[bytes], limit: int) -> list[bytes]:
    """Pack `items` in order into as few batches as fit, each at most `limit` bytes.

    Raises:
        ValueError: one item alone does not fit in `limit`.
    """
    batches: list[bytes] = []
    current: list[bytes] = []
    size = ARRAY_HEADER_MAX_BYTES
    for item in items:
        cost = len(msgpack_canon.pack(item))
        if ARRAY_HEADER_MAX_BYTES + cost > limit:
            raise ValueError(f"item of {len(item)} bytes does not fit a batch of {limit}")
        if size + cost > limit:
            batches.append(msgpack_canon.pack(current))
            current, size = [], ARRAY_HEADER_MAX_BYTES
        current.append(item)
        size += cost
    if current:
        batches.append(msgpack_canon.pack(current))
    return batches


def unpack_batch(data: bytes) -> list[bytes]:
    """The items of one batch, in order. Check `data` against the topic's limit first.

    Raises:
        DecodingError: not a canonical msgpack array of byte strings.
    """
    items = msgpack_canon.unpack(data)
    if not isinstance(items, list) or not all(isinstance(item, bytes) for item in items):
        raise DecodingError("gossip batch is not an array of byte strings")
    return items
