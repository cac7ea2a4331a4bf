"""INFERENCE (0x…0b03): two-phase inference requests, committed and revealed by VRF committees
(DESIGN.md §5; BRAIN, Park, Lee, Moon 2024, §IV; the rules in brainchain/inference.py).

    function request(string model, bytes input, uint256 maxTokens, uint256 callbackGas)
        external payable returns (uint256 id)
    function commit(uint256 id, bytes32 commitment, bytes proof) external
    function reveal(uint256 id, bytes output, bytes32 salt) external
    function deposit() external payable
    function withdraw(uint256 amount) external
    function getRequest(uint256 id) external view returns (address requester, bytes32 model,
        uint256 status, uint256 includedAt, uint256 commitEnd, uint256 deadline,
        uint256 maxTokens, uint256 fee, uint256 committedWeight, uint256 members)
    function getResult(uint256 id) external view returns (uint256 status, bytes output)
    function bondOf(address validator) external view returns (uint256 bond, uint256 pending)

A request does no model work: it escrows the fee and the callback deposit, records the request
and announces it (InferenceRequested, with the input, which the state keeps only in that log).
Members prove their committee weight with the VRF proof over keccak(id ‖ hash of the request's
block) when they commit; reveals open once commits close; the reveal that brings one output's
weight past half the expected committee weight finalizes the request and runs the requester's
`onInferenceResult(uint256 id, bytes output)` with the gas the request named. That gas comes
out of the finalizing reveal's own gas, and the request's callback deposit pays the revealer
back at the reveal's gas price; a failing callback does not undo the finalization
(InferenceCallback says whether it succeeded).

Each rejected call ends in a REVERT with a Solidity `Error(string)` reason and changes nothing.
Storage reads and writes are metered as SLOAD and SSTORE are (vm/precompiles/inference_state.py),
events as LOG is, the VRF verification and sortition as COMMITTEE charges them.

Settlement happens at the end of each request's deadline block (`settle_due`, called by
vm/transition.py), not by an expire transaction: it needs no validator to be alive or honest,
it is deterministic, and its work is bounded because `request` refuses more than
maxRequestsPerBlock requests due at one height and `commit` more than maxMembers members.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brainchain.crypto.address import to_checksum_address
from brainchain.crypto.keccak import keccak256
from brainchain.inference import (
    Status,
    commit_end,
    commitment,
    committing,
    deadline,
    fee_shares,
    reaches_quorum,
    request_seed,
    revealing,
)
from brainchain.state.state import (
    State,
    get_account,
    get_code,
    move_ether,
)
from brainchain.types.receipt import Log
from vm.abi import decode_values, encode_values, selector
from vm.frame import Evm, Message
from vm.gas import charge_gas
from vm.instructions.block import ancestor_hash
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.bonds import lock_penalty, penalise, release
from vm.precompiles.committee import sortition_weight
from vm.precompiles.costs import GAS_COMMITTEE
from vm.precompiles.errors import revert_outside_window, revert_with_reason
from vm.precompiles.inference_state import (
    COMMIT_BLOCKS_SLOT,
    COMMITTEE_SIZE_SLOT,
    MAX_CALLBACK_GAS_SLOT,
    MAX_MEMBERS_SLOT,
    MAX_REQUESTS_PER_BLOCK_SLOT,
    PENALTY_SLOT,
    REQ_OUTPUT,
    REQ_RESULT,
    REVEAL_BLOCKS_SLOT,
    SETTLED_UPTO_SLOT,
    Commit,
    MeteredSlots,
    Request,
    Slots,
    StateSlots,
    add_member,
    load_bond,
    load_bytes,
    load_commit,
    load_counter,
    load_members,
    load_model,
    load_request,
    model_key,
    request_slot,
    store_bond,
    store_bytes,
    store_commit,
    store_counter,
    store_request,
    tally_slot,
)
from vm.precompiles.layout import word
from vm.precompiles.solidity import Function, dispatch, emit, event_topic

NAME = "INFERENCE"
CALLBACK = "onInferenceResult(uint256,bytes)"
# The callback deposit is priced at twice the base fee of the request's block: EIP-1559 lets
# the base fee rise 12.5% a block, and the revealer is repaid at most the deposit.
CALLBACK_PRICE_FACTOR = 2
# Gas a finalizing reveal must still hold besides the callback's: the callback event, the
# repayment and the frame's return.
CALLBACK_RESERVE = 10_000
STACK_DEPTH_LIMIT = 1024

REQUESTED = "InferenceRequested(uint256,address,bytes32,bytes,uint256,uint256,uint256,uint256)"
# getRequest's answer: requester, model, status, includedAt, commitEnd, deadline, maxTokens,
# fee, committedWeight, members
GET_REQUEST_TYPES = ["address", "bytes32", *["uint256"] * 8]
REQUESTED_DATA = ["bytes", "uint256", "uint256", "uint256", "uint256"]  # after the 3 topics
COMMITTED = "InferenceCommitted(uint256,address,uint256)"
REVEALED = "InferenceRevealed(uint256,address,bytes32)"
FINALIZED = "InferenceFinalized(uint256,bytes32,bytes,uint256)"
CALLED_BACK = "InferenceCallback(uint256,bool,uint256)"
BOND_CHANGED = "BondChanged(address,uint256)"


@dataclass(frozen=True, slots=True)
class Requested:
    """An InferenceRequested event, decoded: what a committee needs to run the request."""

    request_id: int
    requester: bytes
    model_key: bytes
    prompt: bytes
    max_tokens: int
    fee: int
    callback_gas: int
    deadline: int


def decode_requested(log: Log) -> Requested | None:
    """The request a log announces, or None for any other log."""
    if (
        log.address != INFERENCE_ADDRESS
        or not log.topics
        or log.topics[0] != event_topic(REQUESTED)
    ):
        return None
    prompt, max_tokens, fee, callback_gas, due = decode_values(REQUESTED_DATA, log.data)
    return Requested(
        request_id=int.from_bytes(log.topics[1], "big"),
        requester=log.topics[2][12:],
        model_key=log.topics[3],
        prompt=prompt,
        max_tokens=max_tokens,
        fee=fee,
        callback_gas=callback_gas,
        deadline=due,
    )


def _request_or_revert(evm: Evm, slots: Slots, request_id: int) -> Request:
    request = load_request(slots, request_id)
    if request is None:
        revert_with_reason(evm, f"{NAME}: no request {request_id}")
    return request


def request(evm: Evm, args: tuple[Any, ...]) -> None:
    """Escrow the fee, record the request, announce it; return its id."""
    model_id, prompt, max_tokens, callback_gas = args
    slots = MeteredSlots(evm)
    model = load_model(slots, model_key(model_id))
    if model is None:
        revert_with_reason(evm, f"{NAME}: unknown model {model_id!r}")
    if not prompt:
        revert_with_reason(evm, f"{NAME}: empty input")
    if len(prompt) > model.max_input_bytes:
        revert_with_reason(
            evm, f"{NAME}: input of {len(prompt)} bytes exceeds {model.max_input_bytes}"
        )
    if not 0 < max_tokens <= model.max_tokens:
        revert_with_reason(
            evm, f"{NAME}: maxTokens {max_tokens} outside 1..{model.max_tokens} for {model_id}"
        )
    max_callback = slots.load(MAX_CALLBACK_GAS_SLOT)
    if callback_gas > max_callback:
        revert_with_reason(evm, f"{NAME}: callbackGas {callback_gas} exceeds {max_callback}")
    block = evm.env.block
    callback_deposit = callback_gas * block.base_fee * CALLBACK_PRICE_FACTOR
    price = model.price_per_token * max_tokens
    value = evm.message.value
    if value < price + callback_deposit:
        revert_with_reason(
            evm,
            f"{NAME}: fee {value} below {price + callback_deposit} (price {price} for"
            f" {max_tokens} tokens + callback deposit {callback_deposit})",
        )
    commit_blocks, reveal_blocks = slots.load(COMMIT_BLOCKS_SLOT), slots.load(REVEAL_BLOCKS_SLOT)
    due = deadline(block.height, commit_blocks, reveal_blocks)
    limit = slots.load(MAX_REQUESTS_PER_BLOCK_SLOT)
    last_id, last_height, in_block = load_counter(slots)
    in_block = in_block if last_height == block.height else 0
    if in_block >= limit:
        revert_with_reason(
            evm, f"{NAME}: {limit} requests already in this block; retry in the next"
        )
    request_id = last_id + 1
    store_counter(slots, request_id, block.height, in_block + 1)
    record = Request(
        request_id=request_id,
        requester=evm.message.caller,
        max_tokens=max_tokens,
        included=block.height,
        model_key=model_key(model_id),
        fee=value - callback_deposit,
        deposit=callback_deposit,
        callback_gas=callback_gas,
        status=Status.PENDING,
        finalized=0,
        committed_weight=0,
    )
    store_request(slots, record, new=True)
    emit(
        evm,
        REQUESTED,
        (word(request_id), word(record.requester), record.model_key),
        REQUESTED_DATA,
        [prompt, max_tokens, record.fee, callback_gas, due],
    )
    evm.output = encode_values(["uint256"], [request_id])


def commit(evm: Evm, args: tuple[Any, ...]) -> None:
    """Record a committee member's commitment, its weight proven by its VRF proof."""
    request_id, hidden, proof = args
    slots = MeteredSlots(evm)
    record = _request_or_revert(evm, slots, request_id)
    commit_blocks = slots.load(COMMIT_BLOCKS_SLOT)
    if not committing(evm.env.block.height, record.included, commit_blocks):
        end = commit_end(record.included, commit_blocks)
        what = f"{NAME}: request {request_id} takes commits"
        revert_outside_window(evm, what, record.included + 1, end)
    member = evm.message.caller
    if hidden == bytes(32):
        revert_with_reason(evm, f"{NAME}: the zero commitment is reserved for no commitment")
    if load_commit(slots, request_id, member) is not None:
        revert_with_reason(
            evm, f"{NAME}: {to_checksum_address(member)} already committed to {request_id}"
        )
    block_hash = ancestor_hash(evm.env, record.included)
    if block_hash is None:
        revert_with_reason(evm, f"{NAME}: the hash of block {record.included} is out of reach")
    seed = request_seed(request_id, block_hash)
    charge_gas(evm, GAS_COMMITTEE)
    weight = sortition_weight(evm, NAME, member, seed, proof, slots.load(COMMITTEE_SIZE_SLOT))
    if weight == 0:
        revert_with_reason(
            evm, f"{NAME}: {to_checksum_address(member)} is not in the committee of {request_id}"
        )
    lock_penalty(evm, NAME, slots, member)
    max_members = slots.load(MAX_MEMBERS_SLOT)
    if record.members >= max_members:
        revert_with_reason(evm, f"{NAME}: request {request_id} has its {max_members} members")
    store_commit(slots, request_id, member, Commit(hidden, weight, False, bytes(32)))
    add_member(slots, record, member)
    record.committed_weight += weight
    store_request(slots, record)
    emit(evm, COMMITTED, (word(request_id), word(member)), ["uint256"], [weight])


