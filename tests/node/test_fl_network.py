"""Federated learning on real validator processes over libp2p: a task created with its initial
weights uploaded to one node, trainers (played by the test, with node/fl/train.py) fetching the
global weights from one node and uploading their local weights to another, the committees
fetching those blobs from peers, scoring, committing, revealing and attesting; versions advance,
test accuracy rises, and every node recomputes the same global weights hash as the one attested.
One validator reveals random scores (Byzantine "random-fl-score"): the median holds. Proposals
of zero weights and of noise are rejected by the committee's scores and change no version."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode

from brainchain.crypto.keccak import keccak256
from genesis.devnet import DEV_ACCOUNTS
from node.cli.client import RpcClient
from node.fl.data import train_shard
from node.fl.model import SHAPES, THRESHOLD, initial_weights, to_blob
from node.fl.train import train_local
from tests.node.harness import REPO, Network, wait_for_height, wait_for_receipt
from tests.node.test_inference_network import Sender, create

FL = "0x0000000000000000000000000000000000000b04"
BYZANTINE = 3  # node3 reveals seeded random scores
ROUNDS = 2
TIMEOUT_S = 300.0


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Network]:
    # The inference tests' devnet: four validators of stake 100, INFERENCE's long windows (FL
    # proposals take them too), tiny-gptj registered; the FL service runs by default.
    network = Network(create(tmp_path / "net", [100] * 4, 32, {BYZANTINE: "random-fl-score"}))
    try:
        for index in range(4):
            network.start(index)
        wait_for_height(network.clients(), 2)
        yield network
    finally:
        print(network.stop_all())


def fl_call(sender: Sender, signature: str, *args: Any) -> dict[str, Any]:
    """Send one FL_REGISTRY call from `sender` and wait for its successful receipt."""
    types = signature[signature.index("(") + 1 : -1].split(",")
    data = keccak256(signature.encode())[:4] + encode(types, list(args))
    receipt = wait_for_receipt(sender.client, sender.send(FL, data), timeout_s=60)
    assert receipt["status"] == "0x1", receipt
    return receipt


def upload(url: str, blob: bytes) -> bytes:
    request = urllib.request.Request(f"{url}/blobs", data=blob, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        doc = json.loads(answer.read())
    assert doc == {"id": "0x" + keccak256(blob).hex(), "size": len(blob)}
    return keccak256(blob)


def download(url: str, blob_id: str) -> bytes:
    with urllib.request.urlopen(f"{url}/blobs/{blob_id}", timeout=30) as answer:
        blob = bytes(answer.read())
    assert "0x" + keccak256(blob).hex() == blob_id
    return blob


def wait_for(what: str, check: Any, timeout_s: float = TIMEOUT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise TimeoutError(f"{what} within {timeout_s}s")


def versions(net: Network, task: int, number: int) -> list[dict[str, Any]]:
    return [c.call("brain_getFlVersion", hex(task), number) for c in net.clients()]


def verdict(client: RpcClient, proposal: int) -> Callable[[], dict[str, Any] | None]:
    """A check: the proposal once it is no longer pending."""

    def check() -> dict[str, Any] | None:
        found: dict[str, Any] = client.call("brain_getFlProposal", hex(proposal))
        return None if found["status"] == "pending" else found

    return check


def attested(net: Network, task: int, number: int) -> Callable[[], list[dict[str, Any]] | None]:
    """A check: the version on every node once each has recomputed it and the chain attests it."""

    def check() -> list[dict[str, Any]] | None:
        found = versions(net, task, number)
        return found if all(v["computedHash"] and v["globalHash"] for v in found) else None

    return check


def test_versions_advance_and_every_node_holds_the_same_global_weights(net: Network) -> None:
    nodes = net.nodes
    creator = Sender(nodes[0].client(), 1)
    initial = initial_weights(11)
    upload(nodes[0].url, initial)
    receipt = fl_call(
        creator,
        "createTask(string,bytes32,uint256,uint256,uint256,uint256,uint256)",
        "digits-mlp",
        keccak256(initial),
        len(initial),
        4,
        THRESHOLD,
        4,
        550_000,
    )
    task = int(receipt["logs"][0]["topics"][1], 16)
    zero = wait_for("version 0 recomputed on every node", attested(net, task, 0))
    assert {v["computedHash"] for v in zero} == {"0x" + keccak256(initial).hex()}
    accuracies = [zero[0]["testAccuracy"]]

    trainers = [Sender(nodes[1].client(), 2), Sender(nodes[2].client(), 3)]
    for number in range(ROUNDS):
        trainer = trainers[number % len(trainers)]
        base = number
        source = nodes[(number + 3) % 4]  # the global weights from one node ...
        current = source.client().call("brain_getFlVersion", hex(task), base)
        local = train_local(
            download(source.url, current["computedHash"]),
            train_shard(number, ROUNDS),
            seed=number,
        )
        upload(trainer.client.url, local)  # ... the local weights up to another
        receipt = fl_call(
            trainer,
            "propose(uint256,uint256,bytes32,uint256)",
            task,
            base,
            keccak256(local),
            len(local),
        )
        proposal = int(receipt["logs"][0]["topics"][2], 16)
        found = wait_for(f"a verdict on proposal {proposal}", verdict(trainer.client, proposal))
        assert found["status"] == "accepted", found
        byzantine = validator(net, BYZANTINE).lower()
        honest = [
            m["score"]
            for m in found["members"]
            if m["revealed"] and m["member"].lower() != byzantine
        ]
        assert min(honest) <= found["score"] <= max(honest)  # the random scorer moved nothing
        made = found["version"]
        assert made == number + 1
        done = wait_for(
            f"version {made} recomputed and attested on every node", attested(net, task, made)
        )
        assert len({(r["computedHash"], r["globalHash"]) for r in done}) == 1, done
        assert done[0]["computedHash"] == done[0]["globalHash"], done[0]
        accuracies.append(done[0]["testAccuracy"])
    assert accuracies[-1] > accuracies[0] + 0.2, accuracies

    attacker = Sender(nodes[1].client(), 4)  # proposes zero weights, then noise
    proposals = []
    for blob in attack_blobs():
        upload(attacker.client.url, blob)
        receipt = fl_call(
            attacker, "propose(uint256,uint256,bytes32,uint256)", task, ROUNDS,
            keccak256(blob), len(blob),
        )  # fmt: skip
        proposals.append(int(receipt["logs"][0]["topics"][2], 16))
    for proposal in proposals:
        found = wait_for(f"a verdict on proposal {proposal}", verdict(attacker.client, proposal))
        assert found["status"] == "rejected" and found["score"] < THRESHOLD, found
    assert nodes[0].client().call("brain_getFlTask", hex(task))["version"] == ROUNDS
    for node in nodes:
        text = urllib.request.urlopen(node.metrics, timeout=5).read().decode()
        assert "brainchain_fl_hash_mismatches_total 0.0" in text
        assert f"brainchain_fl_versions_recomputed_total {float(ROUNDS)}" in text


def attack_blobs() -> list[bytes]:
    """The issue's attack proposals: all-zero weights, and seeded N(0, 1) noise."""
    import numpy as np

    noise = np.random.default_rng(7)
    return [
        to_blob({name: np.zeros(shape, np.float32) for name, shape in SHAPES.items()}),
        to_blob(
            {name: noise.normal(0, 1, shape).astype(np.float32) for name, shape in SHAPES.items()}
        ),
    ]


