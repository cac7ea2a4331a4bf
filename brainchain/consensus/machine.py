"""Tendermint consensus (Buchman, Kwon, Milosevic, arXiv 1807.04938, Algorithm 1), sans I/O.

`Machine.handle(event)` returns the actions the driver performs, in order (STYLE.md §4). Values
are block hashes: the node judges `valid(v)` before handing a proposal in and keeps the block
bytes. The machine signs its own proposals and votes with an injected signer and feeds them
back to itself by the peers' path, so no rule is special-cased for the local validator.

Every signed message is returned as `WalAppend` before its `Broadcast`. A machine built with
the WAL entries of its height remembers what it signed and re-sends those messages instead of
signing different ones for the same height, round and step; its lock is the highest-round
non-nil precommit in the WAL, which is exactly where Alg. 1 L38-39 last set it.

The votes of the height just decided are kept until the next decision, as CometBFT keeps its
LastCommit: a vote for that height that conflicts with one held is still `Evidence`, so a
double voter whose second precommit lands after the honest ones decided is caught.

Gossip is the driver's job. Messages get lost, so the driver re-broadcasts `own_messages()`
on a timer; and the paper assumes that what one correct process receives, all eventually do,
so a driver whose machine stays at one height for a while relays `known_messages()` to a
peer. The simulator does both; the node's gossip layer does the same.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from enum import IntEnum

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
from brainchain.consensus.proposer import ProposerSchedule
from brainchain.consensus.timeouts import TimeoutConfig, TimeoutKind
from brainchain.consensus.votekeeper import VoteKeeper
from brainchain.types.commit import make_commit
from brainchain.types.validators import ValidatorSet
from brainchain.types.vote import NO_ROUND, ConsensusMessage, Proposal, Vote, VoteKind

Signer = Callable[[bytes], bytes]  # sign-bytes -> signature (ed25519 in the node)

# A proposer that equivocates is reported once per round; keeping more of its proposals than
# the two that make the evidence gains nothing (a value we miss comes back by block sync).
MAX_PROPOSALS_PER_ROUND = 2
# Messages for the next height are kept until we get there; a cap bounds what a peer can park.
MAX_NEXT_HEIGHT_EVENTS = 10_000
# Votes for rounds further ahead than this are dropped, so a Byzantine validator cannot make us
# keep a tally for every round number; correct validators that far ahead are caught up with by
# block sync once they decide.
MAX_ROUNDS_AHEAD = 1_000


class Step(IntEnum):
    """step_p of Alg. 1 L4, ordered so that `step >= PREVOTE` reads as L36."""

    PROPOSE = 0
    PREVOTE = 1
    PRECOMMIT = 2


class Machine:
    """One validator's (or observer's) consensus instance: Alg. 1 state plus its message log."""

    # Alg. 1 L2-9, paper names minus _p; -1 is "no round".
    height: int
    round: int
    step: Step
    locked_value: bytes | None
    locked_round: int
    valid_value: bytes | None
    valid_round: int
    _requested: tuple[int, int] | None  # the (height, round) of our pending RequestValue

    def __init__(
        self,
        *,
        chain_id: int,
        validators: ValidatorSet,
        index: int | None,
        signer: Signer,
        height: int,
        wal: Iterable[ConsensusMessage] = (),
        timeouts: TimeoutConfig | None = None,
        proposers: ProposerSchedule | None = None,
    ) -> None:
        """A machine at `height`, not started: hand it `Start()` first.

        `index` is this validator's index in `validators`, None for a node that only follows.
        `wal` holds the entries of earlier `WalAppend`s; those of other heights are ignored.
        """
        self.chain_id = chain_id
        self.validators = validators
        self.index = index
        self._sign = signer
        self._timeouts = timeouts or TimeoutConfig()
        self._proposers = proposers or ProposerSchedule(validators)
        self._started = False
        self._loopback: deque[Event] = deque()
        self._next_height_events: list[Event] = []
        # The votes of the height before ours (CometBFT's LastCommit), and the round we left it
        # in: a restarted machine starts with none; the node hands it its last certificate.
        self._finished = VoteKeeper(validators)
        self._finished_round = 0
        self._enter_height(height)
        self._restore(wal)

    # --- driver interface -----------------------------------------------------------------

    def handle(self, event: Event) -> list[Action]:
        """Apply one event and every event it causes here; return the actions, in order.

        Events are trusted: the node has checked each message's signature and that its signer
        is in the validator set, and judged the proposed block for `ProposalReceived.valid`.
        """
        out: list[Action] = []
        self._loopback.append(event)
        while self._loopback:
            out.extend(self._apply(self._loopback.popleft()))
        return out

    def own_messages(self) -> list[ConsensusMessage]:
        """What this validator signed at the current height, by round and step, to re-gossip."""
        return [message for _, message in sorted(self._signed.items())]

    def known_messages(self) -> list[ConsensusMessage]:
        """Every proposal and vote held for the current height, by round: what gossip relays."""
        proposals = [p for _, stored in sorted(self._proposals.items()) for p, _ in stored]
        return [*proposals, *self._keeper.votes()]

    # --- Alg. 1 upon rules ----------------------------------------------------------------

    def start_round(self, round_: int) -> list[Action]:
        """Algorithm 1, L11-21: enter `round_`; its proposer proposes validValue or getValue().

        getValue() is asynchronous here (`RequestValue`, answered by `ValueReady`), so the
        proposer schedules the propose timeout too, lest a slow builder stall the round.
        """
        self.round, self.step = round_, Step.PROPOSE
        out: list[Action] = []
        if self.index is not None and self._proposer(round_) == self.index:
            if self.valid_value is not None:
                out = self._propose(self.valid_value, self.valid_round)
            elif (round_, Step.PROPOSE) in self._signed:
                out = [Broadcast(self._signed[round_, Step.PROPOSE])]
            else:
                self._requested = (self.height, round_)
                out = [RequestValue(self.height, round_)]
        out.append(self._timeout(TimeoutKind.PROPOSE))
        return out

    def upon_proposal(self, v: bytes, valid: bool) -> list[Action]:
        """Algorithm 1, L22-27: a fresh proposal (vr = -1) while in propose: prevote it or nil."""
        acceptable = valid and (self.locked_round == NO_ROUND or self.locked_value == v)
        out = self._vote(VoteKind.PREVOTE, v if acceptable else None)
        self.step = Step.PREVOTE
        return out

    def upon_proposal_with_earlier_polka(self, v: bytes, valid: bool, vr: int) -> list[Action]:
        """Algorithm 1, L28-33: a re-proposal with 2f+1 prevotes for it in round vr < round."""
        acceptable = valid and (self.locked_round <= vr or self.locked_value == v)
        out = self._vote(VoteKind.PREVOTE, v if acceptable else None)
        self.step = Step.PREVOTE
        return out

    def upon_any_prevote_quorum(self) -> list[Action]:
        """Algorithm 1, L34-35: 2f+1 prevotes for anything while in prevote, first time."""
        self._prevote_quorum_round = self.round
        return [self._timeout(TimeoutKind.PREVOTE)]

    def upon_polka_for_value(self, v: bytes) -> list[Action]:
        """Algorithm 1, L36-43: proposal and 2f+1 PREVOTE for id(v) this round, first time."""
        self._polka_value_round = self.round
        out: list[Action] = []
        if self.step is Step.PREVOTE:
            self.locked_value, self.locked_round = v, self.round
            out = self._vote(VoteKind.PRECOMMIT, v)
            self.step = Step.PRECOMMIT
        self.valid_value, self.valid_round = v, self.round
        return out

    def upon_polka_nil(self) -> list[Action]:
        """Algorithm 1, L44-46: 2f+1 prevotes for nil while in prevote: precommit nil."""
        out = self._vote(VoteKind.PRECOMMIT, None)
        self.step = Step.PRECOMMIT
        return out

    def upon_any_precommit_quorum(self) -> list[Action]:
        """Algorithm 1, L47-48: 2f+1 precommits for anything this round, first time."""
        self._precommit_quorum_round = self.round
        return [self._timeout(TimeoutKind.PRECOMMIT)]

    def upon_decision(self, round_: int, v: bytes) -> list[Action]:
        """Algorithm 1, L49-54: proposal and 2f+1 PRECOMMIT for id(v) in some round: decide v.

        Deciding moves to the next height at once, so "decision_p[h_p] = nil" always holds here.
        """
        certificate = make_commit(self.height, round_, v, self._keeper.precommits_for(round_, v))
        out: list[Action] = [Decide(self.height, round_, v, certificate)]
        parked, self._next_height_events = self._next_height_events, []
        self._leave_height(self.height + 1)
        out.extend(self.start_round(0))
        self._loopback.extend(parked)
        return out

    def upon_higher_round(self, round_: int) -> list[Action]:
        """Algorithm 1, L55-56: f+1 of the power voted in a round above ours: jump to it."""
        return self.start_round(round_)

    def on_timeout_propose(self, height: int, round_: int) -> list[Action]:
        """Algorithm 1, L57-60: no acceptable proposal in time: prevote nil.

        The paper guards with step = propose (malachite's markdown copy misprints prevote).
        """
        if (height, round_, self.step) != (self.height, self.round, Step.PROPOSE):
            return []
        out = self._vote(VoteKind.PREVOTE, None)
        self.step = Step.PREVOTE
        return out

    def on_timeout_prevote(self, height: int, round_: int) -> list[Action]:
        """Algorithm 1, L61-64: no polka in time after 2f+1 prevotes: precommit nil."""
        if (height, round_, self.step) != (self.height, self.round, Step.PREVOTE):
            return []
        out = self._vote(VoteKind.PRECOMMIT, None)
        self.step = Step.PRECOMMIT
        return out

    def on_timeout_precommit(self, height: int, round_: int) -> list[Action]:
        """Algorithm 1, L65-67: no decision in time after 2f+1 precommits: next round."""
        if (height, round_) != (self.height, self.round):
            return []
        return self.start_round(round_ + 1)

    # --- events ---------------------------------------------------------------------------

    def _apply(self, event: Event) -> list[Action]:
        if isinstance(event, VoteReceived):
            return self._receive_vote(event)
        if isinstance(event, ProposalReceived):
            return self._receive_proposal(event)
        if isinstance(event, TimeoutFired):
            out = self._on_timeout(event)
        elif isinstance(event, ValueReady):
            out = self._value_ready(event)
        elif isinstance(event, DecidedBySync):
            out = self._decided_by_sync(event.height)
        else:
            out = self._start(event)
        return out + self._progress()

    def _start(self, _: Start) -> list[Action]:
        """Alg. 1 L10; after a restart, resume at the last round we signed in, by the WAL."""
        if self._started:
            return []
        self._started = True
        out = self.start_round(self._resume_round)
        for message in self.own_messages():
            if isinstance(message, Proposal):
                self._loopback.append(ProposalReceived(message, True))
            else:
                self._loopback.append(VoteReceived(message))
        return out

    def _receive_vote(self, event: VoteReceived) -> list[Action]:
        vote = event.vote
        if vote.height == self.height - 1:
            return self._receive_late_vote(vote)
        if vote.height != self.height:
            self._park(event, vote.height)
            return []
        if vote.round > self.round + MAX_ROUNDS_AHEAD:
            return []
        result = self._keeper.add(vote)
        out: list[Action] = [] if result.evidence is None else [Evidence(*result.evidence)]
        if result.thresholds:  # no new threshold, no rule can newly hold
            out.extend(self._progress())
        return out

    def _receive_late_vote(self, vote: Vote) -> list[Action]:
        """A vote of the height we just finished: no rule needs it, but it may prove its signer
        equivocated there. An equivocator's second vote often lands just after the honest
        votes decided the height; kept with the finished height's votes, it is still caught."""
        if vote.round > self._finished_round + MAX_ROUNDS_AHEAD:
            return []
        evidence = self._finished.add(vote).evidence
        return [] if evidence is None else [Evidence(*evidence)]

    def _receive_proposal(self, event: ProposalReceived) -> list[Action]:
        proposal = event.proposal
        if proposal.height != self.height:
            self._park(event, proposal.height)
            return []
        if proposal.proposer != self._proposer(proposal.round):
            return []
        stored = self._proposals.setdefault(proposal.round, [])
        if len(stored) >= MAX_PROPOSALS_PER_ROUND or any(
            (p.block_hash, p.valid_round) == (proposal.block_hash, proposal.valid_round)
            for p, _ in stored
        ):
            return []
        stored.append((proposal, event.valid))
        out: list[Action] = [Evidence(stored[0][0], proposal)] if len(stored) == 2 else []
        return out + self._progress()

    def _on_timeout(self, event: TimeoutFired) -> list[Action]:
        if event.kind is TimeoutKind.PROPOSE:
            return self.on_timeout_propose(event.height, event.round)
        if event.kind is TimeoutKind.PREVOTE:
            return self.on_timeout_prevote(event.height, event.round)
        return self.on_timeout_precommit(event.height, event.round)

    def _value_ready(self, event: ValueReady) -> list[Action]:
        """getValue() returns (Alg. 1 L18): propose it, if this round still waits for it."""
        if self._requested != (event.height, event.round) or event.round != self.round:
            return []
        self._requested = None
        if self.step is not Step.PROPOSE:
            return []
        return self._propose(event.block_hash, NO_ROUND)

    def _decided_by_sync(self, height: int) -> list[Action]:
        if height < self.height:
            return []
        parked = self._next_height_events if height == self.height else []
        self._next_height_events = []
        self._leave_height(height + 1)
        self._loopback.extend(parked)
        return self.start_round(0) if self._started else []

    # --- rule selection -------------------------------------------------------------------

    def _progress(self) -> list[Action]:
        """Fire enabled rules until none is: each firing changes step, round, height or a flag."""
        out: list[Action] = []
        while self._started:
            fired = self._next_rule()
            if fired is None:
                break
            out.extend(fired)
        return out

    def _next_rule(self) -> list[Action] | None:
        keeper, round_, step = self._keeper, self.round, self.step
        for decided_round, decided in keeper.precommit_values():
            if self._proposal_valid(decided_round, decided):
                return self.upon_decision(decided_round, decided)
        if keeper.skip_round() > round_:
            return self.upon_higher_round(keeper.skip_round())
        if step is Step.PROPOSE:
            for proposal, valid in self._proposals.get(round_, ()):
                vr = proposal.valid_round
                if vr == NO_ROUND:
                    return self.upon_proposal(proposal.block_hash, valid)
                if 0 <= vr < round_ and keeper.polka_value(vr) == proposal.block_hash:
                    return self.upon_proposal_with_earlier_polka(proposal.block_hash, valid, vr)
        if (
            step is Step.PREVOTE
            and self._prevote_quorum_round != round_
            and keeper.any_quorum(round_, VoteKind.PREVOTE)
        ):
            return self.upon_any_prevote_quorum()
        if step >= Step.PREVOTE and self._polka_value_round != round_:
            v = keeper.polka_value(round_)
            if v is not None and self._proposal_valid(round_, v):
                return self.upon_polka_for_value(v)
        if step is Step.PREVOTE and keeper.polka_nil(round_):
            return self.upon_polka_nil()
        if self._precommit_quorum_round != round_ and keeper.any_quorum(round_, VoteKind.PRECOMMIT):
            return self.upon_any_precommit_quorum()
        return None

    # --- helpers --------------------------------------------------------------------------

    def _leave_height(self, height: int) -> None:
        """Move on to `height`, keeping the votes of the height just finished, if that is the
        one before it (a jump by block sync skips heights whose votes we never saw)."""
        if height == self.height + 1:
            self._finished, self._finished_round = self._keeper, self.round
        else:
            self._finished, self._finished_round = VoteKeeper(self.validators), 0
        self._enter_height(height)

    def _enter_height(self, height: int) -> None:
        """Alg. 1 L1-9 and L52-53: a new height starts with empty state and message log."""
        self.height, self.round, self.step = height, 0, Step.PROPOSE
        self.locked_value, self.locked_round = None, NO_ROUND
        self.valid_value, self.valid_round = None, NO_ROUND
        self._keeper = VoteKeeper(self.validators)
        self._proposals: dict[int, list[tuple[Proposal, bool]]] = {}
        self._signed: dict[tuple[int, Step], ConsensusMessage] = {}
        self._requested = None
        self._resume_round = 0
        # "for the first time" (L34, L36, L47): the round in which each rule last fired.
        self._prevote_quorum_round = NO_ROUND
        self._polka_value_round = NO_ROUND
        self._precommit_quorum_round = NO_ROUND

    def _restore(self, wal: Iterable[ConsensusMessage]) -> None:
        for entry in wal:
            if entry.height != self.height:
                continue
            self._signed[entry.round, _step_of(entry)] = entry
            if (
                isinstance(entry, Vote)
                and entry.kind is VoteKind.PRECOMMIT
                and entry.block_hash is not None
                and entry.round > self.locked_round
            ):
                self.locked_value, self.locked_round = entry.block_hash, entry.round
        # The lock was set together with validValue (L38-43), so it is a valid (value, round).
        self.valid_value, self.valid_round = self.locked_value, self.locked_round
        self._resume_round = max((round_ for round_, _ in self._signed), default=0)

    def _proposer(self, round_: int) -> int:
        return self._proposers.proposer(self.height, round_)

    def _proposal_valid(self, round_: int, v: bytes) -> bool:
        """A proposal for v from round_'s proposer arrived, and valid(v)."""
        return any(p.block_hash == v and valid for p, valid in self._proposals.get(round_, ()))

    def _timeout(self, kind: TimeoutKind) -> ScheduleTimeout:
        delay = self._timeouts.duration_ms(kind, self.round)
        return ScheduleTimeout(kind, self.height, self.round, delay)

    def _propose(self, v: bytes, valid_round: int) -> list[Action]:
        """Alg. 1 L19: broadcast ⟨PROPOSAL, h_p, round_p, v, validRound⟩."""
        signed = self._signed.get((self.round, Step.PROPOSE))
        if signed is not None:
            return [Broadcast(signed)]
        assert self.index is not None  # only the round's proposer proposes
        unsigned = Proposal(self.height, self.round, v, valid_round, self.index)
        proposal = replace(unsigned, signature=self._sign(unsigned.sign_bytes(self.chain_id)))
        self._signed[self.round, Step.PROPOSE] = proposal
        self._loopback.append(ProposalReceived(proposal, True))
        return [WalAppend(proposal), Broadcast(proposal)]

    def _vote(self, kind: VoteKind, v: bytes | None) -> list[Action]:
        """Broadcast our vote of this round, or the one we signed before a restart."""
        if self.index is None:
            return []
        step = Step.PREVOTE if kind is VoteKind.PREVOTE else Step.PRECOMMIT
        signed = self._signed.get((self.round, step))
        if signed is not None:
            return [Broadcast(signed)]
        unsigned = Vote(self.height, self.round, kind, v, self.index)
        vote = replace(unsigned, signature=self._sign(unsigned.sign_bytes(self.chain_id)))
        self._signed[self.round, step] = vote
        self._loopback.append(VoteReceived(vote))
        return [WalAppend(vote), Broadcast(vote)]

    def _park(self, event: Event, height: int) -> None:
        """Keep a message of the next height for when we reach it; drop older and later ones."""
        if height == self.height + 1 and len(self._next_height_events) < MAX_NEXT_HEIGHT_EVENTS:
            self._next_height_events.append(event)


def _step_of(message: ConsensusMessage) -> Step:
    if isinstance(message, Proposal):
        return Step.PROPOSE
    return Step.PREVOTE if message.kind is VoteKind.PREVOTE else Step.PRECOMMIT