def reveal(evm: Evm, args: tuple[Any, ...]) -> None:
    """Open a commitment; finalize the request when one output's weight reaches quorum."""
    request_id, output, salt = args
    slots = MeteredSlots(evm)
    record = _request_or_revert(evm, slots, request_id)
    commit_blocks, reveal_blocks = slots.load(COMMIT_BLOCKS_SLOT), slots.load(REVEAL_BLOCKS_SLOT)
    if not revealing(evm.env.block.height, record.included, commit_blocks, reveal_blocks):
        opens = commit_end(record.included, commit_blocks) + 1
        closes = deadline(record.included, commit_blocks, reveal_blocks)
        revert_outside_window(evm, f"{NAME}: request {request_id} takes reveals", opens, closes)
    member = evm.message.caller
    entry = load_commit(slots, request_id, member)
    if entry is None:
        revert_with_reason(
            evm, f"{NAME}: {to_checksum_address(member)} did not commit to {request_id}"
        )
    if entry.revealed:
        revert_with_reason(
            evm, f"{NAME}: {to_checksum_address(member)} already revealed for {request_id}"
        )
    if len(output) > record.max_tokens:
        revert_with_reason(evm, f"{NAME}: output longer than {record.max_tokens} tokens")
    if commitment(output, member, salt) != entry.commitment:
        revert_with_reason(evm, f"{NAME}: reveal does not match the commitment")
    output_hash = keccak256(output)
    entry.revealed, entry.output_hash = True, output_hash
    store_commit(slots, request_id, member, entry)
    tally = slots.load(tally_slot(request_id, output_hash)) + entry.weight
    slots.store(tally_slot(request_id, output_hash), tally)
    emit(evm, REVEALED, (word(request_id), word(member)), ["bytes32"], [output_hash])
    expected = slots.load(COMMITTEE_SIZE_SLOT)
    if record.status is Status.PENDING and reaches_quorum(tally, expected):
        _finalize(evm, slots, record, output, output_hash, tally)


