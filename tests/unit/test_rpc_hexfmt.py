"""Ethereum JSON shapes: hex quantities/data both ways and transaction objects as geth writes them."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account

from brainchain.types.transaction import decode_transaction
from node.rpc.errors import INVALID_PARAMS, InvalidParams
from node.rpc.hexfmt import (
    data,
    format_transaction,
    parse_address_param,
    parse_data,
    parse_quantity,
    quantity,
)
from node.store.codec import TxLocation

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
SENDER = Account.from_key(KEY).address
TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
GWEI = 10**9


def _tx(**fields: Any) -> Any:
    base = {"nonce": 3, "gas": 21_000, "to": TO, "value": 5, "chainId": 1337}
    base.update(fields)
    return decode_transaction(bytes(Account.sign_transaction(base, KEY).raw_transaction))


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0x0"), (1, "0x1"), (255, "0xff"), (1024, "0x400"), (2**256 - 1, "0x" + "f" * 64)],
)
def test_quantity_has_no_leading_zeros(value: int, text: str) -> None:
    assert quantity(value) == text
    assert parse_quantity(text, "q") == value


def test_data_keeps_every_byte() -> None:
    assert data(b"") == "0x"
    assert data(b"\x00\x01") == "0x0001"
    assert parse_data("0x0001", "d") == b"\x00\x01"
    assert parse_data("0X", "d") == b""


@pytest.mark.parametrize("bad", ["", "0x", "12", 12, None, "0xzz", "0x" + "1" * 65, [], {}])
def test_bad_quantities_are_invalid_params(bad: Any) -> None:
    with pytest.raises(InvalidParams) as caught:
        parse_quantity(bad, "block number")
    assert caught.value.code == INVALID_PARAMS and "block number" in caught.value.message


@pytest.mark.parametrize("bad", ["0x123", "abcd", 7, None, "0xgg"])
def test_bad_data_is_invalid_params(bad: Any) -> None:
    with pytest.raises(InvalidParams):
        parse_data(bad, "input")


def test_data_of_a_fixed_size() -> None:
    assert parse_data("0x" + "ab" * 32, "hash", 32) == b"\xab" * 32
    with pytest.raises(InvalidParams, match="expected 32 bytes"):
        parse_data("0x" + "ab" * 31, "hash", 32)


def test_addresses_accept_lowercase_and_checksummed_only() -> None:
    assert parse_address_param(SENDER) == parse_address_param(SENDER.lower())
    with pytest.raises(InvalidParams):
        parse_address_param(SENDER[:2] + SENDER[2:].swapcase())  # wrong EIP-55 checksum
    with pytest.raises(InvalidParams):
        parse_address_param("0x1234")
    with pytest.raises(InvalidParams):
        parse_address_param(1234)


def test_legacy_transaction_shows_eip155_v_and_no_fee_market_fields() -> None:
    tx = _tx(gasPrice=7 * GWEI)
    out = format_transaction(tx, None, None)
    assert out["type"] == "0x0" and out["chainId"] == "0x539"
    assert int(out["v"], 16) in (1337 * 2 + 35, 1337 * 2 + 36)  # EIP-155
    assert out["gasPrice"] == hex(7 * GWEI)
    assert "maxFeePerGas" not in out and "accessList" not in out and "yParity" not in out
    assert out["blockHash"] is None and out["blockNumber"] is None
    assert out["transactionIndex"] is None
    assert out["from"] == SENDER and out["to"] == TO and out["nonce"] == "0x3"


def test_access_list_transaction_lists_its_keys() -> None:
    key = "0x" + "00" * 31 + "01"
    tx = _tx(type=1, gasPrice=GWEI, accessList=[{"address": TO, "storageKeys": [key]}])
    out = format_transaction(tx, None, None)
    assert out["type"] == "0x1" and out["gasPrice"] == hex(GWEI)
    assert out["accessList"] == [{"address": TO, "storageKeys": [key]}]
    assert out["yParity"] == out["v"] and out["v"] in ("0x0", "0x1")


def test_fee_market_gas_price_is_the_cap_when_pending_and_effective_once_mined() -> None:
    tx = _tx(type=2, maxFeePerGas=10 * GWEI, maxPriorityFeePerGas=2 * GWEI)
    assert format_transaction(tx, None, None)["gasPrice"] == hex(10 * GWEI)
    where = TxLocation(b"\x11" * 32, 9, 4)
    mined = format_transaction(tx, where, 3 * GWEI)
    assert mined["gasPrice"] == hex(5 * GWEI)  # base fee + tip
    assert format_transaction(tx, where, 9 * GWEI)["gasPrice"] == hex(10 * GWEI)  # capped
    assert mined["blockHash"] == "0x" + "11" * 32
    assert mined["blockNumber"] == "0x9" and mined["transactionIndex"] == "0x4"
    assert mined["maxFeePerGas"] == hex(10 * GWEI)
    assert mined["maxPriorityFeePerGas"] == hex(2 * GWEI)
