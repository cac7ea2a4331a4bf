"""Evidence of double signing: two different signed messages of one validator for one step.

Tendermint's safety argument holds only while less than 1/3 of the power signs twice; the
evidence makes such a validator accountable (DESIGN.md §4: recorded on chain). A pair is in
canonical order (by encoding), so every node that catches it builds the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from brainchain.crypto.keccak import keccak256
from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError, InvalidConsensusSignature, InvalidEvidence
from brainchain.types.validators import ValidatorSet
from brainchain.types.vote import (
    ConsensusMessage,
    Proposal,
    Vote,
    decode_message,
    encode_message,
    verify_message,
)


@dataclass(frozen=True, slots=True)
class DoubleSign:
    """Two conflicting messages with the same signer, height, round and step."""

    first: ConsensusMessage
    second: ConsensusMessage

    @classmethod
    def of(cls, a: ConsensusMessage, b: ConsensusMessage) -> DoubleSign:
        """The pair in canonical order."""
        first, second = sorted((a, b), key=encode_message)
        return cls(first, second)

    @property
    def key(self) -> bytes:
        """Names the offence (signer, height, round, step), so it is recorded once."""
        m = self.first
        signer = m.proposer if isinstance(m, Proposal) else m.validator
        step = 0 if isinstance(m, Proposal) else int(m.kind)
        return keccak256(msgpack_canon.pack([signer, m.height, m.round, step]))

    def encode(self) -> bytes:
        return msgpack_canon.pack([encode_message(self.first), encode_message(self.second)])


def decode_evidence(data: bytes) -> DoubleSign:
    """Parse an encoded pair.

    Raises:
        DecodingError: malformed, or not in canonical order.
    """
    fields = msgpack_canon.unpack(data)
    if not isinstance(fields, list) or len(fields) != 2 or not all(
        isinstance(f, bytes) for f in fields
    ):
        raise DecodingError("evidence must be [message, message]")
    if fields[0] >= fields[1]:
        raise DecodingError("evidence messages must be distinct and in canonical order")
    return DoubleSign(decode_message(fields[0]), decode_message(fields[1]))


def verify_evidence(evidence: DoubleSign, validators: ValidatorSet, chain_id: int) -> None:
    """Check the pair proves a validator of `validators` signed twice for one step.

    Raises:
        InvalidEvidence: different kinds, steps or signers, no conflict, an unknown signer, or
            a signature that does not verify.
    """
    a, b = evidence.first, evidence.second
    if type(a) is not type(b) or (a.height, a.round) != (b.height, b.round):
        raise InvalidEvidence("the messages are not for the same height, round and step")
    if isinstance(a, Proposal):
        assert isinstance(b, Proposal)
        signer, other = a.proposer, b.proposer
        conflict = (a.block_hash, a.valid_round) != (b.block_hash, b.valid_round)
    else:
        assert isinstance(b, Vote)
        if a.kind is not b.kind:
            raise InvalidEvidence("the votes are of different kinds")
        signer, other = a.validator, b.validator
        conflict = a.block_hash != b.block_hash
    if signer != other or not 0 <= signer < len(validators):
        raise InvalidEvidence(f"signers {signer} and {other} are not one validator of the set")
    if not conflict:
        raise InvalidEvidence("the messages do not conflict")
    for message in (a, b):
        try:
            verify_message(message, chain_id, validators[signer].public_key)
        except InvalidConsensusSignature as exc:
            raise InvalidEvidence(f"evidence signature does not verify: {exc}") from exc
