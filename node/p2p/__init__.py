"""Peer-to-peer networking: gossip and request/response over libp2p, behind an asyncio API.

`node.p2p.bridge` is the only package that imports trio or libp2p (STYLE §1); this package and
its other modules stay importable without them, so `brainchain --help` never loads either.
"""

from __future__ import annotations

from brainchain.errors import BrainchainError


class P2PError(BrainchainError):
    """A network operation did not complete (timeout, peer unreachable, node stopped): retry
    later or ask another peer."""


class PeerMisbehaved(BrainchainError):
    """A peer sent bytes that break the protocol: the peer's fault, not ours (STYLE §3)."""

    def __init__(self, peer_id: str, reason: str) -> None:
        self.peer_id, self.reason = peer_id, reason
        super().__init__(f"peer {peer_id} misbehaved: {reason}")
