"""Federated learning in chaos runs: the fl-version and fl-proposal events, the "fl" checker on
hand-made histories (a clean one, then each violation it exists for), and the FL load's choice
of accounts and attack weights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from brainchain.fl import SCORE_SCALE
from genesis.devnet import DEV_ACCOUNTS
from node.chaos.checkers import CHECKERS, check_all
from node.chaos.history import FlScore, History, HistoryError
from node.chaos.load import INFERENCE_ACCOUNTS, TRANSFER_ACCOUNTS, fl_accounts, zero_weights
from node.chaos.report import counts
from node.chaos.scenario import Load
from node.fl.data import validation_shard
from node.fl.model import from_blob
from node.fl.train import score
from tests.unit.test_chaos_history import BYZANTINE, NODES, TOP, clean_events

Events = list[dict[str, Any]]
TASK = 1
END = TOP + 2.0  # after clean_events' observations
TX_CREATE, TX_PROPOSE = ("0x" + n * 32 for n in ("c1", "c2"))
# Honest members 0..2 score a trained model about 0.91, node 3 reveals a random 0.01.
HONEST = {0: (910_000, 55), 1: (905_000, 50), 2: (920_000, 60)}
RANDOM = (10_000, 58)


def global_hash(version: int) -> str:
    return f"0x{version:04x}" + "9" * 60


def scores(by_member: Mapping[Any, tuple[int, int]]) -> list[dict[str, Any]]:
    return [{"member": m, "score": s, "weight": w} for m, (s, w) in by_member.items()]


def proposal(number: int, status: str, median: int | None, node: int, **extra: Any) -> Any:
    event = {
        "time": END,
        "type": "fl-proposal",
        "node": node,
        "task": TASK,
        "proposal": number,
        "status": status,
        "score": median,
        "attack": None,
        "scores": scores({**HONEST, BYZANTINE: RANDOM}),
    }
    return {**event, **extra}


def fl_events() -> Events:
    """clean_events() with node 3 scoring at random, a task created and proposed to, and what
    every node held at the end: versions 0..2 recomputed and attested alike; proposals 1 and 3
    accepted at an honest median, 2 (zero weights) rejected, 4 still pending, 5 expired."""
    events = clean_events()
    events[0]["validators"][BYZANTINE]["byzantine"] = "random-fl-score"
    events += [
        {"time": END - 1, "type": "invoke", "process": 5, "node": 1, "f": "fl-create",
         "value": {"model": "digits-mlp", "tx": TX_CREATE}},
        {"time": END - 1, "type": "ok", "process": 5, "node": 1, "f": "fl-create",
         "value": {"tx": TX_CREATE, "block": 6, "accepted": True, "task": TASK}},
        {"time": END - 1, "type": "invoke", "process": 5, "node": 2, "f": "fl-propose",
         "value": {"task": TASK, "base": 0, "attack": None, "tx": TX_PROPOSE}},
        {"time": END - 1, "type": "ok", "process": 5, "node": 2, "f": "fl-propose",
         "value": {"tx": TX_PROPOSE, "block": 7, "accepted": True, "proposal": 1}},
    ]  # fmt: skip
    for node in range(NODES):
        events += [
            {"time": END, "type": "receipt", "node": node, "tx": tx, "block": block}
            for tx, block in ((TX_CREATE, 6), (TX_PROPOSE, 7))
        ]
        events += [
            {"time": END, "type": "fl-version", "node": node, "task": TASK, "version": v,
             "proposal": None if v == 0 else 2 * v - 1, "score": None if v == 0 else 910_000,
             "computedHash": global_hash(v), "globalHash": global_hash(v)}
            for v in range(3)
        ]  # fmt: skip
        events += [
            proposal(1, "accepted", 910_000, node),
            proposal(2, "rejected", 100_000, node, attack="zero", scores=scores(
                {0: (100_000, 55), 1: (98_000, 50), 2: (101_000, 60), BYZANTINE: RANDOM})),
            proposal(3, "accepted", 910_000, node),
            proposal(4, "pending", None, node, scores=[]),
            proposal(5, "expired", 0, node, scores=scores({BYZANTINE: RANDOM})),
        ]  # fmt: skip
    return events


def fl_violations(events: Events) -> list[str]:
    found = CHECKERS["fl"](History.from_events(events))
    assert all(v.checker == "fl" for v in found)
    return [v.message for v in found]


def where(events: Events, kind: str, node: int, **match: Any) -> dict[str, Any]:
    (found,) = [
        e
        for e in events
        if e["type"] == kind and e["node"] == node and all(e[k] == v for k, v in match.items())
    ]
    return found


def test_the_report_counts_fl_outcomes_honest_and_attacking_apart() -> None:
    events = fl_events()
    events.remove(where(events, "fl-proposal", 0, proposal=4))  # node 0 missed one: not the view
    fl = counts(History.from_events(events))["fl"]
    assert fl == {
        "node": 1,
        "versions": {str(TASK): 2},
        "honestProposals": {"accepted": 2, "expired": 1, "pending": 1},
        "attackProposals": {"rejected": 1},
    }
    assert counts(History.from_events(clean_events()))["fl"] == {}


# --- history ------------------------------------------------------------------------------


def test_fl_events_read_into_typed_records() -> None:
    history = History.from_events(fl_events())
    assert len(history.fl_versions) == 3 * NODES and len(history.fl_proposals) == 5 * NODES
    version = history.fl_versions[1]
    assert (version.task, version.version, version.proposal, version.score) == (1, 1, 1, 910_000)
    assert version.computed_hash == version.global_hash == global_hash(1)
    first = history.fl_proposals[0]
    assert (first.proposal, first.status, first.score, first.attack) == (
        1,
        "accepted",
        910_000,
        None,
    )
    assert first.scores[BYZANTINE] == FlScore(BYZANTINE, 58, 10_000)
    assert history.fl_proposals[1].attack == "zero"
    assert [op.f for op in history.operations][-4:] == ["fl-create"] * 2 + ["fl-propose"] * 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("status", "done", 'field "status": expected one of pending, accepted'),
        ("attack", "noise", 'field "attack": expected null or one of zero'),
        ("scores", [{"member": -1, "weight": 1, "score": 1}], 'field "scores\\[0\\].member"'),
        ("scores", [{"member": 0, "score": 1}], 'missing field "scores\\[0\\].weight"'),
        ("score", -5, 'field "score": expected an integer >= 0'),
    ],
)
def test_a_broken_fl_proposal_is_refused(field: str, value: Any, message: str) -> None:
    events = fl_events()
    where(events, "fl-proposal", 0, proposal=1)[field] = value
    with pytest.raises(HistoryError, match=message):
        History.from_events(events)


def test_a_broken_fl_version_is_refused() -> None:
    events = fl_events()
    where(events, "fl-version", 2, version=1)["computedHash"] = "9999"
    with pytest.raises(HistoryError, match='field "computedHash": expected 0x-hex'):
        History.from_events(events)


# --- the checker --------------------------------------------------------------------------


def test_every_checker_passes_the_clean_fl_run() -> None:
    verdicts = check_all(History.from_events(fl_events()))
    assert [(v.name, v.ok) for v in verdicts] == [(name, True) for name in CHECKERS]
    assert "fl" in CHECKERS


def test_a_node_that_recomputed_other_weights_is_caught() -> None:
    events = fl_events()
    where(events, "fl-version", 2, version=2)["computedHash"] = global_hash(77)
    assert fl_violations(events) == [
        f"FL task 1 version 2: node 0 recomputed {global_hash(2)[:14]}, node 2 "
        f"{global_hash(77)[:14]}",
        f"FL task 1 version 2: node 2 recomputed {global_hash(77)[:14]}, its chain attests "
        f"{global_hash(2)[:14]}",
    ]


def test_weights_every_node_recomputed_alike_but_the_chain_attests_others_are_caught() -> None:
    events = fl_events()
    for node in range(NODES):
        where(events, "fl-version", node, version=1)["globalHash"] = global_hash(55)
    found = fl_violations(events)
    assert len(found) == NODES
    assert found[0] == (
        f"FL task 1 version 1: node 0 recomputed {global_hash(1)[:14]}, its chain attests "
        f"{global_hash(55)[:14]}"
    )


def test_versions_not_recomputed_or_not_attested_are_not_judged() -> None:
    events = fl_events()
    where(events, "fl-version", 1, version=2)["computedHash"] = None  # adopted, or still working
    where(events, "fl-version", 3, version=2)["globalHash"] = None  # not attested yet there
    assert fl_violations(events) == []


def test_an_accepted_attack_is_caught_once() -> None:
    events = fl_events()
    for node in range(NODES):
        where(events, "fl-proposal", node, proposal=2).update(status="accepted", score=300_000)
    assert fl_violations(events) == [
        "FL proposal 2 on node 0: zero weights (an attack) accepted, median 300000"
    ]


def test_a_median_the_random_scorer_moved_is_caught() -> None:
    events = fl_events()
    # Node 3 (random-fl-score) revealed 0.01 and the median is its score: the honest members
    # hold most of the weight, so a correct weighted median cannot be outside their 0.905..0.92.
    where(events, "fl-proposal", 1, proposal=3)["score"] = RANDOM[0]
    assert fl_violations(events) == [
        "FL proposal 3 on node 1 (accepted): median 10000 outside the honest members' scores "
        "905000..920000 (others revealed node 3 10000)"
    ]


def test_the_median_is_judged_for_rejected_proposals_and_members_named_by_address() -> None:
    events = fl_events()
    byzantine = events[0]["validators"][BYZANTINE]["address"]
    honest = {events[0]["validators"][m]["address"]: v for m, v in HONEST.items()}
    where(events, "fl-proposal", 0, proposal=2).update(
        score=950_000, scores=scores({**honest, byzantine: (950_000, 58)})
    )
    assert fl_violations(events) == [
        "FL proposal 2 on node 0 (rejected): median 950000 outside the honest members' scores "
        f"905000..920000 (others revealed {byzantine} 950000)"
    ]


def test_no_median_is_promised_when_honest_members_reveal_half_the_weight_or_less() -> None:
    events = fl_events()
    # Nodes 1 and 2 revealed nothing (partitioned, say): node 3 holds over half the weight.
    where(events, "fl-proposal", 0, proposal=1).update(
        score=RANDOM[0], scores=scores({0: HONEST[0], BYZANTINE: RANDOM})
    )
    assert fl_violations(events) == []


def test_pending_and_expired_proposals_have_no_median_to_judge() -> None:
    events = fl_events()
    where(events, "fl-proposal", 0, proposal=4)["scores"] = scores({**HONEST})
    where(events, "fl-proposal", 0, proposal=5).update(score=RANDOM[0])
    assert fl_violations(events) == []


# --- the load -----------------------------------------------------------------------------


def test_fl_clients_take_the_accounts_the_other_clients_leave() -> None:
    accounts = fl_accounts(Load(transfers_per_s=3, inference_per_s=0.05, fl_proposals_per_s=1))
    taken = TRANSFER_ACCOUNTS[:3] + INFERENCE_ACCOUNTS[:1]
    assert accounts[0] == DEV_ACCOUNTS[-1]  # the creator: neither other load ever takes it
    assert len(accounts) == len(DEV_ACCOUNTS) - len(taken)
    assert not set(accounts) & set(taken)
    busiest = Load(transfers_per_s=50, inference_per_s=50, fl_proposals_per_s=1)
    assert fl_accounts(busiest) == (DEV_ACCOUNTS[-1],)


def test_the_attack_weights_are_zero_and_score_as_one_class_in_ten() -> None:
    blob = zero_weights()
    assert all(not values.any() for values in from_blob(blob).values())
    assert score(blob, validation_shard(0, 4)) < 0.2 * SCORE_SCALE  # far below θ = 0.25
