"""WebSocket JSON-RPC and subscriptions over an in-process server and a real LevelDB chain, and
the decoding of BRAIN's events from hand-made precompile logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient

from brainchain.types.receipt import Log
from node.chain import Chain
from node.rpc import websocket
from node.rpc.errors import RpcError
from node.rpc.subscriptions import Emitted, fl_event, inference_event, parse_eth_subscription
from tests.unit.blocks import commit_next_block
from tests.unit.rpc_harness import call, serving
from tests.unit.test_rpc import signed
from vm.abi import encode_values
from vm.precompiles.addresses import FL_REGISTRY_ADDRESS, INFERENCE_ADDRESS
from vm.precompiles.fl_registry import PROPOSED, PROPOSED_DATA
from vm.precompiles.inference import (
    CALLED_BACK,
    COMMITTED,
    FINALIZED,
    REQUESTED,
    REQUESTED_DATA,
    REVEALED,
)
from vm.precompiles.layout import word
from vm.precompiles.solidity import event_topic

MEMBER = bytes.fromhex("22" * 20)


@pytest_asyncio.fixture
async def rpc(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Chain]]:
    async with serving(tmp_path / "data") as served:
        yield served


async def ask(ws: ClientWebSocketResponse, method: str, *params: Any) -> Any:
    """Send one call; return its answer, which must be the next message."""
    await ws.send_json({"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)})
    return await ws.receive_json(timeout=10)


async def until(ws: ClientWebSocketResponse, count: int) -> list[Any]:
    return [await ws.receive_json(timeout=10) for _ in range(count)]


@pytest.mark.asyncio
async def test_http_methods_answer_over_the_websocket(rpc: tuple[TestClient, Chain]) -> None:
    client, _ = rpc
    async with client.ws_connect("/") as ws:
        assert (await ask(ws, "eth_chainId"))["result"] == "0x539"
        batch = [
            {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"},
            {"jsonrpc": "2.0", "method": "eth_chainId"},  # a notification: no answer
            {"jsonrpc": "2.0", "id": 2, "method": "eth_nope"},
        ]
        await ws.send_json(batch)
        answers = await ws.receive_json(timeout=10)
        assert [a["id"] for a in answers] == [1, 2]
        assert answers[0]["result"] == "0x0" and answers[1]["error"]["code"] == -32601
        await ws.send_str("{not json")
        assert (await ws.receive_json(timeout=10))["error"]["code"] == -32700
        await ws.send_str("[]")
        assert (await ws.receive_json(timeout=10))["error"]["code"] == -32600
        assert (await ask(ws, "eth_subscribe", "nope"))["error"] == {
            "code": -32601,
            "message": 'no "nope" subscription in eth namespace',
        }
    answer = await call(client, "eth_subscribe", "newHeads")  # HTTP: no notifications
    assert answer["error"] == {"code": -32601, "message": "notifications not supported"}


@pytest.mark.asyncio
async def test_heads_and_pending_transactions_until_unsubscribed(
    rpc: tuple[TestClient, Chain],
) -> None:
    client, chain = rpc
    async with client.ws_connect("/") as ws:
        heads = (await ask(ws, "eth_subscribe", "newHeads"))["result"]
        hashes = (await ask(ws, "eth_subscribe", "newPendingTransactions"))["result"]
        full = (await ask(ws, "eth_subscribe", "newPendingTransactions", True))["result"]
        await ws.send_json(
            {"jsonrpc": "2.0", "id": 9, "method": "eth_sendRawTransaction", "params": [signed(0)]}
        )
        messages = await until(ws, 3)  # the answer and the two notifications, in any order
        (answer,) = [m for m in messages if m.get("id") == 9]
        tx_hash = answer["result"]
        by_sub = {m["params"]["subscription"]: m for m in messages if "params" in m}
        assert by_sub[hashes]["method"] == "eth_subscription"
        assert by_sub[hashes]["params"]["result"] == tx_hash
        assert by_sub[full]["params"]["result"]["hash"] == tx_hash
        assert by_sub[full]["params"]["result"]["blockNumber"] is None

        block = await commit_next_block(chain)
        (note,) = await until(ws, 1)
        assert note["params"]["subscription"] == heads
        header = note["params"]["result"]
        whole = (await ask(ws, "eth_getBlockByNumber", "0x1", False))["result"]
        assert header["hash"] == "0x" + block.hash.hex()
        assert header == {k: v for k, v in whole.items() if k in header}
        assert "transactions" not in header

        assert (await ask(ws, "eth_unsubscribe", heads))["result"] is True
        assert (await ask(ws, "eth_unsubscribe", heads))["error"]["code"] == -32000
        await commit_next_block(chain)
        # The block is queued to the connection before this call is read: a notification
        # would come first.
        assert (await ask(ws, "eth_blockNumber"))["result"] == "0x2"


@pytest.mark.asyncio
async def test_subscriptions_are_bounded_and_cleaned_up_on_close(
    rpc: tuple[TestClient, Chain],
) -> None:
    client, chain = rpc
    tasks_before = len(asyncio.all_tasks())
    async with client.ws_connect("/") as ws:
        for _ in range(websocket.MAX_SUBSCRIPTIONS):
            assert "result" in await ask(ws, "brain_subscribe", "inference")
        over = await ask(ws, "eth_subscribe", "newHeads")
        assert over["error"]["code"] == -32005
        assert len(chain._subscribers) == len(chain._pending_subscribers) == 1
    for _ in range(100):
        if not chain._subscribers and len(asyncio.all_tasks()) <= tasks_before:
            break
        await asyncio.sleep(0.01)
    assert chain._subscribers == [] and chain._pending_subscribers == []
    assert len(asyncio.all_tasks()) <= tasks_before


@pytest.mark.asyncio
async def test_a_client_that_does_not_read_is_dropped(
    rpc: tuple[TestClient, Chain], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, chain = rpc
    monkeypatch.setattr(websocket, "MAX_QUEUED_BYTES", 256 * 1024)
    batch = json.dumps(
        [
            {"jsonrpc": "2.0", "id": i, "method": "eth_getBlockByNumber", "params": ["0x0", True]}
            for i in range(1000)
        ]
    )
    async with client.ws_connect("/") as ws:
        for _ in range(200):  # about 1 MB of answers each, none of them read
            if chain._subscribers == []:
                break
            await ws.send_str(batch)
            await asyncio.sleep(0.01)
        assert chain._subscribers == []  # dropped, and its queues gone
        while (message := await ws.receive(timeout=10)).type == WSMsgType.TEXT:
            pass
        assert message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)
    assert (await call(client, "eth_blockNumber"))["result"] == "0x0"


def test_parse_errors() -> None:
    with pytest.raises(RpcError, match="newHeads takes no option"):
        parse_eth_subscription(["newHeads", {}])
    with pytest.raises(RpcError, match="optional bool"):
        parse_eth_subscription(["newPendingTransactions", "yes"])
    with pytest.raises(RpcError, match="at most the keys"):
        parse_eth_subscription(["logs", {"fromBlock": "0x1"}])


def _log(
    account: bytes, signature: str, topics: list[bytes], types: list[str], values: list[Any]
) -> Log:
    return Log(account, (event_topic(signature), *topics), encode_values(types, values))


@pytest.mark.asyncio
async def test_inference_and_fl_events_decode_from_precompile_logs(
    rpc: tuple[TestClient, Chain],
) -> None:
    _, chain = rpc
    block, tx = chain.head, bytes(range(32))
    member = word(int.from_bytes(MEMBER, "big"))
    logs = {
        "requested": _log(
            INFERENCE_ADDRESS,
            REQUESTED,
            [word(5), word(int.from_bytes(MEMBER, "big")), bytes(32)],
            REQUESTED_DATA,
            [b"hi", 4, 10**18, 50_000, 12],
        ),
        "committed": _log(INFERENCE_ADDRESS, COMMITTED, [word(5), member], ["uint256"], [3]),
        "revealed": _log(INFERENCE_ADDRESS, REVEALED, [word(5), member], ["bytes32"], [b"\1" * 32]),
        "finalized": _log(
            INFERENCE_ADDRESS,
            FINALIZED,
            [word(5)],
            ["bytes32", "bytes", "uint256"],
            [b"\1" * 32, b"ok", 3],
        ),
        "callback": _log(INFERENCE_ADDRESS, CALLED_BACK, [word(5)], ["bool", "uint256"], [True, 9]),
    }
    place = {
        "blockNumber": 0,
        "blockHash": "0x" + block.hash.hex(),
        "transactionHash": "0x" + tx.hex(),
    }
    decoded = {}
    for phase, log in logs.items():
        event = inference_event(chain, Emitted(log, block, tx))
        assert event is not None
        request_id, fields = event
        assert request_id == 5 and fields["phase"] == phase and fields["id"] == "0x5"
        assert {k: fields[k] for k in place} == place
        decoded[phase] = fields
    assert decoded["requested"]["input"] == "0x6869" and decoded["requested"]["fee"] == hex(10**18)
    assert decoded["requested"]["deadline"] == 12 and decoded["requested"]["maxTokens"] == 4
    assert decoded["committed"]["weight"] == 3
    assert decoded["committed"]["member"].lower() == "0x" + MEMBER.hex()
    assert decoded["revealed"]["outputHash"] == "0x" + "01" * 32
    assert decoded["finalized"]["outputText"] == "ok" and decoded["finalized"]["weight"] == 3
    assert decoded["callback"]["success"] is True and decoded["callback"]["gasUsed"] == 9
    bond = _log(INFERENCE_ADDRESS, "BondChanged(address,uint256)", [member], ["uint256"], [1])
    assert inference_event(chain, Emitted(bond, block, tx)) is None

    proposed = _log(
        FL_REGISTRY_ADDRESS,
        PROPOSED,
        [word(2), word(8), member],
        PROPOSED_DATA,
        [1, b"\2" * 32, 99, 30],
    )
    event = fl_event(chain, Emitted(proposed, block, tx))
    assert event is not None
    task_id, fields = event
    assert task_id == 2 and fields["event"] == "proposed" and fields["proposal"] == "0x8"
    assert fields["baseVersion"] == 1 and fields["size"] == 99 and fields["deadline"] == 30
    assert fl_event(chain, Emitted(logs["committed"], block, tx)) is None  # not FL_REGISTRY's
