"""`brainchain chaos run|list|check`: fault injection from a scenario file to a verdict.

The commands parse and print; the run is node/chaos/runner.py, the checks node/chaos/checkers.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from node.cli.common import console, one_line_errors

if TYPE_CHECKING:  # the chaos modules load with the command that needs them
    from node.chaos.checkers import Verdict


@click.group()
def chaos() -> None:
    """Run fault-injection scenarios on a local devnet and judge what happened."""


@chaos.command("run")
@click.argument("scenario")
@click.option("--seed", type=int, default=None, help="override the scenario's seed")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("report"),
    show_default=True,
    help="where the devnet, history.jsonl, report.json and timeline.png go",
)
@click.option(
    "--mechanism",
    type=click.Choice(["auto", "netns", "fault-layer"]),
    default="auto",
    show_default=True,
    help="partitions by network namespaces (root) or the nodes' p2p fault layer",
)
@one_line_errors
def chaos_run(scenario: str, seed: int | None, out: Path, mechanism: str) -> None:
    """Run SCENARIO (a .toml file, or the name of a shipped one; see `chaos list`): exit
    status 1 on any violation."""
    from node.chaos.faults import FaultError
    from node.chaos.netns import NetnsError
    from node.chaos.runner import RunError, run
    from node.chaos.scenario import load_scenario, resolve

    spec = load_scenario(resolve(scenario))
    try:
        result = run(
            spec,
            out,
            seed=seed,
            mechanism=mechanism,
            log=lambda line: console.print(line, highlight=False, markup=False),
        )
    except (RunError, FaultError, NetnsError) as exc:
        raise ValueError(str(exc)) from None
    _show(result.report["counts"], result.verdicts)
    console.print(f"report: {out / 'report.json'}, {out / 'timeline.png'}", highlight=False)
    if not result.ok:
        raise SystemExit(1)


@chaos.command("list")
@one_line_errors
def chaos_list() -> None:
    """The shipped scenarios, one line each: name and description."""
    from node.chaos.scenario import load_scenario, shipped

    scenarios = [load_scenario(path) for path in shipped()]
    width = max((len(s.name) for s in scenarios), default=0)
    for s in scenarios:
        console.print(f"{s.name:<{width}}  {s.description}", highlight=False)


@chaos.command("check")
@click.argument("report", type=click.Path(file_okay=False, exists=True, path_type=Path))
@one_line_errors
def chaos_check(report: Path) -> None:
    """Re-run the checkers on REPORT/history.jsonl: exit status 1 on any violation."""
    from node.chaos.checkers import check_all
    from node.chaos.history import load_history
    from node.chaos.report import HISTORY_FILE, counts

    history = load_history(report / HISTORY_FILE)
    verdicts = check_all(history)
    _show(counts(history), verdicts)
    if not all(v.ok for v in verdicts):
        raise SystemExit(1)


def _show(counts: dict[str, Any], verdicts: list[Verdict]) -> None:
    """What the run did, then the verdict table."""
    from node.chaos.checkers import verdict_table
    from node.chaos.report import summary_lines

    for line in [*summary_lines(counts), *verdict_table(verdicts)]:
        console.print(line, highlight=False, markup=False)
