"""Sending a transaction from the CLI: fill nonce, gas and fees from the node, sign, send, wait."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from brainchain.crypto.address import to_checksum_address
from node.cli.client import RpcClient
from node.cli.common import console
from node.cli.units import parse_amount

RECEIPT_TIMEOUT_S = 60.0
RECEIPT_POLL_S = 0.2


@dataclass(frozen=True)
class Fees:
    """Fee options as typed: None means ask the node."""

    max_fee: str | None = None
    priority_fee: str | None = None
    legacy: bool = False
    gas_price: str | None = None


def sign_send_wait(
    client: RpcClient,
    key: bytes,
    to: bytes | None,
    amount: int,
    data: bytes,
    gas: int | None,
    fees: Fees,
    no_wait: bool = False,
) -> dict[str, Any] | None:
    """Fill nonce, gas and fees from the node, sign, send, and wait for the receipt.

    Fees default to EIP-1559 (2 × base fee + suggested tip); `fees.legacy` signs an EIP-155
    transaction at `eth_gasPrice`. `to=None` creates a contract. Prints the hash once sent and
    a summary once mined; returns the receipt, or None with `no_wait`.

    Raises:
        ClientError: the node is unreachable or refuses a call (e.g. the transaction).
        ValueError: a fee that does not parse as an amount, or no receipt in RECEIPT_TIMEOUT_S.
    """
    from brainchain.crypto.secp256k1 import private_key_to_address
    from brainchain.types.transaction import TX_FEE_MARKET, TX_LEGACY, sign_transaction

    sender = to_checksum_address(private_key_to_address(key))
    chain_id = int(client.call("eth_chainId"), 16)
    nonce = int(client.call("eth_getTransactionCount", sender, "pending"), 16)
    if gas is None:
        call = {"from": sender, "value": hex(amount), "input": "0x" + data.hex()}
        if to is not None:
            call["to"] = to_checksum_address(to)
        gas = int(client.call("eth_estimateGas", call), 16)
    if fees.legacy:
        price = (
            parse_amount(fees.gas_price) if fees.gas_price else int(client.call("eth_gasPrice"), 16)
        )
        fee_cap, tip, tx_type = price, price, TX_LEGACY
    else:
        tip = (
            parse_amount(fees.priority_fee)
            if fees.priority_fee
            else int(client.call("eth_maxPriorityFeePerGas"), 16)
        )
        base_fee = int(client.call("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
        fee_cap = parse_amount(fees.max_fee) if fees.max_fee else 2 * base_fee + tip
        tx_type = TX_FEE_MARKET
    signed = sign_transaction(
        private_key=key,
        tx_type=tx_type,
        chain_id=chain_id,
        nonce=nonce,
        gas=gas,
        to=to,
        value=amount,
        data=data,
        max_fee_per_gas=fee_cap,
        max_priority_fee_per_gas=tip,
    )
    tx_hash = client.call("eth_sendRawTransaction", "0x" + signed.raw.hex())
    console.print(f"sent {tx_hash}")
    if no_wait:
        return None
    receipt = wait_for_receipt(client, tx_hash)
    ok = receipt["status"] == "0x1"
    console.print(
        f"block {int(receipt['blockNumber'], 16)}  gas used {int(receipt['gasUsed'], 16)}  "
        f"status {'[green]success[/green]' if ok else '[red]failed[/red]'}"
    )
    return receipt


def wait_for_receipt(
    client: RpcClient, tx_hash: str, timeout_s: float = RECEIPT_TIMEOUT_S
) -> dict[str, Any]:
    """Poll the node until transaction `tx_hash` is in a block; return its receipt.

    Raises:
        ClientError: the node is unreachable or refuses the call.
        ValueError: no receipt within `timeout_s`.
    """
    deadline = time.monotonic() + timeout_s
    while (receipt := client.call("eth_getTransactionReceipt", tx_hash)) is None:
        if time.monotonic() > deadline:
            raise ValueError(f"no receipt for {tx_hash} after {timeout_s:.0f}s")
        time.sleep(RECEIPT_POLL_S)
    return dict(receipt)
