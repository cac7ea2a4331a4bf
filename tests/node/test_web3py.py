"""web3.py 7 against a real node, as Python dApp developers use it (issue 15): the same
ClientCheck.sol run as tests/node/test_js_clients.py's ethers and viem scripts (compiled by
solc-js, deployed, called, transacted, its events read, a custom error and a `require` reason
decoded from a reverted call and estimate_gas, inference requested through IInference.sol),
and `AsyncWeb3(WebSocketProvider(…))` subscriptions to newHeads and the contract's logs. The
report has the ethers/viem shape and goes through the same checks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from eth_abi import decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ABI
from eth_utils import (
    abi_to_signature,
    filter_abi_by_type,
    function_signature_to_4byte_selector,
    get_abi_input_types,
)
from hexbytes import HexBytes
from web3 import AsyncWeb3, HTTPProvider, Web3, WebSocketProvider
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.types import EventData, RPCEndpoint, TxReceipt

from genesis.devnet import DEV_ACCOUNTS
from tests.node.harness import NodeProcess
from tests.node.solc import compile_solidity
from tests.node.test_js_clients import (
    INITIAL,
    MAX_TOKENS,
    MODEL,
    NEW_VALUE,
    TOO_LARGE,
    VALUE_CHANGED,
    WS_VALUE,
    check_http_report,
    check_ws_report,
    client_node,
    ws_url,
)

__all__ = ["client_node"]  # the module-scoped node fixture: this module gets its own node

INFERENCE = Web3.to_checksum_address("0x0000000000000000000000000000000000000b03")
WAIT_S = 30.0
POLL_S = 0.1  # a block every 0.2 s on the test node; web3.py's default poll is 0.1 s too
# Heads to collect over the WebSocket before sending the watched transaction.
HEADS = 2
ACCOUNT: LocalAccount = Account.from_key(DEV_ACCOUNTS[3].private_key)


def connect(node: NodeProcess) -> Web3:
    """An HTTP client that signs with the dev account locally and sends raw transactions, as a
    web3.py dApp does with a key it holds (web3.py's SignAndSendRawMiddlewareBuilder)."""
    w3 = Web3(HTTPProvider(node.url))
    w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(ACCOUNT), layer=0)
    w3.eth.default_account = ACCOUNT.address
    return w3


def wait(w3: Web3, tx: HexBytes) -> TxReceipt:
    receipt = w3.eth.wait_for_transaction_receipt(tx, timeout=WAIT_S, poll_latency=POLL_S)
    assert receipt["status"] == 1, receipt
    return receipt


def deploy(w3: Web3) -> Contract:
    check = compile_solidity("ClientCheck.sol")["ClientCheck"]
    factory = w3.eth.contract(abi=check.abi, bytecode=check.bytecode)
    receipt = wait(w3, factory.constructor(INITIAL).transact())
    return w3.eth.contract(address=receipt["contractAddress"], abi=check.abi)


def event_json(event: EventData) -> dict[str, Any]:
    return {
        "by": event["args"]["by"],
        "newValue": event["args"]["newValue"],
        "oldValue": event["args"]["oldValue"],
        "blockNumber": event["blockNumber"],
        "transactionHash": event["transactionHash"].to_0x_hex(),
    }


def custom_error(abi: ABI, data: str) -> tuple[str, list[Any]]:
    """Decode a custom error's revert data with the contract's ABI: web3.py hands it over raw
    (ContractCustomError.data), leaving the decoding to the dApp."""
    payload = bytes.fromhex(data.removeprefix("0x"))
    for error in filter_abi_by_type("error", abi):
        if function_signature_to_4byte_selector(abi_to_signature(error)) == payload[:4]:
            return error["name"], list(decode(get_abi_input_types(error), payload[4:]))
    raise AssertionError(f"no error in the ABI has selector 0x{payload[:4].hex()}")


def revert_of(via: str, value: int, abi: ABI, attempt: Callable[[], object]) -> dict[str, Any]:
    """What web3.py raises for a reverted call or estimate_gas, as ethers/viem report it."""
    try:
        attempt()
    except ContractCustomError as e:
        name, args = custom_error(abi, str(e.data))
        return {"via": via, "value": value, "name": name, "args": args, "reason": None}
    except ContractLogicError as e:
        reason = str(e.message).removeprefix("execution reverted: ")
        return {"via": via, "value": value, "name": "Error", "args": [reason], "reason": reason}
    raise AssertionError(f"{via} of set({value}) did not revert")


