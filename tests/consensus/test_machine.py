"""The upon rules of Tendermint Alg. 1, one behaviour per test, and WAL restarts.

Four validators of power 1: 2f+1 is 3 votes, f+1 is 2. With equal powers the proposer of
(height, round) is validator (height + round) % 4.
"""

from __future__ import annotations

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
from brainchain.consensus.machine import MAX_ROUNDS_AHEAD, Machine, Step
from brainchain.consensus.proposer import ProposerSchedule
from brainchain.consensus.timeouts import TimeoutConfig, TimeoutKind
from brainchain.crypto.ed25519 import ConsensusKey
from brainchain.crypto.keccak import keccak256
from brainchain.types.validators import ValidatorSet
from brainchain.types.vote import ConsensusMessage, Proposal, Vote, VoteKind, verify_message

CHAIN_ID = 7
H = 1
A, B = b"\xaa" * 32, b"\xbb" * 32
VALIDATORS = ValidatorSet.from_pairs((i.to_bytes(32, "big"), 1) for i in range(4))
SCHEDULE = ProposerSchedule(VALIDATORS)
TIMEOUTS = TimeoutConfig()
PROPOSE, PREVOTE, PRECOMMIT = TimeoutKind.PROPOSE, TimeoutKind.PREVOTE, TimeoutKind.PRECOMMIT


def sign(message: bytes) -> bytes:
    return keccak256(message) * 2


class Driver:
    """Feeds events to a machine like the node does, checking every send was logged first."""

    def __init__(
        self, index: int | None = 0, height: int = H, wal: list[ConsensusMessage] | None = None
    ) -> None:
        self.wal = [] if wal is None else list(wal)
        self.machine = Machine(
            chain_id=CHAIN_ID,
            validators=VALIDATORS,
            index=index,
            signer=sign,
            height=height,
            wal=self.wal,
        )
        self.sent: list[ConsensusMessage] = []

    def __call__(self, *events: Event) -> list[Action]:
        out: list[Action] = []
        for event in events:
            for action in self.machine.handle(event):
                if isinstance(action, WalAppend):
                    self.wal.append(action.entry)
                elif isinstance(action, Broadcast):
                    assert action.message in self.wal, "broadcast before its WAL append"
                    self.sent.append(action.message)
                out.append(action)
        return out


def proposal(
    v: bytes, round_: int = 0, vr: int = -1, valid: bool = True, height: int = H
) -> ProposalReceived:
    proposer = SCHEDULE.proposer(height, round_)
    return ProposalReceived(Proposal(height, round_, v, vr, proposer, b"p" * 64), valid)


def prevote(validator: int, v: bytes | None, round_: int = 0, height: int = H) -> VoteReceived:
    return VoteReceived(Vote(height, round_, VoteKind.PREVOTE, v, validator, b"v" * 64))


def precommit(validator: int, v: bytes | None, round_: int = 0, height: int = H) -> VoteReceived:
    return VoteReceived(Vote(height, round_, VoteKind.PRECOMMIT, v, validator, b"c" * 64))


def timeout(kind: TimeoutKind, round_: int = 0, height: int = H) -> TimeoutFired:
    return TimeoutFired(kind, height, round_)


def votes(actions: list[Action], kind: VoteKind) -> list[tuple[int, bytes | None]]:
    """(round, value) of each vote of `kind` broadcast in `actions`."""
    return [
        (a.message.round, a.message.block_hash)
        for a in actions
        if isinstance(a, Broadcast) and isinstance(a.message, Vote) and a.message.kind is kind
    ]


def scheduled(actions: list[Action]) -> list[tuple[TimeoutKind, int, int, int]]:
    return [
        (a.kind, a.height, a.round, a.delay_ms) for a in actions if isinstance(a, ScheduleTimeout)
    ]


def test_proposer_rotation_of_the_fixture() -> None:
    assert [SCHEDULE.proposer(H, r) for r in range(5)] == [1, 2, 3, 0, 1]


def test_start_schedules_the_propose_timeout() -> None:
    """L11-13, L21: a non-proposer waits timeoutPropose(0) for the proposal."""
    d = Driver(0)
    out = d(Start())
    assert scheduled(out) == [(PROPOSE, H, 0, TIMEOUTS.propose_ms)]
    assert (d.machine.round, d.machine.step) == (0, Step.PROPOSE)


