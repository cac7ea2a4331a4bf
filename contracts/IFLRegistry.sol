// SPDX-License-Identifier: MIT
pragma solidity ^0.8.4;

/// @dev Where BRAIN's FL_REGISTRY precompile lives (DESIGN.md §3, §6).
address constant FL_REGISTRY_PRECOMPILE = 0x0000000000000000000000000000000000000b04;

/// @title BRAIN's FL_REGISTRY precompile: asynchronous, aggregator-free federated learning.
/// @notice Scores, thresholds, fractions and alpha are integers in millionths (1000000 = 1.0).
/// A trainer proposes the keccak of a weights blob trained from a recent version; a committee
/// drawn by VRF sortition (stake units, expected weight k) commits to
/// keccak(bytes32(score) || member || salt) with its 80-byte ECVRF proof over
/// keccak("brainchain/fl" || proposal || hash of the proposal's block), then reveals once
/// commits close (INFERENCE's commit and reveal windows). At the end of the deadline block the
/// proposal expires without quorum (revealed weight at most k/2), else the weighted median of
/// the revealed scores is compared with the threshold; an accepted proposal becomes the next
/// version, mixed as global = (1 - alpha) * global + alpha * local off chain, alpha half the mean
/// of the last `window` accepted scores. Each commit locks INFERENCE's penalty in the member's
/// bond until the deadline; a member that never reveals loses it. That block-end step emits no
/// event: read getProposal once
/// the deadline block (FlProposed) is committed. Members that revealed then attest the hash of
/// the global weights they computed. Refusals revert with an `Error(string)` reason.
interface IFLRegistry {
    event FlTaskCreated(uint256 indexed task, address indexed creator, bytes32 model,
        bytes32 initialWeights, uint256 k);
    event FlProposed(uint256 indexed task, uint256 indexed proposal, address indexed proposer,
        uint256 baseVersion, bytes32 weightsHash, uint256 size, uint256 deadline);
    event FlScoreCommitted(uint256 indexed proposal, address indexed member, uint256 weight);
    event FlScoreRevealed(uint256 indexed proposal, address indexed member, uint256 score);
    event FlAttested(uint256 indexed task, uint256 indexed version, address indexed member,
        bytes32 globalHash, uint256 weight);
    event FlVersionAttested(uint256 indexed task, uint256 indexed version, bytes32 globalHash);

    /// @notice Register a task. model: 1..32 bytes of UTF-8; initialSize: bytes of the initial
    /// weights blob (at most 64 MiB); window 1..64; threshold 1..1000000; staleness at most
    /// 1024; committeeFraction 1..1000000 of the validators' total stake, which becomes k.
    function createTask(string calldata model, bytes32 initialWeights, uint256 initialSize,
        uint256 window, uint256 threshold, uint256 staleness, uint256 committeeFraction)
        external returns (uint256 taskId);

    /// @notice Propose weights trained from `baseVersion`, at most `staleness` versions behind.
    function propose(uint256 task, uint256 baseVersion, bytes32 weightsHash, uint256 size)
        external returns (uint256 proposalId);

    /// @notice A committee member's commitment and its ECVRF proof.
    function commitScore(uint256 proposal, bytes32 commitment, bytes calldata proof) external;

    /// @notice Open a commitment once the commit window has closed.
    function revealScore(uint256 proposal, uint256 score, bytes32 salt) external;

    /// @notice As a member that revealed a score for the version's proposal, vouch for the
    /// keccak of the global weights blob it produced; final once more than k/2 weight agrees.
    function attestVersion(uint256 task, uint256 version, bytes32 globalHash) external;

    function getTask(uint256 task) external view returns (address creator, bytes32 model,
        bytes32 initialWeights, uint256 initialSize, uint256 version, uint256 window,
        uint256 threshold, uint256 staleness, uint256 k, uint256 proposals);

    /// @notice Version 0 is the initial weights: globalHash and size only.
    function getVersion(uint256 task, uint256 version) external view returns (uint256 proposal,
        address proposer, uint256 score, uint256 alpha, bytes32 localHash, uint256 size,
        bytes32 globalHash, uint256 finalizedAt);

    /// @notice status: 1 pending, 2 accepted, 3 rejected, 4 expired (see the other fields' names)
    function getProposal(uint256 proposal) external view returns (uint256 task,
        address proposer, uint256 baseVersion, bytes32 weightsHash, uint256 size,
        uint256 status, uint256 includedAt, uint256 commitEnd, uint256 deadline,
        uint256 score, uint256 members, uint256 revealedWeight);
}
