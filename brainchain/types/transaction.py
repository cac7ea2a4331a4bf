"""Ethereum transactions as brainchain accepts them: legacy (EIP-155), EIP-2930 and EIP-1559."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from brainchain.crypto.keccak import keccak256
from brainchain.crypto.secp256k1 import private_key_to_address, recover_address, sign
from brainchain.encoding import rlp
from brainchain.errors import (
    DecodingError,
    InitCodeTooLarge,
    IntrinsicGasTooLow,
    InvalidSignature,
    MalformedTransaction,
    NonceOverflow,
    TipAboveFeeCap,
    UnsupportedTransactionType,
)

TX_LEGACY = 0
TX_ACCESS_LIST = 1
TX_FEE_MARKET = 2

AccessList = tuple[tuple[bytes, tuple[bytes, ...]], ...]

# Decoded transactions remembered, by their encoding: a validator meets each transaction when
# it arrives (RPC or a peer), again in the proposed block, and again if it syncs that block;
# decoding recovers the sender (about 35 µs of the ~60 µs), so the repeats cost as much as
# the first. More entries than a full mempool (brainchain/mempool/pool.py DEFAULT_MAX_SIZE)
# and the blocks in flight, so a transaction met in a block is still remembered; only small
# ones (transfers, most calls), so the memory stays bounded: 27 MB full of transfers, under
# 100 MB at worst.
DECODED_CACHE_SIZE = 32_768
DECODED_CACHE_TX_MAX_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Transaction:
    """A decoded, signature-checked transaction; `raw` is its network encoding."""

    tx_type: int
    chain_id: int | None  # None only for a pre-EIP-155 legacy transaction
    nonce: int
    max_priority_fee_per_gas: int  # legacy and EIP-2930: the gas price
    max_fee_per_gas: int  # legacy and EIP-2930: the gas price
    gas: int
    to: bytes | None  # None: contract creation
    value: int
    data: bytes
    access_list: AccessList
    v: int  # legacy: the raw v (27/28 or chain_id*2+35/36); typed: the y parity
    r: int
    s: int
    sender: bytes
    hash: bytes
    raw: bytes

    @property
    def gas_price(self) -> int:
        """The legacy gas price (for EIP-1559 transactions, the fee cap)."""
        return self.max_fee_per_gas


# --- gas (Yellow Paper App. G; EIP-2028, EIP-2930, EIP-3860) ------------------------------

TX_BASE_COST = 21_000
TX_CREATE_COST = 32_000
TX_DATA_COST_PER_ZERO = 4
TX_DATA_COST_PER_NON_ZERO = 16
TX_ACCESS_LIST_ADDRESS_COST = 2_400
TX_ACCESS_LIST_STORAGE_KEY_COST = 1_900
INIT_CODE_WORD_COST = 2  # EIP-3860, per word; vm/gas.py takes it for CREATE and CREATE2
MAX_CODE_SIZE = 0x6000  # EIP-170
MAX_INIT_CODE_SIZE = 2 * MAX_CODE_SIZE  # EIP-3860
MAX_NONCE = 2**64 - 1  # EIP-2681: a nonce must stay below this
MAX_GAS = 2**64 - 1
UINT256_CEILING = 2**256

# Legacy v: 27/28 before EIP-155, chain_id * 2 + 35/36 after it.
V_PRE_EIP155 = 27
V_EIP155_OFFSET = 35

LEGACY_FIELDS = 9
ACCESS_LIST_FIELDS = 11
FEE_MARKET_FIELDS = 12
BLOB_TX_TYPE = 3
ADDRESS_BYTES = 20
STORAGE_KEY_BYTES = 32


def _uint(item: rlp.Item, name: str, bits: int = 256) -> int:
    if not isinstance(item, bytes):
        raise MalformedTransaction(f"{name}: expected an integer, got a list")
    try:
        return rlp.decode_uint(item, bits)
    except DecodingError as exc:
        raise MalformedTransaction(f"{name}: {exc}") from None


def _bytes(item: rlp.Item, name: str) -> bytes:
    if not isinstance(item, bytes):
        raise MalformedTransaction(f"{name}: expected a byte string, got a list")
    return item


def _to(item: rlp.Item) -> bytes | None:
    to = _bytes(item, "to")
    if to == b"":
        return None
    if len(to) != ADDRESS_BYTES:
        raise MalformedTransaction(f"to: expected {ADDRESS_BYTES} bytes, got {len(to)}")
    return to


def _access_list(item: rlp.Item) -> AccessList:
    if not isinstance(item, list):
        raise MalformedTransaction("accessList: expected a list")
    entries: list[tuple[bytes, tuple[bytes, ...]]] = []
    for entry in item:
        if not isinstance(entry, list) or len(entry) != 2:
            raise MalformedTransaction("accessList entry: expected [address, [storage keys]]")
        address, keys = entry
        if not isinstance(address, bytes) or len(address) != ADDRESS_BYTES:
            raise MalformedTransaction("accessList address: expected 20 bytes")
        slots = tuple(k for k in keys if isinstance(k, bytes) and len(k) == STORAGE_KEY_BYTES)
        if not isinstance(keys, list) or len(slots) != len(keys):
            raise MalformedTransaction("accessList storage keys: expected 32-byte strings")
        entries.append((address, slots))
    return tuple(entries)


def _encode_access_list(access_list: AccessList) -> rlp.Item:
    return [[address, list(keys)] for address, keys in access_list]


def _payload(tx_type: int, fields: list[rlp.Item]) -> bytes:
    body = rlp.encode(fields)
    return body if tx_type == TX_LEGACY else bytes((tx_type,)) + body


def _unsigned_fields(
    tx_type: int,
    chain_id: int | None,
    nonce: int,
    max_priority_fee_per_gas: int,
    max_fee_per_gas: int,
    gas: int,
    to: bytes | None,
    value: int,
    data: bytes,
    access_list: AccessList,
) -> list[rlp.Item]:
    """The fields a signature covers, in each type's order (EIP-155, EIP-2930, EIP-1559)."""
    u = rlp.encode_uint
    to_item = b"" if to is None else to
    if tx_type == TX_LEGACY:
        fields: list[rlp.Item] = [u(nonce), u(max_fee_per_gas), u(gas), to_item, u(value), data]
        return fields if chain_id is None else [*fields, u(chain_id), b"", b""]
    assert chain_id is not None, "typed transactions always carry a chain id"
    if tx_type == TX_ACCESS_LIST:
        fees: list[rlp.Item] = [u(max_fee_per_gas)]
    else:
        fees = [u(max_priority_fee_per_gas), u(max_fee_per_gas)]
    return [
        u(chain_id),
        u(nonce),
        *fees,
        u(gas),
        to_item,
        u(value),
        data,
        _encode_access_list(access_list),
    ]