def _finalize(
    evm: Evm, slots: Slots, record: Request, output: bytes, output_hash: bytes, weight: int
) -> None:
    record.status, record.finalized = Status.FINALIZED, evm.env.block.height
    base = request_slot(record.request_id)
    slots.store(base + REQ_RESULT, int.from_bytes(output_hash, "big"))
    store_bytes(slots, base + REQ_OUTPUT, output)
    emit(
        evm,
        FINALIZED,
        (word(record.request_id),),
        ["bytes32", "bytes", "uint256"],
        [output_hash, output, weight],
    )
    _call_back(evm, record, output)
    store_request(slots, record)


def _call_back(evm: Evm, record: Request, output: bytes) -> None:
    """Run the requester's onInferenceResult with the request's callback gas, from this frame's
    gas; repay the revealer from the callback deposit at its gas price."""
    from vm.instructions.system import incorporate_child_on_error, incorporate_child_on_success
    from vm.interpreter import process_message  # the interpreter imports the precompile table

    state = evm.env.state
    code = get_code(state, get_account(state, record.requester).code_hash)
    if not code or record.callback_gas == 0:
        return
    if evm.gas_left < record.callback_gas + CALLBACK_RESERVE:
        revert_with_reason(
            evm,
            f"{NAME}: this reveal finalizes {record.request_id} and needs"
            f" {record.callback_gas + CALLBACK_RESERVE} gas for the callback, has {evm.gas_left}",
        )
    charge_gas(evm, record.callback_gas)
    succeeded = False
    used = record.callback_gas
    if evm.message.depth + 1 <= STACK_DEPTH_LIMIT:
        child = process_message(
            Message(
                caller=INFERENCE_ADDRESS,
                target=record.requester,
                current_target=record.requester,
                gas=record.callback_gas,
                value=0,
                data=selector(CALLBACK)
                + encode_values(["uint256", "bytes"], [record.request_id, output]),
                code_address=record.requester,
                code=code,
                depth=evm.message.depth + 1,
                should_transfer_value=False,
                is_static=False,
                accessed_addresses=evm.accessed_addresses,
                accessed_storage_keys=evm.accessed_storage_keys,
                parent_evm=evm,
            ),
            evm.env,
        )
        succeeded = child.error is None
        used = record.callback_gas - child.gas_left
        if succeeded:
            incorporate_child_on_success(evm, child)
        else:
            incorporate_child_on_error(evm, child)
    else:
        evm.gas_left += record.callback_gas
        used = 0
    repay = min(record.deposit, used * evm.env.tx.gas_price)
    if repay:
        move_ether(state, INFERENCE_ADDRESS, evm.env.tx.origin, repay)
        record.deposit -= repay
    emit(evm, CALLED_BACK, (word(record.request_id),), ["bool", "uint256"], [succeeded, used])


