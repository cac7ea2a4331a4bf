"""The state transition function: apply a transaction, build a block, apply a block.

Mirrors execution-specs `cancun/fork.py`: `apply_block` validates the header, runs every
transaction, then compares every root; `apply_transaction` keeps `process_transaction`'s order
(checks, buy gas, nonce, message, refund, pay proposer, delete touched empty accounts, receipt).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from brainchain.crypto.keccak import EMPTY_KECCAK, keccak256
from brainchain.errors import (
    FeeCapTooLow,
    GasLimitExceeded,
    InsufficientFunds,
    InvalidBlock,
    InvalidTransaction,
    InvalidVrf,
    NonceTooHigh,
    NonceTooLow,
    SenderNotEOA,
    WrongChainId,
)
from brainchain.randomness import randomness_from_proof, verify_randomness
from brainchain.state.account import Account
from brainchain.state.state import (
    State,
    clear_transient_storage,
    commit_state,
    destroy_account,
    destroy_touched_empty_accounts,
    get_account,
    get_account_optional,
    get_code,
    set_account,
    set_account_balance,
)
from brainchain.trie.mpt import ordered_trie_root
from brainchain.types.block import Block, Header, evidence_root
from brainchain.types.receipt import Receipt, combine_blooms, encode_receipt, logs_bloom
from brainchain.types.transaction import (
    Transaction,
    effective_gas_price,
    intrinsic_gas,
    validate_transaction,
)
from vm.environment import BlockEnvironment, ModelRunner
from vm.fees import calculate_base_fee
from vm.frame import Environment, Message, TransactionEnvironment
from vm.gas import MAX_REFUND_QUOTIENT
from vm.instructions.system import compute_contract_address
from vm.interpreter import process_message_call
from vm.precompiles.fl_registry import finalize_due
from vm.precompiles.inference import settle_due
from vm.precompiles.mapping import BRAIN_PRECOMPILES, PRECOMPILES


def check_transaction(
    state: State, env: BlockEnvironment, tx: Transaction, gas_available: int
) -> Account:
    """Check `tx` against the block and its sender's account; return that account.

    spec: cancun/fork.py check_transaction (plus the nonce/balance/EOA checks of
    process_transaction, done up front so a rejected transaction changes nothing).

    Raises:
        InvalidTransaction: the subclass naming the first rule the transaction breaks.
    """
    # Pre-EIP-155 transactions are valid in blocks; the node's RPC refuses them (geth's
    # default), so they only arrive from elsewhere.
    if tx.chain_id is not None and tx.chain_id != env.chain_id:
        raise WrongChainId(env.chain_id, tx.chain_id)
    validate_transaction(tx)
    if tx.gas > gas_available:
        raise GasLimitExceeded(tx.gas, gas_available)
    if tx.max_fee_per_gas < env.base_fee:
        raise FeeCapTooLow(tx.max_fee_per_gas, env.base_fee)
    sender = get_account(state, tx.sender)
    if tx.nonce < sender.nonce:
        raise NonceTooLow(sender.nonce, tx.nonce)
    if tx.nonce > sender.nonce:
        raise NonceTooHigh(sender.nonce, tx.nonce)
    if sender.code_hash != EMPTY_KECCAK:
        raise SenderNotEOA(f"sender {tx.sender.hex()} has code (EIP-3607)")
    max_cost = tx.gas * tx.max_fee_per_gas + tx.value
    if sender.balance < max_cost:
        raise InsufficientFunds(sender.balance, max_cost)
    return sender


@dataclass(frozen=True, slots=True)
class TransactionResult:
    """A receipt plus what the receipt does not keep: the return data and the failure."""

    receipt: Receipt
    output: bytes
    error: Exception | None


def apply_transaction(
    state: State,
    env: BlockEnvironment,
    tx: Transaction,
    cumulative_gas_used: int,
    block_hashes: list[bytes] | None = None,
) -> Receipt:
    """Execute `tx` and return its receipt (see `run_transaction`).

    Raises:
        InvalidTransaction: the transaction cannot be included; `state` is unchanged.
    """
    return run_transaction(state, env, tx, cumulative_gas_used, block_hashes).receipt


def run_transaction(
    state: State,
    env: BlockEnvironment,
    tx: Transaction,
    cumulative_gas_used: int,
    block_hashes: list[bytes] | None = None,
) -> TransactionResult:
    """Execute `tx` on `state` within the block's remaining gas.

    spec: cancun/fork.py process_transaction.

    Raises:
        InvalidTransaction: the transaction cannot be included; `state` is unchanged.
    """
    sender = check_transaction(state, env, tx, env.gas_limit - cumulative_gas_used)
    price = effective_gas_price(tx, env.base_fee)

    # Buy gas and use the nonce.
    set_account(
        state,
        tx.sender,
        Account(
            sender.nonce + 1,
            sender.balance - tx.gas * price,
            sender.storage_root,
            sender.code_hash,
        ),
    )
    tx_env = TransactionEnvironment(
        origin=tx.sender,
        gas_price=price,
        gas=tx.gas,
        access_list_addresses={address for address, _ in tx.access_list},
        access_list_storage_keys={
            (address, int.from_bytes(key, "big"))
            for address, keys in tx.access_list
            for key in keys
        },
    )
    evm_env = Environment(state, env, tx_env, block_hashes or [])
    message = prepare_message(tx, evm_env, tx.gas - intrinsic_gas(tx))
    output = process_message_call(message, evm_env)

    # Refund (capped, EIP-3529); pay the proposer its tip; the base fee is burned (EIP-1559).
    gas_used = tx.gas - output.gas_left
    gas_refund = min(gas_used // MAX_REFUND_QUOTIENT, output.refund_counter)
    total_gas_used = gas_used - gas_refund
    refund_wei = (output.gas_left + gas_refund) * price
    if refund_wei:
        set_account_balance(state, tx.sender, get_account(state, tx.sender).balance + refund_wei)
    tip = total_gas_used * (price - env.base_fee)
    if tip:
        set_account_balance(state, env.proposer, get_account(state, env.proposer).balance + tip)
    else:
        proposer = get_account_optional(state, env.proposer)
        if proposer is not None and proposer.is_empty:
            destroy_account(state, env.proposer)
    for address in sorted(output.accounts_to_delete):
        destroy_account(state, address)
    destroy_touched_empty_accounts(state, output.touched_accounts)
    clear_transient_storage(state)

    logs = output.logs
    contract_address = message.current_target if tx.to is None and output.error is None else None
    receipt = Receipt(
        tx_type=tx.tx_type,
        succeeded=output.error is None,
        cumulative_gas_used=cumulative_gas_used + total_gas_used,
        logs_bloom=logs_bloom(logs),
        logs=logs,
        gas_used=total_gas_used,
        effective_gas_price=price,
        contract_address=contract_address,
    )
    return TransactionResult(receipt, output.output, output.error)


def prepare_message(tx: Transaction, env: Environment, gas: int) -> Message:
    """The top-level message of a transaction (spec: cancun/utils/message.py prepare_message)."""
    state = env.state
    if tx.to is None:
        current_target = compute_contract_address(tx.sender, tx.nonce)
        data, code, code_address = b"", tx.data, None
    else:
        current_target = tx.to
        data = tx.data
        code = get_code(state, get_account(state, tx.to).code_hash)
        code_address = tx.to
    # EIP-2929: precompiles start warm; BRAIN's too, where the chain has them.
    native = BRAIN_PRECOMPILES if env.block.brain_precompiles else ()
    accessed = {current_target, tx.sender, env.block.proposer, *PRECOMPILES, *native}
    accessed.update(env.tx.access_list_addresses)
    return Message(
        caller=tx.sender,
        target=tx.to,
        current_target=current_target,
        gas=gas,
        value=tx.value,
        data=data,
        code_address=code_address,
        code=code,
        depth=0,
        should_transfer_value=True,
        is_static=False,
        accessed_addresses=accessed,
        accessed_storage_keys=set(env.tx.access_list_storage_keys),
    )


@dataclass(slots=True)
class BuiltBlock:
    """A sealed block, its receipts, what to persist, and the candidates it left out."""

    block: Block
    receipts: tuple[Receipt, ...]
    nodes: dict[bytes, bytes]
    code: dict[bytes, bytes]
    rejected: list[tuple[Transaction, InvalidTransaction]] = field(default_factory=list)


def child_environment(
    parent: Header,
    *,
    proposer: bytes,
    timestamp: int,
    randomness: bytes,
    model_runner: ModelRunner | None = None,
) -> BlockEnvironment:
    """The environment of the block after `parent` (gas limit kept, base fee per EIP-1559);
    `randomness` is its PREVRANDAO, which only its proposer's VRF proof determines
    (brainchain/randomness.py); `model_runner` is the node's executor, for INFERENCE_SYNC."""
    return BlockEnvironment(
        chain_id=parent.chain_id,
        height=parent.height + 1,
        timestamp=max(timestamp, parent.timestamp),
        proposer=proposer,
        gas_limit=parent.gas_limit,
        base_fee=calculate_base_fee(parent.gas_limit, parent.gas_used, parent.base_fee),
        randomness=randomness,
        model_runner=model_runner,
    )


