"""FL_REGISTRY (0x…0b04): asynchronous, aggregator-free federated learning (DESIGN.md §6; BRAIN,
Park, Lee, Moon 2024, §V, and the authors' reference simulation; the rules in brainchain/fl.py).

    function createTask(string model, bytes32 initialWeights, uint256 initialSize,
        uint256 window, uint256 threshold, uint256 staleness, uint256 committeeFraction)
        external returns (uint256 taskId)
    function propose(uint256 task, uint256 baseVersion, bytes32 weightsHash, uint256 size)
        external returns (uint256 proposalId)
    function commitScore(uint256 proposal, bytes32 commitment, bytes proof) external
    function revealScore(uint256 proposal, uint256 score, bytes32 salt) external
    function attestVersion(uint256 task, uint256 version, bytes32 globalHash) external
    function getTask(uint256 task) external view returns (address creator, bytes32 model,
        bytes32 initialWeights, uint256 initialSize, uint256 version, uint256 window,
        uint256 threshold, uint256 staleness, uint256 k, uint256 proposals)
    function getVersion(uint256 task, uint256 version) external view returns (uint256 proposal,
        address proposer, uint256 score, uint256 alpha, bytes32 localHash, uint256 size,
        bytes32 globalHash, uint256 finalizedAt)
    function getProposal(uint256 proposal) external view returns (uint256 task,
        address proposer, uint256 baseVersion, bytes32 weightsHash, uint256 size,
        uint256 status, uint256 includedAt, uint256 commitEnd, uint256 deadline,
        uint256 score, uint256 members, uint256 revealedWeight)

A task names a model, the hash of its initial weights (version 0) and its rules: α's window w,
the acceptance threshold θ and the staleness bound, in brainchain/fl.py's score units, and its
committee's expected weight k = committeeFraction of the validators' total stake, which
COMMITTEE's registry holds (brainchain.fl.committee_weight says when that is "0.55 of the
validators"). A trainer proposes the keccak of a weights blob it trained from a version at most
`staleness` behind the current one. The proposal's committee is drawn, as an inference
request's is, from the VRF proofs over keccak("brainchain/fl" ‖ id ‖ hash of the proposal's
block), checked when members commit; a member commits to keccak(score word ‖ member ‖ salt) and
reveals once commits close, within INFERENCE's windows. Each rejected call ends in a REVERT with
a Solidity `Error(string)` reason and changes nothing; storage is metered as SLOAD and SSTORE
are, events as LOG is, the VRF check and sortition as COMMITTEE charges them.

Finalization runs at the end of the proposal's deadline block (`finalize_due`, called by
vm/transition.py beside INFERENCE's settlement), bounded as settlement is: at most
maxRequestsPerBlock proposals due at one height, each with at most maxMembers members and a
window of at most 64 versions. Without quorum (the revealed weight must exceed half of k) the
proposal expires; else the weighted median of the revealed scores, each weighted by its
sortition weight, is compared with θ, and an accepted proposal becomes the task's next version
with α = half the mean of the last w accepted scores, this one included (brainchain.fl.alpha).
Block-end work belongs to no transaction, so it emits no log, as INFERENCE's settlement emits
none: a node reads the verdict with getProposal once the deadline block (in FlProposed) is
committed.

The chain cannot compute the next global weights, (1 − α)·global + α·local (node/fl/mixing.py):
the weights are off chain. Every node recomputes them itself and never waits for the chain to
do so; `attestVersion` records the hash that the members who revealed scores computed, the
weight behind one hash past half of k making it final, so that every node has one hash on chain
to check its own recomputation against, and a node that joins late knows which blob to fetch.

Scorers are bonded as inference members are, with the same bond (vm/precompiles/bonds.py): a
commit locks INFERENCE's penalty until the proposal's deadline, and a member that committed and
never revealed loses it. A revealed score is never penalised, however far from the median: a
score is a judgement on the member's own data, with no one right answer to hold it against;
the weighted median is what contains random scorers.

Staleness is checked when a proposal is made, as FedAsync bounds it when the server receives an
update: the versions merged while the committee scores it (C + R blocks) are ones its trainer
could not have seen. Checking again at the deadline was measured and dropped: with 21 trainers
proposing about once a block, the task moves 7–10 versions during scoring, and a bound of 4 at
merge refused 126–247 of 630 honest proposals (bench/fl_convergence.py, seed 1) for no gain in
accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from brainchain.crypto.address import to_checksum_address
from brainchain.fl import (
    MAX_BLOB_BYTES,
    MAX_MODEL_BYTES,
    MAX_STALENESS,
    MAX_WINDOW,
    SCORE_SCALE,
    ProposalStatus,
    alpha,
    attest_end,
    attesting,
    committee_weight,
    proposal_seed,
    score_word,
    stale,
    verdict,
)
from brainchain.inference import (
    commit_end,
    commitment,
    committing,
    deadline,
    reaches_quorum,
    revealing,
)
from brainchain.state.state import State, get_account, set_account
from brainchain.types.receipt import Log
from vm.abi import decode_values, encode_values
from vm.frame import Evm
from vm.gas import GAS_NEW_ACCOUNT, charge_gas
from vm.instructions.block import ancestor_hash
from vm.precompiles.addresses import COMMITTEE_ADDRESS, FL_REGISTRY_ADDRESS, INFERENCE_ADDRESS
from vm.precompiles.bonds import lock_penalty, penalise, release
from vm.precompiles.committee import sortition_weight
from vm.precompiles.costs import GAS_COMMITTEE
from vm.precompiles.errors import revert_outside_window, revert_with_reason
from vm.precompiles.fl_state import (
    FINALIZED_UPTO_SLOT,
    LAST_TASK_SLOT,
    MEMBERS_LIMIT,
    MeteredReads,
    Proposal,
    Score,
    Task,
    Version,
    add_member,
    attestation_slot,
    load_members,
    load_proposal,
    load_score,
    load_task,
    load_version,
    store_global_hash,
    store_proposal,
    store_score,
    store_task,
    store_version,
)
from vm.precompiles.inference_state import (
    COMMIT_BLOCKS_SLOT,
    MAX_MEMBERS_SLOT,
    MAX_REQUESTS_PER_BLOCK_SLOT,
    REVEAL_BLOCKS_SLOT,
    MeteredSlots,
    Slots,
    StateSlots,
    load_counter,
    load_params,
    store_counter,
)
from vm.precompiles.layout import WORD_BYTES, word
from vm.precompiles.registry import TOTAL_STAKE_SLOT
from vm.precompiles.solidity import Function, dispatch, emit, event_topic

NAME = "FL_REGISTRY"
ZERO_HASH = bytes(WORD_BYTES)

TASK_CREATED = "FlTaskCreated(uint256,address,bytes32,bytes32,uint256)"
TASK_CREATED_DATA = ["bytes32", "bytes32", "uint256"]  # model, initialWeights, k
PROPOSED = "FlProposed(uint256,uint256,address,uint256,bytes32,uint256,uint256)"
PROPOSED_DATA = ["uint256", "bytes32", "uint256", "uint256"]  # base, hash, size, deadline
SCORE_COMMITTED = "FlScoreCommitted(uint256,address,uint256)"
SCORE_REVEALED = "FlScoreRevealed(uint256,address,uint256)"
ATTESTED = "FlAttested(uint256,uint256,address,bytes32,uint256)"
ATTESTED_DATA = ["bytes32", "uint256"]  # globalHash, weight
VERSION_ATTESTED = "FlVersionAttested(uint256,uint256,bytes32)"

GET_TASK_TYPES = ["address", "bytes32", "bytes32", *["uint256"] * 7]
GET_VERSION_TYPES = [
    "uint256",
    "address",
    "uint256",
    "uint256",
    "bytes32",
    "uint256",
    "bytes32",
    "uint256",
]
GET_PROPOSAL_TYPES = ["uint256", "address", "uint256", "bytes32", *["uint256"] * 8]


# --- events, decoded for the node -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskCreated:
    """FlTaskCreated: a task and its committee's expected weight."""

    task_id: int
    creator: bytes
    model: str
    initial_weights: bytes
    k: int


