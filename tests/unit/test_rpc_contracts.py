"""Contract RPC over a real chain: deploy, eth_call, revert reasons, storage, logs, filters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient
from eth_account import Account

from brainchain.state.account import decode_account
from brainchain.trie.mpt import verify_proof
from genesis.devnet import DEV_ACCOUNTS
from node.chain import Chain
from tests.unit.blocks import commit_next_block
from tests.unit.rpc_harness import call, serving

KEY = DEV_ACCOUNTS[0].private_key
SENDER = Account.from_key(KEY).address

# With call data x: SSTORE(0, x), LOG1(topic x). Without: revert with Error("nope").
RUNTIME = bytes.fromhex(
    "3615601257"
    "600035"
    "80600055"
    "60006000a1"
    "00"
    "5b"
    "6308c379a060e01b600052"
    "6020600452"
    "6004602452"
    "636e6f706560e01b604452"
    "60646000fd"
)
INIT = bytes.fromhex(f"60{len(RUNTIME):02x}600c60003960{len(RUNTIME):02x}6000f3") + RUNTIME
TOPIC = "0x" + "ab" * 32


@pytest_asyncio.fixture
async def rpc(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Chain]]:
    async with serving(tmp_path / "data") as served:
        yield served


async def send(client: TestClient, chain: Chain, nonce: int, **fields: Any) -> dict[str, Any]:
    tx = {
        "type": 2,
        "nonce": nonce,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
        "gas": 300_000,
        "value": 0,
        "chainId": 1337,
        **fields,
    }
    raw = "0x" + bytes(Account.sign_transaction(tx, KEY).raw_transaction).hex()
    tx_hash = (await call(client, "eth_sendRawTransaction", raw))["result"]
    await commit_next_block(chain)
    return (await call(client, "eth_getTransactionReceipt", tx_hash))["result"]


@pytest.mark.asyncio
async def test_deploy_call_revert_logs_and_filters(rpc: tuple[TestClient, Chain]) -> None:
    client, chain = rpc
    deployed = await send(client, chain, 0, data="0x" + INIT.hex())
    assert deployed["status"] == "0x1" and deployed["contractAddress"]
    contract = deployed["contractAddress"]
    code = (await call(client, "eth_getCode", contract, "latest"))["result"]
    assert code == "0x" + RUNTIME.hex()

    reverted = (await call(client, "eth_call", {"from": SENDER, "to": contract}, "latest"))["error"]
    assert reverted["code"] == 3 and reverted["message"] == "execution reverted: nope"
    assert reverted["data"].startswith("0x08c379a0")
    ok = await call(client, "eth_call", {"to": contract, "input": TOPIC}, "latest")
    assert ok["result"] == "0x"
    estimate = int(
        (await call(client, "eth_estimateGas", {"from": SENDER, "to": contract, "input": TOPIC}))[
            "result"
        ],
        16,
    )
    assert 21_000 + 22_100 < estimate < 60_000

    log_filter = (await call(client, "eth_newFilter", {"address": contract}))["result"]
    block_filter = (await call(client, "eth_newBlockFilter"))["result"]
    receipt = await send(client, chain, 1, to=contract, data=TOPIC, gas=estimate)
    assert receipt["status"] == "0x1" and receipt["logs"][0]["topics"] == [TOPIC]

    slot = (await call(client, "eth_getStorageAt", contract, "0x0", "latest"))["result"]
    assert slot == TOPIC
    logs = (
        await call(
            client, "eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest", "topics": [TOPIC]}
        )
    )["result"]
    assert len(logs) == 1 and logs[0]["address"].lower() == contract.lower()
    assert logs[0]["transactionHash"] == receipt["transactionHash"]
    none = (await call(client, "eth_getLogs", {"fromBlock": "0x0", "topics": ["0x" + "cd" * 32]}))[
        "result"
    ]
    assert none == []
    by_hash = (await call(client, "eth_getLogs", {"blockHash": receipt["blockHash"]}))["result"]
    assert by_hash == logs

    changes = (await call(client, "eth_getFilterChanges", log_filter))["result"]
    assert [c["transactionHash"] for c in changes] == [receipt["transactionHash"]]
    assert (await call(client, "eth_getFilterChanges", log_filter))["result"] == []
    blocks = (await call(client, "eth_getFilterChanges", block_filter))["result"]
    assert receipt["blockHash"] in blocks
    assert (await call(client, "eth_uninstallFilter", log_filter))["result"] is True
    assert (await call(client, "eth_getFilterChanges", log_filter))["error"]["code"] == -32602

    proof = (await call(client, "eth_getProof", contract, ["0x0"], "latest"))["result"]
    head = (await call(client, "eth_getBlockByNumber", "latest", False))["result"]
    nodes = [bytes.fromhex(n[2:]) for n in proof["accountProof"]]
    leaf = verify_proof(
        bytes.fromhex(head["stateRoot"][2:]), bytes.fromhex(contract[2:]), nodes, secure=True
    )
    assert decode_account(leaf).storage_root.hex() == proof["storageHash"][2:]
    slot_nodes = [bytes.fromhex(n[2:]) for n in proof["storageProof"][0]["proof"]]
    value = verify_proof(
        bytes.fromhex(proof["storageHash"][2:]), bytes(32), slot_nodes, secure=True
    )
    assert proof["storageProof"][0]["value"] == TOPIC and value[1:] == bytes.fromhex("ab" * 32)

    failed = await send(client, chain, 2, to=contract, gas=100_000)
    assert failed["status"] == "0x0"
    too_wide = await call(client, "eth_getLogs", {"fromBlock": "0x0", "toBlock": hex(20_000)})
    assert "error" in too_wide
