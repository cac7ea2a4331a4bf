"""The `brainchain` command line: run a node, manage a local devnet, talk to a node over RPC.

Each command group lives in a module of its own; this one holds the root group and wires them
in. Each command parses its arguments and calls one function; errors print as one line, exit 1.
"""

from __future__ import annotations

import logging

import click

from node.cli.chaos import chaos
from node.cli.devnet import devnet
from node.cli.fl import fl
from node.cli.inference import infer, inference, models
from node.cli.node_cmd import node
from node.cli.query import balance, block, status
from node.cli.tx import contract, tx
from node.cli.vrf import vrf


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="log at debug level")
def cli(verbose: bool) -> None:
    """brainchain: a BFT chain that runs AI inference and training as transactions."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


for command in (
    node,
    devnet,
    chaos,
    status,
    block,
    balance,
    tx,
    contract,
    vrf,
    models,
    infer,
    inference,
    fl,
):
    cli.add_command(command)


if __name__ == "__main__":
    cli()
