"""A local network under one home directory: create it, start, stop and inspect its nodes.

Layout: <home>/devnet.json (the node list), <home>/accounts.json (dev accounts),
<home>/nodeN/ (each node's home: config, genesis, keys, data, node.log, node.json).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from brainchain.crypto.address import to_checksum_address
from genesis.devnet import DEV_ACCOUNTS, VALIDATOR_STAKE, make_devnet_genesis
from genesis.format import GenesisValidator, write_genesis
from node.config import (
    NodeConfig,
    generate_keys,
    read_runtime,
    write_config,
    write_keys,
)

DEVNET_FILE = "devnet.json"
ACCOUNTS_FILE = "accounts.json"
LOG_FILE = "node.log"
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0
DEFAULT_P2P_PORT = 26656
DEFAULT_METRICS_PORT = 9545  # node i of a devnet: 9545 + i, beside RPC 8545 + i


class DevnetError(Exception):
    """The devnet cannot be created, started or stopped; the message says why."""


@dataclass(frozen=True, slots=True)
class NodeInfo:
    name: str
    home: Path
    pid: int | None
    rpc: str | None


def node_homes(home: Path) -> list[Path]:
    """The node homes of an existing devnet, in order."""
    try:
        doc = json.loads((home / DEVNET_FILE).read_text(encoding="utf-8"))
    except OSError:
        raise DevnetError(f"no devnet at {home} (create one with `brainchain devnet up`)") from None
    return [home / name for name in doc["nodes"]]


def create(
    home: Path,
    *,
    validators: int,
    chain_id: int,
    rpc_port: int,
    block_interval_s: float,
    p2p_port: int = DEFAULT_P2P_PORT,
    metrics_port: int = DEFAULT_METRICS_PORT,
    empty_blocks: bool = True,
    stakes: list[int] | None = None,
) -> None:
    """Write keys, genesis, configs and accounts.json for a new devnet.

    Node i serves RPC on rpc_port + i, libp2p on p2p_port + i and Prometheus metrics on
    metrics_port + i (a zero base: any free port).
    Each validator has stake 100 unless `stakes` says otherwise, so any 3 of 4 (more than 2/3
    of the power) commit blocks.
    """
    if validators < 1:
        raise DevnetError("a devnet needs at least one validator")
    stakes = stakes or [VALIDATOR_STAKE] * validators
    if len(stakes) != validators:
        raise DevnetError(f"{len(stakes)} stakes for {validators} validators")
    home.mkdir(parents=True, exist_ok=True)
    names = [f"node{i}" for i in range(validators)]
    keys = [generate_keys() for _ in names]
    genesis = make_devnet_genesis(
        [
            GenesisValidator(name, k.address, k.consensus_pubkey, k.vrf_pubkey, stake)
            for name, k, stake in zip(names, keys, stakes, strict=True)
        ],
        chain_id=chain_id,
        timestamp=int(time.time()),
    )
    for i, (name, k) in enumerate(zip(names, keys, strict=True)):
        node_home = home / name
        node_home.mkdir(exist_ok=True)
        write_keys(k, node_home / "keys.json")
        write_genesis(genesis, node_home / "genesis.json")
        write_config(
            NodeConfig(
                node_home,
                rpc_port=rpc_port + i if rpc_port else 0,
                p2p_port=p2p_port + i if p2p_port else 0,
                metrics_port=metrics_port + i if metrics_port else 0,
                block_interval_s=block_interval_s,
                empty_blocks=empty_blocks,
            )
        )
    accounts = [
        {
            "address": to_checksum_address(a.address),
            "private_key": "0x" + a.private_key.hex(),
            "balance": str(a.balance),
        }
        for a in DEV_ACCOUNTS
    ]
    (home / ACCOUNTS_FILE).write_text(json.dumps(accounts, indent=2) + "\n", encoding="utf-8")
    (home / DEVNET_FILE).write_text(
        json.dumps({"chain_id": chain_id, "nodes": names}, indent=2) + "\n", encoding="utf-8"
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_pid(node_home: Path) -> int | None:
    runtime = read_runtime(node_home)
    if runtime is None:
        return None
    pid = runtime.get("pid")
    return pid if isinstance(pid, int) and _alive(pid) else None


def start_node(
    node_home: Path,
    bootstrap: list[str] | None = None,
    timeout_s: float = START_TIMEOUT_S,
    wrap: Callable[[list[str]], list[str]] | None = None,
) -> str:
    """Start one node in the background (own session, log to node.log); return its RPC URL.

    `bootstrap`: libp2p addresses of running peers for it to dial (the devnet's others).
    `wrap`: the command line to run instead, given the node's (e.g. inside a network namespace,
    as `brainchain chaos` runs nodes; it must exec the node, keeping its pid).
    """
    if running_pid(node_home) is not None:
        runtime = read_runtime(node_home)
        assert runtime is not None
        return str(runtime["rpc"])
    (node_home / "node.json").unlink(missing_ok=True)
    command = [sys.executable, "-m", "node.cli.main", "node", "run", "--home", str(node_home)]
    for addr in bootstrap or ():
        command += ["--bootstrap", addr]
    if wrap is not None:
        command = wrap(command)
    log = open(node_home / LOG_FILE, "ab")  # noqa: SIM115  (handed to the child)
    try:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runtime = read_runtime(node_home)
        if runtime is not None and runtime.get("pid") == proc.pid:
            return str(runtime["rpc"])
        if proc.poll() is not None:
            lines = (node_home / LOG_FILE).read_text(errors="replace").strip().splitlines()
            # The node's own one-line reason if it gave one, else the end of its log.
            reasons = [ln.removeprefix("error: ") for ln in lines if ln.startswith("error: ")]
            tail = reasons[-1:] or lines[-5:]
            raise DevnetError(
                f"{node_home.name} exited at start: "
                + " | ".join(tail)
                + f" (log: {node_home / LOG_FILE})"
            )
        time.sleep(0.1)
    proc.kill()
    raise DevnetError(f"{node_home.name} did not start within {timeout_s:.0f}s")


def peer_addresses(home: Path, *, besides: Path | None = None) -> list[str]:
    """libp2p addresses of the devnet's running nodes (other than `besides`)."""
    addrs = []
    for node_home in node_homes(home):
        if node_home == besides or running_pid(node_home) is None:
            continue
        runtime = read_runtime(node_home)
        if runtime is not None and isinstance(runtime.get("p2p"), str):
            addrs.append(runtime["p2p"])
    return addrs


