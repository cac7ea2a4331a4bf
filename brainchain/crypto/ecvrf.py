"""ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381 §5, suite 0x03) on libsodium's edwards25519 group.

VRF keys are RFC 8032 keys: a 32-byte seed is the secret key; the public key is the encoded
point x·B. Points travel as their 32-byte RFC 8032 encodings, which are also the RFC's
point_to_string. Decoding is strict (RFC 8032 §5.1.3): y ≥ p and a set sign bit on x = 0 are
rejected, so every point has one encoding and every proof one form. Verification runs
ECVRF_validate_key (§5.4.5): small-order public keys are rejected.

libsodium's `crypto_scalarmult_ed25519_noclamp` and `crypto_core_ed25519_is_valid_point` refuse
points outside the prime-order subgroup, and the points try-and-increment draws are usually
there before their cofactor is cleared. `crypto_core_ed25519_add` accepts every curve point, so
decoding, cofactor clearing (three doublings) and the rare key or Gamma with a small-order
component go through it instead.
"""

from __future__ import annotations

from hashlib import sha512

from nacl import bindings
from nacl.exceptions import RuntimeError as SodiumError

from brainchain.errors import InvalidVrfKey, InvalidVrfProof

SUITE_STRING = b"\x03"  # RFC 9381 §5.5, ECVRF-EDWARDS25519-SHA512-TAI
SECRET_KEY_BYTES = 32
POINT_BYTES = 32  # ptLen
CHALLENGE_BYTES = 16  # cLen
SCALAR_BYTES = 32  # qLen
PROOF_BYTES = POINT_BYTES + CHALLENGE_BYTES + SCALAR_BYTES
OUTPUT_BYTES = 64  # hLen, SHA-512

FIELD_PRIME = 2**255 - 19  # p (RFC 8032 §5.1)
GROUP_ORDER = 2**252 + 27742317777372353535851937790883648493  # q, called L in RFC 8032
COFACTOR = 8

ENCODE_TO_CURVE_FRONT = b"\x01"  # RFC 9381 §5.4.1.1
CHALLENGE_FRONT = b"\x02"  # §5.4.3
PROOF_TO_HASH_FRONT = b"\x03"  # §5.2
DOMAIN_SEPARATOR_BACK = b"\x00"

IDENTITY = (1).to_bytes(POINT_BYTES, "little")  # the neutral element (0, 1)
_Y_MASK = (1 << 255) - 1
_SIGN_BIT = 0x80
_INVERSE_COFACTOR = pow(COFACTOR, -1, GROUP_ORDER)


def secret_scalar(secret_key: bytes) -> int:
    """The secret scalar x: SHA-512 of the key's first half, clamped (RFC 8032 §5.1.5).

    It is not reduced mod q, as RFC 9381 §5.5 takes it.

    Raises:
        ValueError: the secret key is not 32 bytes.
    """
    if len(secret_key) != SECRET_KEY_BYTES:
        raise ValueError(f"VRF secret key must be {SECRET_KEY_BYTES} bytes, got {len(secret_key)}")
    scalar = int.from_bytes(sha512(secret_key).digest()[:32], "little")
    return (scalar & ((1 << 254) - 8)) | (1 << 254)


def public_key(secret_key: bytes) -> bytes:
    """The VRF public key point_to_string(x·B) (RFC 9381 §5.5, RFC 8032 §5.1.5).

    Raises:
        ValueError: the secret key is not 32 bytes.
    """
    return _mul_base(secret_scalar(secret_key))


def prove(secret_key: bytes, alpha: bytes) -> bytes:
    """The 80-byte proof pi = Gamma ‖ c ‖ s that beta is the VRF output for alpha (RFC 9381 §5.1).

    Raises:
        ValueError: the secret key is not 32 bytes.
    """
    x = secret_scalar(secret_key)
    y = _mul_base(x)
    h, _ = encode_to_curve(y, alpha)
    gamma = _mul(x, h)
    k = nonce_generation(secret_key, h)
    c = challenge_generation(y, h, gamma, _mul_base(k), _mul(k, h))
    s = (k + c * x) % GROUP_ORDER
    return gamma + c.to_bytes(CHALLENGE_BYTES, "little") + s.to_bytes(SCALAR_BYTES, "little")


