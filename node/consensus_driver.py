"""The consensus state machine's I/O in a node: network and timers in, WAL, gossip and commits out.

The machine (brainchain/consensus/machine.py) is sans-I/O (STYLE §4). Here:
- gossip becomes events once checked: votes and proposals are decoded and their ed25519
  signatures verified; a proposal's block has its randomness proof checked against its
  proposer's VRF key and is executed on a scratch state in a worker thread to judge valid(v)
  (Tendermint Alg. 1 L22); timers deliver `TimeoutFired`; a built block
  delivers `ValueReady`; a block fetched by sync delivers `DecidedBySync` once committed.
- actions become effects in order: `WalAppend` is written with fsync before anything after it
  runs (so no vote leaves the node unlogged), `Broadcast` gossips, `ScheduleTimeout` sets a
  loop timer, `RequestValue` builds from the mempool once the block interval has passed,
  `Decide` commits the block with its certificate in one atomic batch.
- votes, proposals and transactions go straight to each connected peer (node.p2p.direct);
  that is best effort and one hop, so every second the node re-sends what it signed this
  height through gossipsub, which relays it to nodes we are not connected to, and relays
  everything it holds when its height has not moved; block sync covers the rest.

One task (`_run`) owns the machine and every commit; the others only feed its queue: gossip in,
block sync's fetch loop (node/block_sync.py), timers (node/timers.py). Transactions travel by
node/tx_relay.py; double-sign evidence waits in node/evidence.py until a block records it. Votes
of the height just committed still go to the machine, which catches equivocation among them
(a double voter's second precommit tends to arrive once the honest ones have decided).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from brainchain.consensus.actions import (
    Action,
    Broadcast,
    Decide,
    Evidence,
    RequestValue,
    ScheduleTimeout,
    WalAppend,
)
from brainchain.consensus.events import (
    DecidedBySync,
    Event,
    ProposalReceived,
    Start,
    TimeoutFired,
    ValueReady,
    VoteReceived,
)
from brainchain.consensus.machine import Machine
from brainchain.consensus.timeouts import TimeoutKind
from brainchain.crypto.ed25519 import ConsensusKey
from brainchain.errors import (
    BrainchainError,
    InvalidBlock,
    InvalidConsensusMessage,
)
from brainchain.types.block import Block, decode_block
from brainchain.types.commit import CommitCertificate, decode_commit, verify_commit
from brainchain.types.evidence import DoubleSign
from brainchain.types.validators import ValidatorSet
from brainchain.types.vote import (
    ConsensusMessage,
    Proposal,
    Vote,
    VoteKind,
    decode_vote,
    verify_message,
)
from genesis.format import GenesisValidator
from node.block_sync import BlockSyncer, SyncNetwork
from node.chain import Chain, ChainError
from node.evidence import EvidencePool
from node.metrics import NodeMetrics
from node.p2p import P2PError
from node.p2p.gossip import Gossip, pack_batches, unpack_batch
from node.p2p.limits import (
    TOPIC_EVIDENCE,
    TOPIC_PROPOSALS,
    TOPIC_TXS,
    TOPIC_VOTES,
    gossip_limit,
)
from node.p2p.wire import ProposalMessage, SyncedBlock, decode_proposal_message, encode_votes
from node.timers import Timers, timeouts_for
from node.tx_relay import TransactionRelay
from vm.transition import BuiltBlock

if TYPE_CHECKING:  # at run time the supervisor hands it in: no import cycle
    from node.byzantine_consensus import ByzantineConsensus

log = logging.getLogger(__name__)

REBROADCAST_S = 1.0  # re-send our own messages of the height this often
MAX_FUTURE_S = 10  # a proposed block's timestamp may run this far ahead of our clock
MAX_EARLY_PROPOSALS = 16  # proposals for the height after next, held until we get there


class Network(SyncNetwork, Protocol):
    """What the driver needs from node.p2p.bridge.P2PNode: block sync's needs, and gossip."""

    inbound: asyncio.Queue[Gossip]

    def publish(self, topic: str, data: bytes) -> None: ...

    def send(self, topic: str, data: bytes) -> None: ...

    def penalise(self, peer_id: str, reason: str) -> None: ...


