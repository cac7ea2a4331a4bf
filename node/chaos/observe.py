"""The final observations of a chaos run, read from every node still up after the load stops.

What each node committed (brain_getCommit per height), a receipt per accepted transaction per
node, "dropped" for an accepted transaction no node committed, each Byzantine node's own list of
offences, each inference request as it ended beside the output an honest executor gives, and
the FL task's versions and proposals as each node holds them: the facts the checkers judge
that clients alone cannot see.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from brainchain.crypto.keccak import keccak256
from genesis.format import load_genesis
from genesis.models import shipped_model
from node.chaos.cluster import Cluster
from node.chaos.history import Recorder
from node.chaos.load import Accepted, Requested, zero_weights
from node.cli.client import ClientError, RpcClient
from node.config import GENESIS_FILE
from node.consensus_driver import validator_set

RPC_TIMEOUT_S = 10.0
POLL_S = 0.25
OFFENCES_FILE = "byzantine.jsonl"
TERMINAL = ("settled", "expired")
FL_PENDING = "pending"


def wait_until(condition: Callable[[], bool], timeout_s: float, poll_s: float = POLL_S) -> bool:
    """Poll `condition` until it holds (True) or `timeout_s` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


def _head(cluster: Cluster, index: int) -> int | None:
    try:
        return int(cluster.client(index, RPC_TIMEOUT_S).call("eth_blockNumber"), 16)
    except ClientError:
        return None


def converge(cluster: Cluster, timeout_s: float) -> None:
    """Wait (up to `timeout_s`) until every node up has reached the highest head among them,
    so that the nodes' blocks are compared over the same heights."""

    def level() -> bool:
        heads = [_head(cluster, i) for i in cluster.up()]
        known = [h for h in heads if h is not None]
        return bool(known) and min(known) >= max(known)

    wait_until(level, timeout_s)


def settle_accepted(cluster: Cluster, accepted: list[Accepted], timeout_s: float) -> None:
    """Give accepted transactions still in pools up to `timeout_s` to commit on some node."""
    waiting = {a.tx for a in accepted}

    def committed() -> bool:
        for index in cluster.up():
            client = cluster.client(index, RPC_TIMEOUT_S)
            for tx in sorted(waiting):
                try:
                    if client.call("eth_getTransactionReceipt", tx) is not None:
                        waiting.discard(tx)
                except ClientError:
                    break
        return not waiting

    wait_until(committed, timeout_s, poll_s=1.0)


def node_indices(cluster: Cluster) -> dict[int, int]:
    """Consensus validator index → node index. Votes and certificates number validators in
    the validator set's canonical order (power descending, then key), the history numbers
    them as the scenario does (genesis order, node0 first)."""
    genesis = load_genesis(cluster.members[0].home / GENESIS_FILE)
    validators = validator_set(genesis.validators)
    out = {}
    for node, v in enumerate(genesis.validators):
        index = validators.index_of(v.consensus_pubkey)
        assert index is not None  # the set was built from these very keys
        out[index] = node
    return out


def record_blocks(cluster: Cluster, recorder: Recorder) -> None:
    """Every committed height's block and certificate, as each node up holds them, validators
    named by node index."""
    node_of = node_indices(cluster)
    for index in cluster.up():
        client = cluster.client(index, RPC_TIMEOUT_S)
        head = _head(cluster, index)
        for height in range(1, (head or 0) + 1):
            try:
                commit = client.call("brain_getCommit", hex(height))
            except ClientError:
                break
            if commit is None:
                continue
            recorder.record(
                {
                    "type": "block",
                    "node": index,
                    "height": int(commit["height"], 16),
                    "hash": commit["hash"],
                    "stateRoot": commit["stateRoot"],
                    "round": commit["round"],
                    "precommits": sorted(node_of[v] for v in commit["precommits"]),
                    "evidence": [
                        {**e, "validator": node_of[e["validator"]]} for e in commit["evidence"]
                    ],
                }
            )


def record_receipts(cluster: Cluster, recorder: Recorder, accepted: list[Accepted]) -> None:
    """A receipt event per accepted transaction per node up; "dropped" where none has it."""
    txs = sorted({a.tx for a in accepted})
    found: set[str] = set()
    for index in cluster.up():
        client = cluster.client(index, RPC_TIMEOUT_S)
        for tx in txs:
            try:
                receipt = client.call("eth_getTransactionReceipt", tx)
            except ClientError:
                break
            block = None if receipt is None else int(receipt["blockNumber"], 16)
            if block is not None:
                found.add(tx)
            recorder.record({"type": "receipt", "node": index, "tx": tx, "block": block})
    for tx in txs:
        if tx not in found:
            reason = "accepted, but no node up at the end of the run committed it"
            recorder.record({"type": "dropped", "tx": tx, "reason": reason})


