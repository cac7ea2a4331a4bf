"""`brainchain fl create|train|show|export`: federated learning from the command line
(DESIGN.md §6; the steps are node/cli/fl_flow.py, the models and data node/fl/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from brainchain.fl import DEFAULT_STALENESS, DEFAULT_WINDOW, SCORE_SCALE
from node.cli.client import RpcClient
from node.cli.common import console, one_line_errors, parse_private_key, rpc_option
from node.cli.fl_flow import (
    Round,
    create_task,
    fraction_units,
    number,
    parse_id,
    task,
    train_rounds,
    version,
    weights_of,
)
from node.fl.model import THRESHOLD  # numpy-free: the module loads numpy when used

KNOWN_MODELS = ("digits-mlp",)  # node/fl/model.py


def model_name(value: str) -> str:
    """A task's model as the RPC gives it: the name, or its bytes32 in hex."""
    if value.startswith("0x") and len(value) == 66:
        return bytes.fromhex(value[2:]).rstrip(b"\0").decode(errors="replace")
    return value


def _known_model(model: str) -> str:
    if model not in KNOWN_MODELS:
        raise ValueError(f"unknown FL model {model!r} (known: {', '.join(KNOWN_MODELS)})")
    return model


@click.group()
def fl() -> None:
    """Federated learning: tasks, training nodes, versions of the global model."""


@fl.command()
@rpc_option
@click.option("--from-key", required=True, help="creator's private key (hex)")
@click.option("--model", default="digits-mlp", show_default=True, help="the model to train")
@click.option(
    "--window",
    type=click.IntRange(1, 64),
    default=DEFAULT_WINDOW,
    show_default=True,
    help="α is half the mean of the last WINDOW accepted scores",
)
@click.option(
    "--threshold",
    type=float,
    default=THRESHOLD / SCORE_SCALE,
    show_default=True,
    help="the median score a proposal needs (digits-mlp's: 2.5 times chance on ten classes)",
)
@click.option(
    "--staleness",
    type=click.IntRange(0, 1024),
    default=DEFAULT_STALENESS,
    show_default=True,
    help="how many versions behind its base a proposal may be",
)
@click.option(
    "--committee",
    type=float,
    default=0.55,
    show_default=True,
    help="the scoring committee, as a fraction of the validators' stake",
)
@click.option("--seed", type=int, default=0, show_default=True, help="seeds the initial weights")
@one_line_errors
def create(
    rpc: str,
    from_key: str,
    model: str,
    window: int,
    threshold: float,
    staleness: int,
    committee: float,
    seed: int,
) -> None:
    """Register a task with seeded initial weights (uploaded to the node); print its id."""
    from node.fl.model import initial_weights

    rules = (window, fraction_units(threshold, "threshold"), staleness,
             fraction_units(committee, "committee"))  # fmt: skip
    task_id = create_task(
        RpcClient(rpc),
        parse_private_key(from_key),
        _known_model(model),
        initial_weights(seed),
        rules,
    )
    console.print(f"task id {task_id}", highlight=False)


@fl.command()
@rpc_option
@click.option("--from-key", required=True, help="the training node's private key (hex)")
@click.option("--task", "task_text", required=True, help="the task id")
@click.option("--data", default="builtin:digits", show_default=True, help="the data set")
@click.option(
    "--shard", required=True, help="this node's shard of the training data, i/n (0-based)"
)
@click.option("--rounds", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="seeds the training")
@one_line_errors
def train(
    rpc: str,
    from_key: str,
    task_text: str,
    data: str,
    shard: str,
    rounds: int,
    epochs: int,
    seed: int,
) -> None:
    """Run a training node: per round, take the current global model, train on this shard,
    propose the weights and print the committee's verdict."""
    from node.fl.data import parse_data_spec, parse_shard, train_shard
    from node.fl.train import evaluate, train_local

    name, (index, count) = parse_data_spec(data), parse_shard(shard)
    task_id = parse_id(task_text, "task id")
    client = RpcClient(rpc)
    _known_model(model_name(task(client, task_id)["model"]))
    dataset = train_shard(index, count, name=name)

    def step(weights: bytes, round_index: int) -> tuple[bytes, float]:
        local = train_local(weights, dataset, epochs=epochs, seed=seed + round_index)
        return local, evaluate(local, dataset)[0]

    def report(done: Round) -> None:
        console.print(
            f"round {done.number + 1}/{rounds}: base version {done.base}, local accuracy "
            f"{done.local_accuracy:.3f}, proposal {done.proposal} {done.status} "
            f"(score {done.score / SCORE_SCALE:.3f}), global version {done.version}",
            highlight=False,
        )

    train_rounds(client, parse_private_key(from_key), task_id, rounds, step, report)


def _fraction(value: Any) -> str:
    return "" if value is None else f"{number(value) / SCORE_SCALE:.3f}"


@fl.command()
@rpc_option
@click.argument("task_text", metavar="ID")
@one_line_errors
def show(rpc: str, task_text: str) -> None:
    """A task's rules and versions: proposal, proposer, median score, α, weights hash, and the
    test accuracy where the node knows the model."""
    client = RpcClient(rpc)
    task_id = parse_id(task_text, "task id")
    record = task(client, task_id)
    latest = number(record["version"])
    console.print(
        f"task {task_id}: model {model_name(record['model'])}, "
        f"version {latest}, window {number(record['window'])}, threshold "
        f"{_fraction(record['threshold'])}, staleness {number(record['staleness'])}, "
        f"committee weight {number(record['committeeWeight'])}, "
        f"{number(record['proposals'])} proposals",
        highlight=False,
    )
    table = Table("version", "proposal", "proposer", "score", "α", "weights hash", "test accuracy")
    for index in range(latest + 1):
        row = version(client, task_id, index)
        weights = row.get("globalHash") or row.get("computedHash") or ""
        accuracy = row.get("testAccuracy")
        table.add_row(
            str(index),
            str(number(row["proposal"])) if index else "initial",
            row["proposer"] if index else record["creator"],
            _fraction(row["score"]) if index else "",
            _fraction(row["alpha"]) if index else "",
            weights,
            "" if accuracy is None else f"{accuracy:.3f}",
        )
    console.print(table)


@fl.command()
@rpc_option
@click.argument("task_text", metavar="ID")
@click.option("--version", "which", type=click.IntRange(min=0), required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@one_line_errors
def export(rpc: str, task_text: str, which: int, out: Path) -> None:
    """Write a version's global weights (safetensors), checked against its hash."""
    blob = weights_of(RpcClient(rpc), parse_id(task_text, "task id"), which)
    out.write_bytes(blob)
    console.print(f"wrote {len(blob):,} bytes to {out}", highlight=False)