def validator_set(validators: Sequence[GenesisValidator]) -> ValidatorSet:
    """Voting power from the genesis stakes, keyed by consensus key (DESIGN.md §4)."""
    return ValidatorSet.from_pairs((v.consensus_pubkey, v.stake) for v in validators)


class ConsensusDriver:
    """Runs one validator's (or a follower's) consensus over a Chain and a Network."""

    def __init__(
        self,
        chain: Chain,
        network: Network,
        *,
        consensus_key: bytes | None,
        vrf_key: bytes,
        interval_s: float,
        empty_blocks: bool,
        metrics: NodeMetrics | None = None,
        byzantine: ByzantineConsensus | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock`: wall-clock seconds, for the timestamps we propose and the future check of
        those we receive; chaos mode skews it (node/rpc/chaos.py)."""
        self.chain = chain
        self._clock = clock
        self.metrics = metrics
        self.network = network
        self._byzantine = byzantine  # test-only: rewrites what we send (config "byzantine")
        genesis = chain.genesis.validators
        self.validators = validator_set(genesis)
        by_key = {v.consensus_pubkey: v.address for v in genesis}
        self._addresses = [by_key[v.public_key] for v in self.validators]
        self._key = ConsensusKey(consensus_key) if consensus_key is not None else None
        self._vrf_key = vrf_key  # proves the randomness of the blocks we propose
        self.index = None if self._key is None else self.validators.index_of(self._key.public_key)
        self.interval_s = interval_s
        self.empty_blocks = empty_blocks
        self._timeouts = timeouts_for(interval_s)
        # Events for the machine, and fetched blocks whose certificate checked out, to commit.
        self._queue: asyncio.Queue[Event | SyncedBlock] = asyncio.Queue()
        self._executed: dict[bytes, BuiltBlock] = {}  # checked children of the head, by hash
        self._checking: dict[bytes, asyncio.Task[BuiltBlock | None]] = {}  # under way, by hash
        self._blocks: dict[bytes, Block] = {}  # blocks seen in proposals of this height
        self._early: list[tuple[ProposalMessage, str]] = []
        self._seen_votes: set[bytes] = set()
        self._timers = Timers(self._queue.put_nowait)
        self._last_commit = chain.commit_at(chain.head.height) or b""
        self._last_commit_time = 0.0
        self._evidence = EvidencePool(chain, self.validators)
        self._txs = TransactionRelay(
            chain,
            lambda batch: self._emit(TOPIC_TXS, batch, relayed=False),
            network.peers,
            relays=self.index is None,
        )
        self.machine = self._new_machine()
        self._sync = BlockSyncer(
            chain,
            network,
            self.validators,
            deliver=self._queue.put_nowait,
            misbehaved=self._misbehaved,
        )
        self._tasks: asyncio.TaskGroup | None = None

    def _new_machine(self) -> Machine:
        height = self.chain.head.height + 1
        for data in self.chain.store.wal.blocks(height):
            block = decode_block(data)
            self._blocks[block.hash] = block
        return Machine(
            chain_id=self.chain.chain_id,
            validators=self.validators,
            index=self.index,
            signer=self._key.sign if self._key is not None else _no_signer,
            height=height,
            wal=self.chain.store.wal.entries(height),
            timeouts=self._timeouts,
        )

    async def serve(self, ready: asyncio.Event) -> None:
        """Take part in consensus until cancelled; `ready` once the machine has started."""
        self._last_commit_time = asyncio.get_running_loop().time()
        try:
            async with asyncio.TaskGroup() as tasks:
                self._tasks = tasks
                tasks.create_task(self._receive())
                tasks.create_task(self._rebroadcast())
                tasks.create_task(self._sync.run())
                tasks.create_task(self._txs.run())
                self._queue.put_nowait(Start())
                if self._last_commit:  # a restart: the machine has no votes of the head's height
                    self._hand_precommits(decode_commit(self._last_commit))
                ready.set()
                await self._run()
        finally:
            self._timers.cancel_all()

    # --- the machine's task ---------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, SyncedBlock):
                if not await self._commit_synced(item):
                    continue
                item = DecidedBySync(item.block.height)
            await self._perform(self.machine.handle(item))
            if self.metrics is not None:
                m = self.machine
                self.metrics.consensus_at(m.height, m.round, m.step.name.lower())

    async def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, WalAppend):
                await asyncio.to_thread(self._log, action.entry)
            elif isinstance(action, Broadcast):
                self._broadcast([action.message])
            elif isinstance(action, ScheduleTimeout):
                self._schedule(action)
            elif isinstance(action, RequestValue):
                assert self._tasks is not None
                self._tasks.create_task(self._build(action.height, action.round))
            elif isinstance(action, Decide):
                await self._decide(action)
            elif isinstance(action, Evidence):
                evidence = DoubleSign.of(action.first, action.second)
                log.warning(
                    "double signing by validator %d at height %d round %d",
                    _signer(evidence.first),
                    evidence.first.height,
                    evidence.first.round,
                )
                if self._evidence.keep(evidence):
                    self._emit(TOPIC_EVIDENCE, evidence.encode(), relayed=True)

    def _log(self, entry: ConsensusMessage) -> None:
        """WAL-append (fsynced) our message, with the block it names when we may need it back."""
        block = self._blocks.get(entry.block_hash) if entry.block_hash is not None else None
        keep = isinstance(entry, Proposal) or entry.kind is VoteKind.PRECOMMIT
        self.chain.store.wal.append(entry, block.encode() if block and keep else b"")

    def _schedule(self, action: ScheduleTimeout) -> None:
        """A loop timer that hands the machine `TimeoutFired`; stale ones fail its guards."""
        event = TimeoutFired(action.kind, action.height, action.round)
        if action.kind is TimeoutKind.PROPOSE and action.round == 0 and not self.empty_blocks:
            # Without empty blocks a height starts only once there is something to include.
            assert self._tasks is not None
            self._tasks.create_task(self._schedule_when_pending(action, event))
            return
        self._timers.later(action.delay_ms / 1000, event)

    async def _schedule_when_pending(self, action: ScheduleTimeout, event: TimeoutFired) -> None:
        await self._wait_for_transactions()
        self._timers.later(action.delay_ms / 1000, event)

    async def _wait_for_transactions(self) -> None:
        while not self.chain.has_pending():
            self.chain.tx_arrived.clear()
            await self.chain.tx_arrived.wait()

    async def _build(self, height: int, round_: int) -> None:
        """getValue() (Alg. 1 L18): a block from the mempool, after the block interval."""
        loop = asyncio.get_running_loop()
        wait = self._last_commit_time + self.interval_s - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        if not self.empty_blocks:
            await self._wait_for_transactions()
        if self.machine.height != height or self.chain.head.height != height - 1:
            return
        parent = self.chain.head.header
        built = await asyncio.to_thread(
            self.chain.build_candidate,
            self.chain.select_candidates(),
            vrf_key=self._vrf_key,
            timestamp=max(int(self._clock()), parent.timestamp),
            last_commit=self._last_commit,
            evidence=self._evidence.for_block(height),
        )
        if built.block.header.parent_hash != self.chain.head.hash:
            return  # the head moved (block sync) while we built
        self._executed[built.block.hash] = built
        self._blocks[built.block.hash] = built.block
        if self._byzantine is not None:  # an equivocating proposer's second block
            self._blocks.update(await self._byzantine.prepare(built.block))
        self._queue.put_nowait(ValueReady(height, round_, built.block.hash))

    async def _decide(self, action: Decide) -> None:
        """Alg. 1 L49-54: commit the decided block with its certificate."""
        built = self._executed.get(action.block_hash)
        if built is None and action.block_hash in self._blocks:
            built = await self._check(self._blocks[action.block_hash])
        if built is None:
            log.error(
                "decided block %s is unknown here; block sync will fetch it",
                action.block_hash.hex(),
            )
            return
        commit = action.certificate.encode()
        try:
            await self.chain.commit_block(built, commit)
        except ChainError as exc:
            log.warning("decided block %d not committed: %s", action.height, exc)
            return
        self._committed(built.block, commit)
        if built.block.transactions:
            log.info(
                "block %d: %d txs (round %d)",
                action.height,
                len(built.block.transactions),
                action.round,
            )

    async def _commit_synced(self, synced: SyncedBlock) -> bool:
        """Execute and commit a fetched block if it extends our head; True when committed."""
        block = synced.block
        if block.height != self.chain.head.height + 1:
            return False
        built = await self._check(block)
        if built is None:
            return False
        commit = synced.commit.encode()
        await self.chain.commit_block(built, commit)
        self._committed(block, commit)
        self._hand_precommits(synced.commit)
        log.info("block %d committed by block sync", block.height)
        return True

    def _hand_precommits(self, cert: CommitCertificate) -> None:
        """Hand the machine the precommits of a certificate it did not gather (block sync, or
        the one stored before a restart): it keeps them with the votes of the height it just
        finished, so a conflicting precommit that arrives late is still evidence. Their
        signatures were verified when the block was committed."""
        for signature in cert.precommits:
            self._queue.put_nowait(VoteReceived(cert.precommit(signature)))

    def _committed(self, block: Block, commit: bytes) -> None:
        """A new head: forget the finished height's blocks and votes, revisit held proposals."""
        self._evidence.recorded(block)
        self._last_commit = commit
        self._last_commit_time = asyncio.get_running_loop().time()
        self._sync.head_moved()
        self._executed.clear()
        self._blocks.clear()
        self._seen_votes.clear()
        early, self._early = self._early, []
        assert self._tasks is not None
        for message, origin in early:
            self._tasks.create_task(self._on_proposal(message, origin))

    # --- gossip in --------------------------------------------------------------------------

    async def _receive(self) -> None:
        assert self._tasks is not None
        while True:
            gossip = await self.network.inbound.get()
            try:
                if gossip.topic == TOPIC_VOTES:
                    self._on_votes(unpack_batch(gossip.data))
                elif gossip.topic == TOPIC_PROPOSALS:
                    message = decode_proposal_message(gossip.data, self._verify)
                    self._tasks.create_task(self._on_proposal(message, gossip.origin))
                elif gossip.topic == TOPIC_TXS:
                    self._txs.receive(unpack_batch(gossip.data))
                elif gossip.topic == TOPIC_EVIDENCE:
                    self._evidence.receive(gossip.data)
            except BrainchainError as exc:  # DecodingError, InvalidTransaction, bad signature
                self._misbehaved(gossip.origin, f"{gossip.topic}: {exc}")

    def _on_votes(self, items: list[bytes]) -> None:
        """Verified votes to the machine: those of its height and the next, and those of the
        height it just finished, in which it still catches equivocation."""
        height = self.machine.height
        for item in items:
            if item in self._seen_votes:
                continue
            vote = decode_vote(item)
            if not height - 1 <= vote.height <= height + 1:
                continue  # long finished, or too far ahead to matter yet
            self._verify(vote)
            self._seen_votes.add(item)
            self._queue.put_nowait(VoteReceived(vote))

    async def _on_proposal(self, message: ProposalMessage, origin: str) -> None:
        """Judge a proposal's block valid(v) against our head (its signature was checked as
        it was decoded)."""
        proposal, block = message.proposal, message.block
        head = self.chain.head
        if proposal.height <= head.height:
            return
        if proposal.height > head.height + 1:
            if len(self._early) < MAX_EARLY_PROPOSALS:
                self._early.append((message, origin))
            return
        valid = block.hash in self._executed
        if not valid and block.header.proposer == self._addresses[proposal.proposer]:
            valid = await self._check(block) is not None
        if self.chain.head.hash != head.hash:
            return  # committed meanwhile: the verdict is about a finished height
        self._blocks[block.hash] = block
        self._queue.put_nowait(ProposalReceived(proposal, valid))

    async def _check(self, block: Block) -> BuiltBlock | None:
        """valid(v), once per block: a copy that arrives (direct, then relayed) while the block
        is being executed waits for that verdict instead of executing it again."""
        built = self._executed.get(block.hash)
        if built is not None:
            return built
        checking = self._checking.get(block.hash)
        if checking is None:
            assert self._tasks is not None
            checking = self._tasks.create_task(self._execute(block))
            self._checking[block.hash] = checking
            checking.add_done_callback(lambda _: self._checking.pop(block.hash, None))
        return await asyncio.shield(checking)

    async def _execute(self, block: Block) -> BuiltBlock | None:
        """valid(v): the block is a child of the head whose execution matches its header."""
        head = self.chain.head
        try:
            if block.header.timestamp > self._clock() + MAX_FUTURE_S:
                raise InvalidBlock(f"timestamp {block.header.timestamp} is in the future")
            self._check_last_commit(block)
            self._evidence.check(block)
            built = await asyncio.to_thread(self.chain.check_candidate, block)
        except BrainchainError as exc:  # InvalidBlock, InvalidCommit, InvalidTransaction
            log.warning("block %d (%s) is invalid: %s", block.height, block.hash.hex()[:16], exc)
            return None
        if self.chain.head.hash == head.hash:
            self._executed[block.hash] = built
        return built

    def _check_last_commit(self, block: Block) -> None:
        """The certificate a block carries must decide its parent (empty after genesis)."""
        parent = self.chain.head
        if parent.height == 0:
            if block.last_commit:
                raise InvalidBlock("the first block carries a commit certificate")
            return
        cert = decode_commit(block.last_commit)
        if (cert.height, cert.block_hash) != (parent.height, parent.hash):
            raise InvalidBlock(f"last commit certifies height {cert.height}, not the parent")
        verify_commit(cert, self.validators, self.chain.chain_id)

    def _verify(self, message: Proposal | Vote) -> None:
        signer = _signer(message)
        if not 0 <= signer < len(self.validators):
            raise InvalidConsensusMessage(f"message from unknown validator index {signer}")
        verify_message(message, self.chain.chain_id, self.validators[signer].public_key)

    def _misbehaved(self, peer_id: str, reason: str) -> None:
        log.warning("peer %s sent garbage: %s", peer_id, reason)
        with contextlib.suppress(P2PError):
            self.network.penalise(peer_id, reason)

    # --- gossip out -------------------------------------------------------------------------

    def _broadcast(self, messages: Sequence[ConsensusMessage], *, relayed: bool = False) -> None:
        """Send `messages` to each connected peer, or through gossipsub when `relayed`."""
        if self._byzantine is not None:
            messages = self._byzantine.outgoing(messages)
        votes = [m for m in messages if isinstance(m, Vote)]
        for message in messages:
            if isinstance(message, Proposal) and message.block_hash in self._blocks:
                block = self._blocks[message.block_hash]
                self._emit(TOPIC_PROPOSALS, ProposalMessage(message, block).encode(), relayed)
        for batch in pack_batches(encode_votes(votes), gossip_limit(TOPIC_VOTES)):
            self._emit(TOPIC_VOTES, batch, relayed)

    def _emit(self, topic: str, data: bytes, relayed: bool) -> None:
        """`data` on `topic` to each connected peer, or through gossipsub when `relayed`."""
        try:
            if relayed:
                self.network.publish(topic, data)
            else:
                self.network.send(topic, data)
        except P2PError as exc:
            log.warning("%s not sent: %s", topic, exc)

    async def _rebroadcast(self) -> None:
        """Through gossipsub, once a height has lasted a whole tick, re-send what we signed;
        from the next tick on, relay all we hold. A height decided within a second sends
        nothing again: its messages went directly, and a large block is not sent twice.

        Votes of every round of the height go (they are small, and a late precommit can still
        decide an earlier round); a proposal, which carries its block, only for the current
        round, so a stuck network is not flooded with blocks of rounds it has left.
        """
        last_height, ticks = -1, 0
        while True:
            await asyncio.sleep(REBROADCAST_S)
            machine = self.machine
            ticks = ticks + 1 if machine.height == last_height else 0
            last_height = machine.height
            if ticks == 0:
                continue  # the height began within the last tick
            messages = machine.own_messages() if ticks == 1 else machine.known_messages()
            self._broadcast(
                [m for m in messages if isinstance(m, Vote) or m.round == machine.round],
                relayed=True,
            )


def _signer(message: ConsensusMessage) -> int:
    return message.proposer if isinstance(message, Proposal) else message.validator


def _no_signer(_: bytes) -> bytes:
    raise AssertionError("a follower never signs")
