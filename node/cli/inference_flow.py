"""Sending an inference request from the CLI and following it: the price from the registry,
the callback deposit, the id from the receipt's InferenceRequested log, then brain_getInference
polled until the request is final or has expired (DESIGN.md §5)."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console

from node.cli.client import RpcClient
from node.cli.inference_view import TERMINAL, stages
from node.cli.txflow import Fees, sign_send_wait
from vm.abi import encode_values, selector
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.inference import CALLBACK_PRICE_FACTOR, REQUESTED
from vm.precompiles.solidity import event_topic

REQUEST = "request(string,bytes,uint256,uint256)"
POLL_S = 0.5
STALL_S = 60.0  # no new block for this long: the network has stopped, so stop waiting


def parse_request_id(text: str) -> int:
    """A request id as typed: decimal, or 0x-prefixed hex.

    Raises:
        ValueError: neither.
    """
    try:
        value = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        raise ValueError(f"invalid request id {text!r}: use a number, e.g. 7 or 0x7") from None
    if value < 0:
        raise ValueError(f"invalid request id {text!r}: ids are not negative")
    return value


def find_model(models: list[dict[str, Any]], model_id: str) -> dict[str, Any]:
    """The brain_listModels entry of `model_id`.

    Raises:
        ValueError: the chain registers no such model (the message lists those it does).
    """
    for model in models:
        if model["id"] == model_id:
            return model
    known = ", ".join(m["id"] for m in models) or "none"
    raise ValueError(f"model {model_id!r} is not registered on this chain (registered: {known})")


def fetch(client: RpcClient, request_id: int) -> dict[str, Any]:
    """brain_getInference of `request_id`.

    Raises:
        ClientError: the node is unreachable or refuses the call.
        ValueError: the chain has no such request.
    """
    request = client.call("brain_getInference", hex(request_id))
    if request is None:
        raise ValueError(f"no inference request {request_id} on this chain")
    return dict(request)


def send_request(
    client: RpcClient,
    key: bytes,
    model_id: str,
    prompt: bytes,
    max_tokens: int,
    callback_gas: int,
    fee: int | None,
) -> int:
    """Send INFERENCE.request and return the new request's id once it is in a block.

    The value is the fee (the model's price per token × max tokens unless `fee` is given) plus
    the callback deposit, priced as the precompile prices it at the next block's base fee.

    Raises:
        ClientError: the node is unreachable or refuses the transaction (e.g. a revert when
            estimating its gas, with the precompile's reason).
        ValueError: an unknown model, or a request that failed in its block.
    """
    model = find_model(client.call("brain_listModels"), model_id)
    price = int(model["pricePerToken"], 16) * max_tokens if fee is None else fee
    next_base_fee = int(client.call("eth_feeHistory", "0x1", "latest", [])["baseFeePerGas"][-1], 16)
    deposit = callback_gas * next_base_fee * CALLBACK_PRICE_FACTOR
    data = selector(REQUEST) + encode_values(
        ["string", "bytes", "uint256", "uint256"], [model_id, prompt, max_tokens, callback_gas]
    )
    receipt = sign_send_wait(client, key, INFERENCE_ADDRESS, price + deposit, data, None, Fees())
    assert receipt is not None  # it waited
    if receipt["status"] != "0x1":
        raise ValueError(f"the request failed in block {int(receipt['blockNumber'], 16)}")
    return request_id_from(receipt)


def request_id_from(receipt: dict[str, Any]) -> int:
    """The id in the InferenceRequested log of a receipt.

    Raises:
        ValueError: the receipt has no such log.
    """
    topic = "0x" + event_topic(REQUESTED).hex()
    for log in receipt["logs"]:
        if log["address"].lower() == "0x" + INFERENCE_ADDRESS.hex() and log["topics"][0] == topic:
            return int(log["topics"][1], 16)
    raise ValueError(f"transaction {receipt['transactionHash']} made no inference request")


def follow(
    client: RpcClient,
    request_id: int,
    console: Console,
    *,
    poll_s: float = POLL_S,
    stall_s: float = STALL_S,
) -> dict[str, Any]:
    """Poll the request until it is finalized or has expired, printing each stage it passes
    (those passed between two polls too); return the request as it then stands.

    Raises:
        ClientError: the node is unreachable or refuses a call.
        ValueError: no such request, or no new block for `stall_s`.
    """
    shown: list[str] = []
    height, since = -1, time.monotonic()
    with console.status("waiting for the request's block") as spinner:
        while True:
            request = fetch(client, request_id)
            lines = stages(request)
            for i, line in enumerate(lines):
                if i >= len(shown) or shown[i] != line:
                    console.print(line, highlight=False)
                    spinner.update(line)
            shown = lines
            if request["status"] in TERMINAL:
                return request
            head = int(client.call("eth_blockNumber"), 16)
            if head != height:
                height, since = head, time.monotonic()
            elif time.monotonic() - since > stall_s:
                raise ValueError(
                    f"no new block for {stall_s:.0f}s; request {request_id} is still"
                    f" {request['phase']}"
                )
            time.sleep(poll_s)


def latency_s(client: RpcClient, request: dict[str, Any]) -> float | None:
    """Seconds between the timestamps of the blocks that included and finalized the request."""
    if request["result"] is None:
        return None
    included, finalized = (
        client.call("eth_getBlockByNumber", hex(height), False)
        for height in (request["includedAt"], request["result"]["finalizedAt"])
    )
    return float(int(finalized["timestamp"], 16) - int(included["timestamp"], 16))
