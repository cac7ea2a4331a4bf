"""Precompiles against published vectors (EIP-152, EIP-198, EIP-196/197) and their gas."""

from __future__ import annotations

import random

import pytest

from brainchain.crypto.secp256k1 import private_key_to_address, sign
from vm.precompiles.blake2f import blake2f
from vm.precompiles.bn254 import bn254_add, bn254_mul, bn254_pairing
from vm.precompiles.errors import PrecompileFailure
from vm.precompiles.mapping import PRECOMPILES
from vm.precompiles.modexp import modexp
from vm.precompiles.point_evaluation import point_evaluation
from vm.precompiles.simple import ecrecover, identity, ripemd160, sha256

# EIP-152 test vector 5 (12 rounds of "abc") and its expected output.
BLAKE2F_H = bytes.fromhex(
    "48c9bdf267e6096a3ba7ca8485ae67bb2bf894fe72f36e3cf1361d5f3af54fa5"
    "d182e6ad7f520e511f6c3e2b8c68059b6bbd41fbabd9831f79217e1319cde05b"
)
BLAKE2F_INPUT = (
    (12).to_bytes(4, "big")
    + BLAKE2F_H
    + b"abc".ljust(128, b"\x00")
    + (3).to_bytes(8, "little")
    + bytes(8)
    + b"\x01"
)
BLAKE2F_OUTPUT = bytes.fromhex(
    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533"
    "cc9518d38aa8dbf1925ab92386edd4009923"
)
G1 = (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
# 2·G1 on alt_bn128 (EIP-196).
G1_DOUBLE = bytes.fromhex(
    "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3"
    "15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4"
)
# G2 generator, encoded (x_imag, x_real, y_imag, y_real) as EIP-197 orders it.
G2 = bytes.fromhex(
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
)
FIELD_MODULUS = 21888242871839275222246405745257275088696311157297823662689037894645226208583


def test_blake2f_eip152_vector_and_bad_inputs() -> None:
    assert blake2f(BLAKE2F_INPUT, 100) == (12, BLAKE2F_OUTPUT)
    with pytest.raises(PrecompileFailure):
        blake2f(BLAKE2F_INPUT[:-1], 100)
    with pytest.raises(PrecompileFailure):
        blake2f(BLAKE2F_INPUT[:-1] + b"\x02", 100)
    with pytest.raises(PrecompileFailure):
        blake2f(BLAKE2F_INPUT, 11)


def test_modexp_eip198_examples() -> None:
    # 3 ** (2**256 - 2**32 - 978) % (2**256 - 2**32 - 977) == 1 (Fermat), EIP-198's first example.
    data = (
        (1).to_bytes(32, "big")
        + (32).to_bytes(32, "big")
        + (32).to_bytes(32, "big")
        + b"\x03"
        + bytes.fromhex("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2e")
        + bytes.fromhex("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")
    )
    gas, output = modexp(data, 10**6)
    assert output == (1).to_bytes(32, "big")
    assert gas == 1360  # EIP-2565: 16 words² × 255 iterations / 3
    zero_mod = (1).to_bytes(32, "big") * 2 + (0).to_bytes(32, "big") + b"\x03\x05"
    assert modexp(zero_mod, 10**6) == (200, b"")


def test_modexp_matches_python_pow() -> None:
    rng = random.Random(198)
    cases = [(0, 0, 5), (7, 0, 1), (2, 3, 1), (5, 3, 8), (2**300 + 1, 65537, 2**256 - 1)]
    cases += [
        (rng.getrandbits(512), rng.getrandbits(300), rng.getrandbits(256) | 1) for _ in range(4)
    ]
    cases += [
        (rng.getrandbits(64), rng.getrandbits(2048), rng.getrandbits(64) << 1) for _ in range(4)
    ]
    for base, exponent, modulus in cases:
        lengths = [max(1, (v.bit_length() + 7) // 8) for v in (base, exponent, modulus)]
        data = b"".join(n.to_bytes(32, "big") for n in lengths) + b"".join(
            v.to_bytes(n, "big") for v, n in zip((base, exponent, modulus), lengths, strict=True)
        )
        assert modexp(data, 10**9)[1] == pow(base, exponent, modulus).to_bytes(lengths[2], "big")


def test_ecrecover_valid_high_s_and_garbage() -> None:
    key = bytes([3]) * 32
    digest = bytes(range(32))
    parity, r, s = sign(digest, key)
    data = (
        digest + (27 + parity).to_bytes(32, "big") + r.to_bytes(32, "big") + s.to_bytes(32, "big")
    )
    assert ecrecover(data, 3000) == (3000, private_key_to_address(key).rjust(32, b"\x00"))
    assert ecrecover(data[:32] + (29).to_bytes(32, "big") + data[64:], 3000) == (3000, b"")
    assert ecrecover(b"", 3000) == (3000, b"")
    with pytest.raises(PrecompileFailure):
        ecrecover(data, 2999)


def test_hashes_and_identity() -> None:
    assert sha256(b"abc", 72)[1].hex().startswith("ba7816bf")
    assert ripemd160(b"", 600)[1].hex() == "00" * 12 + "9c1185a5c5e9fc54612808977ee8f548b2258d31"
    assert identity(b"x" * 33, 21) == (21, b"x" * 33)


def test_bn254_add_mul_pairing() -> None:
    assert bn254_add(G1 + G1, 150) == (150, G1_DOUBLE)
    assert bn254_mul(G1 + (2).to_bytes(32, "big"), 6000) == (6000, G1_DOUBLE)
    assert bn254_add(b"", 150) == (150, bytes(64))  # infinity + infinity
    with pytest.raises(PrecompileFailure):
        bn254_add((1).to_bytes(32, "big") + (3).to_bytes(32, "big"), 150)  # not on the curve
    with pytest.raises(PrecompileFailure):
        bn254_add(FIELD_MODULUS.to_bytes(32, "big") + bytes(32), 150)
    # e(G1, G2) · e(−G1, G2) = 1
    minus_g1 = (1).to_bytes(32, "big") + (FIELD_MODULUS - 2).to_bytes(32, "big")
    assert bn254_pairing(G1 + G2 + minus_g1 + G2, 113_000) == (113_000, (1).to_bytes(32, "big"))
    assert bn254_pairing(G1 + G2, 79_000)[1] == bytes(32)
    assert bn254_pairing(b"", 45_000) == (45_000, (1).to_bytes(32, "big"))
    with pytest.raises(PrecompileFailure):
        bn254_pairing(G1 + G2[:-1], 10**6)


def test_point_evaluation_refuses_zeros_and_mapping_is_complete() -> None:
    # All zeros is no versioned hash of a commitment; tests/vm/test_point_evaluation.py has more.
    with pytest.raises(PrecompileFailure, match="versioned hash"):
        point_evaluation(bytes(192), 50_000)
    assert sorted(int.from_bytes(a, "big") for a in PRECOMPILES) == list(range(1, 11))
