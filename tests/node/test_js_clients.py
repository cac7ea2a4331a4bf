"""ethers v6 and viem (tests/js/, versions pinned by package-lock.json) against a real node, as
dApp developers use them (issue 15): compile contracts/ClientCheck.sol with solc-js, deploy,
call, transact, read events, decode a custom error and a `require` reason from a reverted call
and estimateGas, request inference through IInference.sol, and subscribe over WebSocket to
newHeads and the contract's logs. Each script prints a JSON report; the checks here hold it
against what the node's own RPC says. tests/node/test_web3py.py reports the same from web3.py
and uses the same checks."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from eth_abi import decode

from brainchain.crypto.keccak import keccak256
from genesis.devnet import DEV_ACCOUNTS
from genesis.models import shipped_model
from node.cli.client import RpcClient
from tests.node.harness import DEV_CHAIN_ID, REPO, NodeProcess, dev_home, running
from tests.node.solc import compile_solidity
from vm.precompiles.inference_state import model_key

JS = REPO / "tests" / "js"
SCRIPT_TIMEOUT_S = 120.0
# What the clients do (tests/js/common.mjs): values stored, values refused, the request made.
INITIAL, NEW_VALUE, WS_VALUE, LIMIT = 41, 42, 7, 1000
TOO_LARGE = LIMIT + 1
REQUIRE_REASON = "ClientCheck: zero"
MODEL = shipped_model("tiny-gptj")
MAX_TOKENS = 4
PENDING = 1  # IInference status
VALUE_CHANGED = "0x" + keccak256(b"ValueChanged(address,uint256,uint256)").hex()
# Each client signs with its own dev account, so their nonces never race.
KEYS = {"ethers": DEV_ACCOUNTS[1].private_key, "viem": DEV_ACCOUNTS[2].private_key}


@pytest.fixture(scope="module")
def client_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcess]:
    """One single-validator node for a module's clients: 0.2 s blocks, the devnet genesis (its
    models registered) and no model runs (requests are only read back here)."""
    with running(dev_home(tmp_path_factory.mktemp("clients"), run_models=False)) as proc:
        yield proc


def ws_url(node: NodeProcess) -> str:
    """The WebSocket endpoint: the HTTP one's port (as geth serves both)."""
    return "ws" + node.url.removeprefix("http")


@cache
def runtime_code() -> str:
    return "0x" + compile_solidity("ClientCheck.sol")["ClientCheck"].runtime.hex()


def address_of(key: bytes) -> str:
    return "0x" + next(a.address for a in DEV_ACCOUNTS if a.private_key == key).hex()


def lower(value: str) -> str:
    return value.lower()


def view(rpc: RpcClient, address: str, signature: str, types: list[str]) -> tuple[Any, ...]:
    data = "0x" + keccak256(signature.encode())[:4].hex()
    out = rpc.call("eth_call", {"to": address, "data": data}, "latest")
    return tuple(decode(types, bytes.fromhex(out[2:])))


def receipt_of(rpc: RpcClient, tx: str) -> dict[str, Any]:
    receipt = rpc.call("eth_getTransactionReceipt", tx)
    assert receipt is not None and receipt["status"] == "0x1", receipt
    return dict(receipt)


def value_changed(rpc: RpcClient, address: str, block: str) -> list[dict[str, Any]]:
    """The contract's ValueChanged events in `block`, from eth_getLogs, as a report shows them."""
    logs = rpc.call(
        "eth_getLogs",
        {"address": address, "fromBlock": block, "toBlock": block, "topics": [VALUE_CHANGED]},
    )
    return [
        {
            "by": "0x" + log["topics"][1][-40:],
            "newValue": int(log["topics"][2], 16),
            "oldValue": int(log["data"], 16),
            "blockNumber": int(log["blockNumber"], 16),
            "transactionHash": log["transactionHash"],
        }
        for log in logs
    ]


def normal_event(event: dict[str, Any]) -> dict[str, Any]:
    """A client's event with addresses and hashes lower-cased and numbers as ints."""
    return {
        "by": lower(event["by"]),
        "newValue": int(event["newValue"]),
        "oldValue": int(event["oldValue"]),
        "blockNumber": int(event["blockNumber"]),
        "transactionHash": lower(event["transactionHash"]),
    }


