"""256-bit words as plain ints: masks and two's-complement views (Yellow Paper App. H)."""

from __future__ import annotations

U256_CEILING = 2**256
MASK_256 = U256_CEILING - 1
SIGN_BIT = 2**255


def to_signed(value: int) -> int:
    """The two's-complement reading of a word."""
    return value - U256_CEILING if value & SIGN_BIT else value


def from_signed(value: int) -> int:
    """A signed int back to its word."""
    return value & MASK_256
