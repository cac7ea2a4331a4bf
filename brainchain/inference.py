"""The rules of two-phase inference that the INFERENCE precompile and the validators' inference
service must agree on (DESIGN.md §5; BRAIN, Park, Lee, Moon 2024, §IV).

A request included at height H has its committee drawn from seed = keccak(id ‖ hash of block H)
(that hash does not exist while the request executes). Its commit window is the heights
H + 1 … H + C, its reveal window H + C + 1 … H + C + R = its deadline; both are counted in
heights, so the block-hash window (256) must exceed C + R. No reveal is accepted while commits
still are, so nobody can copy a revealed answer; a commitment binds the member's address, so
nobody can copy someone else's commitment either.

A request is final when the weight revealing one output exceeds half the expected committee
weight k (`reaches_quorum`); it is settled at the end of its deadline block, finalized or not.
"""

from __future__ import annotations

from enum import IntEnum

from brainchain.crypto.keccak import keccak256

WORD_BYTES = 32
SALT_BYTES = 32


class Status(IntEnum):
    """Where a request stands; the values are what the precompile stores and returns."""

    NONE = 0  # no such request
    PENDING = 1  # committing or revealing, no quorum yet
    FINALIZED = 2  # an output reached quorum; settled at the deadline
    EXPIRED = 3  # the deadline passed without quorum: refunded
    SETTLED = 4  # finalized, then the fee was shared and the penalties taken at the deadline


def request_seed(request_id: int, block_hash: bytes) -> bytes:
    """The committee seed of a request: keccak(id as a 32-byte word ‖ hash of its block)."""
    return keccak256(request_id.to_bytes(WORD_BYTES, "big") + block_hash)


def commitment(output: bytes, member: bytes, salt: bytes) -> bytes:
    """What a member commits to: keccak(output ‖ member address ‖ salt)."""
    return keccak256(output + member + salt)


def reaches_quorum(weight: int, expected_size: int) -> bool:
    """Whether `weight` agreeing on one output exceeds half the expected committee weight k."""
    return 2 * weight > expected_size


def commit_end(included: int, commit_blocks: int) -> int:
    """The last height at which a request included at `included` accepts commits."""
    return included + commit_blocks


def deadline(included: int, commit_blocks: int, reveal_blocks: int) -> int:
    """The last height at which a request accepts reveals; it is settled at this block's end."""
    return included + commit_blocks + reveal_blocks


def committing(height: int, included: int, commit_blocks: int) -> bool:
    """Whether a block at `height` is inside the request's commit window."""
    return included < height <= commit_end(included, commit_blocks)


def revealing(height: int, included: int, commit_blocks: int, reveal_blocks: int) -> bool:
    """Whether a block at `height` is inside the request's reveal window."""
    end = commit_end(included, commit_blocks)
    return end < height <= deadline(included, commit_blocks, reveal_blocks)


def fee_shares(fee: int, weights: list[int]) -> list[int]:
    """The fee split in proportion to the agreeing members' weights, rounded down; what the
    rounding leaves goes back to the requester (the caller pays it back)."""
    total = sum(weights)
    return [fee * w // total for w in weights] if total else [0] * len(weights)
