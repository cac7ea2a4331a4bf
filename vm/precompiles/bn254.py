"""alt_bn128 ADD, MUL and PAIRING (EIP-196, EIP-197; gas per EIP-1108).

The curve arithmetic runs natively in herumi's mcl, whose shared library the mclbn256 wheel
ships (importing the wheel writes it to a temporary file and loads it); it is switched here to
Ethereum's curve, MCL_BN_SNARK1, so it serves no other curve in this process. On one core of
the reference machine a pairing check costs about 0.3 ms plus 0.3 ms per pair and a
multiplication about 50 µs, 130-140 Mgas/s at EIP-1108's prices; an addition costs about
13 µs, mostly the conversions around mcl, 11 Mgas/s (`python -m bench.gas_time` prints the
figures). py_ecc, the pure-Python library this replaced, took 0.36 s for one pair and 1.4 s
for eight, 0.22 Mgas/s: a transaction filling a 30M-gas block with pairings cost every
validator over two minutes (issue 12).

Inputs are read as EIP-196/197 say: missing bytes are zeros, a coordinate at or above the
field modulus or a point off the curve fails the call (consuming its gas), (0, 0) is the point
at infinity, and a G2 point must lie in the order-r subgroup.
"""

from __future__ import annotations

import ctypes

from mclbn256.mclbn256 import load_library

from vm.gas import (
    GAS_BN254_ADD,
    GAS_BN254_MUL,
    GAS_BN254_PAIRING,
    GAS_BN254_PAIRING_PER_PAIR,
)
from vm.memory import buffer_read
from vm.precompiles.costs import require
from vm.precompiles.errors import PrecompileFailure

PAIR_BYTES = 192
WORD_BYTES = 32
FIELD_MODULUS = 21888242871839275222246405745257275088696311157297823662689037894645226208583
CURVE_B = 3  # G1: y² = x³ + 3 (EIP-196)

# mcl's C API (include/mcl/bn.h): the curve id and the size check mclBn_init asks for, which is
# MCLBN_FR_UNIT_SIZE * 10 + MCLBN_FP_UNIT_SIZE for the 256-bit build the wheel ships.
MCL_BN_SNARK1 = 4
FP_WORDS = 4
MCLBN_COMPILED_TIME_VAR = FP_WORDS * 10 + FP_WORDS

Fp = ctypes.c_uint64 * FP_WORDS  # mclBnFp, held in Montgomery form: set it by deserializing
Fr = ctypes.c_uint64 * FP_WORDS  # mclBnFr
Fp2 = Fp * 2  # mclBnFp2: [real, imaginary]
GT = ctypes.c_uint64 * (12 * FP_WORDS)  # mclBnGT, an element of Fp12


class G1(ctypes.Structure):
    """mclBnG1: Jacobian coordinates; all zero is the point at infinity."""

    _fields_ = (("x", Fp), ("y", Fp), ("z", Fp))


class G2(ctypes.Structure):
    """mclBnG2: Jacobian coordinates over Fp2; all zero is the point at infinity."""

    _fields_ = (("x", Fp2), ("y", Fp2), ("z", Fp2))


_lib = load_library("libmclbn256")
if _lib.mclBn_init(MCL_BN_SNARK1, MCLBN_COMPILED_TIME_VAR) != 0:
    raise ImportError("mcl refused to switch to the alt_bn128 curve (MCL_BN_SNARK1)")
# mclBnG2_isValid then checks the twist equation only; subgroup membership is checked apart.
_lib.mclBn_verifyOrderG2(0)


def _fp(value: int) -> ctypes.Array[ctypes.c_uint64]:
    element = Fp()
    if _lib.mclBnFp_deserialize(element, value.to_bytes(WORD_BYTES, "little"), WORD_BYTES) == 0:
        raise AssertionError(f"mcl could not read the field element {value}")
    return element


ONE = _fp(1)


def _coordinate(data: bytes, start: int) -> int:
    value = int.from_bytes(buffer_read(data, start, WORD_BYTES), "big")
    if value >= FIELD_MODULUS:
        raise PrecompileFailure("bn254 coordinate not below the field modulus")
    return value


Affine = tuple[int, int] | None  # a G1 point as integers; None is the point at infinity


def _affine(data: bytes, start: int) -> Affine:
    """The G1 point at `start`, checked in integers: this mcl build's mclBnG1_isValid also
    multiplies by the group order, which costs more than the addition it would guard (G1 has
    cofactor 1, so a point on the curve is in the group).

    Raises:
        PrecompileFailure: a coordinate not below the modulus, or a point off the curve.
    """
    x, y = _coordinate(data, start), _coordinate(data, start + WORD_BYTES)
    if not x and not y:  # (0, 0) encodes infinity
        return None
    if (y * y - x * x * x - CURVE_B) % FIELD_MODULUS:
        raise PrecompileFailure("bn254 G1 point not on the curve")
    return x, y


