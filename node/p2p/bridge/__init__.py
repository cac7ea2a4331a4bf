"""The libp2p host as an asyncio service: py-libp2p runs in trio, as a guest on the asyncio loop.

The only package that imports trio or libp2p (STYLE §1). Its modules:
- `patches`: py-libp2p 0.8.1 as we run it, the knobs set and the internals patched, each with
  its reason; imported first, so it has adjusted py-libp2p before any other module uses it.
- `guest`: `TrioGuest`, the one trio guest run of a process on the asyncio loop.
- `peers`: live connections, bootstrap re-dials and bans.
- `frames`: direct frames (node.p2p.direct) on one stream each way per peer.
- `exchange`: request/response streams, and the asyncio handlers that answer them.
- `node`: `P2PNode`, one host behind an asyncio API.
"""

from __future__ import annotations

from node.p2p.bridge import patches  # noqa: F401  (first: adjusts py-libp2p on import)
from node.p2p.bridge.exchange import Handler
from node.p2p.bridge.guest import TrioGuest
from node.p2p.bridge.node import KEY_SEED_BYTES, P2PNode

__all__ = ["KEY_SEED_BYTES", "Handler", "P2PNode", "TrioGuest"]