@dataclass(frozen=True, slots=True)
class Proposed:
    """FlProposed: what a scoring committee needs to fetch and score the weights."""

    task_id: int
    proposal_id: int
    proposer: bytes
    base_version: int
    weights_hash: bytes
    size: int
    deadline: int  # finalized at the end of this block


@dataclass(frozen=True, slots=True)
class ScoreCommitted:
    """FlScoreCommitted: a member proved its sortition weight and committed to a score."""

    proposal_id: int
    member: bytes
    weight: int


@dataclass(frozen=True, slots=True)
class ScoreRevealed:
    """FlScoreRevealed: a member opened its commitment."""

    proposal_id: int
    member: bytes
    score: int


@dataclass(frozen=True, slots=True)
class Attested:
    """FlAttested: a member that revealed vouches for a version's global weights hash."""

    task_id: int
    version: int
    member: bytes
    global_hash: bytes
    weight: int


@dataclass(frozen=True, slots=True)
class VersionAttested:
    """FlVersionAttested: the weight behind one hash passed half of k; the hash is final."""

    task_id: int
    version: int
    global_hash: bytes


FlEvent = TaskCreated | Proposed | ScoreCommitted | ScoreRevealed | Attested | VersionAttested


def _uint(topic: bytes) -> int:
    return int.from_bytes(topic, "big")


