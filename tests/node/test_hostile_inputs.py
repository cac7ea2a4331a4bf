"""A live node under hostile input (issue 12): every JSON-RPC method, then raw p2p frames.

The report: one JSON-RPC body of 100,000 nested arrays (200 KB) killed node0 with a segfault in
the C JSON decoder. Here a real `brainchain node` process gets, at every method it registers,
malformed, deeply nested, oversized, wrongly typed and boundary-valued requests, and malformed
bodies; after each the answer must be a JSON-RPC 2.0 object (an error with an integer code for
bad input, never an internal error), and the node must go on committing blocks. Then peers
connect over libp2p and send frames, gossip and block-sync requests no honest node sends: the
node bans each and goes on.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from brainchain.encoding import msgpack_canon
from node.cli.client import RpcClient
from node.p2p import P2PError, bridge
from node.p2p.direct import HEADER
from node.p2p.limits import (
    DIRECT_TOPICS,
    GOSSIP_MAX_BYTES,
    PROTOCOL_BLOCK_SYNC,
    PROTOCOL_DIRECT,
    TOPIC_EVIDENCE,
    TOPIC_PROPOSALS,
    TOPIC_TXS,
    TOPIC_VOTES,
)
from node.rpc.errors import INTERNAL_ERROR
from node.rpc.logs import FilterRegistry
from node.rpc.server import MAX_BATCH, MAX_BODY_BYTES, bind_methods
from tests.fuzz.hostile import msgpack_nested, rlp_nested
from tests.node.harness import NodeProcess, height, wait_for_height
from tests.node.test_p2p import Net, network, until

REPORTED_DEPTH = 100_000
DEEP_ARRAYS = "[" * REPORTED_DEPTH + "]" * REPORTED_DEPTH
DEEP_OBJECTS = '{"a":' * REPORTED_DEPTH + "1" + "}" * REPORTED_DEPTH
HUGE_HEX = '"0x' + "ab" * 512 * 1024 + '"'  # 1 MiB of data where 32 bytes are due
ADDRESS = '"0x' + "11" * 20 + '"'

# The `params` member, as raw JSON text (None: left out), of each hostile request.
PARAMS: dict[str, str | None] = {
    "absent": None,
    "null": "null",
    "empty": "[]",
    "nested arrays": f"[{DEEP_ARRAYS}]",
    "nested objects": f"[{DEEP_OBJECTS}]",
    "nested within bounds": "[" + "[" * 20 + "]" * 20 + "]",
    "wrong types": '[true, {}, 1.5, "x", [1]]',
    "boundary numbers": f"[{2**256}, -1, 0, {2**64}]",
    "boundary hex": f'["0x{"f" * 65}", "0x", "", "-0x1", "0x{"0" * 64}"]',
    "huge hex": f"[{HUGE_HEX}, {HUGE_HEX}]",
    "too many": "[" + ", ".join(['"0x1"'] * 20) + "]",
    "nulls": "[null, null, null, null]",
    "an object": '{"blockHash": "0x1"}',
    "a string": '"latest"',
    "call objects": (
        f'[{{"to": {ADDRESS}, "data": "0xzz", "gas": "0x{"f" * 64}", "value": -1}}, "pending"]'
    ),
    "filter objects": (
        f'[{{"fromBlock": "0x{"f" * 64}", "toBlock": "earliest", "address": [{ADDRESS}, 7],'
        ' "topics": [[null, "0x1"], "0x", [[]]]}]'
    ),
}
BLOCKS_EVERY = 8  # methods between two checks that the node still commits


def post(url: str, body: bytes) -> tuple[int, Any]:
    """POST `body`; the HTTP status and the decoded JSON answer (None for no body)."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    return status, json.loads(raw) if raw else None


def check_answer(answer: Any, request_id: Any) -> None:
    """A JSON-RPC 2.0 response object (§5): one of result and error, an error with an integer
    code and a message; bad input is the client's error, never an internal one."""
    assert isinstance(answer, dict) and answer.get("jsonrpc") == "2.0", answer
    assert ("result" in answer) != ("error" in answer), answer
    if "error" in answer:
        error = answer["error"]
        assert isinstance(error.get("code"), int) and isinstance(error.get("message"), str)
        assert error["code"] != INTERNAL_ERROR, error
        assert answer["id"] in (request_id, None), answer
    else:
        assert answer["id"] == request_id, answer


def still_committing(client: RpcClient, since: int) -> int:
    """Wait until the node's head passes `since`; return the new head."""
    wait_for_height([client], since + 1, timeout_s=30)
    return height(client)


def test_every_rpc_method_answers_hostile_requests_and_the_node_commits_on(
    node: NodeProcess,
) -> None:
    client = node.client()
    head = still_committing(client, 0)
    methods = sorted(bind_methods(FilterRegistry()))
    for count, method in enumerate(methods, 1):
        for name, params in PARAMS.items():
            member = "" if params is None else f', "params": {params}'
            body = f'{{"jsonrpc": "2.0", "id": 7, "method": "{method}"{member}}}'
            status, answer = post(node.url, body.encode())
            assert status == 200, (method, name)
            check_answer(answer, 7)
        if count % BLOCKS_EVERY == 0:
            head = still_committing(client, head)
        assert node.running(), method
    still_committing(client, head)


