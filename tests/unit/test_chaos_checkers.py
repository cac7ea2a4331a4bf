"""The chaos checkers on hand-made histories: the clean run passes every one, and each
violation a checker exists for is caught, by that checker, where it happened."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from node.chaos.checkers import (
    CHECKERS,
    EVIDENCE_WITHIN_HEIGHTS,
    Violation,
    check_all,
    verdict_table,
)
from node.chaos.history import History
from tests.unit.test_chaos_history import (
    BYZANTINE,
    CUT_OFF,
    NODES,
    TOP,
    TX_INFER,
    TX_INFO,
    TX_OK,
    block_hash,
    clean_events,
)

Events = list[dict[str, Any]]


def run(name: str, events: Events) -> list[Violation]:
    violations = CHECKERS[name](History.from_events(events))
    assert all(v.checker == name for v in violations)
    return violations


def blocks(events: Events, *, node: int | None = None, height: int | None = None) -> Events:
    return [
        e
        for e in events
        if e["type"] == "block" and node in (None, e["node"]) and height in (None, e["height"])
    ]


def test_the_nine_checkers_pass_the_clean_run() -> None:
    assert list(CHECKERS) == [
        "agreement",
        "state-roots",
        "liveness",
        "acknowledged",
        "honest-votes",
        "evidence",
        "inference",
        "fl",
        "quorum",
    ]
    verdicts = check_all(History.from_events(clean_events()))
    assert [(v.name, v.ok, v.violations, v.summary) for v in verdicts] == [
        (name, True, (), "ok") for name in CHECKERS
    ]


# --- agreement and state roots ------------------------------------------------------------


def test_agreement_catches_a_node_that_committed_another_block() -> None:
    events = clean_events()
    (forked,) = blocks(events, node=2, height=6)
    forked["hash"] = block_hash(99)
    (violation,) = run("agreement", events)
    assert (violation.height, violation.node) == (6, 2)
    assert violation.message == (
        f"height 6: node 0 has block {block_hash(6)[:14]}, node 2 has {block_hash(99)[:14]}"
    )
    assert run("state-roots", events) == []  # the roots were left alone


def test_state_roots_catches_a_node_whose_state_differs() -> None:
    events = clean_events()
    (diverged,) = blocks(events, node=1, height=7)
    diverged["stateRoot"] = "0x" + "ee" * 32
    (violation,) = run("state-roots", events)
    assert (violation.height, violation.node) == (7, 1)
    assert "state root" in violation.message and "0xeeeeeeeeeeee" in violation.message
    assert run("agreement", events) == []


# --- liveness -----------------------------------------------------------------------------


def heights_of(events: Events, node: int, change: Callable[[float, int], int | None]) -> Events:
    """Rewrite a node's height samples (None drops the sample)."""
    out = []
    for e in events:
        if e["type"] == "height" and e["node"] == node:
            height = change(e["time"], e["height"])
            if height is None:
                continue
            e = {**e, "height": height}
        out.append(e)
    return out


def test_liveness_catches_a_node_that_never_catches_up_after_the_heal() -> None:
    events = heights_of(clean_events(), CUT_OFF, lambda t, h: 4 if t >= 4 else h)
    (violation,) = run("liveness", events)
    assert (violation.node, violation.height, violation.time) == (CUT_OFF, 8, 8.5)
    assert violation.message == (
        "node 2 did not pass height 8 within 5 s of the last fault (t=8.5 s): last at 4 (t=14.0 s)"
    )


def test_liveness_catches_progress_that_comes_too_late() -> None:
    # Node 2 catches up at t=14, 5.5 s after the heal: over the 5 s bound.
    events = heights_of(clean_events(), CUT_OFF, lambda t, h: 4 if 4 <= t < 14 else h)
    (violation,) = run("liveness", events)
    assert violation.node == CUT_OFF


