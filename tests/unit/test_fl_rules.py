"""The pure rules of federated learning (brainchain/fl.py): median, weighted median, verdict,
threshold, α, staleness, committee weight, attestation window, and the score commitment and
committee seed, drawn as inference's are."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brainchain.crypto.keccak import keccak256
from brainchain.fl import (
    ATTEST_BLOCKS,
    DEFAULT_COMMITTEE_FRACTION,
    DEFAULT_STALENESS,
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    MAX_BLOB_BYTES,
    SCORE_SCALE,
    ProposalStatus,
    accepted,
    alpha,
    attest_end,
    attesting,
    committee_weight,
    median_score,
    proposal_seed,
    score_word,
    stale,
    valid_score,
    verdict,
    weighted_median,
)
from brainchain.inference import commitment, request_seed
from node.store import blobs

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
        ([900_000], 450_000),  # the first accepted proposal: a window of one
        ([900_000, 800_000], 425_000),
        ([1, 2], 0),  # floored: half of 1.5 units
        ([2, 2, 4], 1),  # half of 8/3 units
        ([800_000, 900_000, 700_000, 600_000], 375_000),
        ([SCORE_SCALE] * DEFAULT_WINDOW, SCORE_SCALE // 2),
        ([0, 0, 0, 1], 0),
    ],
)
def test_alpha_is_half_the_floored_mean_of_the_window(window: list[int], a: int) -> None:
    assert alpha(window) == a


@given(st.lists(scores, min_size=1, max_size=DEFAULT_WINDOW))
def test_alpha_is_at_most_half_and_follows_the_windows_extremes(window: list[int]) -> None:
    """α never lets one proposal outweigh the global it is merged into."""
    assert min(window) // 2 <= alpha(window) <= max(window) // 2 <= SCORE_SCALE // 2


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


def test_proposal_seed_is_domain_separated_from_an_inference_request_seed() -> None:
    block = bytes(range(32))
    assert proposal_seed(3, block) == keccak256(b"brainchain/fl" + (3).to_bytes(32, "big") + block)
    assert proposal_seed(3, block) != request_seed(3, block)
    assert proposal_seed(3, block) != proposal_seed(4, block)
    assert proposal_seed(3, block) != proposal_seed(3, bytes(32))


def brute_weighted_median(pairs: list[tuple[int, int]]) -> int:
    """The least revealed score that at least half the weight scored at or below."""
    total = sum(w for _, w in pairs)
    return min(s for s, _ in pairs if 2 * sum(w for t, w in pairs if t <= s) >= total)


@pytest.mark.parametrize(
    ("pairs", "median"),
    [
        ([(7, 1)], 7),
        ([(10, 1), (20, 1)], 10),  # lower median, as median_score
        ([(10, 1), (20, 2)], 20),
        ([(10, 2), (20, 1)], 10),
        ([(10, 1), (20, 1), (30, 1)], 20),
        ([(30, 5), (10, 1), (20, 1)], 30),  # a member holding most of the weight decides
        ([(10, 3), (20, 3)], 10),  # an exact half: the lower
        ([(900_000, 59), (901_000, 49), (902_000, 54), (903_000, 61)], 902_000),
    ],
)
def test_weighted_median(pairs: list[tuple[int, int]], median: int) -> None:
    assert weighted_median(pairs) == median == brute_weighted_median(pairs)


@given(st.lists(scores, min_size=1, max_size=15))
def test_weighted_median_with_unit_weights_is_the_median(revealed: list[int]) -> None:
    assert weighted_median([(s, 1) for s in revealed]) == median_score(revealed)


@given(st.lists(st.tuples(scores, st.integers(1, 200)), min_size=1, max_size=12))
def test_weighted_median_is_the_least_score_holding_half_the_weight(
    pairs: list[tuple[int, int]],
) -> None:
    assert weighted_median(pairs) == brute_weighted_median(pairs)


@given(
    honest=st.lists(st.tuples(scores, st.integers(1, 100)), min_size=1, max_size=10),
    liars=st.lists(st.tuples(scores, st.integers(1, 100)), max_size=10),
)
def test_less_than_half_the_weight_revealing_anything_leaves_the_median_among_honest_scores(
    honest: list[tuple[int, int]], liars: list[tuple[int, int]]
) -> None:
    honest_weight = sum(w for _, w in honest)
    kept: list[tuple[int, int]] = []
    for pair in liars:  # keep the liars below half the weight
        if sum(w for _, w in kept) + pair[1] < honest_weight:
            kept.append(pair)
    median = weighted_median(honest + kept)
    assert min(s for s, _ in honest) <= median <= max(s for s, _ in honest)


@pytest.mark.parametrize(
    "bad", [[], [(1, 0)], [(1, -1)], [(-1, 1)], [(SCORE_SCALE + 1, 1)], [(5, 1), (6, 0)]]
)
def test_weighted_median_refuses_no_pairs_bad_weights_and_bad_scores(
    bad: list[tuple[int, int]],
) -> None:
    with pytest.raises(ValueError):
        weighted_median(bad)


@pytest.mark.parametrize(
    ("revealed", "k", "threshold", "expected"),
    [
        ([], 100, DEFAULT_THRESHOLD, (ProposalStatus.EXPIRED, 0)),
        ([(900_000, 50)], 100, DEFAULT_THRESHOLD, (ProposalStatus.EXPIRED, 0)),  # exactly half
        ([(900_000, 51)], 100, DEFAULT_THRESHOLD, (ProposalStatus.ACCEPTED, 900_000)),
        ([(100_000, 51)], 100, DEFAULT_THRESHOLD, (ProposalStatus.REJECTED, 100_000)),
        (
            [(DEFAULT_THRESHOLD, 30), (0, 20), (SCORE_SCALE, 20)],
            100,
            DEFAULT_THRESHOLD,
            (ProposalStatus.ACCEPTED, DEFAULT_THRESHOLD),
        ),
    ],
)
def test_verdict_needs_quorum_then_compares_the_weighted_median_with_the_threshold(
    revealed: list[tuple[int, int]],
    k: int,
    threshold: int,
    expected: tuple[ProposalStatus, int],
) -> None:
    assert verdict(revealed, k, threshold) == expected


def test_proposal_status_values_are_what_the_precompile_stores() -> None:
    assert [int(s) for s in ProposalStatus] == [0, 1, 2, 3, 4]
    assert [s.name for s in ProposalStatus] == [
        "NONE",
        "PENDING",
        "ACCEPTED",
        "REJECTED",
        "EXPIRED",
    ]


def test_attestations_open_after_the_finalizing_block_for_attest_blocks() -> None:
    assert attest_end(100) == 100 + ATTEST_BLOCKS
    assert not attesting(100, 100)  # finalized at the end of block 100
    assert attesting(101, 100) and attesting(100 + ATTEST_BLOCKS, 100)
    assert not attesting(101 + ATTEST_BLOCKS, 100)


def test_the_proposal_size_limit_is_the_blob_stores() -> None:
    assert MAX_BLOB_BYTES == blobs.MAX_BLOB_BYTES == 64 * 1024 * 1024
