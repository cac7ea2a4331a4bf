"""kill -9 under load: nothing acknowledged is lost, and the chain goes on after restart."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from eth_account import Account

from genesis.devnet import DEV_ACCOUNTS
from node.cli.client import ClientError, RpcClient
from tests.node.harness import NodeProcess, signed_transfer, wait_for_receipt

SENDERS = [Account.from_key(a.private_key) for a in DEV_ACCOUNTS[:4]]


def _sender_loop(
    url: str,
    account: Any,
    acknowledged: dict[str, dict[str, Any]],
    lock: threading.Lock,
    stop: threading.Event,
) -> None:
    """Send transfers one after another; record each one whose receipt the node returned."""
    client = RpcClient(url, timeout=5)
    nonce = 0
    while not stop.is_set():
        raw = signed_transfer(account, nonce, nonce + 1)
        try:
            tx_hash = client.call("eth_sendRawTransaction", raw)
            receipt = wait_for_receipt(client, tx_hash, timeout_s=10)
        except (ClientError, TimeoutError):
            return  # the node is gone
        with lock:
            acknowledged[tx_hash] = receipt
        nonce += 1


@pytest.mark.parametrize("seed", [1, 2])
def test_kill_9_mid_load_loses_nothing_acknowledged(node_home, seed: int) -> None:
    rng = random.Random(seed)
    node = NodeProcess(node_home, "--block-interval", "0.05")
    client = node.start()
    acknowledged: dict[str, dict[str, Any]] = {}
    lock, stop = threading.Lock(), threading.Event()
    threads = [
        threading.Thread(
            target=_sender_loop, args=(node.url, a, acknowledged, lock, stop), daemon=True
        )
        for a in SENDERS
    ]
    try:
        for t in threads:
            t.start()
        time.sleep(rng.uniform(1.0, 3.0))
        with lock:
            seen_head = client.call("eth_getBlockByNumber", "latest", False)
        node.kill()
        stop.set()
        for t in threads:
            t.join(timeout=15)
        with lock:
            acked = dict(acknowledged)
        assert len(acked) >= 10, f"too little load before the kill ({len(acked)} receipts)"
        print(
            f"{len(acked)} receipts acknowledged before kill -9 at height {int(seen_head['number'], 16)}"
        )

        client = node.start()
        after = client.call("eth_getBlockByNumber", seen_head["number"], False)
        assert after["hash"] == seen_head["hash"] and after["stateRoot"] == seen_head["stateRoot"]
        for tx_hash, receipt in acked.items():
            assert client.call("eth_getTransactionReceipt", tx_hash) == receipt
            block = client.call("eth_getBlockByNumber", receipt["blockNumber"], False)
            assert block["hash"] == receipt["blockHash"]

        # Every sender's committed nonce covers what was acknowledged, and the chain goes on.
        for account in SENDERS:
            mine = [r for r in acked.values() if r["from"] == account.address]
            committed = int(client.call("eth_getTransactionCount", account.address, "latest"), 16)
            assert committed >= len(mine)
        nonce = int(client.call("eth_getTransactionCount", SENDERS[0].address, "pending"), 16)
        raw = signed_transfer(SENDERS[0], nonce)
        receipt = wait_for_receipt(client, client.call("eth_sendRawTransaction", raw))
        assert receipt["status"] == "0x1"
    finally:
        stop.set()
        node.stop()
        print(f"--- node log ---\n{node.log()}")