def proof_to_hash(proof: bytes) -> bytes:
    """The 64-byte VRF output beta of a proof, without checking it (RFC 9381 §5.2).

    Use it only on proofs this node made or verified: `verify` returns the same bytes.

    Raises:
        InvalidVrfProof: the proof does not decode (RFC 9381 §5.4.4).
    """
    _, cofactor_gamma, _, _ = _decode_proof(proof)
    return _gamma_to_hash(cofactor_gamma)


def verify(public_key: bytes, proof: bytes, alpha: bytes) -> bytes:
    """Check that `proof` proves the VRF output for `alpha` under `public_key`; return that
    64-byte output beta (RFC 9381 §5.3, with validate_key = TRUE).

    Raises:
        InvalidVrfKey: the public key is not a canonical curve point or has small order.
        InvalidVrfProof: the proof does not decode, or does not verify for this key and alpha.
    """
    validate_key(public_key)
    gamma, cofactor_gamma, c, s = _decode_proof(proof)
    h, _ = encode_to_curve(public_key, alpha)
    u = bindings.crypto_core_ed25519_sub(_mul_base(s), _mul(c, public_key))
    v = bindings.crypto_core_ed25519_sub(_mul(s, h), _mul(c, gamma))
    if challenge_generation(public_key, h, gamma, u, v) != c:
        raise InvalidVrfProof(proof, "challenge does not match this public key and alpha")
    return _gamma_to_hash(cofactor_gamma)


def validate_key(public_key: bytes) -> None:
    """Accept only canonical encodings of curve points Y with cofactor·Y ≠ identity
    (string_to_point of RFC 9381 §5.5, then ECVRF_validate_key of §5.4.5).

    Raises:
        InvalidVrfKey: wrong length, not a canonical curve point, or of small order.
    """
    if len(public_key) != POINT_BYTES:
        raise InvalidVrfKey(public_key, f"{len(public_key)} bytes, want {POINT_BYTES}")
    cofactor_y = _cofactor_multiple(public_key)
    if cofactor_y is None:
        raise InvalidVrfKey(public_key, "not the canonical encoding of a curve point")
    if cofactor_y == IDENTITY:
        raise InvalidVrfKey(public_key, "point of small order")


def decode_proof(proof: bytes) -> tuple[bytes, int, int]:
    """Split pi into (Gamma, c, s), with Gamma a canonical curve point and s < q
    (ECVRF_decode_proof, RFC 9381 §5.4.4).

    Raises:
        InvalidVrfProof: wrong length, Gamma not a canonical curve point, or s ≥ q.
    """
    gamma, _, c, s = _decode_proof(proof)
    return gamma, c, s


def encode_to_curve(salt: bytes, alpha: bytes) -> tuple[bytes, int]:
    """H = ECVRF_encode_to_curve_try_and_increment(salt, alpha) and the counter that produced
    it (RFC 9381 §5.4.1.1); salt is the public key (§5.5).

    interpret_hash_value_as_a_point reads the first 32 bytes of the hash with string_to_point
    (§5.5); the point found is multiplied by the cofactor, and the identity is skipped.

    Raises:
        OverflowError: the one-byte counter ran past 255, which the RFC's loop allows and
            which happens with probability about 2^-256.
    """
    prefix = SUITE_STRING + ENCODE_TO_CURVE_FRONT + salt + alpha
    ctr = 0
    while True:
        digest = sha512(prefix + ctr.to_bytes(1, "little") + DOMAIN_SEPARATOR_BACK).digest()
        h = _cofactor_multiple(digest[:POINT_BYTES])
        if h is not None and h != IDENTITY:
            return h, ctr
        ctr += 1


def nonce_generation(secret_key: bytes, h: bytes) -> int:
    """The nonce k = SHA-512(SHA-512(SK)[32..64] ‖ h_string) mod q (RFC 9381 §5.4.2.2)."""
    prefix = sha512(secret_key).digest()[32:]
    return int.from_bytes(sha512(prefix + h).digest(), "little") % GROUP_ORDER


def challenge_generation(y: bytes, h: bytes, gamma: bytes, u: bytes, v: bytes) -> int:
    """The challenge c: the first 16 bytes of SHA-512 over the five points (RFC 9381 §5.4.3)."""
    digest = sha512(
        SUITE_STRING + CHALLENGE_FRONT + y + h + gamma + u + v + DOMAIN_SEPARATOR_BACK
    ).digest()
    return int.from_bytes(digest[:CHALLENGE_BYTES], "little")


