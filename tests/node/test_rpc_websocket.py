"""WebSocket JSON-RPC against a real node process: subscriptions as dApps use them (ethers'
WebSocketProvider, web3.py's), on the HTTP server's own port and path."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from eth_abi import encode

from brainchain.crypto.keccak import keccak256
from tests.node.contracts_kit import OWNER, Wallet, deploy, selector
from tests.node.harness import NodeProcess

STORED = "0x" + keccak256(b"Stored(address,uint256)").hex()


def topic_of(address: str) -> str:
    return "0x" + bytes.fromhex(address[2:]).rjust(32, b"\0").hex()


class Socket:
    """A WebSocket JSON-RPC client that files each notification under its subscription."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.notes: dict[str, list[Any]] = defaultdict(list)

    async def _next(self) -> Any:
        message = await self.ws.receive_json(timeout=30)
        if isinstance(message, dict) and message.get("method") == "eth_subscription":
            self.notes[message["params"]["subscription"]].append(message["params"]["result"])
            return None
        return message

    async def ask(self, method: str, *params: Any) -> Any:
        """One call's answer; notifications that come first are filed."""
        await self.ws.send_json({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        while (answer := await self._next()) is None:
            pass
        return answer

    async def results(self, sub_id: str, count: int) -> list[Any]:
        """The first `count` results of subscription `sub_id`, waiting for them."""
        while len(self.notes[sub_id]) < count:
            assert await self._next() is None
        return self.notes[sub_id][:count]


@pytest_asyncio.fixture
async def socket(node: NodeProcess) -> AsyncIterator[Socket]:
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(node.url.replace("http://", "ws://")) as ws,
    ):
        yield Socket(ws)


@pytest.mark.asyncio
async def test_new_heads_are_consecutive_blocks(socket: Socket) -> None:
    sub_id = (await socket.ask("eth_subscribe", "newHeads"))["result"]
    heads = await socket.results(sub_id, 3)
    numbers = [int(h["number"], 16) for h in heads]
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    for head in heads:
        block = (await socket.ask("eth_getBlockByNumber", head["number"], False))["result"]
        assert head == {k: v for k, v in block.items() if k in head}
    assert heads[1]["parentHash"] == heads[0]["hash"]


@pytest.mark.asyncio
async def test_logs_pending_and_unsubscribe(node: NodeProcess, socket: Socket) -> None:
    wallet = Wallet(node.client())
    store, other = [await asyncio.to_thread(deploy, wallet, "Store.vy") for _ in range(2)]
    mine = {"address": store, "topics": [STORED, topic_of(OWNER.address)]}
    logs = (await socket.ask("eth_subscribe", "logs", mine))["result"]
    nobody = {"address": [store, other], "topics": [None, topic_of(store)]}
    none = (await socket.ask("eth_subscribe", "logs", nobody))["result"]
    pending = (await socket.ask("eth_subscribe", "newPendingTransactions"))["result"]
    call = selector("store(uint256)")
    sent = [
        await asyncio.to_thread(wallet.send, to=to, data=call + encode(["uint256"], [n]))
        for to, n in ((other, 1), (store, 2), (other, 3))
    ]
    (got,) = await socket.results(logs, 1)
    expected = (await socket.ask("eth_getLogs", {"blockHash": sent[1]["blockHash"]}))["result"]
    assert got == next(e for e in expected if e["address"].lower() == store.lower())
    assert got["transactionHash"] == sent[1]["transactionHash"]
    hashes = [r["transactionHash"] for r in sent]
    assert await socket.results(pending, 3) == hashes

    for sub_id in (logs, pending):
        assert (await socket.ask("eth_unsubscribe", sub_id))["result"] is True
    last = await asyncio.to_thread(wallet.send, to=store, data=call + encode(["uint256"], [4]))
    heads = (await socket.ask("eth_subscribe", "newHeads"))["result"]
    while int((await socket.results(heads, 1))[-1]["number"], 16) <= int(last["blockNumber"], 16):
        socket.notes[heads].clear()  # until a head past the last transaction's block
    assert len(socket.notes[logs]) == 1 and len(socket.notes[pending]) == 3
    assert socket.notes[none] == []


@pytest.mark.asyncio
async def test_batches_limits_and_brain_subscriptions(socket: Socket) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
        {"jsonrpc": "2.0", "id": 2, "method": "brain_subscribe", "params": ["fl", {"task": 1}]},
        {"jsonrpc": "2.0", "id": 3, "method": "brain_subscribe", "params": ["inference"]},
    ]
    await socket.ws.send_json(batch)
    answers = await socket.ws.receive_json(timeout=30)
    assert answers[0]["result"] == "0x539"
    assert all(a["result"].startswith("0x") for a in answers[1:])
    bad = await socket.ask("brain_subscribe", "inference", {"id": "zzz"})
    assert bad["error"]["code"] == -32602
    for _ in range(62):
        assert "result" in await socket.ask("eth_subscribe", "newHeads")
    over = await socket.ask("eth_subscribe", "newHeads")
    assert over["error"] == {"code": -32005, "message": "too many subscriptions (at most 64)"}


@pytest.mark.asyncio
async def test_a_client_that_never_reads_is_dropped(node: NodeProcess) -> None:
    batch = json.dumps(
        [
            {"jsonrpc": "2.0", "id": i, "method": "eth_getBlockByNumber", "params": ["0x0", True]}
            for i in range(1000)
        ]
    )
    url = node.url.replace("http://", "ws://")
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as slow:
            with pytest.raises((ConnectionError, aiohttp.ClientError)):
                for _ in range(400):  # ~1 MB of answers each, never read: the node cuts it off
                    await slow.send_str(batch)
                    await asyncio.sleep(0.02)
        async with session.ws_connect(url) as fresh:
            await fresh.send_json({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"})
            assert int((await fresh.receive_json(timeout=30))["result"], 16) > 0
    assert node.running()
    assert "WebSocket client" in node.log() and "dropped" in node.log()
