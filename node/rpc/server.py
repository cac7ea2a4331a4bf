"""The JSON-RPC 2.0 server over HTTP (aiohttp): single and batch requests, and the blob routes.
The same host, port and path serve JSON-RPC over a WebSocket, with subscriptions (GET / with an
Upgrade header: node/rpc/websocket.py).

Bounded on raw bytes before parsing (request body, its nesting: node/rpc/jsonbody.py, batch
length), answers every malformed request with the JSON-RPC error for it, and binds 127.0.0.1
unless told otherwise.

Federated-learning weights travel as content-addressed blobs (DESIGN.md §6); trainers put and
get them on the same host and port:

    POST /blobs            body: the blob's bytes, with a Content-Length of at most the store's
                           limit (MAX_BLOB_BYTES), checked before the body is read
                           → 200 {"id": "0x<keccak-256 of the bytes>", "size": n}
    GET  /blobs/0x<id>     → 200 the bytes (application/octet-stream), from the store, else from
                           peers when the node has a fetcher; 404 when nobody has them

Errors are JSON {"error": {"code": <HTTP status>, "message": …}}: 400 for a malformed id or an
empty or short body, 411 without a Content-Length, 413 over the limit. An upload is stored
(fsynced) and pinned against garbage collection for node/fl/pins.py's PIN_BLOCKS heights, time
for the transaction that names it to land; then it is served to peers like any other blob.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from brainchain.crypto.keccak import keccak256
from brainchain.errors import BrainchainError
from node.blob_fetch import BlobFetcher, BlobUnavailable
from node.chain import Chain
from node.fl.pins import BlobPins
from node.rpc.chaos import Chaos, chaos_methods
from node.rpc.dashboard import NodeView, add_dashboard_routes, dashboard_methods
from node.rpc.debug import DEBUG_METHODS
from node.rpc.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    LIMIT_EXCEEDED,
    METHOD_NOT_FOUND,
    InvalidParams,
    RpcError,
    to_rpc_error,
)
from node.rpc.jsonbody import parse_body
from node.rpc.logs import FilterRegistry
from node.rpc.methods import FILTER_METHODS, METHODS, FilterHandler, Handler
from node.rpc.simulations import SIMULATIONS, SimulationPool
from node.rpc.websocket import SUBSCRIPTION_METHODS, notifications_unsupported, serve_websocket
from node.site import serve_app
from node.store.blobs import BlobTooLarge

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_BATCH = 1000
CHAIN_KEY: web.AppKey[Chain] = web.AppKey("chain", Chain)
METHODS_KEY: web.AppKey[dict[str, Handler]] = web.AppKey("methods", dict)
SIMULATIONS_KEY: web.AppKey[SimulationPool] = web.AppKey("simulations", SimulationPool)
BLOB_FETCH_TIMEOUT_S = 30.0  # a GET of a blob only peers hold waits this long at most
_BLOB_ID = re.compile(r"0x[0-9a-fA-F]{64}")


@dataclass(frozen=True, slots=True)
class BlobAccess:
    """What the blob routes need beside the chain's store: the pins that keep an upload from
    garbage collection, and a fetcher for blobs only peers hold (None: the store only)."""

    pins: BlobPins = field(default_factory=BlobPins)
    fetcher: BlobFetcher | None = None


BLOBS_KEY: web.AppKey[BlobAccess] = web.AppKey("blobs", BlobAccess)


def _error(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def bind_methods(
    filters: FilterRegistry, chaos: Chaos | None = None, view: NodeView | None = None
) -> dict[str, Handler]:
    """Every method this server answers; the filter methods share one registry per server, the
    dashboard's read the node's `view` (none: no peers, no votes), and the chaos_* methods
    exist only in chaos mode (`chaos` given)."""
    return {
        **METHODS,
        **DEBUG_METHODS,
        **dashboard_methods(view or NodeView()),
        **{
            name: functools.partial(_with_filters, fn, filters)
            for name, fn in FILTER_METHODS.items()
        },
        **(chaos_methods(chaos) if chaos is not None else {}),
        **dict.fromkeys(SUBSCRIPTION_METHODS, notifications_unsupported),  # WS only
    }


def _with_filters(
    fn: FilterHandler, filters: FilterRegistry, chain: Chain, params: list[Any]
) -> Any:
    return fn(chain, filters, params)


def handle_call(
    chain: Chain, call: Any, methods: dict[str, Handler] | None = None
) -> dict[str, Any] | None:
    """Answer one request object; None for a notification (no id)."""
    if not isinstance(call, dict) or call.get("jsonrpc") != "2.0" or "method" not in call:
        return _error(None, RpcError(INVALID_REQUEST, "invalid request: not a JSON-RPC 2.0 call"))
    request_id = call.get("id")
    if not _is_id(request_id):
        error = RpcError(INVALID_REQUEST, "invalid request: id must be a string, number or null")
        return _error(None, error)
    method, params = call["method"], call.get("params")
    params = [] if params is None else params  # absent or null: no params, as geth reads it
    if not isinstance(method, str):
        return _error(
            request_id, RpcError(INVALID_REQUEST, "invalid request: method must be a string")
        )
    if not isinstance(params, list):
        return _error(request_id, InvalidParams("params must be a list (by-position parameters)"))
    handler = (METHODS if methods is None else methods).get(method)
    try:
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
        result = handler(chain, params)
    except RpcError as exc:
        answer = _error(request_id, exc)
    except BrainchainError as exc:
        answer = _error(request_id, to_rpc_error(exc))
    except Exception:  # boundary: a bug must not take the server down
        log.exception("internal error in %s", method)
        answer = _error(request_id, RpcError(INTERNAL_ERROR, "internal error"))
    else:
        answer = {"jsonrpc": "2.0", "id": request_id, "result": result}
    return None if "id" not in call else answer


def _is_id(value: Any) -> bool:
    """JSON-RPC 2.0 §4: an id is a string, a number or null (and a bool is not a number)."""
    return value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))


async def _handle_http(request: web.Request) -> web.Response:
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge as too_large:  # aiohttp's own answer is plain text
        error = RpcError(LIMIT_EXCEEDED, f"request body over {MAX_BODY_BYTES} bytes")
        return web.json_response(_error(None, error), status=too_large.status_code)
    answer = await answer_body(request.app, body, request.app[METHODS_KEY])
    return web.json_response(answer) if answer is not None else web.Response(status=204)


async def _handle_get(request: web.Request) -> web.StreamResponse:
    """GET /: JSON-RPC over a WebSocket when the request asks for the upgrade; otherwise an
    empty 200, as geth answers a bare GET for load balancers' health checks (rpc/http.go)."""
    if not web.WebSocketResponse().can_prepare(request).ok:
        return web.Response()
    app = request.app
    dispatch = functools.partial(answer_body, app)
    return await serve_websocket(
        request, app[CHAIN_KEY], app[METHODS_KEY], dispatch, MAX_BODY_BYTES
    )