def http_report(w3: Web3) -> dict[str, Any]:
    contract = deploy(w3)
    initial = contract.functions.value().call()
    set_receipt = wait(w3, contract.functions.set(NEW_VALUE).transact())
    block = set_receipt["blockNumber"]
    events = contract.events.ValueChanged().get_logs(
        from_block=block, to_block=block, argument_filters={"by": ACCOUNT.address}
    )
    reverts = [
        revert_of(via, value, contract.abi, attempt)
        for value in (TOO_LARGE, 0)
        for via, attempt in (
            ("call", contract.functions.set(value).call),
            ("estimateGas", contract.functions.set(value).estimate_gas),
        )
    ]

    # The INFERENCE precompile through the contract; the fee from brain_listModels.
    models = w3.provider.make_request(RPCEndpoint("brain_listModels"), [])["result"]
    price = int(next(m for m in models if m["id"] == MODEL.id)["pricePerToken"], 16)
    ask = contract.functions.ask(MODEL.id, b"hello", MAX_TOKENS)
    asked = wait(w3, ask.transact({"value": price * MAX_TOKENS}))
    inference_abi = compile_solidity("IInference.sol")["IInference"].abi
    precompile = w3.eth.contract(address=INFERENCE, abi=inference_abi)
    (requested,) = (
        precompile.events.InferenceRequested().process_log(log)
        for log in asked["logs"]
        if log["address"] == INFERENCE
    )
    request_id = requested["args"]["id"]
    requester, model, status, tokens = contract.functions.requestOf(request_id).call()
    return {
        "chainId": w3.eth.chain_id,
        "address": contract.address,
        "initial": initial,
        "value": contract.functions.value().call(),
        "setTx": set_receipt["transactionHash"].to_0x_hex(),
        "events": [event_json(e) for e in events],
        "reverts": reverts,
        "inference": {
            "tx": asked["transactionHash"].to_0x_hex(),
            "id": request_id,
            "lastRequest": contract.functions.lastRequest().call(),
            "eventRequester": requested["args"]["requester"],
            "eventModel": "0x" + requested["args"]["model"].hex(),
            "fee": requested["args"]["fee"],
            "requester": requester,
            "model": "0x" + model.hex(),
            "status": status,
            "maxTokens": tokens,
        },
    }


async def ws_report(node: NodeProcess, w3: Web3) -> dict[str, Any]:
    """Subscribe to newHeads and the contract's logs; after HEADS heads, send a set over HTTP
    and wait for its log. Subscriptions are answered in order on one socket, so the logs one
    is in place before the transaction goes."""
    contract = deploy(w3)
    heads: list[dict[str, Any]] = []
    logs: list[dict[str, Any]] = []
    tx = ""
    async with AsyncWeb3(WebSocketProvider(ws_url(node))) as socket:
        heads_id = await socket.eth.subscribe("newHeads")
        logs_id = await socket.eth.subscribe(
            "logs", {"address": contract.address, "topics": [VALUE_CHANGED]}
        )
        async with asyncio.timeout(WAIT_S):
            async for message in socket.socket.process_subscriptions():
                result = message["result"]
                if message["subscription"] == heads_id and len(heads) < HEADS:
                    heads.append({"number": result["number"], "hash": result["hash"].to_0x_hex()})
                elif message["subscription"] == logs_id:
                    logs.append(event_json(contract.events.ValueChanged().process_log(result)))
                    break
                if len(heads) == HEADS and not tx:
                    sent = contract.functions.set(WS_VALUE).transact
                    tx = (await asyncio.to_thread(sent)).to_0x_hex()
        assert await socket.eth.unsubscribe(heads_id) and await socket.eth.unsubscribe(logs_id)
    return {"address": contract.address, "tx": tx, "heads": heads, "logs": logs}


def test_deploy_call_transact_events_reverts_and_inference(client_node: NodeProcess) -> None:
    report = http_report(connect(client_node))
    check_http_report(client_node.client(), report, ACCOUNT.address.lower())


@pytest.mark.asyncio
async def test_websocket_subscriptions_to_heads_and_logs(client_node: NodeProcess) -> None:
    report = await ws_report(client_node, connect(client_node))
    check_ws_report(client_node.client(), report, ACCOUNT.address.lower())