def _signing_hash(tx_type: int, fields: list[rlp.Item]) -> bytes:
    return keccak256(_payload(tx_type, fields))


def decode_transaction(raw: bytes) -> Transaction:
    """Decode a network-encoded transaction and recover its sender (a small one is remembered:
    the result is immutable and depends on `raw` alone; what raises is not remembered).

    Raises:
        MalformedTransaction: not canonical RLP, wrong field count or shape.
        UnsupportedTransactionType: a blob (EIP-4844) or unknown typed transaction.
        InvalidSignature: r, s or v out of range, or no key recovers.
    """
    if len(raw) <= DECODED_CACHE_TX_MAX_BYTES:
        return _decode_remembered(raw)
    return _decode(raw)


@functools.lru_cache(maxsize=DECODED_CACHE_SIZE)
def _decode_remembered(raw: bytes) -> Transaction:
    return _decode(raw)


def _decode(raw: bytes) -> Transaction:
    if not raw:
        raise MalformedTransaction("empty transaction")
    first = raw[0]
    if first >= rlp.SHORT_LIST:
        tx_type, body = TX_LEGACY, raw
    elif first in (TX_ACCESS_LIST, TX_FEE_MARKET):
        tx_type, body = first, raw[1:]
    elif first < rlp.SHORT_STRING:
        raise UnsupportedTransactionType(first)
    else:
        raise MalformedTransaction("transaction is an RLP string, not a list")
    try:
        item = rlp.decode(body)
    except DecodingError as exc:
        raise MalformedTransaction(f"malformed RLP: {exc}") from None
    if not isinstance(item, list):
        raise MalformedTransaction("transaction is an RLP string, not a list")
    if tx_type == TX_LEGACY:
        return _decode_legacy(item, raw)
    return _decode_typed(tx_type, item, raw)


