"""Fee arithmetic that orders the mempool: priority fee, replacement bump, upfront cost."""

from __future__ import annotations

from brainchain.types.transaction import Transaction

PERCENT = 100


def priority_fee_at(tx: Transaction, base_fee: int) -> int:
    """Tip per gas the proposer earns from `tx` at `base_fee` (EIP-1559 effective priority fee).

    For legacy and EIP-2930 transactions both fee fields hold the gas price, so this is
    `gas_price - base_fee`. Negative when the fee cap is below the base fee: such a transaction
    cannot be included and sorts below every includable one.
    """
    return min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee)


def upfront_cost(tx: Transaction) -> int:
    """Most wei `tx` can take from its sender: gas limit × fee cap + value (Yellow Paper eq. 63)."""
    return tx.gas * tx.max_fee_per_gas + tx.value


def pays_replacement_bump(old: Transaction, new: Transaction, bump_percent: int) -> bool:
    """Whether `new` may replace `old` (same sender and nonce).

    Both the fee cap and the tip must rise, each by at least `bump_percent` percent, as geth's
    legacypool `list.Add` requires; integer arithmetic, no rounding.
    """
    bump = PERCENT + bump_percent
    return (
        new.max_fee_per_gas > old.max_fee_per_gas
        and new.max_priority_fee_per_gas > old.max_priority_fee_per_gas
        and new.max_fee_per_gas * PERCENT >= old.max_fee_per_gas * bump
        and new.max_priority_fee_per_gas * PERCENT >= old.max_priority_fee_per_gas * bump
    )
