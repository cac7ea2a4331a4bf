"""MODEXP (EIP-198) with EIP-2565 gas (spec: cancun/vm/precompiled_contracts/modexp.py).

The power runs in GMP (gmpy2's powmod): CPython's pow is 6 to 35 times slower, and under
EIP-2565's prices a small modulus with a long exponent then bought a 30M-gas block about 17 s
of work (`python -m bench.gas_time` prints the figures).
"""

from __future__ import annotations

from gmpy2 import powmod

from vm.gas import GAS_MODEXP_DIVISOR, GAS_MODEXP_MINIMUM
from vm.memory import buffer_read
from vm.precompiles.costs import require

HEADER_BYTES = 96
WORD_BYTES = 32
EXPONENT_HEAD_BYTES = 32


def _gas(base_length: int, exponent_length: int, modulus_length: int, exponent_head: int) -> int:
    words = (max(base_length, modulus_length) + 7) // 8
    complexity = words * words
    if exponent_length <= EXPONENT_HEAD_BYTES:
        iterations = exponent_head.bit_length() - 1 if exponent_head else 0
    else:
        iterations = 8 * (exponent_length - EXPONENT_HEAD_BYTES) + max(
            exponent_head.bit_length() - 1, 0
        )
    return max(GAS_MODEXP_MINIMUM, complexity * max(iterations, 1) // GAS_MODEXP_DIVISOR)


def modexp(data: bytes, gas: int) -> tuple[int, bytes]:
    """base ** exponent % modulus over arbitrary-length big-endian integers."""
    base_length = int.from_bytes(buffer_read(data, 0, WORD_BYTES), "big")
    exponent_length = int.from_bytes(buffer_read(data, WORD_BYTES, WORD_BYTES), "big")
    modulus_length = int.from_bytes(buffer_read(data, 2 * WORD_BYTES, WORD_BYTES), "big")
    exponent_start = HEADER_BYTES + base_length
    head_length = min(EXPONENT_HEAD_BYTES, exponent_length)
    exponent_head = int.from_bytes(buffer_read(data, exponent_start, head_length), "big")
    cost = require(gas, _gas(base_length, exponent_length, modulus_length, exponent_head))
    if base_length == 0 and modulus_length == 0:
        return cost, b""
    base = int.from_bytes(buffer_read(data, HEADER_BYTES, base_length), "big")
    exponent = int.from_bytes(buffer_read(data, exponent_start, exponent_length), "big")
    modulus_start = exponent_start + exponent_length
    modulus = int.from_bytes(buffer_read(data, modulus_start, modulus_length), "big")
    result = int(powmod(base, exponent, modulus)) if modulus else 0
    return cost, result.to_bytes(modulus_length, "big")
