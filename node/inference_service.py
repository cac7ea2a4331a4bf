"""A validator's part in two-phase inference (DESIGN.md §5 steps 2–5; BRAIN §IV).

It follows committed blocks. For each request announced in one (InferenceRequested), it
evaluates its VRF over the request's seed and runs sortition with the inference committee's
expected weight; when selected, it queues the model run on the executor, off the
block-production path, so blocks keep coming while models run. With the output it draws a salt,
journals output and salt (fsynced, node/store/inference_journal.py) and only then sends
commit(id, keccak(output ‖ address ‖ salt), proof). Once a committed block closes the commit
window, it sends reveal(id, output, salt) for every journalled commit that landed. Restarted, it
picks up its journal, and requests of recent blocks whose commit window is still open.

Following blocks, drawing the VRF weight, sealing a commitment and sending a call are what every
committee member does (node/committee_member.py), the federated-learning scorers too.

Requests are settled by the chain itself at the end of their deadline block
(vm/precompiles/inference.py `settle_due`), so no validator sends expire transactions.

A validator may be made Byzantine for fault tests (config "byzantine"): "wrong-output" commits
and reveals a corrupted output, "copy-commitment" commits another member's commitment instead of
its own, "no-reveal" commits and never reveals. It is off unless set, and logged when on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from brainchain.errors import BrainchainError
from brainchain.inference import Status, fee_shares, request_seed
from brainchain.types.block import Block
from genesis.models import ModelSpec
from node.chain import Chain
from node.committee_member import Member, block_logs, follow_blocks, open_blocks, seal
from node.config import Byzantine, NodeKeys
from node.executors.pool import ExecutorPool
from node.metrics import InferenceMetrics
from node.rpc.brain import head_slots
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
    member: Member = field(init=False)
    _models: dict[bytes, ModelSpec] = field(default_factory=dict)  # by model key
    _group: asyncio.TaskGroup | None = None

    def __post_init__(self) -> None:
        self.member = Member(self.chain, self.keys)
        self._models = {spec.key: spec for spec in self.chain.genesis.models}

    @property
    def slots(self) -> Slots:
        return head_slots(self.chain)

    async def serve(self, ready: asyncio.Event) -> None:
        """Follow committed blocks until cancelled; journalled work resumes first. Model runs
        are tasks of this service's group: cancelling the service cancels them."""
        if self.byzantine is not None:
            log.warning("BYZANTINE TEST MODE: this validator will %s", self.byzantine.value)
        try:
            await follow_blocks(self.chain, ready, self._start, self._on_block)
        finally:
            self.pool.close()

    def _start(self, group: asyncio.TaskGroup) -> None:
        self._group = group
        if self.warm:
            group.create_task(self.pool.warm())
        self._resume()

    # --- blocks in ----------------------------------------------------------------------------

    def _resume(self) -> None:
        """After a restart: requests of blocks whose commit window is still open."""
        journalled = {e.request_id for e in self.chain.store.inference.entries()}
        for block in open_blocks(self.chain, self.chain.genesis.inference["commit_blocks"]):
            self._requests_in(block, skip=journalled)
        self._advance(self.chain.head.height)

    def _on_block(self, block: Block) -> None:
        self._requests_in(block, skip=set())
        self._advance(block.height)

    def _requests_in(self, block: Block, skip: set[int]) -> None:
        for entry in block_logs(self.chain, block):
            requested = decode_requested(entry)
            if requested is not None and requested.request_id not in skip:
                self.metrics.requests.inc()
                self._consider(requested, block)

    def _consider(self, requested: Requested, block: Block) -> None:
        """Evaluate the VRF for a request; start the model run when selected."""
        spec = self._models.get(requested.model_key)
        if spec is None:
            return
        params = self.chain.genesis.inference
        seed = request_seed(requested.request_id, block.hash)
        proof, weight = self.member.draw(seed, params["committee_size"])
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
        salt, hidden = seal(output, self.keys.address)
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
        what = f"commit for request {requested.request_id}"
        if self.member.bond_covers_commit(what) and self._send(data, COMMIT_GAS, what):
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
        """Sign and submit a call to INFERENCE from the validator's account; False if refused."""
        return self.member.send(INFERENCE_ADDRESS, data, gas, what)
