"""The only tables from precompile address to implementation.

The standard precompiles are pure functions of their input: (data, gas) -> (gas used, output).
BRAIN's (DESIGN.md §3) read the chain's state and answer in the Solidity ABI, so they take the
frame as an opcode does, as the spec's precompiles all do: they charge its gas, set its output,
and stop it with an exceptional halt or a revert.

spec: cancun/vm/precompiled_contracts/mapping.py
"""

from __future__ import annotations

from collections.abc import Callable

from vm.frame import Evm
from vm.precompiles.addresses import (
    ALT_BN128_ADD_ADDRESS,
    ALT_BN128_MUL_ADDRESS,
    ALT_BN128_PAIRING_CHECK_ADDRESS,
    BLAKE2F_ADDRESS,
    COMMITTEE_ADDRESS,
    ECRECOVER_ADDRESS,
    FL_REGISTRY_ADDRESS,
    IDENTITY_ADDRESS,
    INFERENCE_ADDRESS,
    INFERENCE_SYNC_ADDRESS,
    MODEXP_ADDRESS,
    POINT_EVALUATION_ADDRESS,
    RIPEMD160_ADDRESS,
    SHA256_ADDRESS,
    VRF_ADDRESS,
)
from vm.precompiles.blake2f import blake2f
from vm.precompiles.bn254 import bn254_add, bn254_mul, bn254_pairing
from vm.precompiles.committee import committee
from vm.precompiles.fl_registry import fl_registry
from vm.precompiles.inference import inference
from vm.precompiles.inference_sync import inference_sync
from vm.precompiles.modexp import modexp
from vm.precompiles.point_evaluation import point_evaluation
from vm.precompiles.simple import ecrecover, identity, ripemd160, sha256
from vm.precompiles.vrf import vrf

Precompile = Callable[[bytes, int], tuple[int, bytes]]
BrainPrecompile = Callable[[Evm], None]

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

BRAIN_PRECOMPILES: dict[bytes, BrainPrecompile] = {
    VRF_ADDRESS: vrf,
    COMMITTEE_ADDRESS: committee,
    INFERENCE_ADDRESS: inference,
    FL_REGISTRY_ADDRESS: fl_registry,
    INFERENCE_SYNC_ADDRESS: inference_sync,
}
