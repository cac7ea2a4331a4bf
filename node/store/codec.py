"""Stored records that are not consensus objects: receipts lists and transaction locations."""

from __future__ import annotations

from dataclasses import dataclass

from brainchain.encoding import msgpack_canon
from brainchain.types.receipt import Log, Receipt, logs_bloom


@dataclass(frozen=True, slots=True)
class TxLocation:
    """Where a committed transaction sits: its block, that block's height, its index."""

    block_hash: bytes
    height: int
    index: int


def encode_receipts(receipts: tuple[Receipt, ...]) -> bytes:
    """Receipts of one block; blooms are left out and recomputed from the logs on read."""
    return msgpack_canon.pack(
        [
            [
                r.tx_type,
                r.succeeded,
                r.cumulative_gas_used,
                [[log.address, list(log.topics), log.data] for log in r.logs],
                r.gas_used,
                r.effective_gas_price,
                r.contract_address,
            ]
            for r in receipts
        ]
    )


def decode_receipts(data: bytes) -> tuple[Receipt, ...]:
    """Inverse of `encode_receipts` (our own records: trusted, so no field checks)."""
    out = []
    # A block's receipts may hold two arrays per log, far more than a peer's record may.
    records = msgpack_canon.unpack(data, max_arrays=None)
    for tx_type, ok, cumulative, raw_logs, gas_used, price, created in records:
        logs = tuple(Log(a, tuple(t), d) for a, t, d in raw_logs)
        out.append(
            Receipt(tx_type, ok, cumulative, logs_bloom(logs), logs, gas_used, price, created)
        )
    return tuple(out)


def encode_location(location: TxLocation) -> bytes:
    return msgpack_canon.pack([location.block_hash, location.height, location.index])


def decode_location(data: bytes) -> TxLocation:
    block_hash, height, index = msgpack_canon.unpack(data)
    return TxLocation(block_hash, height, index)
