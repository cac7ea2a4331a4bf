"""The `brainchain` command line: run a node, manage a local devnet, talk to a node over RPC.

Each command parses its arguments and calls one function; errors print as one line and exit 1.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from brainchain.crypto.address import parse_address, to_checksum_address
from brainchain.errors import BrainchainError
from node.cli.client import ClientError, RpcClient
from node.cli.units import format_ether, parse_amount
from node.config import ConfigError

F = TypeVar("F", bound=Callable[..., Any])
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
DEFAULT_RPC = "http://127.0.0.1:8545"
RECEIPT_TIMEOUT_S = 60.0
EXPECTED_ERRORS = (BrainchainError, ClientError, ConfigError, ValueError, OSError)


def one_line_errors(fn: F) -> F:
    """Turn expected failures into one readable line and exit status 1 (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from node.devnet import DevnetError

        expected = (*EXPECTED_ERRORS, DevnetError)
        try:
            return fn(*args, **kwargs)
        except expected as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise SystemExit(1) from None
        except BaseExceptionGroup as group:
            # A node service failed inside the supervisor's TaskGroup (e.g. the RPC port is
            # taken): expected failures still read as one line; anything else is a bug.
            leaves = _leaves(group)
            if not all(isinstance(e, expected) for e in leaves):
                raise
            for exc in leaves:
                err_console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise SystemExit(1) from None

    return wrapper  # type: ignore[return-value]


def _leaves(group: BaseExceptionGroup) -> list[BaseException]:
    """The exceptions inside a (possibly nested) exception group."""
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


# Bad values raise ValueError (one line, exit 1 via one_line_errors), not click's usage error.
def _address(text: str) -> bytes:
    return parse_address(text)


def _key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise ValueError("--from-key: a private key is 32 bytes of hex") from None
    if len(key) != 32:
        raise ValueError("--from-key: a private key is 32 bytes of hex")
    return key


rpc_option = click.option("--rpc", default=DEFAULT_RPC, show_default=True, help="node JSON-RPC URL")


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="log at debug level")
def cli(verbose: bool) -> None:
    """brainchain: a BFT chain that runs AI inference and training as transactions."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# --- node ---------------------------------------------------------------------------------


@cli.group()
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
    bootstrap: tuple[str, ...],
) -> None:
    """Run one node in the foreground; Ctrl-C stops it cleanly."""
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
    )
    if bootstrap:
        cfg = replace(cfg, bootstrap=(*cfg.bootstrap, *bootstrap))
    asyncio.run(run_node(cfg))


# --- devnet -------------------------------------------------------------------------------


@cli.group()
def devnet() -> None:
    """Start, inspect and stop a local network."""


home_option = click.option(
    "--home", type=click.Path(path_type=Path), default=Path("devnet"), show_default=True
)


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


PRODUCING_TIMEOUT_S = 60.0


def _wait_until_producing(urls: list[str]) -> None:
    """Return once every node is peered with all others and the chain has moved."""
    deadline = time.monotonic() + PRODUCING_TIMEOUT_S
    start: list[int] | None = None
    while time.monotonic() < deadline:
        try:
            status = [RpcClient(url, timeout=3).call("brain_nodeStatus") for url in urls]
        except ClientError:
            time.sleep(0.3)
            continue
        heights = [int(s["height"], 16) for s in status]
        start = start or heights
        peered = all(s["peers"] >= len(urls) - 1 for s in status)
        if peered and all(h > s for h, s in zip(heights, start, strict=True)):
            return
        time.sleep(0.3)
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


@devnet.command("start")
@click.argument("index", type=int)
@home_option
@one_line_errors
def devnet_start(index: int, home: Path) -> None:
    """Start node INDEX (it dials the running nodes and catches up by block sync)."""
    from node import devnet as dn

    node_home = dn.node_home(home, index)
    url = dn.start_node(node_home, dn.peer_addresses(home, besides=node_home))
    console.print(f"{node_home.name} JSON-RPC: {url}")


@devnet.command("stop")
@click.argument("index", type=int)
@home_option
@one_line_errors
def devnet_stop(index: int, home: Path) -> None:
    """Stop node INDEX cleanly (SIGTERM)."""
    from node import devnet as dn

    node_home = dn.node_home(home, index)
    console.print(f"{node_home.name}: {'stopped' if dn.stop_node(node_home) else 'not running'}")


def _signal_command(name: str, signum: int, doc: str) -> None:
    @devnet.command(name, help=doc)
    @click.argument("index", type=int)
    @home_option
    @one_line_errors
    def command(index: int, home: Path) -> None:
        from node import devnet as dn

        node_home = dn.node_home(home, index)
        dn.signal_node(node_home, signum)
        console.print(f"{node_home.name}: {name}")


_signal_command("kill", signal.SIGKILL, "Kill node INDEX at once (kill -9), as a crash would.")
_signal_command("pause", signal.SIGSTOP, "Freeze node INDEX (SIGSTOP) without closing anything.")
_signal_command("resume", signal.SIGCONT, "Thaw a paused node INDEX (SIGCONT).")


@devnet.command("logs")
@click.argument("index", type=int)
@home_option
@click.option("-n", "lines", type=int, default=40, show_default=True)
@click.option("-f", "follow", is_flag=True, help="keep printing new lines")
@one_line_errors
def devnet_logs(index: int, home: Path, lines: int, follow: bool) -> None:
    """Print the end of node INDEX's log."""
    from node import devnet as dn

    path = dn.node_home(home, index) / dn.LOG_FILE
    command = ["tail", "-n", str(lines), *(["-f"] if follow else []), str(path)]
    os.execvp(command[0], command)


