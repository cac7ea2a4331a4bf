// SPDX-License-Identifier: MIT
pragma solidity ^0.8.4;

import "IInference.sol";

/// @title What the real-client tests (tests/js/, tests/node/test_web3py.py) drive: storage, an
/// event with indexed parameters, a custom error, a `require` reason, and requests to BRAIN's
/// INFERENCE precompile made by a contract, as a dApp makes them.
contract ClientCheck {
    uint256 public constant LIMIT = 1000;

    uint256 public value;
    uint256 public lastRequest;

    event ValueChanged(address indexed by, uint256 indexed newValue, uint256 oldValue);
    event Asked(uint256 indexed id, string model, uint256 maxTokens);

    /// @dev Solidity custom error (selector + ABI-encoded arguments in the revert data).
    error TooLarge(uint256 given, uint256 limit);

    constructor(uint256 initial) {
        value = initial;
    }

    /// @notice Store `newValue`: above LIMIT reverts with TooLarge, zero with an Error(string).
    function set(uint256 newValue) external {
        if (newValue > LIMIT) revert TooLarge(newValue, LIMIT);
        require(newValue != 0, "ClientCheck: zero");
        emit ValueChanged(msg.sender, newValue, value);
        value = newValue;
    }

    /// @notice Request inference from the precompile with msg.value as its fee; no callback.
    function ask(string calldata model, bytes calldata input, uint256 maxTokens)
        external
        payable
        returns (uint256 id)
    {
        id = IInference(INFERENCE_PRECOMPILE).request{value: msg.value}(model, input, maxTokens, 0);
        lastRequest = id;
        emit Asked(id, model, maxTokens);
    }

    /// @notice The precompile's record of request `id`: who asked, for which model, its status.
    function requestOf(uint256 id)
        external
        view
        returns (address requester, bytes32 model, uint256 status, uint256 maxTokens)
    {
        (requester, model, status,,,, maxTokens,,,) =
            IInference(INFERENCE_PRECOMPILE).getRequest(id);
    }
}
