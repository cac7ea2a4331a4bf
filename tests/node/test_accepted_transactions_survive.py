"""kill -9 a validator while clients send it transactions: every one whose hash its RPC
returned is pending again after the restart, and later committed (node/store/tx_journal.py).

Four validators; the victim is started last. First it runs cut off from the others (nobody
dials it, it dials nobody), so what it accepts exists in its journal alone; then, restarted
with the others as peers, it is killed again mid-load while connected.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from genesis.devnet import DEV_ACCOUNTS
from node.cli.client import ClientError, RpcClient
from tests.node.harness import Network, signed_transfer, wait_for_height, wait_for_receipt
from tests.node.test_consensus_network import VALIDATORS, create_devnet

SENDERS = [Account.from_key(a.private_key) for a in DEV_ACCOUNTS[:4]]
SEND_INTERVAL_S = 0.02  # each sender's pace: a steady load of up to 4 / 0.02 = 200 tx/s
LOAD_TIMEOUT_S = 60.0
COMMIT_TIMEOUT_S = 90.0


class Load:
    """One thread per sender, each sending transfers to `url` at a steady pace with
    consecutive nonces and recording every hash the RPC returned, until the node is gone."""

    def __init__(self, url: str, nonces: list[int]) -> None:
        self.accepted: list[str] = []
        self.stopped: list[str] = []  # why each sender stopped
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._send, args=(url, account, nonce), daemon=True)
            for account, nonce in zip(SENDERS, nonces, strict=True)
        ]
        for thread in self._threads:
            thread.start()

    def _send(self, url: str, account: Any, nonce: int) -> None:
        client = RpcClient(url, timeout=10)
        while True:
            raw = signed_transfer(account, nonce)
            try:
                tx_hash = client.call("eth_sendRawTransaction", raw)
            except ClientError as exc:  # killed: this one's hash never came back
                with self._lock:
                    self.stopped.append(str(exc))
                return
            with self._lock:
                self.accepted.append(str(tx_hash))
            nonce += 1
            time.sleep(SEND_INTERVAL_S)

    def count(self) -> int:
        with self._lock:
            return len(self.accepted)

    def join(self) -> list[str]:
        for thread in self._threads:
            thread.join(timeout=30)
            assert not thread.is_alive()
        return list(self.accepted)


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    net = Network(create_devnet(tmp_path / "net", 0.2))
    try:
        for index in range(VALIDATORS - 1):
            net.start(index)
        wait_for_height(net.clients(), 2)
        yield net
    finally:
        print(net.stop_all())


def kill_under_load(network: Network, victim: int, rng: random.Random) -> list[str]:
    """Load the victim, kill -9 it after a seeded number of acceptances; the hashes returned."""
    node = network.nodes[victim]
    client = node.client()
    nonces = [
        int(client.call("eth_getTransactionCount", a.address, "pending"), 16) for a in SENDERS
    ]
    load = Load(node.url, nonces)
    target = rng.randint(40, 120)
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while load.count() < target:
        assert time.monotonic() < deadline, f"{load.count()} accepted, not {target}: {load.stopped}"
        time.sleep(0.01)
    node.kill()
    return load.join()


def check_restart(network: Network, victim: int, accepted: list[str]) -> None:
    """Restart the victim with the others as peers: each accepted transaction is known to it
    at once (pending or committed), then committed, with the same block on another node."""
    client = network.start(victim)
    lost = [h for h in accepted if client.call("eth_getTransactionByHash", h) is None]
    assert not lost, f"{len(lost)} of {len(accepted)} accepted transactions lost: {lost[:3]}"
    other = network.nodes[(victim + 1) % VALIDATORS].client()
    deadline = time.monotonic() + COMMIT_TIMEOUT_S
    for tx_hash in accepted:
        receipt = wait_for_receipt(client, tx_hash, timeout_s=max(1.0, deadline - time.monotonic()))
        assert receipt["status"] == "0x1"
        wait_for_height([other], int(receipt["blockNumber"], 16))
        assert other.call("eth_getTransactionReceipt", tx_hash)["blockHash"] == receipt["blockHash"]


@pytest.mark.parametrize("seed", [1, 2])
def test_every_accepted_transaction_survives_kill_9(network: Network, seed: int) -> None:
    rng = random.Random(seed)
    victim = VALIDATORS - 1
    network.nodes[victim].start()  # no peers: what it accepts stays with it
    assert network.nodes[victim].client().call("net_peerCount") == "0x0"
    alone = kill_under_load(network, victim, rng)
    print(f"cut off: {len(alone)} accepted before kill -9")
    check_restart(network, victim, alone)

    connected = kill_under_load(network, victim, rng)
    print(f"connected: {len(connected)} accepted before kill -9")
    check_restart(network, victim, connected)
