"""Where FL_REGISTRY (0x…0b04) keeps its state: its own account's storage, laid out as a Solidity
contract would lay it out, so eth_getStorageAt and eth_getProof show it.

    uint256 counter;        // slot 0: last proposal id (128) | its height (64) | its count (64)
    uint256 lastTask;       // slot 1: ids start at 1
    uint256 finalizedUpTo;  // slot 2: every proposal up to it is finalized
    mapping(uint256 => Task) tasks;                                // slot 3
    mapping(uint256 => Proposal) proposals;                        // slot 4
    mapping(uint256 => mapping(address => Score)) scores;          // slot 5: proposal → member
    mapping(uint256 => mapping(uint256 => Version)) versions;      // slot 6: task → version ≥ 1
    mapping(uint256 => mapping(bytes32 => uint256)) attestations;  // slot 7: weight per hash

The counter is INFERENCE's, in the same slot and words (inference_state.load_counter), read and
written by the same functions: proposals due at one height are counted as requests are. The
parameters FL shares with inference (the commit and reveal windows, the members per proposal,
the proposals per block) stay in INFERENCE's storage and are read there (`MeteredReads`), and
a task's expected committee weight k is derived from COMMITTEE's total stake when it is created.

A version's record keeps what only finalization knows (proposal, median score, α, height) and
the attested global hash; the proposer, the local weights hash and the size stay in the
proposal's record, and version 0 is the task's initial weights: nothing is stored twice. The
accepted scores that α averages are the scores of the task's last versions.
"""

from __future__ import annotations

from dataclasses import dataclass

from brainchain.fl import ProposalStatus
from brainchain.state.state import get_storage
from vm.access import warm_slot
from vm.frame import Evm
from vm.gas import GAS_COLD_SLOAD, GAS_WARM_ACCESS, charge_gas
from vm.precompiles.inference_state import Slots, address_word, word_address
from vm.precompiles.layout import WORD_BYTES, array_slot, mapping_slot

MASK_16 = 2**16 - 1
MASK_32 = 2**32 - 1
MASK_64 = 2**64 - 1
# A proposal's member count has 16 bits; INFERENCE's maxMembers may be set higher at genesis.
MEMBERS_LIMIT = MASK_16

COUNTER_SLOT = 0  # inference_state.NEXT_ID_SLOT: load_counter/store_counter read it
LAST_TASK_SLOT = 1
FINALIZED_UPTO_SLOT = 2
TASKS_SLOT = 3
PROPOSALS_SLOT = 4
SCORES_SLOT = 5
VERSIONS_SLOT = 6
ATTESTATIONS_SLOT = 7

# Task struct words.
TASK_HEAD = 0  # creator (160) | window (8) | staleness (16) | threshold (32)
TASK_MODEL = 1  # the model's name, left-aligned as Solidity's bytes32("digits-mlp")
TASK_WEIGHTS = 2  # keccak of the initial weights blob: version 0
TASK_K = 3  # the expected committee weight, in stake units
TASK_STATE = 4  # initial size (64) | current version (64) | proposals made (64)
# Proposal struct words.
PROP_HEAD = 0  # proposer (160) | included height (64)
PROP_TASK = 1  # task (64) | base version (64) | size (64)
PROP_HASH = 2  # keccak of the proposed (local) weights blob
PROP_STATE = 3  # revealed weight (192) | median score (32) | members (16) | status (8)
PROP_MEMBERS = 4  # members' addresses at keccak(slot) + i, in commit order
# Score struct words (one member's commit to a proposal).
SCORE_HASH = 0  # the commitment
SCORE_STATE = 1  # weight (192) | revealed score (32) | attested (1) | revealed (1)
# Version struct words.
VERSION_HEAD = 0  # proposal (64) | median score (32) | alpha (32) | finalized height (64)
VERSION_GLOBAL = 1  # keccak of the global weights blob, once attested


@dataclass(frozen=True, slots=True)
class MeteredReads:
    """Another precompile's storage as FL_REGISTRY reads it: each word charged as an SLOAD of
    that account's slot would be (EIP-2929 warm/cold, the slot warmed for the transaction)."""

    evm: Evm
    address: bytes

    def load(self, slot: int) -> int:
        cold = warm_slot(self.evm, (self.address, slot))
        charge_gas(self.evm, GAS_COLD_SLOAD if cold else GAS_WARM_ACCESS)
        return get_storage(self.evm.env.state, self.address, slot)

    def store(self, slot: int, value: int) -> None:
        raise TypeError("FL_REGISTRY reads other precompiles' storage, never writes it")