def test_proposer_asks_for_a_value_then_proposes_and_prevotes_it() -> None:
    """L14-19, then its own proposal re-enters by the peers' path and L22 prevotes it."""
    d = Driver(1)
    out = d(Start())
    assert RequestValue(H, 0) in out
    assert d(ValueReady(H, 1, A)) == []  # not the round it asked for
    out = d(ValueReady(H, 0, A))
    assert [type(a) for a in out] == [WalAppend, Broadcast, WalAppend, Broadcast]
    sent = out[1]
    assert isinstance(sent, Broadcast) and sent.message == Proposal(
        H, 0, A, -1, 1, sent.message.signature
    )
    assert votes(out, VoteKind.PREVOTE) == [(0, A)]
    assert d(ValueReady(H, 0, B)) == []  # answered once


def test_upon_proposal_prevotes_a_valid_value() -> None:
    """L22-24."""
    d = Driver(0)
    d(Start())
    assert votes(d(proposal(A)), VoteKind.PREVOTE) == [(0, A)]
    assert d.machine.step is Step.PREVOTE


def test_upon_proposal_prevotes_nil_for_an_invalid_value() -> None:
    """L22, L25-26."""
    d = Driver(0)
    d(Start())
    assert votes(d(proposal(A, valid=False)), VoteKind.PREVOTE) == [(0, None)]


def test_proposal_from_another_validator_is_ignored() -> None:
    d = Driver(0)
    d(Start())
    impostor = ProposalReceived(Proposal(H, 0, A, -1, 2, b"p" * 64), True)
    assert d(impostor) == []
    assert d.machine.step is Step.PROPOSE


def test_timeout_propose_prevotes_nil_once() -> None:
    """L57-60, guarded by step = propose as in the paper."""
    d = Driver(0)
    d(Start())
    assert d(timeout(PROPOSE, round_=1)) == []  # stale: another round
    assert votes(d(timeout(PROPOSE)), VoteKind.PREVOTE) == [(0, None)]
    assert d(timeout(PROPOSE)) == []  # step is prevote now
    assert d(proposal(A)) == []  # too late for L22


def test_any_prevote_quorum_schedules_timeout_prevote_once() -> None:
    """L34-35, then L61-64 when the timeout fires in step prevote."""
    d = Driver(0)
    d(Start(), proposal(A))
    assert scheduled(d(prevote(1, B))) == []
    out = d(prevote(2, None))  # A, B, nil: 3 prevotes for anything
    assert scheduled(out) == [(PREVOTE, H, 0, TIMEOUTS.prevote_ms)]
    assert scheduled(d(prevote(3, None))) == []  # not the first time
    assert votes(d(timeout(PREVOTE)), VoteKind.PRECOMMIT) == [(0, None)]
    assert d.machine.step is Step.PRECOMMIT


def test_polka_for_value_locks_and_precommits() -> None:
    """L36-43 in step prevote."""
    d = Driver(0)
    d(Start(), proposal(A), prevote(1, A))
    out = d(prevote(2, A))
    assert votes(out, VoteKind.PRECOMMIT) == [(0, A)]
    m = d.machine
    assert (m.locked_value, m.locked_round, m.valid_value, m.valid_round) == (A, 0, A, 0)
    assert m.step is Step.PRECOMMIT


def test_polka_before_the_proposal_fires_when_the_proposal_comes() -> None:
    """L22 and L36 both hold once the proposal arrives; one event triggers both."""
    d = Driver(0)
    d(Start(), prevote(1, A), prevote(2, A), prevote(3, A))
    out = d(proposal(A))
    assert votes(out, VoteKind.PREVOTE) == [(0, A)]
    assert votes(out, VoteKind.PRECOMMIT) == [(0, A)]


def test_polka_after_precommit_updates_valid_value_only() -> None:
    """L36 in step precommit: L42-43 run, L37-41 do not."""
    d = Driver(0)
    d(Start(), timeout(PROPOSE), prevote(1, A), prevote(2, A))
    d(timeout(PREVOTE))  # precommit nil
    out = d(proposal(A), prevote(3, A))  # polka for A: 1, 2, 3
    assert votes(out, VoteKind.PRECOMMIT) == []
    m = d.machine
    assert (m.valid_value, m.valid_round, m.locked_value, m.locked_round) == (A, 0, None, -1)


def test_polka_nil_precommits_nil() -> None:
    """L44-46."""
    d = Driver(0)
    d(Start(), timeout(PROPOSE), prevote(1, None))
    out = d(prevote(2, None))
    assert votes(out, VoteKind.PRECOMMIT) == [(0, None)]
    assert d.machine.step is Step.PRECOMMIT