def start_all(home: Path) -> list[str]:
    """Start every stopped node, each dialling those already up; their RPC URLs in order."""
    return [
        start_node(node_home, peer_addresses(home, besides=node_home))
        for node_home in node_homes(home)
    ]


def node_home(home: Path, index: int) -> Path:
    """The home of node `index` (0-based, as devnet status numbers them)."""
    homes = node_homes(home)
    if not 0 <= index < len(homes):
        raise DevnetError(f"no node {index}: the devnet has nodes 0…{len(homes) - 1}")
    return homes[index]


def signal_node(node_home: Path, signum: int) -> None:
    """Send `signum` to a running node (SIGKILL, SIGSTOP, SIGCONT)."""
    pid = running_pid(node_home)
    if pid is None:
        raise DevnetError(f"{node_home.name} is not running")
    os.kill(pid, signum)


def stop_node(node_home: Path, grace_s: float = STOP_GRACE_S) -> bool:
    """SIGTERM the node, SIGKILL after the grace period; False if it was not running."""
    pid = running_pid(node_home)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    (node_home / "node.json").unlink(missing_ok=True)
    return True


def nodes(home: Path) -> list[NodeInfo]:
    out = []
    for node_home in node_homes(home):
        pid = running_pid(node_home)
        runtime = read_runtime(node_home) if pid is not None else None
        out.append(NodeInfo(node_home.name, node_home, pid, runtime and runtime.get("rpc")))
    return out
