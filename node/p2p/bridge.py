"""The libp2p host as an asyncio service: py-libp2p runs in trio, as a guest on the asyncio loop.

py-libp2p is trio-only. `trio.lowlevel.start_guest_run` drives trio from the asyncio loop on the
same thread (STYLE §5), so values cross without locks: asyncio hands trio work through memory
channels (`send_nowait`), trio answers through asyncio futures, events and `P2PNode.inbound`
(`put_nowait`). Trio allows one run per thread, so a process holds one `TrioGuest` and each
`P2PNode` (one in a node, several in a test) runs its host as a task in the guest's nursery.

Knobs set on py-libp2p 0.8.1 on purpose, figures from bench/p2p.py (pubsub carries a few
hundred messages a second whatever their size, so gossip goes in batches, node.p2p.gossip):
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
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import ipaddress
import logging
import math
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import multiaddr
import trio
from libp2p import new_host
from libp2p.abc import IHost, INetConn, INetStream
from libp2p.crypto.ed25519 import create_new_key_pair
from libp2p.crypto.x25519 import create_new_key_pair as create_noise_key_pair
from libp2p.custom_types import TProtocol
from libp2p.exceptions import BaseLibp2pError, ParseError
from libp2p.io.exceptions import MessageTooLarge
from libp2p.network.config import ConnectionConfig
from libp2p.network.connection.exceptions import RawConnError
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from libp2p.pubsub.gossipsub import PROTOCOL_ID_V11, GossipSub
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.pubsub import Pubsub
from libp2p.pubsub.rpc_queue import RpcQueue
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_PROTOCOL_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer import muxer_multistream
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_PROTOCOL_ID
from libp2p.stream_muxer.yamux.yamux import Yamux
from libp2p.tools.anyio_service import background_trio_service
from libp2p.utils.varint import encode_varint_prefixed, read_varint_prefixed_bytes_limited

from node.p2p import P2PError, PeerMisbehaved
from node.p2p.direct import FrameError, FrameReader, encode_frame
from node.p2p.gossip import Gossip
from node.p2p.limits import (
    GOSSIP_FRAME_MAX_BYTES,
    PROTOCOL_DIRECT,
    ExchangeLimits,
    check_outgoing,
    exchange_limits,
    gossip_limit,
)

if TYPE_CHECKING:
    import outcome

log = logging.getLogger(__name__)

# py-libp2p detaches its loggers at import (unless LIBP2P_DEBUG is set): log through the node's,
# but without the connection manager's state line, which it forces to INFO every 30 s.
logging.getLogger("libp2p").propagate = True
logging.getLogger("libp2p.network.auto_connector").setLevel(logging.WARNING)
# Read by py-libp2p at each read; see the module docstring.
os.environ.setdefault("PY_YAMUX_RELEASE_ON_READ", "0")

KEY_SEED_BYTES = 32  # an ed25519 seed: the same seed is the same peer id across restarts

# GossipSub mesh degree D, D_lo, D_hi and heartbeat: the gossipsub v1.0 spec defaults.
GOSSIP_DEGREE, GOSSIP_DEGREE_LOW, GOSSIP_DEGREE_HIGH = 6, 4, 12
GOSSIP_HEARTBEAT_S = 1

OUTBOUND_RPCS_PER_PEER = 1024  # frames queued per peer before pubsub drops
INBOUND_MESSAGES = 4096  # delivered gossip waiting for the node; beyond it, dropped and logged
OUTBOX_MESSAGES = 1024  # publishes waiting for trio; beyond it, publish raises P2PError
# Direct frames queued for one peer (a stalled one: up to a write and a dial timeout's worth);
# beyond it, dropped and logged. Room for several of the largest frames (a proposal).
DIRECT_QUEUE_BYTES = 16 * 1024 * 1024
DIRECT_WRITE_BYTES = 256 * 1024  # queued frames joined into one write up to this size
DIRECT_READ_BYTES = 64 * 1024

REQUEST_TIMEOUT_S = 10.0  # default for a whole request/response exchange
ANSWER_TIMEOUT_S = 30.0  # an inbound exchange: read the request, run the handler, write
FRAME_WRITE_TIMEOUT_S = 5.0  # a frame still unsent: the peer stopped reading, drop it
DIAL_TIMEOUT_S = 5.0
RECONNECT_INTERVAL_S = 5.0  # how often bootstrap peers are re-dialled and bans expire
BAN_S = 600.0  # how long a peer that sent garbage stays disconnected
CLOSE_TIMEOUT_S = 2 * FRAME_WRITE_TIMEOUT_S  # closing connections at stop: a frame, then GO_AWAY
STOP_TIMEOUT_S = CLOSE_TIMEOUT_S + 5.0

Handler = Callable[[str, bytes], Awaitable[bytes]]
"""Answers one request: (peer id, request) -> response; raises PeerMisbehaved on garbage."""

_Work = Callable[[], Awaitable[None]]
_T = TypeVar("_T")


class TrioGuest:
    """The one trio run on this thread, a guest of the asyncio loop; hosts run in its nursery."""

    def __init__(self) -> None:
        self._spawn, self._spawned = trio.open_memory_channel[_Work](math.inf)
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

    def start_soon(self, work: _Work) -> None:
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


class _Outgoing:
    """Direct frames waiting for one peer's stream: at most DIRECT_QUEUE_BYTES of them."""

    def __init__(self) -> None:
        self._put, self.frames = trio.open_memory_channel[bytes](math.inf)
        self.bytes = 0

    def put(self, frame: bytes) -> bool:
        """Queue `frame`; False (dropped) when it would overfill the queue.

        Raises:
            trio.BrokenResourceError: the writer has ended; start another.
        """
        if self.bytes + len(frame) > DIRECT_QUEUE_BYTES:
            return False
        self._put.send_nowait(frame)
        self.bytes += len(frame)
        return True

    async def take(self) -> bytes:
        """The next frame, joined with those queued behind it up to DIRECT_WRITE_BYTES."""
        batch = [await self.frames.receive()]
        size = len(batch[0])
        with contextlib.suppress(trio.WouldBlock):
            while size < DIRECT_WRITE_BYTES:
                batch.append(self.frames.receive_nowait())
                size += len(batch[-1])
        self.bytes -= size
        return b"".join(batch)