def test_liveness_catches_a_run_that_stalls_for_everyone() -> None:
    events = clean_events()
    for node in range(NODES):
        events = heights_of(events, node, lambda t, h: min(h, 8))
    assert [v.node for v in run("liveness", events)] == [0, 1, 2]  # the honest ones


def test_liveness_says_when_the_history_ends_before_the_bound() -> None:
    events = [e for e in clean_events() if e["type"] != "height" or e["time"] <= 9.0]
    events = heights_of(events, CUT_OFF, lambda t, h: 4 if t >= 4 else h)
    events = [e for e in events if e["type"] not in ("block", "receipt", "offence", "inference")]
    (violation,) = run("liveness", events)
    assert violation.message.endswith("; the history ends 0.5 s after it")


def test_liveness_needs_a_sample_from_every_running_honest_node() -> None:
    events = heights_of(clean_events(), 1, lambda t, h: None)
    (violation,) = run("liveness", events)
    assert violation.node == 1 and "never sampled" in violation.message


def test_liveness_spares_nodes_that_are_down_or_byzantine() -> None:
    events = heights_of(clean_events(), BYZANTINE, lambda t, h: 1)
    events = heights_of(events, CUT_OFF, lambda t, h: 4 if t >= 4 else h)
    kill = {"time": 8.6, "type": "nemesis", "f": "kill", "value": {"node": CUT_OFF},
            "mechanism": "signal", "phase": "start"}  # fmt: skip
    at = next(i for i, e in enumerate(events) if e["time"] > 8.6)
    assert run("liveness", [*events[:at], kill, *events[at:]]) == []
    # Restarted, it must catch up again; paused and resumed likewise.
    for down, up in (("kill", "restart"), ("pause", "resume")):
        undo = {"time": 8.7, "type": "nemesis", "f": up, "value": {"nodes": [CUT_OFF]},
                "mechanism": "signal", "phase": "start"}  # fmt: skip
        fault = {**kill, "f": down}
        (violation,) = run("liveness", [*events[:at], fault, undo, *events[at:]])
        assert violation.node == CUT_OFF and violation.time == 8.7


# --- acknowledged transactions ------------------------------------------------------------


def receipts(events: Events, tx: str) -> Events:
    return [e for e in events if e["type"] == "receipt" and e["tx"] == tx]


def test_acknowledged_catches_an_ok_transaction_missing_on_a_node() -> None:
    events = clean_events()
    receipts(events, TX_OK)[1]["block"] = None
    (violation,) = run("acknowledged", events)
    assert (violation.node, violation.time, violation.height) == (1, 1.4, 3)
    assert "acknowledged at t=1.4 s is not committed on node 1" in violation.message
    # A node with no receipt at all for it counts the same.
    events = [e for e in clean_events() if e not in receipts(clean_events(), TX_OK)[2:3]]
    assert [v.node for v in run("acknowledged", events)] == [2]


def test_acknowledged_catches_a_transaction_in_another_block_than_its_receipt_said() -> None:
    events = clean_events()
    for receipt in receipts(events, TX_INFER)[2:]:
        receipt["block"] = 9
    violations = run("acknowledged", events)
    assert [v.node for v in violations] == [2, 3]
    assert "is in block 9 on node 2; the client's receipt said block 4" in violations[0].message


def test_acknowledged_catches_an_accepted_transaction_lost_without_a_report() -> None:
    events = [e for e in clean_events() if e not in receipts(clean_events(), TX_INFO)]
    (violation,) = run("acknowledged", events)
    assert (violation.node, violation.time) == (1, 2.5)
    assert "accepted by node 1 at t=2.5 s is neither committed nor reported dropped" in (
        violation.message
    )
    dropped = {"time": 15.0, "type": "dropped", "tx": TX_INFO, "reason": "evicted"}
    assert run("acknowledged", [*events, dropped]) == []  # reported: accounted for