def _decode_legacy(item: list[rlp.Item], raw: bytes) -> Transaction:
    if len(item) != LEGACY_FIELDS:
        raise MalformedTransaction(f"legacy transaction has {len(item)} fields, expected 9")
    nonce = _uint(item[0], "nonce")
    gas_price = _uint(item[1], "gasPrice")
    gas = _uint(item[2], "gas")
    to = _to(item[3])
    value = _uint(item[4], "value")
    data = _bytes(item[5], "data")
    v = _uint(item[6], "v")
    r = _uint(item[7], "r")
    s = _uint(item[8], "s")
    if v in (V_PRE_EIP155, V_PRE_EIP155 + 1):
        chain_id, parity = None, v - V_PRE_EIP155
    elif v >= V_EIP155_OFFSET:
        chain_id, parity = (v - V_EIP155_OFFSET) // 2, (v - V_EIP155_OFFSET) % 2
    else:
        raise InvalidSignature(f"legacy v must be 27, 28 or chain_id * 2 + 35/36, got {v}")
    unsigned = _unsigned_fields(
        TX_LEGACY, chain_id, nonce, gas_price, gas_price, gas, to, value, data, ()
    )
    sender = recover_address(_signing_hash(TX_LEGACY, unsigned), parity, r, s)
    return Transaction(
        TX_LEGACY,
        chain_id,
        nonce,
        gas_price,
        gas_price,
        gas,
        to,
        value,
        data,
        (),
        v,
        r,
        s,
        sender,
        keccak256(raw),
        raw,
    )


def _decode_typed(tx_type: int, item: list[rlp.Item], raw: bytes) -> Transaction:
    expected = ACCESS_LIST_FIELDS if tx_type == TX_ACCESS_LIST else FEE_MARKET_FIELDS
    if len(item) != expected:
        raise MalformedTransaction(
            f"type {tx_type} transaction has {len(item)} fields, expected {expected}"
        )
    chain_id = _uint(item[0], "chainId")
    nonce = _uint(item[1], "nonce")
    if tx_type == TX_ACCESS_LIST:
        tip = fee_cap = _uint(item[2], "gasPrice")
        rest = item[3:]
    else:
        tip = _uint(item[2], "maxPriorityFeePerGas")
        fee_cap = _uint(item[3], "maxFeePerGas")
        rest = item[4:]
    gas = _uint(rest[0], "gas")
    to = _to(rest[1])
    value = _uint(rest[2], "value")
    data = _bytes(rest[3], "data")
    access_list = _access_list(rest[4])
    parity = _uint(rest[5], "yParity")
    r = _uint(rest[6], "r")
    s = _uint(rest[7], "s")
    unsigned = _unsigned_fields(
        tx_type, chain_id, nonce, tip, fee_cap, gas, to, value, data, access_list
    )
    sender = recover_address(_signing_hash(tx_type, unsigned), parity, r, s)
    return Transaction(
        tx_type,
        chain_id,
        nonce,
        tip,
        fee_cap,
        gas,
        to,
        value,
        data,
        access_list,
        parity,
        r,
        s,
        sender,
        keccak256(raw),
        raw,
    )