class _PeerQueues(dict[ID, RpcQueue]):
    """Pubsub's outbound queues, one per peer, deepened as pubsub adds them.

    py-libp2p 0.8.1 makes every queue 32 frames deep (rpc_queue.OutBoundQueueSize) with no
    parameter, and pushes to a new queue before its sender runs, so this is the first moment
    the depth can be set.
    """

    def __setitem__(self, peer_id: ID, queue: RpcQueue) -> None:
        queue._queue.max_size = OUTBOUND_RPCS_PER_PEER
        super().__setitem__(peer_id, queue)


class _Pubsub(Pubsub):
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


class P2PNode:
    """One libp2p host: gossip on `topics`, request/response on `protocols`, asyncio API only.

    Start `serve` once the guest is ready; read gossip from `inbound`. Gossip is best effort:
    what consensus needs is re-broadcast on a timer and fetched by request when missing.
    """

    def __init__(
        self,
        guest: TrioGuest,
        *,
        key_seed: bytes,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        bootstrap: Sequence[str] = (),
        topics: Sequence[str] = (),
        protocols: Mapping[str, Handler] | None = None,
    ) -> None:
        """Build the host; nothing listens before `serve`.

        Raises:
            ValueError: a seed that is not 32 bytes, an unknown topic or protocol, a bad listen
                host, or a bootstrap address that does not end in /p2p/<peer id>.
        """
        if len(key_seed) != KEY_SEED_BYTES:
            raise ValueError(f"key seed has {len(key_seed)} bytes, want {KEY_SEED_BYTES}")
        self._guest = guest
        self._topics = {topic: gossip_limit(topic) for topic in topics}
        self._protocols: dict[str, tuple[ExchangeLimits, Handler]] = {
            protocol: (exchange_limits(protocol), handler)
            for protocol, handler in (protocols or {}).items()
        }
        self._bootstrap = [_peer_info(addr) for addr in bootstrap]
        ip = ipaddress.ip_address(listen_host)
        self._listen = multiaddr.Multiaddr(f"/ip{ip.version}/{ip}/tcp/{listen_port}")

        key_pair = create_new_key_pair(key_seed)
        noise = NoiseTransport(key_pair, noise_privkey=create_noise_key_pair().private_key)
        self._host = new_host(
            key_pair=key_pair,
            sec_opt={NOISE_PROTOCOL_ID: noise},
            # No mplex: its frames are not shielded.
            muxer_opt={TProtocol(YAMUX_PROTOCOL_ID): _Yamux},
            connection_config=ConnectionConfig(max_connections_per_peer=1),
            listen_addrs=[self._listen],
        )
        self._router = GossipSub(
            protocols=[PROTOCOL_ID_V11],
            degree=GOSSIP_DEGREE,
            degree_low=GOSSIP_DEGREE_LOW,
            degree_high=GOSSIP_DEGREE_HIGH,
            heartbeat_interval=GOSSIP_HEARTBEAT_S,
            adaptive_gossip_enabled=False,
            spam_protection_enabled=False,
            eclipse_protection_enabled=False,
        )
        self._pubsub = _Pubsub(self._host, self._router, list(self._topics), self._deliver)

        self.peer_id = self._host.get_id().to_base58()
        self.listen_addrs: list[str] = []
        self.inbound: asyncio.Queue[Gossip] = asyncio.Queue(INBOUND_MESSAGES)
        self._outbox_in, self._outbox = trio.open_memory_channel[tuple[str, bytes]](OUTBOX_MESSAGES)
        self._work_in, self._work = trio.open_memory_channel[_Work](math.inf)
        self._scope = trio.CancelScope()
        self._pending: set[asyncio.Future[Any]] = set()
        self._banned: dict[ID, float] = {}  # peer -> trio time its ban ends
        self._senders: dict[ID, _Outgoing] = {}  # direct frames waiting, per peer
        self._readers: dict[ID, INetStream] = {}  # each peer's one inbound direct stream
        self._failure: Exception | None = None
        self._stopped = False
        self._handler_tasks: asyncio.TaskGroup | None = None
        self._handler_context = contextvars.Context()

    # ---- asyncio side ----

    async def serve(self, ready: asyncio.Event) -> None:
        """Listen, join the topics, keep bootstrap peers connected; set `ready` once listening.

        Raises:
            P2PError: the guest is not running, or stopped under this node.
            What the host failed with: the address cannot be bound, or a bug.
        """
        if not self._guest.running:
            raise P2PError("the trio guest is not running")
        # Handlers run in asyncio's context: a task started from trio would inherit trio's.
        self._handler_context = contextvars.copy_context()
        up, stopped = asyncio.Event(), asyncio.Event()
        async with asyncio.TaskGroup() as handler_tasks:
            self._handler_tasks = handler_tasks
            self._guest.start_soon(functools.partial(self._run, up, stopped))
            try:
                await up.wait()
                if not stopped.is_set():
                    ready.set()
                    await stopped.wait()
            finally:
                self._scope.cancel()
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await stopped.wait()
        if self._failure is not None:
            raise self._failure
        raise P2PError("the trio guest stopped under the p2p node")

    def publish(self, topic: str, data: bytes) -> None:
        """Queue `data` for gossip on `topic`; best effort, so re-send what must arrive.

        Raises:
            ValueError: an unknown topic, or `data` over its limit.
            P2PError: the node is stopped, or OUTBOX_MESSAGES publishes are already waiting.
        """
        if topic not in self._topics:
            raise ValueError(f"not subscribed to {topic!r}")
        check_outgoing(f"gossip on {topic}", data, self._topics[topic])
        try:
            self._outbox_in.send_nowait((topic, data))
        except trio.WouldBlock:
            raise P2PError(f"gossip outbox full ({OUTBOX_MESSAGES} messages)") from None
        except trio.BrokenResourceError:
            raise P2PError("the p2p node is stopped") from None

    def send(self, topic: str, data: bytes) -> None:
        """Queue `data` on `topic` once for each connected peer, not relayed (node.p2p.direct);
        best effort, as gossip is: re-send what must arrive.

        Raises:
            ValueError: an unknown topic, or `data` over its limit.
            P2PError: the node is stopped.
        """
        if topic not in self._topics:
            raise ValueError(f"not subscribed to {topic!r}")
        frame = encode_frame(topic, data)
        if self._stopped:
            raise P2PError("the p2p node is stopped")
        for peer in self._live_peers() - self._banned.keys():
            outgoing = self._senders.get(peer)
            try:
                queued = (outgoing or self._start_sender(peer)).put(frame)
            except trio.BrokenResourceError:  # its stream just failed: start another
                queued = self._start_sender(peer).put(frame)
            if not queued:
                log.warning("direct queue to %s full: dropped a message on %s", peer, topic)

    async def request(
        self, peer_id: str, protocol: str, data: bytes, timeout_s: float = REQUEST_TIMEOUT_S
    ) -> bytes:
        """Send one request to `peer_id` and return its response.

        Raises:
            ValueError: not a peer id, an unknown protocol, or `data` over its request limit.
            P2PError: no connection, no answer within `timeout_s`, or the peer reset the stream.
            PeerMisbehaved: the response broke the protocol; the peer is banned.
        """
        limits = exchange_limits(protocol)
        check_outgoing(f"{protocol} request", data, limits.request)
        peer = ID.from_base58(peer_id)
        exchange = functools.partial(self._exchange, peer, protocol, data, limits.response)
        try:
            async with asyncio.timeout(timeout_s):
                return await self._in_trio(exchange)
        except TimeoutError:
            raise P2PError(f"{protocol} request to {peer_id}: no answer in {timeout_s} s") from None

    async def connect(self, addr: str) -> str:
        """Dial `addr`, a multiaddr ending in /p2p/<peer id>; return that peer id once connected.

        Raises:
            ValueError: `addr` is not such a multiaddr.
            P2PError: unreachable, a different key answered, the peer is banned, or timeout.
        """
        info = _peer_info(addr)
        await self._in_trio(functools.partial(self._dial, info))
        return info.peer_id.to_base58()

    async def wait_for_mesh(self, peer_id: str, topic: str, timeout_s: float) -> None:
        """Return once `peer_id` is in our gossip mesh for `topic`, so what we publish there
        goes to it directly (a message published before may never reach it).

        Raises:
            ValueError: not a peer id.
            P2PError: not within `timeout_s`.
        """
        peer = ID.from_base58(peer_id)
        await self._in_trio(functools.partial(self._await_mesh, peer, topic, timeout_s))

    def penalise(self, peer_id: str, reason: str) -> None:
        """Disconnect `peer_id` and refuse it for BAN_S: it sent what fails validation.

        Raises:
            ValueError: not a peer id.
            P2PError: the node is stopped.
        """
        peer = ID.from_base58(peer_id)

        async def ban() -> None:
            self._ban(peer, reason)

        self._submit(ban)

    def peers(self) -> list[str]:
        """Ids of the peers connected now, sorted."""
        return sorted(peer.to_base58() for peer in self._live_peers())

    def _submit(self, work: _Work) -> None:
        try:
            self._work_in.send_nowait(work)
        except trio.BrokenResourceError:
            raise P2PError("the p2p node is stopped") from None

    async def _in_trio(self, work: Callable[[], Awaitable[_T]]) -> _T:
        """Run `work` as a trio task of this node; cancelling the caller cancels `work`."""
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        scope = trio.CancelScope()

        async def run() -> None:
            with scope:
                try:
                    result = await work()
                except Exception as exc:  # boundary: raised again in the asyncio caller
                    if not future.done():
                        future.set_exception(exc)
                else:
                    if not future.done():
                        future.set_result(result)

        future.add_done_callback(lambda _: scope.cancel())
        self._submit(run)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return await future

    async def _call_handler(self, handler: Handler, peer: ID, request: bytes) -> bytes | None:
        """Run `handler` as an asyncio task and wait for it from trio; None when it failed."""
        assert self._handler_tasks is not None  # set by serve before the host starts
        done = trio.Event()
        task = self._handler_tasks.create_task(
            self._guarded(handler, peer.to_base58(), request), context=self._handler_context.copy()
        )
        task.add_done_callback(lambda _: done.set())
        try:
            await done.wait()
        finally:
            task.cancel()  # a no-op once done; otherwise trio gave up and so does the handler
        return None if task.cancelled() else task.result()

    async def _guarded(self, handler: Handler, peer_id: str, request: bytes) -> bytes | None:
        try:
            return await handler(peer_id, request)
        except PeerMisbehaved as exc:
            self.penalise(peer_id, exc.reason)
        except Exception:  # boundary: one bad request must not stop the host
            log.exception("request handler failed on a request from %s", peer_id)
        return None

    # ---- trio side ----

    async def _run(self, up: asyncio.Event, stopped: asyncio.Event) -> None:
        try:
            async with self._host.run([self._listen]):
                # Stopping cancels this scope, and not the host's own tasks: cancelled, py-libp2p
                # marks a connection closed before it closes it, and leaks the socket.
                with self._scope:
                    async with (
                        background_trio_service(self._pubsub),
                        background_trio_service(self._router),
                        trio.open_nursery() as nursery,
                    ):
                        await self._pubsub.wait_until_ready()
                        for topic, limit in self._topics.items():
                            validator = functools.partial(self._validate, topic, limit)
                            self._pubsub.set_topic_validator(topic, validator, False)
                            await self._pubsub.subscribe(topic)
                        for protocol in self._protocols:
                            handler = functools.partial(self._answer, protocol)
                            self._host.set_stream_handler(TProtocol(protocol), handler)
                        self._host.set_stream_handler(
                            TProtocol(PROTOCOL_DIRECT), self._receive_frames
                        )
                        self.listen_addrs = [str(addr) for addr in self._host.get_addrs()]
                        nursery.start_soon(self._publish_outbox)
                        nursery.start_soon(self._run_work, nursery)
                        nursery.start_soon(self._keep_connected)
                        up.set()
                await self._close_connections()
        except Exception as exc:  # boundary: serve raises it on the asyncio side
            self._failure = exc
        finally:
            self._stopped = True
            self._pubsub.seen_messages.stop()  # a thread Pubsub starts and never stops
            self._work.close()
            self._outbox.close()
            for future in list(self._pending):
                if not future.done():
                    future.set_exception(P2PError("the p2p node stopped"))
            up.set()
            stopped.set()

    async def _run_work(self, nursery: trio.Nursery) -> None:
        async for work in self._work:
            nursery.start_soon(work)

    async def _publish_outbox(self) -> None:
        async for topic, data in self._outbox:
            await self._pubsub.publish(topic, data)
            # Let the per-peer senders drain between publishes of a burst.
            await trio.lowlevel.checkpoint()

    def _deliver(self, message: rpc_pb2.Message) -> None:
        origin = ID(message.from_id)
        if origin == self._host.get_id():
            return  # our own publish: the caller already has it
        for topic in message.topicIDs:
            if topic in self._topics:
                self._put_inbound(Gossip(topic, origin.to_base58(), message.data))

    def _put_inbound(self, gossip: Gossip) -> None:
        try:
            self.inbound.put_nowait(gossip)
        except asyncio.QueueFull:
            log.warning("inbound gossip queue full: dropped a message on %s", gossip.topic)

    def _start_sender(self, peer: ID) -> _Outgoing:
        """A queue of direct frames for `peer`, and the task that writes them."""
        outgoing = self._senders[peer] = _Outgoing()
        self._submit(functools.partial(self._send_frames, peer, outgoing))
        return outgoing

    async def _send_frames(self, peer: ID, outgoing: _Outgoing) -> None:
        """Write `peer`'s queued frames on one stream, joining what is queued, until it fails;
        what is still queued then is dropped with the queue."""
        try:
            async with outgoing.frames:
                with trio.fail_after(DIAL_TIMEOUT_S):
                    stream = await self._host.new_stream(peer, [TProtocol(PROTOCOL_DIRECT)])
                try:
                    while True:
                        await stream.write(await outgoing.take())
                except BaseException:
                    await _discard(stream)
                    raise
        except (BaseLibp2pError, trio.TooSlowError) as exc:
            log.debug("direct stream to %s ended: %r", peer, exc)
        finally:
            if self._senders.get(peer) is outgoing:
                del self._senders[peer]

    async def _receive_frames(self, stream: INetStream) -> None:
        """Deliver the frames a peer's direct stream carries, until it ends.

        A peer has one: a new stream replaces the last (its writer restarted), so a peer
        cannot hold more than one partial frame in our memory.
        """
        peer = stream.muxed_conn.peer_id
        origin = peer.to_base58()
        reader = FrameReader()
        replaced = self._readers.get(peer)
        self._readers[peer] = stream
        try:
            if replaced is not None:
                await _discard(replaced)
            if peer in self._banned:
                raise P2PError(f"{peer} is banned")
            while True:
                for topic, data in reader.feed(await stream.read(DIRECT_READ_BYTES)):
                    if topic in self._topics:
                        self._put_inbound(Gossip(topic, origin, data))
        except FrameError as exc:
            self._ban(peer, f"direct stream: {exc}")
            await _discard(stream)
        except (BaseLibp2pError, P2PError):
            await _discard(stream)  # ended, replaced, or nobody to read from
        finally:
            if self._readers.get(peer) is stream:
                del self._readers[peer]

    def _validate(self, topic: str, limit: int, forwarder: ID, message: rpc_pb2.Message) -> bool:
        """Gossip size check, before delivery or relay: an honest peer relays nothing oversize."""
        if len(message.data) <= limit:
            return True
        self._ban(forwarder, f"{len(message.data)}-byte message on {topic}, limit {limit}")
        return False

    async def _answer(self, protocol: str, stream: INetStream) -> None:
        """Serve one inbound request: a length-prefixed request, then a length-prefixed response."""
        peer = stream.muxed_conn.peer_id
        limits, handler = self._protocols[protocol]
        try:
            with trio.fail_after(ANSWER_TIMEOUT_S):
                if peer in self._banned:
                    raise P2PError(f"{peer} is banned")
                request = await read_varint_prefixed_bytes_limited(stream, limits.request)
                response = await self._call_handler(handler, peer, request)
                if response is None:
                    raise P2PError("the handler failed")
                if len(response) > limits.response:
                    log.error(
                        "%s answer of %d bytes, over %d", protocol, len(response), limits.response
                    )
                    raise P2PError("the handler answered over the limit")
                await stream.write(encode_varint_prefixed(response))
                await stream.close()
        except (MessageTooLarge, ParseError) as exc:
            self._ban(peer, f"{protocol} request: {exc}")
            await _discard(stream)
        except (BaseLibp2pError, trio.TooSlowError, P2PError):
            await _discard(stream)  # nothing to answer, or no one to answer to

    async def _exchange(self, peer: ID, protocol: str, data: bytes, limit: int) -> bytes:
        try:
            stream = await self._host.new_stream(peer, [TProtocol(protocol)])
            try:
                await stream.write(encode_varint_prefixed(data))
                response = await read_varint_prefixed_bytes_limited(stream, limit)
            except BaseException:
                await _discard(stream)
                raise
            with contextlib.suppress(BaseLibp2pError):  # the answer is in; the peer may be gone
                await stream.close()
        except (MessageTooLarge, ParseError) as exc:
            self._ban(peer, f"{protocol} response: {exc}")
            raise PeerMisbehaved(peer.to_base58(), f"{protocol} response: {exc}") from exc
        except BaseLibp2pError as exc:
            raise P2PError(f"{protocol} request to {peer} failed: {exc!r}") from exc
        return response

    async def _dial(self, info: PeerInfo) -> None:
        if info.peer_id in self._banned:
            raise P2PError(f"peer {info.peer_id} is banned")
        try:
            with trio.fail_after(DIAL_TIMEOUT_S):
                await self._host.connect(info)
        except (BaseLibp2pError, trio.TooSlowError) as exc:
            raise P2PError(f"cannot connect to {info.peer_id}: {exc!r}") from exc

    async def _await_mesh(self, peer: ID, topic: str, timeout_s: float) -> None:
        try:
            await self._pubsub.wait_for_mesh(peer, topic, timeout_s)
        except trio.TooSlowError:
            raise P2PError(f"{peer} not in the {topic} mesh after {timeout_s} s") from None

    async def _keep_connected(self) -> None:
        """Re-dial bootstrap peers that dropped, drop banned peers, lift expired bans."""
        while True:
            now = trio.current_time()
            for peer, until in list(self._banned.items()):
                if until <= now:
                    del self._banned[peer]
                    self._pubsub.remove_from_blacklist(peer)
            listed = set(self._host.get_connected_peers())
            live = self._live_peers()
            for peer in (listed & self._banned.keys()) | (listed - live):
                self._submit(functools.partial(self._host.disconnect, peer))
            for info in self._bootstrap:
                if info.peer_id not in live and info.peer_id not in self._banned:
                    self._submit(functools.partial(self._redial, info))
            await trio.sleep(RECONNECT_INTERVAL_S)

    async def _redial(self, info: PeerInfo) -> None:
        try:
            await self._dial(info)
        except P2PError as exc:
            log.info("bootstrap peer unreachable, will retry: %s", exc)

    def _live_peers(self) -> set[ID]:
        """Peers with an open connection: py-libp2p can keep listing a closed one."""
        network = self._host.get_network()
        return {
            peer
            for peer in self._host.get_connected_peers()
            if any(not conn.is_closed for conn in network.get_connections(peer))
        }

    async def _close_connections(self) -> None:
        """Close every connection at once (each close sleeps 0.1 s in py-libp2p), before the host
        stops; the host closes them only after its tasks are cancelled, and leaks the sockets."""
        connections = self._host.get_network().connections
        with trio.CancelScope(shield=True), trio.move_on_after(CLOSE_TIMEOUT_S):
            async with trio.open_nursery() as nursery:
                for conn in [conn for conns in connections.values() for conn in conns]:
                    nursery.start_soon(_close, conn)

    def _ban(self, peer: ID, reason: str) -> None:
        log.warning("dropping peer %s for %.0f s: %s", peer, BAN_S, reason)
        self._banned[peer] = trio.current_time() + BAN_S
        self._pubsub.add_to_blacklist(peer)
        self._submit(functools.partial(self._host.disconnect, peer))


def _peer_info(addr: str) -> PeerInfo:
    """Raises: ValueError: not a multiaddr ending in /p2p/<peer id>."""
    try:
        return info_from_p2p_addr(multiaddr.Multiaddr(addr))
    except Exception as exc:  # multiaddr and libp2p raise a dozen unrelated types for bad input
        raise ValueError(f"not a peer address (…/p2p/<peer id>): {addr!r}") from exc


async def _close(conn: INetConn) -> None:
    with contextlib.suppress(BaseLibp2pError, OSError):
        await conn.close()


async def _discard(stream: INetStream) -> None:
    """Reset a stream we give up on, even while being cancelled, so the peer stops waiting."""
    with trio.CancelScope(shield=True), contextlib.suppress(BaseLibp2pError):
        await stream.reset()