def record_offences(cluster: Cluster, recorder: Recorder) -> None:
    """Copy each Byzantine node's byzantine.jsonl (what it says it did) into the history."""
    for member in cluster.members:
        path = member.home / OFFENCES_FILE
        if member.byzantine is None or not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                offence = json.loads(line)
            except ValueError:
                continue  # the line a kill -9 cut short
            recorder.record({"type": "offence", "node": member.index, **offence})


def record_inferences(
    cluster: Cluster, recorder: Recorder, requested: list[Requested], timeout_s: float
) -> None:
    """Each request as it ended (waiting up to `timeout_s` for all to end), beside the output
    an honest executor of the registered model gives."""
    up = cluster.up()
    if not requested or not up:
        return
    client = cluster.client(up[0], RPC_TIMEOUT_S)

    def fetch(request: int) -> dict[str, Any] | None:
        try:
            return client.call("brain_getInference", hex(request))  # type: ignore[no-any-return]
        except ClientError:
            return None

    def ended() -> bool:
        return all((fetch(r.request) or {}).get("status") in TERMINAL for r in requested)

    wait_until(ended, timeout_s, poll_s=1.0)
    # Local: torch and transformers load only for runs that asked for inference.
    from node.executors.models import build_model, generate

    models: dict[str, Any] = {}
    for r in requested:
        if r.model not in models:
            models[r.model] = build_model(shipped_model(r.model))
        honest = generate(models[r.model], r.prompt, r.max_tokens)
        info = fetch(r.request) or {}
        result = info.get("result")
        recorder.record(
            {
                "type": "inference",
                "node": up[0],
                "request": r.request,
                "status": info.get("status", "unknown"),
                "output": result["output"] if result else None,
                "honestOutput": "0x" + honest.hex(),
            }
        )


def record_fl(cluster: Cluster, recorder: Recorder, task_id: int | None, timeout_s: float) -> None:
    """Each version and proposal of FL task `task_id` as every node up holds it, after waiting
    (up to `timeout_s`) until no proposal is pending and every node up has recomputed every
    version the chain attests, so the checker compares finished work."""
    up = cluster.up()
    if task_id is None or not up:
        return
    zero = "0x" + keccak256(zero_weights()).hex()
    member_of = {
        "0x" + v.address.hex(): node
        for node, v in enumerate(load_genesis(cluster.members[0].home / GENESIS_FILE).validators)
    }

    def done() -> bool:
        for index in up:
            client = cluster.client(index, RPC_TIMEOUT_S)
            try:
                if any(p["status"] == FL_PENDING for p in _fl_proposals(client, task_id)):
                    return False
                versions = _fl_versions(client, task_id)
                if not all(v["computedHash"] and v["globalHash"] for v in versions):
                    return False
            except ClientError:
                return False
        return True

    wait_until(done, timeout_s, poll_s=1.0)
    for index in up:
        client = cluster.client(index, RPC_TIMEOUT_S)
        try:
            versions, proposals = _fl_versions(client, task_id), _fl_proposals(client, task_id)
        except ClientError:
            continue
        for v in versions:
            recorder.record(
                {
                    "type": "fl-version",
                    "node": index,
                    "task": task_id,
                    "version": v["version"],
                    "proposal": None if v["proposal"] is None else int(v["proposal"], 16),
                    "score": v["score"],
                    "computedHash": v["computedHash"],
                    "globalHash": v["globalHash"],
                }
            )
        for p in proposals:
            recorder.record(
                {
                    "type": "fl-proposal",
                    "node": index,
                    "task": task_id,
                    "proposal": int(p["id"], 16),
                    "status": p["status"],
                    "score": p["score"],
                    "attack": "zero" if p["weightsHash"].lower() == zero else None,
                    "scores": [
                        {
                            "member": member_of.get(m["member"].lower(), m["member"].lower()),
                            "weight": m["weight"],
                            "score": m["score"],
                        }
                        for m in p["members"]
                        if m["revealed"]
                    ],
                }
            )


def _fl_versions(client: RpcClient, task_id: int) -> list[dict[str, Any]]:
    """brain_getFlVersion of every version of the task up to the node's current one."""
    latest = client.call("brain_getFlTask", hex(task_id))["version"]
    return [client.call("brain_getFlVersion", hex(task_id), hex(v)) for v in range(latest + 1)]


def _fl_proposals(client: RpcClient, task_id: int) -> list[dict[str, Any]]:
    """brain_getFlProposal of every proposal of the task: ids count up from 1 across tasks."""
    found = []
    proposal_id = 1
    while (p := client.call("brain_getFlProposal", hex(proposal_id))) is not None:
        if int(p["task"], 16) == task_id:
            found.append(p)
        proposal_id += 1
    return found
