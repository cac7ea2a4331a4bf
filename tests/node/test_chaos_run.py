"""`brainchain chaos run` end to end, as a user runs it: `quick` (real node processes, kill -9
and restart, a partition, transfers) under both partition mechanisms, then `chaos check` judges
the recorded history again; and two more shipped scenarios: a 2 | 2 split that must stall every
node until it heals, and a double-voting validator whose offences must land as evidence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from node.chaos import netns
from node.chaos.checkers import CHECKERS
from node.chaos.history import load_history
from tests.node.harness import REPO

RUN_TIMEOUT_S = 240.0


def chaos(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node.cli.main", "chaos", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def test_quick_runs_clean_and_reports(tmp_path: Path) -> None:
    """As a user runs it: namespaces where this machine has them (CI does), else the fault
    layer; tests/node/test_chaos_faults.py cuts a validator off through the fault layer."""
    mechanism = "netns" if netns.available() is None else "fault-layer"
    out = tmp_path / "report"
    done = chaos("run", "quick", "--out", str(out))
    devnet = out / "devnet"
    logs = "\n".join(
        f"--- {p.parent.name} ---\n{p.read_text(errors='replace')[-3000:]}"
        for p in sorted(devnet.glob("node*/node.log"))
    )
    assert done.returncode == 0, done.stdout + done.stderr + logs
    # a live line per fault, then the verdict table
    assert "kill node3" in done.stdout and "partition {0,1,2} | {3}" in done.stdout
    assert "heal (end of faults[1] partition)" in done.stdout, done.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["ok"] is True
    assert [v["name"] for v in report["verdicts"]] == list(CHECKERS)
    assert all(v["ok"] for v in report["verdicts"]), report["verdicts"]
    assert report["mechanism"]["partition"] == mechanism
    counts = report["counts"]
    assert counts["operations"]["transfer"]["ok"] >= 10, counts
    assert counts["nemesis"] == {"heal": 1, "kill": 1, "partition": 1, "restart": 1}
    assert counts["blocksObserved"] > 0 and counts["dropped"] == 0
    assert (out / "timeline.png").read_bytes().startswith(b"\x89PNG")

    history = load_history(out / "history.jsonl")
    assert history.scenario.name == "quick" and len(history.scenario.validators) == 4
    heights = {s.node for s in history.heights}
    assert heights == {0, 1, 2, 3}
    # every node ended at the same chain: the blocks each reported agree height by height
    by_height: dict[int, set[str]] = {}
    for block in history.blocks:
        by_height.setdefault(block.height, set()).add(block.hash)
    assert by_height and all(len(hashes) == 1 for hashes in by_height.values())

    checked = chaos("check", str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "agreement" in checked.stdout and "VIOLATED" not in checked.stdout


def run_clean(scenario: str, out: Path) -> None:
    done = chaos("run", scenario, "--out", str(out))
    logs = "\n".join(
        f"--- {p.parent.name} ---\n{p.read_text(errors='replace')[-3000:]}"
        for p in sorted((out / "devnet").glob("node*/node.log"))
    )
    assert done.returncode == 0, done.stdout + done.stderr + logs
    report = json.loads((out / "report.json").read_text())
    assert report["ok"] is True and all(v["ok"] for v in report["verdicts"]), report


def test_a_split_without_quorum_commits_nothing_until_it_heals(tmp_path: Path) -> None:
    out = tmp_path / "report"
    run_clean("majority-partition", out)
    history = load_history(out / "history.jsonl")
    (cut,) = [n for n in history.nemeses if n.f == "partition"]
    (heal,) = [n for n in history.nemeses if n.f == "heal"]
    assert [sorted(g) for g in cut.value["groups"]] == [[0, 1], [2, 3]]
    during = [s.height for s in history.heights if cut.time + 2 < s.time < heal.time]
    after = [s.height for s in history.heights if s.time > heal.time]
    assert during and max(after) > max(during) + 5  # stalled while split, then went on


def test_a_double_voter_ends_up_in_the_evidence_of_committed_blocks(tmp_path: Path) -> None:
    out = tmp_path / "report"
    run_clean("double-voter", out)
    history = load_history(out / "history.jsonl")
    (byzantine,) = [v.index for v in history.scenario.validators if v.byzantine]
    assert len(history.offences) >= 10, history.offences
    recorded = {(e.validator, e.height) for b in history.blocks for e in b.evidence}
    assert recorded and {validator for validator, _ in recorded} == {byzantine}


def test_check_fails_on_a_history_with_a_violation(tmp_path: Path) -> None:
    """Two nodes that committed different blocks at one height: `chaos check` exits 1."""
    scenario = {
        "time": 0.0,
        "type": "scenario",
        "name": "forged",
        "seed": 1,
        "validators": [
            {"index": i, "address": f"0x{i:040x}", "peerId": f"peer{i}", "byzantine": None}
            for i in range(2)
        ],
        "mechanism": {"partition": "fault-layer", "links": "fault-layer"},
        "livenessBoundS": 30.0,
    }
    blocks = [
        {
            "time": 1.0,
            "type": "block",
            "node": node,
            "height": 1,
            "hash": "0x" + digit * 64,
            "stateRoot": "0x" + "0" * 64,
            "round": 0,
            "precommits": [0, 1],
            "evidence": [],
        }
        for node, digit in ((0, "a"), (1, "b"))
    ]
    (tmp_path / "history.jsonl").write_text(
        "\n".join(json.dumps(e) for e in [scenario, *blocks]) + "\n"
    )
    checked = chaos("check", str(tmp_path))
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "agreement" in checked.stdout and "VIOLATED" in checked.stdout
