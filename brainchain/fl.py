"""The rules of asynchronous, aggregator-free federated learning that the FL_REGISTRY precompile
and the nodes must agree on (DESIGN.md §6; BRAIN, Park, Lee, Moon 2024, §V, and the authors'
reference simulation).

A trainer proposes weights trained from global version `base`; a proposal more than
`max_staleness` versions behind is refused (`stale`). A VRF committee, drawn from
`proposal_seed`, scores the weights on each member's own validation data and commits to
keccak(score word ‖ member ‖ salt) exactly as inference members commit to an output
(`score_word` + brainchain.inference.commitment). The proposal's score is the median of the
revealed scores (`median_score`); below the threshold it is rejected (`accepted`), otherwise
α = half the mean of the last w accepted scores, this one included (`alpha`), and
global ← (1 − α)·global + α·local (node/fl/mixing.py).

The committee weighs each member's score by its sortition weight, so the proposal's score is
the weighted lower median (`weighted_median`; with unit weights it is `median_score`); the
whole verdict, quorum included, is `verdict`. The chain cannot compute the next global weights
(they are off chain), so the members that revealed attest the hash of the blob they computed
(`attesting`); nodes check their own recomputation against it, but never wait for it.

Every number is an integer: scores and fractions in units of 1/SCORE_SCALE, so the chain never
rounds a float and every node derives the same α from the same scores.
"""

from __future__ import annotations

from enum import IntEnum

from brainchain.crypto.keccak import keccak256
from brainchain.inference import WORD_BYTES, reaches_quorum

SCORE_SCALE = 10**6  # a score of 1/SCORE_SCALE is the unit: accuracy 0.9312 is 931_200
DEFAULT_THRESHOLD = 125_000  # θ = 0.125, the reference simulation's acceptance threshold
DEFAULT_WINDOW = 4  # w: α averages the last 4 accepted scores
# α is this share (in score units) of the mean of the window's scores: half (`alpha` says why).
ALPHA_SHARE = SCORE_SCALE // 2
DEFAULT_STALENESS = 4  # a proposal may be based on a version at most 4 behind the current one
# The committee is about 0.55 of the validators; in stake units, an expected weight of 0.55 of
# the total stake (`committee_weight` says when that is 0.55 of the validators).
DEFAULT_COMMITTEE_FRACTION = 550_000
# A task's bounds, which FL_REGISTRY.createTask checks.
MAX_MODEL_BYTES = 32  # a model name fits one bytes32 word
MAX_WINDOW = 64  # α's window w; finalization reads at most this many version records
MAX_STALENESS = 1024
# The largest weights blob a proposal may name: what a node stores or fetches by default
# (node/store/blobs.py MAX_BLOB_BYTES, which must equal it).
MAX_BLOB_BYTES = 64 * 1024 * 1024
# Heights after a proposal's deadline at which the members that revealed attest the hash of the
# global weights it produced: twice the default reveal window (genesis/inference.py), time for
# every member to fetch the local blob, mix and hash.
ATTEST_BLOCKS = 20
# Separates a proposal's committee seed from an inference request's with the same id and block.
SEED_DOMAIN = b"brainchain/fl"


