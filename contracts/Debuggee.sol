// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// A call chain to debug (tests/node/test_rpc_debug.py): Outer.run calls Middle.relay, which
/// calls Inner.check, which reverts deep down with a reason string or a custom error.
contract Inner {
    error TooLarge(uint256 value, uint256 limit);

    uint256 public last;

    function check(uint256 value) external returns (uint256) {
        require(value != 13, "unlucky number");
        if (value > 100) revert TooLarge(value, 100);
        last = value;
        return value * 2;
    }
}

contract Middle {
    event Relayed(uint256 value);

    Inner public immutable inner;

    constructor(Inner inner_) {
        inner = inner_;
    }

    function relay(uint256 value) external returns (uint256) {
        emit Relayed(value);
        return inner.check(value) + 1;
    }
}

contract Outer {
    Middle public immutable middle;
    uint256 public total;

    constructor() {
        middle = new Middle(new Inner());
    }

    function run(uint256 value) external {
        total += middle.relay(value);
    }
}