def _decode_task_created(log: Log) -> TaskCreated:
    model, initial_weights, k = decode_values(TASK_CREATED_DATA, log.data)
    name = model.rstrip(b"\0").decode()
    return TaskCreated(_uint(log.topics[1]), log.topics[2][12:], name, initial_weights, k)


def _decode_proposed(log: Log) -> Proposed:
    base, weights_hash, size, due = decode_values(PROPOSED_DATA, log.data)
    task_id, proposal_id = _uint(log.topics[1]), _uint(log.topics[2])
    return Proposed(task_id, proposal_id, log.topics[3][12:], base, weights_hash, size, due)


def _decode_committed(log: Log) -> ScoreCommitted:
    (weight,) = decode_values(["uint256"], log.data)
    return ScoreCommitted(_uint(log.topics[1]), log.topics[2][12:], weight)


def _decode_revealed(log: Log) -> ScoreRevealed:
    (score,) = decode_values(["uint256"], log.data)
    return ScoreRevealed(_uint(log.topics[1]), log.topics[2][12:], score)


def _decode_attested(log: Log) -> Attested:
    global_hash, weight = decode_values(ATTESTED_DATA, log.data)
    task_id, version = _uint(log.topics[1]), _uint(log.topics[2])
    return Attested(task_id, version, log.topics[3][12:], global_hash, weight)


def _decode_version_attested(log: Log) -> VersionAttested:
    (global_hash,) = decode_values(["bytes32"], log.data)
    return VersionAttested(_uint(log.topics[1]), _uint(log.topics[2]), global_hash)


# topic0 → (how many topics the event has, its decoder)
_DECODERS: dict[bytes, tuple[int, Callable[[Log], FlEvent]]] = {
    event_topic(TASK_CREATED): (3, _decode_task_created),
    event_topic(PROPOSED): (4, _decode_proposed),
    event_topic(SCORE_COMMITTED): (3, _decode_committed),
    event_topic(SCORE_REVEALED): (3, _decode_revealed),
    event_topic(ATTESTED): (4, _decode_attested),
    event_topic(VERSION_ATTESTED): (3, _decode_version_attested),
}


