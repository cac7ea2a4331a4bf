"""Vyper contracts on a real node: compile with vyper, sign with eth-account, deploy, call."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from eth_account import Account

from brainchain.crypto.keccak import keccak256
from genesis.devnet import DEV_ACCOUNTS
from node.cli.client import RpcClient
from tests.node.harness import REPO, wait_for_receipt

OWNER = Account.from_key(DEV_ACCOUNTS[0].private_key)
CONTRACTS = REPO / "contracts"
GWEI = 10**9


def compile_vyper(name: str) -> tuple[bytes, list[dict[str, Any]]]:
    """Bytecode and ABI from the vyper compiler (a dev dependency), run as users run it."""
    out = subprocess.run(
        [sys.executable, "-m", "vyper", "-f", "bytecode,abi", str(CONTRACTS / name)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return bytes.fromhex(out[0].removeprefix("0x")), json.loads(out[1])


def selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


class Wallet:
    """Signs with eth-account and sends raw transactions, tracking the nonce."""

    def __init__(self, client: RpcClient) -> None:
        self.client = client
        self.nonce = int(client.call("eth_getTransactionCount", OWNER.address, "pending"), 16)

    def send(self, *, to: str | None, data: bytes, gas: int = 1_000_000) -> dict[str, Any]:
        fields = {
            "type": 2,
            "nonce": self.nonce,
            "maxFeePerGas": 50 * GWEI,
            "maxPriorityFeePerGas": GWEI,
            "gas": gas,
            "value": 0,
            "chainId": 1337,
            "data": "0x" + data.hex(),
        }
        if to is not None:
            fields["to"] = to
        raw = bytes(OWNER.sign_transaction(fields).raw_transaction)
        tx_hash = self.client.call("eth_sendRawTransaction", "0x" + raw.hex())
        self.nonce += 1
        return wait_for_receipt(self.client, tx_hash)

    def call(self, to: str, data: bytes) -> bytes:
        answer = self.client.call(
            "eth_call", {"from": OWNER.address, "to": to, "input": "0x" + data.hex()}, "latest"
        )
        return bytes.fromhex(answer[2:])



def deploy(wallet: Wallet, name: str) -> str:
    bytecode, _ = compile_vyper(name)
    receipt = wallet.send(to=None, data=bytecode)
    assert receipt["status"] == "0x1", receipt
    code = wallet.client.call("eth_getCode", receipt["contractAddress"], "latest")
    assert len(code) > 2
    return str(receipt["contractAddress"])
