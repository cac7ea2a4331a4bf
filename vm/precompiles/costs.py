"""Precompile gas: base and per-word costs (Yellow Paper App. E; EIPs named per constant)."""

from __future__ import annotations

from vm.precompiles.errors import PrecompileFailure

GAS_ECRECOVER = 3_000
GAS_SHA256 = 60
GAS_SHA256_WORD = 12
GAS_RIPEMD160 = 600
GAS_RIPEMD160_WORD = 120
GAS_IDENTITY = 15
GAS_IDENTITY_WORD = 3
GAS_BN254_ADD = 150  # EIP-1108
GAS_BN254_MUL = 6_000  # EIP-1108
GAS_BN254_PAIRING = 45_000  # EIP-1108
GAS_BN254_PAIRING_PER_PAIR = 34_000  # EIP-1108
GAS_BLAKE2_PER_ROUND = 1  # EIP-152
GAS_POINT_EVALUATION = 50_000  # EIP-4844
GAS_MODEXP_MINIMUM = 200  # EIP-2565


def words(size: int) -> int:
    return (size + 31) // 32


def require(gas: int, cost: int) -> int:
    """Check that `gas` covers `cost`; return `cost`.

    Raises:
        PrecompileFailure: out of gas.
    """
    if cost > gas:
        raise PrecompileFailure(f"out of gas: precompile needs {cost}, has {gas}")
    return cost
