"""The pure rules of federated learning (brainchain/fl.py): median, threshold, α, staleness,
committee weight, and the score commitment and seed shared with inference."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brainchain.fl import (
    DEFAULT_COMMITTEE_FRACTION,
    DEFAULT_STALENESS,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    SCORE_SCALE,
    accepted,
    alpha,
    committee_weight,
    median_score,
    proposal_seed,
    score_word,
    stale,
    valid_score,
)
from brainchain.inference import commitment, request_seed

MEMBER_A = bytes([0xA]) * 20
MEMBER_B = bytes([0xB]) * 20
scores = st.integers(0, SCORE_SCALE)


def test_defaults_are_the_reference_simulations() -> None:
    assert SCORE_SCALE == 10**6
    assert DEFAULT_THRESHOLD == 125_000  # θ = 0.125
    assert (DEFAULT_WINDOW, DEFAULT_STALENESS) == (4, 4)
    assert DEFAULT_COMMITTEE_FRACTION == 550_000  # 0.55


@pytest.mark.parametrize(
    ("revealed", "median"),
    [
        ([7], 7),
        ([3, 1, 2], 2),
        ([4, 1, 3, 2], 2),  # even: the lower of the middle two
        ([10, 20], 10),
        ([0, SCORE_SCALE, SCORE_SCALE], SCORE_SCALE),
        ([5, 5, 9, 9], 5),
        ([900_000, 910_000, 920_000, 930_000, 940_000, 950_000], 920_000),
    ],
)
def test_median_of_odd_and_even_counts(revealed: list[int], median: int) -> None:
    assert median_score(revealed) == median


@pytest.mark.parametrize("bad", [[], [-1], [SCORE_SCALE + 1], [1, 2, 2**256 - 1]])
def test_median_and_alpha_refuse_no_scores_and_scores_out_of_range(bad: list[int]) -> None:
    with pytest.raises(ValueError):
        median_score(bad)
    with pytest.raises(ValueError):
        alpha(bad)


@given(
    honest=st.lists(scores, min_size=1, max_size=15),
    liars=st.lists(scores, max_size=14),
)
def test_a_minority_revealing_anything_leaves_the_median_among_honest_scores(
    honest: list[int], liars: list[int]
) -> None:
    liars = liars[: len(honest) - 1]  # fewer liars than honest members: a minority
    median = median_score(honest + liars)
    assert min(honest) <= median <= max(honest)


@given(honest=st.lists(scores, min_size=1, max_size=10))
def test_with_an_even_count_half_the_members_revealing_high_cannot_raise_the_median(
    honest: list[int],
) -> None:
    liars = [SCORE_SCALE] * len(honest)
    assert median_score(honest + liars) <= max(honest)


def test_random_scorers_barely_move_the_median_of_a_committee() -> None:
    """3 of 11 scorers reveal random scores, as in the issue's attack setting."""
    rng = random.Random(13)
    for _ in range(200):
        honest = [rng.randint(880_000, 920_000) for _ in range(8)]
        clean = median_score(honest)
        attacked = median_score(honest + [rng.randint(0, SCORE_SCALE) for _ in range(3)])
        assert min(honest) <= attacked <= max(honest)
        assert abs(attacked - clean) <= 40_000  # at most the honest spread, 0.04


@pytest.mark.parametrize(
    ("score", "threshold", "merged"),
    [
        (DEFAULT_THRESHOLD - 1, DEFAULT_THRESHOLD, False),
        (DEFAULT_THRESHOLD, DEFAULT_THRESHOLD, True),
        (DEFAULT_THRESHOLD + 1, DEFAULT_THRESHOLD, True),
        (0, 0, True),
        (SCORE_SCALE, SCORE_SCALE, True),
        (SCORE_SCALE - 1, SCORE_SCALE, False),
    ],
)
def test_accepted_at_or_above_the_threshold(score: int, threshold: int, merged: bool) -> None:
    assert accepted(score, threshold) is merged


def test_the_default_threshold_is_an_eighth() -> None:
    assert not accepted(124_999) and accepted(125_000)


@pytest.mark.parametrize(
    ("window", "a"),
    [
        ([900_000], 900_000),  # the first accepted proposal: a window of one
        ([900_000, 800_000], 850_000),
        ([1, 2], 1),  # floored
        ([2, 2, 3], 2),
        ([800_000, 900_000, 700_000, 600_000], 750_000),
        ([SCORE_SCALE] * DEFAULT_WINDOW, SCORE_SCALE),
        ([0, 0, 0, 1], 0),
    ],
)
def test_alpha_is_the_floored_mean_of_the_window(window: list[int], a: int) -> None:
    assert alpha(window) == a


@given(st.lists(scores, min_size=1, max_size=DEFAULT_WINDOW))
def test_alpha_lies_between_the_windows_extremes(window: list[int]) -> None:
    assert min(window) <= alpha(window) <= max(window)


@pytest.mark.parametrize(
    ("base", "current", "bound", "too_old"),
    [
        (10, 10, 4, False),
        (6, 10, 4, False),  # exactly the bound
        (5, 10, 4, True),
        (0, 0, 0, False),
        (9, 10, 0, True),
    ],
)
def test_stale_beyond_the_staleness_bound(
    base: int, current: int, bound: int, too_old: bool
) -> None:
    assert stale(base, current, bound) is too_old


@pytest.mark.parametrize(("base", "current", "bound"), [(11, 10, 4), (-1, 3, 4), (0, 3, -1)])
def test_stale_refuses_a_future_base_and_negative_numbers(
    base: int, current: int, bound: int
) -> None:
    with pytest.raises(ValueError):
        stale(base, current, bound)


@pytest.mark.parametrize(
    ("total", "fraction", "k"),
    [
        (400, DEFAULT_COMMITTEE_FRACTION, 220),  # 4 validators of 100: 2.2 of them expected
        (3, DEFAULT_COMMITTEE_FRACTION, 2),  # 1.65 rounds up
        (1, 1, 1),  # never empty
        (10**21, SCORE_SCALE, 10**21),
    ],
)
def test_committee_weight_is_the_fraction_of_the_stake_rounded_up(
    total: int, fraction: int, k: int
) -> None:
    assert committee_weight(total, fraction) == k


@pytest.mark.parametrize(("total", "fraction"), [(0, 550_000), (100, 0), (100, SCORE_SCALE + 1)])
def test_committee_weight_refuses_bad_parameters(total: int, fraction: int) -> None:
    with pytest.raises(ValueError):
        committee_weight(total, fraction)


def test_score_word_is_a_big_endian_word_and_commits_like_an_inference_output() -> None:
    assert score_word(931_200) == (931_200).to_bytes(32, "big")
    assert len(score_word(0)) == 32 and score_word(SCORE_SCALE)[-3:] == bytes.fromhex("0f4240")
    salt = bytes(range(32))
    assert commitment(score_word(1), MEMBER_A, salt) != commitment(score_word(2), MEMBER_A, salt)
    assert commitment(score_word(1), MEMBER_A, salt) != commitment(score_word(1), MEMBER_B, salt)
    for bad in (-1, SCORE_SCALE + 1):
        assert not valid_score(bad)
        with pytest.raises(ValueError):
            score_word(bad)


def test_proposal_seed_is_drawn_like_an_inference_request_seed() -> None:
    block = bytes(range(32))
    assert proposal_seed(3, block) == request_seed(3, block)
    assert proposal_seed(3, block) != proposal_seed(4, block)
