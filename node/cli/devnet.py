"""`brainchain devnet`: start, inspect and stop a local network.

The commands only parse and print; creating, starting and stopping nodes is node/devnet.py.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import click
from rich.table import Table

from node.cli.client import ClientError, RpcClient
from node.cli.common import console, one_line_errors
from node.cli.units import format_ether

PRODUCING_TIMEOUT_S = 60.0
PRODUCING_POLL_S = 0.3

home_option = click.option(
    "--home", type=click.Path(path_type=Path), default=Path("devnet"), show_default=True
)


@click.group()
def devnet() -> None:
    """Start, inspect and stop a local network."""


def _node_command(
    name: str, doc: str | None = None
) -> Callable[[Callable[..., None]], click.Command]:
    """Register a devnet command that acts on node INDEX of the devnet in --home."""

    def register(fn: Callable[..., None]) -> click.Command:
        return devnet.command(name, help=doc)(click.argument("index", type=int)(home_option(fn)))

    return register


@devnet.command("up")
@click.option("--validators", type=int, default=1, show_default=True)
@home_option
@click.option("--chain-id", type=int, default=1337, show_default=True)
@click.option(
    "--rpc-port", type=int, default=8545, show_default=True, help="first RPC port (0: any)"
)
@click.option(
    "--p2p-port", type=int, default=26656, show_default=True, help="first libp2p port (0: any)"
)
@click.option(
    "--metrics-port",
    type=int,
    default=9545,
    show_default=True,
    help="first Prometheus port (0: any)",
)
@click.option("--block-interval", type=float, default=1.0, show_default=True, help="seconds")
@click.option("--empty-blocks/--no-empty-blocks", default=True, show_default=True)
@one_line_errors
def devnet_up(
    validators: int,
    home: Path,
    chain_id: int,
    rpc_port: int,
    p2p_port: int,
    metrics_port: int,
    block_interval: float,
    empty_blocks: bool,
) -> None:
    """Create (first time) and start a local network in the background."""
    from node import devnet as dn

    if not (home / dn.DEVNET_FILE).exists():
        dn.create(
            home,
            validators=validators,
            chain_id=chain_id,
            rpc_port=rpc_port,
            p2p_port=p2p_port,
            metrics_port=metrics_port,
            block_interval_s=block_interval,
            empty_blocks=empty_blocks,
        )
        console.print(f"created devnet in {home} (chain id {chain_id})")
    with console.status("starting nodes…"):
        urls = dn.start_all(home)
    for i, url in enumerate(urls):
        console.print(f"node{i} JSON-RPC: [bold]{url}[/bold]")
    with console.status("waiting for the nodes to peer and commit a block…"):
        _wait_until_producing(urls)
    accounts = json.loads((home / dn.ACCOUNTS_FILE).read_text(encoding="utf-8"))
    console.print(f"development accounts ({home / dn.ACCOUNTS_FILE}):")
    for account in accounts:
        console.print(
            f"  {account['address']}  key {account['private_key']}  "
            f"{format_ether(int(account['balance']))}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        "[yellow]These are the public Hardhat/Anvil test keys: anyone can spend from them. "
        "Never use them for anything real.[/yellow]"
    )


def _wait_until_producing(urls: list[str]) -> None:
    """Return once every node is peered with all others and the chain has moved."""
    deadline = time.monotonic() + PRODUCING_TIMEOUT_S
    start: list[int] | None = None
    while time.monotonic() < deadline:
        try:
            status = [RpcClient(url, timeout=3).call("brain_nodeStatus") for url in urls]
        except ClientError:
            time.sleep(PRODUCING_POLL_S)
            continue
        heights = [int(s["height"], 16) for s in status]
        start = start or heights
        peered = all(s["peers"] >= len(urls) - 1 for s in status)
        if peered and all(h > s for h, s in zip(heights, start, strict=True)):
            return
        time.sleep(PRODUCING_POLL_S)
    raise click.ClickException(
        f"the nodes did not peer and commit within {PRODUCING_TIMEOUT_S:.0f}s "
        "(see node.log in each node's home)"
    )


@devnet.command("status")
@home_option
@one_line_errors
def devnet_status(home: Path) -> None:
    """Per node: height, round, peers, last block hash, pending transactions."""
    from node import devnet as dn

    table = Table()
    columns = ("node", "state", "rpc", "height", "round", "peers", "last block", "pending")
    for column in columns:
        table.add_column(column)
    for info in dn.nodes(home):
        if info.pid is None or info.rpc is None:
            table.add_row(info.name, "stopped", "-", "-", "-", "-", "-", "-")
            continue
        try:
            s = RpcClient(info.rpc, timeout=3).call("brain_nodeStatus")
            row = [
                str(int(s["height"], 16)),
                f"{s['round']} {s['step']}",
                str(s["peers"]),
                s["hash"][:18] + "…",
                str(s["pending"]),
            ]
            state = f"running (pid {info.pid})"
        except ClientError:
            row, state = ["?"] * 5, f"not answering (pid {info.pid})"
        table.add_row(info.name, state, info.rpc, *row)
    console.print(table)


@devnet.command("down")
@home_option
@one_line_errors
def devnet_down(home: Path) -> None:
    """Stop every node of the devnet (data is kept; `devnet up` starts them again)."""
    from node import devnet as dn

    for node_home in dn.node_homes(home):
        stopped = dn.stop_node(node_home)
        console.print(f"{node_home.name}: {'stopped' if stopped else 'was not running'}")


@_node_command("start")
@one_line_errors
def devnet_start(index: int, home: Path) -> None:
    """Start node INDEX (it dials the running nodes and catches up by block sync)."""
    from node import devnet as dn

    node_home = dn.node_home(home, index)
    url = dn.start_node(node_home, dn.peer_addresses(home, besides=node_home))
    console.print(f"{node_home.name} JSON-RPC: {url}")


@_node_command("stop")
@one_line_errors
def devnet_stop(index: int, home: Path) -> None:
    """Stop node INDEX cleanly (SIGTERM)."""
    from node import devnet as dn

    node_home = dn.node_home(home, index)
    console.print(f"{node_home.name}: {'stopped' if dn.stop_node(node_home) else 'not running'}")


def _signal_command(name: str, signum: int, doc: str) -> None:
    @_node_command(name, doc)
    @one_line_errors
    def command(index: int, home: Path) -> None:
        from node import devnet as dn

        node_home = dn.node_home(home, index)
        dn.signal_node(node_home, signum)
        console.print(f"{node_home.name}: {name}")


_signal_command("kill", signal.SIGKILL, "Kill node INDEX at once (kill -9), as a crash would.")
_signal_command("pause", signal.SIGSTOP, "Freeze node INDEX (SIGSTOP) without closing anything.")
_signal_command("resume", signal.SIGCONT, "Thaw a paused node INDEX (SIGCONT).")


@_node_command("logs")
@click.option("-n", "lines", type=int, default=40, show_default=True)
@click.option("-f", "follow", is_flag=True, help="keep printing new lines")
@one_line_errors
def devnet_logs(index: int, home: Path, lines: int, follow: bool) -> None:
    """Print the end of node INDEX's log."""
    from node import devnet as dn

    path = dn.node_home(home, index) / dn.LOG_FILE
    command = ["tail", "-n", str(lines), *(["-f"] if follow else []), str(path)]
    os.execvp(command[0], command)