async def answer_body(app: web.Application, body: bytes, methods: dict[str, Handler]) -> Any:
    """The answer to one HTTP body or WebSocket message: an answer object, a batch's list of
    them, or None when there is nothing to answer (notifications only).

    It returns once the transactions it got accepted are fsynced: a client told a hash can
    count on it surviving a crash (node/store/tx_journal.py).
    """
    journal = app[CHAIN_KEY].store.tx_journal
    accepted = journal.accepted
    answer = await _answer_payload(app, body, methods)
    if journal.accepted != accepted:  # this body's, or one's that ran while it waited
        await journal.sync()
    return answer


async def _answer_payload(app: web.Application, body: bytes, methods: dict[str, Handler]) -> Any:
    try:
        payload = parse_body(body)
    except RpcError as exc:
        return _error(None, exc)
    if isinstance(payload, list):
        if not payload:
            return _error(None, RpcError(INVALID_REQUEST, "empty batch"))
        if len(payload) > MAX_BATCH:
            error = RpcError(INVALID_REQUEST, f"batch of {len(payload)} exceeds {MAX_BATCH}")
            return _error(None, error)
        answers = [a for a in [await _answer(app, c, methods) for c in payload] if a is not None]
        return answers or None
    return await _answer(app, payload, methods)


async def _answer(
    app: web.Application, call: Any, methods: dict[str, Handler]
) -> dict[str, Any] | None:
    """handle_call, on a simulation worker for the methods that run the EVM (eth_call, …)."""
    chain = app[CHAIN_KEY]
    method = call.get("method") if isinstance(call, dict) else None
    if not (isinstance(method, str) and method in SIMULATIONS):  # a list would fail to hash
        return handle_call(chain, call, methods)
    try:
        return await app[SIMULATIONS_KEY].run(functools.partial(handle_call, chain, call, methods))
    except RpcError as busy:
        return _error(call.get("id"), busy) if "id" in call else None


