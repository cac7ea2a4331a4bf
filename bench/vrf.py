"""ECVRF (RFC 9381, edwards25519 TAI) and sortition throughput on one core, and the gas of the
VRF and COMMITTEE precompiles (DESIGN.md §3) beside the time they take.

Run as `python -m bench.vrf --seed 1 --size 2000`. Everything runs in one thread, so the
figures are per core. Prints figures only; never asserts on time.

Gas is priced at ecrecover's rate (vm/precompiles/costs.py): its 3,000 gas pay for one
ecrecover, so a call's time in ecrecovers times 3,000 is the gas that time is worth. For
comparison, BRAIN's own Solidity VRF (secp256k1) costs about 150,000 gas per fast verification
and 1.6 M gas per full one.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

import nacl.bindings
from coincurve import PrivateKey
from eth_abi import encode

from bench.machine import banner
from brainchain.crypto import ecvrf
from brainchain.crypto.keccak import keccak256
from brainchain.sortition import selected_units
from brainchain.state.state import State
from genesis.block import build_genesis_block
from genesis.format import Genesis, GenesisValidator
from vm.abi import selector
from vm.environment import BlockEnvironment
from vm.frame import Environment, Message, TransactionEnvironment
from vm.gas import GAS_ECRECOVER
from vm.interpreter import process_message
from vm.precompiles.addresses import COMMITTEE_ADDRESS, VRF_ADDRESS
from vm.precompiles.simple import ecrecover

TOTAL_STAKE = 10_000
EXPECTED_SIZE = 20
CALL_GAS = 10_000_000
# Committees for the gas figures: (label, stakes of the validators, k); the first validator calls.
COMMITTEES = (
    ("devnet, 4 validators of stake 100, k=16", (100, 100, 100, 100), 16),
    ("stake 10^17 of 10^18, k=100", (10**17, 9 * 10**17), 100),
    ("stake 10^17 of 10^18, k=1000", (10**17, 9 * 10**17), 1_000),
)


def _rate(label: str, count: int, run: Callable[[], object]) -> None:
    best = float("inf")
    for _ in range(3):  # best of three: the figure least disturbed by other load
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    print(f"{label}: {count / best:,.0f}/s ({best * 1e6 / count:.1f} µs each, best of 3)")


def _best_seconds(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            run()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def _ecrecover_input(rng: random.Random) -> bytes:
    digest = keccak256(rng.randbytes(32))
    signature = PrivateKey(rng.randbytes(32)).sign_recoverable(digest, hasher=None)
    v = (27 + signature[64]).to_bytes(32, "big")
    return digest + v + signature[:64]


def _precompile_call(state: State, address: bytes, data: bytes) -> Callable[[], int]:
    """A call of the precompile at `address` through the interpreter; returns the gas used."""
    block = BlockEnvironment(1337, 1, 0, bytes(20), 30_000_000, 7, bytes(32))
    tx = TransactionEnvironment(bytes(20), 7, CALL_GAS, set(), set())
    env = Environment(state, block, tx, [])

    def call() -> int:
        message = Message(
            bytes(20), address, address, CALL_GAS, 0, data, address, b"", 1, False, True, set(),
            set(),
        )  # fmt: skip
        evm = process_message(message, env)
        if evm.error is not None:
            raise RuntimeError(f"precompile call failed: {evm.error}")
        return CALL_GAS - evm.gas_left

    return call


def _gas_figures(rng: random.Random, repeat: int) -> None:
    """Gas charged per VRF verification and per isMember, beside their measured worth."""
    ecrecover_input = _ecrecover_input(rng)
    per_gas = _best_seconds(lambda: ecrecover(ecrecover_input, GAS_ECRECOVER), 20 * repeat)
    per_gas /= GAS_ECRECOVER
    print(f"ecrecover: {per_gas * GAS_ECRECOVER * 1e6:.1f} µs for {GAS_ECRECOVER} gas")

    def report(label: str, call: Callable[[], int]) -> None:
        gas = call()
        seconds = _best_seconds(call, repeat)
        print(
            f"{label}: {gas:,} gas charged; {seconds * 1e6:.0f} µs, worth {seconds / per_gas:,.0f}"
            " gas at ecrecover's rate"
        )

    keys = [rng.randbytes(ecvrf.SECRET_KEY_BYTES) for _ in range(4)]
    seed = keccak256(rng.randbytes(32))
    proof = ecvrf.prove(keys[0], seed)
    data = selector("verify(bytes32,bytes,bytes)") + encode(
        ["bytes32", "bytes", "bytes"], [ecvrf.public_key(keys[0]), seed, proof]
    )
    report("VRF.verify, 32-byte alpha", _precompile_call(State({}), VRF_ADDRESS, data))
    for label, stakes, k in COMMITTEES:
        validators = tuple(
            GenesisValidator(f"v{i}", bytes([i + 1]) * 20, bytes(32), ecvrf.public_key(sk), stake)
            for i, (sk, stake) in enumerate(zip(keys, stakes, strict=False))
        )
        state = State({})
        build_genesis_block(
            Genesis(1337, 0, 30_000_000, 7, validators, (), {"committee_size": k}), state
        )
        data = selector("isMember(address,bytes32,bytes)") + encode(
            ["address", "bytes32", "bytes"], [validators[0].address, seed, proof]
        )
        report(f"COMMITTEE.isMember ({label})", _precompile_call(state, COMMITTEE_ADDRESS, data))
    print(
        "BRAIN's Solidity secp256k1 VRF, for comparison: ~150,000 gas per fast verification,"
        " ~1,600,000 per full verification"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=2_000, help="proofs per timed pass")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    print(banner(f"one thread used; libsodium via pynacl {nacl.__version__}"))
    keys = [rng.randbytes(ecvrf.SECRET_KEY_BYTES) for _ in range(args.size)]
    public = [ecvrf.public_key(sk) for sk in keys]
    alphas = [rng.randbytes(32) for _ in range(args.size)]
    proofs = [ecvrf.prove(sk, alpha) for sk, alpha in zip(keys, alphas, strict=True)]
    outputs = [ecvrf.proof_to_hash(pi) for pi in proofs]
    stakes = [rng.randint(1, 2 * TOTAL_STAKE // 100) for _ in range(args.size)]
    items = list(zip(keys, public, alphas, proofs, outputs, stakes, strict=True))

    _rate("prove", len(items), lambda: [ecvrf.prove(sk, a) for sk, _, a, *_ in items])
    _rate("verify", len(items), lambda: [ecvrf.verify(pk, pi, a) for _, pk, a, pi, *_ in items])
    _rate("proof_to_hash", len(items), lambda: [ecvrf.proof_to_hash(pi) for pi in proofs])
    _rate(
        f"selected_units (stake <= {2 * TOTAL_STAKE // 100} of {TOTAL_STAKE}, k={EXPECTED_SIZE})",
        len(items),
        lambda: [
            selected_units(beta, stake, TOTAL_STAKE, EXPECTED_SIZE) for *_, beta, stake in items
        ],
    )
    point = public[0]
    _rate(
        "libsodium point addition, for scale",
        len(items),
        lambda: [nacl.bindings.crypto_core_ed25519_add(point, point) for _ in items],
    )
    _gas_figures(rng, max(1, args.size // 20))


if __name__ == "__main__":
    main()