# --- talking to a node --------------------------------------------------------------------


@cli.command()
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


@cli.command()
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


@cli.command()
@click.argument("address")
@click.option("--block", "tag", default="latest", show_default=True)
@rpc_option
@one_line_errors
def balance(address: str, tag: str, rpc: str) -> None:
    """The balance of ADDRESS."""
    who = to_checksum_address(_address(address))
    wei = int(RpcClient(rpc).call("eth_getBalance", who, tag), 16)
    console.print(f"{who}: {format_ether(wei)} ({wei} wei)")


@cli.group()
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
    _sign_send_wait(
        RpcClient(rpc),
        _key(from_key),
        _address(to),
        parse_amount(value),
        bytes.fromhex(payload.removeprefix("0x")),
        gas,
        fees,
        no_wait,
    )


@dataclass(frozen=True)
class Fees:
    """Fee options as typed: None means ask the node."""

    max_fee: str | None = None
    priority_fee: str | None = None
    legacy: bool = False
    gas_price: str | None = None


def _sign_send_wait(
    client: RpcClient,
    key: bytes,
    to: bytes | None,
    amount: int,
    data: bytes,
    gas: int | None,
    fees: Fees,
    no_wait: bool = False,
) -> dict[str, Any] | None:
    """Fill nonce, gas and fees from the node, sign, send, and wait for the receipt."""
    from brainchain.crypto.secp256k1 import private_key_to_address
    from brainchain.types.transaction import TX_FEE_MARKET, TX_LEGACY, sign_transaction

    sender = to_checksum_address(private_key_to_address(key))
    chain_id = int(client.call("eth_chainId"), 16)
    nonce = int(client.call("eth_getTransactionCount", sender, "pending"), 16)
    if gas is None:
        call = {"from": sender, "value": hex(amount), "input": "0x" + data.hex()}
        if to is not None:
            call["to"] = to_checksum_address(to)
        gas = int(client.call("eth_estimateGas", call), 16)
    if fees.legacy:
        price = (
            parse_amount(fees.gas_price) if fees.gas_price else int(client.call("eth_gasPrice"), 16)
        )
        fee_cap, tip, tx_type = price, price, TX_LEGACY
    else:
        tip = (
            parse_amount(fees.priority_fee)
            if fees.priority_fee
            else int(client.call("eth_maxPriorityFeePerGas"), 16)
        )
        base_fee = int(client.call("eth_getBlockByNumber", "latest", False)["baseFeePerGas"], 16)
        fee_cap = parse_amount(fees.max_fee) if fees.max_fee else 2 * base_fee + tip
        tx_type = TX_FEE_MARKET
    signed = sign_transaction(
        private_key=key,
        tx_type=tx_type,
        chain_id=chain_id,
        nonce=nonce,
        gas=gas,
        to=to,
        value=amount,
        data=data,
        max_fee_per_gas=fee_cap,
        max_priority_fee_per_gas=tip,
    )
    tx_hash = client.call("eth_sendRawTransaction", "0x" + signed.raw.hex())
    console.print(f"sent {tx_hash}")
    if no_wait:
        return None
    deadline = time.monotonic() + RECEIPT_TIMEOUT_S
    while (receipt := client.call("eth_getTransactionReceipt", tx_hash)) is None:
        if time.monotonic() > deadline:
            raise ValueError(f"no receipt for {tx_hash} after {RECEIPT_TIMEOUT_S:.0f}s")
        time.sleep(0.2)
    ok = receipt["status"] == "0x1"
    console.print(
        f"block {int(receipt['blockNumber'], 16)}  gas used {int(receipt['gasUsed'], 16)}  "
        f"status {'[green]success[/green]' if ok else '[red]failed[/red]'}"
    )
    return dict(receipt)