def validator(net: Network, index: int) -> str:
    genesis = json.loads((net.nodes[0].home / "genesis.json").read_text())
    return str(genesis["validators"][index]["address"])


def brainchain(*args: str) -> subprocess.Popen[str]:
    """A `brainchain` command in a process of its own, as a user runs it (in a terminal wide
    enough for `fl show`'s hashes on one line)."""
    return subprocess.Popen(
        [sys.executable, "-m", "node.cli.main", *args],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "250"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process: subprocess.Popen[str], timeout_s: float = TIMEOUT_S) -> str:
    output, _ = process.communicate(timeout=timeout_s)
    assert process.returncode == 0, output
    return output


def test_two_training_processes_advance_the_model_through_the_cli(
    net: Network, tmp_path: Path
) -> None:
    """`brainchain fl create`, two `brainchain fl train` processes on shards 0/2 and 1/2 of
    digits, each talking to its own node, then `fl show` and `fl export`."""
    nodes = net.nodes
    key = ["0x" + DEV_ACCOUNTS[i].private_key.hex() for i in (1, 2, 3)]
    created = finished(
        brainchain("fl", "create", "--rpc", nodes[0].url, "--from-key", key[0], "--seed", "3")
    )
    task = re.search(r"task id (\d+)", created)
    assert task is not None, created
    trainers = [
        brainchain("fl", "train", "--rpc", nodes[1 + i].url, "--from-key", key[1 + i],
                   "--task", task[1], "--shard", f"{i}/2", "--rounds", "2", "--seed", str(i))
        for i in range(2)
    ]  # fmt: skip
    lines = [line for t in trainers for line in finished(t).splitlines() if "round " in line]
    assert len(lines) == 4, lines
    accepted = [line for line in lines if " accepted " in line]
    assert len(accepted) >= 3, lines  # honest work, scored honestly (one random scorer)
    task_id = int(task[1])
    latest = int(nodes[0].client().call("brain_getFlTask", hex(task_id))["version"])
    assert latest == len(accepted)
    records = [
        wait_for(f"version {n} everywhere", attested(net, task_id, n)) for n in range(latest + 1)
    ]
    for per_node in records:  # one hash per version on every node, the one the chain attests
        assert len({(r["computedHash"], r["globalHash"]) for r in per_node}) == 1, per_node
    assert records[-1][0]["testAccuracy"] > records[0][0]["testAccuracy"] + 0.2, records
    shown = finished(brainchain("fl", "show", "--rpc", nodes[3].url, task[1]))
    assert f"version {latest}" in shown and records[-1][0]["globalHash"] in shown
    out = tmp_path / "model.safetensors"
    finished(brainchain("fl", "export", "--rpc", nodes[2].url, task[1],
                        "--version", str(latest), "--out", str(out)))  # fmt: skip
    assert "0x" + keccak256(out.read_bytes()).hex() == records[-1][0]["computedHash"]
