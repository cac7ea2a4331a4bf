// SPDX-License-Identifier: MIT
pragma solidity ^0.8.4;

/// @dev Where BRAIN's VRF precompile lives (DESIGN.md §3).
address constant VRF_PRECOMPILE = 0x0000000000000000000000000000000000000B01;

/// @title BRAIN's VRF precompile: ECVRF-EDWARDS25519-SHA512-TAI verification (RFC 9381 §5.3).
/// @notice Use as `IVrf(VRF_PRECOMPILE).verify(publicKey, alpha, proof)`.
interface IVrf {
    /// @notice The VRF output for `alpha` under `publicKey`, if `proof` proves it.
    /// @dev Reverts with a reason ("VRF: invalid proof: ...", "VRF: invalid public key: ...")
    /// when the key or the proof fails; small-order keys are refused (RFC 9381 §5.4.5).
    /// Gas: 40,000 plus 32 per 32-byte word of alpha.
    /// @param publicKey the 32-byte RFC 8032 encoding of the public key
    /// @param alpha the VRF input, any length
    /// @param proof the 80-byte proof pi = Gamma || c || s
    /// @return beta the 64-byte VRF output (RFC 9381 §5.2)
    function verify(bytes32 publicKey, bytes calldata alpha, bytes calldata proof)
        external
        view
        returns (bytes memory beta);
}
