"""A real node process, transactions signed with eth-account, sent over HTTP JSON-RPC."""

from __future__ import annotations

import time

from eth_account import Account

from genesis.devnet import DEV_ACCOUNTS
from tests.node.harness import NodeProcess, wait_for_receipt

SENDER = Account.from_key(DEV_ACCOUNTS[0].private_key)
RECIPIENT = "0x000000000000000000000000000000000000bEEF"
GWEI = 10**9


def test_all_transaction_types_commit_with_the_right_balances(node: NodeProcess) -> None:
    client = node.client()
    chain_id = int(client.call("eth_chainId"), 16)
    start = int(client.call("eth_blockNumber"), 16)
    balance = lambda who, tag="latest": int(client.call("eth_getBalance", who, tag), 16)  # noqa: E731
    before = balance(SENDER.address)
    txs = [
        {
            "nonce": 0,
            "gasPrice": 5 * GWEI,
            "gas": 21_000,
            "to": RECIPIENT,
            "value": 10**18,
            "chainId": chain_id,
        },
        {
            "type": 1,
            "nonce": 1,
            "gasPrice": 5 * GWEI,
            "gas": 21_000,
            "to": RECIPIENT,
            "value": 2,
            "chainId": chain_id,
            "accessList": [],
        },
        {
            "type": 2,
            "nonce": 2,
            "maxFeePerGas": 5 * GWEI,
            "maxPriorityFeePerGas": 2 * GWEI,
            "gas": 21_000,
            "to": RECIPIENT,
            "value": 3,
            "chainId": chain_id,
        },
    ]
    hashes = []
    for fields in txs:
        raw = bytes(SENDER.sign_transaction(fields).raw_transaction)
        hashes.append(client.call("eth_sendRawTransaction", "0x" + raw.hex()))
    receipts = [wait_for_receipt(client, h) for h in hashes]
    assert all(r["status"] == "0x1" and r["gasUsed"] == "0x5208" for r in receipts)
    assert [r["type"] for r in receipts] == ["0x0", "0x1", "0x2"]

    spent = sum(int(r["gasUsed"], 16) * int(r["effectiveGasPrice"], 16) for r in receipts)
    assert balance(SENDER.address) == before - (10**18 + 2 + 3) - spent
    assert balance(RECIPIENT) == 10**18 + 5
    assert int(client.call("eth_getTransactionCount", SENDER.address, "latest"), 16) == 3

    # Per block: the proposer earns exactly the tips; the base fee is burned.
    for height in sorted({int(r["blockNumber"], 16) for r in receipts}):
        block = client.call("eth_getBlockByNumber", hex(height), True)
        proposer = block["miner"]
        base_fee = int(block["baseFeePerGas"], 16)
        tips = 0
        for tx in block["transactions"]:
            receipt = client.call("eth_getTransactionReceipt", tx["hash"])
            tips += int(receipt["gasUsed"], 16) * (int(receipt["effectiveGasPrice"], 16) - base_fee)
        assert balance(proposer, hex(height)) - balance(proposer, hex(height - 1)) == tips
        assert tips > 0
    assert int(client.call("eth_blockNumber"), 16) > start

    found = client.call("eth_getTransactionByHash", hashes[2])
    assert found["from"] == SENDER.address and found["blockNumber"] == receipts[2]["blockNumber"]
    assert found["maxPriorityFeePerGas"] == hex(2 * GWEI)


def test_node_stops_cleanly_on_sigterm_and_resumes(node: NodeProcess) -> None:
    client = node.client()
    raw = bytes(
        SENDER.sign_transaction(
            {
                "type": 2,
                "nonce": 0,
                "maxFeePerGas": 5 * GWEI,
                "maxPriorityFeePerGas": GWEI,
                "gas": 21_000,
                "to": RECIPIENT,
                "value": 7,
                "chainId": 1337,
            }
        ).raw_transaction
    )
    receipt = wait_for_receipt(client, client.call("eth_sendRawTransaction", "0x" + raw.hex()))
    assert node.stop() == 0
    client = node.start()
    assert client.call("eth_getTransactionReceipt", receipt["transactionHash"]) == receipt
    assert int(client.call("eth_getBalance", RECIPIENT, "latest"), 16) == 7


def test_without_empty_blocks_a_height_waits_for_a_transaction(node_home) -> None:  # type: ignore[no-untyped-def]
    node = NodeProcess(node_home, "--no-empty-blocks", "--block-interval", "0.05")
    client = node.start()
    try:
        time.sleep(1.0)
        assert int(client.call("eth_blockNumber"), 16) == 0  # nothing to include: no block
        raw = SENDER.sign_transaction(
            {"nonce": 0, "gasPrice": 5 * GWEI, "gas": 21_000, "to": RECIPIENT, "value": 1,
             "chainId": 1337}
        ).raw_transaction
        receipt = wait_for_receipt(client, client.call("eth_sendRawTransaction", "0x" + raw.hex()))
        assert int(receipt["blockNumber"], 16) == 1
        time.sleep(1.0)
        assert int(client.call("eth_blockNumber"), 16) == 1  # and none after it
    finally:
        node.stop()
        print(f"--- node log ---\n{node.log()}")
