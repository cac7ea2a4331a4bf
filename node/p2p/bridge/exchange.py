"""Request/response on libp2p streams: one length-prefixed request, one length-prefixed response.

Both directions of node.p2p.limits' protocols: `request` asks a peer from trio, `answer` serves a
peer's request with the node's asyncio handler, run as an asyncio task in asyncio's context and
awaited from trio. Lengths are checked against the protocol's limits before a byte is read into
memory (STYLE §5); a peer that breaks them is banned. In chaos mode, node.p2p.faults' rules
refuse or hold back exchanges with the peers they name, in both directions.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Mapping

import trio
from libp2p.abc import IHost, INetStream
from libp2p.custom_types import TProtocol
from libp2p.exceptions import BaseLibp2pError, ParseError
from libp2p.io.exceptions import MessageTooLarge
from libp2p.peer.id import ID
from libp2p.utils.varint import encode_varint_prefixed, read_varint_prefixed_bytes_limited

from node.p2p import P2PError, PeerMisbehaved
from node.p2p.bridge.peers import Peers, discard
from node.p2p.faults import Faults
from node.p2p.limits import ExchangeLimits

log = logging.getLogger(__name__)

ANSWER_TIMEOUT_S = 30.0  # an inbound exchange: read the request, run the handler, write

Handler = Callable[[str, bytes], Awaitable[bytes]]
"""Answers one request: (peer id, request) -> response; raises PeerMisbehaved on garbage."""


class Exchanges:
    """A host's request/response exchanges: the protocols it answers, and the requests it sends."""

    def __init__(
        self,
        host: IHost,
        peers: Peers,
        protocols: Mapping[str, tuple[ExchangeLimits, Handler]],
        faults: Faults | None = None,
    ) -> None:
        self._host, self._peers, self._protocols = host, peers, protocols
        self._faults = faults  # chaos mode's rules; None (the rest of the time): no checks
        self._handler_tasks: asyncio.TaskGroup | None = None
        self._handler_context = contextvars.Context()

    def run_handlers_in(self, tasks: asyncio.TaskGroup, context: contextvars.Context) -> None:
        """Run handlers as tasks of `tasks`, in `context`: asyncio's, not trio's."""
        self._handler_tasks, self._handler_context = tasks, context

    async def request(self, peer: ID, protocol: str, data: bytes, limit: int) -> bytes:
        """Send `data` to `peer` on `protocol`; its response, of at most `limit` bytes.

        Raises:
            PeerMisbehaved: the response broke the protocol; the peer is banned.
            P2PError: no stream, the peer reset it, or a chaos rule refused the exchange.
        """
        if not await self._allowed(peer):
            raise P2PError(f"{protocol} request to {peer} refused by a chaos rule")
        try:
            stream = await self._host.new_stream(peer, [TProtocol(protocol)])
            try:
                await stream.write(encode_varint_prefixed(data))
                response = await read_varint_prefixed_bytes_limited(stream, limit)
            except BaseException:
                await discard(stream)
                raise
            with contextlib.suppress(BaseLibp2pError):  # the answer is in; the peer may be gone
                await stream.close()
        except (MessageTooLarge, ParseError) as exc:
            self._peers.ban(peer, f"{protocol} response: {exc}")
            raise PeerMisbehaved(peer.to_base58(), f"{protocol} response: {exc}") from exc
        except BaseLibp2pError as exc:
            raise P2PError(f"{protocol} request to {peer} failed: {exc!r}") from exc
        return response

    async def answer(self, protocol: str, stream: INetStream) -> None:
        """Serve one inbound request: a length-prefixed request, then a length-prefixed response."""
        peer = stream.muxed_conn.peer_id
        limits, handler = self._protocols[protocol]
        try:
            with trio.fail_after(ANSWER_TIMEOUT_S):
                if peer in self._peers.banned:
                    raise P2PError(f"{peer} is banned")
                if not await self._allowed(peer):
                    raise P2PError(f"{peer} is refused by a chaos rule")
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
            self._peers.ban(peer, f"{protocol} request: {exc}")
            await discard(stream)
        except (BaseLibp2pError, trio.TooSlowError, P2PError):
            await discard(stream)  # nothing to answer, or no one to answer to

    async def _allowed(self, peer: ID) -> bool:
        """Whether chaos mode's rules let an exchange with `peer` go on, once they have held it
        back as long as they say; always, at once, outside chaos mode."""
        if self._faults is None:
            return True
        delay_s = self._faults.exchange(peer.to_base58())
        if delay_s:
            await trio.sleep(delay_s)
        return delay_s is not None

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
            self._peers.penalise(peer_id, exc.reason)
        except Exception:  # boundary: one bad request must not stop the host
            log.exception("request handler failed on a request from %s", peer_id)
        return None
