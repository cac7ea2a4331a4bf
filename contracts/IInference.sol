// SPDX-License-Identifier: MIT
pragma solidity ^0.8.4;

/// @dev Where BRAIN's INFERENCE precompile lives (DESIGN.md §3, §5).
address constant INFERENCE_PRECOMPILE = 0x0000000000000000000000000000000000000b03;

/// @title BRAIN's INFERENCE precompile: two-phase inference by VRF-selected committees.
/// @notice A request does no model work: the committee runs the model off chain, commits
/// keccak(output || member || salt) with its VRF proof, then reveals. The reveal that brings
/// one output's weight past half the expected committee weight finalizes the request and calls
/// the requester's `onInferenceResult`. Refusals revert with an `Error(string)` reason.
interface IInference {
    event InferenceRequested(uint256 indexed id, address indexed requester, bytes32 indexed model,
        bytes input, uint256 maxTokens, uint256 fee, uint256 callbackGas, uint256 deadline);
    event InferenceCommitted(uint256 indexed id, address indexed member, uint256 weight);
    event InferenceRevealed(uint256 indexed id, address indexed member, bytes32 outputHash);
    event InferenceFinalized(uint256 indexed id, bytes32 outputHash, bytes output, uint256 weight);
    event InferenceCallback(uint256 indexed id, bool success, uint256 gasUsed);
    event BondChanged(address indexed validator, uint256 bond);

    /// @notice Ask for `maxTokens` tokens of `model` on `input`; pay at least the model's price
    /// per token times maxTokens plus callbackGas times twice the base fee (the callback
    /// deposit; what the callback does not use comes back at settlement).
    function request(string calldata model, bytes calldata input, uint256 maxTokens,
        uint256 callbackGas) external payable returns (uint256 id);

    /// @notice A committee member's commitment keccak(output || member || salt) and its
    /// 80-byte ECVRF proof over keccak(id || hash of the request's block).
    function commit(uint256 id, bytes32 commitment, bytes calldata proof) external;

    /// @notice Open a commitment once the commit window has closed.
    function reveal(uint256 id, bytes calldata output, bytes32 salt) external;

    /// @notice Add msg.value to the caller's inference bond.
    function deposit() external payable;

    /// @notice Take back part of the bond, beyond the penalties its pending commits may cost.
    function withdraw(uint256 amount) external;

    /// @return status 1 pending, 2 finalized, 3 expired (refunded), 4 settled (paid out)
    /// @return output the finalized output (the generated tokens, one byte each)
    function getResult(uint256 id) external view returns (uint256 status, bytes memory output);

    function getRequest(uint256 id) external view returns (address requester, bytes32 model,
        uint256 status, uint256 includedAt, uint256 commitEnd, uint256 deadline,
        uint256 maxTokens, uint256 fee, uint256 committedWeight, uint256 members);

    function bondOf(address validator) external view returns (uint256 bond, uint256 pending);
}

/// @title What a contract implements to receive inference results.
interface IInferenceConsumer {
    /// @notice Called by the INFERENCE precompile (msg.sender) when request `id` is final.
    function onInferenceResult(uint256 id, bytes calldata output) external;
}
