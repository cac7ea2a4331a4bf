"""Four validator processes over libp2p on 127.0.0.1: BFT commits, crashes, sync, pauses."""

from __future__ import annotations

import shutil
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account

from node import devnet
from node.cli.client import ClientError, RpcClient
from node.config import NodeConfig, generate_keys, write_config, write_keys
from tests.node.harness import Network, height, wait_for_height, wait_for_receipt

VALIDATORS = 4
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
RECIPIENT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
STALL_S = 3.0  # long enough for several heights at the 0.2 s block interval


def create_devnet(home: Path, block_interval_s: float) -> list[Path]:
    """A new devnet of VALIDATORS at `home`, every port chosen by the OS; its node homes."""
    devnet.create(
        home,
        validators=VALIDATORS,
        chain_id=1337,
        rpc_port=0,
        p2p_port=0,
        metrics_port=0,
        block_interval_s=block_interval_s,
    )
    return devnet.node_homes(home)


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    net = Network(create_devnet(tmp_path / "net", 0.2))
    try:
        for index in range(VALIDATORS):
            net.start(index)
        wait_for_height(net.clients(), 2)
        yield net
    finally:
        print(net.stop_all())


def transfer(client: RpcClient, nonce: int, value: int = 10**15) -> str:
    tx = Account.sign_transaction(
        {
            "chainId": 1337,
            "nonce": nonce,
            "to": RECIPIENT,
            "value": value,
            "gas": 21_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
        },
        DEV_KEY,
    )
    return str(client.call("eth_sendRawTransaction", "0x" + tx.raw_transaction.hex()))


def block_hashes(client: RpcClient, upto: int) -> list[str]:
    return [client.call("eth_getBlockByNumber", hex(h), False)["hash"] for h in range(upto + 1)]


def test_a_transaction_sent_to_one_node_is_committed_once_and_read_everywhere(
    network: Network,
) -> None:
    first, *_, last = network.clients()
    tx_hash = transfer(first, 0)
    receipt = wait_for_receipt(last, tx_hash)
    assert receipt["status"] == "0x1"
    committed_at = int(receipt["blockNumber"], 16)
    top = committed_at + 2
    wait_for_height(network.clients(), top)
    hashes = [block_hashes(c, top) for c in network.clients()]
    assert all(h == hashes[0] for h in hashes)  # one chain, every height, every node
    included = [
        h
        for h in range(1, top + 1)
        for tx in first.call("eth_getBlockByNumber", hex(h), False)["transactions"]
        if tx == tx_hash
    ]
    assert included == [committed_at]  # committed once
    for client in network.clients():
        assert (
            client.call("eth_getTransactionReceipt", tx_hash)["blockHash"] == receipt["blockHash"]
        )

    scraped = urllib.request.urlopen(network.nodes[0].metrics, timeout=5).read().decode()
    gauges = {
        line.split()[0]: float(line.split()[1])
        for line in scraped.splitlines()
        if line and not line.startswith("#")
    }
    assert gauges["brainchain_height"] >= top and gauges["brainchain_peers"] == VALIDATORS - 1
    assert gauges["brainchain_txs_total"] >= 1 and gauges["brainchain_blocks_total"] >= 1
    assert gauges['brainchain_step_seconds_count{step="propose"}'] >= 1


def test_one_crash_keeps_the_chain_going_and_the_restart_catches_up(network: Network) -> None:
    network.nodes[3].kill()
    survivors = network.clients()
    start = max(height(c) for c in survivors)
    wait_for_height(survivors, start + 5)
    behind = network.start(3)
    assert height(behind) <= start + 1
    target = max(height(c) for c in survivors) + 2
    wait_for_height(network.clients(), target)
    assert block_hashes(behind, target) == block_hashes(survivors[0], target)


def test_two_of_four_down_stops_commits_until_one_returns(network: Network) -> None:
    network.nodes[1].kill()
    network.nodes[2].kill()
    time.sleep(1.0)  # let any decision already under way finish
    left = network.clients()
    stalled = max(height(c) for c in left)
    time.sleep(STALL_S)
    assert max(height(c) for c in left) <= stalled + 1  # 2 of 4 is not more than 2/3
    network.start(2)
    wait_for_height(network.clients(), stalled + 3)


