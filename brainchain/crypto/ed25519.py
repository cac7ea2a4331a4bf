"""ed25519 consensus keys (RFC 8032) for votes and proposals, on pynacl (libsodium).

Signatures are deterministic (RFC 8032 §5.1.6), so re-signing the same bytes after a restart
gives the same signature.
"""

from __future__ import annotations

from nacl.exceptions import CryptoError
from nacl.signing import SigningKey, VerifyKey

from brainchain.errors import InvalidConsensusSignature

SEED_BYTES = 32
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


class ConsensusKey:
    """An ed25519 key pair derived from a 32-byte seed (RFC 8032 §5.1.5)."""

    __slots__ = ("_signing_key", "public_key")

    def __init__(self, seed: bytes) -> None:
        """Derive the key pair.

        Raises:
            ValueError: the seed is not 32 bytes.
        """
        if len(seed) != SEED_BYTES:
            raise ValueError(f"ed25519 seed must be {SEED_BYTES} bytes, got {len(seed)}")
        self._signing_key = SigningKey(seed)
        self.public_key: bytes = bytes(self._signing_key.verify_key)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte detached signature of `message`."""
        signature: bytes = self._signing_key.sign(message).signature
        return signature


def verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Check a detached signature.

    Raises:
        InvalidConsensusSignature: wrong key or signature length, or the signature does not
            verify.
    """
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        raise InvalidConsensusSignature(
            f"ed25519 key of {len(public_key)} bytes or signature of {len(signature)} bytes"
        )
    try:
        VerifyKey(public_key).verify(message, signature)
    except CryptoError as exc:
        raise InvalidConsensusSignature(
            f"ed25519 signature does not verify under key 0x{public_key.hex()}"
        ) from exc
