"""BLAKE2F: the BLAKE2b compression function F (EIP-152), 64-bit words in pure Python."""

from __future__ import annotations

from vm.precompiles.costs import GAS_BLAKE2_PER_ROUND, require
from vm.precompiles.errors import PrecompileFailure

INPUT_BYTES = 213
MASK_64 = 2**64 - 1
IV = (
    0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
    0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
)  # fmt: skip
SIGMA = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
    (14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3),
    (11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4),
    (7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8),
    (9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13),
    (2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9),
    (12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11),
    (13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10),
    (6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5),
    (10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0),
)
MIX_COLUMNS = ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15))
MIX_DIAGONALS = ((0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14))


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (64 - n))) & MASK_64


def compress(rounds: int, h: list[int], m: list[int], t0: int, t1: int, final: bool) -> list[int]:
    """RFC 7693 §3.2 F, with the round count as a parameter (EIP-152)."""
    v = [*h, *IV]
    v[12] ^= t0
    v[13] ^= t1
    if final:
        v[14] ^= MASK_64
    for r in range(rounds):
        s = SIGMA[r % 10]
        for i, (a, b, c, d) in enumerate(MIX_COLUMNS + MIX_DIAGONALS):
            x, y = m[s[2 * i]], m[s[2 * i + 1]]
            v[a] = (v[a] + v[b] + x) & MASK_64
            v[d] = _rotr(v[d] ^ v[a], 32)
            v[c] = (v[c] + v[d]) & MASK_64
            v[b] = _rotr(v[b] ^ v[c], 24)
            v[a] = (v[a] + v[b] + y) & MASK_64
            v[d] = _rotr(v[d] ^ v[a], 16)
            v[c] = (v[c] + v[d]) & MASK_64
            v[b] = _rotr(v[b] ^ v[c], 63)
    return [h[i] ^ v[i] ^ v[i + 8] for i in range(8)]


def _words(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 8], "little") for i in range(0, len(data), 8)]


def blake2f(data: bytes, gas: int) -> tuple[int, bytes]:
    """EIP-152: 213 bytes in (rounds, h, m, t, f), 64 bytes of new state out."""
    if len(data) != INPUT_BYTES:
        raise PrecompileFailure(f"blake2f input must be {INPUT_BYTES} bytes, got {len(data)}")
    rounds = int.from_bytes(data[:4], "big")
    cost = require(gas, GAS_BLAKE2_PER_ROUND * rounds)
    final = data[212]
    if final not in (0, 1):
        raise PrecompileFailure("blake2f final-block flag must be 0 or 1")
    t0, t1 = _words(data[196:212])
    h = compress(rounds, _words(data[4:68]), _words(data[68:196]), t0, t1, bool(final))
    return cost, b"".join(x.to_bytes(8, "little") for x in h)
