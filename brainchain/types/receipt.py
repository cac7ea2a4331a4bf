"""Transaction receipts and logs, encoded as Ethereum encodes them for the receipts root."""

from __future__ import annotations

from dataclasses import dataclass

from brainchain.crypto.keccak import keccak256
from brainchain.encoding import rlp
from brainchain.types.transaction import TX_LEGACY

BLOOM_BYTES = 256


@dataclass(frozen=True, slots=True)
class Log:
    """One LOG0..LOG4 record: emitting address, up to four 32-byte topics, data."""

    address: bytes
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True, slots=True)
class Receipt:
    """The outcome of one transaction in a block.

    The first four fields are what Ethereum commits to in the receipts root (EIP-658 status,
    EIP-2718 typed envelope); the rest are derived facts the RPC reports.
    """

    tx_type: int
    succeeded: bool
    cumulative_gas_used: int
    logs_bloom: bytes
    logs: tuple[Log, ...]
    gas_used: int
    effective_gas_price: int
    contract_address: bytes | None = None


def encode_log(log: Log) -> rlp.Item:
    """The RLP list [address, [topics...], data] (Yellow Paper eq. 29)."""
    return [log.address, list(log.topics), log.data]


def encode_receipt(receipt: Receipt) -> bytes:
    """The consensus encoding: RLP [status, cumulative gas, bloom, logs], type-prefixed if typed."""
    body = rlp.encode(
        [
            b"\x01" if receipt.succeeded else b"",
            rlp.encode_uint(receipt.cumulative_gas_used),
            receipt.logs_bloom,
            [encode_log(log) for log in receipt.logs],
        ]
    )
    return body if receipt.tx_type == TX_LEGACY else bytes((receipt.tx_type,)) + body


def logs_hash(logs: tuple[Log, ...] | list[Log]) -> bytes:
    """keccak256 of the RLP list of logs, as the state-test fixtures state it."""
    return keccak256(rlp.encode([encode_log(log) for log in logs]))


def _bloom_bits(item: bytes) -> tuple[int, int, int]:
    digest = keccak256(item)
    return tuple(  # type: ignore[return-value]
        ((digest[i] << 8) | digest[i + 1]) & 2047 for i in (0, 2, 4)
    )


def logs_bloom(logs: tuple[Log, ...] | list[Log]) -> bytes:
    """The 2048-bit bloom filter over log addresses and topics (Yellow Paper eq. 26-28)."""
    bloom = 0
    for log in logs:
        for item in (log.address, *log.topics):
            for bit in _bloom_bits(item):
                bloom |= 1 << bit
    return bloom.to_bytes(BLOOM_BYTES, "big")


def combine_blooms(blooms: list[bytes]) -> bytes:
    """Bitwise OR of blooms: a block's bloom from its receipts' blooms."""
    acc = 0
    for bloom in blooms:
        acc |= int.from_bytes(bloom, "big")
    return acc.to_bytes(BLOOM_BYTES, "big")


EMPTY_BLOOM = bytes(BLOOM_BYTES)
