"""Runs one consensus machine per validator over the simulated network of a scenario.

The simulator is the machines' driver, doing what the node does around them:
- `Broadcast` → one delivery per peer, through the network model; `ScheduleTimeout` and
  `RequestValue` → `TimeoutFired` / `ValueReady` later, for the same incarnation of the node.
- `WalAppend` → the node's WAL, which survives crashes; a restarted node resumes from it at
  the height after its last committed block.
- Gossip: every `REBROADCAST_MS` each node re-sends `own_messages()` to all peers (lost
  messages would otherwise stall a round for good), and a node still at the height it had at
  the last tick also relays `known_messages()` to one random peer, so what one honest node
  received reaches all of them. The node's gossip layer does the same.
- Block sync: a node that hears of a later height fetches the next block and its certificate
  from a connected honest peer that committed it, and hands its machine `DecidedBySync`.
- Byzantine validators run an honest machine but send each peer one of two conflicting
  versions of every proposal and vote (sometimes both): equivocation and double voting.

Signatures are faked (a constant): the node checks them before its machine sees a message, so
the simulated machines lose nothing by trusting their input.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

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
from brainchain.consensus.proposer import ProposerSchedule
from brainchain.crypto.ed25519 import SIGNATURE_BYTES
from brainchain.sim.clock import Clock
from brainchain.sim.network import Network
from brainchain.sim.scenario import Scenario
from brainchain.types.commit import CommitCertificate
from brainchain.types.validators import ValidatorSet
from brainchain.types.vote import ConsensusMessage, Proposal

CHAIN_ID = 7
FIRST_HEIGHT = 1
FAKE_SIGNATURE = bytes(SIGNATURE_BYTES)
REBROADCAST_MS = 1_000
SYNC_DELAY_MS = 100
MAX_BUILD_MS = 50
# Termination: every honest node must commit the target height within this long of the heal.
TERMINATION_BOUND_MS = 60_000


def fake_sign(_: bytes) -> bytes:
    """The simulator's signer: signatures are not checked inside the simulation."""
    return FAKE_SIGNATURE


@dataclass(frozen=True, slots=True)
class _Local:
    """A timer or a built block of one incarnation of a node; stale after a crash."""

    incarnation: int
    event: Event


@dataclass(frozen=True, slots=True)
class _Crash:
    mid_step: bool


@dataclass(frozen=True, slots=True)
class _Restart:
    pass


@dataclass(frozen=True, slots=True)
class _Gossip:
    pass


@dataclass(frozen=True, slots=True)
class _Sync:
    pass


@dataclass(frozen=True, slots=True)
class _Heal:
    pass