def _execute(
    state: State,
    env: BlockEnvironment,
    txs: Iterable[Transaction],
    *,
    skip_invalid: bool,
    block_hashes: list[bytes],
) -> tuple[list[Transaction], list[Receipt], list[tuple[Transaction, InvalidTransaction]]]:
    included: list[Transaction] = []
    receipts: list[Receipt] = []
    rejected: list[tuple[Transaction, InvalidTransaction]] = []
    gas_used = 0
    for index, tx in enumerate(txs):
        try:
            receipt = apply_transaction(state, env, tx, gas_used, block_hashes)
        except InvalidTransaction as exc:
            if not skip_invalid:
                raise InvalidBlock(
                    f"transaction {index} ({tx.hash.hex()}) is invalid: {exc}"
                ) from exc
            rejected.append((tx, exc))
            continue
        gas_used = receipt.cumulative_gas_used
        included.append(tx)
        receipts.append(receipt)
    if env.brain_precompiles:
        settle_due(state, env.height)  # inference requests whose deadline is this block
        finalize_due(state, env.height)  # FL proposals whose deadline is this block
    return included, receipts, rejected


def _seal(
    state: State,
    env: BlockEnvironment,
    parent: Header,
    txs: list[Transaction],
    receipts: list[Receipt],
    *,
    validators_hash: bytes,
    randomness_proof: bytes,
    last_commit: bytes,
    evidence: tuple[bytes, ...],
) -> BuiltBlock:
    root, nodes, code = commit_state(state)
    header = Header(
        chain_id=env.chain_id,
        height=env.height,
        timestamp=env.timestamp,
        parent_hash=parent.hash,
        proposer=env.proposer,
        transactions_root=ordered_trie_root([tx.raw for tx in txs]),
        state_root=root,
        receipts_root=ordered_trie_root([encode_receipt(r) for r in receipts]),
        logs_bloom=combine_blooms([r.logs_bloom for r in receipts]),
        gas_used=receipts[-1].cumulative_gas_used if receipts else 0,
        gas_limit=env.gas_limit,
        base_fee=env.base_fee,
        last_commit_hash=keccak256(last_commit),
        validators_hash=validators_hash,
        randomness=env.randomness,
        randomness_proof=randomness_proof,
        evidence_hash=evidence_root(evidence),
    )
    block = Block(header, tuple(txs), last_commit, evidence)
    return BuiltBlock(block, tuple(receipts), nodes, code)


