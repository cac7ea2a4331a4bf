"""The rules of asynchronous, aggregator-free federated learning that the FL_REGISTRY precompile
and the nodes must agree on (DESIGN.md §6; BRAIN, Park, Lee, Moon 2024, §V, and the authors'
reference simulation).

A trainer proposes weights trained from global version `base`; a proposal more than
`max_staleness` versions behind is refused (`stale`). A VRF committee, drawn from
`proposal_seed`, scores the weights on each member's own validation data and commits to
keccak(score word ‖ member ‖ salt) exactly as inference members commit to an output
(`score_word` + brainchain.inference.commitment). The proposal's score is the median of the
revealed scores (`median_score`); below the threshold it is rejected (`accepted`), otherwise
α = the mean of the last w accepted scores, this one included (`alpha`), and
global ← (1 − α)·global + α·local (node/fl/mixing.py).

Every number is an integer: scores and fractions in units of 1/SCORE_SCALE, so the chain never
rounds a float and every node derives the same α from the same scores.
"""

from __future__ import annotations

from brainchain.inference import WORD_BYTES, request_seed

SCORE_SCALE = 10**6  # a score of 1/SCORE_SCALE is the unit: accuracy 0.9312 is 931_200
DEFAULT_THRESHOLD = 125_000  # θ = 0.125, the reference simulation's acceptance threshold
DEFAULT_WINDOW = 4  # w: α averages the last 4 accepted scores
DEFAULT_STALENESS = 4  # a proposal may be based on a version at most 4 behind the current one
# The committee is about 0.55 of the validators; in stake units, an expected weight of 0.55 of
# the total stake (`committee_weight`), which is 0.55 of the validators when stakes are equal.
DEFAULT_COMMITTEE_FRACTION = 550_000


def valid_score(score: int) -> bool:
    """Whether `score` is a score at all: an integer from 0 to SCORE_SCALE (1.0)."""
    return 0 <= score <= SCORE_SCALE


def _check_scores(scores: list[int]) -> None:
    if not scores:
        raise ValueError("no scores")
    bad = [s for s in scores if not valid_score(s)]
    if bad:
        raise ValueError(f"scores outside 0..{SCORE_SCALE}: {bad}")


def median_score(scores: list[int]) -> int:
    """The proposal's score: the median of the revealed scores, the lower one for an even count.

    Fewer than half the members, revealing anything, leave the median between two honest
    scores. The lower one is also a score some member actually revealed (the mean of the two
    middle ones may be a value nobody vouched for), and it takes one liar more to raise it:
    with an even count, even half the members revealing high scores leave it at an honest one.

    Raises:
        ValueError: no scores, or one outside 0..SCORE_SCALE.
    """
    _check_scores(scores)
    return sorted(scores)[(len(scores) - 1) // 2]


def accepted(score: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Whether a proposal with this median score is merged: score ≥ θ (both in score units)."""
    return score >= threshold


def alpha(window_scores: list[int]) -> int:
    """The mixing weight α in score units: the floor of the mean of the last accepted scores.

    The caller passes at most w scores, newest last, the one being finalized included; the first
    accepted proposals of a task have fewer than w before them and average what there is.
    Flooring keeps α ≤ every mean, so it never exceeds SCORE_SCALE (1.0).

    Raises:
        ValueError: no scores, or one outside 0..SCORE_SCALE.
    """
    _check_scores(window_scores)
    return sum(window_scores) // len(window_scores)


def stale(base_version: int, current_version: int, max_staleness: int) -> bool:
    """Whether weights trained from `base_version` are too old to merge into `current_version`:
    more than `max_staleness` versions behind (FedAsync's staleness bound, Xie et al. 2019).

    Raises:
        ValueError: a negative version or bound, or a base newer than the current version.
    """
    if min(base_version, current_version, max_staleness) < 0:
        raise ValueError(
            f"negative version or bound: base {base_version}, current {current_version},"
            f" max staleness {max_staleness}"
        )
    if base_version > current_version:
        raise ValueError(f"base version {base_version} is newer than current {current_version}")
    return current_version - base_version > max_staleness


def committee_weight(total_stake: int, fraction: int = DEFAULT_COMMITTEE_FRACTION) -> int:
    """The expected committee weight k for sortition (brainchain/sortition.py): `fraction` (in
    score units) of the total stake, rounded up so that a committee is never empty.

    With equal stakes each validator is then selected with probability about `fraction`, so the
    committee holds that fraction of the validators on average, as in the reference simulation.

    Raises:
        ValueError: a stake that is not positive, or a fraction outside (0, SCORE_SCALE].
    """
    if total_stake <= 0 or not 0 < fraction <= SCORE_SCALE:
        raise ValueError(
            f"need a positive total stake and a fraction in 1..{SCORE_SCALE},"
            f" got {total_stake} and {fraction}"
        )
    return -(-total_stake * fraction // SCORE_SCALE)


def score_word(score: int) -> bytes:
    """A score as the 32-byte big-endian word members commit to and reveal: the commitment is
    brainchain.inference.commitment(score_word(score), member, salt), as for an inference output.

    Raises:
        ValueError: the score is outside 0..SCORE_SCALE.
    """
    if not valid_score(score):
        raise ValueError(f"score {score} outside 0..{SCORE_SCALE}")
    return score.to_bytes(WORD_BYTES, "big")


def proposal_seed(proposal_id: int, block_hash: bytes) -> bytes:
    """The scoring committee's seed: keccak(proposal id ‖ hash of the block that included the
    proposal), drawn like an inference request's (brainchain.inference.request_seed)."""
    return request_seed(proposal_id, block_hash)
