"""JSON-RPC over a WebSocket, on the HTTP server's host, port and path (as geth serves both),
with eth_subscribe / brain_subscribe notifications.

Every call goes through the HTTP server's dispatch (node/rpc/server.py answer_body): the same
methods, batches, errors and limits. The connection adds the subscription methods; what each
subscription is sent is node/rpc/subscriptions.py's.

Bounded per connection, so that a client costs the node a fixed amount of memory:
- at most MAX_SUBSCRIPTIONS subscriptions (LIMIT_EXCEEDED beyond);
- incoming messages of at most the HTTP body limit (aiohttp closes with 1009 beyond);
- outgoing messages queue up to MAX_QUEUED_MESSAGES or MAX_QUEUED_BYTES; a client that reads
  slower than the node writes overflows them and is dropped with close code 1013 (try again
  later) and a reason, never buffered without limit (geth drops such a client too);
- a ping every HEARTBEAT_S; a client that does not answer is closed (RFC 6455 §5.5.2).
Everything the connection holds (its chain queues, its tasks) goes when it closes.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from brainchain.types.block import Block
from brainchain.types.transaction import Transaction
from node.chain import Chain
from node.rpc.errors import (
    LIMIT_EXCEEDED,
    METHOD_NOT_FOUND,
    SERVER_ERROR,
    InvalidParams,
    RpcError,
)
from node.rpc.methods import Handler
from node.rpc.subscriptions import (
    ETH_NOTIFICATION,
    PendingTransactions,
    Subscription,
    block_notifications,
    parse_brain_subscription,
    parse_eth_subscription,
    pending_result,
)

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 64
MAX_QUEUED_MESSAGES = 1024
MAX_QUEUED_BYTES = 16 * 1024 * 1024
HEARTBEAT_S = 30.0
CLOSE_TIMEOUT_S = 1.0  # for the close handshake of a dropped client, then the socket is cut
SUBSCRIPTION_METHODS = ("eth_subscribe", "eth_unsubscribe", "brain_subscribe", "brain_unsubscribe")

# Answers a request body with the given method table: JSON to send back, or None.
Dispatch = Callable[[bytes, dict[str, Handler]], Awaitable[Any]]


def notifications_unsupported(chain: Chain, params: list[Any]) -> Any:
    """The subscription methods over HTTP: geth's ErrNotificationsUnsupported."""
    raise RpcError(METHOD_NOT_FOUND, "notifications not supported")


class SlowClient(Exception):
    """The client let more messages queue up than a connection may hold."""


