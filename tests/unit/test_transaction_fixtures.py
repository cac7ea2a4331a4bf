"""ethereum/tests TransactionTests: every vector with a Cancun result, accepted or rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from brainchain.errors import BrainchainError, WrongChainId
from brainchain.types.transaction import decode_transaction, intrinsic_gas, validate_transaction
from tests.fixtures import ETHEREUM_TESTS, fixture_files, load

FILES = fixture_files("TransactionTests")
FIXTURE_CHAIN_ID = 1  # the fixtures are filled for mainnet, where pre-EIP-155 is also valid


def check(raw: bytes):  # type: ignore[no-untyped-def]
    """Decode and validate as a mainnet node would."""
    tx = decode_transaction(raw)
    if tx.chain_id not in (None, FIXTURE_CHAIN_ID):
        raise WrongChainId(FIXTURE_CHAIN_ID, tx.chain_id)
    validate_transaction(tx)
    return tx


def _cases() -> list[tuple[str, str, dict]]:
    cases = []
    for path in FILES:
        for name, case in load(path).items():
            if "Cancun" in case.get("result", {}):
                rel = path.relative_to(ETHEREUM_TESTS / "TransactionTests")
                cases.append((f"{rel}:{name}", case["txbytes"], case["result"]["Cancun"]))
    return cases


CASES = _cases()


def test_fixture_set_is_complete() -> None:
    assert len(CASES) >= 149  # every vector with a Cancun result in the pinned fixtures


@pytest.mark.parametrize(("raw_hex", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_transaction_vector(raw_hex: str, expected: dict) -> None:
    raw = bytes.fromhex(raw_hex.removeprefix("0x"))
    if "exception" in expected:
        with pytest.raises(BrainchainError):
            check(raw)
        return
    tx = check(raw)
    assert "0x" + tx.hash.hex() == expected["hash"]
    assert "0x" + tx.sender.hex() == expected["sender"].lower()
    assert intrinsic_gas(tx) == int(expected["intrinsicGas"], 16)


def test_paths_are_outside_the_repo() -> None:
    repo = Path(__file__).resolve().parents[2]
    assert not ETHEREUM_TESTS.is_relative_to(repo)