class ProposalStatus(IntEnum):
    """Where a proposal stands; the values are what FL_REGISTRY stores and returns."""

    NONE = 0  # no such proposal
    PENDING = 1  # its committee is committing or revealing scores
    ACCEPTED = 2  # quorum, and a median score at or above the task's threshold: a new version
    REJECTED = 3  # quorum, and a median score below the threshold
    EXPIRED = 4  # the revealed weight did not exceed half of k by the deadline


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
    """The mixing weight α in score units: ALPHA_SHARE of the mean of the last accepted scores,
    floored.

    The caller passes at most w scores, newest last, the one being finalized included; the first
    accepted proposals of a task have fewer than w before them and average what there is.

    Why half the mean and not the mean (the reference simulation's rule): scores are accuracies,
    and a useful model scores 0.9 or more, so the mean makes α ≈ 0.9–0.97 and each merge all
    but replaces the global model by one trainer's local one. On non-IID shards that local model
    has forgotten the classes its shard lacks, and a bad proposal that passes θ takes the
    global with it. bench/fl_convergence.py measured it (21 trainers, Dirichlet 0.5, θ = 0.25):
    with the mean, under attack BRAIN ended 5 points below its clean run (seed 2; 10–36 at
    θ = 0.125); with half the mean, at most 2.7 points below on seeds 1–3 (mean of the last
    tenth of the updates), its clean run within 0.2 of FedAvg's or above. Half keeps the score's
    say (a better proposal still moves the global further) and α ≤ 1/2: one proposal never
    outweighs the global it was trained from.

    Raises:
        ValueError: no scores, or one outside 0..SCORE_SCALE.
    """
    _check_scores(window_scores)
    return sum(window_scores) * ALPHA_SHARE // (len(window_scores) * SCORE_SCALE)


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

    This is how "a committee of 0.55 of the validators" maps onto stake units: each unit of stake
    is selected with probability p = k/W = `fraction`, so the committee holds `fraction` of the
    stake on average, and a validator's vote (its sortition weight) is Binomial(stake, p). When
    every validator holds one unit, that is exactly the reference simulation's committee: each
    validator serves with probability `fraction`, with one vote. With larger equal stakes the
    committee holds the same share of the votes, but spread over more validators: one with s
    units serves with probability 1 − (1 − p)^s (all four devnet validators of stake 100,
    almost surely), with about p·s votes each. Sortition's work grows with p·s
    (vm/precompiles/costs.py sortition_gas), so FL committees suit coarse stake units.

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
    """The scoring committee's seed: keccak("brainchain/fl" ‖ proposal id ‖ hash of the block
    that included the proposal). Drawn like an inference request's
    (brainchain.inference.request_seed), but in its own domain: proposal 3 and inference request
    3 of the same block would otherwise draw their committees from the same VRF outputs, and a
    member's proof for one would serve for the other."""
    return keccak256(SEED_DOMAIN + proposal_id.to_bytes(WORD_BYTES, "big") + block_hash)


def weighted_median(pairs: list[tuple[int, int]]) -> int:
    """The weighted lower median of (score, weight) pairs: the least score s such that the
    pairs scoring at most s hold at least half the total weight. With unit weights it is
    `median_score`.

    A committee member votes with its sortition weight, so fewer than half the revealed weight,
    revealing anything, leaves the median between the lowest and the highest score of the rest.

    Raises:
        ValueError: no pairs, a weight that is not positive, or a score outside 0..SCORE_SCALE.
    """
    _check_scores([score for score, _ in pairs])
    if any(weight <= 0 for _, weight in pairs):
        raise ValueError(f"weights must be positive: {[w for _, w in pairs]}")
    total = sum(weight for _, weight in pairs)
    below = 0
    for score, weight in sorted(pairs):
        below += weight
        if 2 * below >= total:
            return score
    raise AssertionError("unreachable: the loop ends at the total weight")


def verdict(
    revealed: list[tuple[int, int]], expected_size: int, threshold: int
) -> tuple[ProposalStatus, int]:
    """How a proposal ends at its deadline, from the (score, weight) pairs its committee
    revealed: EXPIRED without quorum (the revealed weight must exceed half of k, as an inference
    output's must: brainchain.inference.reaches_quorum), else the weighted median decides
    ACCEPTED or REJECTED against the task's threshold. Returns (status, median score or 0).

    Raises:
        ValueError: a pair that `weighted_median` refuses.
    """
    if not reaches_quorum(sum(weight for _, weight in revealed), expected_size):
        return ProposalStatus.EXPIRED, 0
    score = weighted_median(revealed)
    status = ProposalStatus.ACCEPTED if accepted(score, threshold) else ProposalStatus.REJECTED
    return status, score


def attest_end(finalized: int) -> int:
    """The last height at which members may attest the global hash of a version finalized at
    the end of block `finalized` (its proposal's deadline)."""
    return finalized + ATTEST_BLOCKS


def attesting(height: int, finalized: int) -> bool:
    """Whether a block at `height` may carry attestations of a version finalized at `finalized`."""
    return finalized < height <= attest_end(finalized)