class Connection:
    """One WebSocket client's subscriptions and its bounded queue of outgoing messages."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.subscriptions: dict[str, Subscription] = {}
        # Subscribed by the message being answered: notified only once the answer is queued.
        self._staged: dict[str, Subscription] = {}
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._queued_bytes = 0

    def methods(self, base: dict[str, Handler]) -> dict[str, Handler]:
        """`base` with this connection's subscription methods."""
        return {
            **base,
            "eth_subscribe": functools.partial(self._subscribe, parse_eth_subscription),
            "brain_subscribe": functools.partial(self._subscribe, parse_brain_subscription),
            "eth_unsubscribe": self._unsubscribe,
            "brain_unsubscribe": self._unsubscribe,
        }

    def _subscribe(
        self, parse: Callable[[list[Any]], Subscription], chain: Chain, params: list[Any]
    ) -> str:
        subscription = parse(params)
        if len(self.subscriptions) + len(self._staged) >= MAX_SUBSCRIPTIONS:
            raise RpcError(LIMIT_EXCEEDED, f"too many subscriptions (at most {MAX_SUBSCRIPTIONS})")
        sub_id = "0x" + secrets.token_hex(16)  # geth's rpc.NewID: 128 random bits
        self._staged[sub_id] = subscription
        return sub_id

    def _unsubscribe(self, chain: Chain, params: list[Any]) -> bool:
        """True if the id was this connection's; geth answers "subscription not found" (a
        plain -32000 error) otherwise."""
        if len(params) != 1 or not isinstance(params[0], str):
            raise InvalidParams("expected one param, the subscription id")
        found = self.subscriptions.pop(params[0], None) or self._staged.pop(params[0], None)
        if found is None:
            raise RpcError(SERVER_ERROR, "subscription not found")
        return True

    # --- out ----------------------------------------------------------------------------------

    def send(self, message: Any) -> None:
        """Queue a JSON message for the client.

        Raises:
            SlowClient: the queue would exceed MAX_QUEUED_MESSAGES or MAX_QUEUED_BYTES.
        """
        text = json.dumps(message, separators=(",", ":"))
        size = len(text)
        if (
            self._outbox.qsize() >= MAX_QUEUED_MESSAGES
            or self._queued_bytes + size > MAX_QUEUED_BYTES
        ):
            raise SlowClient(f"{self._outbox.qsize()} messages, {self._queued_bytes} bytes unread")
        self._queued_bytes += size
        self._outbox.put_nowait(text)

    def _notify(self, method: str, sub_id: str, result: Any) -> None:
        params = {"subscription": sub_id, "result": result}
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def answered(self, answer: Any) -> None:
        """Queue the answer to a message (None: nothing to answer), then start the
        subscriptions it made: a client never sees a notification before the id."""
        if answer is not None:
            self.send(answer)
        self.subscriptions.update(self._staged)
        self._staged.clear()

    async def write(self, ws: web.WebSocketResponse) -> None:
        """Send queued messages in order, until cancelled."""
        while True:
            text = await self._outbox.get()
            await ws.send_str(text)
            self._queued_bytes -= len(text)

    # --- events in ----------------------------------------------------------------------------

    async def pump_blocks(self, blocks: asyncio.Queue[Block]) -> None:
        """Notify each committed block to the subscriptions that want it, until cancelled."""
        while True:
            block = await blocks.get()
            for method, sub_id, result in block_notifications(
                self.chain, block, dict(self.subscriptions)
            ):
                self._notify(method, sub_id, result)

    async def pump_pending(self, pending: asyncio.Queue[Transaction]) -> None:
        """Notify each newly pending transaction, until cancelled."""
        while True:
            tx = await pending.get()
            for sub_id, subscription in list(self.subscriptions.items()):
                if isinstance(subscription, PendingTransactions):
                    self._notify(ETH_NOTIFICATION, sub_id, pending_result(tx, subscription))


async def serve_websocket(
    request: web.Request,
    chain: Chain,
    methods: dict[str, Handler],
    dispatch: Dispatch,
    max_message_bytes: int,
) -> web.WebSocketResponse:
    """Serve one WebSocket client until it closes, is dropped, or the server stops; `dispatch`
    answers its messages with `methods` plus the subscription methods."""
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=max_message_bytes)
    transport = request.transport
    await ws.prepare(request)
    connection = Connection(chain)
    table = connection.methods(methods)
    blocks, pending = chain.subscribe(), chain.subscribe_pending()
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(connection.write(ws)),
                group.create_task(connection.pump_blocks(blocks)),
                group.create_task(connection.pump_pending(pending)),
            ]
            async for message in ws:
                if message.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    body = (
                        message.data if isinstance(message.data, bytes) else message.data.encode()
                    )
                    connection.answered(await dispatch(body, table))
            for task in tasks:
                task.cancel()
    except* SlowClient as dropped:
        log.info("WebSocket client %s dropped: %s", request.remote, dropped.exceptions[0])
        await _drop(ws, transport)
    finally:
        chain.unsubscribe(blocks)
        chain.unsubscribe_pending(pending)
    return ws


async def _drop(ws: web.WebSocketResponse, transport: asyncio.Transport | None) -> None:
    """Close with 1013 and a reason, then cut the connection: a client too slow to take the
    close frame would otherwise hold the socket and its unsent buffer."""
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"client too slow: dropped")
    except (TimeoutError, ConnectionError):
        pass  # it is cut off below either way
    finally:
        if transport is not None:
            transport.abort()