# --- blobs ----------------------------------------------------------------------------------


def _http_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"code": status, "message": message}}, status=status)


async def _upload_blob(request: web.Request) -> web.Response:
    """POST /blobs: store the body as a blob, pinned; answer its id and size."""
    chain = request.app[CHAIN_KEY]
    store = chain.store.blobs
    size = request.content_length
    if size is None:
        return _http_error(411, "a blob upload needs a Content-Length")
    if size > store.max_bytes:  # refused before a byte of the body is read
        return _http_error(413, f"blob of {size} bytes exceeds the limit of {store.max_bytes}")
    if size == 0:
        return _http_error(400, "empty blob")
    try:
        body = await request.content.readexactly(size)
    except asyncio.IncompleteReadError as short:
        return _http_error(400, f"body of {len(short.partial)} bytes, not {size}")
    blob_id = keccak256(body)
    await request.app[BLOBS_KEY].pins.pin(blob_id, chain.head.height)  # before it is stored
    await asyncio.to_thread(store.put, body)
    log.info("blob 0x%s of %d bytes uploaded", blob_id.hex(), size)
    return web.json_response({"id": "0x" + blob_id.hex(), "size": size})


async def _download_blob(request: web.Request) -> web.StreamResponse:
    """GET /blobs/0x<id>: the blob's bytes, from the store or else from peers."""
    text = request.match_info["blob_id"]
    if not _BLOB_ID.fullmatch(text):
        return _http_error(400, f"blob id must be 0x and 64 hex digits, not {text[:80]!r}")
    blob_id = bytes.fromhex(text[2:])
    chain, access = request.app[CHAIN_KEY], request.app[BLOBS_KEY]
    blob = await asyncio.to_thread(chain.store.blobs.get, blob_id)
    if blob is None and access.fetcher is not None:
        await access.pins.pin(blob_id, chain.head.height)
        try:
            async with asyncio.timeout(BLOB_FETCH_TIMEOUT_S):
                blob = await access.fetcher.fetch(blob_id)
        except (BlobUnavailable, BlobTooLarge, TimeoutError) as exc:
            log.info("blob 0x%s asked for over HTTP: %s", blob_id.hex(), str(exc) or "timed out")
    if blob is None:
        return _http_error(404, f"no blob {text}")
    return web.Response(body=blob, content_type="application/octet-stream")


def make_app(
    chain: Chain,
    simulations: SimulationPool | None = None,
    blobs: BlobAccess | None = None,
    chaos: Chaos | None = None,
    view: NodeView | None = None,
) -> web.Application:
    """The aiohttp application serving JSON-RPC at POST /, blobs at /blobs and the dashboard at
    /dashboard; with the chaos_* methods when `chaos` is given."""
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[CHAIN_KEY] = chain
    app[METHODS_KEY] = bind_methods(FilterRegistry(), chaos, view)
    app[BLOBS_KEY] = blobs or BlobAccess()
    pool = app[SIMULATIONS_KEY] = simulations or SimulationPool()

    async def close_pool(_: web.Application) -> None:
        pool.close()

    app.on_cleanup.append(close_pool)
    app.router.add_post("/", _handle_http)
    app.router.add_get("/", _handle_get)  # WebSocket JSON-RPC (node/rpc/websocket.py)
    app.router.add_post("/blobs", _upload_blob)
    app.router.add_get("/blobs/{blob_id}", _download_blob)
    add_dashboard_routes(app)
    return app


async def serve(
    chain: Chain,
    *,
    host: str,
    port: int,
    ready: asyncio.Event,
    bound: list[int],
    simulations: SimulationPool | None = None,
    blobs: BlobAccess | None = None,
    chaos: Chaos | None = None,
    view: NodeView | None = None,
) -> None:
    """Serve until cancelled; append the bound port to `bound`, then set `ready`."""
    await serve_app(
        make_app(chain, simulations, blobs, chaos, view),
        what="JSON-RPC",
        host=host,
        port=port,
        ready=ready,
        bound=bound,
    )
