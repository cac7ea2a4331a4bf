"""Timeout durations: a pure function of the round, growing linearly per round.

Tendermint Alg. 1 L21, L35, L48 schedule timeoutPropose/Prevote/Precommit(round_p); the
paper's liveness argument needs them to grow with the round, so that after GST they outlast
the message delay. The defaults are CometBFT's (`timeout_propose = 3s`, `+500ms` per round, …).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class TimeoutKind(IntEnum):
    """Which of the three timeouts of a round (Alg. 1 L57, L61, L65)."""

    PROPOSE = 1
    PREVOTE = 2
    PRECOMMIT = 3


@dataclass(frozen=True, slots=True)
class TimeoutConfig:
    """Base durations and per-round increments, in milliseconds."""

    propose_ms: int = 3000
    propose_delta_ms: int = 500
    prevote_ms: int = 1000
    prevote_delta_ms: int = 500
    precommit_ms: int = 1000
    precommit_delta_ms: int = 500

    def duration_ms(self, kind: TimeoutKind, round_: int) -> int:
        """How long the `kind` timeout of round `round_` lasts: base + delta × round."""
        if kind is TimeoutKind.PROPOSE:
            return self.propose_ms + self.propose_delta_ms * round_
        if kind is TimeoutKind.PREVOTE:
            return self.prevote_ms + self.prevote_delta_ms * round_
        return self.precommit_ms + self.precommit_delta_ms * round_
