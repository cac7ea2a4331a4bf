"""node.p2p.faults: chaos rules from JSON, and the per-message decisions they make."""

from __future__ import annotations

import random
from typing import Any

import pytest

from node.p2p.faults import (
    MAX_DELAY_MS,
    MAX_RULES,
    NOW,
    REORDER_HOLD_MS,
    FaultRule,
    FaultRuleError,
    Faults,
    parse_rules,
)

A = "12D3KooWA1b2C3d4E5f6G7h8J9k1L2m3N4p5Q6r7S8t9U1v2W3x4"
B = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
C = "12D3KooWCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
DRAWS = 2000


def faults(*rules: dict[str, Any], seed: int = 7) -> Faults:
    installed = Faults(random.Random(seed))
    installed.install(parse_rules(list(rules)))
    return installed


# ---- rules from JSON ----


def test_a_rule_with_only_peers_takes_every_default_and_reads_back_whole() -> None:
    (rule,) = parse_rules([{"peers": [A, B, A]}])
    assert rule == FaultRule(peers=(A, B))  # a peer named twice counts once
    assert rule.to_json() == {
        "peers": [A, B],
        "block": False,
        "drop": 0.0,
        "delayMs": [0.0, 0.0],
        "duplicate": 0.0,
        "reorder": 0.0,
    }
    full = {
        "peers": [C],
        "block": True,
        "drop": 0.25,
        "delayMs": [5, 50],
        "duplicate": 1,
        "reorder": 0.5,
    }
    assert parse_rules([full])[0].to_json() == {**full, "delayMs": [5.0, 50.0], "duplicate": 1.0}
    assert parse_rules([]) == ()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"peers": [A]}, "rules must be a list"),
        ([[A]], "rule 0: must be an object"),
        ([{"peers": [A]}, {"peers": [A], "dely": 5}], "rule 1: unknown field 'dely'"),
        ([{}], "peers must be a non-empty list"),
        ([{"peers": []}], "peers must be a non-empty list"),
        ([{"peers": A}], "peers must be a non-empty list"),
        ([{"peers": ["12D3KooW0OIl"]}], "is not a libp2p peer id"),
        ([{"peers": [A + "0"]}], "is not a libp2p peer id"),  # 0 is not base58
        ([{"peers": [7]}], "7 is not a libp2p peer id"),
        ([{"peers": [A], "block": 1}], "block must be true or false"),
        ([{"peers": [A], "drop": 1.5}], "drop must be a number from 0 to 1, not 1.5"),
        ([{"peers": [A], "drop": -0.1}], "drop must be a number from 0 to 1"),
        ([{"peers": [A], "drop": True}], "drop must be a number from 0 to 1, not True"),
        ([{"peers": [A], "duplicate": "0.5"}], "duplicate must be a number from 0 to 1"),
        ([{"peers": [A], "reorder": float("nan")}], "reorder must be a number from 0 to 1"),
        ([{"peers": [A], "delayMs": 50}], "delayMs must be [lo, hi]"),
        ([{"peers": [A], "delayMs": [50]}], "delayMs must be [lo, hi]"),
        ([{"peers": [A], "delayMs": [60, 50]}], "delayMs must be [lo, hi]"),
        ([{"peers": [A], "delayMs": [-1, 50]}], "delayMs must be [lo, hi]"),
        ([{"peers": [A], "delayMs": [0, MAX_DELAY_MS + 1]}], "delayMs must be [lo, hi]"),
        ([{"peers": [A], "delayMs": [0, None]}], "delayMs must be [lo, hi]"),
        ([{"peers": [A]}] * (MAX_RULES + 1), f"more than {MAX_RULES}"),
    ],
)
def test_a_bad_rule_set_is_refused_naming_the_rule_and_the_reason(doc: Any, message: str) -> None:
    with pytest.raises(FaultRuleError) as refused:
        parse_rules(doc)
    assert message in str(refused.value)


# ---- decisions ----


def test_a_peer_no_rule_names_gets_everything_at_once_and_nothing_is_counted() -> None:
    chaos = faults({"peers": [A], "block": True})
    assert chaos.message(B) is NOW and chaos.exchange(B) == 0.0
    assert chaos.counters.to_json() == dict.fromkeys(
        ("dropped", "delayed", "duplicated", "reordered", "refused"), 0
    )


