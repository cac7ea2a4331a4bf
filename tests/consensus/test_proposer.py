"""Proposer rotation weighted by voting power, and timeouts growing per round."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from brainchain.consensus.proposer import CHECKPOINT_PICKS, ProposerSchedule
from brainchain.consensus.timeouts import TimeoutConfig, TimeoutKind
from brainchain.types.validators import ValidatorSet


def validator_set(powers: list[int]) -> ValidatorSet:
    return ValidatorSet.from_pairs((i.to_bytes(32, "big"), p) for i, p in enumerate(powers))


@pytest.mark.parametrize("seed", range(20))
def test_proposals_are_proportional_to_power(seed: int) -> None:
    """Over any `total_power` consecutive heights each validator proposes `power` times."""
    rng = random.Random(seed)
    validators = validator_set([rng.randint(1, 30) for _ in range(rng.randint(1, 9))])
    schedule = ProposerSchedule(validators)
    total = validators.total_power
    start = rng.randint(0, 5 * total)
    counts = Counter(schedule.proposer(h, 0) for h in range(start, start + 3 * total))
    assert [counts[i] for i in range(len(validators))] == [3 * v.power for v in validators]


def test_rounds_continue_the_rotation() -> None:
    """Round r of height h is pick h + r, as CometBFT increments priorities per round."""
    schedule = ProposerSchedule(validator_set([5, 3, 1]))
    assert all(
        schedule.proposer(h, r) == schedule.proposer(h + r, 0) for h in range(30) for r in range(9)
    )


def test_schedule_is_a_pure_function_of_height_and_round() -> None:
    """Answers do not depend on which heights were asked before, across checkpoints too."""
    validators = validator_set([7, 4, 4, 2, 1])
    in_order = ProposerSchedule(validators)
    forward = [in_order.proposer(h, 0) for h in range(3 * CHECKPOINT_PICKS + 17)]
    jumping = ProposerSchedule(validators)
    for h in random.Random(1).sample(range(len(forward)), k=200):
        assert jumping.proposer(h, 0) == forward[h]
    assert ProposerSchedule(validators).proposer(len(forward) - 1, 0) == forward[-1]


def test_equal_power_is_round_robin_in_index_order() -> None:
    schedule = ProposerSchedule(validator_set([2, 2, 2]))
    assert [schedule.proposer(h, 0) for h in range(7)] == [0, 1, 2, 0, 1, 2, 0]


def test_negative_height_or_round_is_refused() -> None:
    with pytest.raises(ValueError):
        ProposerSchedule(validator_set([1])).proposer(0, -1)


def test_timeouts_grow_linearly_per_round() -> None:
    config = TimeoutConfig(propose_ms=100, propose_delta_ms=10, prevote_ms=50, prevote_delta_ms=5)
    assert [config.duration_ms(TimeoutKind.PROPOSE, r) for r in range(3)] == [100, 110, 120]
    assert config.duration_ms(TimeoutKind.PREVOTE, 4) == 70
    assert config.duration_ms(TimeoutKind.PRECOMMIT, 2) == 2000