def sign_transaction(
    *,
    private_key: bytes,
    tx_type: int,
    chain_id: int | None,
    nonce: int,
    gas: int,
    to: bytes | None,
    value: int,
    data: bytes = b"",
    max_fee_per_gas: int,
    max_priority_fee_per_gas: int,
    access_list: AccessList = (),
) -> Transaction:
    """Sign a transaction; for legacy and EIP-2930 `max_fee_per_gas` is the gas price.

    Raises:
        ValueError: a typed transaction without a chain id, or an unknown type.
    """
    if tx_type not in (TX_LEGACY, TX_ACCESS_LIST, TX_FEE_MARKET):
        raise ValueError(f"cannot sign transaction type {tx_type}")
    if tx_type != TX_LEGACY and chain_id is None:
        raise ValueError("typed transactions need a chain id")
    if tx_type != TX_FEE_MARKET:
        max_priority_fee_per_gas = max_fee_per_gas
    unsigned = _unsigned_fields(
        tx_type,
        chain_id,
        nonce,
        max_priority_fee_per_gas,
        max_fee_per_gas,
        gas,
        to,
        value,
        data,
        access_list,
    )
    parity, r, s = sign(_signing_hash(tx_type, unsigned), private_key)
    u = rlp.encode_uint
    if tx_type == TX_LEGACY:
        v = V_PRE_EIP155 + parity if chain_id is None else chain_id * 2 + V_EIP155_OFFSET + parity
        raw = rlp.encode([*unsigned[:6], u(v), u(r), u(s)])
    else:
        v = parity
        raw = _payload(tx_type, [*unsigned, u(v), u(r), u(s)])
    sender = private_key_to_address(private_key)
    return Transaction(
        tx_type,
        chain_id,
        nonce,
        max_priority_fee_per_gas,
        max_fee_per_gas,
        gas,
        to,
        value,
        data,
        tuple(access_list),
        v,
        r,
        s,
        sender,
        keccak256(raw),
        raw,
    )


def intrinsic_gas(tx: Transaction) -> int:
    """Gas charged before execution (spec: cancun/fork.py calculate_intrinsic_cost)."""
    data = tx.data
    zeros = data.count(0)
    cost = TX_BASE_COST + zeros * TX_DATA_COST_PER_ZERO
    cost += (len(data) - zeros) * TX_DATA_COST_PER_NON_ZERO
    if tx.to is None:
        cost += TX_CREATE_COST + INIT_CODE_WORD_COST * ((len(data) + 31) // 32)
    for _, keys in tx.access_list:
        cost += TX_ACCESS_LIST_ADDRESS_COST + TX_ACCESS_LIST_STORAGE_KEY_COST * len(keys)
    return cost


def validate_transaction(tx: Transaction) -> None:
    """The stateless validity rules (spec: cancun/transactions.py validate_transaction).

    Raises:
        IntrinsicGasTooLow, InitCodeTooLarge, NonceOverflow, TipAboveFeeCap,
        MalformedTransaction: the first rule the transaction breaks.
    """
    if tx.gas > MAX_GAS:
        raise MalformedTransaction(f"gas limit {tx.gas} does not fit in 64 bits")
    intrinsic = intrinsic_gas(tx)
    if intrinsic > tx.gas:
        raise IntrinsicGasTooLow(tx.gas, intrinsic)
    if tx.nonce >= MAX_NONCE:
        raise NonceOverflow(f"nonce {tx.nonce} must be below 2**64-1 (EIP-2681)")
    if tx.to is None and len(tx.data) > MAX_INIT_CODE_SIZE:
        raise InitCodeTooLarge(len(tx.data), MAX_INIT_CODE_SIZE)
    if tx.max_priority_fee_per_gas > tx.max_fee_per_gas:
        raise TipAboveFeeCap(tx.max_priority_fee_per_gas, tx.max_fee_per_gas)
    if tx.gas * tx.max_fee_per_gas >= UINT256_CEILING:
        raise MalformedTransaction("gas limit × fee cap overflows 256 bits")


def priority_fee_per_gas(tx: Transaction, base_fee: int) -> int:
    """What the proposer earns per gas: min(tip, fee cap − base fee) (EIP-1559)."""
    return min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee)


def effective_gas_price(tx: Transaction, base_fee: int) -> int:
    """Price per gas the sender pays: base fee plus the priority fee (EIP-1559)."""
    return base_fee + priority_fee_per_gas(tx, base_fee)