Item = ProposalReceived | VoteReceived | _Local | _Crash | _Restart | _Gossip | _Sync | _Heal


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a run produced, for the checkers."""

    scenario: Scenario
    validators: ValidatorSet
    committed: tuple[dict[int, bytes], ...]  # per node: height -> block hash
    certificates: tuple[dict[int, CommitCertificate], ...]
    valid_values: frozenset[bytes]
    evidence: tuple[tuple[int, Evidence], ...]  # (reporting node, evidence)
    target_height: int  # every honest node must commit it by heal + TERMINATION_BOUND_MS
    end_ms: int
    trace: tuple[tuple[int, int, Item], ...]  # (virtual ms, node, item) when traced


class _Node:
    __slots__ = (
        "committed",
        "cut_next_step",
        "gossip_height",
        "incarnation",
        "machine",
        "sync_pending",
        "wal",
    )

    def __init__(self) -> None:
        self.machine: Machine | None = None
        self.wal: list[ConsensusMessage] = []
        self.committed: dict[int, bytes] = {}
        self.incarnation = 0
        self.cut_next_step = False
        self.sync_pending = False
        self.gossip_height = 0  # the machine's height at the last gossip tick


class Simulation:
    """One deterministic run of a scenario: same scenario, same trace."""

    def __init__(self, scenario: Scenario, *, trace: bool = False) -> None:
        self.scenario = scenario
        self.validators = ValidatorSet.from_pairs(
            (i.to_bytes(32, "big"), power) for i, power in enumerate(scenario.powers)
        )
        self._proposers = ProposerSchedule(self.validators)
        self._rng = random.Random(f"{scenario.seed}/simulator")
        self._network = Network(
            random.Random(f"{scenario.seed}/network"),
            scenario.faults,
            scenario.partitions,
            scenario.heal_ms,
        )
        self._clock: Clock[Item] = Clock()
        self._nodes = [_Node() for _ in scenario.powers]
        self._byzantine = frozenset(scenario.byzantine)
        self._honest = scenario.honest
        self._certificates: list[dict[int, CommitCertificate]] = [{} for _ in scenario.powers]
        self._valid_values: set[bytes] = set()
        self._forged: dict[tuple[int, int], bytes] = {}
        self._evidence: list[tuple[int, Evidence]] = []
        self._target_height: int | None = None
        self._terminated = False
        self._trace: list[tuple[int, int, Item]] | None = [] if trace else None

    def run(self) -> Outcome:
        """Run until every honest node reaches the target height after the heal, or time out."""
        clock, n = self._clock, len(self._nodes)
        for node in range(n):
            self._boot(node)
            clock.schedule(REBROADCAST_MS * (node + 1) // n, node, _Gossip())
        for crash in self.scenario.crashes:
            clock.schedule(crash.at_ms, crash.node, _Crash(crash.mid_step))
            clock.schedule(crash.restart_ms, crash.node, _Restart())
        clock.schedule(self.scenario.heal_ms, 0, _Heal())
        deadline = self.scenario.heal_ms + TERMINATION_BOUND_MS
        while not self._terminated:
            due = clock.pop()
            if due is None or clock.now_ms > deadline:
                break
            node, item = due
            if self._trace is not None:
                self._trace.append((clock.now_ms, node, item))
            self._dispatch(node, item)
        return Outcome(
            scenario=self.scenario,
            validators=self.validators,
            committed=tuple(node.committed for node in self._nodes),
            certificates=tuple(self._certificates),
            valid_values=frozenset(self._valid_values),
            evidence=tuple(self._evidence),
            target_height=self._target_height or 0,
            end_ms=clock.now_ms,
            trace=tuple(self._trace or ()),
        )

    # --- the agenda -------------------------------------------------------------------------

    def _dispatch(self, node: int, item: Item) -> None:
        state = self._nodes[node]
        if isinstance(item, (ProposalReceived, VoteReceived)):
            message = item.proposal if isinstance(item, ProposalReceived) else item.vote
            if state.machine is not None and message.height > state.machine.height:
                self._request_sync(node)
            self._step(node, item)
        elif isinstance(item, _Local):
            if item.incarnation == state.incarnation:
                self._step(node, item.event)
        elif isinstance(item, _Gossip):
            self._gossip(node)
            self._clock.schedule(self._clock.now_ms + REBROADCAST_MS, node, _Gossip())
        elif isinstance(item, _Sync):
            self._sync(node)
        elif isinstance(item, _Crash):
            if item.mid_step:
                state.cut_next_step = True
            else:
                self._kill(node)
        elif isinstance(item, _Restart):
            self._kill(node)
            self._boot(node)
        else:
            self._target_height = self.scenario.heights_after_heal + max(
                max(self._nodes[i].committed, default=0) for i in self._honest
            )
            self._check_termination()

    def _boot(self, node: int) -> None:
        """Start a node, or restart it from its WAL after its last committed height."""
        state = self._nodes[node]
        state.machine = Machine(
            chain_id=CHAIN_ID,
            validators=self.validators,
            index=node,
            signer=fake_sign,
            height=max(state.committed, default=FIRST_HEIGHT - 1) + 1,
            wal=state.wal,
            timeouts=self.scenario.timeouts,
            proposers=self._proposers,
        )
        self._step(node, Start())

    def _kill(self, node: int) -> None:
        state = self._nodes[node]
        state.machine = None
        state.incarnation += 1
        state.cut_next_step = False
        state.sync_pending = False

    def _step(self, node: int, event: Event) -> None:
        """Hand the event to the node's machine and carry out the actions it returns."""
        state = self._nodes[node]
        if state.machine is None:
            return
        actions = state.machine.handle(event)
        if state.cut_next_step:
            actions = actions[: self._rng.randint(0, len(actions))]
            self._kill(node)
        for action in actions:
            self._perform(node, action)

    def _perform(self, node: int, action: Action) -> None:
        state, clock = self._nodes[node], self._clock
        if isinstance(action, Broadcast):
            self._broadcast(node, action.message)
        elif isinstance(action, WalAppend):
            state.wal.append(action.entry)
        elif isinstance(action, ScheduleTimeout):
            timeout = TimeoutFired(action.kind, action.height, action.round)
            clock.schedule(clock.now_ms + action.delay_ms, node, _Local(state.incarnation, timeout))
        elif isinstance(action, RequestValue):
            value = self._rng.randbytes(32)
            self._valid_values.add(value)
            ready = ValueReady(action.height, action.round, value)
            built_at = clock.now_ms + self._rng.randint(1, MAX_BUILD_MS)
            clock.schedule(built_at, node, _Local(state.incarnation, ready))
        elif isinstance(action, Decide):
            self._commit(node, action.height, action.block_hash, action.certificate)
        else:
            self._evidence.append((node, action))

    # --- network ----------------------------------------------------------------------------

    def _gossip(self, node: int) -> None:
        state = self._nodes[node]
        machine = state.machine
        if machine is None:
            return
        for message in machine.own_messages():
            self._broadcast(node, message)
        if machine.height == state.gossip_height:
            peer = self._rng.choice([p for p in range(len(self._nodes)) if p != node])
            for message in machine.known_messages():
                self._send(node, peer, message)
        state.gossip_height = machine.height

    def _broadcast(self, node: int, message: ConsensusMessage) -> None:
        if node not in self._byzantine:
            for peer in range(len(self._nodes)):
                if peer != node:
                    self._send(node, peer, message)
            return
        versions = (message, self._conflicting(message))
        for peer in range(len(self._nodes)):
            if peer != node:
                pick = self._rng.random()
                for version in versions if pick < 0.2 else (versions[pick < 0.6],):
                    self._send(node, peer, version)

    def _send(self, node: int, peer: int, message: ConsensusMessage) -> None:
        event = self._delivery(message)
        for delay in self._network.delays(node, peer, self._clock.now_ms):
            self._clock.schedule(self._clock.now_ms + delay, peer, event)

    def _delivery(self, message: ConsensusMessage) -> ProposalReceived | VoteReceived:
        if isinstance(message, Proposal):
            return ProposalReceived(message, message.block_hash in self._valid_values)
        return VoteReceived(message)

    def _conflicting(self, message: ConsensusMessage) -> ConsensusMessage:
        """The other version a Byzantine validator signs: another block, or nil vs. a block."""
        forged = self._forged.get((message.height, message.round))
        if forged is None:
            forged = self._forged[message.height, message.round] = self._rng.randbytes(32)
            if self._rng.random() < 0.5:  # half the forged blocks are even valid
                self._valid_values.add(forged)
        if isinstance(message, Proposal):
            return replace(message, block_hash=forged)
        return replace(message, block_hash=None if message.block_hash is not None else forged)

    # --- blocks -----------------------------------------------------------------------------

    def _commit(
        self, node: int, height: int, block_hash: bytes, certificate: CommitCertificate
    ) -> None:
        self._nodes[node].committed[height] = block_hash
        self._certificates[node][height] = certificate
        if height == self._target_height:
            self._check_termination()

    def _request_sync(self, node: int) -> None:
        state = self._nodes[node]
        if not state.sync_pending:
            state.sync_pending = True
            self._clock.schedule(self._clock.now_ms + SYNC_DELAY_MS, node, _Sync())

    def _sync(self, node: int) -> None:
        """Block sync: fetch the next block and its certificate from a connected honest peer."""
        state = self._nodes[node]
        state.sync_pending = False
        if state.machine is None:
            return
        height = state.machine.height
        for peer in self._honest:
            source = self._nodes[peer]
            if (
                peer != node
                and source.machine is not None
                and height in source.committed
                and self._network.connected(peer, node, self._clock.now_ms)
            ):
                certificate = self._certificates[peer][height]
                self._commit(node, height, source.committed[height], certificate)
                self._step(node, DecidedBySync(height))
                if any(height + 1 in self._nodes[p].committed for p in self._honest):
                    self._request_sync(node)
                return

    def _check_termination(self) -> None:
        target = self._target_height
        self._terminated = target is not None and all(
            target in self._nodes[node].committed for node in self._honest
        )
