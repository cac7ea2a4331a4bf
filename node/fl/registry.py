"""FL_REGISTRY's state as a node reads it at its head: vm/precompiles/fl_state.py's readers over
the node's read-only view of the account (node/rpc/brain.py head_slots), plus the few questions
the FL service and the brain_ RPC both ask of it.

Reads run on the event loop thread, where blocks also commit, so the head cannot move during
one synchronous read; across an await it may.
"""

from __future__ import annotations

from brainchain.inference import commit_end, deadline
from node.chain import Chain
from node.rpc.brain import head_slots
from vm.precompiles.addresses import FL_REGISTRY_ADDRESS
from vm.precompiles.fl_state import (
    FINALIZED_UPTO_SLOT,
    LAST_TASK_SLOT,
    Proposal,
    Task,
    load_proposal,
    load_version,
)
from vm.precompiles.inference_state import Params, ReadOnlySlots, load_counter, load_params


def fl_slots(chain: Chain) -> ReadOnlySlots:
    """FL_REGISTRY's storage at the head."""
    return head_slots(chain, FL_REGISTRY_ADDRESS)


def model_name(task: Task) -> str:
    """The task's model name, as createTask took it (stored left-aligned, zero-padded)."""
    return task.model.rstrip(b"\0").decode("utf-8", errors="replace")


def task_ids(slots: ReadOnlySlots) -> range:
    """Every task's id: they count from 1."""
    return range(1, slots.load(LAST_TASK_SLOT) + 1)


def pending_proposals(slots: ReadOnlySlots) -> list[Proposal]:
    """The proposals not finalized yet: every id past the last finalized one."""
    done, (last_id, _, _) = slots.load(FINALIZED_UPTO_SLOT), load_counter(slots)
    proposals = [load_proposal(slots, pid) for pid in range(done + 1, last_id + 1)]
    return [p for p in proposals if p is not None]


def inference_params(chain: Chain) -> Params:
    """INFERENCE's parameters at the head: FL proposals take its commit and reveal windows."""
    return load_params(head_slots(chain))


def windows(chain: Chain, proposal: Proposal) -> tuple[int, int]:
    """(last height taking commits, deadline) of the proposal, from INFERENCE's windows."""
    params = inference_params(chain)
    return (
        commit_end(proposal.included, params.commit_blocks),
        deadline(proposal.included, params.commit_blocks, params.reveal_blocks),
    )


def version_of(slots: ReadOnlySlots, proposal: Proposal, due: int, current: int) -> int | None:
    """The version an accepted proposal became, finalized at `due` (its deadline), looking down
    from the task's `current` version; None when no version came from it."""
    for version in range(current, 0, -1):
        record = load_version(slots, proposal.task_id, version)
        if record is None or record.finalized < due:
            return None
        if record.proposal_id == proposal.proposal_id:
            return version
    return None
