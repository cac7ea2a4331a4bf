"""The chaos_* methods: fault injection from outside a running node (issue 14).

Served only by a node whose config has chaos = true (node/config.py); anywhere else they do
not exist (-32601), since anyone who reaches them can cut the node off or skew its clock.

- `chaos_setFaults(rules)`: replace the p2p fault rules (node/p2p/faults.py); [] heals.
  Returns the number of rules installed.
- `chaos_setClockSkew(seconds)`: run the clock consensus reads (the timestamps this node
  proposes, its "too far in the future" check) `seconds` ahead, or behind when negative.
  Returns the skew now in force.
- `chaos_status()`: {"rules": [...], "clockSkewS": s, "counters": {...}}.

Bad params answer -32602 and change nothing.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any

from node.chain import Chain
from node.p2p.faults import FaultRuleError, Faults, parse_rules
from node.rpc.brain import expect_params
from node.rpc.errors import InvalidParams
from node.rpc.methods import Handler

MAX_CLOCK_SKEW_S = 3600.0


class Chaos:
    """What chaos mode lets the RPC change in a running node: the rules its p2p layer runs,
    and the skew of the clock its consensus reads."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.clock_skew_s = 0.0

    def clock(self) -> float:
        """Wall-clock seconds as this node's consensus sees them: time.time() plus the skew."""
        return time.time() + self.clock_skew_s


def chaos_set_faults(chaos: Chaos, chain: Chain, params: list[Any]) -> int:
    expect_params(params, 1)
    try:
        rules = parse_rules(params[0])
    except FaultRuleError as exc:
        raise InvalidParams(f"invalid fault rules: {exc}") from None
    chaos.faults.install(rules)
    return len(rules)


def chaos_set_clock_skew(chaos: Chaos, chain: Chain, params: list[Any]) -> float:
    expect_params(params, 1)
    seconds = params[0]
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, (int, float))
        or not math.isfinite(seconds)
        or abs(seconds) > MAX_CLOCK_SKEW_S
    ):
        raise InvalidParams(
            f"clock skew must be a number of seconds from {-MAX_CLOCK_SKEW_S:g} to "
            f"{MAX_CLOCK_SKEW_S:g}, not {seconds!r}"
        )
    chaos.clock_skew_s = float(seconds)
    return chaos.clock_skew_s


def chaos_status(chaos: Chaos, chain: Chain, params: list[Any]) -> dict[str, Any]:
    expect_params(params, 0)
    return {
        "rules": [rule.to_json() for rule in chaos.faults.rules],
        "clockSkewS": chaos.clock_skew_s,
        "counters": chaos.faults.counters.to_json(),
    }


CHAOS_METHODS: dict[str, Callable[[Chaos, Chain, list[Any]], Any]] = {
    "chaos_setFaults": chaos_set_faults,
    "chaos_setClockSkew": chaos_set_clock_skew,
    "chaos_status": chaos_status,
}


def chaos_methods(chaos: Chaos) -> dict[str, Handler]:
    """The chaos_* methods acting on `chaos`, to serve beside the others."""
    return {name: functools.partial(fn, chaos) for name, fn in CHAOS_METHODS.items()}
