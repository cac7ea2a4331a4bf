"""ECVRF-EDWARDS25519-SHA512-TAI against RFC 9381 Appendix B.3, and everything verify refuses.

The vectors are read in place from ../shared/vectors beside the repository (see its README for
the fields); a missing file fails the tests rather than skipping them.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from nacl import bindings

from brainchain.crypto import ecvrf
from brainchain.errors import InvalidVrf, InvalidVrfKey, InvalidVrfProof

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "rfc9381-ecvrf.json"
TAI_SUITE = "03"

P = ecvrf.FIELD_PRIME
L = ecvrf.GROUP_ORDER
# y of the order-8 points (RFC 9381 §5.4.5); the other small-order points have y = 0, 1, p - 1.
BAD_Y2 = 2707385501144840649318225287225658788936804267575313519463743609750303402022


def _tai_vectors() -> list[dict[str, Any]]:
    if not VECTORS.is_file():
        raise FileNotFoundError(f"{VECTORS} missing: ../shared/vectors is not beside the repo")
    vectors: list[dict[str, Any]] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return [v for v in vectors if v["suite_string"] == TAI_SUITE]


TAI = _tai_vectors()
BY_EXAMPLE = pytest.mark.parametrize("v", TAI, ids=[f"example{v['example']}" for v in TAI])


def _encode(y: int, sign: int = 0) -> bytes:
    return (y | sign << 255).to_bytes(32, "little")


def _times8(point: bytes) -> bytes:
    for _ in range(3):
        point = bindings.crypto_core_ed25519_add(point, point)
    return point


def _small_order_points() -> list[bytes]:
    """The eight points P with 8·P = identity, canonically encoded (x = 0 takes sign 0)."""
    return [
        _encode(y, sign)
        for y in (0, 1, BAD_Y2, P - BAD_Y2, P - 1)
        for sign in (0, 1)
        if not (sign and y in (1, P - 1))
    ]


def _proof(gamma: bytes, c: int, s: int) -> bytes:
    return gamma + c.to_bytes(16, "little") + s.to_bytes(32, "little")


def test_vectors_hold_examples_16_to_18() -> None:
    assert [v["example"] for v in TAI] == [16, 17, 18]


@BY_EXAMPLE
def test_intermediate_values(v: dict[str, Any]) -> None:
    sk, pk, alpha = (bytes.fromhex(v[name]) for name in ("sk", "pk", "alpha"))
    assert ecvrf.secret_scalar(sk).to_bytes(32, "little").hex() == v["x"]
    assert ecvrf.public_key(sk) == pk
    h, ctr = ecvrf.encode_to_curve(pk, alpha)
    assert (h.hex(), ctr) == (v["h"], v["tai_ctr"])
    k = ecvrf.nonce_generation(sk, h)
    assert k.to_bytes(32, "little").hex() == v["k"]
    assert int.from_bytes(bytes.fromhex(v["k_string"]), "little") % L == k
    gamma, c, s = ecvrf.decode_proof(bytes.fromhex(v["pi"]))
    u, v_point = bytes.fromhex(v["u"]), bytes.fromhex(v["v"])
    assert ecvrf.challenge_generation(pk, h, gamma, u, v_point) == c
    assert s == (k + c * ecvrf.secret_scalar(sk)) % L


@BY_EXAMPLE
def test_prove_verify_and_hash(v: dict[str, Any]) -> None:
    sk, pk, alpha = (bytes.fromhex(v[name]) for name in ("sk", "pk", "alpha"))
    pi, beta = bytes.fromhex(v["pi"]), bytes.fromhex(v["beta"])
    assert ecvrf.prove(sk, alpha) == pi
    assert ecvrf.proof_to_hash(pi) == beta
    assert ecvrf.verify(pk, pi, alpha) == beta


@BY_EXAMPLE
def test_every_flipped_proof_bit_is_rejected(v: dict[str, Any]) -> None:
    pk, alpha, pi = (bytes.fromhex(v[name]) for name in ("pk", "alpha", "pi"))
    for bit in range(8 * len(pi)):
        tampered = bytearray(pi)
        tampered[bit // 8] ^= 1 << bit % 8
        with pytest.raises(InvalidVrfProof):
            ecvrf.verify(pk, bytes(tampered), alpha)


def test_wrong_alpha_or_key_is_rejected() -> None:
    for v, other in zip(TAI, TAI[1:] + TAI[:1], strict=True):
        pk, alpha, pi = (bytes.fromhex(v[name]) for name in ("pk", "alpha", "pi"))
        for wrong_alpha in (alpha + b"\x00", bytes.fromhex(other["alpha"]), b"brain"):
            with pytest.raises(InvalidVrfProof, match="challenge"):
                ecvrf.verify(pk, pi, wrong_alpha)
        with pytest.raises(InvalidVrfProof, match="challenge"):
            ecvrf.verify(bytes.fromhex(other["pk"]), pi, alpha)


def test_small_order_keys_are_rejected() -> None:
    points = _small_order_points()
    assert len(set(points)) == 8
    assert all(_times8(point) == ecvrf.IDENTITY for point in points)
    pi, alpha = bytes.fromhex(TAI[0]["pi"]), bytes.fromhex(TAI[0]["alpha"])
    for point in points:
        with pytest.raises(InvalidVrfKey, match="small order"):
            ecvrf.validate_key(point)
        with pytest.raises(InvalidVrfKey, match="small order"):
            ecvrf.verify(point, pi, alpha)


def test_non_canonical_and_off_curve_keys_are_rejected() -> None:
    three = _encode(3)  # y = 3 is on the curve, of large order
    ecvrf.validate_key(three)
    non_canonical = [
        _encode(3 + P),
        _encode(3 + P, 1),
        _encode(P),  # y = 0 + p
        _encode(P + 1),  # the identity with y + p
        _encode(1, 1),  # x = 0 with the sign bit set
        _encode(P - 1, 1),
    ]
    off_curve = _encode(2)  # (y² - 1)/(d·y² + 1) is not a square for y = 2
    for key in [*non_canonical, off_curve]:
        with pytest.raises(InvalidVrfKey, match="canonical encoding"):
            ecvrf.validate_key(key)
    for key in (b"", bytes(31), bytes(33)):
        with pytest.raises(InvalidVrfKey, match="bytes, want 32"):
            ecvrf.validate_key(key)


def test_malformed_proofs_are_rejected() -> None:
    pi = bytes.fromhex(TAI[1]["pi"])
    gamma, c, s = ecvrf.decode_proof(pi)
    cases = {
        "bytes, want 80": [pi[:-1], pi + b"\x00", b""],
        "Gamma is not": [
            _proof(_encode(3 + P), c, s),
            _proof(_encode(1, 1), c, s),
            _proof(_encode(2), c, s),
        ],
        "s is not reduced": [_proof(gamma, c, s + L), _proof(gamma, c, L)],
    }
    for reason, proofs in cases.items():
        for proof in proofs:
            with pytest.raises(InvalidVrfProof, match=reason):
                ecvrf.decode_proof(proof)
            with pytest.raises(InvalidVrfProof, match=reason):
                ecvrf.proof_to_hash(proof)
            with pytest.raises(InvalidVrfProof, match=reason):
                ecvrf.verify(bytes.fromhex(TAI[1]["pk"]), proof, bytes.fromhex(TAI[1]["alpha"]))


def test_degenerate_proofs_fail_verification_cleanly() -> None:
    """Zero c or s and a small-order Gamma decode (RFC 9381 §5.4.4 allows them) but never verify."""
    v = TAI[2]
    pk, alpha, pi = (bytes.fromhex(v[name]) for name in ("pk", "alpha", "pi"))
    gamma, c, s = ecvrf.decode_proof(pi)
    for proof in (
        _proof(gamma, 0, s),
        _proof(gamma, c, 0),
        _proof(gamma, 0, 0),
        *(_proof(point, c, s) for point in _small_order_points()),
    ):
        with pytest.raises(InvalidVrfProof, match="challenge"):
            ecvrf.verify(pk, proof, alpha)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_keys_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(20):
        sk, alpha = rng.randbytes(32), rng.randbytes(rng.randrange(0, 100))
        pk, pi = ecvrf.public_key(sk), ecvrf.prove(sk, alpha)
        assert ecvrf.prove(sk, alpha) == pi
        assert ecvrf.verify(pk, pi, alpha) == ecvrf.proof_to_hash(pi)
        assert len(pi) == ecvrf.PROOF_BYTES and len(ecvrf.proof_to_hash(pi)) == 64


def test_points_with_a_small_order_component_verify_as_the_rfc_says() -> None:
    """A key Y + T and a Gamma + T (T of order 8) are curve points of large order: RFC 9381
    decodes both and validate_key accepts the key. The verifier's U and V then differ from the prover's k·B and k·H by c·T,
    so such a proof verifies exactly when 8 divides c; beta ignores T (it hashes 8·Gamma)."""
    torsion = _encode(BAD_Y2)
    assert _times8(torsion) == ecvrf.IDENTITY != bindings.crypto_core_ed25519_add(torsion, torsion)
    sk = bytes(range(32))
    x = ecvrf.secret_scalar(sk)
    key = bindings.crypto_core_ed25519_add(ecvrf.public_key(sk), torsion)
    ecvrf.validate_key(key)
    outcomes = set()
    for counter in range(200):
        alpha = counter.to_bytes(2, "big")
        h, _ = ecvrf.encode_to_curve(key, alpha)
        honest_gamma = bindings.crypto_scalarmult_ed25519_noclamp((x % L).to_bytes(32, "little"), h)
        gamma = bindings.crypto_core_ed25519_add(honest_gamma, torsion)
        k = ecvrf.nonce_generation(sk, h)
        u = bindings.crypto_scalarmult_ed25519_base_noclamp(k.to_bytes(32, "little"))
        v = bindings.crypto_scalarmult_ed25519_noclamp(k.to_bytes(32, "little"), h)
        c = ecvrf.challenge_generation(key, h, gamma, u, v)
        proof = _proof(gamma, c, (k + c * x) % L)
        if c % 8 == 0:
            assert ecvrf.verify(key, proof, alpha) == ecvrf.proof_to_hash(
                _proof(honest_gamma, c, 0)
            )
        else:
            with pytest.raises(InvalidVrfProof, match="challenge"):
                ecvrf.verify(key, proof, alpha)
        outcomes.add(c % 8 == 0)
        if outcomes == {True, False}:
            break
    assert outcomes == {True, False}


def test_verify_errors_share_one_base() -> None:
    assert issubclass(InvalidVrfKey, InvalidVrf) and issubclass(InvalidVrfProof, InvalidVrf)


def test_secret_key_must_be_32_bytes() -> None:
    for sk in (bytes(31), bytes(33)):
        with pytest.raises(ValueError, match="32 bytes"):
            ecvrf.prove(sk, b"")