def deposit(evm: Evm, args: tuple[Any, ...]) -> None:
    """Add the call's value to the caller's inference bond."""
    slots = MeteredSlots(evm)
    member = evm.message.caller
    bond, pending = load_bond(slots, member)
    bond += evm.message.value
    store_bond(slots, member, bond, pending)
    emit(evm, BOND_CHANGED, (word(member),), ["uint256"], [bond])


def withdraw(evm: Evm, args: tuple[Any, ...]) -> None:
    """Pay part of the caller's bond back, keeping the penalties of its pending commits."""
    (amount,) = args
    slots = MeteredSlots(evm)
    member = evm.message.caller
    bond, pending = load_bond(slots, member)
    locked = pending * slots.load(PENALTY_SLOT)
    if amount > bond - locked:
        revert_with_reason(
            evm,
            f"{NAME}: can withdraw {max(0, bond - locked)}; {locked} is held for {pending} commits",
        )
    store_bond(slots, member, bond - amount, pending)
    move_ether(evm.env.state, INFERENCE_ADDRESS, member, amount)
    emit(evm, BOND_CHANGED, (word(member),), ["uint256"], [bond - amount])


def get_request(evm: Evm, args: tuple[Any, ...]) -> None:
    """The request's fields, its windows and its committed weight so far."""
    (request_id,) = args
    slots = MeteredSlots(evm)
    record = _request_or_revert(evm, slots, request_id)
    commit_blocks, reveal_blocks = slots.load(COMMIT_BLOCKS_SLOT), slots.load(REVEAL_BLOCKS_SLOT)
    evm.output = encode_values(
        GET_REQUEST_TYPES,
        [
            "0x" + record.requester.hex(),
            record.model_key,
            int(record.status),
            record.included,
            commit_end(record.included, commit_blocks),
            deadline(record.included, commit_blocks, reveal_blocks),
            record.max_tokens,
            record.fee,
            record.committed_weight,
            record.members,
        ],
    )


