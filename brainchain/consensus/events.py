"""What the consensus machine consumes: messages, timeouts, values and synced blocks.

The node checks signatures and block validity before it hands an event in; the machine trusts
its events (STYLE.md §4). Values are block hashes; the block bytes stay with the node.
"""

from __future__ import annotations

from dataclasses import dataclass

from brainchain.consensus.timeouts import TimeoutKind
from brainchain.types.vote import Proposal, Vote


@dataclass(frozen=True, slots=True)
class Start:
    """Begin (or, after a restart, resume) the machine's height (Alg. 1 L10)."""


@dataclass(frozen=True, slots=True)
class ProposalReceived:
    """A signed proposal, with the node's verdict `valid(v)` on its block (Alg. 1 L22-23)."""

    proposal: Proposal
    valid: bool


@dataclass(frozen=True, slots=True)
class VoteReceived:
    """A signed prevote or precommit."""

    vote: Vote


@dataclass(frozen=True, slots=True)
class TimeoutFired:
    """A timeout scheduled by `ScheduleTimeout` ran out (Alg. 1 L57, L61, L65)."""

    kind: TimeoutKind
    height: int
    round: int


@dataclass(frozen=True, slots=True)
class ValueReady:
    """The node built the block `RequestValue` asked for: getValue() of Alg. 1 L18."""

    height: int
    round: int
    block_hash: bytes


@dataclass(frozen=True, slots=True)
class DecidedBySync:
    """Block sync stored a certified block at `height`: move on to the height after it."""

    height: int


Event = Start | ProposalReceived | VoteReceived | TimeoutFired | ValueReady | DecidedBySync
