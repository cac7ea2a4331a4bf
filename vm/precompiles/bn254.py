"""alt_bn128 ADD, MUL and PAIRING (EIP-196, EIP-197; gas per EIP-1108).

Curve arithmetic comes from py_ecc's optimized_bn128 (the Ethereum Foundation's library; its
pairing is about 0.2 s per pair here, which the gas price of 34,000 per pair covers in a block).
"""

from __future__ import annotations

from typing import Any

from py_ecc.optimized_bn128 import (
    FQ,
    FQ2,
    FQ12,
    Z1,
    Z2,
    add,
    b,
    b2,
    curve_order,
    field_modulus,
    final_exponentiate,
    is_inf,
    is_on_curve,
    multiply,
    normalize,
    pairing,
)

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


def _coordinate(data: bytes, start: int) -> int:
    value = int.from_bytes(buffer_read(data, start, 32), "big")
    if value >= field_modulus:
        raise PrecompileFailure("bn254 coordinate not below the field modulus")
    return value


def _g1(data: bytes, start: int) -> Any:
    x, y = _coordinate(data, start), _coordinate(data, start + 32)
    if x == 0 and y == 0:
        return Z1
    point = (FQ(x), FQ(y), FQ(1))
    if not is_on_curve(point, b):
        raise PrecompileFailure("bn254 G1 point not on the curve")
    return point


def _g2(data: bytes, start: int) -> Any:
    x_imag, x_real = _coordinate(data, start), _coordinate(data, start + 32)
    y_imag, y_real = _coordinate(data, start + 64), _coordinate(data, start + 96)
    if x_imag == x_real == y_imag == y_real == 0:
        return Z2
    point = (FQ2([x_real, x_imag]), FQ2([y_real, y_imag]), FQ2.one())
    if not is_on_curve(point, b2):
        raise PrecompileFailure("bn254 G2 point not on the twist")
    if not is_inf(multiply(point, curve_order)):
        raise PrecompileFailure("bn254 G2 point not in the subgroup")
    return point


def _encode(point: Any) -> bytes:
    if is_inf(point):
        return bytes(64)
    x, y = normalize(point)
    return int(x).to_bytes(32, "big") + int(y).to_bytes(32, "big")


def bn254_add(data: bytes, gas: int) -> tuple[int, bytes]:
    cost = require(gas, GAS_BN254_ADD)
    return cost, _encode(add(_g1(data, 0), _g1(data, 64)))


def bn254_mul(data: bytes, gas: int) -> tuple[int, bytes]:
    cost = require(gas, GAS_BN254_MUL)
    point = _g1(data, 0)
    scalar = int.from_bytes(buffer_read(data, 64, 32), "big")
    return cost, _encode(multiply(point, scalar))


def bn254_pairing(data: bytes, gas: int) -> tuple[int, bytes]:
    """1 (as a word) when the product of the pairings of all pairs is the identity."""
    if len(data) % PAIR_BYTES:
        raise PrecompileFailure(f"bn254 pairing input must be a multiple of {PAIR_BYTES} bytes")
    pairs = len(data) // PAIR_BYTES
    cost = require(gas, GAS_BN254_PAIRING + GAS_BN254_PAIRING_PER_PAIR * pairs)
    product = FQ12.one()
    for i in range(pairs):
        start = i * PAIR_BYTES
        p, q = _g1(data, start), _g2(data, start + 64)
        if not is_inf(p) and not is_inf(q):
            product = product * pairing(q, p, final_exponentiate=False)
    ok = final_exponentiate(product) == FQ12.one()
    return cost, int(ok).to_bytes(32, "big")
