"""Trie paths as nibble strings, and their hex-prefix encoding (Yellow Paper App. C).

A path is a `bytes` object with one nibble (0-15) per byte, so indexing it gives the branch
slot directly and `startswith`/slicing run in C. A key's full path ends with the terminator
nibble 16 (the Yellow Paper's leaf flag, as pyethereum kept it): a leaf's stored path keeps
it, so a path that reaches a branch's 17th slot reads that branch's value, and no key's path
is a proper prefix of another's.
"""

from __future__ import annotations

from binascii import hexlify, unhexlify

from brainchain.errors import DecodingError

TERMINATOR = 16
"""Nibble that ends every key path; also the index of a branch's value slot."""

_TERMINATOR_BYTE = bytes((TERMINATOR,))
_HEX_DIGITS = b"0123456789abcdef"
_TO_NIBBLES = bytes.maketrans(_HEX_DIGITS, bytes(range(16)))
_TO_HEX = bytes.maketrans(bytes(range(16)), _HEX_DIGITS)

# Hex-prefix flags (Yellow Paper eq. 191): bit 1 = leaf, bit 0 = odd length. Even-length
# paths pad the flag nibble with a zero nibble.
_HP_EXTENSION_EVEN = b"00"
_HP_EXTENSION_ODD = b"1"
_HP_LEAF_EVEN = b"20"
_HP_LEAF_ODD = b"3"
_HP_MAX_FLAG = 3


def key_to_path(key: bytes) -> bytes:
    """The nibbles of `key`, high nibble first, followed by the terminator."""
    return hexlify(key).translate(_TO_NIBBLES) + _TERMINATOR_BYTE


def nibbles_to_key(nibbles: bytes) -> bytes:
    """Pack an even number of nibbles (no terminator) back into bytes."""
    return unhexlify(nibbles.translate(_TO_HEX))


def hp_encode_leaf(path: bytes) -> bytes:
    """Hex-prefix encoding of a leaf's path; `path` ends with the terminator (App. C)."""
    digits = path[:-1].translate(_TO_HEX)
    if len(digits) & 1:
        return unhexlify(_HP_LEAF_ODD + digits)
    return unhexlify(_HP_LEAF_EVEN + digits)


def hp_encode_extension(path: bytes) -> bytes:
    """Hex-prefix encoding of an extension's path (no terminator) (App. C)."""
    digits = path.translate(_TO_HEX)
    if len(digits) & 1:
        return unhexlify(_HP_EXTENSION_ODD + digits)
    return unhexlify(_HP_EXTENSION_EVEN + digits)


def hp_decode(encoded: bytes) -> tuple[bytes, bool]:
    """Split a hex-prefix encoded path into (nibbles, is_leaf); a leaf's path gets the terminator.

    Raises:
        DecodingError: empty input, an unknown flag, or a non-zero padding nibble.
    """
    if not encoded:
        raise DecodingError("empty hex-prefix path")
    flag = encoded[0] >> 4
    if flag > _HP_MAX_FLAG:
        raise DecodingError(f"hex-prefix flag {flag} is not 0-3")
    nibbles = hexlify(encoded).translate(_TO_NIBBLES)
    if flag & 1:
        nibbles = nibbles[1:]
    elif encoded[0] & 0x0F:
        raise DecodingError("hex-prefix padding nibble is not zero")
    else:
        nibbles = nibbles[2:]
    if flag & 2:
        return nibbles + _TERMINATOR_BYTE, True
    return nibbles, False
