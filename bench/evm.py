"""EVM throughput on four workloads, on this VM and on py-evm in the same run.

    pip install py-evm==0.12.1b1      # only for this benchmark, never a project dependency
    python -m bench.evm [--skip-py-evm]

Workloads: a PUSH/ADD/DUP/MUL/POP/GT/JUMPI loop of 200k iterations; 20k KECCAK256 over 64
bytes; 2,000 fresh SSTOREs, then 2,000 cold SLOADs; 1,000 transfers of a minimal Vyper
ERC-20 (contracts/Token.vy). Both VMs must use the same gas; the script prints Mgas/s for
each and the ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import encode

from bench.machine import banner
from brainchain.crypto.keccak import keccak256
from brainchain.crypto.secp256k1 import private_key_to_address
from brainchain.state.account import Account
from brainchain.state.state import State, set_account, set_code, set_storage
from brainchain.types.transaction import TX_FEE_MARKET, Transaction, sign_transaction
from vm.environment import BlockEnvironment
from vm.instructions.system import compute_contract_address
from vm.schedule import CANCUN
from vm.transition import run_transaction

KEY = bytes([9]) * 32
SENDER = private_key_to_address(KEY)
CHAIN_ID = 1337
BASE_FEE = 7
GAS_LIMIT = 1_000_000_000
TOKEN_SUPPLY = 10**24
ARITH_LOOP = bytes.fromhex("60005b60010180600302508062030d401160025700")
KECCAK_LOOP = bytes.fromhex("60005b60406000205060010180614e201160025700")
SSTORE_LOOP = bytes.fromhex("60005b600101808055806107d01160025700")
SLOAD_LOOP = bytes.fromhex("60005b600101805450806107d01160025700")
SLOTS = 2_000
TRANSFERS = 1_000
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Call:
    """One transaction of a workload: a target (None: create) and its data."""

    to: bytes | None
    data: bytes = b""


@dataclass(frozen=True)
class Workload:
    name: str
    accounts: dict[bytes, tuple[bytes, dict[int, int]]]  # address -> (code, storage)
    setup: list[Call]  # run first, not timed (e.g. deploying the token)
    calls: list[Call]


def _address(n: int) -> bytes:
    return (0xC0 << 152 | n).to_bytes(20, "big")


def token_bytecode() -> bytes:
    out = subprocess.run(
        [sys.executable, "-m", "vyper", "-f", "bytecode", str(ROOT / "contracts" / "Token.vy")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return bytes.fromhex(out.removeprefix("0x")) + encode(["uint256"], [TOKEN_SUPPLY])


def workloads() -> list[Workload]:
    token = compute_contract_address(SENDER, 0)
    transfer = keccak256(b"transfer(address,uint256)")[:4]
    return [
        Workload(
            "arithmetic loop (200k iterations)",
            {_address(0): (ARITH_LOOP, {})},
            [],
            [Call(_address(0))],
        ),
        Workload(
            "20k KECCAK256 of 64 bytes", {_address(1): (KECCAK_LOOP, {})}, [], [Call(_address(1))]
        ),
        Workload(
            "2k fresh SSTOREs, then 2k cold SLOADs",
            {
                _address(2): (SSTORE_LOOP, {}),
                _address(3): (SLOAD_LOOP, {i: i for i in range(1, SLOTS + 1)}),
            },
            [],
            [Call(_address(2)), Call(_address(3))],
        ),
        Workload(
            "1,000 ERC-20 transfers (Vyper)",
            {},
            [Call(None, token_bytecode())],
            [
                Call(
                    token,
                    transfer + encode(["address", "uint256"], [_address(16 + i % 200), 1 + i]),
                )
                for i in range(TRANSFERS)
            ],
        ),
    ]


def run_ours(workload: Workload) -> tuple[int, float]:
    """Total gas of the timed calls and their wall time on this VM."""
    state = State({})
    set_account(state, SENDER, Account(balance=10**30))
    for address, (code, storage) in workload.accounts.items():
        set_account(state, address, Account(nonce=1))
        set_code(state, address, code)
        for key, value in storage.items():
            set_storage(state, address, key, value)
    # Cancun's prices, as py-evm charges: the same gas over each VM's time (vm/schedule.py).
    env = BlockEnvironment(
        CHAIN_ID, 1, 1, bytes(20), GAS_LIMIT, BASE_FEE, bytes(32), schedule=CANCUN
    )
    calls = workload.setup + workload.calls
    txs = [
        sign_transaction(
            private_key=KEY,
            tx_type=TX_FEE_MARKET,
            chain_id=CHAIN_ID,
            nonce=nonce,
            gas=GAS_LIMIT // 2,
            to=call.to,
            value=0,
            data=call.data,
            max_fee_per_gas=100,
            max_priority_fee_per_gas=1,
        )
        for nonce, call in enumerate(calls)
    ]

    def send(tx: Transaction) -> int:
        result = run_transaction(state, env, tx, 0, [])
        if result.error is not None:
            raise RuntimeError(f"{workload.name}: {result.error}")
        return result.receipt.gas_used

    setup = len(workload.setup)
    for tx in txs[:setup]:
        send(tx)
    start = time.perf_counter()
    gas = sum(send(tx) for tx in txs[setup:])
    return gas, time.perf_counter() - start


def run_py_evm(workload: Workload) -> tuple[int, float]:
    """The same transactions on py-evm's CancunVM."""
    from eth import constants
    from eth.chains.base import MiningChain
    from eth.db.atomic import AtomicDB
    from eth.vm.forks.cancun import CancunVM
    from eth_keys import keys

    key = keys.PrivateKey(KEY)
    genesis_state = {SENDER: {"balance": 10**30, "nonce": 0, "code": b"", "storage": {}}}
    for address, (code, storage) in workload.accounts.items():
        genesis_state[address] = {"balance": 0, "nonce": 1, "code": code, "storage": storage}
    params = {
        "difficulty": 0,
        "gas_limit": GAS_LIMIT,
        "timestamp": 1,
        "coinbase": constants.ZERO_ADDRESS,
        "extra_data": b"",
        "nonce": b"\0" * 8,
        "mix_hash": constants.ZERO_HASH32,
        "base_fee_per_gas": BASE_FEE,
    }
    chain_class = MiningChain.configure(
        vm_configuration=((constants.GENESIS_BLOCK_NUMBER, CancunVM),), chain_id=CHAIN_ID
    )
    chain = chain_class.from_genesis(AtomicDB(), params, genesis_state)
    vm = chain.get_vm()
    header = vm.get_header()  # every transaction is applied against it: per-tx gas in receipts
    builder = vm.get_transaction_builder()
    calls = workload.setup + workload.calls
    txs = [
        builder.new_unsigned_dynamic_fee_transaction(
            chain_id=CHAIN_ID,
            nonce=nonce,
            max_priority_fee_per_gas=1,
            max_fee_per_gas=100,
            gas=GAS_LIMIT // 2,
            to=call.to or b"",
            value=0,
            data=call.data,
            access_list=[],
        ).as_signed_transaction(key)
        for nonce, call in enumerate(calls)
    ]

    def run_all(batch: list[Any]) -> int:
        total = 0
        for tx in batch:
            receipt, computation = vm.apply_transaction(header, tx)
            if not computation.is_success:
                raise RuntimeError(f"py-evm {workload.name}: {computation.error}")
            total += int(receipt.gas_used) - int(header.gas_used)
        return total

    setup = len(workload.setup)
    run_all(txs[:setup])
    start = time.perf_counter()
    gas = run_all(txs[setup:])
    return gas, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-py-evm", action="store_true", help="measure this VM only")
    args = parser.parse_args()
    print(banner())
    runners: list[tuple[str, Callable[[Workload], tuple[int, float]]]] = [("brainchain", run_ours)]
    if not args.skip_py_evm:
        runners.append(("py-evm", run_py_evm))
    for workload in workloads():
        results = {name: runner(workload) for name, runner in runners}
        gas_values = {gas for gas, _ in results.values()}
        if len(gas_values) != 1:
            raise SystemExit(f"{workload.name}: gas differs between VMs: {results}")
        figures = "  ".join(
            f"{name} {gas / t / 1e6:6.2f} Mgas/s" for name, (gas, t) in results.items()
        )
        line = f"{workload.name:40s} gas {gas_values.pop():>11,}  {figures}"
        if "py-evm" in results:
            line += f"  ratio {results['py-evm'][1] / results['brainchain'][1]:.1f}x"
        print(line)


if __name__ == "__main__":
    main()