def test_a_blocked_peer_loses_every_message_and_every_exchange() -> None:
    chaos = faults({"peers": [A], "block": True, "delayMs": [10, 20], "duplicate": 1})
    assert [chaos.message(A) for _ in range(5)] == [()] * 5
    assert [chaos.exchange(A) for _ in range(3)] == [None] * 3
    assert (chaos.counters.dropped, chaos.counters.refused, chaos.counters.delayed) == (5, 3, 0)


def test_drop_takes_about_its_share_and_one_seed_makes_one_sequence() -> None:
    runs = [faults({"peers": [A], "drop": 0.3}, seed=11) for _ in range(2)]
    sequences = [[bool(run.message(A)) for _ in range(DRAWS)] for run in runs]
    assert sequences[0] == sequences[1]
    dropped = sequences[0].count(False)
    assert 0.25 * DRAWS < dropped < 0.35 * DRAWS
    assert runs[0].counters.dropped == dropped
    other = faults({"peers": [A], "drop": 0.3}, seed=12)
    assert [bool(other.message(A)) for _ in range(DRAWS)] != sequences[0]


def test_delays_fall_in_the_range_in_seconds_and_are_counted() -> None:
    chaos = faults({"peers": [A], "delayMs": [20, 80]})
    delays = [chaos.message(A) for _ in range(DRAWS)]
    assert all(len(d) == 1 and 0.020 <= d[0] <= 0.080 for d in delays)
    assert max(d[0] for d in delays) - min(d[0] for d in delays) > 0.05  # spread, not fixed
    assert chaos.counters.delayed == DRAWS
    held = chaos.exchange(A)
    assert held is not None and 0.020 <= held <= 0.080


def test_a_duplicate_is_a_second_delivery_and_the_earliest_comes_first() -> None:
    chaos = faults({"peers": [A], "duplicate": 1.0, "delayMs": [0, 100]})
    for _ in range(100):
        first, second = chaos.message(A)
        assert first <= second
    assert chaos.counters.duplicated == 100 and chaos.counters.delayed == 200
    assert faults({"peers": [A], "duplicate": 1.0}).exchange(A) == 0.0  # one exchange, once


def test_a_reordered_message_is_held_back_so_the_next_one_overtakes() -> None:
    """Messages sent back to back arrive at once unless held: a held one arrives after those
    sent up to REORDER_HOLD_MS after it."""
    chaos = faults({"peers": [A], "reorder": 0.5})
    delays = [chaos.message(A)[0] for _ in range(DRAWS)]
    held = [d for d in delays if d]
    lo, hi = (ms / 1000 for ms in REORDER_HOLD_MS)
    assert all(lo <= d <= hi for d in held)
    assert 0.4 * DRAWS < len(held) < 0.6 * DRAWS
    assert chaos.counters.reordered == len(held) and chaos.counters.delayed == 0


def test_rules_naming_one_peer_combine() -> None:
    chaos = faults(
        {"peers": [A, B], "drop": 0.5, "delayMs": [10, 10]},
        {"peers": [A], "drop": 0.5, "delayMs": [5, 5]},
        {"peers": [C], "block": False},
        {"peers": [C], "block": True},
    )
    kept = [chaos.message(A) for _ in range(DRAWS)]
    assert 0.2 * DRAWS < sum(1 for d in kept if d) < 0.3 * DRAWS  # 1 - 0.5 * 0.5 dropped
    assert {d for d in kept if d} == {(0.015,)}  # the delays add up
    assert {chaos.message(B) for _ in range(50)} <= {(), (0.010,)}
    assert chaos.message(C) == ()  # one blocking rule is enough


def test_installing_replaces_the_rules_and_an_empty_set_heals() -> None:
    chaos = faults({"peers": [A], "block": True})
    chaos.install(parse_rules([{"peers": [B], "block": True}]))
    assert chaos.message(A) is NOW and chaos.message(B) == ()
    assert chaos.rules == (FaultRule(peers=(B,), block=True),)
    chaos.install(())
    assert chaos.message(B) is NOW and chaos.exchange(B) == 0.0 and chaos.rules == ()
    assert chaos.counters.dropped == 1  # counters survive a new rule set
