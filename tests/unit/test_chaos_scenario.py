"""Scenario files for `brainchain chaos`: every shipped one parses, and each mistake is refused
with a message naming the file and the key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from node.chaos.scenario import (
    MAX_VALIDATORS,
    ScenarioError,
    load_scenario,
    parse_scenario,
    resolve,
    shipped,
)
from node.cli.main import cli

BASE = """
name = "t"
duration_s = 30
validators = 4
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str, key: str, message: str) -> None:
    """Loading `text` fails naming the file, then `key`, then saying `message`."""
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    text_of = str(caught.value)
    assert text_of.startswith(f"{path}: {key}: "), text_of
    assert re.search(message, text_of), text_of


def fault(**fields: Any) -> str:
    """A [[faults]] table in TOML from keyword fields (lists and strings as TOML writes them)."""
    lines = ["[[faults]]"]
    for key, value in fields.items():
        text = f'"{value}"' if isinstance(value, str) else str(value).lower()
        if isinstance(value, list):
            text = str(value)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def test_every_shipped_scenario_parses() -> None:
    names = {p.stem for p in shipped()}
    assert {
        "quick",
        "rolling-restart",
        "minority-partition",
        "majority-partition",
        "flapping-partition",
        "clock-skew",
        "wal-truncation",
        "byzantine-proposer",
        "double-voter",
        "inference-wrong-output",
        "inference-silent-member",
        "fl-random-scorer",
    } <= names
    for path in shipped():
        scenario = load_scenario(path)
        assert scenario.name == path.stem and scenario.description


def test_the_fl_scenario_trains_beside_a_random_scorer() -> None:
    s = load_scenario(resolve("fl-random-scorer"))
    assert s.load.fl_proposals_per_s > 0 and s.load.fl_attack_every > 0
    assert s.load.fl_threshold == 0.25  # digits-mlp's, as `brainchain fl create` sets it
    assert [v.byzantine for v in s.validators].count("random-fl-score") == 1


