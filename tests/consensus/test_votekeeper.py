"""The vote keeper: weighted thresholds, each reported once; equivocation is evidence."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from brainchain.consensus.votekeeper import (
    MAX_VOTES_PER_VALIDATOR,
    AddResult,
    Quorum,
    Threshold,
    VoteKeeper,
)
from brainchain.types.validators import ValidatorSet
from brainchain.types.vote import Vote, VoteKind

A, B = b"\xaa" * 32, b"\xbb" * 32
POWERS = (5, 3, 2, 2, 1)  # total 13: 2f+1 needs 9 (3*9 > 26), f+1 needs 5 (3*5 > 13)
VALIDATORS = ValidatorSet.from_pairs((i.to_bytes(32, "big"), p) for i, p in enumerate(POWERS))


def vote(validator: int, kind: VoteKind, value: bytes | None, round_: int = 0) -> Vote:
    return Vote(1, round_, kind, value, validator, bytes(64))


def test_thresholds_are_weighted_and_strict() -> None:
    keeper = VoteKeeper(VALIDATORS)
    assert keeper.add(vote(2, VoteKind.PREVOTE, A)).thresholds == ()
    # 2 + 3 = 5 of 13: f+1 (3 * 5 > 13), not yet 2f+1.
    assert keeper.add(vote(1, VoteKind.PREVOTE, A)).thresholds == (Threshold(Quorum.SKIP_ROUND, 0),)
    # 5 + 3 = 8: 3 * 8 = 24 <= 26, still no quorum.
    assert keeper.add(vote(3, VoteKind.PREVOTE, None)).thresholds == ()
    result = keeper.add(vote(0, VoteKind.PREVOTE, A))  # 13 in all, 10 for A
    assert result.thresholds == (
        Threshold(Quorum.PREVOTE_ANY, 0),
        Threshold(Quorum.POLKA_VALUE, 0, A),
    )
    assert keeper.any_quorum(0, VoteKind.PREVOTE) and keeper.polka_value(0) == A
    assert not keeper.polka_nil(0) and not keeper.any_quorum(0, VoteKind.PRECOMMIT)
    assert keeper.skip_round() == 0


def test_precommit_quorum_for_a_value_and_its_votes() -> None:
    keeper = VoteKeeper(VALIDATORS)
    for validator in (3, 0, 1):
        keeper.add(vote(validator, VoteKind.PRECOMMIT, B, round_=2))
    assert keeper.precommit_values() == ((2, B),)
    assert [v.validator for v in keeper.precommits_for(2, B)] == [0, 1, 3]
    assert keeper.precommits_for(1, B) == []


def test_equivocation_is_evidence_and_counts_only_for_its_value() -> None:
    keeper = VoteKeeper(VALIDATORS)
    first, second = vote(0, VoteKind.PREVOTE, A), vote(0, VoteKind.PREVOTE, None)
    keeper.add(first)
    assert keeper.add(first) == AddResult()  # a duplicate changes nothing
    result = keeper.add(second)
    assert result.evidence == (first, second)
    assert keeper.add(vote(0, VoteKind.PREVOTE, B)).evidence is None  # reported once
    # Validator 0's power counts once toward "anything": 5 + 3 = 8 is below 2f+1.
    assert not keeper.add(vote(1, VoteKind.PREVOTE, None)).thresholds
    assert not keeper.any_quorum(0, VoteKind.PREVOTE)
    # But toward nil its second vote counts: 5 + 3 + 2 = 10 for nil is a polka.
    assert Threshold(Quorum.POLKA_NIL, 0) in keeper.add(vote(2, VoteKind.PREVOTE, None)).thresholds
    assert keeper.polka_nil(0)


ROUNDS = 3
VALUES = (None, A, B)


class VoteKeeperMachine(RuleBasedStateMachine):
    """Random votes, duplicates and equivocations: each threshold is reported exactly once,
    exactly when a recount from scratch says it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.keeper = VoteKeeper(VALIDATORS)
        self.reported: list[Threshold] = []
        self.votes: set[tuple[int, VoteKind, int, bytes | None]] = set()
        self.evidence = 0

    @rule(
        validator=st.integers(0, len(POWERS) - 1),
        kind=st.sampled_from(VoteKind),
        round_=st.integers(0, ROUNDS - 1),
        value=st.sampled_from(VALUES),
    )
    def add(self, validator: int, kind: VoteKind, round_: int, value: bytes | None) -> None:
        same_slot = {v for (r, k, i, v) in self.votes if (r, k, i) == (round_, kind, validator)}
        result = self.keeper.add(vote(validator, kind, round_=round_, value=value))
        self.reported.extend(result.thresholds)
        assert (result.evidence is not None) == (len(same_slot) == 1 and value not in same_slot)
        self.votes.add((round_, kind, validator, value))

    @invariant()
    def each_threshold_once_and_exactly_when_it_holds(self) -> None:
        assert len(set(self.reported)) == len(self.reported)
        assert set(self.reported) == self._recount()

    def _recount(self) -> set[Threshold]:
        total = sum(POWERS)
        expected: set[Threshold] = set()
        for r in range(ROUNDS):
            voters = {i for (rr, _, i, _) in self.votes if rr == r}
            if 3 * sum(POWERS[i] for i in voters) > total:
                expected.add(Threshold(Quorum.SKIP_ROUND, r))
            for kind in VoteKind:
                any_voters = {i for (rr, k, i, _) in self.votes if (rr, k) == (r, kind)}
                if 3 * sum(POWERS[i] for i in any_voters) > 2 * total:
                    any_kind = (
                        Quorum.PREVOTE_ANY if kind is VoteKind.PREVOTE else Quorum.PRECOMMIT_ANY
                    )
                    expected.add(Threshold(any_kind, r))
                for value in VALUES:
                    backers = {i for (rr, k, i, v) in self.votes if (rr, k, v) == (r, kind, value)}
                    if 3 * sum(POWERS[i] for i in backers) <= 2 * total:
                        continue
                    if kind is VoteKind.PREVOTE:
                        polka = Quorum.POLKA_NIL if value is None else Quorum.POLKA_VALUE
                        expected.add(Threshold(polka, r, value))
                    elif value is not None:
                        expected.add(Threshold(Quorum.PRECOMMIT_VALUE, r, value))
        return expected


VoteKeeperMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None
)
TestVoteKeeperThresholds = VoteKeeperMachine.TestCase


def test_an_equivocator_cannot_make_us_store_without_bound() -> None:
    keeper = VoteKeeper(VALIDATORS)
    for n in range(MAX_VOTES_PER_VALIDATOR + 5):
        keeper.add(vote(4, VoteKind.PREVOTE, n.to_bytes(32, "big")))
    assert len(keeper.votes()) == MAX_VOTES_PER_VALIDATOR