def check_http_report(rpc: RpcClient, report: dict[str, Any], sender: str) -> None:
    """Hold a client's deploy/call/transact/events/reverts/inference report against the node."""
    address = report["address"]
    assert report["chainId"] == DEV_CHAIN_ID
    assert rpc.call("eth_getCode", address, "latest") == runtime_code()
    assert int(report["initial"]) == INITIAL
    assert int(report["value"]) == NEW_VALUE == view(rpc, address, "value()", ["uint256"])[0]

    block = receipt_of(rpc, report["setTx"])["blockNumber"]
    expected = value_changed(rpc, address, block)
    assert expected == [
        {
            "by": sender,
            "newValue": NEW_VALUE,
            "oldValue": INITIAL,
            "blockNumber": int(block, 16),
            "transactionHash": report["setTx"],
        }
    ]
    assert [normal_event(e) for e in report["events"]] == expected

    reverts = [
        (r["via"], int(r["value"]), r["name"], [str(a) for a in r["args"]])
        for r in report["reverts"]
    ]
    assert reverts == [
        (via, value, name, args)
        for value, name, args in (
            (TOO_LARGE, "TooLarge", [str(TOO_LARGE), str(LIMIT)]),
            (0, "Error", [REQUIRE_REASON]),
        )
        for via in ("call", "estimateGas")
    ]
    assert all(r["reason"] == REQUIRE_REASON for r in report["reverts"] if r["name"] == "Error")

    inference = report["inference"]
    receipt_of(rpc, inference["tx"])
    request_id = int(inference["id"])
    assert int(inference["lastRequest"]) == request_id
    model = "0x" + model_key(MODEL.id).hex()
    assert lower(inference["eventModel"]) == lower(inference["model"]) == model
    assert lower(inference["eventRequester"]) == lower(inference["requester"]) == lower(address)
    assert int(inference["fee"]) == MODEL.price_per_token * MAX_TOKENS
    assert int(inference["status"]) == PENDING
    assert int(inference["maxTokens"]) == MAX_TOKENS
    shown = rpc.call("brain_getInference", hex(request_id))
    assert shown["model"] == MODEL.id and lower(shown["requester"]) == lower(address)
    assert shown["inputText"] == "hello" and shown["maxTokens"] == MAX_TOKENS
    assert shown["requestTx"] == inference["tx"]


def check_ws_report(rpc: RpcClient, report: dict[str, Any], sender: str) -> None:
    """Hold a client's subscription report against the node: two consecutive heads with their
    chain hashes, and the contract's ValueChanged log of the transaction it sent meanwhile."""
    numbers = [int(head["number"]) for head in report["heads"]]
    assert len(numbers) == 2 and numbers[1] == numbers[0] + 1
    for head in report["heads"]:
        block = rpc.call("eth_getBlockByNumber", hex(int(head["number"])), False)
        assert lower(head["hash"]) == block["hash"]
    block = receipt_of(rpc, report["tx"])["blockNumber"]
    expected = value_changed(rpc, report["address"], block)
    assert expected == [
        {
            "by": sender,
            "newValue": WS_VALUE,
            "oldValue": INITIAL,
            "blockNumber": int(block, 16),
            "transactionHash": report["tx"],
        }
    ]
    assert [normal_event(e) for e in report["logs"]] == expected


def run_script(client: str, phase: str, node: NodeProcess) -> dict[str, Any]:
    """Run tests/js/<client>_client.mjs for `phase` against the node; its JSON report."""
    env = {
        **os.environ,
        "RPC_URL": node.url,
        "WS_URL": ws_url(node),
        "PRIVATE_KEY": "0x" + KEYS[client].hex(),
        "MODEL": MODEL.id,
    }
    script = JS / f"{client}_client.mjs"
    done = subprocess.run(
        ["node", str(script), phase],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_S,
    )
    assert done.returncode == 0, f"{script.name} {phase} failed:\n{done.stderr}"
    return dict(json.loads(done.stdout))


@pytest.mark.parametrize("client", sorted(KEYS))
def test_deploy_call_transact_events_reverts_and_inference(
    client: str, client_node: NodeProcess
) -> None:
    report = run_script(client, "http", client_node)
    check_http_report(client_node.client(), report, address_of(KEYS[client]))


@pytest.mark.parametrize("client", sorted(KEYS))
def test_websocket_subscriptions_to_heads_and_logs(client: str, client_node: NodeProcess) -> None:
    report = run_script(client, "ws", client_node)
    check_ws_report(client_node.client(), report, address_of(KEYS[client]))