def _g1(data: bytes, start: int) -> G1:
    affine = _affine(data, start)
    point = G1()  # all zero: infinity
    if affine is not None:
        point.x, point.y, point.z = _fp(affine[0]), _fp(affine[1]), ONE
    return point


def _g2(data: bytes, start: int) -> G2:
    # EIP-197 writes each Fp2 coordinate imaginary part first.
    x_imag, x_real, y_imag, y_real = (_coordinate(data, start + i * WORD_BYTES) for i in range(4))
    point = G2()
    if x_imag or x_real or y_imag or y_real:
        point.x = Fp2(_fp(x_real), _fp(x_imag))
        point.y = Fp2(_fp(y_real), _fp(y_imag))
        point.z = Fp2(ONE, Fp())
        if not _lib.mclBnG2_isValid(ctypes.byref(point)):
            raise PrecompileFailure("bn254 G2 point not on the twist")
        if not _lib.mclBnG2_isValidOrder(ctypes.byref(point)):
            raise PrecompileFailure("bn254 G2 point not in the subgroup")
    return point


def _encode(point: G1) -> bytes:
    """x ‖ y as 32-byte big-endian words; infinity is 64 zero bytes."""
    if _lib.mclBnG1_isZero(ctypes.byref(point)):
        return bytes(2 * WORD_BYTES)
    _lib.mclBnG1_normalize(ctypes.byref(point), ctypes.byref(point))
    out = ctypes.create_string_buffer(WORD_BYTES)
    words = []
    for coordinate in (point.x, point.y):
        if _lib.mclBnFp_serialize(out, WORD_BYTES, coordinate) != WORD_BYTES:
            raise AssertionError("mcl wrote a field element of unexpected size")
        words.append(out.raw[::-1])  # mcl serializes little-endian
    return b"".join(words)


def bn254_add(data: bytes, gas: int) -> tuple[int, bytes]:
    cost = require(gas, GAS_BN254_ADD)
    p, q = _g1(data, 0), _g1(data, 2 * WORD_BYTES)
    total = G1()
    _lib.mclBnG1_add(ctypes.byref(total), ctypes.byref(p), ctypes.byref(q))
    return cost, _encode(total)


def bn254_mul(data: bytes, gas: int) -> tuple[int, bytes]:
    cost = require(gas, GAS_BN254_MUL)
    point = _g1(data, 0)
    # Any 256-bit scalar is allowed; G1 has prime order r, so reducing it mod r changes nothing.
    scalar = Fr()
    le_scalar = buffer_read(data, 2 * WORD_BYTES, WORD_BYTES)[::-1]
    if _lib.mclBnFr_setLittleEndianMod(scalar, le_scalar, WORD_BYTES) != 0:
        raise AssertionError("mcl could not reduce a 256-bit scalar")
    product = G1()
    _lib.mclBnG1_mul(ctypes.byref(product), ctypes.byref(point), scalar)
    return cost, _encode(product)


def bn254_pairing(data: bytes, gas: int) -> tuple[int, bytes]:
    """1 (as a word) when the product of the pairings of all pairs is the identity."""
    if len(data) % PAIR_BYTES:
        raise PrecompileFailure(f"bn254 pairing input must be a multiple of {PAIR_BYTES} bytes")
    pairs = len(data) // PAIR_BYTES
    cost = require(gas, GAS_BN254_PAIRING + GAS_BN254_PAIRING_PER_PAIR * pairs)
    g1s, g2s = [], []
    for i in range(pairs):
        start = i * PAIR_BYTES
        p, q = _g1(data, start), _g2(data, start + 2 * WORD_BYTES)  # both checked, as EIP-197
        if not _lib.mclBnG1_isZero(ctypes.byref(p)) and not _lib.mclBnG2_isZero(ctypes.byref(q)):
            g1s.append(p)
            g2s.append(q)
    if not g1s:  # an empty product is the identity
        return cost, (1).to_bytes(WORD_BYTES, "big")
    miller, product = GT(), GT()
    _lib.mclBn_millerLoopVec(miller, (G1 * len(g1s))(*g1s), (G2 * len(g2s))(*g2s), len(g1s))
    _lib.mclBn_finalExp(product, miller)
    return cost, int(_lib.mclBnGT_isOne(product) == 1).to_bytes(WORD_BYTES, "big")
