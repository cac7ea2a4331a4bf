"""VRF (0x…0b01): verify an ECVRF proof and return the VRF output (DESIGN.md §3).

    function verify(bytes32 publicKey, bytes alpha, bytes proof) external view
        returns (bytes beta)

ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381 §5, suite 0x03): publicKey is the 32-byte RFC 8032
encoding, proof the 80-byte pi = Gamma ‖ c ‖ s, and beta the 64-byte SHA-512 output (§5.2).
Verification validates the key (§5.4.5), so small-order keys are refused.

A key or proof that fails, an unknown selector or call data that does not decode end in a
REVERT with a Solidity `Error(string)` reason ("VRF: invalid proof: …"): the caller keeps its
unused gas and sees why. Gas (vm/precompiles/costs.py) is charged before any work: the
verification first, then alpha's words once its length is known.
"""

from __future__ import annotations

from vm.abi import encode_values
from vm.frame import Evm
from vm.gas import charge_gas
from vm.precompiles.costs import GAS_VRF_ALPHA_WORD, GAS_VRF_VERIFY, words
from vm.precompiles.errors import call_arguments, verify_or_revert

NAME = "VRF"
VERIFY = "verify(bytes32,bytes,bytes)"


def vrf(evm: Evm) -> None:
    """The 64-byte ECVRF output for alpha under publicKey, if proof proves it (RFC 9381 §5.3).

    Raises:
        OutOfGasError: not enough gas for the verification.
        Revert: malformed call data, an invalid public key or a proof that does not verify.
    """
    # GAS: the verification, before decoding
    charge_gas(evm, GAS_VRF_VERIFY)
    public_key, alpha, proof = call_arguments(evm, NAME, VERIFY)
    # GAS: alpha's words, once its length is known
    charge_gas(evm, GAS_VRF_ALPHA_WORD * words(len(alpha)))
    # OPERATION
    evm.output = encode_values(["bytes"], [verify_or_revert(evm, NAME, public_key, proof, alpha)])
