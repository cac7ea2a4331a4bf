"""Consensus messages: proposals and votes, their canonical sign-bytes and wire encoding.

A value is named by its block hash; the block bytes travel beside the proposal (DESIGN.md §4).
Validators are named by their index in the validator set. The chain id is bound into the
sign-bytes, not carried on the wire, as CometBFT's canonical votes do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from brainchain.crypto import ed25519
from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError

HASH_BYTES = 32
NO_ROUND = -1  # "none" for valid_round, as Tendermint Alg. 1 L9 writes validRound = -1
VOTE_DOMAIN = "brainchain/vote"
PROPOSAL_DOMAIN = "brainchain/proposal"


class VoteKind(IntEnum):
    """The two voting steps of a round (Tendermint Alg. 1 L24, L40)."""

    PREVOTE = 1
    PRECOMMIT = 2


@dataclass(frozen=True, slots=True)
class Vote:
    """⟨PREVOTE|PRECOMMIT, height, round, id(v)⟩ from one validator; `block_hash` None is nil."""

    height: int
    round: int
    kind: VoteKind
    block_hash: bytes | None
    validator: int
    signature: bytes = b""

    def sign_bytes(self, chain_id: int) -> bytes:
        """What the validator signs: every field but the signature, with the chain id."""
        return msgpack_canon.pack(
            [
                VOTE_DOMAIN,
                chain_id,
                self.height,
                self.round,
                int(self.kind),
                self.block_hash,
                self.validator,
            ]
        )

    def encode(self) -> bytes:
        """Canonical msgpack [height, round, kind, block hash or nil, validator, signature]."""
        return msgpack_canon.pack(
            [
                self.height,
                self.round,
                int(self.kind),
                self.block_hash,
                self.validator,
                self.signature,
            ]
        )


@dataclass(frozen=True, slots=True)
class Proposal:
    """⟨PROPOSAL, height, round, id(v), validRound⟩ from the round's proposer (Alg. 1 L19)."""

    height: int
    round: int
    block_hash: bytes
    valid_round: int
    proposer: int
    signature: bytes = b""

    def sign_bytes(self, chain_id: int) -> bytes:
        """What the proposer signs: every field but the signature, with the chain id."""
        return msgpack_canon.pack(
            [
                PROPOSAL_DOMAIN,
                chain_id,
                self.height,
                self.round,
                self.block_hash,
                self.valid_round,
                self.proposer,
            ]
        )

    def encode(self) -> bytes:
        """Canonical msgpack [height, round, block hash, valid round, proposer, signature]."""
        return msgpack_canon.pack(
            [
                self.height,
                self.round,
                self.block_hash,
                self.valid_round,
                self.proposer,
                self.signature,
            ]
        )


ConsensusMessage = Proposal | Vote


def decode_vote(data: bytes) -> Vote:
    """Parse an encoded vote.

    Raises:
        DecodingError: not canonical msgpack, wrong field count, or a field of the wrong type or
            range.
    """
    values = msgpack_canon.unpack(data)
    if not isinstance(values, list) or len(values) != 6:
        raise DecodingError("vote must be a list of 6 fields")
    height, round_, kind, block_hash, validator, signature = values
    _check_counter("vote height", height)
    _check_counter("vote round", round_)
    _check_counter("vote validator", validator)
    if kind not in (VoteKind.PREVOTE, VoteKind.PRECOMMIT) or isinstance(kind, bool):
        raise DecodingError(f"vote kind {kind!r} is neither prevote nor precommit")
    if block_hash is not None:
        _check_hash("vote block hash", block_hash)
    _check_signature("vote", signature)
    return Vote(height, round_, VoteKind(kind), block_hash, validator, signature)


def decode_proposal(data: bytes) -> Proposal:
    """Parse an encoded proposal.

    Raises:
        DecodingError: not canonical msgpack, wrong field count, a field of the wrong type or
            range, or a valid round not below the round (Alg. 1 L28 needs vr < round).
    """
    values = msgpack_canon.unpack(data)
    if not isinstance(values, list) or len(values) != 6:
        raise DecodingError("proposal must be a list of 6 fields")
    height, round_, block_hash, valid_round, proposer, signature = values
    _check_counter("proposal height", height)
    _check_counter("proposal round", round_)
    _check_counter("proposal proposer", proposer)
    _check_hash("proposal block hash", block_hash)
    if not isinstance(valid_round, int) or isinstance(valid_round, bool):
        raise DecodingError(f"proposal valid round has type {type(valid_round).__name__}")
    if not NO_ROUND <= valid_round < round_:
        raise DecodingError(f"proposal valid round {valid_round} not in [-1, {round_})")
    _check_signature("proposal", signature)
    return Proposal(height, round_, block_hash, valid_round, proposer, signature)


def sign_vote(vote: Vote, chain_id: int, key: ed25519.ConsensusKey) -> Vote:
    """The vote with its ed25519 signature filled in."""
    return replace(vote, signature=key.sign(vote.sign_bytes(chain_id)))


def sign_proposal(proposal: Proposal, chain_id: int, key: ed25519.ConsensusKey) -> Proposal:
    """The proposal with its ed25519 signature filled in."""
    return replace(proposal, signature=key.sign(proposal.sign_bytes(chain_id)))


def verify_message(message: ConsensusMessage, chain_id: int, public_key: bytes) -> None:
    """Check the signature of a vote or proposal against the signer's consensus key.

    Raises:
        InvalidConsensusSignature: the signature does not verify.
    """
    ed25519.verify(public_key, message.sign_bytes(chain_id), message.signature)


def _check_counter(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DecodingError(f"{name} must be a non-negative integer, got {value!r}")


def _check_hash(name: str, value: object) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_BYTES:
        raise DecodingError(f"{name} must be {HASH_BYTES} bytes")


def _check_signature(name: str, value: object) -> None:
    if not isinstance(value, bytes) or len(value) != ed25519.SIGNATURE_BYTES:
        raise DecodingError(f"{name} signature must be {ed25519.SIGNATURE_BYTES} bytes")


PROPOSAL_TAG = 0x01
VOTE_TAG = 0x02


def encode_message(message: ConsensusMessage) -> bytes:
    """A proposal or vote behind a one-byte tag, for the WAL and the wire."""
    tag = PROPOSAL_TAG if isinstance(message, Proposal) else VOTE_TAG
    return bytes([tag]) + message.encode()


def decode_message(data: bytes) -> ConsensusMessage:
    """Parse `encode_message` output.

    Raises:
        DecodingError: an unknown tag, or a body `decode_proposal`/`decode_vote` refuses.
    """
    if data[:1] == bytes([PROPOSAL_TAG]):
        return decode_proposal(data[1:])
    if data[:1] == bytes([VOTE_TAG]):
        return decode_vote(data[1:])
    raise DecodingError(f"unknown consensus message tag {data[:1].hex() or 'none'}")
