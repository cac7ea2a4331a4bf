"""Transactions against eth-account: same hashes and senders both ways, for every type."""

from __future__ import annotations

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from brainchain.crypto.address import parse_address, to_checksum_address
from brainchain.crypto.secp256k1 import SECP256K1_N, private_key_to_address, recover_address, sign
from brainchain.encoding import rlp
from brainchain.errors import InvalidSignature, MalformedTransaction, UnsupportedTransactionType
from brainchain.types.transaction import (
    DECODED_CACHE_TX_MAX_BYTES,
    TX_ACCESS_LIST,
    TX_FEE_MARKET,
    TX_LEGACY,
    decode_transaction,
    sign_transaction,
)

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
TO = "0x" + "35" * 20
SLOT = "0x" + "00" * 31 + "07"

ETH_ACCOUNT_TXS = [
    {"nonce": 0, "gasPrice": 2 * 10**9, "gas": 21_000, "to": TO, "value": 1, "chainId": 1337},
    {
        "type": 1,
        "nonce": 1,
        "gasPrice": 10**9,
        "gas": 30_000,
        "to": TO,
        "value": 0,
        "data": "0x1234",
        "chainId": 1337,
        "accessList": [{"address": TO, "storageKeys": [SLOT]}],
    },
    {
        "type": 2,
        "nonce": 2,
        "maxFeePerGas": 3 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "gas": 21_000,
        "to": TO,
        "value": 10**18,
        "chainId": 1337,
    },
]


@pytest.mark.parametrize("fields", ETH_ACCOUNT_TXS, ids=["legacy", "eip2930", "eip1559"])
def test_eth_account_transactions_decode(fields: dict) -> None:
    signed = Account.sign_transaction(fields, KEY)
    raw = bytes(signed.raw_transaction)
    tx = decode_transaction(raw)
    assert tx.hash == bytes(signed.hash)
    assert tx.sender == parse_address(Account.from_key(KEY).address)
    assert tx.nonce == fields["nonce"] and tx.chain_id == 1337
    assert tx.to == parse_address(TO) and tx.value == fields["value"]


@pytest.mark.parametrize("tx_type", [TX_LEGACY, TX_ACCESS_LIST, TX_FEE_MARKET])
def test_our_signatures_are_what_eth_account_recovers(tx_type: int) -> None:
    tx = sign_transaction(
        private_key=KEY,
        tx_type=tx_type,
        chain_id=1337,
        nonce=5,
        gas=50_000,
        to=bytes(20),
        value=3,
        data=b"\x00\x01",
        max_fee_per_gas=7,
        max_priority_fee_per_gas=2,
        access_list=((bytes(20), (bytes(32),)),) if tx_type else (),
    )
    assert Account.recover_transaction(tx.raw) == Account.from_key(KEY).address
    assert decode_transaction(tx.raw) == tx


def test_blob_and_unknown_types_are_refused() -> None:
    with pytest.raises(UnsupportedTransactionType, match="0x3"):
        decode_transaction(b"\x03" + rlp.encode([]))
    with pytest.raises(UnsupportedTransactionType):
        decode_transaction(b"\x7f\xc0")


def test_tampered_signature_is_refused_or_recovers_someone_else() -> None:
    tx = sign_transaction(
        private_key=KEY,
        tx_type=TX_FEE_MARKET,
        chain_id=1,
        nonce=0,
        gas=21_000,
        to=bytes(20),
        value=0,
        max_fee_per_gas=1,
        max_priority_fee_per_gas=1,
    )
    fields = rlp.decode(tx.raw[1:])
    fields[-1] = rlp.encode_uint(SECP256K1_N - 1)  # high s: EIP-2
    with pytest.raises(InvalidSignature):
        decode_transaction(b"\x02" + rlp.encode(fields))
    fields[-1] = rlp.encode_uint(tx.s ^ 1)
    assert decode_transaction(b"\x02" + rlp.encode(fields)).sender != tx.sender


def test_small_transactions_are_decoded_once_large_ones_and_failures_every_time() -> None:
    def signed(data: bytes) -> bytes:
        return sign_transaction(
            private_key=KEY,
            tx_type=TX_FEE_MARKET,
            chain_id=1337,
            nonce=9,
            gas=100_000,
            to=bytes(20),
            value=0,
            data=data,
            max_fee_per_gas=1,
            max_priority_fee_per_gas=1,
        ).raw

    small, large = signed(b"\x01" * 100), signed(b"\x01" * DECODED_CACHE_TX_MAX_BYTES)
    assert decode_transaction(small) is decode_transaction(bytes(small))
    assert decode_transaction(large) == decode_transaction(large)
    assert decode_transaction(large) is not decode_transaction(large)
    bad = b"\x02" + small[2:]  # the list header cut: malformed, each time it is asked
    for _ in range(2):
        with pytest.raises(MalformedTransaction):
            decode_transaction(bad)


@pytest.mark.parametrize("raw", [b"", b"\x80", b"\x02", b"\x02\xc0", b"\xc3\x01\x02\x03"])
def test_malformed_transactions(raw: bytes) -> None:
    with pytest.raises(MalformedTransaction):
        decode_transaction(raw)


# EIP-55's own examples.
EIP55 = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("text", EIP55)
def test_eip55_checksums(text: str) -> None:
    assert to_checksum_address(parse_address(text)) == text
    assert parse_address(text.lower()) == parse_address(text)
    broken = text[:-1] + (text[-1].lower() if text[-1].isupper() else text[-1].upper())
    if broken != text and broken[2:] not in (text[2:].lower(), text[2:].upper()):
        with pytest.raises(ValueError, match="checksum"):
            parse_address(broken)


@pytest.mark.parametrize("text", ["", "0x12", "12" * 20, "0x" + "zz" * 20])
def test_bad_addresses(text: str) -> None:
    with pytest.raises(ValueError, match="invalid address"):
        parse_address(text)


@settings(max_examples=50, deadline=None)
@given(key=st.integers(1, SECP256K1_N - 1), digest=st.binary(min_size=32, max_size=32))
def test_sign_recover_round_trip(key: int, digest: bytes) -> None:
    private = key.to_bytes(32, "big")
    assert recover_address(digest, *sign(digest, private)) == private_key_to_address(private)