def _word_bytes(value: int) -> bytes:
    return value.to_bytes(WORD_BYTES, "big")


def _bytes_word(value: bytes) -> int:
    return int.from_bytes(value, "big")


# --- tasks --------------------------------------------------------------------------------


@dataclass(slots=True)
class Task:
    """A federated-learning task: its fixed parameters and how far it has come."""

    task_id: int
    creator: bytes
    model: bytes  # 32 bytes
    initial_weights: bytes
    initial_size: int
    window: int
    threshold: int
    staleness: int
    k: int
    version: int = 0
    proposals: int = 0


def task_slot(task_id: int) -> int:
    return mapping_slot(task_id, TASKS_SLOT)


def load_task(slots: Slots, task_id: int) -> Task | None:
    """The task, or None when no task has this id."""
    base = task_slot(task_id)
    head = slots.load(base + TASK_HEAD)
    if head == 0:
        return None
    state = slots.load(base + TASK_STATE)
    return Task(
        task_id=task_id,
        creator=word_address(head >> 96),
        window=(head >> 88) & 0xFF,
        staleness=(head >> 72) & MASK_16,
        threshold=(head >> 40) & MASK_32,
        model=_word_bytes(slots.load(base + TASK_MODEL)),
        initial_weights=_word_bytes(slots.load(base + TASK_WEIGHTS)),
        k=slots.load(base + TASK_K),
        initial_size=state >> 128,
        version=(state >> 64) & MASK_64,
        proposals=state & MASK_64,
    )


def store_task(slots: Slots, task: Task, *, new: bool = False) -> None:
    """Write the task's state word; `new` writes the words set once at creation too."""
    base = task_slot(task.task_id)
    if new:
        head = (
            address_word(task.creator) << 96
            | task.window << 88
            | task.staleness << 72
            | task.threshold << 40
        )
        slots.store(base + TASK_HEAD, head)
        slots.store(base + TASK_MODEL, _bytes_word(task.model))
        slots.store(base + TASK_WEIGHTS, _bytes_word(task.initial_weights))
        slots.store(base + TASK_K, task.k)
    slots.store(base + TASK_STATE, task.initial_size << 128 | task.version << 64 | task.proposals)


# --- proposals ----------------------------------------------------------------------------


@dataclass(slots=True)
class Proposal:
    """A proposal's stored fields (see the struct words above)."""

    proposal_id: int
    proposer: bytes
    included: int
    task_id: int
    base_version: int
    weights_hash: bytes
    size: int
    status: ProposalStatus = ProposalStatus.PENDING
    members: int = 0  # how many have committed
    score: int = 0  # the weighted median, once finalized with quorum
    revealed_weight: int = 0


def proposal_slot(proposal_id: int) -> int:
    return mapping_slot(proposal_id, PROPOSALS_SLOT)


def load_proposal(slots: Slots, proposal_id: int) -> Proposal | None:
    """The proposal, or None when no proposal has this id."""
    base = proposal_slot(proposal_id)
    head = slots.load(base + PROP_HEAD)
    if head == 0:
        return None
    fields = slots.load(base + PROP_TASK)
    state = slots.load(base + PROP_STATE)
    return Proposal(
        proposal_id=proposal_id,
        proposer=word_address(head >> 64),
        included=head & MASK_64,
        task_id=fields >> 128,
        base_version=(fields >> 64) & MASK_64,
        size=fields & MASK_64,
        weights_hash=_word_bytes(slots.load(base + PROP_HASH)),
        status=ProposalStatus(state & 0xFF),
        members=(state >> 8) & MASK_16,
        score=(state >> 24) & MASK_32,
        revealed_weight=state >> 56,
    )


