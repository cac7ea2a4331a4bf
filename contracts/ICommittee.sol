// SPDX-License-Identifier: MIT
pragma solidity ^0.8.4;

/// @dev Where BRAIN's COMMITTEE precompile lives (DESIGN.md §3).
address constant COMMITTEE_PRECOMPILE = 0x0000000000000000000000000000000000000B02;

/// @title BRAIN's COMMITTEE precompile: stake-weighted VRF sortition (DESIGN.md §5 step 2).
/// @notice Use as `ICommittee(COMMITTEE_PRECOMPILE).isMember(validator, seed, proof)`.
interface ICommittee {
    /// @notice Whether `validator` is in the committee for `seed`, and with how many stake units.
    /// @dev Verifies `proof`, the validator's ECVRF proof (RFC 9381) over alpha = `seed` under
    /// the VRF public key registered for it in genesis, then runs binomial sortition on the
    /// output with its stake, the total stake and the genesis parameter brain.committee_size.
    /// Reverts with a reason for an address that is not a validator or a proof that fails.
    /// Gas: 48,432 plus the sortition's, which grows with the stake and the committee size.
    /// @param validator the validator's account address, as named in genesis
    /// @param seed the committee seed, e.g. keccak(request id || block hash)
    /// @param proof the validator's 80-byte ECVRF proof over `seed`
    /// @return member whether any of its stake units is selected (weight > 0)
    /// @return weight how many of its stake units are selected
    function isMember(address validator, bytes32 seed, bytes calldata proof)
        external
        view
        returns (bool member, uint256 weight);
}
