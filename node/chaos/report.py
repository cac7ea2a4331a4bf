"""report.json: what ran, by which mechanism, the checkers' verdicts, counts and timings.

Counts come from the history, so `brainchain chaos check` can state them for any recorded run.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from node.chaos.checkers import Verdict
from node.chaos.history import History
from node.chaos.scenario import Scenario

REPORT_FILE = "report.json"
HISTORY_FILE = "history.jsonl"
TIMELINE_FILE = "timeline.png"


def counts(history: History) -> dict[str, Any]:
    """Operations per function and outcome, faults per kind, heights, blocks, dropped txs."""
    operations: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for op in history.operations:
        operations[op.f][op.type] += 1
    top: dict[int, int] = {}
    for sample in history.heights:
        top[sample.node] = max(top.get(sample.node, 0), sample.height)
    return {
        "operations": {f: dict(sorted(c.items())) for f, c in sorted(operations.items())},
        "nemesis": dict(sorted(Counter(n.f for n in history.nemeses).items())),
        "highestHeight": {str(node): h for node, h in sorted(top.items())},
        "blocksObserved": len(history.blocks),
        "receiptsObserved": len(history.receipts),
        "dropped": len(history.dropped),
        "offences": len(history.offences),
        "inferences": len(history.inferences),
        "inferenceStatus": _tally(r.status for r in history.inferences),
        "fl": _fl_counts(history),
    }


def _tally(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def _fl_counts(history: History) -> dict[str, Any]:
    """FL outcomes as the node that reported the most proposals sees them (every node holds the
    same verdicts; the fl checker compares them): versions reached per task, proposals by status,
    honest and attacking apart, so a run's report says how many attacks were refused."""
    seen = Counter(p.node for p in history.fl_proposals) + Counter(
        v.node for v in history.fl_versions
    )
    if not seen:
        return {}
    viewer = min(seen, key=lambda node: (-seen[node], node))
    proposals = [p for p in history.fl_proposals if p.node == viewer]
    versions: dict[int, int] = {}
    for v in history.fl_versions:
        if v.node == viewer:
            versions[v.task] = max(versions.get(v.task, 0), v.version)
    return {
        "node": viewer,
        "versions": {str(task): n for task, n in sorted(versions.items())},
        "honestProposals": _tally(p.status for p in proposals if p.attack is None),
        "attackProposals": _tally(p.status for p in proposals if p.attack is not None),
    }


def summary_lines(c: dict[str, Any]) -> list[str]:
    """`counts` as a few lines for the terminal: what the run did, before what the checkers
    found in it."""
    operations = "; ".join(
        f"{f} " + ", ".join(f"{n} {kind}" for kind, n in by_type.items() if kind != "invoke")
        for f, by_type in c["operations"].items()
    )
    lines = [
        f"operations: {operations or 'none'}",
        f"chain: height {max(c['highestHeight'].values(), default=0)}, "
        f"{c['blocksObserved']} block and {c['receiptsObserved']} receipt observations, "
        f"{c['dropped']} dropped, {c['offences']} Byzantine offences",
    ]
    if c["inferences"]:
        statuses = ", ".join(f"{n} {status}" for status, n in c["inferenceStatus"].items())
        lines.append(f"inference results: {statuses}")
    fl = c["fl"]
    if fl:
        versions = ", ".join(f"task {t} at version {v}" for t, v in fl["versions"].items())
        honest = ", ".join(f"{n} {s}" for s, n in fl["honestProposals"].items()) or "none"
        attacks = ", ".join(f"{n} {s}" for s, n in fl["attackProposals"].items()) or "none"
        lines.append(f"fl (node {fl['node']}): {versions}; honest {honest}; attacks {attacks}")
    return lines


def verdicts_json(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    return [
        {
            "name": v.name,
            "ok": v.ok,
            "summary": v.summary,
            "violations": [
                {"message": x.message, "height": x.height, "time": x.time, "node": x.node}
                for x in v.violations
            ],
        }
        for v in verdicts
    ]


def write_report(
    out: Path,
    scenario: Scenario,
    seed: int,
    history: History,
    verdicts: list[Verdict],
    timings: dict[str, float],
) -> dict[str, Any]:
    """Write <out>/report.json; return what it holds."""
    report = {
        "scenario": {
            "name": scenario.name,
            "description": scenario.description,
            "file": str(scenario.path) if scenario.path else None,
            "seed": seed,
            "validators": len(scenario.validators),
            "durationS": scenario.duration_s,
            "blockIntervalS": scenario.block_interval_s,
            "livenessBoundS": scenario.liveness_bound_s,
        },
        "mechanism": {
            "partition": history.scenario.partition,
            "links": history.scenario.links,
        },
        "ok": all(v.ok for v in verdicts),
        "verdicts": verdicts_json(verdicts),
        "counts": counts(history),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "files": {"history": HISTORY_FILE, "timeline": TIMELINE_FILE, "devnet": "devnet"},
    }
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report