def test_any_precommit_quorum_schedules_timeout_then_next_round() -> None:
    """L47-48 in any step (here still propose), then L65-67."""
    d = Driver(0)
    d(Start(), precommit(1, None), precommit(2, A))
    out = d(precommit(3, None))
    assert scheduled(out) == [(PRECOMMIT, H, 0, TIMEOUTS.precommit_ms)]
    assert d(timeout(PRECOMMIT, round_=1)) == []  # stale
    out = d(timeout(PRECOMMIT))
    assert d.machine.round == 1
    assert scheduled(out) == [(PROPOSE, H, 1, TIMEOUTS.propose_ms + TIMEOUTS.propose_delta_ms)]


def test_decision_commits_with_a_certificate_and_starts_the_next_height() -> None:
    """L49-54."""
    d = Driver(0)
    d(Start(), proposal(A), precommit(3, A), precommit(1, A))
    out = d(precommit(2, A))
    decide = next(a for a in out if isinstance(a, Decide))
    assert (decide.height, decide.round, decide.block_hash) == (H, 0, A)
    assert [p.validator for p in decide.certificate.precommits] == [1, 2, 3]
    assert decide.certificate.block_hash == A
    assert (d.machine.height, d.machine.round, d.machine.step) == (H + 1, 0, Step.PROPOSE)
    assert d.machine.locked_round == -1 and d.machine.own_messages() == []


def test_decision_waits_for_the_proposal() -> None:
    """L49 needs ⟨PROPOSAL, h, r, v⟩ and valid(v), not only the precommits."""
    d = Driver(0)
    d(Start(), precommit(1, A), precommit(2, A), precommit(3, A))
    assert d.machine.height == H
    assert d(proposal(A, valid=False)) and d.machine.height == H
    d2 = Driver(0)
    d2(Start(), precommit(1, A), precommit(2, A), precommit(3, A))
    assert any(isinstance(a, Decide) for a in d2(proposal(A)))


def test_decision_for_an_earlier_round() -> None:
    """L49 holds for any round r, not only the current one."""
    d = Driver(0)
    d(Start(), precommit(2, None, round_=2), precommit(3, None, round_=2))
    assert d.machine.round == 2
    d(proposal(A, round_=0), precommit(1, A), precommit(2, A))
    out = d(precommit(3, A))
    assert [(a.height, a.round) for a in out if isinstance(a, Decide)] == [(H, 0)]


def test_round_skip_needs_f_plus_one_of_the_power() -> None:
    """L55-56: one validator in round 3 is not enough, two are."""
    d = Driver(0)
    d(Start())
    assert d(prevote(2, None, round_=3)) == []
    out = d(precommit(3, None, round_=3))
    assert d.machine.round == 3
    assert RequestValue(H, 3) in out  # validator 0 proposes round 3


def test_votes_too_many_rounds_ahead_are_dropped() -> None:
    d = Driver(0)
    d(Start())
    far = MAX_ROUNDS_AHEAD + 1
    d(prevote(2, None, round_=far), precommit(3, None, round_=far))
    assert d.machine.round == 0
    d(prevote(2, None, round_=far - 1), precommit(3, None, round_=far - 1))
    assert d.machine.round == far - 1


def test_lock_then_unlock_by_a_later_polka() -> None:
    """Locked on A in round 0 (L36); a polka for B in round 1 unlocks it in round 2 (L28-30)."""
    d = Driver(0)
    d(Start(), proposal(A), prevote(1, A), prevote(2, A))
    assert (d.machine.locked_value, d.machine.locked_round) == (A, 0)
    d(precommit(1, None), precommit(2, None), timeout(PRECOMMIT))
    # Round 1: no proposal reaches us; the others prevote B (a polka we cannot act on).
    assert votes(d(timeout(PROPOSE, 1)), VoteKind.PREVOTE) == [(1, None)]
    d(prevote(1, B, 1), prevote(2, B, 1), prevote(3, B, 1))
    assert votes(d(timeout(PREVOTE, 1)), VoteKind.PRECOMMIT) == [(1, None)]
    d(precommit(1, B, 1), precommit(2, None, 1), timeout(PRECOMMIT, 1))
    assert d.machine.locked_value == A
    # Round 2: B re-proposed with vr = 1; lockedRound 0 <= 1, so prevote B.
    out = d(proposal(B, round_=2, vr=1))
    assert votes(out, VoteKind.PREVOTE) == [(2, B)]
    out = d(prevote(1, B, 2), prevote(3, B, 2))
    assert votes(out, VoteKind.PRECOMMIT) == [(2, B)]
    assert (d.machine.locked_value, d.machine.locked_round) == (B, 2)


