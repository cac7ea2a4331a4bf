"""ed25519 keys, proposals and votes: canonical encodings, strict decoding, signatures."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brainchain.crypto.ed25519 import ConsensusKey, verify
from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError, InvalidConsensusSignature
from brainchain.types.vote import (
    Proposal,
    Vote,
    VoteKind,
    decode_proposal,
    decode_vote,
    sign_proposal,
    sign_vote,
    verify_message,
)

CHAIN_ID = 7
KEY = ConsensusKey(bytes(range(32)))
OTHER = ConsensusKey(bytes(range(1, 33)))
BLOCK = b"\xab" * 32

hashes = st.one_of(st.none(), st.binary(min_size=32, max_size=32))
counters = st.integers(min_value=0, max_value=2**63)


def test_ed25519_rfc8032_test_vector_1() -> None:
    """RFC 8032 §7.1, TEST 1: the empty message."""
    key = ConsensusKey(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )
    assert key.public_key.hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    signature = key.sign(b"")
    assert signature.hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    verify(key.public_key, b"", signature)


def test_ed25519_rejects_wrong_key_message_and_lengths() -> None:
    signature = KEY.sign(b"vote")
    for public_key, message, sig in (
        (OTHER.public_key, b"vote", signature),
        (KEY.public_key, b"votf", signature),
        (KEY.public_key[:31], b"vote", signature),
        (KEY.public_key, b"vote", signature[:63]),
    ):
        with pytest.raises(InvalidConsensusSignature):
            verify(public_key, message, sig)
    with pytest.raises(ValueError):
        ConsensusKey(bytes(31))


@given(counters, counters, st.sampled_from(VoteKind), hashes, counters)
def test_vote_round_trip(
    height: int, round_: int, kind: VoteKind, block: bytes | None, validator: int
) -> None:
    vote = Vote(height, round_, kind, block, validator, b"\x01" * 64)
    assert decode_vote(vote.encode()) == vote


@given(counters, st.integers(min_value=0, max_value=1000), st.data())
def test_proposal_round_trip(height: int, round_: int, data: st.DataObject) -> None:
    valid_round = data.draw(st.integers(min_value=-1, max_value=round_ - 1))
    proposal = Proposal(height, round_, BLOCK, valid_round, 3, b"\x02" * 64)
    assert decode_proposal(proposal.encode()) == proposal


@pytest.mark.parametrize(
    "fields",
    [
        [1, 0, 1, BLOCK, 0],  # too few fields
        [1, 0, 3, BLOCK, 0, b"\x00" * 64],  # no such kind
        [1, 0, True, BLOCK, 0, b"\x00" * 64],  # bool is not a kind
        [-1, 0, 1, BLOCK, 0, b"\x00" * 64],  # negative height
        [1, 0, 1, b"\x00" * 31, 0, b"\x00" * 64],  # short hash
        [1, 0, 1, "hash", 0, b"\x00" * 64],  # hash as text
        [1, 0, 1, BLOCK, 0, b"\x00" * 63],  # short signature
        [1, 0, 1, BLOCK, -2, b"\x00" * 64],  # negative validator
    ],
)
def test_vote_decoding_is_strict(fields: list[object]) -> None:
    with pytest.raises(DecodingError):
        decode_vote(msgpack_canon.pack(fields))


@pytest.mark.parametrize(
    "fields",
    [
        [1, 2, BLOCK, 2, 0, b"\x00" * 64],  # valid round not below the round
        [1, 2, BLOCK, -2, 0, b"\x00" * 64],  # below -1
        [1, 2, None, -1, 0, b"\x00" * 64],  # a proposal names a block
        [1, 2, BLOCK, -1, 0, b"\x00" * 64, 0],  # extra field
    ],
)
def test_proposal_decoding_is_strict(fields: list[object]) -> None:
    with pytest.raises(DecodingError):
        decode_proposal(msgpack_canon.pack(fields))


def test_non_canonical_encoding_is_rejected() -> None:
    encoded = bytearray(Vote(1, 0, VoteKind.PREVOTE, None, 300, b"\x00" * 64).encode())
    # 300 as uint32 (0xce) instead of the shortest uint16 (0xcd) form.
    at = encoded.index(b"\xcd\x01\x2c")
    tampered = bytes(encoded[:at]) + b"\xce\x00\x00\x01\x2c" + bytes(encoded[at + 3 :])
    with pytest.raises(DecodingError):
        decode_vote(tampered)


def test_signatures_bind_every_field_and_the_chain() -> None:
    vote = sign_vote(Vote(5, 1, VoteKind.PRECOMMIT, BLOCK, 2), CHAIN_ID, KEY)
    verify_message(vote, CHAIN_ID, KEY.public_key)
    for forged in (
        Vote(5, 1, VoteKind.PRECOMMIT, None, 2, vote.signature),
        Vote(5, 2, VoteKind.PRECOMMIT, BLOCK, 2, vote.signature),
        Vote(5, 1, VoteKind.PREVOTE, BLOCK, 2, vote.signature),
        Vote(5, 1, VoteKind.PRECOMMIT, BLOCK, 3, vote.signature),
    ):
        with pytest.raises(InvalidConsensusSignature):
            verify_message(forged, CHAIN_ID, KEY.public_key)
    with pytest.raises(InvalidConsensusSignature):
        verify_message(vote, CHAIN_ID + 1, KEY.public_key)
    proposal = sign_proposal(Proposal(5, 1, BLOCK, 0, 2), CHAIN_ID, KEY)
    verify_message(proposal, CHAIN_ID, KEY.public_key)
    with pytest.raises(InvalidConsensusSignature):
        verify_message(proposal, CHAIN_ID, OTHER.public_key)


def test_a_vote_signature_is_no_proposal_signature() -> None:
    """Domain separation: the sign-bytes of the two kinds of message never coincide."""
    proposal = Proposal(5, 1, BLOCK, 0, 2)
    vote = Vote(5, 1, VoteKind.PREVOTE, BLOCK, 2)
    assert proposal.sign_bytes(CHAIN_ID) != vote.sign_bytes(CHAIN_ID)
