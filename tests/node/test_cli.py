"""The CLI end to end, as a user runs it: devnet up, tx send, balance, block, status, down."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.node.harness import REPO

KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDR1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def brainchain(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "node.cli.main", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"brainchain {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


def test_devnet_lifecycle_and_transfers(tmp_path: Path) -> None:
    home = tmp_path / "devnet"
    up = brainchain(
        "devnet",
        "up",
        "--validators",
        "1",
        "--home",
        str(home),
        "--rpc-port",
        "0",
        "--p2p-port",
        "0",
        "--metrics-port",
        "0",
        "--block-interval",
        "0.2",
    )
    try:
        assert "JSON-RPC" in up.stdout and "Never use them for anything real" in up.stdout
        accounts = json.loads((home / "accounts.json").read_text())
        assert len(accounts) == 10 and accounts[0]["private_key"] == KEY0
        assert {"address", "private_key", "balance"} <= set(accounts[0])
        rpc = json.loads((home / "node0" / "node.json").read_text())["rpc"]

        sent = brainchain(
            "tx", "send", "--rpc", rpc, "--from-key", KEY0, "--to", ADDR1, "--value", "1.5ether"
        )
        assert "status success" in sent.stdout and "gas used 21000" in sent.stdout
        legacy = brainchain(
            "tx",
            "send",
            "--rpc",
            rpc,
            "--from-key",
            KEY0,
            "--to",
            ADDR1,
            "--value",
            "2gwei",
            "--legacy",
        )
        assert "status success" in legacy.stdout

        balance = brainchain("balance", ADDR1, "--rpc", rpc)
        assert "10001.500000002 ETH" in balance.stdout
        block = brainchain("block", "latest", "--rpc", rpc)
        assert json.loads(block.stdout)["number"] >= 2
        status = brainchain("status", "--rpc", rpc)
        assert "chain id:   1337" in status.stdout
        devnet_status = brainchain("devnet", "status", "--home", str(home))
        assert "running" in devnet_status.stdout

        # Up again on a running devnet is a no-op that reports the same URL.
        assert rpc in brainchain("devnet", "up", "--home", str(home)).stdout
    finally:
        down = brainchain("devnet", "down", "--home", str(home))
    assert "node0: stopped" in down.stdout
    assert "stopped" in brainchain("devnet", "status", "--home", str(home)).stdout

    # Restart the stopped devnet: same chain, balances kept.
    brainchain("devnet", "up", "--home", str(home))
    try:
        rpc = json.loads((home / "node0" / "node.json").read_text())["rpc"]
        assert "10001.500000002 ETH" in brainchain("balance", ADDR1, "--rpc", rpc).stdout
    finally:
        brainchain("devnet", "down", "--home", str(home))


def test_four_validator_devnet_node_commands(tmp_path: Path) -> None:
    home = str(tmp_path / "four")
    up = brainchain(
        "devnet", "up", "--validators", "4", "--home", home,
        "--rpc-port", "0", "--p2p-port", "0", "--metrics-port", "0", "--block-interval", "0.2",
    )  # fmt: skip
    try:
        assert up.stdout.count("JSON-RPC") == 4
        table = brainchain("devnet", "status", "--home", home).stdout
        assert table.count("running") == 4
        assert "kill" in brainchain("devnet", "kill", "1", "--home", home).stdout
        assert "pause" in brainchain("devnet", "pause", "2", "--home", home).stdout
        assert "resume" in brainchain("devnet", "resume", "2", "--home", home).stdout
        assert "stopped" in brainchain("devnet", "stop", "3", "--home", home).stdout
        table = brainchain("devnet", "status", "--home", home).stdout
        assert table.count("running") == 2 and table.count("stopped") == 2
        brainchain("devnet", "start", "1", "--home", home)
        brainchain("devnet", "start", "3", "--home", home)
        assert brainchain("devnet", "status", "--home", home).stdout.count("running") == 4
        assert "node ready" in brainchain("devnet", "logs", "0", "--home", home).stdout
        missing = brainchain("devnet", "kill", "7", "--home", home, check=False)
        assert missing.returncode != 0 and "no node 7" in missing.stderr
    finally:
        brainchain("devnet", "down", "--home", home)


def test_errors_are_one_readable_line(tmp_path: Path) -> None:
    cases = [
        ("balance", "0x1234", "--rpc", "http://127.0.0.1:9"),
        ("balance", ADDR1, "--rpc", "http://127.0.0.1:9"),
        ("devnet", "status", "--home", str(tmp_path / "nothing")),
        ("devnet", "up", "--validators", "0", "--home", str(tmp_path / "none"), "--rpc-port", "0"),
        ("tx", "send", "--rpc", "http://127.0.0.1:9", "--from-key", "0x12", "--to", ADDR1),
        ("node", "run", "--home", str(tmp_path / "missing")),
    ]
    for args in cases:
        result = brainchain(*args, check=False)
        assert result.returncode != 0, args
        assert "Traceback" not in result.stderr, result.stderr
        assert result.stderr.strip(), args