def _decode_proof(proof: bytes) -> tuple[bytes, bytes, int, int]:
    """decode_proof, also returning cofactor·Gamma, which decoding computes anyway."""
    if len(proof) != PROOF_BYTES:
        raise InvalidVrfProof(proof, f"{len(proof)} bytes, want {PROOF_BYTES}")
    gamma = proof[:POINT_BYTES]
    cofactor_gamma = _cofactor_multiple(gamma)
    if cofactor_gamma is None:
        raise InvalidVrfProof(proof, "Gamma is not the canonical encoding of a curve point")
    c = int.from_bytes(proof[POINT_BYTES : POINT_BYTES + CHALLENGE_BYTES], "little")
    s = int.from_bytes(proof[POINT_BYTES + CHALLENGE_BYTES :], "little")
    if s >= GROUP_ORDER:
        raise InvalidVrfProof(proof, "s is not reduced modulo the group order")
    return gamma, cofactor_gamma, c, s


def _gamma_to_hash(cofactor_gamma: bytes) -> bytes:
    """beta_string from cofactor·Gamma (RFC 9381 §5.2 step 6)."""
    return sha512(
        SUITE_STRING + PROOF_TO_HASH_FRONT + cofactor_gamma + DOMAIN_SEPARATOR_BACK
    ).digest()


def _cofactor_multiple(encoded: bytes) -> bytes | None:
    """cofactor·P for the point P that `encoded` canonically encodes, None if it encodes none.

    Strict RFC 8032 §5.1.3 decoding: y must be below p, and x = 0 (y = ±1) must come with a
    clear sign bit. libsodium itself reduces y and ignores that sign bit, so both are checked
    here; its addition then rejects a y with no x on the curve.
    """
    y = int.from_bytes(encoded, "little") & _Y_MASK
    if y >= FIELD_PRIME or (encoded[-1] & _SIGN_BIT and y in (1, FIELD_PRIME - 1)):
        return None
    try:
        return _times_cofactor(encoded)
    except SodiumError:
        return None


def _times_cofactor(point: bytes) -> bytes:
    """8·P by three doublings; libsodium's addition takes points outside the subgroup too."""
    for _ in range(3):
        point = bindings.crypto_core_ed25519_add(point, point)
    return point


def _mul_base(scalar: int) -> bytes:
    """scalar·B."""
    reduced = scalar % GROUP_ORDER
    if reduced == 0:  # libsodium refuses a zero scalar
        return IDENTITY
    return bindings.crypto_scalarmult_ed25519_base_noclamp(reduced.to_bytes(SCALAR_BYTES, "little"))


def _mul(scalar: int, point: bytes) -> bytes:
    """scalar·P for any curve point P, inside the prime-order subgroup or not."""
    reduced = scalar % GROUP_ORDER
    if reduced:
        try:
            return bindings.crypto_scalarmult_ed25519_noclamp(
                reduced.to_bytes(SCALAR_BYTES, "little"), point
            )
        except SodiumError:
            pass  # P has a small-order component (or is small): split it off below
    # The group is Z_q × Z_8: P = A + T with q·A = 0 and 8·T = 0, A = 8⁻¹·(8·P) mod q, so
    # scalar·P = (scalar mod q)·A + (scalar mod 8)·T.
    cofactor_p = _times_cofactor(point)
    prime_part = IDENTITY
    if cofactor_p != IDENTITY:
        prime_part = bindings.crypto_scalarmult_ed25519_noclamp(
            _INVERSE_COFACTOR.to_bytes(SCALAR_BYTES, "little"), cofactor_p
        )
    torsion = bindings.crypto_core_ed25519_sub(point, prime_part)
    result = IDENTITY
    for _ in range(scalar % COFACTOR):
        result = bindings.crypto_core_ed25519_add(result, torsion)
    if reduced and prime_part != IDENTITY:
        prime_multiple = bindings.crypto_scalarmult_ed25519_noclamp(
            reduced.to_bytes(SCALAR_BYTES, "little"), prime_part
        )
        result = bindings.crypto_core_ed25519_add(result, prime_multiple)
    return result
