"""brain_getFlTask, brain_getFlVersion and brain_getFlProposal: federated-learning tasks, their
global versions and the proposals behind them, as a client sees them (DESIGN.md §6; the
precompile is vm/precompiles/fl_registry.py).

Everything is read from FL_REGISTRY's storage at the head (vm/precompiles/fl_state.py's readers),
except what only this node knows: the hash of the global weights it recomputed for a version
and their accuracy on the held-out test split (node/fl/service.py, kept in
node/store/inference_journal.py), null where it has not (yet) computed them. A node that took a
version's attested weights instead of recomputing them (their blobs were gone) shows a null
computedHash and the accuracy of the weights it took.

As in brain_getInference, ids (task, proposal) are hex quantities and so are hashes as data;
heights, version numbers, sizes, weights and scores are JSON numbers. Scores, α and the
threshold are in brainchain.fl's score units, 1/1,000,000 (a score of 931200 is an accuracy of
0.9312); testAccuracy is a fraction.
"""

from __future__ import annotations

from typing import Any

from brainchain.crypto.address import to_checksum_address
from brainchain.fl import SCORE_SCALE, ProposalStatus
from node.chain import Chain
from node.fl.registry import fl_slots, model_name, version_of, windows
from node.rpc.brain import expect_params, uint_param
from node.rpc.hexfmt import data, quantity
from vm.precompiles.fl_state import (
    Proposal,
    Task,
    load_members,
    load_proposal,
    load_score,
    load_task,
    load_version,
)

MAX_VERSION = 2**64 - 1  # a version number is stored in 64 bits
ZERO_HASH = bytes(32)


def _task_json(task: Task) -> dict[str, Any]:
    return {
        "id": quantity(task.task_id),
        "creator": to_checksum_address(task.creator),
        "model": model_name(task),
        "initialWeights": data(task.initial_weights),
        "initialSize": task.initial_size,
        "version": task.version,
        "window": task.window,
        "threshold": task.threshold,
        "staleness": task.staleness,
        "committeeWeight": task.k,
        "proposals": task.proposals,
    }


def brain_get_fl_task(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    """A task's parameters, current version and proposal count; null for an unknown id.

    Raises:
        InvalidParams: not exactly one param, or one that is not a uint256 (number or hex).
    """
    expect_params(params, 1)
    task = load_task(fl_slots(chain), uint_param(params[0], "task id"))
    return None if task is None else _task_json(task)


def brain_get_fl_version(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    """Version n of a task: the proposal it merged, its median score, α, the local and global
    weights hashes and this node's recomputation; null for an unknown task or a version it has
    not reached. Version 0 is the initial weights.

    Raises:
        InvalidParams: not two params (task id, version), or ones that are not unsigned integers.
    """
    expect_params(params, 2)
    task_id = uint_param(params[0], "task id")
    version = uint_param(params[1], "version", MAX_VERSION)
    slots = fl_slots(chain)
    task = load_task(slots, task_id)
    if task is None or version > task.version:
        return None
    record = chain.store.inference.fl_versions.get(task_id, version)
    accuracy = None if record is None else record.test_accuracy
    computed = None if record is None or record.adopted else data(record.computed_hash)
    out: dict[str, Any] = {
        "task": quantity(task_id),
        "version": version,
        "proposal": None,
        "proposer": None,
        "score": None,
        "alpha": None,
        "localHash": None,
        "size": task.initial_size,
        "globalHash": data(task.initial_weights),
        "finalizedAt": None,
        "computedHash": computed,
        "testAccuracy": None if accuracy is None else accuracy / SCORE_SCALE,
    }
    if version == 0:
        return out
    made = load_version(slots, task_id, version)
    assert made is not None  # versions up to the current one exist
    proposal = load_proposal(slots, made.proposal_id)
    assert proposal is not None  # a version's proposal exists
    out.update(
        proposal=quantity(made.proposal_id),
        proposer=to_checksum_address(proposal.proposer),
        score=made.score,
        alpha=made.alpha,
        localHash=data(proposal.weights_hash),
        size=proposal.size,
        globalHash=None if made.global_hash == ZERO_HASH else data(made.global_hash),
        finalizedAt=made.finalized,
    )
    return out


def _members(chain: Chain, proposal: Proposal) -> list[dict[str, Any]]:
    """Each member in commit order: weight, and its score once revealed."""
    slots = fl_slots(chain)
    out = []
    for member in load_members(slots, proposal):
        entry = load_score(slots, proposal.proposal_id, member)
        assert entry is not None  # every member has a commit
        out.append(
            {
                "member": to_checksum_address(member),
                "weight": entry.weight,
                "revealed": entry.revealed,
                "score": entry.score if entry.revealed else None,
                "attested": entry.attested,
            }
        )
    return out


def brain_get_fl_proposal(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    """A proposal as it stands at the head: its windows, status ("pending", "accepted",
    "rejected", "expired"), median score, the version it became, and its committee with the
    revealed scores; null for an unknown id.

    Raises:
        InvalidParams: not exactly one param, or one that is not a uint256 (number or hex).
    """
    expect_params(params, 1)
    slots = fl_slots(chain)
    proposal = load_proposal(slots, uint_param(params[0], "proposal id"))
    if proposal is None:
        return None
    task = load_task(slots, proposal.task_id)
    assert task is not None  # a proposal's task exists
    end, due = windows(chain, proposal)
    status = proposal.status
    finalized = status in (ProposalStatus.ACCEPTED, ProposalStatus.REJECTED)
    version = None
    if status is ProposalStatus.ACCEPTED:
        version = version_of(slots, proposal, due, task.version)
    members = _members(chain, proposal)
    return {
        "id": quantity(proposal.proposal_id),
        "task": quantity(proposal.task_id),
        "proposer": to_checksum_address(proposal.proposer),
        "baseVersion": proposal.base_version,
        "weightsHash": data(proposal.weights_hash),
        "size": proposal.size,
        "status": status.name.lower(),
        "includedAt": proposal.included,
        "commitEnd": end,
        "deadline": due,
        "score": proposal.score if finalized else None,
        "version": version,
        "expectedWeight": task.k,
        "quorumWeight": task.k // 2 + 1,  # the least w with 2w > k (reaches_quorum)
        "committedWeight": sum(m["weight"] for m in members),
        "revealedWeight": proposal.revealed_weight,
        "members": members,
    }