def decode_fl_event(log: Log) -> FlEvent | None:
    """The FL_REGISTRY event a log records, or None for any other log (another account's, or
    one whose topics do not fit)."""
    if log.address != FL_REGISTRY_ADDRESS or not log.topics:
        return None
    entry = _DECODERS.get(log.topics[0])
    if entry is None or len(log.topics) != entry[0]:
        return None
    return entry[1](log)


# --- the functions --------------------------------------------------------------------------


def _task_or_revert(evm: Evm, slots: Slots, task_id: int) -> Task:
    task = load_task(slots, task_id)
    if task is None:
        revert_with_reason(evm, f"{NAME}: no task {task_id}")
    return task


def _proposal_or_revert(evm: Evm, slots: Slots, proposal_id: int) -> Proposal:
    proposal = load_proposal(slots, proposal_id)
    if proposal is None:
        revert_with_reason(evm, f"{NAME}: no proposal {proposal_id}")
    return proposal


def _inference_params(evm: Evm) -> MeteredReads:
    """INFERENCE's storage, where the windows and bounds FL shares with inference live."""
    return MeteredReads(evm, INFERENCE_ADDRESS)


def _model_word(model: str) -> bytes:
    return model.encode().ljust(WORD_BYTES, b"\0")


def _exist(evm: Evm) -> None:
    """Give the account a nonce the first time it holds state, as a contract creation does:
    an account with no nonce, balance or code is empty (EIP-161), and the first transaction
    that touched it would delete it with its storage. Charged as a call that creates an
    account."""
    state = evm.env.state
    account = get_account(state, FL_REGISTRY_ADDRESS)
    if account.nonce == 0:
        charge_gas(evm, GAS_NEW_ACCOUNT)
        set_account(state, FL_REGISTRY_ADDRESS, replace(account, nonce=1))


def create_task(evm: Evm, args: tuple[Any, ...]) -> None:
    """Register a task; its version 0 is the initial weights. Return its id."""
    model, initial_weights, initial_size, window, threshold, staleness, fraction = args
    name = model.encode()
    if not 0 < len(name) <= MAX_MODEL_BYTES:
        revert_with_reason(
            evm, f"{NAME}: model name of {len(name)} bytes outside 1..{MAX_MODEL_BYTES}"
        )
    if b"\0" in name:  # the name is stored zero-padded: a NUL would make it ambiguous
        revert_with_reason(evm, f"{NAME}: model name holds a NUL byte")
    if initial_weights == ZERO_HASH:
        revert_with_reason(evm, f"{NAME}: initialWeights is the zero hash")
    if not 0 < initial_size <= MAX_BLOB_BYTES:
        revert_with_reason(evm, f"{NAME}: initialSize {initial_size} outside 1..{MAX_BLOB_BYTES}")
    if not 1 <= window <= MAX_WINDOW:
        revert_with_reason(evm, f"{NAME}: window {window} outside 1..{MAX_WINDOW}")
    if not 0 < threshold <= SCORE_SCALE:
        revert_with_reason(evm, f"{NAME}: threshold {threshold} outside 1..{SCORE_SCALE}")
    if staleness > MAX_STALENESS:
        revert_with_reason(evm, f"{NAME}: staleness {staleness} exceeds {MAX_STALENESS}")
    if not 0 < fraction <= SCORE_SCALE:
        revert_with_reason(evm, f"{NAME}: committeeFraction {fraction} outside 1..{SCORE_SCALE}")
    total_stake = MeteredReads(evm, COMMITTEE_ADDRESS).load(TOTAL_STAKE_SLOT)
    if total_stake == 0:
        revert_with_reason(evm, f"{NAME}: the validator registry holds no stake")
    slots = MeteredSlots(evm)
    _exist(evm)
    task_id = slots.load(LAST_TASK_SLOT) + 1
    slots.store(LAST_TASK_SLOT, task_id)
    task = Task(
        task_id=task_id,
        creator=evm.message.caller,
        model=_model_word(model),
        initial_weights=initial_weights,
        initial_size=initial_size,
        window=window,
        threshold=threshold,
        staleness=staleness,
        k=committee_weight(total_stake, fraction),
    )
    store_task(slots, task, new=True)
    emit(
        evm,
        TASK_CREATED,
        (word(task_id), word(task.creator)),
        TASK_CREATED_DATA,
        [task.model, initial_weights, task.k],
    )
    evm.output = encode_values(["uint256"], [task_id])


