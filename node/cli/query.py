"""`brainchain status`, `block` and `balance`: read-only questions to a node over JSON-RPC."""

from __future__ import annotations

import click

from brainchain.crypto.address import parse_address, to_checksum_address
from node.cli.client import RpcClient
from node.cli.common import console, one_line_errors, rpc_option
from node.cli.units import format_ether


@click.command()
@rpc_option
@one_line_errors
def status(rpc: str) -> None:
    """Chain id, head block, sync state and peers of a node."""
    client = RpcClient(rpc)
    block = client.call("eth_getBlockByNumber", "latest", False)
    console.print(f"client:     {client.call('web3_clientVersion')}")
    console.print(f"chain id:   {int(client.call('eth_chainId'), 16)}")
    console.print(f"height:     {int(block['number'], 16)}")
    console.print(f"head:       {block['hash']}")
    console.print(f"state root: {block['stateRoot']}")
    console.print(f"base fee:   {int(block['baseFeePerGas'], 16)} wei")
    console.print(f"peers:      {int(client.call('net_peerCount'), 16)}")
    console.print(f"syncing:    {client.call('eth_syncing')}")


@click.command()
@click.argument("number", default="latest")
@click.option("--full", is_flag=True, help="show every transaction")
@rpc_option
@one_line_errors
def block(number: str, full: bool, rpc: str) -> None:
    """Show block NUMBER (a height, 0x-hex height, or latest/earliest)."""
    tag = number if number in ("latest", "earliest", "pending") or number.startswith("0x") else None
    if tag is None:
        if not number.isdigit():
            raise ValueError(f"invalid block {number!r}: use a height or latest")
        tag = hex(int(number))
    found = RpcClient(rpc).call("eth_getBlockByNumber", tag, full)
    if found is None:
        raise ValueError(f"no block {number}")
    for key in ("number", "timestamp", "gasUsed", "gasLimit", "baseFeePerGas"):
        found[key] = int(found[key], 16)
    console.print_json(data=found)


@click.command()
@click.argument("address")
@click.option("--block", "tag", default="latest", show_default=True)
@rpc_option
@one_line_errors
def balance(address: str, tag: str, rpc: str) -> None:
    """The balance of ADDRESS."""
    who = to_checksum_address(parse_address(address))
    wei = int(RpcClient(rpc).call("eth_getBalance", who, tag), 16)
    console.print(f"{who}: {format_ether(wei)} ({wei} wei)")
