"""Chaos mode's fault layer: what this node does to the messages it receives from given peers.

Where network namespaces are unavailable, the chaos runner (issue 14) partitions and degrades
links from inside the nodes: each node drops, delays, duplicates or reorders what it receives
from the peers a rule names, and refuses request/response exchanges with them in either
direction. The runner installs rules on both ends of a link, so faults are symmetric unless a
scenario asks otherwise.

Pure and sans-I/O (STYLE §4): this module validates rules from JSON and decides, per inbound
message, when it is delivered; the bridge (node.p2p.bridge) carries the decision out. Every
draw comes from the `random.Random` it is given, so one seed gives one sequence of decisions.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_RULES = 256
MAX_DELAY_MS = 60_000  # a minute: beyond it a link is better modelled as blocked
# A reordered message is held this much longer than its delay, so messages after it overtake.
REORDER_HOLD_MS = (50.0, 250.0)
# Base58 (bitcoin alphabet), as libp2p peer ids are written: "12D3KooW…" or "Qm…".
_PEER_ID = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,128}")
RULE_FIELDS = ("peers", "block", "drop", "delayMs", "duplicate", "reorder")

NOW: tuple[float, ...] = (0.0,)  # delivered at once, once: what a peer without rules gets


class FaultRuleError(ValueError):
    """A rule set that is not what chaos_setFaults accepts; the message says which rule, why."""


@dataclass(frozen=True, slots=True)
class FaultRule:
    """Faults on what this node receives from `peers` (the JSON object of chaos_setFaults)."""

    peers: tuple[str, ...]
    block: bool = False
    drop: float = 0.0
    delay_ms: tuple[float, float] = (0.0, 0.0)
    duplicate: float = 0.0
    reorder: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "peers": list(self.peers),
            "block": self.block,
            "drop": self.drop,
            "delayMs": list(self.delay_ms),
            "duplicate": self.duplicate,
            "reorder": self.reorder,
        }


def parse_rules(doc: Any) -> tuple[FaultRule, ...]:
    """The rules of a JSON list of rule objects, each field checked.

    Raises:
        FaultRuleError: not a list of at most MAX_RULES rule objects, an unknown field, no
            peers, a peer that is not a base58 peer id, or a value of the wrong type or range.
    """
    if not isinstance(doc, list):
        raise FaultRuleError(f"rules must be a list of rule objects, not {type(doc).__name__}")
    if len(doc) > MAX_RULES:
        raise FaultRuleError(f"{len(doc)} rules, more than {MAX_RULES}")
    return tuple(_parse_rule(index, rule) for index, rule in enumerate(doc))


def _parse_rule(index: int, doc: Any) -> FaultRule:
    where = f"rule {index}"
    if not isinstance(doc, dict):
        raise FaultRuleError(f"{where}: must be an object, not {type(doc).__name__}")
    unknown = sorted(str(key) for key in doc if key not in RULE_FIELDS)
    if unknown:
        raise FaultRuleError(
            f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(RULE_FIELDS)})"
        )
    peers = doc.get("peers")
    if not isinstance(peers, list) or not peers:
        raise FaultRuleError(f"{where}: peers must be a non-empty list of peer ids")
    for peer in peers:
        if not isinstance(peer, str) or not _PEER_ID.fullmatch(peer):
            raise FaultRuleError(f"{where}: {peer!r} is not a libp2p peer id (base58)")
    block = doc.get("block", False)
    if not isinstance(block, bool):
        raise FaultRuleError(f"{where}: block must be true or false, not {block!r}")
    return FaultRule(
        peers=tuple(dict.fromkeys(peers)),
        block=block,
        drop=_probability(doc, "drop", where),
        delay_ms=_delay_range(doc.get("delayMs", [0, 0]), where),
        duplicate=_probability(doc, "duplicate", where),
        reorder=_probability(doc, "reorder", where),
    )


def _number(value: Any) -> float | None:
    """`value` as a finite float, or None for anything else (a bool is not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _probability(doc: Mapping[str, Any], name: str, where: str) -> float:
    value = _number(doc.get(name, 0))
    if value is None or not 0 <= value <= 1:
        raise FaultRuleError(f"{where}: {name} must be a number from 0 to 1, not {doc[name]!r}")
    return value


def _delay_range(value: Any, where: str) -> tuple[float, float]:
    if isinstance(value, list) and len(value) == 2:
        lo, hi = (_number(v) for v in value)
        if lo is not None and hi is not None and 0 <= lo <= hi <= MAX_DELAY_MS:
            return lo, hi
    raise FaultRuleError(
        f"{where}: delayMs must be [lo, hi] with 0 <= lo <= hi <= {MAX_DELAY_MS}, not {value!r}"
    )


@dataclass(frozen=True, slots=True)
class LinkFaults:
    """Every rule naming one peer, combined: blocked if any blocks, independent chances (two
    10% drops drop 19%), delays in series (their ranges add)."""

    block: bool
    drop: float
    delay_ms: tuple[float, float]
    duplicate: float
    reorder: float

    @classmethod
    def of(cls, rules: Sequence[FaultRule]) -> LinkFaults:
        def either(chances: list[float]) -> float:
            return 1 - math.prod(1 - p for p in chances)

        return cls(
            block=any(r.block for r in rules),
            drop=either([r.drop for r in rules]),
            delay_ms=(sum(r.delay_ms[0] for r in rules), sum(r.delay_ms[1] for r in rules)),
            duplicate=either([r.duplicate for r in rules]),
            reorder=either([r.reorder for r in rules]),
        )


@dataclass(slots=True)
class FaultCounters:
    """What the rules did since the node started: messages dropped (blocked included),
    deliveries delayed or held back to reorder, extra copies delivered, exchanges refused."""

    dropped: int = 0
    delayed: int = 0
    duplicated: int = 0
    reordered: int = 0
    refused: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "dropped": self.dropped,
            "delayed": self.delayed,
            "duplicated": self.duplicated,
            "reordered": self.reordered,
            "refused": self.refused,
        }


