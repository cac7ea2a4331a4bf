"""Ethereum transactions as brainchain accepts them: legacy (EIP-155), EIP-2930 and EIP-1559."""

from __future__ import annotations

from dataclasses import dataclass

TX_LEGACY = 0
TX_ACCESS_LIST = 1
TX_FEE_MARKET = 2

AccessList = tuple[tuple[bytes, tuple[bytes, ...]], ...]


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
