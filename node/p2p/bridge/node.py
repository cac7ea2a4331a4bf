"""`P2PNode`: one libp2p host behind an asyncio API (`publish`, `send`, `request`, `inbound`).

The host runs as a task of the process's trio guest (node.p2p.bridge.guest); asyncio calls hand
it work through memory channels and await asyncio futures it completes, on the same thread. What
the node carries: gossip through pubsub, configured in node.p2p.bridge.patches; direct frames
(node.p2p.bridge.frames); request/response exchanges (node.p2p.bridge.exchange). Whom it talks
to, and whom it bans, is node.p2p.bridge.peers. In chaos mode (`faults` given) what arrives
from a peer goes through node.p2p.faults' rules first; otherwise nothing checks them.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import ipaddress
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import multiaddr
import trio
from libp2p.custom_types import TProtocol
from libp2p.peer.id import ID
from libp2p.pubsub.pb import rpc_pb2
from libp2p.tools.anyio_service import background_trio_service

from node.p2p import P2PError
from node.p2p.bridge.exchange import Exchanges, Handler
from node.p2p.bridge.frames import DirectStreams
from node.p2p.bridge.guest import STOP_TIMEOUT_S, TrioGuest, Work
from node.p2p.bridge.patches import (
    FaultyPubsub,
    NodePubsub,
    new_gossip_router,
    new_libp2p_host,
)
from node.p2p.bridge.peers import Peers, peer_info
from node.p2p.direct import encode_frame
from node.p2p.faults import Faults
from node.p2p.gossip import Gossip
from node.p2p.limits import (
    PROTOCOL_DIRECT,
    ExchangeLimits,
    check_outgoing,
    exchange_limits,
    gossip_limit,
)

log = logging.getLogger(__name__)

KEY_SEED_BYTES = 32  # an ed25519 seed: the same seed is the same peer id across restarts

INBOUND_MESSAGES = 4096  # delivered gossip waiting for the node; beyond it, dropped and logged
OUTBOX_MESSAGES = 1024  # publishes waiting for trio; beyond it, publish raises P2PError
REQUEST_TIMEOUT_S = 10.0  # default for a whole request/response exchange

_T = TypeVar("_T")


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
        faults: Faults | None = None,
    ) -> None:
        """Build the host; nothing listens before `serve`. `faults`: chaos mode's rules, applied
        to what arrives from each peer (gossip by forwarder, direct frames by sender) and to
        request/response exchanges with it both ways.

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
        bootstrap_peers = [peer_info(addr) for addr in bootstrap]
        ip = ipaddress.ip_address(listen_host)
        self._listen = multiaddr.Multiaddr(f"/ip{ip.version}/{ip}/tcp/{listen_port}")

        self._outbox_in, self._outbox = trio.open_memory_channel[tuple[str, bytes]](OUTBOX_MESSAGES)
        self._work_in, self._work = trio.open_memory_channel[Work](math.inf)
        self._faults = faults
        self._host = new_libp2p_host(key_seed, self._listen)
        self._router = new_gossip_router()
        pubsub_args = (self._host, self._router, list(self._topics), self._deliver)
        self._pubsub = (
            NodePubsub(*pubsub_args)
            if faults is None
            else FaultyPubsub(*pubsub_args, faults=faults, submit=self._submit)
        )
        self._peers = Peers(self._host, self._pubsub, bootstrap_peers, self._submit)
        direct_deliver = self._put_inbound if faults is None else self._put_inbound_faulty
        self._direct = DirectStreams(
            self._host, self._peers, self._topics, direct_deliver, self._submit
        )
        self._exchanges = Exchanges(self._host, self._peers, self._protocols, faults)

        self.peer_id = self._host.get_id().to_base58()
        self.listen_addrs: list[str] = []
        self.inbound: asyncio.Queue[Gossip] = asyncio.Queue(INBOUND_MESSAGES)
        self._scope = trio.CancelScope()
        self._pending: set[asyncio.Future[Any]] = set()
        self._failure: Exception | None = None
        self._stopped = False

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
        handler_context = contextvars.copy_context()
        up, stopped = asyncio.Event(), asyncio.Event()
        async with asyncio.TaskGroup() as handler_tasks:
            self._exchanges.run_handlers_in(handler_tasks, handler_context)
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
        for peer in self._peers.live() - self._peers.banned.keys():
            if not self._direct.put(peer, frame):
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
        exchange = functools.partial(self._exchanges.request, peer, protocol, data, limits.response)
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
        info = peer_info(addr)
        await self._in_trio(functools.partial(self._peers.dial, info))
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
        self._peers.penalise(peer_id, reason)

    def peers(self) -> list[str]:
        """Ids of the peers connected now, sorted."""
        return sorted(peer.to_base58() for peer in self._peers.live())

    def _submit(self, work: Work) -> None:
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
                            handler = functools.partial(self._exchanges.answer, protocol)
                            self._host.set_stream_handler(TProtocol(protocol), handler)
                        self._host.set_stream_handler(
                            TProtocol(PROTOCOL_DIRECT), self._direct.receive
                        )
                        self.listen_addrs = [str(addr) for addr in self._host.get_addrs()]
                        nursery.start_soon(self._publish_outbox)
                        nursery.start_soon(self._run_work, nursery)
                        nursery.start_soon(self._peers.keep_connected)
                        up.set()
                await self._peers.close_connections()
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

    def _put_inbound_faulty(self, frame: Gossip) -> None:
        """A direct frame from its sender, `frame.origin`, delivered as the chaos rules say: a
        delayed copy waits in a trio task of its own, so the stream's reader reads on."""
        assert self._faults is not None  # only given to DirectStreams in chaos mode
        for delay_s in self._faults.message(frame.origin):
            if delay_s:
                self._submit(functools.partial(self._put_inbound_later, delay_s, frame))
            else:
                self._put_inbound(frame)

    async def _put_inbound_later(self, delay_s: float, gossip: Gossip) -> None:
        await trio.sleep(delay_s)
        self._put_inbound(gossip)

    def _validate(self, topic: str, limit: int, forwarder: ID, message: rpc_pb2.Message) -> bool:
        """Gossip size check, before delivery or relay: an honest peer relays nothing oversize."""
        if len(message.data) <= limit:
            return True
        self._peers.ban(forwarder, f"{len(message.data)}-byte message on {topic}, limit {limit}")
        return False

    async def _await_mesh(self, peer: ID, topic: str, timeout_s: float) -> None:
        try:
            await self._pubsub.wait_for_mesh(peer, topic, timeout_s)
        except trio.TooSlowError:
            raise P2PError(f"{peer} not in the {topic} mesh after {timeout_s} s") from None