# --- contracts ----------------------------------------------------------------------------


@cli.group()
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
    from node.cli.abi import constructor_arguments

    bytecode = bytes.fromhex(bytecode_file.read_text(encoding="utf-8").strip().removeprefix("0x"))
    if args and abi_file is None:
        raise ValueError("--args needs --abi to know the constructor's parameter types")
    if abi_file is not None:
        abi = json.loads(abi_file.read_text(encoding="utf-8"))
        bytecode += constructor_arguments(abi, list(args))
    receipt = _sign_send_wait(
        RpcClient(rpc), _key(from_key), None, parse_amount(value), bytecode, gas, Fees()
    )
    assert receipt is not None
    if receipt["status"] != "0x1":
        raise ValueError(f"deployment failed in block {int(receipt['blockNumber'], 16)}")
    console.print(f"contract address {receipt['contractAddress']}")


# --- VRF --------------------------------------------------------------------------------------


def _hex_option(text: str, option: str) -> bytes:
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise ValueError(f"{option}: {text!r} is not hex") from None


@cli.group()
def vrf() -> None:
    """Make and check ECVRF proofs by hand (RFC 9381, edwards25519, SHA-512, TAI)."""


@vrf.command("prove")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="a node's keys.json (its vrf_key is used)",
)
@click.option("--alpha", required=True, help="the input to prove, hex (0x for empty)")
@one_line_errors
def vrf_prove(key_file: Path, alpha: str) -> None:
    """Prove the VRF output for --alpha with a node's VRF key: print public key, proof, beta."""
    from brainchain.crypto import ecvrf
    from node.config import load_keys

    secret = load_keys(key_file).vrf_key
    proof = ecvrf.prove(secret, _hex_option(alpha, "--alpha"))
    console.print(f"public key: 0x{ecvrf.public_key(secret).hex()}", highlight=False)
    console.print(f"proof:      0x{proof.hex()}", highlight=False)
    console.print(f"beta:       0x{ecvrf.proof_to_hash(proof).hex()}", highlight=False)


@vrf.command("verify")
@click.option("--public-key", required=True, help="32-byte VRF public key, hex")
@click.option("--alpha", required=True, help="the input the proof is for, hex (0x for empty)")
@click.option("--proof", required=True, help="80-byte proof, hex")
@one_line_errors
def vrf_verify(public_key: str, alpha: str, proof: str) -> None:
    """Check a VRF proof; print its output beta, or why it fails (exit status 1)."""
    from brainchain.crypto import ecvrf

    beta = ecvrf.verify(
        _hex_option(public_key, "--public-key"),
        _hex_option(proof, "--proof"),
        _hex_option(alpha, "--alpha"),
    )
    console.print(f"beta: 0x{beta.hex()}", highlight=False)


if __name__ == "__main__":
    cli()