def build_block(
    state: State,
    parent: Header,
    candidates: Iterable[Transaction],
    *,
    proposer: bytes,
    timestamp: int,
    validators_hash: bytes,
    randomness_proof: bytes,
    last_commit: bytes = b"",
    evidence: tuple[bytes, ...] = (),
    block_hashes: list[bytes] | None = None,
    model_runner: ModelRunner | None = None,
) -> BuiltBlock:
    """Propose the child of `parent`: run candidates in order, leaving out invalid ones.

    `state` must be at `parent.state_root`; afterwards it is at the new block's root.
    `block_hashes` are the hashes of up to 256 blocks ending with `parent`, oldest first.
    `randomness_proof` is the proposer's (brainchain.randomness.prove_randomness): the node
    holds the VRF key, so the block's randomness comes in as a proof, not computed here.

    Raises:
        InvalidVrfProof: the proof does not decode.
    """
    env = child_environment(
        parent,
        proposer=proposer,
        timestamp=timestamp,
        randomness=randomness_from_proof(randomness_proof),
        model_runner=model_runner,
    )
    txs, receipts, rejected = _execute(
        state, env, candidates, skip_invalid=True, block_hashes=block_hashes or []
    )
    built = _seal(
        state,
        env,
        parent,
        txs,
        receipts,
        validators_hash=validators_hash,
        randomness_proof=randomness_proof,
        last_commit=last_commit,
        evidence=evidence,
    )
    built.rejected = rejected
    return built


