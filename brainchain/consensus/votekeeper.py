"""Voting power tallies for one height, round by round (STYLE.md §4).

Each threshold of Tendermint Alg. 1 is reported once, when the vote that crosses it is added:
2f+1 prevotes for anything (L34), for a value (L28, L36) or for nil (L44), 2f+1 precommits for
anything (L47) or for a value (L49), and f+1 validators voting in a round (L55). Weighted, with
integers only: 2f+1 is `3 * power > 2 * total`, f+1 is `3 * power > total`.

A validator's power counts once per round and kind toward "anything" and once per round toward
f+1. A second, different vote from it for the same round and kind is equivocation: it is
returned as evidence, and it never counts toward "anything" or f+1 again. It does count toward
its own value, as the paper counts messages: its gossip hands both votes to every correct
process, so all of them see a polka an equivocator took part in. Counting only the first vote
breaks liveness: a correct process that got the other version first never sees the polka that
locked its peers, and cannot release its own lock (the simulator found such runs). Two values
still cannot both reach 2f+1 in a round: that needs more than 1/3 of the power to vote twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from brainchain.types.validators import ValidatorSet
from brainchain.types.vote import Vote, VoteKind

# Distinct votes kept per validator, round and kind: two make the evidence and let a polka an
# equivocator joined be seen; a cap keeps an equivocator from making us store without bound.
MAX_VOTES_PER_VALIDATOR = 4


class Quorum(IntEnum):
    """The thresholds the rules of Alg. 1 wait for."""

    PREVOTE_ANY = 1  # L34
    POLKA_VALUE = 2  # L28, L36
    POLKA_NIL = 3  # L44
    PRECOMMIT_ANY = 4  # L47
    PRECOMMIT_VALUE = 5  # L49
    SKIP_ROUND = 6  # L55


@dataclass(frozen=True, slots=True)
class Threshold:
    """A threshold reached in `round`; `value` is the block hash for the *_VALUE kinds."""

    kind: Quorum
    round: int
    value: bytes | None = None


@dataclass(slots=True)
class _RoundTally:
    # Each validator's votes per kind, one per distinct value, in arrival order.
    votes: dict[tuple[VoteKind, int], list[Vote]] = field(default_factory=dict)
    power_any: dict[VoteKind, int] = field(default_factory=dict)
    power_for: dict[tuple[VoteKind, bytes | None], int] = field(default_factory=dict)
    # The value that reached 2f+1 per kind; with under 1/3 equivocating, no other one can.
    quorum_value: dict[VoteKind, bytes | None] = field(default_factory=dict)
    voters: set[int] = field(default_factory=set)
    voter_power: int = 0


@dataclass(frozen=True, slots=True)
class AddResult:
    """What adding one vote changed: thresholds newly reached, and evidence of equivocation."""

    thresholds: tuple[Threshold, ...] = ()
    evidence: tuple[Vote, Vote] | None = None


_NOTHING = AddResult()


class VoteKeeper:
    """The votes of one height, their tallies per round, and which thresholds were reached."""

    __slots__ = ("_powers", "_precommit_values", "_rounds", "_skip_round", "_total")

    def __init__(self, validators: ValidatorSet) -> None:
        self._powers = validators.powers()
        self._total = validators.total_power
        self._rounds: dict[int, _RoundTally] = {}
        self._precommit_values: list[tuple[int, bytes]] = []
        self._skip_round = -1

    def add(self, vote: Vote) -> AddResult:
        """Count a vote of this height whose signature the caller has checked."""
        tally = self._rounds.get(vote.round)
        if tally is None:
            tally = self._rounds[vote.round] = _RoundTally()
        kind, power = vote.kind, self._powers[vote.validator]
        earlier = tally.votes.setdefault((kind, vote.validator), [])
        if len(earlier) >= MAX_VOTES_PER_VALIDATOR or any(
            seen.block_hash == vote.block_hash for seen in earlier
        ):
            return _NOTHING
        earlier.append(vote)
        first = len(earlier) == 1
        reached: list[Threshold] = []

        if first:
            before = tally.power_any.get(kind, 0)
            tally.power_any[kind] = before + power
            if self._crosses_quorum(before, power):
                any_kind = Quorum.PREVOTE_ANY if kind is VoteKind.PREVOTE else Quorum.PRECOMMIT_ANY
                reached.append(Threshold(any_kind, vote.round))

        value_key = (kind, vote.block_hash)
        before = tally.power_for.get(value_key, 0)
        tally.power_for[value_key] = before + power
        if self._crosses_quorum(before, power):
            tally.quorum_value.setdefault(kind, vote.block_hash)
            value_kind = _value_quorum(vote)
            if value_kind is not None:
                reached.append(Threshold(value_kind, vote.round, vote.block_hash))
            if value_kind is Quorum.PRECOMMIT_VALUE and vote.block_hash is not None:
                self._precommit_values.append((vote.round, vote.block_hash))

        if vote.validator not in tally.voters:
            tally.voters.add(vote.validator)
            before = tally.voter_power
            tally.voter_power = before + power
            if 3 * before <= self._total < 3 * tally.voter_power:
                self._skip_round = max(self._skip_round, vote.round)
                reached.append(Threshold(Quorum.SKIP_ROUND, vote.round))
        evidence = (earlier[0], vote) if len(earlier) == 2 else None
        return AddResult(tuple(reached), evidence)

    def any_quorum(self, round_: int, kind: VoteKind) -> bool:
        """2f+1 votes of `kind` for anything in `round_` (Alg. 1 L34, L47)."""
        tally = self._rounds.get(round_)
        return tally is not None and 3 * tally.power_any.get(kind, 0) > 2 * self._total

    def polka_value(self, round_: int) -> bytes | None:
        """The block hash with 2f+1 prevotes in `round_`, if any (Alg. 1 L28, L36)."""
        tally = self._rounds.get(round_)
        return None if tally is None else tally.quorum_value.get(VoteKind.PREVOTE)

    def polka_nil(self, round_: int) -> bool:
        """2f+1 prevotes for nil in `round_` (Alg. 1 L44)."""
        tally = self._rounds.get(round_)
        return (
            tally is not None
            and VoteKind.PREVOTE in tally.quorum_value
            and tally.quorum_value[VoteKind.PREVOTE] is None
        )

    def precommit_values(self) -> tuple[tuple[int, bytes], ...]:
        """(round, block hash) with 2f+1 precommits for the block, as reached (Alg. 1 L49)."""
        return tuple(self._precommit_values)

    def skip_round(self) -> int:
        """The highest round in which f+1 of the power has voted, -1 if none (Alg. 1 L55)."""
        return self._skip_round

    def precommits_for(self, round_: int, block_hash: bytes) -> list[Vote]:
        """The precommits for `block_hash` in `round_`, by validator index."""
        tally = self._rounds.get(round_)
        if tally is None:
            return []
        return [
            vote
            for (kind, _), votes in sorted(tally.votes.items())
            if kind is VoteKind.PRECOMMIT
            for vote in votes
            if vote.block_hash == block_hash
        ]

    def votes(self) -> list[Vote]:
        """Every vote held, by round, kind and validator, then arrival: what gossip relays."""
        return [
            vote
            for round_, tally in sorted(self._rounds.items())
            for _, votes in sorted(tally.votes.items())
            for vote in votes
        ]

    def _crosses_quorum(self, before: int, added: int) -> bool:
        return 3 * before <= 2 * self._total < 3 * (before + added)


def _value_quorum(vote: Vote) -> Quorum | None:
    if vote.kind is VoteKind.PREVOTE:
        return Quorum.POLKA_NIL if vote.block_hash is None else Quorum.POLKA_VALUE
    return None if vote.block_hash is None else Quorum.PRECOMMIT_VALUE
