"""The only table from precompile address to implementation.

spec: cancun/vm/precompiled_contracts/mapping.py
"""

from __future__ import annotations

from collections.abc import Callable

from vm.precompiles.addresses import (
    ALT_BN128_ADD_ADDRESS,
    ALT_BN128_MUL_ADDRESS,
    ALT_BN128_PAIRING_CHECK_ADDRESS,
    BLAKE2F_ADDRESS,
    ECRECOVER_ADDRESS,
    IDENTITY_ADDRESS,
    MODEXP_ADDRESS,
    POINT_EVALUATION_ADDRESS,
    RIPEMD160_ADDRESS,
    SHA256_ADDRESS,
)
from vm.precompiles.blake2f import blake2f
from vm.precompiles.bn254 import bn254_add, bn254_mul, bn254_pairing
from vm.precompiles.modexp import modexp
from vm.precompiles.point_evaluation import point_evaluation
from vm.precompiles.simple import ecrecover, identity, ripemd160, sha256

Precompile = Callable[[bytes, int], tuple[int, bytes]]

PRECOMPILES: dict[bytes, Precompile] = {
    ECRECOVER_ADDRESS: ecrecover,
    SHA256_ADDRESS: sha256,
    RIPEMD160_ADDRESS: ripemd160,
    IDENTITY_ADDRESS: identity,
    MODEXP_ADDRESS: modexp,
    ALT_BN128_ADD_ADDRESS: bn254_add,
    ALT_BN128_MUL_ADDRESS: bn254_mul,
    ALT_BN128_PAIRING_CHECK_ADDRESS: bn254_pairing,
    BLAKE2F_ADDRESS: blake2f,
    POINT_EVALUATION_ADDRESS: point_evaluation,
}
