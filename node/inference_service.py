"""A validator's part in two-phase inference (DESIGN.md §5 steps 2–5; BRAIN §IV).

It follows committed blocks. For each request announced in one (InferenceRequested), it
evaluates its VRF over the request's seed and runs sortition with the inference committee's
expected weight; when selected, it queues the model run on the executor, off the
block-production path, so blocks keep coming while models run. With the output it draws a salt,
journals output and salt (fsynced, node/store/inference_journal.py) and only then sends
commit(id, keccak(output ‖ address ‖ salt), proof). Once a committed block closes the commit
window, it sends reveal(id, output, salt) for every journalled commit that landed. Restarted, it
picks up its journal, and requests of recent blocks whose commit window is still open.

Requests are settled by the chain itself at the end of their deadline block
(vm/precompiles/inference.py `settle_due`), so no validator sends expire transactions.

A validator may be made Byzantine for fault tests (config "byzantine"): "wrong-output" commits
and reveals a corrupted output, "copy-commitment" commits another member's commitment instead of
its own, "no-reveal" commits and never reveals. It is off unless set, and logged when on.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from brainchain.crypto import ecvrf
from brainchain.errors import BrainchainError
from brainchain.inference import Status, commitment, fee_shares, request_seed
from brainchain.sortition import selected_units
from brainchain.types.block import Block
from brainchain.types.transaction import TX_FEE_MARKET, sign_transaction
from genesis.models import ModelSpec
from node.chain import Chain
from node.config import Byzantine, NodeKeys
from node.executors.pool import ExecutorPool
from node.metrics import InferenceMetrics
from node.rpc.brain import head_slots
from node.rpc.fees import suggested_priority_fee
from node.store.inference_journal import JournalEntry
from vm.abi import encode_values, selector
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.inference import CALLBACK_RESERVE, Requested, decode_requested
from vm.precompiles.inference_state import (
    REQ_RESULT,
    Slots,
    load_bond,
    load_commit,
    load_members,
    load_request,
    request_slot,
)

log = logging.getLogger(__name__)

COMMIT_GAS = 400_000  # a commit measures ~170k (VRF verification, sortition, five slots)
REVEAL_GAS = 300_000  # a finalizing reveal measures ~150k (output stored), plus the callback
COMMIT = "commit(uint256,bytes32,bytes)"
REVEAL = "reveal(uint256,bytes,bytes32)"


@dataclass(slots=True)
class InferenceService:
    """Serves the requests this validator is selected for."""

    chain: Chain
    keys: NodeKeys
    pool: ExecutorPool
    metrics: InferenceMetrics
    byzantine: Byzantine | None = None
    warm: bool = False  # load every model at start (config warm_models)
    _stake: int = 0
    _models: dict[bytes, ModelSpec] = field(default_factory=dict)  # by model key
    _group: asyncio.TaskGroup | None = None

    def __post_init__(self) -> None:
        genesis = self.chain.genesis
        self._models = {spec.key: spec for spec in genesis.models}
        self._stake = next(
            (v.stake for v in genesis.validators if v.address == self.keys.address), 0
        )

    @property
    def slots(self) -> Slots:
        return head_slots(self.chain)

    async def serve(self, ready: asyncio.Event) -> None:
        """Follow committed blocks until cancelled; journalled work resumes first. Model runs
        are tasks of this service's group: cancelling the service cancels them."""
        if self.byzantine is not None:
            log.warning("BYZANTINE TEST MODE: this validator will %s", self.byzantine.value)
        queue = self.chain.subscribe()
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                if self.warm:
                    group.create_task(self.pool.warm())
                self._resume()
                ready.set()
                while True:
                    self._on_block(await queue.get())
        finally:
            self.chain.unsubscribe(queue)
            self.pool.close()

    # --- blocks in ----------------------------------------------------------------------------

    def _resume(self) -> None:
        """After a restart: requests of blocks whose commit window is still open."""
        params = self.chain.genesis.inference
        head = self.chain.head.height
        journalled = {e.request_id for e in self.chain.store.inference.entries()}
        first = max(1, head - params["commit_blocks"] + 1)
        for height in range(first, head + 1):
            block = self.chain.block_by_height(height)
            if block is not None:
                self._requests_in(block, skip=journalled)
        self._advance(head)

    def _on_block(self, block: Block) -> None:
        self._requests_in(block, skip=set())
        self._advance(block.height)

    def _requests_in(self, block: Block, skip: set[int]) -> None:
        for receipt in self.chain.receipts(block.hash):
            for entry in receipt.logs:
                requested = decode_requested(entry)
                if requested is not None and requested.request_id not in skip:
                    self.metrics.requests.inc()
                    self._consider(requested, block)

    def _consider(self, requested: Requested, block: Block) -> None:
        """Evaluate the VRF for a request; start the model run when selected."""
        spec = self._models.get(requested.model_key)
        if self._stake == 0 or spec is None:
            return
        params = self.chain.genesis.inference
        seed = request_seed(requested.request_id, block.hash)
        proof = ecvrf.prove(self.keys.vrf_key, seed)
        weight = selected_units(
            ecvrf.proof_to_hash(proof),
            self._stake,
            self.chain.genesis.total_stake,
            params["committee_size"],
        )
        if weight == 0:
            log.debug("request %d: not selected", requested.request_id)
            return
        self.metrics.selected.inc()
        self.metrics.weight.inc(weight)
        log.info(
            "request %d (%s, %d tokens): selected with weight %d",
            requested.request_id,
            spec.id,
            requested.max_tokens,
            weight,
        )
        commit_end = block.height + params["commit_blocks"]
        assert self._group is not None
        self._group.create_task(self._serve_request(requested, spec, proof, commit_end))

    # --- one request ----------------------------------------------------------------------------

    async def _serve_request(
        self, requested: Requested, spec: ModelSpec, proof: bytes, commit_end: int
    ) -> None:
        def too_late() -> bool:
            return self.chain.head.height >= commit_end

        try:
            output = await self.pool.run(
                spec.spec_hash, requested.prompt, requested.max_tokens, cancelled=too_late
            )
        except BrainchainError as exc:
            log.warning("request %d: no output: %s", requested.request_id, exc)
            return
        if self.byzantine is Byzantine.WRONG_OUTPUT:
            output = bytes(b ^ 0xFF for b in output)
        salt = os.urandom(32)
        hidden = commitment(output, self.keys.address, salt)
        if self.byzantine is Byzantine.COPY_COMMITMENT:
            copied = await self._someone_elses_commitment(requested.request_id, too_late)
            if copied is None:
                return
            hidden = copied
        entry = JournalEntry(
            request_id=requested.request_id,
            output=output,
            salt=salt,
            commitment=hidden,
            commit_end=commit_end,
            deadline=requested.deadline,
            callback_gas=requested.callback_gas,
            fee=requested.fee,
        )
        self.chain.store.inference.put(entry)  # before the commitment leaves (DESIGN.md §5)
        data = selector(COMMIT) + encode_values(
            ["uint256", "bytes32", "bytes"], [requested.request_id, hidden, proof]
        )
        if self._send(data, COMMIT_GAS, f"commit for request {requested.request_id}"):
            self.metrics.commits.inc()

    async def _someone_elses_commitment(
        self, request_id: int, too_late: Callable[[], bool]
    ) -> bytes | None:
        """Byzantine copy: wait for another member's commitment to land, and take it."""
        queue = self.chain.subscribe()
        try:
            while not too_late():
                slots = self.slots
                record = load_request(slots, request_id)
                for member in load_members(slots, record) if record else []:
                    found = load_commit(slots, request_id, member)
                    if member != self.keys.address and found is not None:
                        return found.commitment
                await queue.get()
        finally:
            self.chain.unsubscribe(queue)
        return None

    def _advance(self, height: int) -> None:
        """Reveal what is due once commits close; account for and forget what is settled."""
        for entry in self.chain.store.inference.entries():
            if height >= entry.deadline:
                self._account(entry)
                self.chain.store.inference.delete(entry.request_id)
            elif height >= entry.commit_end and not entry.revealed:
                self._reveal(entry)

    def _reveal(self, entry: JournalEntry) -> None:
        if load_commit(self.slots, entry.request_id, self.keys.address) is None:
            log.warning("request %d: our commit never landed; nothing to reveal", entry.request_id)
            self.chain.store.inference.delete(entry.request_id)
            return
        self.chain.store.inference.put(replace(entry, revealed=True))
        if self.byzantine is Byzantine.NO_REVEAL:
            log.warning(
                "request %d: withholding the reveal (byzantine test mode)", entry.request_id
            )
            return
        data = selector(REVEAL) + encode_values(
            ["uint256", "bytes", "bytes32"], [entry.request_id, entry.output, entry.salt]
        )
        gas = REVEAL_GAS + entry.callback_gas + CALLBACK_RESERVE
        if self._send(data, gas, f"reveal for request {entry.request_id}"):
            self.metrics.reveals.inc()

    def _account(self, entry: JournalEntry) -> None:
        """Metrics of a settled request this validator committed to: its share or penalty."""
        slots = self.slots
        record = load_request(slots, entry.request_id)
        mine = load_commit(slots, entry.request_id, self.keys.address)
        if record is None or mine is None:
            return
        self.metrics.bond_wei.set(load_bond(slots, self.keys.address)[0])
        if record.status is Status.EXPIRED:
            outcome = "refunded" if mine.revealed else "penalised"
        else:
            result = slots.load(request_slot(entry.request_id) + REQ_RESULT).to_bytes(32, "big")
            agreeing = {}
            for member in load_members(slots, record):
                other = load_commit(slots, entry.request_id, member)
                if other is not None and other.revealed and other.output_hash == result:
                    agreeing[member] = other.weight
            outcome = "rewarded" if self.keys.address in agreeing else "penalised"
            if outcome == "rewarded":
                shares = fee_shares(entry.fee, list(agreeing.values()))
                self.metrics.rewards_wei.inc(
                    dict(zip(agreeing, shares, strict=True))[self.keys.address]
                )
        self.metrics.outcomes.labels(outcome=outcome).inc()

    # --- transactions out ---------------------------------------------------------------------

    def _send(self, data: bytes, gas: int, what: str) -> bool:
        """Sign and submit a call to INFERENCE from the validator's account; False if refused.

        Runs on the event loop without awaiting between reading the pending nonce and
        submitting, so two sends never take the same nonce.
        """
        chain = self.chain
        tip = suggested_priority_fee(chain)
        tx = sign_transaction(
            private_key=self.keys.account_key,
            tx_type=TX_FEE_MARKET,
            chain_id=chain.chain_id,
            nonce=chain.pending_nonce(self.keys.address),
            gas=gas,
            to=INFERENCE_ADDRESS,
            value=0,
            data=data,
            max_fee_per_gas=2 * chain.next_base_fee() + tip,
            max_priority_fee_per_gas=tip,
        )
        try:
            chain.submit_transaction(tx.raw)
        except BrainchainError as exc:
            log.warning("%s refused by the mempool: %s", what, exc)
            return False
        log.info("sent %s (tx 0x%s)", what, tx.hash.hex())
        return True
