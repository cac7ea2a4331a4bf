"""py-libp2p 0.8.1 as the bridge runs it: the knobs it sets and the internals it patches.

Everything here leans on py-libp2p's defaults or private internals at exactly 0.8.1 (pyproject.toml
pins it), so it lives apart from the code that uses libp2p: an upgrade re-checks this module.
Importing it adjusts py-libp2p for the whole process (loggers, the yamux window knob, the yamux
class py-libp2p builds by name); every bridge module that uses libp2p imports it, so that happens
before any host exists. Figures from bench/p2p.py (pubsub carries a few hundred messages a second
whatever their size, so gossip goes in batches, node.p2p.gossip):
- GossipSub's limit of 10 messages/s per peer and topic is off (`spam_protection_enabled`): it
  counts our own publishes too and drops silently. Peers are held to size limits and
  validation instead, and one that sends garbage is banned.
- Each peer's outbound queue holds OUTBOUND_RPCS_PER_PEER frames, not 32; a full one drops.
- Messages skip pubsub's 32-slot channel per topic, which drops once full, and go straight to
  `P2PNode.inbound`.
- A heartbeat every second, as the gossipsub spec has it (py-libp2p defaults to 120 s), and
  no adaptive gossip, which stretches the heartbeat to 30-60 s when it judges the network
  unhealthy.
- No IP-diversity ("eclipse") grafting: a devnet runs every validator on 127.0.0.1.
- GossipSub v1.1 only: py-libp2p's v1.2 sends an IDONTWANT frame to every mesh peer for every
  message, however small (go-libp2p: from 1 KiB), which cut small-message throughput from
  about 325 to 140 messages/s.
- Yamux releases receive window in batches of half the window, as go-yamux does
  (PY_YAMUX_RELEASE_ON_READ=0, py-libp2p's own knob): by default it sends a WINDOW_UPDATE frame
  after every read, which doubled the frames on the wire and halved consensus heights/s.
- Noise is the only security transport, so every connection proves the peer's key.
- One connection per peer, so a dial returns once connected instead of after happy eyeballs'
  250 ms head start (connect: 250 ms before, about 10 ms now).
- Yamux frames are written out of reach of cancellation (`_Yamux`, patched in by name):
  py-libp2p advances the Noise nonce before it writes, so a frame cut half-way by a timeout
  left the connection open but undecryptable, and every later stream on it failed. Reads
  write too (window updates), so without this no libp2p call is safe to cancel.
- In chaos mode only, `FaultyPubsub` runs node.p2p.faults' rules on each message as a peer
  forwards it, before pubsub validates, marks seen, delivers or relays it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence

import multiaddr
import trio
from libp2p import new_host
from libp2p.abc import IHost
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.x25519 import create_new_key_pair as create_noise_key_pair
from libp2p.custom_types import TProtocol
from libp2p.network.config import ConnectionConfig
from libp2p.network.connection.exceptions import RawConnError
from libp2p.peer.id import ID
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.rpc_queue import RpcQueue
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer import muxer_multistream
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux

from node.p2p.faults import Faults
from node.p2p.limits import GOSSIP_FRAME_MAX_BYTES

# py-libp2p detaches its loggers at import (unless LIBP2P_DEBUG is set): log through the node's,
# but without the connection manager's state line, which it forces to INFO every 30 s.
logging.getLogger("libp2p").propagate = True
logging.getLogger("libp2p.network.auto_connector").setLevel(logging.WARNING)
# Read by py-libp2p at each read; see the module docstring.
os.environ.setdefault("PY_YAMUX_RELEASE_ON_READ", "0")

# GossipSub mesh degree D, D_lo, D_hi and heartbeat: the gossipsub v1.0 spec defaults.
GOSSIP_DEGREE, GOSSIP_DEGREE_LOW, GOSSIP_DEGREE_HIGH = 6, 4, 12
GOSSIP_HEARTBEAT_S = 1

OUTBOUND_RPCS_PER_PEER = 1024  # frames queued per peer before pubsub drops
FRAME_WRITE_TIMEOUT_S = 5.0  # a frame still unsent: the peer stopped reading, drop it


def new_libp2p_host(key_seed: bytes, listen: multiaddr.Multiaddr) -> IHost:
    """A host with the key `key_seed` derives, Noise, shielded yamux, one connection per peer."""
    key_pair = create_new_key_pair(key_seed)
    noise = NoiseTransport(key_pair, noise_privkey=create_noise_key_pair().private_key)
    return new_host(
        key_pair=key_pair,
        sec_opt={NOISE_PROTOCOL_ID: noise},
        # No mplex: its frames are not shielded.
        muxer_opt={TProtocol(YAMUX_PROTOCOL_ID): _Yamux},
        connection_config=ConnectionConfig(max_connections_per_peer=1),
        listen_addrs=[listen],
    )


def new_gossip_router() -> GossipSub:
    """A GossipSub v1.1 router with the knobs of the module docstring."""
    return GossipSub(
        protocols=[PROTOCOL_ID_V11],
        degree=GOSSIP_DEGREE,
        degree_low=GOSSIP_DEGREE_LOW,
        degree_high=GOSSIP_DEGREE_HIGH,
        heartbeat_interval=GOSSIP_HEARTBEAT_S,
        adaptive_gossip_enabled=False,
        spam_protection_enabled=False,
        eclipse_protection_enabled=False,
    )


class _Yamux(Yamux):
    """Yamux whose frames cancellation cannot cut half-way (see the module docstring)."""

    async def _write_frame(self, data: bytes) -> None:
        # spec: py-libp2p 0.8.1 Yamux._write_frame, shielded, and bounded instead of cancellable.
        with trio.CancelScope(shield=True):
            async with self._write_lock:
                with trio.move_on_after(FRAME_WRITE_TIMEOUT_S) as bound:
                    await self.secured_conn.write(data)
                if bound.cancelled_caught:  # cut half-way after all: the session is unusable
                    await self.secured_conn.close()
                    raise RawConnError(f"frame unsent after {FRAME_WRITE_TIMEOUT_S} s")
        await trio.lowlevel.checkpoint()


# py-libp2p 0.8.1 builds every yamux connection by this name, whatever class `muxer_opt` gives.
muxer_multistream.Yamux = _Yamux  # type: ignore[attr-defined]


class _PeerQueues(dict[ID, RpcQueue]):
    """Pubsub's outbound queues, one per peer, deepened as pubsub adds them.

    py-libp2p 0.8.1 makes every queue 32 frames deep (rpc_queue.OutBoundQueueSize) with no
    parameter, and pushes to a new queue before its sender runs, so this is the first moment
    the depth can be set.
    """

    def __setitem__(self, peer_id: ID, queue: RpcQueue) -> None:
        queue._queue.max_size = OUTBOUND_RPCS_PER_PEER
        super().__setitem__(peer_id, queue)


class NodePubsub(Pubsub):
    """Pubsub that hands each message to its node, queues more per peer, and survives quick
    reconnects and restarts."""

    def __init__(
        self,
        host: IHost,
        router: GossipSub,
        topics: Sequence[str],
        deliver: Callable[[rpc_pb2.Message], None],
    ) -> None:
        super().__init__(
            host, router, max_inbound_rpc_size=GOSSIP_FRAME_MAX_BYTES, allowed_topics=set(topics)
        )
        self.peer_queues = _PeerQueues()
        # Message ids are (origin, seqno) and py-libp2p starts seqno at the clock in seconds, so
        # a node restarted within seconds re-used ids its peers still held as seen (120 s) and
        # its messages vanished. Nanoseconds, as go-libp2p-pubsub does, always move past them.
        self.counter = time.time_ns()
        self._deliver = deliver

    def notify_subscriptions(self, publish_message: rpc_pb2.Message) -> None:
        # Replaces a put on a 32-slot channel per topic, which drops once full.
        self._deliver(publish_message)

    async def _handle_new_peer(self, peer_id: ID) -> None:
        # A peer that reconnects before pubsub has processed its old connection's death: py-libp2p
        # keeps the old stream (the peer "still has a connection"), then skips the new one (the
        # peer "already has a stream"), and gossip with that peer stops for good.
        stream = self.peers.get(peer_id)
        if stream is not None and stream.muxed_conn.is_closed:
            self._handle_dead_peer(peer_id)
        await super()._handle_new_peer(peer_id)

    async def _teardown_if_connected(self, peer_id: ID) -> None:
        # spec: py-libp2p 0.8.1 Pubsub._teardown_if_connected, run when a peer is blacklisted
        # (banned). It deleted the peer's stream entry after awaiting the stream's reset, by
        # which time the ban's disconnect could have removed it: the KeyError stopped pubsub and
        # with it the node, so any peer could end a node by getting itself banned (issue 12).
        stream = self.peers.get(peer_id)
        if stream is not None:
            with contextlib.suppress(Exception):  # as py-libp2p: a reset stream may be gone
                await stream.reset()
            self.peers.pop(peer_id, None)
        self._forget_all_subscriptions(peer_id)


class FaultyPubsub(NodePubsub):
    """NodePubsub under chaos mode's rules (node.p2p.faults), applied per forwarder.

    The rules act before pubsub sees the message: a dropped one was never received (another
    forwarder's copy may still pass), a delayed one is received, and so relayed, late. Acting
    on delivery alone would let the message cross a partition through the next relay.
    """

    def __init__(
        self,
        host: IHost,
        router: GossipSub,
        topics: Sequence[str],
        deliver: Callable[[rpc_pb2.Message], None],
        *,
        faults: Faults,
        submit: Callable[[Callable[[], Awaitable[None]]], None],
    ) -> None:
        super().__init__(host, router, topics, deliver)
        self._faults = faults
        self._submit = submit  # starts a trio task of the node, for the delayed copies

    async def push_msg(self, msg_forwarder: ID, msg: rpc_pb2.Message) -> None:
        # spec: py-libp2p 0.8.1 Pubsub.push_msg, run as its own task per message a peer forwards,
        # so a delay here holds back no other message.
        if msg_forwarder == self.my_id:  # our own publish
            await super().push_msg(msg_forwarder, msg)
            return
        delays = self._faults.message(msg_forwarder.to_base58())
        if not delays:
            return
        first, *copies = delays
        if first:
            await trio.sleep(first)
        await super().push_msg(msg_forwarder, msg)
        # pubsub drops a second copy on the wire as already seen, so a duplicate goes to the
        # node: the copy its own de-duplication must absorb. Only of a message pubsub accepted.
        if copies and self._is_msg_seen(msg):
            for delay in copies:
                self._submit(functools.partial(self._deliver_copy, delay - first, msg))

    async def _deliver_copy(self, delay_s: float, msg: rpc_pb2.Message) -> None:
        await trio.sleep(delay_s)
        self._deliver(msg)
