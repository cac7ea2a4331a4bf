"""Federated learning on a node (DESIGN.md §6; BRAIN §V): validators score the proposals they are
drawn for, and every node recomputes the global model from the chain.

Scoring, on a validator, through the committee machinery inference uses
(node/committee_member.py). For each FlProposed in a committed block it evaluates its VRF over
proposal_seed(id, hash of that block) and runs sortition with the task's k, read from
FL_REGISTRY at the head. When drawn, it fetches the proposal's weights blob (the local store
first, then peers, hash-checked: node/blob_fetch.py), scores it on its validation shard (node
config `fl_validation_shard` "i/n", by default its index among the genesis validators of their
number; accuracy in score units, node/fl/train.py), journals score and salt, fsynced
(node/store/inference_journal.py ScoreEntry), and only then sends commitScore. Weights that
cannot be fetched before the last block of the commit window, or do not parse as the task's
model, score 0, and a log line says so; a proposal it cannot score before the commit window
closes is skipped: it commits nothing. Once a committed block closes the commit window it sends
revealScore. When the proposal's deadline block is committed it reads the verdict; for an
accepted proposal it revealed for, once it has recomputed the version the proposal became, it
sends attestVersion(task, version, keccak of the global blob) within ATTEST_BLOCKS. Restarted,
it picks up its journal, and proposals of recent blocks whose commit window is still open.

Recomputation, on every node, in a worker of its own so scoring never waits for it. Each task
whose model the node knows (node/fl/model.py) is recomputed in version order from the chain:
version 0 is the task's initial weights blob, which its creator uploads (POST /blobs); version
v is mix(global v−1, the proposal's local blob, α) (node/fl/mixing.py, bit-identical on every
node). The global blob goes into the BlobStore, its hash and its accuracy on the held-out test
split into a VersionRecord (node/store/inference_journal.py), and the hash is compared with the
attested one, now or when FlVersionAttested arrives: a mismatch is logged as an error and
counted. One rule is decided here, not on chain: a local blob that does not parse as the model
(a committee accepted garbage) leaves the global weights as they were, so every honest node
still derives the same bytes. A node that joins or returns after its peers collected the blobs
it would recompute from goes on from the newest attested global weights a peer still serves
(its record says `adopted`, and brain_getFlVersion shows no computedHash for it).

Garbage collection, after each pass of the worker: the BlobStore keeps, per task, the global
blobs of the last staleness+1 versions and of the newest version recomputed here, the local
blobs of the versions not yet recomputed and of the last staleness+1 versions (for nodes that
lag), every blob a pending proposal names, and whatever is pinned (node/fl/pins.py: uploads and
fetches in flight); it collects the rest.

A validator may be made Byzantine for fault tests (config "byzantine"): "random-fl-score"
commits and reveals a random score, seeded by its address and the proposal, instead of the one
it measured. It is off unless set, and logged when on.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import replace

from brainchain.crypto.keccak import keccak256
from brainchain.fl import (
    SCORE_SCALE,
    ProposalStatus,
    attest_end,
    proposal_seed,
    score_word,
)
from brainchain.types.block import Block
from node.blob_fetch import BlobFetcher, BlobUnavailable
from node.chain import Chain
from node.committee_member import Member, block_logs, follow_blocks, open_blocks, seal
from node.config import Byzantine, NodeKeys
from node.fl.data import Dataset, splits, validation_shard
from node.fl.model import DATA_SET, MODEL_ID, from_blob
from node.fl.pins import BlobPins
from node.fl.registry import (
    fl_slots,
    inference_params,
    model_name,
    pending_proposals,
    task_ids,
    version_of,
)
from node.metrics import FlMetrics
from node.store.blobs import BlobTooLarge
from node.store.inference_journal import ScoreEntry, VersionRecord
from vm.abi import encode_values, selector
from vm.precompiles.addresses import FL_REGISTRY_ADDRESS
from vm.precompiles.fl_registry import Proposed, TaskCreated, VersionAttested, decode_fl_event
from vm.precompiles.fl_state import Task, load_proposal, load_score, load_task, load_version

log = logging.getLogger(__name__)

COMMIT_SCORE = "commitScore(uint256,bytes32,bytes)"
REVEAL_SCORE = "revealScore(uint256,uint256,bytes32)"
ATTEST_VERSION = "attestVersion(uint256,uint256,bytes32)"
# Measured on tests/vm/fl_chain.py: a commit ~187k (VRF verification, sortition, five slots), a
# reveal ~46k, an attestation ~37–73k (the one that makes the hash final stores it).
COMMIT_GAS = 400_000
REVEAL_GAS = 150_000
ATTEST_GAS = 150_000
FETCH_RETRY_S = 0.5  # a proposal's blob may reach its peers a moment after the proposal
ZERO_HASH = bytes(32)


def default_shard(chain: Chain, address: bytes) -> tuple[int, int] | None:
    """Validator i of n in genesis scores on validation shard i/n; None for a non-validator."""
    validators = [v.address for v in chain.genesis.validators]
    return (validators.index(address), len(validators)) if address in validators else None


class FlService:
    """Scores proposals as a committee member (validators), recomputes versions (every node)."""

    def __init__(
        self,
        chain: Chain,
        keys: NodeKeys,
        fetcher: BlobFetcher,
        metrics: FlMetrics,
        pins: BlobPins,
        *,
        shard: tuple[int, int] | None = None,
        byzantine: Byzantine | None = None,
    ) -> None:
        self.chain = chain
        self.member = Member(chain, keys)
        self.fetcher = fetcher
        self.metrics = metrics
        self.pins = pins
        self.shard = shard or default_shard(chain, keys.address)
        self.byzantine = byzantine if byzantine is Byzantine.RANDOM_FL_SCORE else None
        self.scores = chain.store.inference.scores
        self.records = chain.store.inference.fl_versions
        self._latest: dict[int, VersionRecord] = {}  # each task's newest recomputed version
        self._wake = asyncio.Event()  # a block committed: the worker has work
        self._group: asyncio.TaskGroup | None = None
        self._stuck: set[tuple[int, int]] = set()  # (task, version) said to be unavailable
        self._broken: set[int] = set()  # tasks whose weights cannot be recomputed here
        self._validation: Dataset | None = None
        self._prepared = False

    async def serve(self, ready: asyncio.Event) -> None:
        """Follow committed blocks until cancelled; journalled scores resume first."""
        if self.byzantine is not None:
            log.warning("BYZANTINE TEST MODE: this validator will %s", self.byzantine.value)
        await follow_blocks(self.chain, ready, self._start, self._on_block)

    def _start(self, group: asyncio.TaskGroup) -> None:
        self._group = group
        self._latest = self.records.latest()
        group.create_task(self._recompute_loop())
        if task_ids(fl_slots(self.chain)):
            self._prepare()
        self._resume()
        self._wake.set()

    def _prepare(self) -> None:
        """Load the data and torch in the background once a task exists, so that the first
        proposal's commit window is not spent importing them."""
        if self._prepared:
            return
        self._prepared = True
        assert self._group is not None
        self._group.create_task(asyncio.to_thread(self._warm))

    def _warm(self) -> None:
        from node.executors.determinism import configure  # local: torch loads here only

        configure(1)
        if self.member.stake:
            self._validation_data()
        splits(DATA_SET)

    # --- blocks in ----------------------------------------------------------------------------

    def _resume(self) -> None:
        """After a restart: proposals of blocks whose commit window is still open."""
        journalled = {e.proposal_id for e in self.scores.entries()}
        for block in open_blocks(self.chain, inference_params(self.chain).commit_blocks):
            self._events_in(block, skip=journalled)
        self._advance(self.chain.head.height)

    def _on_block(self, block: Block) -> None:
        self._events_in(block, skip=set())
        self._advance(block.height)
        self._wake.set()

    def _events_in(self, block: Block, skip: set[int]) -> None:
        for entry in block_logs(self.chain, block):
            event = decode_fl_event(entry)
            if isinstance(event, Proposed) and event.proposal_id not in skip:
                self.metrics.proposals.inc()
                self._prepare()
                self._consider(event, block)
            elif isinstance(event, TaskCreated):
                self._prepare()
            elif isinstance(event, VersionAttested):
                self._check_attested(event.task_id, event.version, event.global_hash)

    # --- scoring --------------------------------------------------------------------------------

    def _consider(self, proposed: Proposed, block: Block) -> None:
        """Evaluate the VRF for a proposal; start scoring it when drawn."""
        if self.member.stake == 0 or self.shard is None:
            return
        task = load_task(fl_slots(self.chain), proposed.task_id)
        assert task is not None  # a proposal's task exists
        if model_name(task) != MODEL_ID:
            log.info(
                "proposal %d: model %r is unknown here; not scoring it",
                proposed.proposal_id,
                model_name(task),
            )
            return
        seed = proposal_seed(proposed.proposal_id, block.hash)
        proof, weight = self.member.draw(seed, task.k)
        if weight == 0:
            log.debug("proposal %d: not drawn", proposed.proposal_id)
            return
        self.metrics.selected.inc()
        log.info(
            "proposal %d of task %d (base version %d): drawn with weight %d",
            proposed.proposal_id,
            proposed.task_id,
            proposed.base_version,
            weight,
        )
        commit_end = block.height + inference_params(self.chain).commit_blocks
        assert self._group is not None
        self._group.create_task(self._score(proposed, proof, commit_end))

    async def _score(self, proposed: Proposed, proof: bytes, commit_end: int) -> None:
        started = time.monotonic()
        pid = proposed.proposal_id
        blob = await self._fetch_in_time(proposed, commit_end)
        score = 0 if blob is None else await asyncio.to_thread(self._evaluate, blob, pid)
        if self.chain.head.height >= commit_end:
            log.warning(
                "proposal %d: scored after its commit window closed (height %d); skipped",
                pid,
                commit_end,
            )
            return
        self.metrics.scored.inc()
        self.metrics.score_seconds.observe(time.monotonic() - started)
        if self.byzantine is Byzantine.RANDOM_FL_SCORE:
            measured, score = score, self._random_score(pid)
            log.warning(
                "proposal %d: committing random score %d instead of %d (byzantine test mode)",
                pid,
                score,
                measured,
            )
        salt, hidden = seal(score_word(score), self.member.address)
        entry = ScoreEntry(
            pid, proposed.task_id, score, salt, hidden, commit_end, proposed.deadline
        )
        self.scores.put(entry)  # before the commitment leaves (DESIGN.md §5 step 5)
        log.info("proposal %d: score %d", pid, score)
        data = selector(COMMIT_SCORE) + encode_values(
            ["uint256", "bytes32", "bytes"], [pid, hidden, proof]
        )
        what = f"score commit for {pid}"
        if self.member.bond_covers_commit(what) and self.member.send(
            FL_REGISTRY_ADDRESS, data, COMMIT_GAS, what
        ):
            self.metrics.commits.inc()

    async def _fetch_in_time(self, proposed: Proposed, commit_end: int) -> bytes | None:
        """The proposal's weights, retried until the last block of the commit window; None
        (it scores 0) when no peer serves them by then or they are over the size limit."""
        while True:
            try:
                return await self._fetch(proposed.weights_hash, proposed.size)
            except BlobTooLarge as exc:
                reason = str(exc)
            except BlobUnavailable as exc:
                if self.chain.head.height + 1 < commit_end:
                    await asyncio.sleep(FETCH_RETRY_S)
                    continue
                reason = str(exc)
            log.warning(
                "proposal %d: weights 0x%s cannot be fetched (%s); they score 0",
                proposed.proposal_id,
                proposed.weights_hash.hex(),
                reason,
            )
            return None

    def _evaluate(self, blob: bytes, proposal_id: int) -> int:
        """Accuracy on the validation shard, in score units; 0 for weights that do not parse
        (runs in a worker thread)."""
        from node.fl.train import score  # local: torch loads in scoring threads only

        validation = self._validation_data()
        try:
            return score(blob, validation)
        except ValueError as exc:
            log.warning(
                "proposal %d: weights do not parse as %s (%s); they score 0",
                proposal_id,
                MODEL_ID,
                exc,
            )
            return 0

    def _validation_data(self) -> Dataset:
        if self._validation is None:
            assert self.shard is not None
            self._validation = validation_shard(*self.shard, name=DATA_SET)
        return self._validation

    def _random_score(self, proposal_id: int) -> int:
        seed = keccak256(b"random-fl-score" + self.member.address + proposal_id.to_bytes(32, "big"))
        return random.Random(seed).randint(0, SCORE_SCALE)

    # --- reveal and after the deadline ----------------------------------------------------------

    def _advance(self, height: int) -> None:
        """Reveal what is due once commits close; forget what is settled."""
        if self.member.stake == 0:  # it journals nothing
            return
        for entry in self.scores.entries():
            if height >= entry.deadline:
                self._after_deadline(entry, height)
            elif height >= entry.commit_end and not entry.revealed:
                self._reveal(entry)

    def _reveal(self, entry: ScoreEntry) -> None:
        pid = entry.proposal_id
        if load_score(fl_slots(self.chain), pid, self.member.address) is None:
            log.warning("proposal %d: our score commit never landed; nothing to reveal", pid)
            self.scores.delete(pid)
            return
        self.scores.put(replace(entry, revealed=True))
        data = selector(REVEAL_SCORE) + encode_values(
            ["uint256", "uint256", "bytes32"], [pid, entry.score, entry.salt]
        )
        if self.member.send(FL_REGISTRY_ADDRESS, data, REVEAL_GAS, f"score reveal for {pid}"):
            self.metrics.reveals.inc()

    def _after_deadline(self, entry: ScoreEntry, height: int) -> None:
        """Keep an entry only while its proposal's version may still take our attestation."""
        slots = fl_slots(self.chain)
        proposal = load_proposal(slots, entry.proposal_id)
        mine = load_score(slots, entry.proposal_id, self.member.address)
        waiting = (
            proposal is not None
            and proposal.status is ProposalStatus.ACCEPTED
            and mine is not None
            and mine.revealed
            and not mine.attested
            and height < attest_end(entry.deadline)
        )
        if not waiting:
            self.scores.delete(entry.proposal_id)

    def _attest_due(self) -> None:
        """Attest the versions made from proposals we revealed for, once recomputed here."""
        if self.member.stake == 0:  # it journals nothing
            return
        head = self.chain.head.height
        slots = fl_slots(self.chain)
        for entry in self.scores.entries():
            if entry.attested or not entry.deadline <= head < attest_end(entry.deadline):
                continue
            proposal = load_proposal(slots, entry.proposal_id)
            if proposal is None or proposal.status is not ProposalStatus.ACCEPTED:
                continue
            task = load_task(slots, proposal.task_id)
            assert task is not None  # a proposal's task exists
            version = version_of(slots, proposal, entry.deadline, task.version)
            record = None if version is None else self.records.get(task.task_id, version)
            mine = load_score(slots, entry.proposal_id, self.member.address)
            if record is None or mine is None or not mine.revealed or mine.attested:
                continue
            self.scores.put(replace(entry, attested=True))
            data = selector(ATTEST_VERSION) + encode_values(
                ["uint256", "uint256", "bytes32"],
                [task.task_id, record.version, record.computed_hash],
            )
            what = f"attestation of task {task.task_id} version {record.version}"
            if self.member.send(FL_REGISTRY_ADDRESS, data, ATTEST_GAS, what):
                self.metrics.attests.inc()

    # --- recomputation --------------------------------------------------------------------------

    async def _recompute_loop(self) -> None:
        """After each committed block: recompute what is new, attest, collect blobs."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            for task_id in task_ids(fl_slots(self.chain)):
                await self._recompute(task_id)
            self._attest_due()
            await self._collect()

    async def _recompute(self, task_id: int) -> None:
        """Bring the task's recomputed versions up to the chain's, as far as blobs allow."""
        task = load_task(fl_slots(self.chain), task_id)
        assert task is not None  # ids up to the last task exist
        if task_id in self._broken or model_name(task) != MODEL_ID:
            return
        latest = self._latest.get(task_id)
        try:
            while latest is None or latest.version < task.version:
                try:
                    if latest is None:
                        latest = await self._version_zero(task)
                    else:
                        latest = await self._next_version(task, latest)
                except BlobUnavailable:
                    first = 1 if latest is None else latest.version + 1
                    adopted = await self._adopt_attested(task, first)
                    if adopted is None:
                        raise
                    latest = adopted
        except BlobUnavailable as exc:
            version = 0 if latest is None else latest.version + 1
            if (task_id, version) not in self._stuck:
                self._stuck.add((task_id, version))
                log.warning("task %d version %d: cannot recompute yet: %s", task_id, version, exc)
        except ValueError as exc:  # the previous global weights do not parse: a bad version 0
            self._broken.add(task_id)
            log.error("task %d: its global weights cannot be recomputed here: %s", task_id, exc)

    async def _version_zero(self, task: Task) -> VersionRecord:
        blob = await self._fetch(task.initial_weights, task.initial_size)
        accuracy = await asyncio.to_thread(self._test_accuracy, blob)
        record = VersionRecord(task.task_id, 0, task.initial_weights, accuracy)
        self._keep(record)
        log.info(
            "task %d version 0: initial weights 0x%s", task.task_id, record.computed_hash.hex()
        )
        return record

    async def _adopt_attested(self, task: Task, first: int) -> VersionRecord | None:
        """Catch up where the blobs to recompute from are gone (a node that joins or returns
        after its peers collected them): take the newest attested global weights of a version
        from `first` on that some peer still serves. None when there is none."""
        slots = fl_slots(self.chain)
        for version in range(task.version, first - 1, -1):
            made = load_version(slots, task.task_id, version)
            assert made is not None  # versions up to the task's current one exist
            if made.global_hash == ZERO_HASH:
                continue
            try:
                blob = await self._fetch(made.global_hash, None)
            except BlobUnavailable:
                continue
            accuracy = await asyncio.to_thread(self._test_accuracy, blob)
            record = VersionRecord(task.task_id, version, made.global_hash, accuracy, adopted=True)
            self._keep(record)
            log.warning(
                "task %d: versions %d..%d cannot be recomputed here (their blobs are gone); "
                "went on from version %d's attested global weights 0x%s",
                task.task_id,
                first,
                version,
                version,
                made.global_hash.hex(),
            )
            return record
        return None

    async def _next_version(self, task: Task, previous: VersionRecord) -> VersionRecord:
        """Version previous + 1: mix(previous global, the proposal's local weights, α).

        Raises:
            BlobUnavailable: a blob it needs is neither here nor on any peer.
            ValueError: the previous global weights do not parse as the model.
        """
        started = time.monotonic()
        version = previous.version + 1
        slots = fl_slots(self.chain)
        made = load_version(slots, task.task_id, version)
        assert made is not None  # versions up to the task's current one exist
        proposal = load_proposal(slots, made.proposal_id)
        assert proposal is not None  # a version's proposal exists
        before = await self._fetch(previous.computed_hash, None)
        local = await self._fetch(proposal.weights_hash, proposal.size)
        blob = await asyncio.to_thread(merge, before, local, made.alpha, made.proposal_id)
        global_id = await asyncio.to_thread(self.chain.store.blobs.put, blob)
        accuracy = await asyncio.to_thread(self._test_accuracy, blob)
        record = VersionRecord(task.task_id, version, global_id, accuracy)
        self._keep(record)
        self.metrics.recomputed.inc()
        self.metrics.recompute_seconds.observe(time.monotonic() - started)
        log.info(
            "task %d version %d: global 0x%s from proposal %d, alpha %d/%d, test accuracy %s",
            task.task_id,
            version,
            global_id.hex(),
            made.proposal_id,
            made.alpha,
            SCORE_SCALE,
            "n/a" if accuracy is None else f"{accuracy / SCORE_SCALE:.4f}",
        )
        if made.global_hash != ZERO_HASH:
            self._check_attested(task.task_id, version, made.global_hash)
        return record

    def _keep(self, record: VersionRecord) -> None:
        self.records.put(record)
        self._latest[record.task_id] = record

    def _test_accuracy(self, blob: bytes) -> int | None:
        """Accuracy on the held-out test split in score units; None for weights that do not
        parse (runs in a worker thread)."""
        from node.fl.train import evaluate, score_units  # local: torch loads here only

        try:
            accuracy, _ = evaluate(blob, splits(DATA_SET).test)
        except ValueError:
            return None
        return score_units(accuracy)

    def _check_attested(self, task_id: int, version: int, attested: bytes) -> None:
        """Compare the chain's final hash of a version with ours, if we have computed it."""
        record = self.records.get(task_id, version)
        if record is None:
            return
        if record.computed_hash != attested:
            self.metrics.mismatches.inc()
            log.error(
                "FL HASH MISMATCH: task %d version %d: the chain attests 0x%s, this node "
                "computed 0x%s",
                task_id,
                version,
                attested.hex(),
                record.computed_hash.hex(),
            )
        else:
            log.info("task %d version %d: attested hash matches ours", task_id, version)

    async def _fetch(self, blob_id: bytes, size: int | None) -> bytes:
        """A blob from the store or peers, pinned while it is being fetched.

        Raises:
            BlobTooLarge, BlobUnavailable: as BlobFetcher.fetch.
        """
        await self.pins.pin(blob_id, self.chain.head.height)
        return await self.fetcher.fetch(blob_id, size)

    # --- garbage collection ---------------------------------------------------------------------

    def needed_blobs(self, pinned: set[bytes]) -> set[bytes]:
        """Every blob the node must keep now, `pinned` ones included (see the module
        docstring). Tasks it does not recompute need only their pending proposals' blobs."""
        slots = fl_slots(self.chain)
        needed = set(pinned)
        for task_id in task_ids(slots):
            task = load_task(slots, task_id)
            assert task is not None  # ids up to the last task exist
            if task_id in self._broken or model_name(task) != MODEL_ID:
                continue
            latest = self._latest.get(task_id)
            kept_from = max(0, task.version - task.staleness)
            if latest is None:
                needed.add(task.initial_weights)
            else:
                needed.add(latest.computed_hash)
                for version in range(kept_from, latest.version + 1):
                    record = self.records.get(task_id, version)
                    if record is not None:
                        needed.add(record.computed_hash)
            unmixed = 1 if latest is None else latest.version + 1
            for version in range(max(1, min(kept_from, unmixed)), task.version + 1):
                made = load_version(slots, task_id, version)
                proposal = None if made is None else load_proposal(slots, made.proposal_id)
                if proposal is not None:
                    needed.add(proposal.weights_hash)
        needed.update(p.weights_hash for p in pending_proposals(slots))
        return needed

    async def _collect(self) -> None:
        async with self.pins.collecting(self.chain.head.height) as pinned:
            needed = self.needed_blobs(pinned)
            removed = await asyncio.to_thread(self.chain.store.blobs.collect, needed)
        if removed:
            self.metrics.collected.inc(removed)
            log.info("collected %d blobs no version needs", removed)


def merge(global_blob: bytes, local_blob: bytes, alpha_units: int, proposal_id: int) -> bytes:
    """The next global version's blob: mix(global, local, α) (node/fl/mixing.py), or the global
    weights unchanged when the local blob does not parse as the model.

    Raises:
        ValueError: the global blob does not parse as the model.
    """
    from node.fl.mixing import mix  # local: numpy loads in recomputing threads only

    try:
        from_blob(local_blob)
    except ValueError as exc:
        log.error(
            "proposal %d was accepted with weights that do not parse as %s (%s); the version "
            "keeps the previous global weights",
            proposal_id,
            MODEL_ID,
            exc,
        )
        from_blob(global_blob)
        return global_blob
    return mix(global_blob, local_blob, alpha_units)
