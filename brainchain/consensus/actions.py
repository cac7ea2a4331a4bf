"""What the consensus machine asks its driver to do, in the order it returns them.

The driver completes (fsyncs) a `WalAppend` before it performs any later action of the same
list, so a message is never sent before it is durable (STYLE.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass

from brainchain.consensus.timeouts import TimeoutKind
from brainchain.types.commit import CommitCertificate
from brainchain.types.vote import ConsensusMessage


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Gossip a signed proposal or vote to every peer."""

    message: ConsensusMessage


@dataclass(frozen=True, slots=True)
class ScheduleTimeout:
    """Deliver `TimeoutFired(kind, height, round)` after `delay_ms`."""

    kind: TimeoutKind
    height: int
    round: int
    delay_ms: int


@dataclass(frozen=True, slots=True)
class RequestValue:
    """Build a block to propose at (height, round) and answer with `ValueReady` (Alg. 1 L18)."""

    height: int
    round: int


@dataclass(frozen=True, slots=True)
class WalAppend:
    """Durably log a message this validator signed, before it is broadcast."""

    entry: ConsensusMessage


@dataclass(frozen=True, slots=True)
class Decide:
    """Commit the block `block_hash` at `height`, certified by `certificate` (Alg. 1 L51)."""

    height: int
    round: int
    block_hash: bytes
    certificate: CommitCertificate


@dataclass(frozen=True, slots=True)
class Evidence:
    """One validator signed two different messages for the same height, round and step."""

    first: ConsensusMessage
    second: ConsensusMessage


Action = Broadcast | ScheduleTimeout | RequestValue | WalAppend | Decide | Evidence
