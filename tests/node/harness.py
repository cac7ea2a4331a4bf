"""Real node processes for tests: start in a temp home, wait for the RPC, stop or kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from node import devnet
from node.cli.client import RpcClient
from node.config import load_config, read_runtime, write_config

GWEI = 10**9
RECIPIENT = "0x000000000000000000000000000000000000dEaD"
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0
REPO = Path(__file__).resolve().parents[2]


class NodeProcess:
    """One `brainchain node run` process over a home directory."""

    def __init__(
        self, home: Path, *extra_args: str, wrap: Callable[[list[str]], list[str]] | None = None
    ) -> None:
        self.home = home
        self.extra_args = extra_args
        self.wrap = wrap  # e.g. a network namespace's command(i, argv); it must exec argv
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.p2p = ""  # libp2p address, /ip4/127.0.0.1/tcp/<port>/p2p/<peer id>
        self.metrics = ""  # Prometheus URL

    @property
    def log_path(self) -> Path:
        return self.home / "test-node.log"

    def start(self, *bootstrap: str) -> RpcClient:
        """Start the node (dialling `bootstrap` peers) and wait until it reports its RPC URL."""
        (self.home / "node.json").unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            argv = [
                sys.executable,
                "-m",
                "node.cli.main",
                "node",
                "run",
                "--home",
                str(self.home),
                "--rpc-port",
                "0",
                "--p2p-port",
                "0",
                "--metrics-port",
                "0",
                *self.extra_args,
                *(arg for addr in bootstrap for arg in ("--bootstrap", addr)),
            ]
            self.proc = subprocess.Popen(
                self.wrap(argv) if self.wrap else argv,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            runtime = read_runtime(self.home)
            if runtime is not None and runtime.get("pid") == self.proc.pid:
                self.url, self.p2p = str(runtime["rpc"]), str(runtime["p2p"])
                self.metrics = str(runtime["metrics"])
                return RpcClient(self.url)
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited with {self.proc.returncode}:\n{self.log()}")
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"node did not start in {START_TIMEOUT_S}s:\n{self.log()}")

    def client(self) -> RpcClient:
        return RpcClient(self.url)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signum)

    def kill(self) -> None:
        """kill -9: no cleanup, no flush, like a power cut for the process."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after a grace period; return the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"


DEV_CHAIN_ID = 1337


def dev_home(root: Path, *, run_models: bool = True) -> Path:
    """A fresh single-validator home under `root`: keys, the devnet genesis (dev accounts and
    models), 0.2 s blocks, every port chosen by the OS; `run_models` off spares a node that
    only reads requests back the executor (and torch)."""
    devnet.create(
        root / "net",
        validators=1,
        chain_id=DEV_CHAIN_ID,
        rpc_port=0,
        p2p_port=0,
        metrics_port=0,
        block_interval_s=0.2,
    )
    home = root / "net" / "node0"
    if not run_models:
        write_config(load_config(home, run_models=False))
    return home


@contextmanager
def running(home: Path) -> Iterator[NodeProcess]:
    """A started node over `home`, stopped on exit with its log printed (shown on failure)."""
    proc = NodeProcess(home)
    proc.start()
    try:
        yield proc
    finally:
        code = proc.stop()
        print(f"--- node log (exit {code}) ---\n{proc.log()}")


def wait_for_receipt(client: RpcClient, tx_hash: str, timeout_s: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        receipt = client.call("eth_getTransactionReceipt", tx_hash)
        if receipt is not None:
            return receipt  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise TimeoutError(f"no receipt for {tx_hash} in {timeout_s}s")


class Network:
    """Several validator processes of one devnet; each starts dialling those already up."""

    def __init__(self, homes: list[Path]) -> None:
        self.nodes = [NodeProcess(home) for home in homes]

    def start(self, index: int) -> RpcClient:
        peers = [n.p2p for n in self.nodes if n.running() and n is not self.nodes[index]]
        return self.nodes[index].start(*peers)

    def clients(self) -> list[RpcClient]:
        return [n.client() for n in self.nodes if n.running()]

    def stop_all(self) -> str:
        """Stop every node; their logs, for a failing test's output."""
        logs = []
        for i, n in enumerate(self.nodes):
            code = n.stop()
            logs.append(f"--- node{i} log (exit {code}) ---\n{n.log()}")
        return "\n".join(logs)


def height(client: RpcClient) -> int:
    return int(client.call("eth_blockNumber"), 16)


def wait_for_height(clients: list[RpcClient], target: int, timeout_s: float = 60.0) -> None:
    """Wait until every client's head is at least `target`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(height(c) >= target for c in clients):
            return
        time.sleep(0.1)
    raise TimeoutError(f"not all nodes reached height {target}: {[height(c) for c in clients]}")


def signed_transfer(account: Any, nonce: int, value: int = 1) -> str:
    """A devnet transfer to RECIPIENT signed by an eth-account `account`, as 0x-hex."""
    tx = {
        "type": 2,
        "nonce": nonce,
        "maxFeePerGas": 10 * GWEI,
        "maxPriorityFeePerGas": GWEI,
        "gas": 21_000,
        "to": RECIPIENT,
        "value": value,
        "chainId": 1337,
    }
    return "0x" + bytes(account.sign_transaction(tx).raw_transaction).hex()