def propose(evm: Evm, args: tuple[Any, ...]) -> None:
    """Record a proposal of weights trained from `baseVersion`; return its id."""
    task_id, base, weights_hash, size = args
    slots = MeteredSlots(evm)
    task = _task_or_revert(evm, slots, task_id)
    if base > task.version:
        revert_with_reason(
            evm,
            f"{NAME}: base version {base} is newer than task {task_id}'s version {task.version}",
        )
    if stale(base, task.version, task.staleness):
        revert_with_reason(
            evm,
            f"{NAME}: stale: base version {base} is more than {task.staleness} versions behind"
            f" task {task_id}'s version {task.version}",
        )
    if weights_hash == ZERO_HASH:
        revert_with_reason(evm, f"{NAME}: weightsHash is the zero hash")
    if not 0 < size <= MAX_BLOB_BYTES:
        revert_with_reason(evm, f"{NAME}: size {size} outside 1..{MAX_BLOB_BYTES}")
    params = _inference_params(evm)
    commit_blocks, reveal_blocks = params.load(COMMIT_BLOCKS_SLOT), params.load(REVEAL_BLOCKS_SLOT)
    limit = params.load(MAX_REQUESTS_PER_BLOCK_SLOT)
    height = evm.env.block.height
    # Proposals included at one height are all due at one height: count them as INFERENCE
    # counts its requests, in one word.
    last_id, last_height, in_block = load_counter(slots)
    in_block = in_block if last_height == height else 0
    if in_block >= limit:
        revert_with_reason(
            evm, f"{NAME}: {limit} proposals already in this block; retry in the next"
        )
    proposal_id = last_id + 1
    store_counter(slots, proposal_id, height, in_block + 1)
    proposal = Proposal(
        proposal_id=proposal_id,
        proposer=evm.message.caller,
        included=height,
        task_id=task_id,
        base_version=base,
        weights_hash=weights_hash,
        size=size,
    )
    store_proposal(slots, proposal, new=True)
    task.proposals += 1
    store_task(slots, task)
    emit(
        evm,
        PROPOSED,
        (word(task_id), word(proposal_id), word(proposal.proposer)),
        PROPOSED_DATA,
        [base, weights_hash, size, deadline(height, commit_blocks, reveal_blocks)],
    )
    evm.output = encode_values(["uint256"], [proposal_id])