def call(method: str, request_id: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": []}


# Whole bodies: (body, expected HTTP status, whether the answer is a batch).
BODIES: dict[str, tuple[bytes, int, bool]] = {
    "not JSON": (b"{not json", 200, False),
    "not UTF-8": (b'\xff\xfe[{"jsonrpc": "2.0"}]', 200, False),
    "empty": (b"", 200, False),
    "empty batch": (b"[]", 200, False),
    "batch of junk": (b'[1, "x", null, [], {}, {"jsonrpc": "2.0", "id": [1]}]', 200, True),
    "nested arrays (the report)": (DEEP_ARRAYS.encode(), 200, False),
    "nested objects": (DEEP_OBJECTS.encode(), 200, False),
    "a huge number": (b"1" * 100_000, 200, False),
    "NaN id": (b'{"jsonrpc": "2.0", "id": NaN, "method": "eth_chainId"}', 200, False),
    "object id": (b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "eth_chainId"}', 200, False),
    "array method": (b'{"jsonrpc": "2.0", "id": 1, "method": ["eth_call"]}', 200, False),
    "object method": (b'[{"jsonrpc": "2.0", "id": 1, "method": {"eth_call": 1}}]', 200, True),
    "batch over the limit": (
        json.dumps([call("eth_chainId", i) for i in range(MAX_BATCH + 1)]).encode(),
        200,
        False,
    ),
    "full batch": (
        json.dumps([call("eth_blockNumber", i) for i in range(MAX_BATCH)]).encode(),
        200,
        True,
    ),
    "body over the limit": (b"[" + b" " * MAX_BODY_BYTES + b"]", 413, False),
}


def test_malformed_bodies_get_json_rpc_errors_and_the_node_commits_on(node: NodeProcess) -> None:
    client = node.client()
    head = still_committing(client, 0)
    for name, (body, expected_status, batch) in BODIES.items():
        status, answer = post(node.url, body)
        assert status == expected_status, name
        for one in answer if batch else [answer]:
            check_answer(one, one.get("id") if isinstance(one, dict) else None)
        assert node.running(), name
    head = still_committing(client, head)


# ---- raw p2p --------------------------------------------------------------------------------

# A vote whose height is 1,023 nested arrays: describing the bad height once recursed past the
# interpreter's limit, and the RecursionError stopped the receive loop, and the node.
DEEP_FIELD_VOTE = (
    b"\x96" + msgpack_nested(1_023) + msgpack_canon.pack([0, 1, None, 0, bytes(64)])[1:]
)
MANY_ARRAYS = b"\xdd" + (1 << 19).to_bytes(4, "big") + b"\x90" * (1 << 19)


def frame(topic: str, payload: bytes) -> bytes:
    """A direct-stream frame as node.p2p.direct cuts them, unchecked."""
    return HEADER.pack(len(payload), DIRECT_TOPICS.index(topic)) + payload


# What each hostile peer writes on its direct stream to the node.
FRAMES: dict[str, bytes] = {
    "vote batch nested 1,023 deep": frame(TOPIC_VOTES, msgpack_nested(1_023)),
    "vote with a deep field": frame(TOPIC_VOTES, msgpack_canon.pack([DEEP_FIELD_VOTE])),
    "proposal of garbage": frame(TOPIC_PROPOSALS, b"\xc1" * 100),
    "proposal of half a million arrays": frame(TOPIC_PROPOSALS, MANY_ARRAYS),
    "evidence of garbage": frame(TOPIC_EVIDENCE, msgpack_canon.pack([b"\x01", b"\x02"])),
    "frame over its limit": HEADER.pack(
        GOSSIP_MAX_BYTES[TOPIC_VOTES] + 1, DIRECT_TOPICS.index(TOPIC_VOTES)
    ),
    "unknown topic": HEADER.pack(1, len(DIRECT_TOPICS)) + b"?",
}


async def write_direct(peer: bridge.P2PNode, target: str, data: bytes) -> None:
    """Open a direct stream to `target` and write `data` on it as it is."""

    async def write() -> None:
        stream = await peer._host.new_stream(
            bridge.node.ID.from_base58(target), [bridge.node.TProtocol(PROTOCOL_DIRECT)]
        )
        await stream.write(data)

    await peer._in_trio(write)


async def hostile_peer(net: Net, name: str, node: NodeProcess) -> tuple[bridge.P2PNode, str]:
    peer = await net.start(name, topics=list(DIRECT_TOPICS))
    return peer, await peer.connect(node.p2p)


@pytest.mark.asyncio
async def test_hostile_peers_are_banned_and_the_node_commits_on(node: NodeProcess) -> None:
    client = node.client()
    head = await asyncio.to_thread(still_committing, client, 0)
    async with network() as net:
        for i, (name, data) in enumerate(FRAMES.items()):
            peer, target = await hostile_peer(net, f"frames{i}", node)
            await write_direct(peer, target, data)
            await until(lambda peer=peer, target=target: target not in peer.peers())
            head = await asyncio.to_thread(still_committing, client, head)
            assert node.running(), name

        # Gossip, which the node decodes the same way once pubsub delivers it.
        peer, target = await hostile_peer(net, "gossip", node)
        await peer.wait_for_mesh(target, TOPIC_VOTES, 10)
        peer.publish(TOPIC_VOTES, msgpack_canon.pack([DEEP_FIELD_VOTE]))
        await until(lambda: target not in peer.peers())

        # Block sync: a request that does not decode gets its sender banned.
        peer, target = await hostile_peer(net, "sync", node)
        with pytest.raises(P2PError):
            await peer.request(target, PROTOCOL_BLOCK_SYNC, msgpack_nested(1_023))
        await until(lambda: target not in peer.peers())

        # Transactions that do not decode are dropped, not blamed on whoever relayed them.
        peer, target = await hostile_peer(net, "txs", node)
        peer.send(TOPIC_TXS, msgpack_canon.pack([rlp_nested(20_000), b"\xf8", b""]))
        head = await asyncio.to_thread(still_committing, client, head)
        assert target in peer.peers()
    await asyncio.to_thread(still_committing, client, head)
    assert node.running()
    assert "dropping peer" in node.log()
