"""Commit certificates: +2/3 of the voting power precommitted a block (Tendermint Alg. 1 L49).

A certificate is stored with the next block (`Block.last_commit`, hashed into the header's
`last_commit_hash`) and checked by every node and by block sync. Its precommits are kept as
(validator index, signature) pairs in ascending index order: the height, round and block hash
are common to all of them, and one order gives one encoding, hence one hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from brainchain.crypto import ed25519
from brainchain.crypto.keccak import keccak256
from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError, InvalidCommit, InvalidConsensusSignature
from brainchain.types.validators import ValidatorSet
from brainchain.types.vote import HASH_BYTES, Vote, VoteKind


@dataclass(frozen=True, slots=True)
class CommitSignature:
    """One validator's precommit signature inside a certificate."""

    validator: int
    signature: bytes


@dataclass(frozen=True, slots=True)
class CommitCertificate:
    """Precommits for `block_hash` at (`height`, `round`), by ascending validator index."""

    height: int
    round: int
    block_hash: bytes
    precommits: tuple[CommitSignature, ...]

    def encode(self) -> bytes:
        """Canonical msgpack [height, round, block hash, [[validator, signature], ...]]."""
        return msgpack_canon.pack(
            [
                self.height,
                self.round,
                self.block_hash,
                [[p.validator, p.signature] for p in self.precommits],
            ]
        )

    @property
    def hash(self) -> bytes:
        """keccak-256 of the encoding: the next header's `last_commit_hash`."""
        return keccak256(self.encode())

    def precommit(self, signature: CommitSignature) -> Vote:
        """The precommit vote a signature in this certificate stands for."""
        return Vote(
            self.height,
            self.round,
            VoteKind.PRECOMMIT,
            self.block_hash,
            signature.validator,
            signature.signature,
        )


def make_commit(
    height: int, round_: int, block_hash: bytes, precommits: Iterable[Vote]
) -> CommitCertificate:
    """The certificate of these precommits for `block_hash`, sorted by validator index."""
    signatures = sorted(
        (CommitSignature(v.validator, v.signature) for v in precommits), key=lambda s: s.validator
    )
    return CommitCertificate(height, round_, block_hash, tuple(signatures))


def decode_commit(data: bytes) -> CommitCertificate:
    """Parse an encoded certificate.

    Raises:
        DecodingError: not canonical msgpack, a field of the wrong type, no precommits, or
            validator indices not strictly ascending.
    """
    values = msgpack_canon.unpack(data)
    if not isinstance(values, list) or len(values) != 4:
        raise DecodingError("commit certificate must be [height, round, block hash, precommits]")
    height, round_, block_hash, raw_precommits = values
    for name, value in (("height", height), ("round", round_)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DecodingError(f"commit {name} must be a non-negative integer, got {value!r}")
    if not isinstance(block_hash, bytes) or len(block_hash) != HASH_BYTES:
        raise DecodingError(f"commit block hash must be {HASH_BYTES} bytes")
    if not isinstance(raw_precommits, list) or not raw_precommits:
        raise DecodingError("commit precommits must be a non-empty list")
    signatures: list[CommitSignature] = []
    for entry in raw_precommits:
        if not isinstance(entry, list) or len(entry) != 2:
            raise DecodingError("commit precommit must be [validator, signature]")
        validator, signature = entry
        if not isinstance(validator, int) or isinstance(validator, bool) or validator < 0:
            raise DecodingError(f"commit validator index {validator!r} is not an index")
        if signatures and validator <= signatures[-1].validator:
            raise DecodingError("commit precommits must be in strictly ascending validator order")
        if not isinstance(signature, bytes) or len(signature) != ed25519.SIGNATURE_BYTES:
            raise DecodingError(f"commit signature must be {ed25519.SIGNATURE_BYTES} bytes")
        signatures.append(CommitSignature(validator, signature))
    return CommitCertificate(height, round_, block_hash, tuple(signatures))


def check_commit_power(cert: CommitCertificate, validators: ValidatorSet) -> None:
    """Check the signers are distinct known validators with +2/3 of the power, signatures aside.

    Raises:
        InvalidCommit: an unknown or repeated signer, or `3 * signed power <= 2 * total`.
    """
    signed = 0
    previous = -1
    for entry in cert.precommits:
        if entry.validator <= previous:
            raise InvalidCommit(
                f"commit signer {entry.validator} repeated or out of order after {previous}"
            )
        if entry.validator >= len(validators):
            raise InvalidCommit(
                f"commit signer {entry.validator} not in a set of {len(validators)} validators"
            )
        previous = entry.validator
        signed += validators[entry.validator].power
    if 3 * signed <= 2 * validators.total_power:
        raise InvalidCommit(
            f"commit carries power {signed} of {validators.total_power}, needs more than 2/3"
        )


def verify_commit(cert: CommitCertificate, validators: ValidatorSet, chain_id: int) -> None:
    """Check a certificate proves +2/3 of `validators` precommitted its block on `chain_id`.

    The caller compares `cert.height` and `cert.block_hash` with the block it certifies.

    Raises:
        InvalidCommit: an unknown or repeated signer, too little power, or a signature that does
            not verify.
    """
    check_commit_power(cert, validators)
    for entry in cert.precommits:
        vote = cert.precommit(entry)
        try:
            ed25519.verify(
                validators[entry.validator].public_key, vote.sign_bytes(chain_id), entry.signature
            )
        except InvalidConsensusSignature as exc:
            raise InvalidCommit(
                f"commit precommit of validator {entry.validator} does not verify"
            ) from exc
