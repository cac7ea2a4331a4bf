"""Direct frames on libp2p streams: each peer's one stream we write to, and one we read from.

node.p2p.direct encodes and parses the frames; this module carries them. Every peer has one
outbound stream fed by a queue bounded in bytes (a stalled peer costs at most DIRECT_QUEUE_BYTES,
then its frames are dropped), and one inbound stream: a new one replaces the last, so a peer
holds at most one partial frame in our memory. A frame that fails parsing bans its sender.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
from collections.abc import Callable, Container

import trio
from libp2p.abc import IHost, INetStream
from libp2p.custom_types import TProtocol
from libp2p.exceptions import BaseLibp2pError
from libp2p.peer.id import ID

from node.p2p import P2PError
from node.p2p.bridge.guest import Work
from node.p2p.bridge.peers import DIAL_TIMEOUT_S, Peers, discard
from node.p2p.direct import FrameError, FrameReader
from node.p2p.gossip import Gossip
from node.p2p.limits import PROTOCOL_DIRECT

log = logging.getLogger(__name__)

# Direct frames queued for one peer (a stalled one: up to a write and a dial timeout's worth);
# beyond it, dropped and logged. Room for several of the largest frames (a proposal).
DIRECT_QUEUE_BYTES = 16 * 1024 * 1024
DIRECT_WRITE_BYTES = 256 * 1024  # queued frames joined into one write up to this size
DIRECT_READ_BYTES = 64 * 1024


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


class DirectStreams:
    """A host's direct streams: a writer per peer we send to, a reader per peer that sends."""

    def __init__(
        self,
        host: IHost,
        peers: Peers,
        topics: Container[str],
        deliver: Callable[[Gossip], None],
        submit: Callable[[Work], None],
    ) -> None:
        self._host, self._peers, self._topics = host, peers, topics
        self._deliver = deliver  # what a reader parsed, on a topic of ours
        self._submit = submit  # starts a trio task of the node; P2PError once it stopped
        self._senders: dict[ID, _Outgoing] = {}  # direct frames waiting, per peer
        self._readers: dict[ID, INetStream] = {}  # each peer's one inbound direct stream

    def put(self, peer: ID, frame: bytes) -> bool:
        """Queue `frame` for `peer`, starting its writer if none runs; False when dropped.

        Raises:
            P2PError: the node is stopped.
        """
        outgoing = self._senders.get(peer)
        try:
            return (outgoing or self._start_sender(peer)).put(frame)
        except trio.BrokenResourceError:  # its stream just failed: start another
            return self._start_sender(peer).put(frame)

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
                    await discard(stream)
                    raise
        except (BaseLibp2pError, trio.TooSlowError) as exc:
            log.debug("direct stream to %s ended: %r", peer, exc)
        finally:
            if self._senders.get(peer) is outgoing:
                del self._senders[peer]

    async def receive(self, stream: INetStream) -> None:
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
                await discard(replaced)
            if peer in self._peers.banned:
                raise P2PError(f"{peer} is banned")
            while True:
                for topic, data in reader.feed(await stream.read(DIRECT_READ_BYTES)):
                    if topic in self._topics:
                        self._deliver(Gossip(topic, origin, data))
        except FrameError as exc:
            self._peers.ban(peer, f"direct stream: {exc}")
            await discard(stream)
        except (BaseLibp2pError, P2PError):
            await discard(stream)  # ended, replaced, or nobody to read from
        finally:
            if self._readers.get(peer) is stream:
                del self._readers[peer]
