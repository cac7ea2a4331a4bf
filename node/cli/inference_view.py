"""How the inference commands show things: the model table, the stages a request has passed,
and its summary, all from the JSON that brain_listModels and brain_getInference return."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from node.cli.units import format_ether

VERDICT_STYLE = {"rewarded": "green", "penalised": "red", "pending": "yellow", "none": "dim"}
TERMINAL = ("finalized", "settled", "expired")  # what `infer --wait` waits for


def models_table(models: list[dict[str, Any]]) -> Table:
    """The registered models: id, architecture, parameters, weights hash, limits, price."""
    table = Table()
    for column in ("id", "architecture", "parameters", "weights hash", "max tokens"):
        table.add_column(column)
    table.add_column("price per token", justify="right")
    for m in models:
        table.add_row(
            m["id"],
            m["architecture"],
            f"{m['parameters']:,}",
            m["weightsHash"],
            str(m["maxTokens"]),
            f"{int(m['pricePerToken'], 16)} wei",
        )
    return table


def stages(request: dict[str, Any]) -> list[str]:
    """The stages a request has passed, one line each: included, committed weight, revealed
    weight, then finalized or timed out. `infer --wait` prints each line it has not shown."""
    lines = [
        f"included in block {request['includedAt']}: commits until block"
        f" {request['commitEnd']}, reveals until {request['deadline']}"
    ]
    if request["committedWeight"]:
        lines.append(f"committed weight {request['committedWeight']}/{request['expectedWeight']}")
    revealed = sum(m["weight"] for m in request["members"] if m["revealed"])
    if revealed:
        lines.append(f"revealed weight {revealed}, {request['quorumWeight']} needed")
    result = request["result"]
    if result is not None:
        lines.append(f"finalized in block {result['finalizedAt']} with weight {result['weight']}")
    elif request["status"] == "expired":
        lines.append(f"timed out at block {request['deadline']} without quorum: fee refunded")
    return lines


def _outcome(request: dict[str, Any]) -> str:
    status = request["status"]
    if status == "expired":
        return f"[red]expired[/red] at block {request['deadline']}: no quorum, fee refunded"
    if status in ("finalized", "settled"):
        settled = "settled" if status == "settled" else f"settles at block {request['deadline']}"
        return f"[green]finalized[/green] in block {request['result']['finalizedAt']} ({settled})"
    return f"[yellow]pending[/yellow], {request['phase']}"


def _members_table(request: dict[str, Any]) -> Table:
    table = Table(title=f"committee (k = {request['expectedWeight']})", title_justify="left")
    table.add_column("member")
    table.add_column("weight", justify="right")
    table.add_column("revealed")
    table.add_column("agrees")
    table.add_column("verdict")
    for m in request["members"]:
        agrees = "-" if m["agrees"] is None else ("yes" if m["agrees"] else "no")
        style = VERDICT_STYLE.get(m["verdict"], "")
        table.add_row(
            m["member"],
            str(m["weight"]),
            "yes" if m["revealed"] else "no",
            agrees,
            f"[{style}]{m['verdict']}[/{style}]",
        )
    return table


def show_summary(console: Console, request: dict[str, Any], latency_s: float | None = None) -> None:
    """Print a request's summary: outcome, input and output, committee, fee, gas, latency.

    `latency_s` is the time between the blocks that included and finalized it, when known.
    """
    result = request["result"]
    console.print(
        f"request {int(request['id'], 16)} ({request['model']}): {_outcome(request)}",
        highlight=False,
    )
    console.print(f"requester: {request['requester']}", highlight=False)
    console.print(f"input:     {escape(repr(request['inputText']))}", highlight=False)
    if result is not None:
        console.print(f"output:    {escape(repr(result['outputText']))}", highlight=False)
        console.print(f"tokens:    {result['tokens']}", highlight=False)
        console.print(
            f"agreed:    weight {result['weight']} (quorum {request['quorumWeight']}),"
            f" output hash {result['outputHash']}",
            highlight=False,
        )
    console.print(
        f"windows:   included {request['includedAt']}, commits until {request['commitEnd']},"
        f" reveals until {request['deadline']}",
        highlight=False,
    )
    if request["members"]:
        console.print(_members_table(request))
    else:
        console.print("committee: nobody has committed", highlight=False)
    fee = int(request["fee"], 16)
    gas = request["gas"]
    console.print(f"fee:       {format_ether(fee)} ({fee} wei)", highlight=False)
    console.print(
        f"gas:       request {gas['request']}, commits {gas['commits']},"
        f" reveals {gas['reveals']}, total {gas['total']}",
        highlight=False,
    )
    if request["callback"] is not None:
        cb = request["callback"]
        state = "succeeded" if cb["success"] else "failed"
        console.print(f"callback:  {state}, {cb['gasUsed']} gas", highlight=False)
    if result is not None:
        blocks = result["finalizedAt"] - request["includedAt"]
        seconds = "" if latency_s is None else f", {latency_s:g} s"
        console.print(f"latency:   {blocks} blocks{seconds}", highlight=False)
