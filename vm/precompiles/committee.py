"""COMMITTEE (0x…0b02): is validator V in the committee for seed S? (DESIGN.md §3, §5 step 2)

    function isMember(address validator, bytes32 seed, bytes proof) external view
        returns (bool member, uint256 weight)

proof is V's ECVRF proof over alpha = seed (RFC 9381 §5.3) under the VRF key registered for V
at genesis. weight is the number of V's stake units that binomial sortition selects with that
output (brainchain/sortition.py: stake w, total stake W, expected committee size k), and member
is weight > 0. The registry (W, k, each validator's key and stake) is this account's storage,
laid out as vm/precompiles/registry.py says and written by genesis (genesis/block.py).

An address that is not a validator, a proof that does not verify, an unknown selector or call
data that does not decode end in a REVERT with a Solidity `Error(string)` reason. Gas
(vm/precompiles/costs.py) is charged before the work it pays for: the registry reads and the
verification first, then the sortition, whose cost depends on the stake just read.
"""

from __future__ import annotations

from brainchain.crypto.address import parse_address, to_checksum_address
from brainchain.crypto.ecvrf import POINT_BYTES
from brainchain.sortition import selected_units
from brainchain.state.state import get_storage
from vm.abi import encode_values
from vm.frame import Evm
from vm.gas import charge_gas
from vm.precompiles.addresses import COMMITTEE_ADDRESS
from vm.precompiles.costs import GAS_COMMITTEE, sortition_gas
from vm.precompiles.errors import call_arguments, revert_with_reason, verify_or_revert
from vm.precompiles.registry import (
    COMMITTEE_SIZE_SLOT,
    TOTAL_STAKE_SLOT,
    member_key_slot,
    member_stake_slot,
)

NAME = "COMMITTEE"
IS_MEMBER = "isMember(address,bytes32,bytes)"


def sortition_weight(
    evm: Evm, name: str, validator: bytes, seed: bytes, proof: bytes, expected_size: int
) -> int:
    """The stake units of `validator` that its VRF proof over `seed` selects for a committee
    of expected weight `expected_size`. The caller has charged GAS_COMMITTEE (the registry
    reads and the verification); the sortition, whose cost depends on the stake read, is
    charged here before it runs.

    Raises:
        OutOfGasError: not enough gas for the sortition.
        Revert: an address that is not a validator, or a proof that does not verify.
    """
    state = evm.env.state
    vrf_key = get_storage(state, COMMITTEE_ADDRESS, member_key_slot(validator))
    if vrf_key == 0:
        revert_with_reason(evm, f"{name}: {to_checksum_address(validator)} is not a validator")
    stake = get_storage(state, COMMITTEE_ADDRESS, member_stake_slot(validator))
    total_stake = get_storage(state, COMMITTEE_ADDRESS, TOTAL_STAKE_SLOT)
    charge_gas(evm, sortition_gas(stake, total_stake, expected_size))
    public_key = vrf_key.to_bytes(POINT_BYTES, "big")
    beta = verify_or_revert(evm, name, public_key, proof, seed)
    return selected_units(beta, stake, total_stake, expected_size)


def committee(evm: Evm) -> None:
    """(member, weight) of a validator for a seed, from its VRF proof and registered stake.

    Raises:
        OutOfGasError: not enough gas for the reads, the verification or the sortition.
        Revert: malformed call data, an address that is not a validator, or a proof that does
            not verify under its registered key.
    """
    # GAS: the registry reads and the verification, before decoding
    charge_gas(evm, GAS_COMMITTEE)
    validator_text, seed, proof = call_arguments(evm, NAME, IS_MEMBER)
    # OPERATION: sortition_weight charges the sortition before it runs
    expected_size = get_storage(evm.env.state, COMMITTEE_ADDRESS, COMMITTEE_SIZE_SLOT)
    weight = sortition_weight(evm, NAME, parse_address(validator_text), seed, proof, expected_size)
    evm.output = encode_values(["bool", "uint256"], [weight > 0, weight])
