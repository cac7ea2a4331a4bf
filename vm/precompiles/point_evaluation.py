"""POINT EVALUATION (0x0a, EIP-4844): unsupported, because this chain carries no blobs.

Without blob transactions there is no versioned hash a proof could open, so the precompile
answers every call as a failed verification would: an exceptional halt that burns the gas.
"""

from __future__ import annotations

from vm.gas import GAS_POINT_EVALUATION
from vm.precompiles.costs import require
from vm.precompiles.errors import PrecompileFailure


def point_evaluation(data: bytes, gas: int) -> tuple[int, bytes]:
    require(gas, GAS_POINT_EVALUATION)
    raise PrecompileFailure("KZG point evaluation is not supported: this chain has no blobs")
