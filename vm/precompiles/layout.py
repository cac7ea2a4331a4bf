"""Solidity's storage layout (docs.soliditylang.org, "Layout of State Variables in Storage"),
which BRAIN's precompiles follow so that eth_getStorageAt and eth_getProof show their state."""

from __future__ import annotations

from brainchain.crypto.keccak import keccak256

WORD_BYTES = 32
SLOT_COUNT = 2**256


def word(value: int | bytes) -> bytes:
    """A 32-byte word: an integer big-endian, an address or hash left-padded."""
    if isinstance(value, int):
        return value.to_bytes(WORD_BYTES, "big")
    return value.rjust(WORD_BYTES, b"\0")


def mapping_slot(key: int | bytes, slot: int) -> int:
    """The slot of `mapping[key]` for a mapping declared at `slot`: keccak(pad32(key) ‖ slot)."""
    return int.from_bytes(keccak256(word(key) + word(slot)), "big")


def array_slot(slot: int, index: int) -> int:
    """The slot of element `index` of a dynamic array whose length is at `slot`."""
    return (int.from_bytes(keccak256(word(slot)), "big") + index) % SLOT_COUNT