def _show(value: object) -> object:
    return value.hex() if isinstance(value, bytes) else value


def _expect(field_name: str, expected: object, got: object) -> None:
    if expected != got:
        raise InvalidBlock(f"{field_name}: expected {_show(expected)}, block has {_show(got)}")


def check_randomness(parent: Header, header: Header, proposer_vrf_key: bytes) -> bytes:
    """The block's randomness, once its proof verifies under the proposer's registered VRF key
    and the header carries that output (DESIGN.md §4, RFC 9381 §5.3).

    Raises:
        InvalidBlock: the proof does not verify (a wrong key, alpha or proof), or the header's
            randomness is not the proven output.
    """
    try:
        randomness = verify_randomness(proposer_vrf_key, parent, header.randomness_proof)
    except InvalidVrf as exc:
        raise InvalidBlock(f"randomness_proof: {exc}") from exc
    _expect("randomness", randomness, header.randomness)
    return randomness


def apply_block(
    state: State,
    parent: Header,
    block: Block,
    block_hashes: list[bytes] | None = None,
    model_runner: ModelRunner | None = None,
    *,
    proposer_vrf_key: bytes,
) -> BuiltBlock:
    """Validate and execute a block someone else built; every root must match.

    spec: cancun/fork.py state_transition. `state` must be at `parent.state_root`; on
    InvalidBlock it is left mid-block and must be discarded. `proposer_vrf_key` is the VRF
    public key registered for `block.header.proposer`: the caller holds the validator set.

    Raises:
        InvalidBlock: the first header field or root that disagrees, with both values.
    """
    header = block.header
    _expect("chain_id", parent.chain_id, header.chain_id)
    _expect("height", parent.height + 1, header.height)
    _expect("parent_hash", parent.hash, header.parent_hash)
    if header.timestamp < parent.timestamp:
        raise InvalidBlock(f"timestamp: {header.timestamp} is before parent's {parent.timestamp}")
    env = child_environment(
        parent,
        proposer=header.proposer,
        timestamp=header.timestamp,
        randomness=check_randomness(parent, header, proposer_vrf_key),
        model_runner=model_runner,
    )
    _expect("gas_limit", env.gas_limit, header.gas_limit)
    _expect("base_fee", env.base_fee, header.base_fee)
    txs, receipts, _ = _execute(
        state, env, block.transactions, skip_invalid=False, block_hashes=block_hashes or []
    )
    built = _seal(
        state,
        env,
        parent,
        txs,
        receipts,
        validators_hash=header.validators_hash,
        randomness_proof=header.randomness_proof,
        last_commit=block.last_commit,
        evidence=block.evidence,
    )
    for name in (
        "transactions_root",
        "receipts_root",
        "logs_bloom",
        "gas_used",
        "state_root",
        "last_commit_hash",
        "evidence_hash",
    ):
        _expect(name, getattr(built.block.header, name), getattr(header, name))
    return built
