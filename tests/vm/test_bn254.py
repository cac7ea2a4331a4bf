"""The native alt_bn128 precompiles (EIP-196, EIP-197) against py_ecc, the Ethereum Foundation's
pure-Python implementation they replaced, on seeded random points and on the edge cases."""

from __future__ import annotations

import random
from typing import Any

import pytest
from py_ecc.optimized_bn128 import (
    FQ2,
    G1,
    G2,
    add,
    b2,
    curve_order,
    field_modulus,
    is_inf,
    is_on_curve,
    multiply,
    neg,
    normalize,
)

from vm.precompiles.bn254 import bn254_add, bn254_mul, bn254_pairing
from vm.precompiles.errors import PrecompileFailure

RNG = random.Random(196)
GAS = 10**7
WORD = 32


def word(value: int) -> bytes:
    return value.to_bytes(WORD, "big")


def g1_bytes(point: Any) -> bytes:
    if is_inf(point):
        return bytes(2 * WORD)
    x, y = normalize(point)
    return word(int(x)) + word(int(y))


def g2_bytes(point: Any) -> bytes:
    x, y = normalize(point)
    return b"".join(word(c) for c in (x.coeffs[1], x.coeffs[0], y.coeffs[1], y.coeffs[0]))


def fq2_sqrt(a: Any) -> Any:
    """A square root in Fp2 for p ≡ 3 (mod 4) (Adj and Rodríguez-Henríquez 2012, Alg. 9)."""
    a1 = a ** ((field_modulus - 3) // 4)
    alpha = a1 * a1 * a
    x0 = a1 * a
    if alpha == FQ2([field_modulus - 1, 0]):
        return FQ2([0, 1]) * x0
    return (FQ2.one() + alpha) ** ((field_modulus - 1) // 2) * x0


def twist_point_outside_subgroup() -> Any:
    """A point on the twist whose order is not r: the smallest real x that has one."""
    for x in range(1, 100):
        rhs = FQ2([x, 0]) ** 3 + b2
        y = fq2_sqrt(rhs)
        if y * y == rhs:
            point = (FQ2([x, 0]), y, FQ2.one())
            assert is_on_curve(point, b2) and not is_inf(multiply(point, curve_order))
            return point
    raise AssertionError("no twist point with a small real x")


@pytest.mark.parametrize("case", range(8))
def test_add_and_mul_match_py_ecc(case: int) -> None:
    a, b = RNG.randrange(1, curve_order), RNG.randrange(1, curve_order)
    p, q = multiply(G1, a), multiply(G1, b)
    assert bn254_add(g1_bytes(p) + g1_bytes(q), GAS) == (150, g1_bytes(add(p, q)))
    scalar = RNG.getrandbits(256)  # beyond r as often as not
    assert bn254_mul(g1_bytes(p) + word(scalar), GAS) == (6000, g1_bytes(multiply(p, scalar)))


def test_add_edge_cases() -> None:
    p = multiply(G1, 5)
    assert bn254_add(g1_bytes(p) * 2, GAS)[1] == g1_bytes(multiply(G1, 10))  # doubling
    assert bn254_add(g1_bytes(p) + g1_bytes(neg(p)), GAS)[1] == bytes(64)  # P + (-P)
    assert bn254_add(g1_bytes(p), GAS)[1] == g1_bytes(p)  # missing bytes read as infinity
    assert bn254_add(bytes(64) + g1_bytes(p), GAS)[1] == g1_bytes(p)
    assert bn254_add(g1_bytes(p) * 2 + b"\xff" * 40, GAS)[1] == g1_bytes(multiply(G1, 10))
    with pytest.raises(PrecompileFailure):
        bn254_add(word(1) + word(2 + field_modulus), GAS)  # y beyond the field
    with pytest.raises(PrecompileFailure):
        bn254_add(bytes(64) + word(0) + word(1), GAS)  # (0, 1) is not on the curve


def test_mul_edge_cases() -> None:
    point = g1_bytes(G1)
    assert bn254_mul(point + word(0), GAS)[1] == bytes(64)
    assert bn254_mul(point + word(curve_order), GAS)[1] == bytes(64)
    assert bn254_mul(point + word(curve_order + 1), GAS)[1] == point
    assert bn254_mul(bytes(64) + word(7), GAS)[1] == bytes(64)
    assert bn254_mul(point, GAS)[1] == bytes(64)  # a missing scalar is 0
    with pytest.raises(PrecompileFailure):
        bn254_mul(point, 5999)


def test_pairing_bilinearity() -> None:
    a, b = RNG.randrange(1, curve_order), RNG.randrange(1, curve_order)
    # e(a·G1, b·G2) · e(-(ab)·G1, G2) = 1, and not with ab + 1.
    left = g1_bytes(multiply(G1, a)) + g2_bytes(multiply(G2, b))
    good = left + g1_bytes(neg(multiply(G1, a * b))) + g2_bytes(G2)
    bad = left + g1_bytes(neg(multiply(G1, a * b + 1))) + g2_bytes(G2)
    assert bn254_pairing(good, GAS) == (113_000, word(1))
    assert bn254_pairing(bad, GAS) == (113_000, word(0))
    # Pairs with a point at infinity contribute 1.
    assert bn254_pairing(bytes(64) + g2_bytes(G2) + g1_bytes(G1) + bytes(128), GAS)[1] == word(1)


def test_pairing_refuses_invalid_g2() -> None:
    outside = g2_bytes(twist_point_outside_subgroup())
    with pytest.raises(PrecompileFailure, match="subgroup"):
        bn254_pairing(g1_bytes(G1) + outside, GAS)
    with pytest.raises(PrecompileFailure, match="subgroup"):  # checked even beside infinity
        bn254_pairing(bytes(64) + outside, GAS)
    off_twist = g2_bytes(G2)[:-1] + bytes([g2_bytes(G2)[-1] ^ 1])
    with pytest.raises(PrecompileFailure, match="twist"):
        bn254_pairing(g1_bytes(G1) + off_twist, GAS)
    too_big = word(field_modulus) + g2_bytes(G2)[WORD:]
    with pytest.raises(PrecompileFailure, match="modulus"):
        bn254_pairing(g1_bytes(G1) + too_big, GAS)
    with pytest.raises(PrecompileFailure):
        bn254_pairing(g1_bytes(G1) + g2_bytes(G2), 78_999)
