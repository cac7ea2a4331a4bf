"""The validator registry that COMMITTEE reads: where each value lives in its account's storage.

The registry is the storage of the COMMITTEE account (COMMITTEE_ADDRESS, 0x…0b02; DESIGN.md §3:
precompiles keep their state in the state trie), laid out as a Solidity contract would lay out

    uint256 totalStake;                          // slot 0: W
    uint256 committeeSize;                       // slot 1: k, expected committee size
    mapping(address => Member) members;          // slot 2
    struct Member { bytes32 vrfKey; uint256 stake; }

so member V's VRF key is at keccak256(pad32(V) ‖ pad32(2)) and its stake one slot after, and
eth_getStorageAt / eth_getProof show the registry. An empty key slot means "not a validator": the
all-zero string encodes a point of small order, which is no valid VRF key (RFC 9381 §5.4.5).
Genesis writes it (genesis/block.py) through this layout; the precompile reads it.
"""

from __future__ import annotations

from vm.precompiles.layout import SLOT_COUNT, mapping_slot

TOTAL_STAKE_SLOT = 0
COMMITTEE_SIZE_SLOT = 1
MEMBERS_SLOT = 2


def member_key_slot(validator: bytes) -> int:
    """The slot of a validator's VRF key in the registry (Solidity mapping layout)."""
    return mapping_slot(validator, MEMBERS_SLOT)


def member_stake_slot(validator: bytes) -> int:
    """The slot of a validator's stake: the struct's next slot, wrapping as Solidity's do."""
    return (member_key_slot(validator) + 1) % SLOT_COUNT
