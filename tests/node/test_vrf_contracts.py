"""The VRF and COMMITTEE precompiles called from a Vyper contract deployed on a real node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_abi import decode, encode

from brainchain.crypto import ecvrf
from brainchain.crypto.keccak import keccak256
from brainchain.sortition import verify_selection
from genesis.format import load_genesis
from node.cli.client import ClientError
from node.config import load_keys
from tests.node.contracts_kit import Wallet, deploy, selector
from tests.node.harness import NodeProcess

VERIFY = "(bytes32,bytes,bytes)"
IS_MEMBER = "(address,bytes32,bytes)"


def call_data(function: str, types: str, *args: object) -> bytes:
    return selector(function + types) + encode(types[1:-1].split(","), list(args))


@pytest.fixture
def wallet(node: NodeProcess) -> Wallet:
    return Wallet(node.client())


def test_vrf_verify_from_a_contract(wallet: Wallet, node_home: Path) -> None:
    user = deploy(wallet, "VrfUser.vy")
    secret = load_keys(node_home / "keys.json").vrf_key
    public_key, alpha = ecvrf.public_key(secret), b"brainchain request 1"
    proof = ecvrf.prove(secret, alpha)
    beta = ecvrf.proof_to_hash(proof)
    bad = proof[:-1] + bytes([proof[-1] ^ 1])

    answer = wallet.call(user, call_data("verify", VERIFY, public_key, alpha, proof))
    assert decode(["bytes"], answer) == (beta,)
    assert wallet.call(user, call_data("tryVerify", VERIFY, public_key, alpha, proof))[-1] == 1
    with pytest.raises(ClientError, match=r"execution reverted: VRF: invalid proof: challenge"):
        wallet.call(user, call_data("verify", VERIFY, public_key, alpha, bad))
    assert wallet.call(user, call_data("tryVerify", VERIFY, public_key, alpha, bad))[-1] == 0

    recorded = wallet.send(to=user, data=call_data("record", VERIFY, public_key, alpha, proof))
    assert recorded["status"] == "0x1", recorded
    assert decode(["bytes"], wallet.call(user, selector("lastBeta()"))) == (beta,)
    (log,) = recorded["logs"]
    assert decode(["bytes"], bytes.fromhex(log["data"][2:])) == (beta,)

    failed = wallet.send(to=user, data=call_data("record", VERIFY, public_key, alpha, bad))
    assert failed["status"] == "0x0" and failed["logs"] == []
    assert int(failed["gasUsed"], 16) < 1_000_000  # a revert keeps the unused gas
    assert decode(["bytes"], wallet.call(user, selector("lastBeta()"))) == (beta,)


def test_committee_membership_of_the_nodes_own_validator(wallet: Wallet, node_home: Path) -> None:
    user = deploy(wallet, "VrfUser.vy")
    keys = load_keys(node_home / "keys.json")
    genesis = load_genesis(node_home / "genesis.json")
    (validator,) = genesis.validators
    assert validator.vrf_pubkey == ecvrf.public_key(keys.vrf_key)
    seed = keccak256(b"request id" + bytes(32))
    proof = ecvrf.prove(keys.vrf_key, seed)
    weight = verify_selection(
        validator.vrf_pubkey,
        proof,
        seed,
        validator.stake,
        genesis.total_stake,
        genesis.committee_size,
    )
    assert weight > 0  # Binomial(100, 16/100) is 0 with probability 3e-8

    args = (keys.address, seed, proof)
    answer = wallet.call(user, call_data("isMember", IS_MEMBER, *args))
    assert decode(["bool", "uint256"], answer) == (True, weight)
    receipt = wallet.send(to=user, data=call_data("recordMembership", IS_MEMBER, *args))
    assert receipt["status"] == "0x1", receipt
    assert decode(["uint256"], wallet.call(user, selector("lastWeight()"))) == (weight,)

    other_seed = keccak256(b"another request")
    with pytest.raises(ClientError, match="execution reverted: COMMITTEE: invalid proof"):
        wallet.call(user, call_data("isMember", IS_MEMBER, keys.address, other_seed, proof))
    stranger = "0x" + "99" * 20
    with pytest.raises(ClientError, match="is not a validator"):
        wallet.call(user, call_data("isMember", IS_MEMBER, stranger, seed, proof))
    failed = wallet.send(
        to=user, data=call_data("recordMembership", IS_MEMBER, keys.address, other_seed, proof)
    )
    assert failed["status"] == "0x0"


def test_the_devnet_genesis_names_the_committee_size(node_home: Path) -> None:
    doc = json.loads((node_home / "genesis.json").read_text(encoding="utf-8"))
    assert doc["brain"]["committee_size"] == 16
    assert doc["brain"]["inference"]["committee_size"] == 32
    assert [m["id"] for m in doc["brain"]["models"]] == ["tiny-gptj", "tiny-gpt2", "gptj-bench"]
