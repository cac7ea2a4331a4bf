"""`brainchain tx send` and `contract deploy`: build a transaction from options and send it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from brainchain.crypto.address import parse_address
from node.cli.client import RpcClient
from node.cli.common import console, one_line_errors, parse_private_key, rpc_option
from node.cli.txflow import Fees, sign_send_wait
from node.cli.units import parse_amount


@click.group()
def tx() -> None:
    """Sign and send transactions."""


@tx.command("send")
@rpc_option
@click.option("--from-key", required=True, help="sender's private key (hex)")
@click.option("--to", "to", required=True, help="recipient address")
@click.option("--value", default="0", show_default=True, help="amount, e.g. 1.5ether, 2gwei")
@click.option("--data", "payload", default="0x", help="call data (hex)")
@click.option("--gas", type=int, default=None, help="gas limit (default: estimated)")
@click.option("--max-fee", default=None, help="max fee per gas (default: 2×base fee + tip)")
@click.option("--priority-fee", default=None, help="priority fee per gas (default: suggested)")
@click.option("--legacy", is_flag=True, help="send a legacy EIP-155 transaction")
@click.option("--gas-price", default=None, help="gas price for --legacy (default: eth_gasPrice)")
@click.option("--no-wait", is_flag=True, help="print the hash and return without the receipt")
@one_line_errors
def tx_send(
    rpc: str,
    from_key: str,
    to: str,
    value: str,
    payload: str,
    gas: int | None,
    max_fee: str | None,
    priority_fee: str | None,
    legacy: bool,
    gas_price: str | None,
    no_wait: bool,
) -> None:
    """Sign a transfer (EIP-1559 unless --legacy), send it, and wait for its receipt."""
    fees = Fees(max_fee, priority_fee, legacy, gas_price)
    sign_send_wait(
        RpcClient(rpc),
        parse_private_key(from_key),
        parse_address(to),
        parse_amount(value),
        bytes.fromhex(payload.removeprefix("0x")),
        gas,
        fees,
        no_wait,
    )


@click.group()
def contract() -> None:
    """Deploy contracts."""


@contract.command("deploy")
@rpc_option
@click.option("--from-key", required=True, help="deployer's private key (hex)")
@click.argument("bytecode_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--abi",
    "abi_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the contract's ABI JSON, to encode --args for its constructor",
)
@click.option("--args", "args", multiple=True, help="constructor argument (repeat, in order)")
@click.option("--value", default="0", show_default=True, help="amount sent to the constructor")
@click.option("--gas", type=int, default=None, help="gas limit (default: estimated)")
@one_line_errors
def contract_deploy(
    rpc: str,
    from_key: str,
    bytecode_file: Path,
    abi_file: Path | None,
    args: tuple[str, ...],
    value: str,
    gas: int | None,
) -> None:
    """Deploy the hex bytecode in BYTECODE_FILE (solc/vyper output) and print its address."""
    # Local: eth-abi is only needed when deploying.
    from node.cli.abi import constructor_arguments

    bytecode = bytes.fromhex(bytecode_file.read_text(encoding="utf-8").strip().removeprefix("0x"))
    if args and abi_file is None:
        raise ValueError("--args needs --abi to know the constructor's parameter types")
    if abi_file is not None:
        abi = json.loads(abi_file.read_text(encoding="utf-8"))
        bytecode += constructor_arguments(abi, list(args))
    key = parse_private_key(from_key)
    receipt = sign_send_wait(RpcClient(rpc), key, None, parse_amount(value), bytecode, gas, Fees())
    assert receipt is not None
    if receipt["status"] != "0x1":
        raise ValueError(f"deployment failed in block {int(receipt['blockNumber'], 16)}")
    console.print(f"contract address {receipt['contractAddress']}")
