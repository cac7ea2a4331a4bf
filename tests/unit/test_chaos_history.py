"""The chaos history format: what the recorder writes is what load_history reads, and every
broken line is refused with its number. `clean_events` is a hand-made run the checkers' tests
(test_chaos_checkers.py) break one property at a time."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.chaos.history import History, HistoryError, Recorder, load_history

NODES = 4
TOP = 14  # every node commits heights 1..TOP
BYZANTINE = 3  # validator 3 is a double voter
CUT_OFF = 2  # node 2 is partitioned away from t=4 to t=8.5
# Hashes differ in their first digits, as real ones do, so that messages tell them apart.
TX_OK, TX_INFO, TX_FAIL, TX_INFER = ("0x" + n * 32 for n in ("a1", "a2", "a3", "a4"))


def block_hash(height: int) -> str:
    return f"0x{height:04x}" + "b" * 60


def state_root(height: int) -> str:
    return f"0x{height:04x}" + "5" * 60


def clean_events() -> list[dict[str, Any]]:
    """A run every checker passes: four validators, a Byzantine double voter whose offence is
    recorded, a partition that heals, transfers ok / unknown / failed and an honest inference."""
    events: list[dict[str, Any]] = [
        {
            "time": 0.0,
            "type": "scenario",
            "name": "hand-made",
            "seed": 7,
            "validators": [
                {
                    "index": i,
                    "address": f"0x{i:040x}",
                    "peerId": f"12D3KooPeer{i}",
                    "byzantine": "double-voter" if i == BYZANTINE else None,
                }
                for i in range(NODES)
            ],
            "mechanism": {"partition": "fault-layer", "links": "fault-layer"},
            "livenessBoundS": 5.0,
        },
        {"time": 0.1, "type": "nemesis", "f": "byzantine", "value": {"node": BYZANTINE},
         "mechanism": "config", "phase": "start"},
        {"time": 1.0, "type": "invoke", "process": 0, "node": 0, "f": "transfer",
         "value": {"tx": TX_OK, "from": "0x" + "11" * 20, "nonce": 0}},
        {"time": 1.4, "type": "ok", "process": 0, "node": 0, "f": "transfer",
         "value": {"tx": TX_OK, "block": 3, "accepted": True}},
        {"time": 2.0, "type": "invoke", "process": 1, "node": 1, "f": "transfer",
         "value": {"tx": TX_INFO, "from": "0x" + "22" * 20, "nonce": 0}},
        {"time": 2.5, "type": "info", "process": 1, "node": 1, "f": "transfer",
         "value": {"tx": TX_INFO, "accepted": True, "error": "timed out"}},
        {"time": 3.0, "type": "invoke", "process": 0, "node": 0, "f": "transfer",
         "value": {"tx": TX_FAIL, "from": "0x" + "11" * 20, "nonce": 0}},
        {"time": 3.1, "type": "fail", "process": 0, "node": 0, "f": "transfer",
         "value": {"error": "nonce too low"}},
        {"time": 3.2, "type": "invoke", "process": 2, "node": 0, "f": "infer",
         "value": {"model": "tiny-gptj", "prompt": "hello"}},
        {"time": 3.6, "type": "ok", "process": 2, "node": 0, "f": "infer",
         "value": {"request": 7, "tx": TX_INFER, "block": 4, "accepted": True}},
        {"time": 4.0, "type": "nemesis", "f": "partition", "value": {"groups": [[0, 1, 3], [2]]},
         "mechanism": "fault-layer", "phase": "start"},
        {"time": 8.5, "type": "nemesis", "f": "heal", "value": {},
         "mechanism": "fault-layer", "phase": "start"},
    ]  # fmt: skip
    for t in range(1, TOP + 1):
        for node in range(NODES):
            height = 4 if node == CUT_OFF and 4 <= t <= 8 else t
            events.append({"time": float(t), "type": "height", "node": node, "height": height})
    events.sort(key=lambda e: e["time"])  # the samples interleave with the operations
    end = TOP + 1.0
    for node in range(NODES):
        for height in range(1, TOP + 1):
            evidence = (
                [{"validator": BYZANTINE, "height": 2, "round": 0, "step": "prevote"}]
                if height == 3
                else []
            )
            events.append(
                {"time": end, "type": "block", "node": node, "height": height,
                 "hash": block_hash(height), "stateRoot": state_root(height), "round": 0,
                 "precommits": [0, 1, 2], "evidence": evidence}
            )  # fmt: skip
        for tx, height in ((TX_OK, 3), (TX_INFO, 5), (TX_INFER, 4)):
            events.append({"time": end, "type": "receipt", "node": node, "tx": tx, "block": height})
    events += [
        {"time": end, "type": "offence", "node": BYZANTINE, "height": 2, "round": 0,
         "step": "prevote", "kind": "equivocation"},
        {"time": end, "type": "inference", "node": 0, "request": 7, "status": "finalized",
         "output": "0x686f6e657374", "honestOutput": "0x686f6e657374"},
    ]  # fmt: skip
    return events


def untimed(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "time"}


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_the_clean_history_reads_into_typed_events() -> None:
    history = History.from_events(clean_events())
    assert history.scenario.honest == {0, 1, 2}
    assert history.scenario.liveness_bound_s == 5.0
    assert history.scenario.validators[BYZANTINE].byzantine == "double-voter"
    assert len(history.blocks) == NODES * TOP and len(history.heights) == NODES * TOP
    ok = next(op for op in history.operations if op.type == "ok")
    assert (ok.tx, ok.block, ok.accepted) == (TX_OK, 3, True)
    failed = next(op for op in history.operations if op.type == "fail")
    assert (failed.tx, failed.block, failed.accepted) == (None, None, False)
    assert [n.nodes for n in history.nemeses] == [(BYZANTINE,), (), ()]
    assert history.blocks[2].evidence[0].validator == BYZANTINE
    assert history.end_time == TOP + 1.0


def test_hashes_are_compared_in_lower_case() -> None:
    events = clean_events()
    ok = next(e for e in events if e["type"] == "ok")
    ok["value"]["tx"] = TX_OK.upper().replace("0X", "0x")
    assert next(op for op in History.from_events(events).operations if op.type == "ok").tx == TX_OK


def fake_clock(times: list[float]) -> Iterator[float]:
    yield 100.0  # the recorder's start
    for t in times:
        yield 100.0 + t


def test_what_the_recorder_writes_loads_back(tmp_path: Path) -> None:
    events = clean_events()
    clock = fake_clock([e["time"] for e in events])
    path = tmp_path / "history.jsonl"
    with Recorder(path, clock=lambda: next(clock)) as recorder:
        for event in events:
            written = recorder.record(untimed(event))
            assert written["time"] == event["time"]
            # Flushed per line: a reader sees each event as soon as it is recorded.
            last = path.read_text(encoding="utf-8").splitlines()[-1]
            assert json.loads(last) == written
    assert load_history(path) == History.from_events(events)


def test_client_threads_record_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    with Recorder(path) as recorder:
        recorder.record(untimed(clean_events()[0]))

        def sample(node: int) -> None:
            for height in range(200):
                recorder.record({"type": "height", "node": node, "height": height})

        threads = [threading.Thread(target=sample, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    history = load_history(path)
    assert len(history.heights) == 8 * 200
    for node in range(8):  # each thread's own events stay in its order
        assert [s.height for s in history.heights if s.node == node] == list(range(200))


def test_the_recorder_refuses_what_load_would(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    with Recorder(path) as recorder:
        with pytest.raises(HistoryError, match="scenario event must be the first"):
            recorder.record({"type": "height", "node": 0, "height": 1})
        with pytest.raises(HistoryError, match='stamps "time"'):
            recorder.record(clean_events()[0])
        scenario = untimed(clean_events()[0])
        recorder.record(scenario)
        with pytest.raises(HistoryError, match='missing field "height"'):
            recorder.record({"type": "height", "node": 0})
        with pytest.raises(HistoryError, match="scenario event must be the first"):
            recorder.record(scenario)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1  # nothing else written


def clean_lines() -> list[str]:
    return [json.dumps(e) for e in clean_events()]


@pytest.mark.parametrize(
    ("line", "event", "message"),
    [
        (3, "{not json", "line 3: not JSON"),
        (3, "[1, 2]", "line 3: an event must be a JSON object, got list"),
        (3, '{"time": 1, "type": "heigth", "node": 0, "height": 1}', "unknown event type 'heigth'"),
        (3, '{"type": "height", "node": 0, "height": 1}', 'line 3: missing field "time"'),
        (
            3,
            '{"time": NaN, "type": "height", "node": 0, "height": 1}',
            'field "time": expected a number',
        ),
        (
            3,
            '{"time": -1, "type": "height", "node": 0, "height": 1}',
            'field "time": expected a number >= 0',
        ),
        (
            3,
            '{"time": 1, "type": "height", "node": 0, "height": "7"}',
            "field \"height\": expected an integer >= 0, got '7'",
        ),
        (
            3,
            '{"time": 1, "type": "height", "node": true, "height": 7}',
            'field "node": expected an integer',
        ),
        (
            3,
            '{"time": 1, "type": "receipt", "node": 0, "tx": "abc", "block": null}',
            'field "tx": expected 0x-hex',
        ),
        (
            3,
            '{"time": 1, "type": "receipt", "node": 0, "tx": "0xabc", "block": null}',
            "even-length 0x-hex",
        ),
        (
            3,
            '{"time": 1, "type": "nemesis", "f": "explode", "value": {}, "mechanism": "signal", "phase": "start"}',
            'field "f": expected one of kill, restart',
        ),
        (
            3,
            '{"time": 1, "type": "nemesis", "f": "kill", "value": {"node": "3"}, "mechanism": "signal", "phase": "start"}',
            'field "value.node"',
        ),
        (
            3,
            '{"time": 1, "type": "nemesis", "f": "kill", "value": {"nodes": [1, -1]}, "mechanism": "signal", "phase": "start"}',
            'field "value.nodes": expected a list of integers',
        ),
        (
            3,
            '{"time": 1, "type": "block", "node": 0, "height": 1, "hash": "0x00", "stateRoot": "0x00", "round": 0, "precommits": [0], "evidence": [{"validator": 1, "height": 0, "round": 0, "step": "vote"}]}',
            'field "evidence[0].step": expected one of proposal, prevote, precommit',
        ),
        (
            3,
            '{"time": 1, "type": "offence", "node": 3, "height": 2, "round": 0, "step": "prevote", "kind": "lying"}',
            'field "kind"',
        ),
        (
            1,
            '{"time": 1, "type": "height", "node": 0, "height": 1}',
            "line 1: the scenario event must be the first line",
        ),
        (
            3,
            json.dumps(clean_events()[0]),
            "line 3: the scenario event must be the first line, and only it",
        ),
        (
            3,
            '{"time": 1, "type": "ok", "process": 9, "node": 0, "f": "transfer", "value": {"tx": "0x01"}}',
            "line 3: ok for process 9, which invoked nothing",
        ),
        (
            4,
            '{"time": 1, "type": "invoke", "process": 0, "node": 0, "f": "transfer", "value": {}}',
            "line 4: process 0 invokes before its last operation completed",
        ),
        (
            4,
            '{"time": 1, "type": "ok", "process": 0, "node": 0, "f": "infer", "value": {"tx": "0x01"}}',
            "line 4: ok infer on node 0 completes process 0's transfer on node 0",
        ),
        (
            4,
            '{"time": 1, "type": "ok", "process": 0, "node": 0, "f": "transfer", "value": {}}',
            'line 4: missing field "value.tx"',
        ),
        (
            4,
            '{"time": 1, "type": "info", "process": 0, "node": 0, "f": "transfer", "value": {"accepted": "yes"}}',
            'field "value.accepted": expected true or false',
        ),
        (
            1,
            '{"time": 0, "type": "scenario", "name": "x", "seed": 1, "validators": [{"index": 1, "address": "a", "peerId": "p", "byzantine": null}], "mechanism": {"partition": "netns", "links": "netem"}, "livenessBoundS": 5}',
            "indices must be 0, 1, 2",
        ),
        (
            1,
            '{"time": 0, "type": "scenario", "name": "x", "seed": 1, "validators": [], "mechanism": {"partition": "iptables", "links": "netem"}, "livenessBoundS": 5}',
            'field "mechanism.partition": expected one of netns, fault-layer',
        ),
    ],
)
def test_a_broken_line_is_named(tmp_path: Path, line: int, event: str, message: str) -> None:
    lines = clean_lines()
    if line == 4:  # completes the invocation on line 3 (process 0's transfer) in its place
        assert json.loads(lines[2])["type"] == "invoke"
        lines = [text for text in lines if json.loads(text)["type"] != "ok"]
    lines.insert(line - 1, event)
    path = write_lines(tmp_path / "history.jsonl", lines)
    with pytest.raises(HistoryError, match="line") as raised:
        load_history(path)
    assert str(raised.value).startswith(f"{path}: line {line}: ")
    assert message in str(raised.value)


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    lines = clean_lines()
    lines[1:1] = ["", "   "]
    lines.insert(5, '{"time": 1, "type": "height"}')
    with pytest.raises(HistoryError, match=r"line 6: missing field \"node\""):
        load_history(write_lines(tmp_path / "history.jsonl", lines))
    del lines[5]
    assert load_history(write_lines(tmp_path / "history.jsonl", lines)) == History.from_events(
        clean_events()
    )


def test_an_empty_history_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="empty history"):
        load_history(write_lines(tmp_path / "history.jsonl", []))