def test_acknowledged_catches_a_transaction_reported_dropped_that_was_committed() -> None:
    events = [*clean_events(), {"time": 15.0, "type": "dropped", "tx": TX_INFO, "reason": "x"}]
    violations = run("acknowledged", events)
    assert [v.node for v in violations] == list(range(NODES))
    assert "reported dropped (x) is committed in block 5 on node 0" in violations[0].message


# --- honest votes and evidence ------------------------------------------------------------


def test_honest_votes_catches_evidence_against_an_honest_validator() -> None:
    events = clean_events()
    for block in blocks(events, height=9):
        block["evidence"] = [{"validator": 1, "height": 8, "round": 2, "step": "precommit"}]
    (violation,) = run("honest-votes", events)  # once, though four nodes hold the block
    assert violation.message == (
        "block 9 on node 0 records evidence against honest validator 1 (precommit at height 8, "
        "round 2)"
    )


def test_honest_votes_catches_a_validator_that_precommitted_two_blocks() -> None:
    events = clean_events()
    (forked,) = blocks(events, node=3, height=6)
    forked["hash"] = block_hash(99)
    forked["precommits"] = [1, 2, 3]
    violations = run("honest-votes", events)
    assert [v.message.split()[1] for v in violations] == ["1", "2"]
    assert violations[0].message == (
        f"validator 1 precommitted {block_hash(6)[:14]} (node 0's certificate), "
        f"{block_hash(99)[:14]} (node 3's certificate) at height 6, round 0"
    )
    forked["round"] = 1  # another round: two blocks, no validator signed twice in one round
    assert run("honest-votes", events) == []


def test_evidence_catches_an_equivocation_no_block_records() -> None:
    events = clean_events()
    for block in blocks(events, height=3):
        block["evidence"] = []
    (violation,) = run("evidence", events)
    assert (violation.node, violation.height) == (BYZANTINE, 2)
    assert violation.message == (
        f"node 3's prevote equivocation at height 2, round 0 is in no block up to height {TOP}"
    )


def test_evidence_waits_for_the_chain_to_go_far_enough_past_an_offence() -> None:
    def offence(height: int, kind: str = "equivocation") -> dict[str, Any]:
        return {"time": 15.0, "type": "offence", "node": BYZANTINE, "height": height,
                "round": 1, "step": "precommit", "kind": kind}  # fmt: skip

    last_judged = TOP - EVIDENCE_WITHIN_HEIGHTS
    events = [*clean_events(), offence(last_judged + 1), offence(3, "withheld")]
    assert run("evidence", events) == []
    events += [offence(last_judged), offence(last_judged)]  # logged twice, one offence
    (violation,) = run("evidence", events)
    assert violation.height == last_judged


def test_evidence_leaves_offences_from_before_the_network_formed_alone() -> None:
    """The first height samples (t=1 s) are at height 1: a double vote at height 1 may have
    been sent before the Byzantine node had peers, and then reached nobody."""
    events = clean_events()
    for e in events:
        if e["type"] == "offence":
            e["height"] = 1
    assert run("evidence", events) == []
    for e in events:
        if e["type"] == "offence":
            e["height"] = 2
    for block in blocks(events, height=3):
        block["evidence"] = []
    assert [v.height for v in run("evidence", events)] == [2]


# --- inference ----------------------------------------------------------------------------


def test_inference_catches_a_finalized_output_that_is_not_the_honest_one() -> None:
    events = clean_events()
    result = events[-1]
    assert result["type"] == "inference"
    result["output"] = "0x6c696172"
    (violation,) = run("inference", events)
    assert violation.message == (
        "request 7 finalized on node 0 with output 0x6c696172, the honest output is 0x686f6e657374"
    )
    result["status"] = "settled"
    assert len(run("inference", events)) == 1
    result.update(status="finalized", output=None)
    assert "with no output" in run("inference", events)[0].message
    result["status"] = "pending"  # not finalized yet: nothing to judge
    assert run("inference", events) == []