def commit_score(evm: Evm, args: tuple[Any, ...]) -> None:
    """Record a committee member's score commitment, its weight proven by its VRF proof."""
    proposal_id, hidden, proof = args
    slots = MeteredSlots(evm)
    proposal = _proposal_or_revert(evm, slots, proposal_id)
    params = _inference_params(evm)
    commit_blocks = params.load(COMMIT_BLOCKS_SLOT)
    if not committing(evm.env.block.height, proposal.included, commit_blocks):
        end = commit_end(proposal.included, commit_blocks)
        what = f"{NAME}: proposal {proposal_id} takes commits"
        revert_outside_window(evm, what, proposal.included + 1, end)
    member = evm.message.caller
    if hidden == ZERO_HASH:
        revert_with_reason(evm, f"{NAME}: the zero commitment is reserved for no commitment")
    if load_score(slots, proposal_id, member) is not None:
        revert_with_reason(
            evm, f"{NAME}: {to_checksum_address(member)} already committed to {proposal_id}"
        )
    max_members = min(params.load(MAX_MEMBERS_SLOT), MEMBERS_LIMIT)
    if proposal.members >= max_members:
        revert_with_reason(evm, f"{NAME}: proposal {proposal_id} has its {max_members} members")
    block_hash = ancestor_hash(evm.env, proposal.included)
    if block_hash is None:
        revert_with_reason(evm, f"{NAME}: the hash of block {proposal.included} is out of reach")
    task = load_task(slots, proposal.task_id)
    assert task is not None  # every proposal's task exists
    charge_gas(evm, GAS_COMMITTEE)
    seed = proposal_seed(proposal_id, block_hash)
    weight = sortition_weight(evm, NAME, member, seed, proof, task.k)
    if weight == 0:
        revert_with_reason(
            evm,
            f"{NAME}: {to_checksum_address(member)} is not in the committee of {proposal_id}",
        )
    lock_penalty(evm, NAME, MeteredSlots(evm, INFERENCE_ADDRESS), member)
    store_score(slots, proposal_id, member, Score(hidden, weight), new=True)
    add_member(slots, proposal, member)
    store_proposal(slots, proposal)
    emit(evm, SCORE_COMMITTED, (word(proposal_id), word(member)), ["uint256"], [weight])


def reveal_score(evm: Evm, args: tuple[Any, ...]) -> None:
    """Open a score commitment once commits have closed."""
    proposal_id, score, salt = args
    slots = MeteredSlots(evm)
    proposal = _proposal_or_revert(evm, slots, proposal_id)
    params = _inference_params(evm)
    commit_blocks, reveal_blocks = params.load(COMMIT_BLOCKS_SLOT), params.load(REVEAL_BLOCKS_SLOT)
    if not revealing(evm.env.block.height, proposal.included, commit_blocks, reveal_blocks):
        opens = commit_end(proposal.included, commit_blocks) + 1
        closes = deadline(proposal.included, commit_blocks, reveal_blocks)
        what = f"{NAME}: proposal {proposal_id} takes reveals"
        revert_outside_window(evm, what, opens, closes)
    member = evm.message.caller
    entry = load_score(slots, proposal_id, member)
    if entry is None:
        revert_with_reason(
            evm, f"{NAME}: {to_checksum_address(member)} did not commit to {proposal_id}"
        )
    if entry.revealed:
        revert_with_reason(
            evm, f"{NAME}: {to_checksum_address(member)} already revealed for {proposal_id}"
        )
    if score > SCORE_SCALE:
        revert_with_reason(evm, f"{NAME}: score {score} outside 0..{SCORE_SCALE}")
    if commitment(score_word(score), member, salt) != entry.commitment:
        revert_with_reason(evm, f"{NAME}: reveal does not match the commitment")
    entry.revealed, entry.score = True, score
    store_score(slots, proposal_id, member, entry)
    proposal.revealed_weight += entry.weight
    store_proposal(slots, proposal)
    emit(evm, SCORE_REVEALED, (word(proposal_id), word(member)), ["uint256"], [score])