def store_proposal(slots: Slots, proposal: Proposal, *, new: bool = False) -> None:
    """Write the proposal's state word; `new` writes the words set once at proposal time too."""
    base = proposal_slot(proposal.proposal_id)
    if new:
        slots.store(base + PROP_HEAD, address_word(proposal.proposer) << 64 | proposal.included)
        slots.store(
            base + PROP_TASK,
            proposal.task_id << 128 | proposal.base_version << 64 | proposal.size,
        )
        slots.store(base + PROP_HASH, _bytes_word(proposal.weights_hash))
    slots.store(
        base + PROP_STATE,
        proposal.revealed_weight << 56
        | proposal.score << 24
        | proposal.members << 8
        | int(proposal.status),
    )


def load_members(slots: Slots, proposal: Proposal) -> list[bytes]:
    """The members that committed to the proposal, in commit order."""
    base = proposal_slot(proposal.proposal_id) + PROP_MEMBERS
    return [word_address(slots.load(array_slot(base, i))) for i in range(proposal.members)]


def add_member(slots: Slots, proposal: Proposal, member: bytes) -> None:
    """Append a member; the caller stores the proposal, whose state word holds the count."""
    base = proposal_slot(proposal.proposal_id) + PROP_MEMBERS
    slots.store(array_slot(base, proposal.members), address_word(member))
    proposal.members += 1


# --- scores -------------------------------------------------------------------------------


@dataclass(slots=True)
class Score:
    """One member's commit to a proposal, its reveal, and whether it attested the version."""

    commitment: bytes
    weight: int
    score: int = 0
    revealed: bool = False
    attested: bool = False


def score_slot(proposal_id: int, member: bytes) -> int:
    return mapping_slot(member, mapping_slot(proposal_id, SCORES_SLOT))


def load_score(slots: Slots, proposal_id: int, member: bytes) -> Score | None:
    """The member's commit to the proposal, or None when it made none."""
    base = score_slot(proposal_id, member)
    commitment = slots.load(base + SCORE_HASH)
    if commitment == 0:
        return None
    state = slots.load(base + SCORE_STATE)
    return Score(
        commitment=_word_bytes(commitment),
        weight=state >> 34,
        score=(state >> 2) & MASK_32,
        attested=bool(state & 2),
        revealed=bool(state & 1),
    )


def store_score(
    slots: Slots, proposal_id: int, member: bytes, entry: Score, *, new: bool = False
) -> None:
    """Write the member's state word; `new` writes its commitment too."""
    base = score_slot(proposal_id, member)
    if new:
        slots.store(base + SCORE_HASH, _bytes_word(entry.commitment))
    slots.store(
        base + SCORE_STATE,
        entry.weight << 34 | entry.score << 2 | int(entry.attested) << 1 | int(entry.revealed),
    )


# --- versions and their attestations ------------------------------------------------------


@dataclass(slots=True)
class Version:
    """An accepted proposal's place in its task's sequence of global versions."""

    proposal_id: int
    score: int
    alpha: int
    finalized: int
    global_hash: bytes = bytes(WORD_BYTES)  # zero until attested


def version_slot(task_id: int, version: int) -> int:
    return mapping_slot(version, mapping_slot(task_id, VERSIONS_SLOT))


def load_version(slots: Slots, task_id: int, version: int) -> Version | None:
    """Version `version` ≥ 1 of the task, or None when the task has not reached it."""
    base = version_slot(task_id, version)
    head = slots.load(base + VERSION_HEAD)
    if head == 0:
        return None
    return Version(
        proposal_id=head >> 128,
        score=(head >> 96) & MASK_32,
        alpha=(head >> 64) & MASK_32,
        finalized=head & MASK_64,
        global_hash=_word_bytes(slots.load(base + VERSION_GLOBAL)),
    )


def store_version(slots: Slots, task_id: int, version: int, record: Version) -> None:
    """Write a new version's record; its global hash comes later (`store_global_hash`)."""
    slots.store(
        version_slot(task_id, version) + VERSION_HEAD,
        record.proposal_id << 128 | record.score << 96 | record.alpha << 64 | record.finalized,
    )


def store_global_hash(slots: Slots, task_id: int, version: int, global_hash: bytes) -> None:
    """Record the attested hash of the version's global weights: final."""
    slots.store(version_slot(task_id, version) + VERSION_GLOBAL, _bytes_word(global_hash))


def attestation_slot(proposal_id: int, global_hash: bytes) -> int:
    """The weight attesting `global_hash` as the result of merging the proposal."""
    return mapping_slot(global_hash, mapping_slot(proposal_id, ATTESTATIONS_SLOT))