def test_a_paused_validator_resumes_and_catches_up(network: Network) -> None:
    paused = network.nodes[0]
    paused.signal(signal.SIGSTOP)
    try:
        others = [n.client() for n in network.nodes[1:]]
        start = max(height(c) for c in others)
        wait_for_height(others, start + 5)
    finally:
        paused.signal(signal.SIGCONT)
    wait_for_height([paused.client()], max(height(c) for c in others))


def make_follower(home: Path) -> Path:
    """A node of the devnet at `home` that holds no validator key: it follows the chain."""
    follower = home / "follower"
    follower.mkdir()
    write_keys(generate_keys(), follower / "keys.json")
    shutil.copy(home / "node0" / "genesis.json", follower / "genesis.json")
    write_config(NodeConfig(follower, rpc_port=0, p2p_port=0, metrics_port=0))
    return follower


def test_a_node_joining_a_fast_chain_late_catches_up(tmp_path: Path) -> None:
    """Zero block interval: the chain outruns one block-sync response a second, so a new node
    must ask again as soon as a response is committed, or it never catches up."""
    home = tmp_path / "fast"
    net = Network([*create_devnet(home, 0.0), make_follower(home)])
    try:
        for index in range(VALIDATORS):
            net.start(index)
        validators = net.clients()
        wait_for_height(validators, 200)
        behind = height(validators[0])
        follower = net.start(VALIDATORS)
        wait_for_height([follower], behind)
        assert block_hashes(follower, behind) == block_hashes(validators[0], behind)
        wait_for_height([follower], height(validators[0]))  # and keeps up from there
    finally:
        print(net.stop_all())


def test_validators_in_a_line_and_a_follower_commit_through_relays(tmp_path: Path) -> None:
    """Direct messages go one hop; what crosses further goes by gossipsub's relay (re-sent
    each second), block sync, and a follower passing transactions on to its validator."""
    home = tmp_path / "line"
    net = Network([*create_devnet(home, 0.2), make_follower(home)])
    try:
        net.nodes[0].start()
        for i in range(1, VALIDATORS):  # node0 - node1 - node2 - node3 - follower
            net.nodes[i].start(net.nodes[i - 1].p2p)
        follower = net.nodes[VALIDATORS].start(net.nodes[VALIDATORS - 1].p2p)
        clients = net.clients()
        wait_for_height(clients, 3)
        tx_hash = transfer(follower, 0)
        receipt = wait_for_receipt(clients[0], tx_hash)
        top = int(receipt["blockNumber"], 16) + 1
        wait_for_height(clients, top)
        hashes = [block_hashes(c, top) for c in clients]
        assert all(h == hashes[0] for h in hashes)
        assert (
            follower.call("eth_getTransactionReceipt", tx_hash)["blockHash"] == receipt["blockHash"]
        )
        assert follower.call("brain_nodeStatus")["validator"] is None
    finally:
        print(net.stop_all())


# Creation code that calls the identity precompile forever: every simulation of it runs until
# the node's gas cap (50M, 3-5 s of work at brainchain's prices, vm/schedule.py) or its time
# limit (5 s) stops it.
CALLS_FOREVER = "0x5b600080808060045afa50600056"
HEAVY_CALLS_S = 12.0


def test_heights_advance_while_every_node_serves_heavy_calls(network: Network) -> None:
    """eth_call runs off the event loop, bounded in gas and time (issue 12)."""
    clients = network.clients()
    stop = threading.Event()
    answers: list[str] = []

    def flood(node: RpcClient) -> None:
        client = RpcClient(node.url, timeout=60)  # a simulation may wait behind another
        while not stop.is_set():
            try:
                client.call("eth_call", {"data": CALLS_FOREVER, "gas": hex(50_000_000)})
            except ClientError as exc:
                answers.append(str(exc))

    before = [height(c) for c in clients]
    floods = [threading.Thread(target=flood, args=(c,)) for c in clients for _ in range(2)]
    for thread in floods:
        thread.start()
    time.sleep(HEAVY_CALLS_S)
    during = [height(c) for c in clients]
    stop.set()
    for thread in floods:
        thread.join()
    stopped = ("execution aborted (timeout = 5s)", "out of gas", "too many simulations")
    assert answers and all(any(s in a for s in stopped) for a in answers), answers[:3]
    assert all(d >= b + 3 for b, d in zip(before, during, strict=True)), (before, during)
