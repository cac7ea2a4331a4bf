"""Block randomness (PREVRANDAO): the proposer's ECVRF output over the parent's randomness
(DESIGN.md §4; ECVRF-EDWARDS25519-SHA512-TAI, RFC 9381 §5).

The proposer of height h proves alpha = tag ‖ chain id ‖ h ‖ randomness of block h - 1 with
its VRF key and puts the 80-byte proof in the header; the header's randomness is the first
32 bytes of the 64-byte output beta (PREVRANDAO is one 256-bit word, EIP-4399, and a prefix of
a uniform SHA-512 output is uniform). Every validator checks the proof against the VRF key the
genesis registers for the header's proposer before it votes for or applies the block, and
block sync checks fetched blocks the same way. Block 0 has no proposer and an empty proof; its
randomness is fixed by the genesis (genesis/block.py).

Why this alpha:
- VRF uniqueness (RFC 9381 §3.1) gives one output per key and alpha, and alpha holds nothing
  a proposer picks (no transactions, timestamp or parent hash), so neither this block's
  proposer nor its parent's can grind it. The only choice left is to propose or not:
  withholding hands the height to the next round's proposer and its output, at most one bit
  of bias per height, as with Ethereum's RANDAO.
- VRF pseudorandomness (RFC 9381 §3.3): without the proposer's secret key nobody can compute
  the output before the block shows it, and the proposer itself only once it sees the parent.
- The tag keeps this use of a validator's VRF key apart from the committee proofs the same key
  makes over 32-byte seeds (DESIGN.md §5), so no proof serves both, as the beacon chain signs
  its RANDAO reveal under DOMAIN_RANDAO (consensus-specs phase0 `process_randao`). The chain
  id and height make alpha unique per chain and height by construction, rather than by the
  chain of outputs never repeating.

Per block the proposer proves once (about 0.5 ms on one core) and every validator verifies once
(about 0.8 ms): `python -m bench.vrf` measures both.
"""

from __future__ import annotations

from brainchain.crypto import ecvrf
from brainchain.types.block import Header

RANDOMNESS_TAG = b"brainchain block randomness"
RANDOMNESS_BYTES = 32  # one EVM word (EIP-4399 PREVRANDAO)
INTEGER_BYTES = 32  # chain id and height in alpha, big-endian


def randomness_alpha(parent: Header) -> bytes:
    """The VRF input of the child of `parent`: tag ‖ chain id ‖ child height ‖ parent's
    randomness, the integers as 32-byte big-endian words."""
    return (
        RANDOMNESS_TAG
        + parent.chain_id.to_bytes(INTEGER_BYTES, "big")
        + (parent.height + 1).to_bytes(INTEGER_BYTES, "big")
        + parent.randomness
    )


def prove_randomness(vrf_key: bytes, parent: Header) -> bytes:
    """The proof the holder of `vrf_key` puts in the header of the child of `parent`
    (RFC 9381 §5.1).

    Raises:
        ValueError: the secret key is not 32 bytes.
    """
    return ecvrf.prove(vrf_key, randomness_alpha(parent))


def randomness_from_proof(proof: bytes) -> bytes:
    """The randomness a proof gives, unchecked: for a proof this node made (RFC 9381 §5.2).

    Raises:
        InvalidVrfProof: the proof does not decode.
    """
    return ecvrf.proof_to_hash(proof)[:RANDOMNESS_BYTES]


def verify_randomness(vrf_public_key: bytes, parent: Header, proof: bytes) -> bytes:
    """The randomness of the child of `parent`, if `proof` proves it under the proposer's
    `vrf_public_key` (RFC 9381 §5.3, with key validation).

    Raises:
        InvalidVrfKey: the public key is not a valid VRF key.
        InvalidVrfProof: the proof does not decode or does not verify for this key and parent.
    """
    return ecvrf.verify(vrf_public_key, proof, randomness_alpha(parent))[:RANDOMNESS_BYTES]