def test_locked_value_refuses_other_values_without_a_newer_polka() -> None:
    """L23 and L29: locked on A in round 1, a fresh B or a B with vr = 0 get nil."""
    d = Driver(0)
    d(Start(), precommit(2, None, 1), precommit(3, None, 1))  # skip to round 1
    d(proposal(A, round_=1), prevote(1, A, 1), prevote(2, A, 1))
    assert (d.machine.locked_value, d.machine.locked_round) == (A, 1)
    d(precommit(1, None, 1), precommit(2, None, 1), timeout(PRECOMMIT, 1))
    assert votes(d(proposal(B, round_=2)), VoteKind.PREVOTE) == [(2, None)]
    d(precommit(2, None, 5), precommit(3, None, 5))  # skip to round 5
    d(prevote(1, B, 0), prevote(2, B, 0), prevote(3, B, 0))  # a polka for B in round 0
    assert votes(d(proposal(B, round_=5, vr=0)), VoteKind.PREVOTE) == [(5, None)]
    d(precommit(2, None, 6), precommit(3, None, 6))  # skip to round 6
    assert votes(d(proposal(A, round_=6)), VoteKind.PREVOTE) == [(6, A)]  # lockedValue = v


def test_locked_proposer_reproposes_its_valid_value() -> None:
    """L15-16, L19: validValue is proposed again, with its round."""
    d = Driver(2)  # proposes round 1
    d(Start(), proposal(A), prevote(1, A), prevote(3, A))
    d(precommit(1, None), precommit(3, None), timeout(PRECOMMIT))
    sent = [m for m in d.sent if isinstance(m, Proposal)]
    assert [(p.round, p.block_hash, p.valid_round) for p in sent] == [(1, A, 0)]


def test_double_votes_and_double_proposals_are_evidence() -> None:
    d = Driver(0)
    d(Start())
    first, second = prevote(1, A), prevote(1, B)
    d(first)
    assert d(second) == [Evidence(first.vote, second.vote)]
    assert d(prevote(1, None)) == []  # reported once
    p1, p2 = proposal(A), proposal(B)
    d(p1)
    assert [a for a in d(p2) if isinstance(a, Evidence)] == [Evidence(p1.proposal, p2.proposal)]


def test_a_late_conflicting_vote_of_the_decided_height_is_evidence() -> None:
    """The decided height's votes are kept: a double voter's second vote, landing after the
    honest ones decided, is still caught; a late copy of a vote held proves nothing."""
    d = Driver(0)
    d(Start(), proposal(A), prevote(2, A), precommit(1, A), precommit(2, A), precommit(3, A))
    assert d.machine.height == H + 1
    assert d(precommit(1, A), prevote(2, A), precommit(3, A)) == []  # late copies
    late = precommit(3, None)
    assert d(late) == [Evidence(precommit(3, A).vote, late.vote)]
    assert d(prevote(2, None)) == [Evidence(prevote(2, A).vote, prevote(2, None).vote)]
    first, second = precommit(0, None, round_=1), precommit(0, B, round_=1)
    assert d(first) == [] and d(second) == [Evidence(first.vote, second.vote)]  # both late
    far = MAX_ROUNDS_AHEAD + 1
    assert d(precommit(1, None, round_=far), precommit(1, B, round_=far)) == []
    assert d.machine.height == H + 1 and d.machine.round == 0  # no rule used them


def test_only_the_height_just_decided_keeps_its_votes() -> None:
    d = Driver(0)
    d(Start(), proposal(A), precommit(1, A), precommit(2, A), precommit(3, A))
    d(DecidedBySync(H + 1))
    assert d(precommit(3, None)) == []  # of H: two heights back, dropped
    d(precommit(1, B, height=H + 2))  # parked for H + 2
    d(DecidedBySync(H + 2))
    assert len(d(precommit(1, None, height=H + 2))) == 1  # its votes were kept
    d(precommit(2, A, height=H + 4))
    d(DecidedBySync(H + 4))  # a jump past H + 3, whose votes it never saw: nothing is kept
    assert d(precommit(2, None, height=H + 4)) == []


