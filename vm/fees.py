"""EIP-1559 fee market: the base fee of the next block."""

from __future__ import annotations

BASE_FEE_MAX_CHANGE_DENOMINATOR = 8
ELASTICITY_MULTIPLIER = 2


def calculate_base_fee(parent_gas_limit: int, parent_gas_used: int, parent_base_fee: int) -> int:
    """The base fee after a parent block (EIP-1559).

    spec: cancun/fork.py calculate_base_fee_per_gas
    """
    target = parent_gas_limit // ELASTICITY_MULTIPLIER
    if target == 0 or parent_gas_used == target:
        return parent_base_fee
    if parent_gas_used > target:
        delta = max(
            parent_base_fee
            * (parent_gas_used - target)
            // target
            // BASE_FEE_MAX_CHANGE_DENOMINATOR,
            1,
        )
        return parent_base_fee + delta
    delta = (
        parent_base_fee * (target - parent_gas_used) // target // BASE_FEE_MAX_CHANGE_DENOMINATOR
    )
    return parent_base_fee - delta
