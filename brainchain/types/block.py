"""Block headers and blocks, in canonical msgpack (DESIGN.md §2)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property

from brainchain.crypto.keccak import keccak256
from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError
from brainchain.types.transaction import Transaction, decode_transaction

HASH_BYTES = 32


@dataclass(frozen=True)
class Header:
    """What a block commits to; its hash is keccak-256 of the canonical encoding."""

    chain_id: int
    height: int
    timestamp: int  # seconds since the epoch, as Ethereum tools expect
    parent_hash: bytes
    proposer: bytes  # the proposing validator's account address
    transactions_root: bytes
    state_root: bytes
    receipts_root: bytes
    logs_bloom: bytes
    gas_used: int
    gas_limit: int
    base_fee: int
    last_commit_hash: bytes  # hash of the previous height's commit certificate
    validators_hash: bytes
    randomness: bytes  # PREVRANDAO: the proposer's VRF output (brainchain/randomness.py)
    randomness_proof: bytes  # the proposer's 80-byte ECVRF proof of it (RFC 9381); b"" in block 0
    evidence_hash: bytes  # evidence_root() of the double-sign evidence the block records

    def encode(self) -> bytes:
        """Canonical msgpack: the fields as an array, in declaration order."""
        return msgpack_canon.pack([getattr(self, f.name) for f in fields(self)])

    @cached_property
    def hash(self) -> bytes:
        """keccak-256 of the encoded header."""
        return keccak256(self.encode())


HEADER_FIELDS = tuple(f.name for f in fields(Header))


def decode_header(data: bytes) -> Header:
    """Parse an encoded header.

    Raises:
        DecodingError: not canonical msgpack, or fields of the wrong count or type.
    """
    return _header_from_list(msgpack_canon.unpack(data))


def _header_from_list(values: object) -> Header:
    if not isinstance(values, list) or len(values) != len(HEADER_FIELDS):
        raise DecodingError(f"header must be a list of {len(HEADER_FIELDS)} fields")
    for name, value in zip(HEADER_FIELDS, values, strict=True):
        if not isinstance(value, (int, bytes)) or isinstance(value, bool):
            raise DecodingError(f"header field {name} has type {type(value).__name__}")
    return Header(*values)


def evidence_root(evidence: tuple[bytes, ...]) -> bytes:
    """keccak-256 of the canonical list of encoded evidence: the header's `evidence_hash`."""
    return keccak256(msgpack_canon.pack(list(evidence)))


@dataclass(frozen=True)
class Block:
    """A header, its transactions, the previous height's commit certificate, and evidence."""

    header: Header
    transactions: tuple[Transaction, ...]
    last_commit: bytes = b""
    evidence: tuple[bytes, ...] = ()  # encoded brainchain.types.evidence.DoubleSign

    @property
    def hash(self) -> bytes:
        return self.header.hash

    @property
    def height(self) -> int:
        return self.header.height

    def encode(self) -> bytes:
        """Canonical msgpack [header fields, [raw txs], last commit, [evidence]]."""
        header = [getattr(self.header, name) for name in HEADER_FIELDS]
        txs = [tx.raw for tx in self.transactions]
        return msgpack_canon.pack([header, txs, self.last_commit, list(self.evidence)])


def decode_block(data: bytes) -> Block:
    """Parse an encoded block, decoding and signature-checking every transaction.

    Raises:
        DecodingError: malformed encoding.
        InvalidTransaction: a transaction inside does not decode or verify.
    """
    values = msgpack_canon.unpack(data)
    if not isinstance(values, list) or len(values) != 4:
        raise DecodingError("block must be [header, transactions, last_commit, evidence]")
    header_values, raw_txs, last_commit, evidence = values
    for name, items in (("transactions", raw_txs), ("evidence", evidence)):
        if not isinstance(items, list) or not all(isinstance(item, bytes) for item in items):
            raise DecodingError(f"block {name} must be a list of byte strings")
    if not isinstance(last_commit, bytes):
        raise DecodingError("block last_commit must be bytes")
    header = _header_from_list(header_values)
    txs = tuple(decode_transaction(r) for r in raw_txs)
    return Block(header, txs, last_commit, tuple(evidence))
