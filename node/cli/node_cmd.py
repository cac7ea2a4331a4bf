"""`brainchain node`: run one node in the foreground."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import click

from node.cli.common import one_line_errors


@click.group()
def node() -> None:
    """Run a node."""


@node.command("run")
@click.option("--home", type=click.Path(path_type=Path), required=True, help="node home directory")
@click.option("--rpc-host", default=None, help="RPC bind address (default 127.0.0.1)")
@click.option("--rpc-port", type=int, default=None, help="RPC port (0: any free port)")
@click.option("--block-interval", type=float, default=None, help="seconds between blocks")
@click.option("--empty-blocks/--no-empty-blocks", default=None, help="produce blocks without txs")
@click.option("--p2p-port", type=int, default=None, help="libp2p TCP port (0: any free port)")
@click.option("--metrics-port", type=int, default=None, help="Prometheus port (0: any free port)")
@click.option(
    "--rpc-gas-cap", type=int, default=None, help="gas cap of eth_call/estimateGas (0: none)"
)
@click.option(
    "--rpc-evm-timeout", type=float, default=None, help="seconds an eth_call may run (default 5)"
)
@click.option(
    "--bootstrap",
    multiple=True,
    help="a peer's libp2p multiaddr, /ip4/…/tcp/…/p2p/<peer id> (repeatable; adds to config)",
)
@one_line_errors
def node_run(
    home: Path,
    rpc_host: str | None,
    rpc_port: int | None,
    block_interval: float | None,
    empty_blocks: bool | None,
    p2p_port: int | None,
    metrics_port: int | None,
    rpc_gas_cap: int | None,
    rpc_evm_timeout: float | None,
    bootstrap: tuple[str, ...],
) -> None:
    """Run one node in the foreground; Ctrl-C stops it cleanly."""
    # Local: the supervisor imports trio and libp2p, which `brainchain --help` must not.
    from node.config import load_config
    from node.supervisor import run_node

    cfg = load_config(
        home,
        rpc_host=rpc_host,
        rpc_port=rpc_port,
        block_interval_s=block_interval,
        empty_blocks=empty_blocks,
        p2p_port=p2p_port,
        metrics_port=metrics_port,
        rpc_gas_cap=rpc_gas_cap,
        rpc_evm_timeout_s=rpc_evm_timeout,
    )
    if bootstrap:
        cfg = replace(cfg, bootstrap=(*cfg.bootstrap, *bootstrap))
    asyncio.run(run_node(cfg))
