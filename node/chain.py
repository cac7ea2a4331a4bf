"""The chain a node holds: its store, the head, the state view for reads, and the mempool.

Reads (RPC, mempool admission) go through a read-only `State` at the head's root, replaced
whenever a block commits. Building a proposal or checking someone else's runs on a scratch
`State` at the head in a worker thread and stores nothing; only the block consensus decides is
written, in one atomic batch with its commit certificate, so readers never see a half-applied
or undecided block.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from brainchain.crypto.keccak import EMPTY_KECCAK
from brainchain.errors import (
    BrainchainError,
    ExecutionFailed,
    ExecutionInterrupted,
    ExecutionReverted,
    FeeCapTooLow,
    GasLimitExceeded,
    InvalidBlock,
    InvalidTransaction,
    OversizeTransaction,
    SenderNotEOA,
    WrongChainId,
)
from brainchain.mempool.pool import Mempool
from brainchain.randomness import prove_randomness
from brainchain.state.account import Account
from brainchain.state.state import (
    State,
    get_account,
    get_code,
    get_storage,
    prove_account,
    prove_storage,
)
from brainchain.types.block import Block
from brainchain.types.receipt import Receipt
from brainchain.types.transaction import (
    TX_FEE_MARKET,
    AccessList,
    Transaction,
    decode_transaction,
    validate_transaction,
)
from genesis.block import build_genesis_block
from genesis.format import Genesis, validator_set_hash
from node.overrides import (
    NO_OVERRIDES,
    Overrides,
    apply_block_overrides,
    apply_state_overrides,
    shift_block_hashes,
)
from node.store.codec import TxLocation
from node.store.leveldb import Store
from vm.environment import BlockEnvironment, ModelRunner
from vm.exceptions import Revert
from vm.fees import calculate_base_fee
from vm.instructions.block import BLOCK_HASH_WINDOW
from vm.instructions.system import compute_contract_address
from vm.precompiles.mapping import BRAIN_PRECOMPILES, PRECOMPILES
from vm.tracing import TransactionTracer, make_tracer, trace_transaction
from vm.transition import (
    BuiltBlock,
    TransactionResult,
    apply_block,
    apply_transaction,
    build_block,
    child_environment,
    run_transaction,
)

MAX_TX_BYTES = 128 * 1024  # geth's txMaxSize: four 32 KiB slots
# Rejections that a later block may cure; other rejected transactions leave the pool.
RETRYABLE = (GasLimitExceeded, FeeCapTooLow)


class ChainError(BrainchainError):
    """The data directory cannot serve this genesis (another chain, or a damaged store)."""


@dataclass(frozen=True, slots=True)
class CallRequest:
    """A message to simulate (eth_call, eth_estimateGas): None fields take defaults."""

    sender: bytes | None = None
    to: bytes | None = None
    value: int = 0
    data: bytes = b""
    gas: int | None = None
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    access_list: AccessList = ()


@dataclass(frozen=True, slots=True)
class Simulation:
    """What a simulated message runs on: a throwaway state, its environment, the message as an
    unsigned transaction, and the BLOCKHASH window (`run_transaction`'s arguments)."""

    state: State
    env: BlockEnvironment
    tx: Transaction
    block_hashes: list[bytes]


@dataclass(frozen=True, slots=True)
class FoundAccessList:
    """eth_createAccessList's answer: the list, the gas the call uses with it, and why the call
    failed with it (None when it succeeded)."""

    access_list: AccessList
    gas_used: int
    error: str | None


@dataclass(frozen=True, slots=True)
class CallLimits:
    """Bounds on eth_call and eth_estimateGas (geth: --rpc.gascap 50M, --rpc.evmtimeout 5s).

    The gas cap lowers a larger requested gas, as geth does; 0 means no cap. The time limit is
    checked as each frame starts or resumes and between estimateGas probes; inside one frame
    the gas cap bounds the time (every opcode runs at 10 Mgas/s or more, bench/gas_time.py).
    """

    gas_cap: int = 50_000_000
    timeout_s: float = 5.0

    def cap(self, gas: int) -> int:
        return min(gas, self.gas_cap) if self.gas_cap else gas

    def deadline(self) -> Callable[[], None]:
        """A check that raises ExecutionInterrupted once `timeout_s` from now has passed."""
        end = time.monotonic() + self.timeout_s

        def check() -> None:
            if time.monotonic() > end:
                raise ExecutionInterrupted(self.timeout_s)

        return check


def _output_or_raise(result: TransactionResult) -> bytes:
    if isinstance(result.error, Revert):
        raise ExecutionReverted(result.output)
    if result.error is not None:
        raise ExecutionFailed(str(result.error) or type(result.error).__name__)
    return result.output


def _failure(result: TransactionResult) -> str | None:
    """Why a simulated call failed, in geth's words ("execution reverted"), or None."""
    if result.error is None:
        return None
    if isinstance(result.error, Revert):
        return "execution reverted"
    return str(result.error) or type(result.error).__name__


@dataclass(frozen=True, slots=True)
class AccountProof:
    """eth_getProof's answer: the account, its proof, and (slot, value, proof) per slot."""

    account: Account
    account_proof: list[bytes]
    storage: list[tuple[int, int, list[bytes]]]


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """What the node's networking and consensus report about themselves (brain_nodeStatus)."""

    peers: int
    round: int
    step: str
    validator: int | None  # index in the validator set; None for a node that only follows


def _standalone() -> NodeStatus:
    return NodeStatus(peers=0, round=0, step="propose", validator=None)


def _warm_anyway(sim: Simulation) -> frozenset[bytes]:
    """Addresses an access list need not name: geth's AccessListTracer excludes the sender, the
    recipient (or the created contract) and the precompiles."""
    tx = sim.tx
    to = compute_contract_address(tx.sender, tx.nonce) if tx.to is None else tx.to
    native = BRAIN_PRECOMPILES if sim.env.brain_precompiles else {}
    return frozenset({tx.sender, to, *PRECOMPILES, *native})


def _touched(sim: Simulation, prestate: dict[str, Any], known: AccessList) -> AccessList:
    """`known` plus what a prestate trace of `sim` touched, less what is warm anyway; sorted
    (geth's list only grows from run to run)."""
    slots: dict[bytes, set[bytes]] = {who: set(keys) for who, keys in known}
    for key, account in prestate.items():
        who = bytes.fromhex(key.removeprefix("0x"))
        storage = account.get("storage") or {}
        if who != sim.env.proposer or storage:
            slots.setdefault(who, set()).update(int(k, 16).to_bytes(32, "big") for k in storage)
    excluded = _warm_anyway(sim)
    return tuple(
        (who, tuple(sorted(keys))) for who, keys in sorted(slots.items()) if who not in excluded
    )


class Chain:
    """A node's view of the chain; see the module docstring for the threading rule."""

    def __init__(self, store: Store, genesis: Genesis, head: Block, proposer: bytes) -> None:
        self.store = store
        self.genesis = genesis
        self.chain_id = genesis.chain_id
        self.proposer = proposer
        self.validators_hash = validator_set_hash(genesis.validators)
        # Each validator's registered VRF key, by account address: a header names its proposer
        # by address, and its randomness proof must verify under that key (DESIGN.md §4).
        self._vrf_keys = {v.address: v.vrf_pubkey for v in genesis.validators}
        self.mempool = Mempool()
        self._head = head
        self._view = self._state_at(head)
        # The head's 256 most recent block hashes, kept as blocks commit (BLOCKHASH).
        self._recent_hashes: deque[bytes] = deque(maxlen=BLOCK_HASH_WINDOW)
        self._recent_hashes.extend(self._stored_hashes_upto(head.height))
        self._subscribers: list[asyncio.Queue[Block]] = []
        self._pending_subscribers: list[asyncio.Queue[Transaction]] = []
        # Set by the supervisor once networking and consensus run.
        self.node_status: Callable[[], NodeStatus] = _standalone
        # The executor INFERENCE_SYNC runs models on (vm/environment.py), once the node has one.
        self.model_runner: ModelRunner | None = None
        self.call_limits = CallLimits()
        self.tx_arrived = asyncio.Event()
        # Transactions submitted here, for the network to gossip (node/tx_relay.py).
        self._relay: list[bytes] = []
        self.relay_ready = asyncio.Event()
        # Held while a worker thread builds and writes a block, so close() waits for it.
        self._writing = threading.Lock()
        self._closed = False

    # --- opening ------------------------------------------------------------------------------

    @classmethod
    def open(cls, data_dir: Path, genesis: Genesis, *, proposer: bytes) -> Chain:
        """Open (or create, writing block 0) the chain stored in `data_dir`.

        Raises:
            ChainError: the directory holds a chain with a different genesis block.
        """
        store = Store(Path(data_dir))
        try:
            block0, nodes = build_genesis_block(genesis, State(store.nodes))
            stored = store.genesis_hash()
            if stored is None:
                store.write_block(block0, (), nodes, {}, genesis=True)
            elif stored != block0.hash:
                raise ChainError(
                    f"{data_dir} holds a chain with genesis {stored.hex()}, "
                    f"not this genesis file's {block0.hash.hex()}"
                )
            head_hash = store.head_hash()
            head = store.block(head_hash) if head_hash is not None else None
            if head is None:
                raise ChainError(f"{data_dir}: head block is missing from the store")
        except BaseException:
            store.close()
            raise
        chain = cls(store, genesis, head, proposer)
        try:
            # What clients sent before a stop or a kill -9 is pending again, and relayed.
            store.tx_journal.replay(chain.submit_transaction)
        except BaseException:
            chain.close()
            raise
        return chain

    def close(self) -> None:
        """Close the store once any block being written has landed."""
        with self._writing:
            self._closed = True
            self.store.close()

    def _state_at(self, block: Block) -> State:
        return State(self.store.nodes, block.header.state_root, code_db=self.store.code)

    # --- reads --------------------------------------------------------------------------------

    @property
    def head(self) -> Block:
        return self._head

    def block_by_height(self, height: int) -> Block | None:
        if height > self._head.height:
            return None
        block_hash = self.store.block_hash_at(height)
        return None if block_hash is None else self.store.block(block_hash)

    def block_by_hash(self, block_hash: bytes) -> Block | None:
        return self.store.block(block_hash)

    def receipts(self, block_hash: bytes) -> tuple[Receipt, ...]:
        return self.store.receipts(block_hash)

    def commit_at(self, height: int) -> bytes | None:
        """The encoded certificate that decided the block at `height`, if this node holds it."""
        return self.store.commit_at(height)

    def evidence_height(self, key: bytes) -> int | None:
        """The height of the block that recorded the offence `key` (DoubleSign.key), if any."""
        return self.store.evidence_height(key)

    def transaction(self, tx_hash: bytes) -> tuple[Transaction, TxLocation | None] | None:
        """A committed transaction with its location, or a pending one with location None."""
        location = self.store.tx_location(tx_hash)
        if location is not None:
            block = self.store.block(location.block_hash)
            if block is not None:
                return block.transactions[location.index], location
        pending = self.mempool.get(tx_hash)
        return None if pending is None else (pending, None)

    def receipt(self, tx_hash: bytes) -> tuple[Receipt, Transaction, TxLocation] | None:
        location = self.store.tx_location(tx_hash)
        if location is None:
            return None
        block = self.store.block(location.block_hash)
        if block is None:
            return None
        receipts = self.store.receipts(location.block_hash)
        return receipts[location.index], block.transactions[location.index], location

    def account(self, address: bytes, height: int | None = None) -> Account:
        """The account at the head, or after block `height` (every state is kept)."""
        if height is None or height == self._head.height:
            return get_account(self._view, address)
        block = self.block_by_height(height)
        if block is None:
            raise ValueError(f"no block at height {height}")
        return get_account(self._state_at(block), address)

    def proof(self, address: bytes, slots: list[int], height: int | None = None) -> AccountProof:
        """EIP-1186 Merkle proofs of an account and some of its storage slots."""
        block = self._head if height is None else self.block_by_height(height)
        if block is None:
            raise ValueError(f"no block at height {height}")
        state = self._state_at(block)
        return AccountProof(
            account=get_account(state, address),
            account_proof=prove_account(state, address),
            storage=[
                (slot, get_storage(state, address, slot), prove_storage(state, address, slot))
                for slot in slots
            ],
        )

    def storage(self, address: bytes, slot: int, height: int | None = None) -> int:
        """A storage slot's value at the head or after block `height`."""
        if height is None or height == self._head.height:
            return get_storage(self._view, address, slot)
        block = self.block_by_height(height)
        if block is None:
            raise ValueError(f"no block at height {height}")
        return get_storage(self._state_at(block), address, slot)

    def code(self, code_hash: bytes) -> bytes:
        """Contract code by hash (empty for accounts without code)."""
        return get_code(self._view, code_hash)

    def pending_nonce(self, address: bytes) -> int:
        return self.mempool.pending_nonce(address, self.account(address).nonce)

    def pool_counts(self) -> tuple[int, int]:
        """(pending, queued): executable transactions and those waiting behind a nonce gap."""
        return self.mempool.counts(self._nonce_of)

    def _nonce_of(self, address: bytes) -> int:
        return get_account(self._view, address).nonce

    # --- fees ---------------------------------------------------------------------------------

    def next_base_fee(self) -> int:
        header = self._head.header
        return calculate_base_fee(header.gas_limit, header.gas_used, header.base_fee)

    # --- transactions in ----------------------------------------------------------------------

    def submit_transaction(self, raw: bytes, *, relay: bool = True, journal: bool = False) -> bytes:
        """Check a raw transaction against the head and add it to the mempool; return its hash.

        With `relay`, it is also queued for the consensus driver to send to peers. With
        `journal` (a client's transaction), it is kept in the transaction journal, on disk once
        `store.tx_journal.sync()` returns (node/store/tx_journal.py).

        Raises:
            InvalidTransaction: the subclass naming why it was refused; nothing changes.
        """
        if len(raw) > MAX_TX_BYTES:
            raise OversizeTransaction(len(raw), MAX_TX_BYTES)
        tx = decode_transaction(raw)
        if tx.chain_id != self.chain_id:
            raise WrongChainId(self.chain_id, tx.chain_id)
        validate_transaction(tx)
        if tx.gas > self._head.header.gas_limit:
            raise GasLimitExceeded(tx.gas, self._head.header.gas_limit)
        sender = get_account(self._view, tx.sender)
        if sender.code_hash != EMPTY_KECCAK:
            raise SenderNotEOA(f"sender {tx.sender.hex()} has code (EIP-3607)")
        pooled = len(self.mempool)
        self.mempool.add(
            tx,
            account_nonce=sender.nonce,
            account_balance=sender.balance,
            base_fee=self.next_base_fee(),
        )
        if len(self.mempool) != pooled + 1:  # it replaced or evicted some, or dropped stale ones
            self.store.tx_journal.retain(self.mempool.__contains__)
        if journal:
            self.store.tx_journal.add(tx)
        for queue in self._pending_subscribers:
            queue.put_nowait(tx)
        self.tx_arrived.set()
        if relay:
            self._relay.append(raw)
            self.relay_ready.set()
        return tx.hash

    def take_relay(self) -> list[bytes]:
        """The transactions submitted here since the last call, for gossip."""
        taken, self._relay = self._relay, []
        self.relay_ready.clear()
        return taken

    def simulation(
        self,
        call: CallRequest,
        height: int | None,
        gas: int,
        overrides: Overrides = NO_OVERRIDES,
        check_interrupt: Callable[[], None] | None = None,
    ) -> Simulation:
        """Set up `call` with `gas` on a throwaway copy of the state after block `height`, with
        `overrides` applied to that copy and to the environment (geth's doCall order).

        Without a fee the call runs with a zero base fee, as geth's eth_call does, so the
        balance need only cover the value (so BASEFEE reads 0 then, where geth reads the
        block's).

        Raises:
            ValueError: no block at `height`.
        """
        block = self._head if height is None else self.block_by_height(height)
        if block is None:
            raise ValueError(f"no block at height {height}")
        state = self._state_at(block)
        env = child_environment(
            block.header,
            proposer=self.proposer,
            timestamp=block.header.timestamp,
            # The child's own is unknown until its proposer proves it; geth's eth_call, too,
            # reads the block's own randomness.
            randomness=block.header.randomness,
            model_runner=self.model_runner,
        )
        block_hashes = self._block_hashes_upto(block.height)
        if overrides.block is not None:
            env = apply_block_overrides(env, overrides.block)
            block_hashes = shift_block_hashes(block_hashes, block.height + 1, env.height)
        if overrides.state is not None:
            apply_state_overrides(state, overrides.state)
        max_fee = call.max_fee_per_gas or 0
        env = replace(
            env,
            base_fee=env.base_fee if max_fee else 0,
            # As geth: a simulation may use more than a block holds, up to the RPC gas cap.
            gas_limit=max(env.gas_limit, gas),
            check_interrupt=check_interrupt,
        )
        origin = call.sender or bytes(20)
        tx = Transaction(
            tx_type=TX_FEE_MARKET,
            chain_id=self.chain_id,
            nonce=get_account(state, origin).nonce,
            max_priority_fee_per_gas=min(call.max_priority_fee_per_gas or 0, max_fee),
            max_fee_per_gas=max_fee,
            gas=gas,
            to=call.to,
            value=call.value,
            data=call.data,
            access_list=call.access_list,
            v=0,
            r=0,
            s=0,
            sender=origin,
            hash=bytes(32),
            raw=b"",
        )
        return Simulation(state, env, tx, block_hashes)

    def _simulate(
        self,
        call: CallRequest,
        height: int | None,
        gas: int,
        overrides: Overrides,
        check_interrupt: Callable[[], None] | None = None,
    ) -> TransactionResult:
        sim = self.simulation(call, height, gas, overrides, check_interrupt)
        return run_transaction(sim.state, sim.env, sim.tx, 0, sim.block_hashes)

    def call_gas(self, call: CallRequest, overrides: Overrides = NO_OVERRIDES) -> int:
        """The gas a simulation of `call` gets: its own, else the (overridden) block gas limit;
        at most the RPC gas cap."""
        default = overrides.gas_limit(self._head.header.gas_limit)
        return self.call_limits.cap(call.gas if call.gas is not None else default)

    def call(
        self, call: CallRequest, height: int | None = None, overrides: Overrides = NO_OVERRIDES
    ) -> bytes:
        """eth_call: the return data of `call` executed on the state after block `height`.

        Raises:
            ExecutionReverted: the call reverted (its payload attached).
            ExecutionFailed: the call halted exceptionally.
            ExecutionInterrupted: the call ran past `call_limits.timeout_s`.
            InvalidTransaction: the call could not start (e.g. insufficient funds).
        """
        gas = self.call_gas(call, overrides)
        deadline = self.call_limits.deadline()
        return _output_or_raise(self._simulate(call, height, gas, overrides, deadline))

    def estimate_gas(
        self, call: CallRequest, height: int | None = None, overrides: Overrides = NO_OVERRIDES
    ) -> int:
        """The least gas limit with which `call` succeeds (binary search, as geth does).

        Raises:
            ExecutionReverted, ExecutionFailed: the call fails even with the block gas limit.
            ExecutionInterrupted: the search ran past `call_limits.timeout_s`.
            InvalidTransaction: the call could not start (e.g. insufficient funds).
        """
        cap = self.call_gas(call, overrides)
        check = self.call_limits.deadline()
        result = self._simulate(call, height, cap, overrides, check)
        _output_or_raise(result)
        # low fails (or is below the intrinsic gas), high works
        low, high = result.receipt.gas_used - 1, cap
        while low + 1 < high:
            mid = (low + high) // 2
            check()
            try:
                ok = self._simulate(call, height, mid, overrides, check).error is None
            except InvalidTransaction:
                ok = False  # below the intrinsic gas
            low, high = (low, mid) if ok else (mid, high)
        return high

    def create_access_list(
        self, call: CallRequest, height: int | None = None, overrides: Overrides = NO_OVERRIDES
    ) -> FoundAccessList:
        """The EIP-2930 access list of what `call` touches, as geth's eth_createAccessList.

        As geth, it reruns the call with the list found so far until a run touches nothing
        new (gas-dependent paths may reach further once slots are warm), and leaves out the
        sender, the recipient and the precompiles, which are warm anyway (EIP-2929). What a
        run touched is read from the prestate tracer (vm/tracing), which also lists the
        proposer: left out too when none of its slots were touched, as EIP-3651 warms it.

        Raises:
            ExecutionInterrupted: the runs took longer than `call_limits.timeout_s`.
            InvalidTransaction: the call could not start (e.g. insufficient funds).
        """
        gas = self.call_gas(call, overrides)
        check = self.call_limits.deadline()
        while True:
            sim = self.simulation(call, height, gas, overrides, check)
            prestate = trace_transaction(
                sim.state, sim.env, sim.tx, 0, sim.block_hashes, make_tracer("prestateTracer", {})
            )
            found = _touched(sim, prestate, call.access_list)
            if found == call.access_list:
                break
            call = replace(call, access_list=found)
        result = self._simulate(call, height, gas, overrides, check)
        return FoundAccessList(found, result.receipt.gas_used, _failure(result))

    # --- traces (debug_trace*: geth's eth/tracers/api.go) --------------------------------------

    def trace_call(
        self,
        call: CallRequest,
        height: int | None,
        tracer: TransactionTracer,
        check_interrupt: Callable[[], None],
        overrides: Overrides = NO_OVERRIDES,
    ) -> dict[str, Any]:
        """`tracer`'s result for `call` simulated as eth_call runs it (geth's debug_traceCall).

        Raises:
            ExecutionInterrupted: the call ran past `check_interrupt`'s time limit.
            InvalidTransaction: the call could not start (e.g. insufficient funds).
        """
        gas = self.call_gas(call, overrides)
        sim = self.simulation(call, height, gas, overrides, check_interrupt)
        return trace_transaction(sim.state, sim.env, sim.tx, 0, sim.block_hashes, tracer)

    def trace_transaction(
        self,
        block: Block,
        index: int,
        tracer: TransactionTracer,
        check_interrupt: Callable[[], None],
    ) -> dict[str, Any]:
        """`tracer`'s result for transaction `index` of the stored `block`, re-executed from the
        parent's state after the transactions before it, which run untraced (geth's
        debug_traceTransaction, stateAtTransaction).

        Raises:
            ChainError: `block` is the genesis block, which executed nothing.
            ExecutionInterrupted: the work ran past `check_interrupt`'s time limit.
        """
        state, env, block_hashes = self._replay(block, check_interrupt)
        gas_used = 0
        for tx in block.transactions[:index]:
            receipt = apply_transaction(state, env, tx, gas_used, block_hashes)
            gas_used = receipt.cumulative_gas_used
        tx = block.transactions[index]
        return trace_transaction(state, env, tx, gas_used, block_hashes, tracer)

    def trace_block(
        self,
        block: Block,
        tracers: Callable[[], TransactionTracer],
        check_interrupt: Callable[[], None],
    ) -> list[dict[str, Any]]:
        """Each transaction's result of a fresh tracer from `tracers`, in block order, re-executed
        from the parent's state (geth's debug_traceBlock).

        Raises:
            ChainError: `block` is the genesis block, which executed nothing.
            ExecutionInterrupted: the work ran past `check_interrupt`'s time limit.
        """
        state, env, block_hashes = self._replay(block, check_interrupt)
        results = []
        gas_used = 0
        for tx, receipt in zip(block.transactions, self.receipts(block.hash), strict=True):
            results.append(trace_transaction(state, env, tx, gas_used, block_hashes, tracers()))
            gas_used = receipt.cumulative_gas_used
        return results

    def _replay(
        self, block: Block, check_interrupt: Callable[[], None]
    ) -> tuple[State, BlockEnvironment, list[bytes]]:
        """A throwaway copy of the state of `block`'s parent, the environment `block` executed
        in (as apply_block builds it) bounded by `check_interrupt`, and its BLOCKHASH window."""
        if block.height == 0:
            raise ChainError("genesis is not traceable")  # geth's answer
        parent = self.store.block(block.header.parent_hash)
        if parent is None:
            raise ChainError(f"block {block.height}: its parent is missing from the store")
        env = child_environment(
            parent.header,
            proposer=block.header.proposer,
            timestamp=block.header.timestamp,
            randomness=block.header.randomness,
            model_runner=self.model_runner,
        )
        env = replace(env, check_interrupt=check_interrupt)
        return self._state_at(parent), env, self._block_hashes_upto(parent.height)

    def _block_hashes_upto(self, height: int) -> list[bytes]:
        """Hashes of the 256 blocks up to `height`, oldest first (BLOCKHASH)."""
        if height == self._head.height:
            return list(self._recent_hashes)
        return self._stored_hashes_upto(height)

    def _stored_hashes_upto(self, height: int) -> list[bytes]:
        first = max(0, height + 1 - BLOCK_HASH_WINDOW)
        hashes = [self.store.block_hash_at(h) for h in range(first, height + 1)]
        return [h for h in hashes if h is not None]

    # --- blocks out ---------------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[Block]:
        """A queue that receives every block committed from now on."""
        queue: asyncio.Queue[Block] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Block]) -> None:
        self._subscribers.remove(queue)

    def subscribe_pending(self) -> asyncio.Queue[Transaction]:
        """A queue that receives every transaction the mempool accepts from now on, from
        clients and peers alike (geth's NewTxsEvent)."""
        queue: asyncio.Queue[Transaction] = asyncio.Queue()
        self._pending_subscribers.append(queue)
        return queue

    def unsubscribe_pending(self, queue: asyncio.Queue[Transaction]) -> None:
        self._pending_subscribers.remove(queue)

    def has_pending(self) -> bool:
        return len(self.mempool) > 0

    # --- blocks: built or checked for consensus, then committed -------------------------------

    def select_candidates(self) -> list[Transaction]:
        """Mempool transactions for the next block, in inclusion order (loop thread)."""
        return self.mempool.select(
            base_fee=self.next_base_fee(),
            gas_limit=self._head.header.gas_limit,
            nonce_of=self._nonce_of,
        )

    def build_candidate(
        self,
        candidates: list[Transaction],
        *,
        vrf_key: bytes,
        timestamp: int,
        last_commit: bytes,
        evidence: tuple[bytes, ...] = (),
    ) -> BuiltBlock:
        """Execute candidates into a child of the head, on a scratch state; store nothing.

        `vrf_key` is this validator's VRF secret key: it proves the block's randomness.
        Safe in a worker thread: it reads the store and the head it was called with.
        """
        head = self._head
        return build_block(
            self._state_at(head),
            head.header,
            candidates,
            proposer=self.proposer,
            timestamp=timestamp,
            validators_hash=self.validators_hash,
            randomness_proof=prove_randomness(vrf_key, head.header),
            last_commit=last_commit,
            evidence=evidence,
            block_hashes=self._block_hashes_upto(head.height),
            model_runner=self.model_runner,
        )

    def check_candidate(self, block: Block) -> BuiltBlock:
        """Execute a proposed child of the head on a scratch state; every root must match.

        Safe in a worker thread.

        Raises:
            InvalidBlock: the block is not a valid child of the head (the field is named), its
                proposer is no validator, or its randomness proof fails under the proposer's key.
        """
        head = self._head
        if block.header.validators_hash != self.validators_hash:
            raise InvalidBlock("validators_hash: not this chain's validator set")
        vrf_key = self._vrf_keys.get(block.header.proposer)
        if vrf_key is None:
            raise InvalidBlock(f"proposer: {block.header.proposer.hex()} is not a validator")
        return apply_block(
            self._state_at(head),
            head.header,
            block,
            self._block_hashes_upto(head.height),
            self.model_runner,
            proposer_vrf_key=vrf_key,
        )

    async def commit_block(self, built: BuiltBlock, commit: bytes) -> None:
        """Persist a decided block with its commit certificate, atomically; make it the head.

        Raises:
            ChainError: the block is not a child of the head, or the chain is closed.
        """
        if built.block.header.parent_hash != self._head.hash:
            raise ChainError(f"block {built.block.height} does not extend the head")
        await asyncio.to_thread(self._store, built, commit)
        self._advance(built)

    def _store(self, built: BuiltBlock, commit: bytes) -> None:
        with self._writing:
            if self._closed:
                raise ChainError("chain closed while a block was being written")
            self.store.write_block(
                built.block, built.receipts, built.nodes, built.code, commit=commit
            )

    def _advance(self, built: BuiltBlock) -> None:
        self._head = built.block
        self._recent_hashes.append(built.block.hash)
        self._view = self._state_at(built.block)
        self.mempool.remove_committed(built.block.transactions, self._nonce_of)
        for tx, error in built.rejected:
            if not isinstance(error, RETRYABLE):
                self.mempool.remove(tx.hash)
        self.store.tx_journal.retain(self.mempool.__contains__)
        for queue in self._subscribers:
            queue.put_nowait(built.block)
