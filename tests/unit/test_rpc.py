"""JSON-RPC over a real aiohttp server and a real LevelDB chain: shapes and every error code."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient
from eth_account import Account

from genesis.devnet import DEV_ACCOUNTS
from node.chain import Chain
from node.rpc.server import MAX_BATCH
from tests.unit.blocks import commit_next_block
from tests.unit.rpc_harness import call, serving

KEY = DEV_ACCOUNTS[0].private_key
SENDER = Account.from_key(KEY).address
TO = Account.from_key(DEV_ACCOUNTS[1].private_key).address


@pytest_asyncio.fixture
async def rpc(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Chain]]:
    async with serving(tmp_path / "data") as served:
        yield served


def signed(nonce: int, **overrides: Any) -> str:
    fields = {
        "type": 2,
        "nonce": nonce,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
        "gas": 21_000,
        "to": TO,
        "value": 1,
        "chainId": 1337,
    }
    fields.update(overrides)
    return "0x" + bytes(Account.sign_transaction(fields, KEY).raw_transaction).hex()


@pytest.mark.asyncio
async def test_basic_methods(rpc: tuple[TestClient, Chain]) -> None:
    client, _ = rpc
    assert (await call(client, "eth_chainId"))["result"] == "0x539"
    assert (await call(client, "net_version"))["result"] == "1337"
    assert (await call(client, "eth_blockNumber"))["result"] == "0x0"
    assert (await call(client, "eth_syncing"))["result"] is False
    assert (await call(client, "net_peerCount"))["result"] == "0x0"
    assert (await call(client, "web3_clientVersion"))["result"].startswith("brainchain/")
    balance = (await call(client, "eth_getBalance", SENDER, "latest"))["result"]
    assert balance == hex(10_000 * 10**18)
    assert (await call(client, "eth_getBlockByNumber", "0x5", False))["result"] is None
    assert (await call(client, "eth_getTransactionByHash", "0x" + "00" * 32))["result"] is None
    assert (await call(client, "eth_getTransactionReceipt", "0x" + "00" * 32))["result"] is None
    assert (await call(client, "eth_getBlockByHash", "0x" + "00" * 32, True))["result"] is None
    assert (await call(client, "eth_estimateGas", {"from": SENDER, "to": TO, "value": "0x1"}))[
        "result"
    ] == "0x5208"
    history = (await call(client, "eth_feeHistory", "0x1", "latest", [25, 75]))["result"]
    assert history["oldestBlock"] == "0x0" and len(history["baseFeePerGas"]) == 2


@pytest.mark.asyncio
async def test_send_mine_and_read_back(rpc: tuple[TestClient, Chain]) -> None:
    client, chain = rpc
    tx_hash = (await call(client, "eth_sendRawTransaction", signed(0)))["result"]
    pending = (await call(client, "eth_getTransactionByHash", tx_hash))["result"]
    assert pending["blockNumber"] is None and pending["from"] == SENDER
    assert (await call(client, "eth_getTransactionCount", SENDER, "pending"))["result"] == "0x1"
    assert (await call(client, "eth_getTransactionCount", SENDER, "latest"))["result"] == "0x0"
    await commit_next_block(chain)
    receipt = (await call(client, "eth_getTransactionReceipt", tx_hash))["result"]
    assert (
        receipt["status"] == "0x1"
        and receipt["gasUsed"] == "0x5208"
        and receipt["blockNumber"] == "0x1"
    )
    block = (await call(client, "eth_getBlockByNumber", "latest", True))["result"]
    assert block["transactions"][0]["hash"] == tx_hash
    assert block["transactions"][0]["blockHash"] == block["hash"]
    by_hash = (await call(client, "eth_getBlockByHash", block["hash"], False))["result"]
    assert by_hash["transactions"] == [tx_hash]
    count = (await call(client, "eth_getBlockTransactionCountByNumber", "0x1"))["result"]
    assert count == "0x1"


@pytest.mark.asyncio
async def test_batch_and_notifications(rpc: tuple[TestClient, Chain]) -> None:
    client, _ = rpc
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "nope", "params": []},
        {"jsonrpc": "2.0", "method": "eth_chainId", "params": []},  # notification: no answer
        "garbage",
    ]
    answers = await (await client.post("/", json=batch)).json()
    assert [a["id"] for a in answers] == [1, 2, None]
    assert answers[0]["result"] == "0x539"
    assert answers[1]["error"]["code"] == -32601
    assert answers[2]["error"]["code"] == -32600
    too_many = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(MAX_BATCH + 1)]
    assert (await (await client.post("/", json=too_many)).json())["error"]["code"] == -32600


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", -32700),
        (b"[]", -32600),
        (b'{"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"}', -32600),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_nothing", "params": []}', -32601),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": []}', -32602),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": ["0x12", "latest"]}',
            -32602,
        ),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBlockByNumber", "params": ["0x1", "yes"]}',
            -32602,
        ),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": ["0xzz"]}',
            -32602,
        ),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": {"a": 1}}', -32602),
        (
            b'{"jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": ["0x0000000000000000000000000000000000000001", "0x99"]}',
            -32000,
        ),
        (b'{"jsonrpc": "2.0", "id": 1, "method": 7, "params": []}', -32600),
    ],
)
async def test_request_errors(rpc: tuple[TestClient, Chain], body: bytes, code: int) -> None:
    client, _ = rpc
    response = await client.post("/", data=body, headers={"Content-Type": "application/json"})
    assert (await response.json())["error"]["code"] == code


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("make_raw", "code", "message"),
    [
        (lambda: "0xf8", -32000, "malformed"),
        (lambda: "0x03c0", -32000, "not supported"),
        (lambda: signed(0, chainId=1), -32000, "invalid chain id"),
        (lambda: signed(5000), -32000, "nonce too high"),
        (lambda: signed(0, value=10**30), -32000, "insufficient funds"),
        (lambda: signed(0, gas=20_000), -32000, "intrinsic gas too low"),
        (lambda: signed(0, gas=40_000_000), -32000, "exceeds block gas limit"),
        (lambda: signed(0, data="0x" + "01" * 140_000, gas=29_000_000), -32000, "oversized"),
        (lambda: signed(0, maxPriorityFeePerGas=10**11), -32000, "higher than max fee"),
    ],
)
async def test_transaction_rejections_change_nothing(
    rpc: tuple[TestClient, Chain], make_raw: Any, code: int, message: str
) -> None:
    client, chain = rpc
    error = (await call(client, "eth_sendRawTransaction", make_raw()))["error"]
    assert error["code"] == code and message in error["message"]
    assert len(chain.mempool) == 0
    assert (await call(client, "eth_getTransactionCount", SENDER, "pending"))["result"] == "0x0"


@pytest.mark.asyncio
async def test_pool_rejections(rpc: tuple[TestClient, Chain]) -> None:
    client, chain = rpc
    first = signed(0)
    assert "result" in await call(client, "eth_sendRawTransaction", first)
    again = (await call(client, "eth_sendRawTransaction", first))["error"]
    assert again["code"] == -32003 and "already known" in again["message"]
    cheap = (await call(client, "eth_sendRawTransaction", signed(0, value=2)))["error"]
    assert cheap["code"] == -32003 and "underpriced" in cheap["message"]
    await commit_next_block(chain)
    low = (await call(client, "eth_sendRawTransaction", signed(0, value=3)))["error"]
    assert low["code"] == -32000 and "nonce too low" in low["message"]


@pytest.mark.asyncio
async def test_oversize_body_is_refused(rpc: tuple[TestClient, Chain]) -> None:
    client, _ = rpc
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "x", "params": ["0" * (6 * 2**20)]})
    response = await client.post("/", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 413