def attest_version(evm: Evm, args: tuple[Any, ...]) -> None:
    """Vouch for the hash of a version's global weights, as a member that revealed a score for
    its proposal; the hash that gathers more than half of k becomes final."""
    task_id, version, global_hash = args
    slots = MeteredSlots(evm)
    task = _task_or_revert(evm, slots, task_id)
    if version == 0:
        revert_with_reason(evm, f"{NAME}: version 0 is the initial weights, not attested")
    record = load_version(slots, task_id, version) if version <= task.version else None
    if record is None:
        revert_with_reason(evm, f"{NAME}: task {task_id} has no version {version}")
    if global_hash == ZERO_HASH:
        revert_with_reason(evm, f"{NAME}: globalHash is the zero hash")
    if record.global_hash != ZERO_HASH:
        revert_with_reason(
            evm, f"{NAME}: version {version} of task {task_id} is final: its hash is attested"
        )
    if not attesting(evm.env.block.height, record.finalized):
        what = f"{NAME}: version {version} of task {task_id} takes attestations"
        revert_outside_window(evm, what, record.finalized + 1, attest_end(record.finalized))
    member = evm.message.caller
    entry = load_score(slots, record.proposal_id, member)
    if entry is None or not entry.revealed:
        revert_with_reason(
            evm,
            f"{NAME}: {to_checksum_address(member)} revealed no score for proposal"
            f" {record.proposal_id}",
        )
    if entry.attested:
        revert_with_reason(
            evm,
            f"{NAME}: {to_checksum_address(member)} already attested version {version}"
            f" of task {task_id}",
        )
    entry.attested = True
    store_score(slots, record.proposal_id, member, entry)
    tally_at = attestation_slot(record.proposal_id, global_hash)
    tally = slots.load(tally_at) + entry.weight
    slots.store(tally_at, tally)
    emit(
        evm,
        ATTESTED,
        (word(task_id), word(version), word(member)),
        ATTESTED_DATA,
        [global_hash, entry.weight],
    )
    if reaches_quorum(tally, task.k):
        store_global_hash(slots, task_id, version, global_hash)
        emit(evm, VERSION_ATTESTED, (word(task_id), word(version)), ["bytes32"], [global_hash])


def get_task(evm: Evm, args: tuple[Any, ...]) -> None:
    """The task's parameters, its current version and how many proposals it has had."""
    (task_id,) = args
    task = _task_or_revert(evm, MeteredSlots(evm), task_id)
    evm.output = encode_values(
        GET_TASK_TYPES,
        [
            "0x" + task.creator.hex(),
            task.model,
            task.initial_weights,
            task.initial_size,
            task.version,
            task.window,
            task.threshold,
            task.staleness,
            task.k,
            task.proposals,
        ],
    )


def get_version(evm: Evm, args: tuple[Any, ...]) -> None:
    """A version of the task: its proposal, score, α, weights hashes and when it was made.
    Version 0 is the initial weights: its global hash and size, zeros elsewhere."""
    task_id, version = args
    slots = MeteredSlots(evm)
    task = _task_or_revert(evm, slots, task_id)
    if version > task.version:
        revert_with_reason(evm, f"{NAME}: task {task_id} has no version {version}")
    if version == 0:
        values: list[Any] = [0, "0x" + bytes(20).hex(), 0, 0, ZERO_HASH, task.initial_size]
        values += [task.initial_weights, 0]
    else:
        record = load_version(slots, task_id, version)
        assert record is not None  # every version up to the current one exists
        proposal = load_proposal(slots, record.proposal_id)
        assert proposal is not None  # a version's proposal exists
        values = [
            record.proposal_id,
            "0x" + proposal.proposer.hex(),
            record.score,
            record.alpha,
            proposal.weights_hash,
            proposal.size,
            record.global_hash,
            record.finalized,
        ]
    evm.output = encode_values(GET_VERSION_TYPES, values)


def get_proposal(evm: Evm, args: tuple[Any, ...]) -> None:
    """The proposal's fields, its windows, and its scoring so far (or its verdict)."""
    (proposal_id,) = args
    slots = MeteredSlots(evm)
    proposal = _proposal_or_revert(evm, slots, proposal_id)
    params = _inference_params(evm)
    commit_blocks, reveal_blocks = params.load(COMMIT_BLOCKS_SLOT), params.load(REVEAL_BLOCKS_SLOT)
    evm.output = encode_values(
        GET_PROPOSAL_TYPES,
        [
            proposal.task_id,
            "0x" + proposal.proposer.hex(),
            proposal.base_version,
            proposal.weights_hash,
            proposal.size,
            int(proposal.status),
            proposal.included,
            commit_end(proposal.included, commit_blocks),
            deadline(proposal.included, commit_blocks, reveal_blocks),
            proposal.score,
            proposal.members,
            proposal.revealed_weight,
        ],
    )