def get_result(evm: Evm, args: tuple[Any, ...]) -> None:
    """The request's status and, once finalized, its output."""
    (request_id,) = args
    slots = MeteredSlots(evm)
    record = _request_or_revert(evm, slots, request_id)
    output = b""
    if record.status in (Status.FINALIZED, Status.SETTLED):
        output = load_bytes(slots, request_slot(request_id) + REQ_OUTPUT)
    evm.output = encode_values(["uint256", "bytes"], [int(record.status), output])


def bond_of(evm: Evm, args: tuple[Any, ...]) -> None:
    """A validator's bond and how many of its commits await settlement."""
    (validator,) = args
    slots = MeteredSlots(evm)
    member = bytes.fromhex(validator[2:])
    evm.output = encode_values(["uint256", "uint256"], list(load_bond(slots, member)))


FUNCTIONS = (
    Function("request(string,bytes,uint256,uint256)", request, payable=True),
    Function("commit(uint256,bytes32,bytes)", commit),
    Function("reveal(uint256,bytes,bytes32)", reveal),
    Function("deposit()", deposit, payable=True),
    Function("withdraw(uint256)", withdraw),
    Function("getRequest(uint256)", get_request, mutates=False),
    Function("getResult(uint256)", get_result, mutates=False),
    Function("bondOf(address)", bond_of, mutates=False),
)


def inference(evm: Evm) -> None:
    """Run one call to INFERENCE.

    Raises:
        OutOfGasError: not enough gas for the storage, events, verification or callback.
        Revert: the call is refused; the reason says why.
    """
    dispatch(evm, NAME, INFERENCE_ADDRESS, FUNCTIONS)


def settle_due(state: State, height: int) -> None:
    """End-of-block settlement of the requests whose deadline is `height`.

    A finalized request's fee goes to the members that revealed its output, by weight; members
    that committed and then revealed another output or nothing lose the penalty from their
    bond. An unfinalized request is refunded whole, and only its silent members are penalised:
    without quorum no output is known to be wrong.
    """
    slots = StateSlots(state)
    commit_blocks, reveal_blocks = slots.load(COMMIT_BLOCKS_SLOT), slots.load(REVEAL_BLOCKS_SLOT)
    settled, (last_id, _, _) = slots.load(SETTLED_UPTO_SLOT), load_counter(slots)
    # Ids grow with the height of inclusion, so deadlines do too: the requests due now are the
    # next ones in id order, all included at height - C - R (at most maxRequestsPerBlock).
    for request_id in range(settled + 1, last_id + 1):
        record = load_request(slots, request_id)
        assert record is not None  # every id up to the last exists
        if deadline(record.included, commit_blocks, reveal_blocks) > height:
            break
        _settle(state, slots, record)
        slots.store(SETTLED_UPTO_SLOT, request_id)


def _settle(state: State, slots: Slots, record: Request) -> None:
    """Pay the agreeing members, penalise the faulty ones, refund the requester."""
    request_id = record.request_id
    finalized = record.status is Status.FINALIZED
    result = slots.load(request_slot(request_id) + REQ_RESULT).to_bytes(32, "big")
    agreeing: list[tuple[bytes, int]] = []
    for member in load_members(slots, record):
        entry = load_commit(slots, request_id, member)
        assert entry is not None  # every member has a commit
        release(slots, member)
        if finalized and entry.revealed and entry.output_hash == result:
            agreeing.append((member, entry.weight))
        elif finalized or not entry.revealed:
            penalise(state, slots, member)
    refund = record.deposit
    if finalized:
        shares = fee_shares(record.fee, [weight for _, weight in agreeing])
        for (member, _), share in zip(agreeing, shares, strict=True):
            if share:
                move_ether(state, INFERENCE_ADDRESS, member, share)
        refund += record.fee - sum(shares)
        record.status = Status.SETTLED
    else:
        refund += record.fee
        record.status = Status.EXPIRED
    if refund:
        move_ether(state, INFERENCE_ADDRESS, record.requester, refund)
    record.fee = record.deposit = 0
    store_request(slots, record)