class Faults:
    """The rule set a node runs, and its decisions on what arrives from each peer."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._rules: tuple[FaultRule, ...] = ()
        self._links: dict[str, LinkFaults] = {}
        self.counters = FaultCounters()

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        return self._rules

    def install(self, rules: Sequence[FaultRule]) -> None:
        """Replace the whole rule set; an empty one heals every link."""
        by_peer: dict[str, list[FaultRule]] = {}
        for rule in rules:
            for peer in rule.peers:
                by_peer.setdefault(peer, []).append(rule)
        self._rules = tuple(rules)
        self._links = {peer: LinkFaults.of(named) for peer, named in by_peer.items()}

    def message(self, peer: str) -> tuple[float, ...]:
        """When to deliver one gossip message or direct frame received from `peer`: seconds
        from now, one entry per copy, earliest first; empty when it is dropped."""
        link = self._links.get(peer)
        if link is None:
            return NOW
        rng, counters = self._rng, self.counters
        if link.block or (link.drop and rng.random() < link.drop):
            counters.dropped += 1
            return ()
        copies = 2 if link.duplicate and rng.random() < link.duplicate else 1
        counters.duplicated += copies - 1
        delays = []
        for _ in range(copies):
            delay_ms = self._delay_ms(link)
            if link.reorder and rng.random() < link.reorder:
                counters.reordered += 1
                delay_ms += rng.uniform(*REORDER_HOLD_MS)
            delays.append(delay_ms / 1000)
        return tuple(sorted(delays))

    def exchange(self, peer: str) -> float | None:
        """Seconds to hold a request/response exchange with `peer` (ours or its) before it
        goes on; None when it is refused. Duplicates and reordering do not apply to one
        exchange."""
        link = self._links.get(peer)
        if link is None:
            return 0.0
        if link.block or (link.drop and self._rng.random() < link.drop):
            self.counters.refused += 1
            return None
        return self._delay_ms(link) / 1000

    def _delay_ms(self, link: LinkFaults) -> float:
        lo, hi = link.delay_ms
        if not hi:
            return 0.0
        self.counters.delayed += 1
        return self._rng.uniform(lo, hi)