def test_restart_from_the_wal_resends_the_same_prevote() -> None:
    """A restarted validator never signs a second, different vote for a height/round/step."""
    before = Driver(0)
    before(Start(), proposal(A))
    assert votes(before.machine.handle(timeout(PROPOSE)), VoteKind.PREVOTE) == []
    after = Driver(0, wal=before.wal)
    after(Start())
    out = after(timeout(PROPOSE))  # the rule now says nil; the WAL says A
    assert votes(out, VoteKind.PREVOTE) == [(0, A)]
    assert not any(isinstance(a, WalAppend) for a in out)
    assert after.wal == before.wal


def test_restart_from_the_wal_keeps_the_lock_and_the_round() -> None:
    before = Driver(0)
    before(Start(), proposal(A), prevote(1, A), prevote(2, A))
    before(precommit(1, None), precommit(2, None), timeout(PRECOMMIT))
    before(timeout(PROPOSE, 1))  # prevote nil in round 1
    after = Driver(0, wal=before.wal)
    after(Start())
    m = after.machine
    assert (m.round, m.locked_value, m.locked_round, m.valid_value) == (1, A, 0, A)
    assert [(v.round, v.kind) for v in m.own_messages() if isinstance(v, Vote)] == [
        (0, VoteKind.PREVOTE),
        (0, VoteKind.PRECOMMIT),
        (1, VoteKind.PREVOTE),
    ]
    out = after(proposal(B, round_=1))  # L22 fires again: the signed nil prevote goes out
    assert votes(out, VoteKind.PREVOTE) == [(1, None)]
    assert after.wal == before.wal


def test_restarted_proposer_does_not_propose_twice() -> None:
    before = Driver(1)
    before(Start(), ValueReady(H, 0, A))
    after = Driver(1, wal=before.wal)
    out = after(Start())
    assert not any(isinstance(a, (RequestValue, WalAppend)) for a in out)
    assert after.sent == before.wal  # the same proposal, then the same prevote
    assert after(ValueReady(H, 0, B)) == []


def test_messages_of_the_next_height_wait_for_it() -> None:
    d = Driver(0)
    d(Start(), proposal(A))
    assert d(proposal(B, height=H + 1), prevote(1, B, height=H + 1)) == []
    out = d(precommit(1, A), precommit(2, A), precommit(3, A))
    assert votes(out, VoteKind.PREVOTE) == [(0, B)]
    assert d.machine.height == H + 1


def test_decided_by_sync_moves_to_the_next_height() -> None:
    d = Driver(0)
    d(Start(), proposal(B, height=H + 1))
    assert d(DecidedBySync(H - 1)) == []
    out = d(DecidedBySync(H))
    assert d.machine.height == H + 1
    assert votes(out, VoteKind.PREVOTE) == [(0, B)]  # the parked proposal of H + 1
    d(DecidedBySync(H + 5))
    assert (d.machine.height, d.machine.round) == (H + 6, 0)


def test_observer_follows_without_signing() -> None:
    d = Driver(None)
    assert scheduled(d(Start())) == [(PROPOSE, H, 0, TIMEOUTS.propose_ms)]
    out = d(proposal(A), timeout(PROPOSE), precommit(1, A), precommit(2, A), precommit(3, A))
    assert d.sent == [] and d.wal == []
    assert any(isinstance(a, Decide) for a in out)


def test_gossip_queries() -> None:
    d = Driver(0)
    d(Start(), proposal(A), prevote(2, None), prevote(1, A))
    assert [(m.round, type(m)) for m in d.machine.own_messages()] == [(0, Vote)]
    known = d.machine.known_messages()
    assert isinstance(known[0], Proposal)
    assert [m.validator for m in known[1:] if isinstance(m, Vote)] == [0, 1, 2]


def test_votes_signed_with_ed25519_verify() -> None:
    key = ConsensusKey(b"\x05" * 32)
    validators = ValidatorSet.from_pairs(
        [(key.public_key, 1), *((bytes([i]) * 32, 1) for i in range(3))]
    )
    index = validators.index_of(key.public_key)
    assert index is not None
    machine = Machine(
        chain_id=CHAIN_ID, validators=validators, index=index, signer=key.sign, height=H
    )
    machine.handle(Start())
    out = machine.handle(timeout(PROPOSE))
    [vote] = [a.message for a in out if isinstance(a, Broadcast)]
    verify_message(vote, CHAIN_ID, key.public_key)