FUNCTIONS = (
    Function("createTask(string,bytes32,uint256,uint256,uint256,uint256,uint256)", create_task),
    Function("propose(uint256,uint256,bytes32,uint256)", propose),
    Function("commitScore(uint256,bytes32,bytes)", commit_score),
    Function("revealScore(uint256,uint256,bytes32)", reveal_score),
    Function("attestVersion(uint256,uint256,bytes32)", attest_version),
    Function("getTask(uint256)", get_task, mutates=False),
    Function("getVersion(uint256,uint256)", get_version, mutates=False),
    Function("getProposal(uint256)", get_proposal, mutates=False),
)


def fl_registry(evm: Evm) -> None:
    """Run one call to FL_REGISTRY.

    Raises:
        OutOfGasError: not enough gas for the storage, events, verification or sortition.
        Revert: the call is refused; the reason says why.
    """
    dispatch(evm, NAME, FL_REGISTRY_ADDRESS, FUNCTIONS)


# --- finalization at block end --------------------------------------------------------------


def finalize_due(state: State, height: int) -> None:
    """End-of-block finalization of the proposals whose deadline is `height`: each expires,
    is rejected, or becomes its task's next version (brainchain.fl.verdict);
    its members' bonds are released, and those that committed but never revealed lose the
    penalty, as silent inference members do (vm/precompiles/bonds.py)."""
    slots = StateSlots(state, FL_REGISTRY_ADDRESS)
    done, (last_id, _, _) = slots.load(FINALIZED_UPTO_SLOT), load_counter(slots)
    if done == last_id:
        return
    inference = StateSlots(state)
    params = load_params(inference)  # INFERENCE's windows; it also holds the bonds
    # Ids grow with the height of inclusion, so deadlines do too: the proposals due now are the
    # next ones in id order, all included at height - C - R (at most maxRequestsPerBlock).
    for proposal_id in range(done + 1, last_id + 1):
        proposal = load_proposal(slots, proposal_id)
        assert proposal is not None  # every id up to the last exists
        if deadline(proposal.included, params.commit_blocks, params.reveal_blocks) > height:
            break
        _finalize(state, slots, inference, proposal, height)
        slots.store(FINALIZED_UPTO_SLOT, proposal_id)


def _finalize(
    state: State, slots: Slots, inference: Slots, proposal: Proposal, height: int
) -> None:
    """Weigh the revealed scores; settle the members' bonds; merge an accepted proposal as its
    task's next version."""
    task = load_task(slots, proposal.task_id)
    assert task is not None  # every proposal's task exists
    revealed: list[tuple[int, int]] = []
    for member in load_members(slots, proposal):
        entry = load_score(slots, proposal.proposal_id, member)
        assert entry is not None  # every member has a commit
        release(inference, member)
        if entry.revealed:
            revealed.append((entry.score, entry.weight))
        else:
            penalise(state, inference, member)
    proposal.status, proposal.score = verdict(revealed, task.k, task.threshold)
    store_proposal(slots, proposal)
    if proposal.status is not ProposalStatus.ACCEPTED:
        return
    task.version += 1
    window = [
        _version_score(slots, task.task_id, v)
        for v in range(max(1, task.version - task.window + 1), task.version)
    ]
    mixing = alpha([*window, proposal.score])
    store_version(
        slots,
        task.task_id,
        task.version,
        Version(proposal.proposal_id, proposal.score, mixing, height),
    )
    store_task(slots, task)


def _version_score(slots: Slots, task_id: int, version: int) -> int:
    record = load_version(slots, task_id, version)
    assert record is not None  # every version up to the current one exists
    return record.score
