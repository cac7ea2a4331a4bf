"""Vyper contracts compiled in the test, deployed to a real node and used over JSON-RPC."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi import decode, encode

from brainchain.crypto.keccak import keccak256
from genesis.devnet import DEV_ACCOUNTS
from node.cli.client import ClientError
from tests.node.contracts_kit import CONTRACTS, OWNER, Wallet, compile_vyper, deploy, selector
from tests.node.harness import REPO, NodeProcess


@pytest.fixture
def wallet(node: NodeProcess) -> Wallet:
    return Wallet(node.client())


def test_storage_events_and_revert_reasons(wallet: Wallet) -> None:
    store = deploy(wallet, "Store.vy")
    receipt = wallet.send(to=store, data=selector("store(uint256)") + encode(["uint256"], [42]))
    assert receipt["status"] == "0x1"
    assert decode(["uint256"], wallet.call(store, selector("value()"))) == (42,)
    assert int(wallet.client.call("eth_getStorageAt", store, "0x0", "latest"), 16) == 42

    topic = "0x" + keccak256(b"Stored(address,uint256)").hex()
    logs = wallet.client.call(
        "eth_getLogs", {"address": store, "topics": [topic], "fromBlock": "0x0"}
    )
    assert len(logs) == 1 and logs[0]["transactionHash"] == receipt["transactionHash"]
    assert logs[0]["topics"][1] == "0x" + bytes.fromhex(OWNER.address[2:]).rjust(32, b"\0").hex()
    assert decode(["uint256"], bytes.fromhex(logs[0]["data"][2:])) == (42,)
    assert receipt["logs"][0]["logIndex"] == "0x0"

    unlucky = selector("store(uint256)") + encode(["uint256"], [13])
    with pytest.raises(ClientError, match=r"execution reverted: unlucky \(code 3\)"):
        wallet.call(store, unlucky)
    with pytest.raises(ClientError, match="execution reverted: unlucky"):
        wallet.client.call(
            "eth_estimateGas", {"from": OWNER.address, "to": store, "input": "0x" + unlucky.hex()}
        )
    failed = wallet.send(to=store, data=unlucky, gas=100_000)
    assert failed["status"] == "0x0" and failed["logs"] == []
    assert decode(["uint256"], wallet.call(store, selector("value()"))) == (42,)

    gas = int(
        wallet.client.call(
            "eth_estimateGas",
            {
                "from": OWNER.address,
                "to": store,
                "input": "0x" + (selector("store(uint256)") + encode(["uint256"], [7])).hex(),
            },
        ),
        16,
    )
    assert (
        wallet.send(to=store, data=selector("store(uint256)") + encode(["uint256"], [7]), gas=gas)[
            "status"
        ]
        == "0x1"
    )


def test_contract_to_contract_calls_and_create2(wallet: Wallet) -> None:
    template = deploy(wallet, "Store.vy")
    factory = deploy(wallet, "Factory.vy")
    salt = bytes(31) + b"\x07"
    spawned = wallet.send(
        to=factory,
        data=selector("spawn(address,bytes32)") + encode(["address", "bytes32"], [template, salt]),
    )
    assert spawned["status"] == "0x1"
    (child,) = decode(["address"], wallet.call(factory, selector("last()")))

    runtime = wallet.client.call("eth_getCode", template, "latest")
    assert wallet.client.call("eth_getCode", child, "latest") == runtime

    receipt = wallet.send(
        to=factory,
        data=selector("store_in(address,uint256)") + encode(["address", "uint256"], [child, 99]),
    )
    assert receipt["status"] == "0x1"
    assert decode(
        ["uint256"], wallet.call(factory, selector("read(address)") + encode(["address"], [child]))
    ) == (99,)
    assert decode(["uint256"], wallet.call(template, selector("value()"))) == (0,)
    assert receipt["logs"][0]["address"].lower() == child.lower()
    again = wallet.send(
        to=factory,
        data=selector("spawn(address,bytes32)") + encode(["address", "bytes32"], [template, salt]),
    )
    # CREATE2 depends on the salt, not the factory's nonce: the same salt collides, a new
    # salt gives a new address.
    assert again["status"] == "0x0"
    other = wallet.send(
        to=factory,
        data=selector("spawn(address,bytes32)")
        + encode(["address", "bytes32"], [template, bytes(32)]),
    )
    assert other["status"] == "0x1"
    assert decode(["address"], wallet.call(factory, selector("last()")))[0] != child


def test_contracts_are_example_sources() -> None:
    assert {p.name for p in Path(CONTRACTS).glob("*.vy")} >= {"Store.vy", "Factory.vy"}


def test_cli_deploys_with_constructor_arguments(node: NodeProcess, tmp_path: Path) -> None:
    bytecode, abi = compile_vyper("Counter.vy")
    (tmp_path / "Counter.bin").write_text("0x" + bytecode.hex())
    (tmp_path / "Counter.abi").write_text(json.dumps(abi))
    owner = "0x000000000000000000000000000000000000bEEF"

    def deploy_cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable, "-m", "node.cli.main", "contract", "deploy", "--rpc", node.url,
            "--from-key", "0x" + DEV_ACCOUNTS[1].private_key.hex(), str(tmp_path / "Counter.bin"),
            "--abi", str(tmp_path / "Counter.abi"), *args,
        ]  # fmt: skip
        return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)

    result = deploy_cli("--args", "41", "--args", owner)
    assert result.returncode == 0, result.stderr
    address = result.stdout.split("contract address ")[1].split()[0]
    wallet = Wallet(node.client())
    assert decode(["uint256"], wallet.call(address, selector("count()"))) == (41,)
    owner_word = wallet.call(address, selector("owner()"))
    assert decode(["address"], owner_word)[0].lower() == owner.lower()
    missing = deploy_cli("--args", "41")
    assert missing.returncode == 1 and "constructor takes 2 arguments" in missing.stderr
