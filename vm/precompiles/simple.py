"""ECRECOVER, SHA256, RIPEMD160 and IDENTITY (spec: cancun/vm/precompiled_contracts/)."""

from __future__ import annotations

import hashlib

from coincurve import PublicKey

from brainchain.crypto.keccak import keccak256
from brainchain.crypto.secp256k1 import SECP256K1_N
from vm.gas import (
    GAS_ECRECOVER,
    GAS_IDENTITY,
    GAS_IDENTITY_WORD,
    GAS_RIPEMD160,
    GAS_RIPEMD160_WORD,
    GAS_SHA256,
    GAS_SHA256_WORD,
)
from vm.precompiles.costs import require, words

V_OFFSET = 27


def ecrecover(data: bytes, gas: int) -> tuple[int, bytes]:
    """The address that signed a hash; empty output for any invalid signature (no failure).

    Unlike transactions, s above n/2 is accepted (the precompile predates EIP-2).
    """
    cost = require(gas, GAS_ECRECOVER)
    data = data[:128].ljust(128, b"\x00")
    msg_hash = data[:32]
    v = int.from_bytes(data[32:64], "big")
    r = int.from_bytes(data[64:96], "big")
    s = int.from_bytes(data[96:128], "big")
    if v not in (V_OFFSET, V_OFFSET + 1) or not 0 < r < SECP256K1_N or not 0 < s < SECP256K1_N:
        return cost, b""
    signature = data[64:128] + bytes((v - V_OFFSET,))
    try:
        public_key = PublicKey.from_signature_and_message(signature, msg_hash, hasher=None)
    except ValueError:
        return cost, b""
    address = keccak256(public_key.format(compressed=False)[1:])[12:]
    return cost, address.rjust(32, b"\x00")


def sha256(data: bytes, gas: int) -> tuple[int, bytes]:
    cost = require(gas, GAS_SHA256 + GAS_SHA256_WORD * words(len(data)))
    return cost, hashlib.sha256(data).digest()


def ripemd160(data: bytes, gas: int) -> tuple[int, bytes]:
    cost = require(gas, GAS_RIPEMD160 + GAS_RIPEMD160_WORD * words(len(data)))
    return cost, hashlib.new("ripemd160", data).digest().rjust(32, b"\x00")


def identity(data: bytes, gas: int) -> tuple[int, bytes]:
    cost = require(gas, GAS_IDENTITY + GAS_IDENTITY_WORD * words(len(data)))
    return cost, data
