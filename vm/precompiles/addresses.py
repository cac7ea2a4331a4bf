"""Addresses of the precompiled contracts (Yellow Paper App. E, EIP-196/197/152/4844) and of
BRAIN's native ones (DESIGN.md §3)."""

from __future__ import annotations

from genesis.block import COMMITTEE_REGISTRY_ADDRESS


def _address(n: int) -> bytes:
    return n.to_bytes(20, "big")


ECRECOVER_ADDRESS = _address(0x01)
SHA256_ADDRESS = _address(0x02)
RIPEMD160_ADDRESS = _address(0x03)
IDENTITY_ADDRESS = _address(0x04)
MODEXP_ADDRESS = _address(0x05)
ALT_BN128_ADD_ADDRESS = _address(0x06)
ALT_BN128_MUL_ADDRESS = _address(0x07)
ALT_BN128_PAIRING_CHECK_ADDRESS = _address(0x08)
BLAKE2F_ADDRESS = _address(0x09)
POINT_EVALUATION_ADDRESS = _address(0x0A)

VRF_ADDRESS = _address(0x0B01)
# 0x…0b02: genesis writes the validator registry into this account (genesis/block.py), and
# genesis sits below vm, so the number is spelled there.
COMMITTEE_ADDRESS = COMMITTEE_REGISTRY_ADDRESS
