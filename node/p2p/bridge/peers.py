"""Whom a host talks to: live connections, bootstrap peers kept connected, and bans.

A peer that sends what fails validation is banned: disconnected, blacklisted in pubsub and
refused on every stream for BAN_S (STYLE §3: a peer's fault lowers its standing, it is no bug of
ours). Also here: giving up on a peer's stream or connection without waiting on the peer.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Sequence

import multiaddr
import trio
from libp2p.abc import IHost, INetConn, INetStream
from libp2p.exceptions import BaseLibp2pError
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from libp2p.pubsub.pubsub import Pubsub

from node.p2p import P2PError
from node.p2p.bridge.guest import CLOSE_TIMEOUT_S, Work

log = logging.getLogger(__name__)

DIAL_TIMEOUT_S = 5.0
RECONNECT_INTERVAL_S = 5.0  # how often bootstrap peers are re-dialled and bans expire
BAN_S = 600.0  # how long a peer that sent garbage stays disconnected


class Peers:
    """A host's peers: which are live, which are banned and until when, which to re-dial."""

    def __init__(
        self,
        host: IHost,
        pubsub: Pubsub,
        bootstrap: Sequence[PeerInfo],
        submit: Callable[[Work], None],
    ) -> None:
        self._host, self._pubsub, self._bootstrap = host, pubsub, bootstrap
        self._submit = submit  # starts a trio task of the node; P2PError once it stopped
        self.banned: dict[ID, float] = {}  # peer -> trio time its ban ends

    def penalise(self, peer_id: str, reason: str) -> None:
        """From asyncio: `ban` `peer_id` in a trio task; raises what P2PNode.penalise lists."""
        peer = ID.from_base58(peer_id)

        async def ban() -> None:
            self.ban(peer, reason)

        self._submit(ban)

    def ban(self, peer: ID, reason: str) -> None:
        """From trio: disconnect `peer` and refuse it for BAN_S."""
        log.warning("dropping peer %s for %.0f s: %s", peer, BAN_S, reason)
        self.banned[peer] = trio.current_time() + BAN_S
        self._pubsub.add_to_blacklist(peer)
        self._submit(functools.partial(self._host.disconnect, peer))

    def live(self) -> set[ID]:
        """Peers with an open connection: py-libp2p can keep listing a closed one."""
        network = self._host.get_network()
        return {
            peer
            for peer in self._host.get_connected_peers()
            if any(not conn.is_closed for conn in network.get_connections(peer))
        }

    async def dial(self, info: PeerInfo) -> None:
        """Connect to `info`'s peer.

        Raises:
            P2PError: banned, unreachable, a different key answered, or DIAL_TIMEOUT_S passed.
        """
        if info.peer_id in self.banned:
            raise P2PError(f"peer {info.peer_id} is banned")
        try:
            with trio.fail_after(DIAL_TIMEOUT_S):
                await self._host.connect(info)
        except (BaseLibp2pError, trio.TooSlowError) as exc:
            raise P2PError(f"cannot connect to {info.peer_id}: {exc!r}") from exc

    async def keep_connected(self) -> None:
        """Re-dial bootstrap peers that dropped, drop banned peers, lift expired bans."""
        while True:
            now = trio.current_time()
            for peer, until in list(self.banned.items()):
                if until <= now:
                    del self.banned[peer]
                    self._pubsub.remove_from_blacklist(peer)
            listed = set(self._host.get_connected_peers())
            live = self.live()
            for peer in (listed & self.banned.keys()) | (listed - live):
                self._submit(functools.partial(self._host.disconnect, peer))
            for info in self._bootstrap:
                if info.peer_id not in live and info.peer_id not in self.banned:
                    self._submit(functools.partial(self._redial, info))
            await trio.sleep(RECONNECT_INTERVAL_S)

    async def _redial(self, info: PeerInfo) -> None:
        try:
            await self.dial(info)
        except P2PError as exc:
            log.info("bootstrap peer unreachable, will retry: %s", exc)

    async def close_connections(self) -> None:
        """Close every connection at once (each close sleeps 0.1 s in py-libp2p), before the host
        stops; the host closes them only after its tasks are cancelled, and leaks the sockets."""
        connections = self._host.get_network().connections
        with trio.CancelScope(shield=True), trio.move_on_after(CLOSE_TIMEOUT_S):
            async with trio.open_nursery() as nursery:
                for conn in [conn for conns in connections.values() for conn in conns]:
                    nursery.start_soon(_close, conn)


def peer_info(addr: str) -> PeerInfo:
    """Raises: ValueError: not a multiaddr ending in /p2p/<peer id>."""
    try:
        return info_from_p2p_addr(multiaddr.Multiaddr(addr))
    except Exception as exc:  # multiaddr and libp2p raise a dozen unrelated types for bad input
        raise ValueError(f"not a peer address (…/p2p/<peer id>): {addr!r}") from exc


async def discard(stream: INetStream) -> None:
    """Reset a stream we give up on, even while being cancelled, so the peer stops waiting."""
    with trio.CancelScope(shield=True), contextlib.suppress(BaseLibp2pError):
        await stream.reset()


async def _close(conn: INetConn) -> None:
    with contextlib.suppress(BaseLibp2pError, OSError):
        await conn.close()
