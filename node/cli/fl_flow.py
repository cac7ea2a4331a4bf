"""Federated learning from the command line (DESIGN.md §6): creating a task, a training node's
rounds, and reading a task's versions. The chain side is vm/precompiles/fl_registry.py; the
node keeps the weights as blobs (POST/GET /blobs) and recomputes every version (node/fl/).

A training node's round: read the task's current version and its global weights from the node
(hash-checked), train on its own shard, upload the local weights, propose them, then wait for the
committee's verdict at the proposal's deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from brainchain.crypto.keccak import keccak256
from brainchain.fl import SCORE_SCALE
from node.cli.client import RpcClient
from node.cli.txflow import Fees, sign_send_wait
from vm.abi import encode_values, selector
from vm.precompiles.addresses import FL_REGISTRY_ADDRESS
from vm.precompiles.fl_registry import PROPOSED, TASK_CREATED
from vm.precompiles.solidity import event_topic

CREATE_TASK = "createTask(string,bytes32,uint256,uint256,uint256,uint256,uint256)"
PROPOSE = "propose(uint256,uint256,bytes32,uint256)"
POLL_S = 0.5
STALL_S = 120.0  # no answer we wait for in this long: the network has stopped, so stop waiting
FINAL = ("accepted", "rejected", "expired")


def parse_id(text: str, what: str) -> int:
    """A task, proposal or version number as typed: decimal, or 0x-prefixed hex.

    Raises:
        ValueError: neither, or negative.
    """
    try:
        value = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
    except ValueError:
        raise ValueError(f"invalid {what} {text!r}: use a number, e.g. 7 or 0x7") from None
    if value < 0:
        raise ValueError(f"invalid {what} {text!r}: it is not negative")
    return value


def fraction_units(value: float, what: str) -> int:
    """A fraction in (0, 1] as brainchain/fl.py's score units (millionths).

    Raises:
        ValueError: outside (0, 1].
    """
    if not 0 < value <= 1:
        raise ValueError(f"--{what} must be in (0, 1], not {value}")
    return round(value * SCORE_SCALE)


def number(value: str | int | None) -> int:
    """An RPC number: a JSON number, or a 0x quantity (ids are, versions and scores are not)."""
    return int(value, 16) if isinstance(value, str) else int(value or 0)


def _log_topic(receipt: dict[str, Any], event: str, index: int) -> int:
    """Topic `index` of the receipt's first FL_REGISTRY log of `event`.

    Raises:
        ValueError: the transaction failed or logged no such event.
    """
    if receipt["status"] != "0x1":
        raise ValueError(f"the transaction failed in block {number(receipt['blockNumber'])}")
    topic = "0x" + event_topic(event).hex()
    for log in receipt["logs"]:
        if log["address"].lower() == "0x" + FL_REGISTRY_ADDRESS.hex() and log["topics"][0] == topic:
            return int(log["topics"][index], 16)
    raise ValueError(f"transaction {receipt['transactionHash']} logged no {event.split('(')[0]}")


def create_task(
    client: RpcClient,
    key: bytes,
    model: str,
    initial: bytes,
    rules: tuple[int, int, int, int],
) -> int:
    """Upload the initial weights, send createTask, and return the new task's id.

    `rules` is (window, threshold units, staleness, committee fraction units).

    Raises:
        ClientError: the node is unreachable or refuses the blob or the transaction (a revert
            when estimating its gas comes with the precompile's reason).
        ValueError: the transaction failed in its block.
    """
    upload(client, initial)
    data = create_task_call(model, initial, rules)
    receipt = sign_send_wait(client, key, FL_REGISTRY_ADDRESS, 0, data, None, Fees())
    assert receipt is not None  # it waited
    return task_id_from(receipt)


def create_task_call(model: str, initial: bytes, rules: tuple[int, int, int, int]) -> bytes:
    """FL_REGISTRY call data creating a task of `model` from the `initial` weights blob under
    `rules` (see create_task); for callers that sign and send it themselves."""
    return selector(CREATE_TASK) + encode_values(
        ["string", "bytes32", *["uint256"] * 5],
        [model, keccak256(initial), len(initial), *rules],
    )


def task_id_from(receipt: dict[str, Any]) -> int:
    """The id of the task a createTask receipt made.

    Raises:
        ValueError: the transaction failed or made no task.
    """
    return _log_topic(receipt, TASK_CREATED, 1)


def upload(client: RpcClient, blob: bytes) -> bytes:
    """Store `blob` on the node and return its id, checked against our own keccak.

    Raises:
        ClientError: the node is unreachable or refuses the blob.
        ValueError: the node names the blob by another hash.
    """
    blob_id = keccak256(blob)
    answered = client.put_blob(blob)
    if answered.lower() != "0x" + blob_id.hex():
        raise ValueError(f"the node stored the blob as {answered}, not 0x{blob_id.hex()}")
    return blob_id


def task(client: RpcClient, task_id: int) -> dict[str, Any]:
    """brain_getFlTask of `task_id`.

    Raises:
        ClientError: the node is unreachable or refuses the call.
        ValueError: the chain has no such task.
    """
    found = client.call("brain_getFlTask", hex(task_id))
    if found is None:
        raise ValueError(f"no FL task {task_id} on this chain")
    return dict(found)


def version(client: RpcClient, task_id: int, number: int) -> dict[str, Any]:
    """brain_getFlVersion of version `number` of task `task_id`.

    Raises:
        ClientError: the node is unreachable or refuses the call.
        ValueError: the task has no such version (yet).
    """
    found = client.call("brain_getFlVersion", hex(task_id), hex(number))
    if found is None:
        raise ValueError(f"FL task {task_id} has no version {number}")
    return dict(found)


def weights_of(client: RpcClient, task_id: int, number: int, *, stall_s: float = STALL_S) -> bytes:
    """The global weights of version `number`, checked against the hash the node recomputed
    (or the chain attested, for a version the node has not recomputed); waits while the node
    is still recomputing it.

    Raises:
        ClientError: the node is unreachable or does not have the blob.
        ValueError: no hash for the version within `stall_s`, or a blob whose keccak differs.
    """
    deadline = time.monotonic() + stall_s
    while True:
        record = version(client, task_id, number)
        expected = record.get("computedHash") or record.get("globalHash")
        if not expected and number == 0:
            expected = task(client, task_id)["initialWeights"]
        if expected:
            break
        if time.monotonic() > deadline:
            raise ValueError(f"the node has no weights for version {number} after {stall_s:.0f}s")
        time.sleep(POLL_S)
    blob = client.get_blob(expected)
    if "0x" + keccak256(blob).hex() != expected.lower():
        raise ValueError(f"the node sent version {number}'s weights with a different hash")
    return blob


def propose(client: RpcClient, key: bytes, task_id: int, base: int, blob: bytes) -> int:
    """Upload `blob`, propose it as trained from version `base`, return the proposal's id.

    Raises:
        ClientError: the node refuses the blob or the transaction (e.g. a stale base version).
        ValueError: the transaction failed in its block.
    """
    upload(client, blob)
    data = propose_call(task_id, base, blob)
    receipt = sign_send_wait(client, key, FL_REGISTRY_ADDRESS, 0, data, None, Fees())
    assert receipt is not None  # it waited
    return proposal_id_from(receipt)


def propose_call(task_id: int, base: int, blob: bytes) -> bytes:
    """FL_REGISTRY call data proposing the weights `blob` as trained from version `base`."""
    return selector(PROPOSE) + encode_values(
        ["uint256", "uint256", "bytes32", "uint256"], [task_id, base, keccak256(blob), len(blob)]
    )


def proposal_id_from(receipt: dict[str, Any]) -> int:
    """The id of the proposal a propose receipt made.

    Raises:
        ValueError: the transaction failed or made no proposal.
    """
    return _log_topic(receipt, PROPOSED, 2)


def verdict(client: RpcClient, proposal_id: int, *, stall_s: float = STALL_S) -> dict[str, Any]:
    """Poll brain_getFlProposal until the proposal is accepted, rejected or expired.

    Raises:
        ClientError: the node is unreachable or refuses the call.
        ValueError: no such proposal, or the head did not move for `stall_s`.
    """
    last_head, moved = -1, time.monotonic()
    while True:
        found = client.call("brain_getFlProposal", hex(proposal_id))
        if found is None:
            raise ValueError(f"no FL proposal {proposal_id} on this chain")
        if found["status"] in FINAL:
            return dict(found)
        head = int(client.call("eth_blockNumber"), 16)
        if head != last_head:
            last_head, moved = head, time.monotonic()
        elif time.monotonic() - moved > stall_s:
            raise ValueError(f"no new block for {stall_s:.0f}s while proposal {proposal_id} waits")
        time.sleep(POLL_S)


@dataclass(frozen=True)
class Round:
    """What one training round did, for its progress line."""

    number: int
    base: int
    local_accuracy: float
    proposal: int
    status: str
    score: int
    version: int  # the task's version once the verdict is in


def train_rounds(
    client: RpcClient,
    key: bytes,
    task_id: int,
    rounds: int,
    train: Callable[[bytes, int], tuple[bytes, float]],
    report: Callable[[Round], None],
) -> None:
    """Run `rounds` rounds: `train(global weights, round) -> (local weights, accuracy)`."""
    for index in range(rounds):
        base = number(task(client, task_id)["version"])
        local, accuracy = train(weights_of(client, task_id, base), index)
        proposal = propose(client, key, task_id, base, local)
        outcome = verdict(client, proposal)
        now = number(task(client, task_id)["version"])
        score = number(outcome["score"])
        report(Round(index, base, accuracy, proposal, outcome["status"], score, now))
