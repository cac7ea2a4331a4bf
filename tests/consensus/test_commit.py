"""Commit certificates: codec, hash, and verification with real ed25519 signatures."""

from __future__ import annotations

from dataclasses import replace

import pytest

from brainchain.crypto.ed25519 import ConsensusKey
from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError, InvalidCommit
from brainchain.types.commit import (
    CommitCertificate,
    CommitSignature,
    decode_commit,
    make_commit,
    verify_commit,
)
from brainchain.types.validators import ValidatorSet
from brainchain.types.vote import Vote, VoteKind, sign_vote

CHAIN_ID = 7
HEIGHT, ROUND = 12, 1
BLOCK = b"\x11" * 32
KEYS = [ConsensusKey(bytes([i + 1]) * 32) for i in range(4)]
POWERS = [10, 40, 20, 30]  # 2/3 of 100: 60 is not enough, 70 is
VALIDATORS = ValidatorSet.from_pairs(
    (key.public_key, power) for key, power in zip(KEYS, POWERS, strict=True)
)
BY_INDEX = [KEYS[1], KEYS[3], KEYS[2], KEYS[0]]  # power descending: 40, 30, 20, 10


def certificate(signers: list[int], block: bytes = BLOCK) -> CommitCertificate:
    votes = [
        sign_vote(Vote(HEIGHT, ROUND, VoteKind.PRECOMMIT, block, i), CHAIN_ID, BY_INDEX[i])
        for i in signers
    ]
    return make_commit(HEIGHT, ROUND, BLOCK, votes)


def test_validator_set_is_in_canonical_order() -> None:
    assert [v.power for v in VALIDATORS] == [40, 30, 20, 10]
    assert VALIDATORS.total_power == 100
    assert [VALIDATORS.index_of(k.public_key) for k in BY_INDEX] == [0, 1, 2, 3]
    assert VALIDATORS.index_of(b"\x00" * 32) is None


@pytest.mark.parametrize(
    "pairs",
    [
        [],
        [(b"\x01" * 32, 0)],
        [(b"\x01" * 31, 5)],
        [(b"\x01" * 32, 5), (b"\x01" * 32, 6)],
    ],
)
def test_validator_set_rejects_bad_genesis(pairs: list[tuple[bytes, int]]) -> None:
    with pytest.raises(ValueError):
        ValidatorSet.from_pairs(pairs)


def test_valid_certificate_verifies_and_round_trips() -> None:
    cert = certificate([2, 0, 1])  # given out of order, stored by index
    assert [p.validator for p in cert.precommits] == [0, 1, 2]
    verify_commit(cert, VALIDATORS, CHAIN_ID)
    assert decode_commit(cert.encode()) == cert
    assert len(cert.hash) == 32
    assert cert.hash != certificate([0, 1, 3]).hash


def test_exactly_two_thirds_is_not_enough() -> None:
    verify_commit(certificate([0, 1]), VALIDATORS, CHAIN_ID)  # 70 of 100
    with pytest.raises(InvalidCommit, match="more than 2/3"):
        verify_commit(certificate([1, 2, 3]), VALIDATORS, CHAIN_ID)  # 60 of 100


def test_bad_signature_is_rejected() -> None:
    cert = certificate([0, 1, 2])
    forged = replace(cert.precommits[1], signature=cert.precommits[0].signature)
    bad = replace(cert, precommits=(cert.precommits[0], forged, cert.precommits[2]))
    with pytest.raises(InvalidCommit, match="validator 1"):
        verify_commit(bad, VALIDATORS, CHAIN_ID)


def test_signatures_for_another_block_or_chain_are_rejected() -> None:
    other_block = certificate([0, 1, 2], block=b"\x22" * 32)
    with pytest.raises(InvalidCommit):
        verify_commit(other_block, VALIDATORS, CHAIN_ID)
    with pytest.raises(InvalidCommit):
        verify_commit(certificate([0, 1, 2]), VALIDATORS, CHAIN_ID + 1)


def test_duplicate_signer_is_rejected() -> None:
    """Counting validator 0 twice would reach 80 of 100 with only 40 behind it."""
    cert = certificate([0, 3])
    doubled = replace(cert, precommits=(cert.precommits[0], *cert.precommits))
    with pytest.raises(InvalidCommit, match="repeated"):
        verify_commit(doubled, VALIDATORS, CHAIN_ID)
    with pytest.raises(DecodingError):
        decode_commit(doubled.encode())


def test_unknown_signer_is_rejected() -> None:
    cert = certificate([0, 1, 2])
    stranger = CommitSignature(4, b"\x00" * 64)
    with pytest.raises(InvalidCommit, match="not in a set"):
        verify_commit(replace(cert, precommits=(*cert.precommits, stranger)), VALIDATORS, CHAIN_ID)


@pytest.mark.parametrize(
    "fields",
    [
        [HEIGHT, ROUND, BLOCK, []],
        [HEIGHT, ROUND, BLOCK, [[1, b"\x00" * 64], [0, b"\x00" * 64]]],
        [HEIGHT, ROUND, BLOCK[:31], [[0, b"\x00" * 64]]],
        [HEIGHT, ROUND, BLOCK, [[0, b"\x00" * 63]]],
        [HEIGHT, -1, BLOCK, [[0, b"\x00" * 64]]],
        [HEIGHT, ROUND, BLOCK],
    ],
)
def test_commit_decoding_is_strict(fields: list[object]) -> None:
    with pytest.raises(DecodingError):
        decode_commit(msgpack_canon.pack(fields))
