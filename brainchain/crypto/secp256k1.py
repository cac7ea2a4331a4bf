"""secp256k1 keys, signatures and public-key recovery (coincurve, i.e. libsecp256k1).

Recovery is the bound on transfers per core, so `recover_address` goes straight to
libsecp256k1 with the 65-byte compact signature and no re-hashing.
"""

from __future__ import annotations

from coincurve import PrivateKey, PublicKey

from brainchain.crypto.keccak import keccak256
from brainchain.errors import InvalidSignature

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_N = SECP256K1_N // 2


def private_key_to_public_key(private_key: bytes) -> bytes:
    """The 64-byte X||Y public key of a 32-byte private key.

    Raises:
        ValueError: the key is not in [1, n-1].
    """
    return PrivateKey(private_key).public_key.format(compressed=False)[1:]


def public_key_to_address(public_key: bytes) -> bytes:
    """The 20-byte account address: the last 20 bytes of keccak-256 of X||Y (YP eq. 284)."""
    return keccak256(public_key)[12:]


def private_key_to_address(private_key: bytes) -> bytes:
    """The account address a private key controls."""
    return public_key_to_address(private_key_to_public_key(private_key))


def sign(msg_hash: bytes, private_key: bytes) -> tuple[int, int, int]:
    """Sign a 32-byte hash; return (y parity, r, s) with low s (EIP-2), RFC 6979 nonces."""
    signature = PrivateKey(private_key).sign_recoverable(msg_hash, hasher=None)
    return (
        signature[64],
        int.from_bytes(signature[:32], "big"),
        int.from_bytes(signature[32:64], "big"),
    )


def recover_address(msg_hash: bytes, y_parity: int, r: int, s: int) -> bytes:
    """The address that signed `msg_hash` with (y parity, r, s).

    Raises:
        InvalidSignature: r or s out of range, s above n/2 (EIP-2), parity not 0 or 1, or no
            public key recovers.
    """
    if not 0 < r < SECP256K1_N:
        raise InvalidSignature(f"signature r out of range: {r:#x}")
    if not 0 < s <= SECP256K1_HALF_N:
        raise InvalidSignature(f"signature s out of range (EIP-2 requires s <= n/2): {s:#x}")
    if y_parity not in (0, 1):
        raise InvalidSignature(f"signature y parity must be 0 or 1, got {y_parity}")
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes((y_parity,))
    try:
        public_key = PublicKey.from_signature_and_message(signature, msg_hash, hasher=None)
    except ValueError as exc:
        raise InvalidSignature(f"no public key recovers from the signature: {exc}") from None
    return keccak256(public_key.format(compressed=False)[1:])[12:]