# --- verdicts -----------------------------------------------------------------------------


def test_the_verdict_table_names_each_checker_its_count_and_first_violation() -> None:
    events = clean_events()
    for node in (1, 2):
        (forked,) = blocks(events, node=node, height=5)
        forked["hash"] = block_hash(50 + node)
    verdicts = check_all(History.from_events(events))
    agreement = verdicts[0]
    assert (agreement.ok, len(agreement.violations)) == (False, 2)
    assert agreement.summary == "2 violations; first: " + agreement.violations[0].message
    table = verdict_table(verdicts)
    assert table[0].split() == ["checker", "verdict", "count", "first", "violation"]
    assert table[1] == (
        f"agreement     VIOLATED      2  height 5: node 0 has block {block_hash(5)[:14]}, "
        f"node 1 has {block_hash(51)[:14]}"
    )
    assert table[2] == "state-roots   ok            0  -"
    assert len(table) == 1 + len(CHECKERS)


# --- quorum ---------------------------------------------------------------------------------


def split(events: Events, groups: list[list[int]]) -> Events:
    """The clean run with its partition replaced by `groups` (from t=4 s to the heal at 8.5)."""
    for e in events:
        if e["type"] == "nemesis" and e["f"] == "partition":
            e["value"] = {"groups": groups}
    return events


def test_quorum_holds_when_a_split_without_quorum_stalls_every_node() -> None:
    stalled = split(clean_events(), [[0, 1], [2, 3]])
    for node in range(NODES):
        stalled = heights_of(stalled, node, lambda t, h: 4 if 4 <= t <= 8 else h)
    assert run("quorum", stalled) == []


def test_quorum_catches_commits_while_no_side_holds_two_thirds() -> None:
    """The clean run's nodes go on committing through a 2 | 2 split of equal stakes."""
    (violation, *others) = run("quorum", split(clean_events(), [[0, 1], [2, 3]]))
    assert (violation.node, violation.height, violation.time) == (0, 6, 6.0)
    assert violation.message == (
        "node 0 reached height 6 at t=6.0 s while no side of the partition from t=4.0 s held"
        " 2/3 of the stake (height 4 when it began)"
    )
    # one violation per node that committed: node 2, cut off in the clean run, stayed at 4
    assert {v.node for v in others} == {1, 3}


def test_quorum_weighs_stakes_and_leaves_straddling_nodes_alone() -> None:
    heavy = split(clean_events(), [[0, 1], [2, 3]])
    for validator in heavy[0]["validators"]:
        validator["stake"] = 400 if validator["index"] == 0 else 100
    assert run("quorum", heavy) == []  # {0, 1} holds 500 of 700: more than 2/3
    assert run("quorum", split(clean_events(), [[0, 1], [2]])) == []  # node 3 in no group


@pytest.mark.parametrize("name", list(CHECKERS))
def test_every_checker_can_fail(name: str) -> None:
    """Guards the registry: each checker flags the run the others' tests break."""
    broken = clean_events()
    for block in blocks(broken, node=2):
        block.update(
            hash=block_hash(200 + block["height"]),
            stateRoot="0x" + "dd" * 32,
            evidence=[{"validator": 0, "height": 1, "round": 0, "step": "prevote"}],
        )
    broken = heights_of(broken, CUT_OFF, lambda t, h: 4 if t >= 4 else h)
    broken = [e for e in broken if e["type"] != "receipt" or e["node"] != 2]
    for e in broken:
        if e["type"] == "offence":
            e["height"] = 4  # no block records evidence of height 4
        if e["type"] == "inference":
            e["output"] = "0x00"
    broken = split(broken, [[0, 1], [2, 3]])
    broken.append(
        {"time": TOP + 1.0, "type": "fl-proposal", "node": 0, "task": 1, "proposal": 1,
         "status": "accepted", "score": 300_000, "attack": "zero", "scores": []}
    )  # fmt: skip
    assert run(name, broken)
