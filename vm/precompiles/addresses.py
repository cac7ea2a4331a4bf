"""Addresses of the precompiled contracts (Yellow Paper App. E, EIP-196/197/152/4844) and of
BRAIN's native ones (DESIGN.md §3)."""

from __future__ import annotations


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
COMMITTEE_ADDRESS = _address(0x0B02)  # its storage holds the validator registry (registry.py)
INFERENCE_ADDRESS = _address(0x0B03)  # its storage holds requests, models and bonds
FL_REGISTRY_ADDRESS = _address(0x0B04)  # its storage holds FL tasks, proposals and versions
INFERENCE_SYNC_ADDRESS = _address(0x0B05)  # single-phase baseline: runs the model in the tx
