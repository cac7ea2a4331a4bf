"""BRAIN's VRF (0x…0b01) and COMMITTEE (0x…0b02) precompiles, the validator registry genesis
writes for COMMITTEE, and the genesis parameters behind it."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode, encode

from brainchain.crypto import ecvrf
from brainchain.crypto.keccak import keccak256
from brainchain.errors import ExecutionReverted
from brainchain.sortition import verify_selection
from brainchain.state.account import Account
from brainchain.state.state import (
    State,
    get_account,
    get_storage,
    set_account,
    set_code,
    set_storage,
)
from genesis.block import build_genesis_block
from genesis.format import (
    Genesis,
    GenesisError,
    GenesisValidator,
    genesis_to_json,
    parse_genesis,
)
from tests.vm.harness import CONTRACT, SENDER, send
from vm.abi import selector
from vm.precompiles.addresses import (
    COMMITTEE_ADDRESS,
    FL_REGISTRY_ADDRESS,
    INFERENCE_ADDRESS,
    INFERENCE_SYNC_ADDRESS,
    VRF_ADDRESS,
)
from vm.precompiles.costs import (
    GAS_COMMITTEE,
    GAS_VRF_ALPHA_WORD,
    GAS_VRF_VERIFY,
    sortition_gas,
    words,
)
from vm.precompiles.mapping import BRAIN_PRECOMPILES, PRECOMPILES
from vm.precompiles.registry import (
    COMMITTEE_SIZE_SLOT,
    TOTAL_STAKE_SLOT,
    member_key_slot,
    member_stake_slot,
)

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "rfc9381-ecvrf.json"
VERIFY = selector("verify(bytes32,bytes,bytes)")
IS_MEMBER = selector("isMember(address,bytes32,bytes)")
RNG = random.Random(9381)
VRF_KEYS = [RNG.randbytes(32) for _ in range(3)]
VALIDATORS = tuple(
    GenesisValidator(f"v{i}", bytes([0x10 + i]) * 20, bytes(32), ecvrf.public_key(sk), stake)
    for i, (sk, stake) in enumerate(zip(VRF_KEYS, (100, 200, 300), strict=True))
)
K = 16
GENESIS = Genesis(
    chain_id=1337,
    timestamp=0,
    gas_limit=30_000_000,
    base_fee=7,
    validators=VALIDATORS,
    alloc=((SENDER, 10**20),),
    brain={"committee_size": K},
)
TOTAL = 600
# A caller contract: STATICCALL the address in its storage slot 0 with the whole call data and all gas; store the success flag in slot 1; return the return
# data (the answer or the revert reason) as it came.
#   CALLDATASIZE 0 0 CALLDATACOPY | 0 0 CALLDATASIZE 0 SLOAD(0) GAS STATICCALL | 1 SSTORE
#   RETURNDATASIZE 0 0 RETURNDATACOPY | RETURNDATASIZE 0 RETURN
CALLER_CODE = bytes.fromhex("366000600037600060003660006000545afa6001553d600060003e3d6000f3")


def rfc_vector() -> dict[str, Any]:
    vectors = json.loads(VECTORS.read_text(encoding="utf-8"))
    return next(v for v in vectors if v["suite_string"] == "03")


def chain_state() -> State:
    state = State({})
    build_genesis_block(GENESIS, state)
    return state


def verify_call(public_key: bytes, alpha: bytes, proof: bytes) -> bytes:
    return VERIFY + encode(["bytes32", "bytes", "bytes"], [public_key, alpha, proof])


def is_member_call(validator: bytes, seed: bytes, proof: bytes) -> bytes:
    return IS_MEMBER + encode(["address", "bytes32", "bytes"], [validator, seed, proof])


def reason(output: bytes) -> str:
    text = ExecutionReverted(output).reason()
    assert text is not None, output.hex()
    return text


def intrinsic(data: bytes) -> int:
    return 21_000 + sum(16 if b else 4 for b in data)


def tampered(proof: bytes) -> bytes:
    return proof[:-1] + bytes([proof[-1] ^ 1])


# --- VRF ------------------------------------------------------------------------------------


def test_vrf_returns_beta_of_the_rfc_vector_and_charges_its_price() -> None:
    v = rfc_vector()
    pk, pi, alpha = bytes.fromhex(v["pk"]), bytes.fromhex(v["pi"]), bytes.fromhex(v["alpha"])
    data = verify_call(pk, alpha, pi)
    result = send(chain_state(), to=VRF_ADDRESS, data=data)
    assert result.error is None and result.receipt.succeeded
    assert decode(["bytes"], result.output) == (bytes.fromhex(v["beta"]),)
    assert result.receipt.gas_used == intrinsic(data) + GAS_VRF_VERIFY


def test_vrf_charges_alpha_by_the_word() -> None:
    sk = VRF_KEYS[0]
    alpha = bytes(range(100))
    data = verify_call(ecvrf.public_key(sk), alpha, ecvrf.prove(sk, alpha))
    result = send(chain_state(), to=VRF_ADDRESS, data=data)
    assert result.receipt.succeeded
    assert decode(["bytes"], result.output) == (ecvrf.proof_to_hash(ecvrf.prove(sk, alpha)),)
    expected = GAS_VRF_VERIFY + GAS_VRF_ALPHA_WORD * words(len(alpha))
    assert result.receipt.gas_used == intrinsic(data) + expected


@pytest.mark.parametrize(
    ("public_key", "proof", "why"),
    [
        (None, "tampered", "VRF: invalid proof: challenge does not match"),
        (None, "short", "VRF: invalid proof: 79 bytes, want 80"),
        (None, "other key", "VRF: invalid proof: challenge does not match"),
        (bytes(32), "valid", "VRF: invalid public key: point of small order"),
        (b"\xff" * 32, "valid", "VRF: invalid public key: not the canonical encoding"),
    ],
)
def test_vrf_reverts_with_a_reason_and_keeps_the_gas(
    public_key: bytes | None, proof: str, why: str
) -> None:
    sk, alpha = VRF_KEYS[0], b"seed"
    pi = ecvrf.prove(sk, alpha)
    proofs = {
        "valid": pi,
        "tampered": tampered(pi),
        "short": pi[:-1],
        "other key": ecvrf.prove(VRF_KEYS[1], alpha),
    }
    data = verify_call(public_key or ecvrf.public_key(sk), alpha, proofs[proof])
    result = send(chain_state(), to=VRF_ADDRESS, data=data, gas=200_000)
    assert not result.receipt.succeeded
    assert reason(result.output).startswith(why)
    assert result.receipt.gas_used == intrinsic(data) + GAS_VRF_VERIFY + GAS_VRF_ALPHA_WORD


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "VRF: call data does not match verify(bytes32,bytes,bytes)"),
        (b"\x12\x34\x56\x78" + bytes(96), "VRF: unknown function selector 0x12345678"),
        (VERIFY + bytes(40), "VRF: call data does not match verify(bytes32,bytes,bytes)"),
    ],
)
def test_vrf_reverts_on_call_data_it_cannot_decode(data: bytes, why: str) -> None:
    result = send(chain_state(), to=VRF_ADDRESS, data=data, gas=200_000)
    assert not result.receipt.succeeded and reason(result.output) == why
    assert result.receipt.gas_used == intrinsic(data) + GAS_VRF_VERIFY


def test_vrf_without_enough_gas_halts_and_burns_it() -> None:
    sk, alpha = VRF_KEYS[0], b"seed"
    data = verify_call(ecvrf.public_key(sk), alpha, ecvrf.prove(sk, alpha))
    gas = intrinsic(data) + GAS_VRF_VERIFY - 1
    result = send(chain_state(), to=VRF_ADDRESS, data=data, gas=gas)
    assert not result.receipt.succeeded and result.output == b""
    assert result.receipt.gas_used == gas


def test_a_contract_sees_beta_or_the_revert_reason() -> None:
    sk, alpha = VRF_KEYS[2], b"from a contract"
    pi = ecvrf.prove(sk, alpha)
    state = chain_state()
    set_account(state, SENDER, Account(balance=10**20))
    set_account(state, CONTRACT, Account(nonce=1))
    set_code(state, CONTRACT, CALLER_CODE)
    set_storage(state, CONTRACT, 0, int.from_bytes(VRF_ADDRESS, "big"))

    ok = send(state, data=verify_call(ecvrf.public_key(sk), alpha, pi))
    assert ok.receipt.succeeded and get_storage(state, CONTRACT, 1) == 1
    assert decode(["bytes"], ok.output) == (ecvrf.proof_to_hash(pi),)

    bad = send(state, data=verify_call(ecvrf.public_key(sk), alpha, tampered(pi)), nonce=1)
    assert bad.receipt.succeeded and get_storage(state, CONTRACT, 1) == 0
    assert reason(bad.output).startswith("VRF: invalid proof")


# --- COMMITTEE ------------------------------------------------------------------------------


def test_genesis_writes_the_registry_into_the_committee_account() -> None:
    state = chain_state()
    assert get_account(state, COMMITTEE_ADDRESS).nonce == 1  # never empty (EIP-161)
    assert get_storage(state, COMMITTEE_ADDRESS, TOTAL_STAKE_SLOT) == TOTAL
    assert get_storage(state, COMMITTEE_ADDRESS, COMMITTEE_SIZE_SLOT) == K
    for v in VALIDATORS:
        key = get_storage(state, COMMITTEE_ADDRESS, member_key_slot(v.address))
        assert key.to_bytes(32, "big") == v.vrf_pubkey
        assert get_storage(state, COMMITTEE_ADDRESS, member_stake_slot(v.address)) == v.stake
    # Solidity's layout of mapping(address => Member) at slot 2
    address = VALIDATORS[0].address
    slot = keccak256(address.rjust(32, b"\0") + (2).to_bytes(32, "big"))
    assert member_key_slot(address) == int.from_bytes(slot, "big")


@pytest.mark.parametrize("index", range(len(VALIDATORS)))
def test_is_member_matches_sortition_and_charges_before_work(index: int) -> None:
    validator, sk = VALIDATORS[index], VRF_KEYS[index]
    for n in range(4):
        seed = keccak256(b"request %d" % n)
        pi = ecvrf.prove(sk, seed)
        data = is_member_call(validator.address, seed, pi)
        result = send(chain_state(), to=COMMITTEE_ADDRESS, data=data)
        assert result.receipt.succeeded, result.output
        weight = verify_selection(validator.vrf_pubkey, pi, seed, validator.stake, TOTAL, K)
        assert decode(["bool", "uint256"], result.output) == (weight > 0, weight)
        charged = GAS_COMMITTEE + sortition_gas(validator.stake, TOTAL, K)
        assert result.receipt.gas_used == intrinsic(data) + charged


def test_is_member_weight_follows_stake() -> None:
    """Over many seeds the mean weight is about k·w/W (Algorand SOSP 2017 §5)."""
    totals = [0] * len(VALIDATORS)
    seeds = [keccak256(b"mean %d" % n) for n in range(40)]
    state = chain_state()
    for i, (validator, sk) in enumerate(zip(VALIDATORS, VRF_KEYS, strict=True)):
        for nonce, seed in enumerate(seeds, start=40 * i):
            data = is_member_call(validator.address, seed, ecvrf.prove(sk, seed))
            result = send(state, to=COMMITTEE_ADDRESS, data=data, nonce=nonce)
            totals[i] += decode(["bool", "uint256"], result.output)[1]
    means = [t / len(seeds) for t in totals]
    for mean, v in zip(means, VALIDATORS, strict=True):
        expected = K * v.stake / TOTAL
        assert abs(mean - expected) < 0.5 * expected + 1, (means, v.stake)


def test_is_member_reverts_for_strangers_and_bad_proofs() -> None:
    validator, sk = VALIDATORS[0], VRF_KEYS[0]
    seed = keccak256(b"seed")
    pi = ecvrf.prove(sk, seed)
    cases = {
        bytes([0x99]) * 20: (pi, "COMMITTEE: 0x9999999999999999999999999999999999999999 is not"),
        validator.address: (tampered(pi), "COMMITTEE: invalid proof: challenge does not match"),
        VALIDATORS[1].address: (pi, "COMMITTEE: invalid proof: challenge does not match"),
    }
    for address, (proof, why) in cases.items():
        result = send(
            chain_state(), to=COMMITTEE_ADDRESS, data=is_member_call(address, seed, proof)
        )
        assert not result.receipt.succeeded and reason(result.output).startswith(why)
        assert result.receipt.gas_used < 200_000


def test_registry_survives_calls_that_touch_it() -> None:
    """A successful call touches the account; with nonce 0 it would be empty and deleted."""
    state = chain_state()
    validator, sk = VALIDATORS[0], VRF_KEYS[0]
    seed = keccak256(b"touch")
    data = is_member_call(validator.address, seed, ecvrf.prove(sk, seed))
    assert send(state, to=COMMITTEE_ADDRESS, data=data).receipt.succeeded
    assert get_account(state, COMMITTEE_ADDRESS).nonce == 1
    assert get_storage(state, COMMITTEE_ADDRESS, TOTAL_STAKE_SLOT) == TOTAL


def test_brain_precompiles_sit_beside_the_standard_ones() -> None:
    assert set(BRAIN_PRECOMPILES) == {
        VRF_ADDRESS,
        COMMITTEE_ADDRESS,
        INFERENCE_ADDRESS,
        FL_REGISTRY_ADDRESS,
        INFERENCE_SYNC_ADDRESS,
    }
    assert not set(BRAIN_PRECOMPILES) & set(PRECOMPILES)
    assert int.from_bytes(VRF_ADDRESS, "big") == 0x0B01
    assert int.from_bytes(COMMITTEE_ADDRESS, "big") == 0x0B02
    assert int.from_bytes(INFERENCE_ADDRESS, "big") == 0x0B03
    assert int.from_bytes(FL_REGISTRY_ADDRESS, "big") == 0x0B04
    assert int.from_bytes(INFERENCE_SYNC_ADDRESS, "big") == 0x0B05


def test_sortition_gas_grows_with_stake_and_committee_size() -> None:
    assert sortition_gas(100, 100, 100) == 0  # k >= W: every unit selected, no arithmetic
    assert sortition_gas(100, 600, 16) < sortition_gas(300, 600, 16)
    assert sortition_gas(10**6, 10**7, 16) < sortition_gas(10**6, 10**7, 1024)


# --- genesis parameters ---------------------------------------------------------------------


def genesis_doc(**brain: object) -> dict[str, Any]:
    return genesis_to_json(replace(GENESIS, brain=dict(brain)))


def test_committee_size_defaults_and_round_trips() -> None:
    parsed = parse_genesis(genesis_doc())
    assert parsed.committee_size == 16 and parsed.total_stake == TOTAL
    explicit = parse_genesis(genesis_doc(committee_size="0x20"))
    assert explicit.committee_size == 32 and explicit.brain == {"committee_size": 32}
    assert parse_genesis(genesis_to_json(explicit)) == explicit
    small = replace(GENESIS, validators=(replace(VALIDATORS[0], stake=1),), brain={})
    assert small.committee_size == 1
    assert replace(small, validators=(replace(VALIDATORS[0], stake=9),)).committee_size == 4


@pytest.mark.parametrize(
    ("brain", "why"),
    [
        ({"committee_size": 0}, "brain.committee_size: must be positive"),
        ({"committee_size": 301}, "more than half the total stake 600"),
        ({"committee_size": "many"}, "brain.committee_size: 'many' is not an integer"),
        ({"committee_size": True}, "brain.committee_size: expected an integer"),
    ],
)
def test_committee_size_is_validated(brain: dict[str, object], why: str) -> None:
    with pytest.raises(GenesisError, match=why):
        parse_genesis(genesis_doc(**brain))


def test_genesis_refuses_unusable_vrf_keys_and_stakes() -> None:
    doc = genesis_doc()
    doc["validators"][1]["vrf_pubkey"] = "00" * 32
    with pytest.raises(GenesisError, match=r"validators\[1\].vrf_pubkey: not a usable VRF"):
        parse_genesis(doc)
    doc = genesis_doc()
    for v in doc["validators"]:
        v["stake"] = 0
    with pytest.raises(GenesisError, match="total stake must be positive"):
        parse_genesis(doc)
    doc["validators"][0]["stake"] = 2**64
    with pytest.raises(GenesisError, match=r"validators\[0\].stake: .* does not fit in 64 bits"):
        parse_genesis(doc)


def test_bench_smoke() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.vrf", "--seed", "1", "--size", "4"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "VRF.verify, 32-byte alpha: 40,032 gas charged" in result.stdout
