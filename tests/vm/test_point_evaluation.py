"""KZG point evaluation (0x0a, EIP-4844) against c-kzg-4844's own verify_kzg_proof vectors.

The vectors are c-kzg-4844 v2.1.8's tests/verify_kzg_proof/kzg-mainnet/*/data.yaml (the same
ones the state tests' point_evaluation_precompile_external_vectors.json calls through 0x0a),
named by their case directories; the versioned hash is built here from the commitment.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator

import ckzg
import pytest

from tests.vm.harness import fresh_state, send
from vm.precompiles import point_evaluation as module
from vm.precompiles.addresses import POINT_EVALUATION_ADDRESS
from vm.precompiles.errors import PrecompileFailure
from vm.precompiles.point_evaluation import point_evaluation

GAS = 50_000
BLS_MODULUS = 52435875175126190479447740508185965837690552500527637822603658699938581184513
# What every successful call returns: FIELD_ELEMENTS_PER_BLOB, then BLS_MODULUS, as words.
OUTPUT = (4096).to_bytes(32, "big") + BLS_MODULUS.to_bytes(32, "big")

# verify_kzg_proof_case_correct_proof_3_2 (output: true)
COMMITMENT = bytes.fromhex(
    "b49d88afcd7f6c61a8ea69eff5f609d2432b47e7e4cd50b02cdddb4e0c1460517e8df02e4e64dc55e3d8ca192d57193a"
)
Z = bytes.fromhex("0000000000000000000000000000000000000000000000000000000000000002")
Y = bytes.fromhex("6a75e4fe63e5e148c853462a680c3e3ccedea34719d28f19bf1b35ae4eea37d6")
PROOF = bytes.fromhex(
    "a38758fca85407078c0a7e5fd6d38b34340c809baa0e1fed9deaabb11aa503062acbbe23fcbe620a21b40a83bfa71b89"
)
# verify_kzg_proof_case_incorrect_proof_3_2 (output: false): a G1 point, not the opening.
WRONG_PROOF = bytes.fromhex(
    "861a2aef7aa82db033bfa125b9f756afecaf1db28384925d5007bcf7dff1a53b72bdf522610303075aeecab41685d720"
)
# verify_kzg_proof_case_invalid_proof_2 (output: null): 48 bytes that are no point of G1.
NOT_A_POINT = bytes.fromhex(
    "8123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)
# The point at infinity (compressed): verify_kzg_proof_case_correct_proof_point_at_infinity_for_
# zero_poly_0 opens the zero polynomial's commitment with it, at z = 0 to y = 0.
INFINITY = bytes.fromhex("c0" + "00" * 47)


def versioned_hash(commitment: bytes) -> bytes:
    return b"\x01" + hashlib.sha256(commitment).digest()[1:]


def call_data(
    commitment: bytes = COMMITMENT,
    z: bytes = Z,
    y: bytes = Y,
    proof: bytes = PROOF,
    hashed: bytes | None = None,
) -> bytes:
    return (versioned_hash(commitment) if hashed is None else hashed) + z + y + commitment + proof


def test_valid_proofs_return_the_two_words_for_50000_gas() -> None:
    assert point_evaluation(call_data(), GAS) == (GAS, OUTPUT)
    assert point_evaluation(call_data(), 10**6) == (GAS, OUTPUT)
    zero = call_data(INFINITY, bytes(32), bytes(32), INFINITY)
    assert point_evaluation(zero, GAS) == (GAS, OUTPUT)


def test_out_of_gas() -> None:
    with pytest.raises(PrecompileFailure, match="out of gas"):
        point_evaluation(call_data(), GAS - 1)


@pytest.mark.parametrize("size", [0, 191, 193, 256])
def test_wrong_length(size: int) -> None:
    data = call_data()[:size].ljust(size, b"\x00")
    with pytest.raises(PrecompileFailure, match="192 bytes"):
        point_evaluation(data, GAS)


@pytest.mark.parametrize(
    "hashed",
    [
        b"\x00" + versioned_hash(COMMITMENT)[1:],  # version 0, not VERSIONED_HASH_VERSION_KZG
        hashlib.sha256(COMMITMENT).digest(),  # the bare hash
        versioned_hash(COMMITMENT)[:-1] + bytes([versioned_hash(COMMITMENT)[-1] ^ 1]),
        versioned_hash(INFINITY),  # another commitment's
    ],
)
def test_wrong_versioned_hash(hashed: bytes) -> None:
    with pytest.raises(PrecompileFailure, match="versioned hash"):
        point_evaluation(call_data(hashed=hashed), GAS)


@pytest.mark.parametrize(
    "value",
    [BLS_MODULUS, BLS_MODULUS + 1, BLS_MODULUS + 2, 2**256 - 1],  # c-kzg's invalid_z/y cases
)
@pytest.mark.parametrize("field", ["z", "y"])
def test_non_canonical_z_or_y(field: str, value: int) -> None:
    word = value.to_bytes(32, "big")
    data = call_data(z=word) if field == "z" else call_data(y=word)
    with pytest.raises(PrecompileFailure, match=f"{field} is not a field element"):
        point_evaluation(data, GAS)


def test_z_plus_the_modulus_is_refused_though_it_names_the_same_point() -> None:
    aliased = (int.from_bytes(Z, "big") + BLS_MODULUS).to_bytes(32, "big")
    with pytest.raises(PrecompileFailure, match="z is not a field element"):
        point_evaluation(call_data(z=aliased), GAS)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (call_data(proof=WRONG_PROOF), "does not verify"),
        (call_data(y=(int.from_bytes(Y, "big") + 1).to_bytes(32, "big")), "does not verify"),
        (call_data(z=(3).to_bytes(32, "big")), "does not verify"),
        (call_data(proof=INFINITY), "does not verify"),
        (call_data(proof=NOT_A_POINT), "does not decode"),
        (call_data(commitment=NOT_A_POINT), "does not decode"),
        (call_data(proof=bytes(48)), "does not decode"),  # no compression flag
    ],
)
def test_bad_proofs(data: bytes, reason: str) -> None:
    with pytest.raises(PrecompileFailure, match=reason):
        point_evaluation(data, GAS)


def test_a_transaction_to_0x0a_gets_the_words_or_burns_its_gas() -> None:
    state = fresh_state()
    ok = send(state, to=POINT_EVALUATION_ADDRESS, data=call_data(), gas=200_000)
    assert ok.receipt.succeeded and ok.output == OUTPUT
    bad = send(
        state, to=POINT_EVALUATION_ADDRESS, data=call_data(proof=WRONG_PROOF), gas=200_000, nonce=1
    )
    assert not bad.receipt.succeeded and bad.receipt.gas_used == 200_000
    assert ok.receipt.gas_used < 200_000 - GAS


@pytest.fixture
def unloaded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The module as before its first call; yields the paths ckzg is asked to load."""
    loads: list[str] = []
    real = ckzg.load_trusted_setup

    def counting(path: str, precompute: int) -> object:
        loads.append(path)
        return real(path, precompute)

    monkeypatch.setattr(module, "_setup", None)
    monkeypatch.setattr(ckzg, "load_trusted_setup", counting)
    yield loads


def test_the_setup_loads_once_for_concurrent_first_calls(unloaded: list[str]) -> None:
    barrier = threading.Barrier(8)
    results: list[tuple[int, bytes]] = []

    def first_call() -> None:
        barrier.wait()
        results.append(point_evaluation(call_data(), GAS))

    threads = [threading.Thread(target=first_call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [(GAS, OUTPUT)] * 8
    assert len(unloaded) == 1 and unloaded[0].endswith("kzg_trusted_setup.txt")


def test_a_setup_that_is_not_mainnet_stops_the_node_not_the_call(
    unloaded: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module, "TRUSTED_SETUP_SHA256", "00" * 32)
    with pytest.raises(RuntimeError, match="not the mainnet KZG setup"):
        point_evaluation(call_data(), GAS)
    assert unloaded == [] and module._setup is None