def test_a_full_scenario_reads_as_written(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
name = "x"
description = "d"
seed = 7
duration_s = 45
block_interval_s = 0.25
liveness_bound_s = 20
[[validators]]
stake = 300
[[validators]]
byzantine = "double-voter"
[[validators]]
[load]
transfers_per_s = 5
inference_per_s = 0.5
fl_proposals_per_s = 0.25
fl_threshold = 0.5
fl_attack_every = 0
[[faults]]
at_s = 10
kind = "partition"
groups = [[0, 1], [2]]
duration_s = 15
[[faults]]
at_height = 20
kind = "delay"
groups = [[0], [1, 2]]
delay_ms = [50, 200]
[[faults]]
at_s = 1
kind = "kill"
node = 2
[[faults]]
at_s = 2
kind = "wal-corrupt"
node = 2
""",
    )
    s = load_scenario(path)
    assert (s.name, s.seed, s.duration_s, s.block_interval_s, s.liveness_bound_s) == (
        "x",
        7,
        45.0,
        0.25,
        20.0,
    )
    assert [(v.stake, v.byzantine) for v in s.validators] == [
        (300, None),
        (100, "double-voter"),
        (100, None),
    ]
    assert s.load.transfers_per_s == 5 and s.load.inference_per_s == 0.5
    assert (s.load.fl_proposals_per_s, s.load.fl_threshold, s.load.fl_attack_every) == (
        0.25,
        0.5,
        0,
    )
    partition, delay, kill, wal = s.faults
    assert partition.groups == ((0, 1), (2,)) and partition.duration_s == 15
    assert delay.at_height == 20 and delay.at_s is None and delay.delay_ms == (50, 200)
    assert kill.node == 2 and wal.bytes == 4096
    assert partition.describe() == "partition {0,1} | {2}"
    assert delay.describe() == "delay {0} | {1,2} 50-200 ms"


def test_the_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    assert load_scenario(write(tmp_path, "duration_s = 5\nvalidators = 1\n")).name == "s"


def test_resolve_takes_a_path_or_a_shipped_name(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    assert resolve(str(path)) == path
    assert resolve("quick").name == "quick.toml"
    with pytest.raises(ScenarioError, match=r"no shipped scenario of that name.*quick"):
        resolve("no-such-scenario")


def test_a_missing_file_and_bad_toml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"cannot read scenario .*nope\.toml"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match=r"s\.toml: not valid TOML"):
        load_scenario(write(tmp_path, "name = \n"))


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        (BASE + "colour = 1\n", "colour", "unknown key"),
        ("validators = 4\n", "duration_s", "required"),
        ('duration_s = "30"\nvalidators = 4\n', "duration_s", "expected a number"),
        ("duration_s = true\nvalidators = 4\n", "duration_s", "expected a number"),
        ("duration_s = 0\nvalidators = 4\n", "duration_s", "more than 0"),
        ('name = ""\nduration_s = 5\nvalidators = 4\n', "name", "non-empty string"),
        ('seed = "x"\nduration_s = 5\nvalidators = 4\n', "seed", "expected an integer"),
        ("seed = 1.5\nduration_s = 5\nvalidators = 4\n", "seed", "expected an integer"),
        ("duration_s = 5\nblock_interval_s = -1\nvalidators = 4\n", "block_interval_s", "more"),
        ("duration_s = 5\n", "validators", "required"),
        ("duration_s = 5\nvalidators = 0\n", "validators", f"1 to {MAX_VALIDATORS}"),
        (f"duration_s = 5\nvalidators = {MAX_VALIDATORS + 1}\n", "validators", "1 to"),
        ('duration_s = 5\nvalidators = "4"\n', "validators", "expected a count"),
        ("duration_s = 5\n[[validators]]\nstake = 0\n", "validators[0].stake", "at least 1"),
        ("duration_s = 5\n[[validators]]\nweight = 1\n", "validators[0].weight", "unknown key"),
        (
            'duration_s = 5\n[[validators]]\n[[validators]]\nbyzantine = "evil"\n',
            "validators[1].byzantine",
            "'evil' is not one of .*double-voter",
        ),
        (BASE + "faults = 3\n", "faults", "array of tables"),
        (BASE + "[load]\nrate = 1\n", "load.rate", "unknown key"),
        (BASE + "[load]\ntransfers_per_s = -1\n", "load.transfers_per_s", "at least 0"),
        (BASE + "[load]\nfl_proposals = true\n", "load.fl_proposals", "fl_proposals_per_s ="),
        (BASE + "[load]\nfl_proposals_per_s = -1\n", "load.fl_proposals_per_s", "at least 0"),
        (
            BASE + "[load]\nfl_proposals_per_s = 1\nfl_threshold = 0\n",
            "load.fl_threshold",
            "more than 0",
        ),
        (
            BASE + "[load]\nfl_proposals_per_s = 1\nfl_threshold = 25\n",
            "load.fl_threshold",
            "in \\(0, 1\\], not 25",
        ),
        (
            BASE + "[load]\nfl_proposals_per_s = 1\nfl_attack_every = 0.5\n",
            "load.fl_attack_every",
            "expected an integer",
        ),
        (
            BASE + "[load]\nfl_attack_every = 3\n",
            "load.fl_attack_every",
            "only with fl_proposals_per_s above 0",
        ),
        (BASE + '[load]\ninference_model = "gpt5"\n', "load.inference_model", "not a devnet"),
        (BASE + "[load]\ninference_max_tokens = 0\n", "load.inference_max_tokens", "at least 1"),
    ],
)
def test_top_level_validators_and_load_errors(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    refused(tmp_path, text, key, message)


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ({"at_s": 1, "node": 1}, "faults[0].kind", "required: one of kill"),
        ({"at_s": 1, "kind": "explode"}, "faults[0].kind", "'explode' is not one of"),
        ({"at_s": 1, "kind": "kill"}, "faults[0].node", "required for kind 'kill'"),
        ({"at_s": 1, "kind": "kill", "node": 1, "skew_s": 5}, "faults[0].skew_s", "not apply"),
        ({"at_s": 1, "kind": "kill", "node": 1, "colour": 5}, "faults[0].colour", "unknown key"),
        (
            {"at_s": 1, "kind": "restart", "node": 1, "duration_s": 2},
            "faults[0].duration_s",
            "not apply",
        ),
        ({"at_s": 1, "kind": "heal", "node": 1}, "faults[0].node", "not apply to kind 'heal'"),
        ({"at_s": 1, "kind": "partition"}, "faults[0].groups", "required for kind 'partition'"),
        ({"at_s": 1, "kind": "delay", "groups": [[0], [1]]}, "faults[0].delay_ms", "required"),
        ({"at_s": 1, "kind": "drop", "groups": [[0], [1]]}, "faults[0].probability", "required"),
        ({"at_s": 1, "kind": "clock-skew", "node": 0}, "faults[0].skew_s", "required"),
        ({"kind": "kill", "node": 1}, "faults[0].at_s", "exactly one of at_s and at_height"),
        ({"at_s": 1, "at_height": 3, "kind": "kill", "node": 1}, "faults[0].at_s", "exactly one"),
        ({"at_height": 0, "kind": "kill", "node": 1}, "faults[0].at_height", "at least 1"),
        ({"at_s": -1, "kind": "kill", "node": 1}, "faults[0].at_s", "at least 0"),
        (
            {"at_s": 30, "kind": "kill", "node": 1},
            "faults[0].at_s",
            "not before the scenario's duration_s",
        ),
        (
            {"at_s": 20, "kind": "kill", "node": 1, "duration_s": 11},
            "faults[0].duration_s",
            "end at 31 s, after",
        ),
        (
            {"at_s": 1, "kind": "kill", "node": 4},
            "faults[0].node",
            "no node 4: the scenario has nodes 0 to 3",
        ),
        ({"at_s": 1, "kind": "partition", "groups": [[0, 1]]}, "faults[0].groups", "two or more"),
        ({"at_s": 1, "kind": "partition", "groups": [[0], []]}, "faults[0].groups", "two or more"),
        (
            {"at_s": 1, "kind": "partition", "groups": [[0], ["a"]]},
            "faults[0].groups",
            "'a' is not a node index",
        ),
        ({"at_s": 1, "kind": "partition", "groups": [[0], [7]]}, "faults[0].groups", "no node 7"),
        (
            {"at_s": 1, "kind": "partition", "groups": [[0, 1], [1]]},
            "faults[0].groups",
            "node 1 is in two groups",
        ),
        (
            {"at_s": 1, "kind": "delay", "groups": [[0], [1]], "delay_ms": [5]},
            "faults[0].delay_ms",
            r"\[low, high\]",
        ),
        (
            {"at_s": 1, "kind": "delay", "groups": [[0], [1]], "delay_ms": [9, 5]},
            "faults[0].delay_ms",
            "low <= high",
        ),
        (
            {"at_s": 1, "kind": "drop", "groups": [[0], [1]], "probability": 1.5},
            "faults[0].probability",
            "0 to 1",
        ),
        (
            {"at_s": 1, "kind": "clock-skew", "node": 0, "skew_s": 4000},
            "faults[0].skew_s",
            "within",
        ),
        (
            {"at_s": 1, "kind": "clock-skew", "node": 0, "skew_s": -4000},
            "faults[0].skew_s",
            "at least",
        ),
        (
            {"at_s": 1, "kind": "wal-truncate", "node": 0, "bytes": 0},
            "faults[0].bytes",
            "at least 1",
        ),
    ],
)
def test_fault_errors(tmp_path: Path, fields: dict[str, Any], key: str, message: str) -> None:
    refused(tmp_path, BASE + fault(**fields), key, message)


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (
            [{"at_s": 1, "kind": "wal-truncate", "node": 2}],
            "wal-truncate of node2 at 1 s: the node must be down",
        ),
        (
            [
                {"at_s": 1, "kind": "kill", "node": 2, "duration_s": 5},
                {"at_s": 8, "kind": "wal-corrupt", "node": 2},
            ],
            "faults\\[1\\]: wal-corrupt of node2 at 8 s: the node must be down",
        ),
        (
            [{"at_s": 1, "kind": "resume", "node": 0}],
            "resume of node0 at 1 s: the node is running, not paused",
        ),
        (
            [{"at_s": 1, "kind": "kill", "node": 1}, {"at_s": 2, "kind": "kill", "node": 1}],
            "faults\\[1\\]: kill of node1 at 2 s: the node is down then",
        ),
        (
            [{"at_s": 1, "kind": "pause", "node": 1}, {"at_s": 2, "kind": "restart", "node": 1}],
            "restart of node1 at 2 s: the node is paused then",
        ),
        (
            [
                {"at_s": 1, "kind": "pause", "node": 1, "duration_s": 3},
                {"at_s": 2, "kind": "resume", "node": 1},
            ],
            "faults\\[0\\]: resume \\(end of pause\\) of node1 at 4 s: the node is running",
        ),
    ],
)
def test_the_schedule_order_is_checked(
    tmp_path: Path, faults: list[dict[str, Any]], message: str
) -> None:
    path = write(tmp_path, BASE + "".join(fault(**f) for f in faults))
    with pytest.raises(ScenarioError, match=f"^{re.escape(str(path))}: .*{message}"):
        load_scenario(path)


def test_a_kill_wal_restart_sequence_is_accepted() -> None:
    doc = {
        "name": "w",
        "duration_s": 20,
        "validators": 4,
        "faults": [
            {"at_s": 1, "kind": "kill", "node": 1},
            {"at_s": 2, "kind": "wal-truncate", "node": 1, "bytes": 10},
            {"at_s": 3, "kind": "restart", "node": 1},
            {"at_s": 4, "kind": "pause", "node": 1, "duration_s": 2},
            {"at_s": 7, "kind": "restart", "node": 1},
        ],
    }
    assert [f.kind for f in parse_scenario(doc).faults] == [
        "kill",
        "wal-truncate",
        "restart",
        "pause",
        "restart",
    ]


def test_chaos_list_prints_each_shipped_scenario_once() -> None:
    result = CliRunner().invoke(cli, ["chaos", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == len(shipped())
    for line, path in zip(lines, shipped(), strict=True):
        name, description = line.split(None, 1)
        assert name == path.stem and description == load_scenario(path).description


def test_chaos_run_names_a_bad_scenario_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + fault(at_s=1, kind="kill", node=9))
    result = CliRunner().invoke(cli, ["chaos", "run", str(path), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert "faults[0].node: no node 9" in result.output
    assert not (tmp_path / "r").exists()  # refused before anything started
