"""State and block overrides: parsing geth's JSON (and refusing what geth refuses), applying."""

from __future__ import annotations

from typing import Any

import pytest

from brainchain.crypto.keccak import keccak256
from brainchain.state.account import Account
from brainchain.state.state import (
    State,
    commit_state,
    get_account,
    get_code,
    get_storage,
    set_account,
    set_storage,
)
from node.overrides import (
    BlockOverrides,
    apply_block_overrides,
    apply_state_overrides,
    shift_block_hashes,
)
from node.rpc.errors import INVALID_PARAMS, RpcError
from node.rpc.overrides import parse_block_overrides, parse_state_overrides
from vm.environment import BlockEnvironment

WHO = bytes.fromhex("00000000000000000000000000000000000000aa")
WHO_HEX = "0x" + WHO.hex()


def word(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


def stored_state() -> State:
    """An account with balance 5, nonce 1 and slots {1: 10, 2: 20}, committed."""
    state = State({})
    set_account(state, WHO, Account(1, 5, get_account(state, WHO).storage_root, keccak256(b"")))
    set_storage(state, WHO, 1, 10)
    set_storage(state, WHO, 2, 20)
    commit_state(state)
    return state


def test_state_override_replaces_balance_nonce_code_and_all_storage() -> None:
    overrides = parse_state_overrides(
        {
            WHO_HEX: {
                "balance": "0x64",
                "nonce": "0x7",
                "code": "0x6001",
                "state": {word(2): word(99)},
            }
        }
    )
    assert overrides is not None
    state = stored_state()
    apply_state_overrides(state, overrides)
    account = get_account(state, WHO)
    assert (account.balance, account.nonce) == (100, 7)
    assert get_code(state, account.code_hash) == bytes.fromhex("6001")
    assert get_storage(state, WHO, 1) == 0  # 'state' wipes what it does not name
    assert get_storage(state, WHO, 2) == 99


def test_state_diff_patches_only_the_named_slots() -> None:
    overrides = parse_state_overrides({WHO_HEX: {"stateDiff": {word(2): word(99)}}})
    assert overrides is not None
    state = stored_state()
    apply_state_overrides(state, overrides)
    assert (get_storage(state, WHO, 1), get_storage(state, WHO, 2)) == (10, 99)
    assert get_account(state, WHO).balance == 5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {WHO_HEX: {"state": {}, "stateDiff": {}}},
            "account 0x00000000000000000000000000000000000000AA has both 'state' and 'stateDiff'",
        ),
        ({WHO_HEX: {"balance": "12"}}, "invalid balance"),
        ({WHO_HEX: {"nonce": "0x" + "f" * 17}}, "invalid nonce: wider than 64 bits"),
        ({WHO_HEX: {"code": "0x123"}}, "invalid code"),
        ({WHO_HEX: {"stateDiff": {"0x01": word(1)}}}, "invalid stateDiff slot"),
        ({WHO_HEX: {"stateDiff": {word(1): "0x01"}}}, "invalid stateDiff value"),
        ({WHO_HEX: {"stateDif": {}}}, "unknown field 'stateDif'"),
        ({"0x1234": {}}, "invalid state override address"),
        ({WHO_HEX: []}, "expected an object"),
        ([], "expected an object keyed by address"),
    ],
)
def test_bad_state_overrides_are_invalid_params(value: Any, message: str) -> None:
    with pytest.raises(RpcError) as caught:
        parse_state_overrides(value)
    assert caught.value.code == INVALID_PARAMS
    assert message in caught.value.message


def test_block_overrides_replace_the_environment_fields() -> None:
    env = BlockEnvironment(
        chain_id=1, height=10, timestamp=100, proposer=bytes(20), gas_limit=30_000_000,
        base_fee=7, randomness=bytes(32),
    )  # fmt: skip
    overrides = parse_block_overrides(
        {
            "number": "0x2a",
            "time": "0x3e8",
            "gasLimit": "0x5208",
            "feeRecipient": WHO_HEX,
            "prevRandao": word(5),
            "baseFeePerGas": "0x9",
            "blobBaseFee": "0x3",
        }
    )
    assert overrides is not None
    got = apply_block_overrides(env, overrides)
    assert (got.height, got.timestamp, got.gas_limit, got.proposer) == (42, 1000, 21000, WHO)
    assert (got.randomness, got.base_fee, got.blob_base_fee) == ((5).to_bytes(32, "big"), 9, 3)
    assert got.chain_id == 1
    assert apply_block_overrides(env, BlockOverrides()) == env


@pytest.mark.parametrize(
    "value",
    [{"coinbase": WHO_HEX}, {"prevRandao": "0x01"}, {"time": "0x" + "f" * 17}, {"number": 5}],
)
def test_bad_block_overrides_are_invalid_params(value: Any) -> None:
    with pytest.raises(RpcError) as caught:
        parse_block_overrides(value)
    assert caught.value.code == INVALID_PARAMS


def test_block_hashes_follow_an_overridden_number_as_geth() -> None:
    hashes = [bytes([n]) * 32 for n in range(10)]  # blocks 0..9, for block 10
    assert shift_block_hashes(hashes, 10, 10) == hashes
    assert shift_block_hashes(hashes, 10, 7) == hashes[:7]  # blocks 0..6
    assert shift_block_hashes(hashes, 10, 12) == [*hashes, bytes(32), bytes(32)]
    assert shift_block_hashes(hashes, 10, 0) == []
