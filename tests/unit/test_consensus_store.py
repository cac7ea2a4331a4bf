"""The node's consensus storage and wire: the WAL, certified blocks, block sync, bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from brainchain.crypto import ecvrf
from brainchain.crypto.ed25519 import ConsensusKey
from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError, InvalidCommit, InvalidConsensusSignature
from brainchain.types.commit import CommitCertificate, make_commit
from brainchain.types.vote import Proposal, Vote, VoteKind, sign_proposal, sign_vote
from genesis.devnet import make_devnet_genesis
from genesis.format import GenesisValidator
from node.block_sync import answer_sync, check_synced
from node.chain import Chain
from node.consensus_driver import validator_set
from node.p2p import PeerMisbehaved
from node.p2p.wire import (
    MAX_SYNC_BLOCKS,
    ProposalMessage,
    SyncRequest,
    decode_proposal_message,
    decode_sync_request,
    decode_sync_response,
)
from node.store.leveldb import Store
from vm.transition import BuiltBlock

KEYS = [ConsensusKey(bytes([i + 1]) * 32) for i in range(4)]
VRF_KEYS = [bytes([0x31 + i]) * 32 for i in range(4)]
GENESIS = make_devnet_genesis(
    [
        GenesisValidator(
            f"v{i}", bytes([0x10 + i]) * 20, k.public_key, ecvrf.public_key(VRF_KEYS[i]), 100
        )
        for i, k in enumerate(KEYS)
    ],
    timestamp=1_700_000_000,
)
VALIDATORS = validator_set(GENESIS.validators)


def precommit(height: int, block_hash: bytes, validator: int) -> Vote:
    key = next(k for k in KEYS if k.public_key == VALIDATORS[validator].public_key)
    return sign_vote(Vote(height, 0, VoteKind.PRECOMMIT, block_hash, validator), 1337, key)


def certified(chain: Chain, signers: int = 3) -> tuple[BuiltBlock, CommitCertificate]:
    """The head's next block, with a real certificate from validators 0 to `signers` - 1."""
    built = chain.build_candidate(
        [], vrf_key=VRF_KEYS[0], timestamp=int(time.time()), last_commit=b""
    )
    block = built.block
    votes = [precommit(block.height, block.hash, v) for v in range(signers)]
    return built, make_commit(block.height, 0, block.hash, votes)


async def commit_certified(chain: Chain, signers: int = 3) -> bytes:
    """Build and commit the next block with a real certificate from `signers` validators."""
    built, cert = certified(chain, signers)
    commit = cert.encode()
    await chain.commit_block(built, commit)
    return commit


def test_wal_keeps_messages_in_order_with_their_blocks_until_the_height_commits(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "db")
    try:
        vote = precommit(5, b"\xaa" * 32, 0)
        proposal = sign_proposal(Proposal(5, 1, b"\xaa" * 32, -1, 0), 1337, KEYS[0])
        store.wal.append(proposal, b"block bytes")
        store.wal.append(vote)
        store.wal.append(precommit(6, b"\xbb" * 32, 0))
        assert store.wal.entries(5) == [proposal, vote]
        assert store.wal.blocks(5) == [b"block bytes"]
        with store._db.write_batch() as batch:
            store.wal.prune(batch, 5)
        assert store.wal.entries(5) == [] and store.wal.blocks(5) == []
        assert len(store.wal.entries(6)) == 1  # a later height survives
    finally:
        store.close()


@pytest.mark.asyncio
async def test_block_sync_serves_certified_blocks_that_check_out(tmp_path: Path) -> None:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=bytes([0x10]) * 20)
    try:
        for _ in range(3):
            await commit_certified(chain)
        response = decode_sync_response(
            answer_sync(chain, "peer", SyncRequest(2, MAX_SYNC_BLOCKS).encode())
        )
        assert response.head == 3 and [b.block.height for b in response.blocks] == [2, 3]
        for synced in response.blocks:
            check_synced(synced, VALIDATORS, 1337)
        with pytest.raises(InvalidCommit):
            check_synced(response.blocks[0], VALIDATORS, 1338)
        head_only = decode_sync_response(answer_sync(chain, "peer", SyncRequest(4, 0).encode()))
        assert head_only.head == 3 and head_only.blocks == ()
        with pytest.raises(PeerMisbehaved):
            answer_sync(chain, "peer", b"\xc1garbage")
    finally:
        chain.close()


@pytest.mark.asyncio
async def test_a_certificate_short_of_two_thirds_is_refused(tmp_path: Path) -> None:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=bytes([0x10]) * 20)
    try:
        await commit_certified(chain, signers=2)  # 200 of 400: not more than 2/3
        (synced,) = decode_sync_response(
            answer_sync(chain, "peer", SyncRequest(1, 1).encode())
        ).blocks
        with pytest.raises(InvalidCommit):
            check_synced(synced, VALIDATORS, 1337)
    finally:
        chain.close()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x90",  # empty array
        msgpack_canon.pack([1, 2, 3]),
        msgpack_canon.pack([-1, 1]),
        msgpack_canon.pack([0, MAX_SYNC_BLOCKS + 1]),
        msgpack_canon.pack([True, 1]),
    ],
)
def test_sync_requests_are_validated(data: bytes) -> None:
    with pytest.raises(DecodingError):
        decode_sync_request(data)


@pytest.mark.asyncio
async def test_a_proposal_message_must_carry_the_block_it_names(tmp_path: Path) -> None:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=bytes([0x10]) * 20)
    try:
        block = chain.build_candidate(
            [], vrf_key=VRF_KEYS[0], timestamp=int(time.time()), last_commit=b""
        ).block
        proposal = sign_proposal(Proposal(1, 0, block.hash, -1, 0), 1337, KEYS[0])
        message = ProposalMessage(proposal, block)
        assert decode_proposal_message(message.encode()) == message
        other = sign_proposal(Proposal(1, 0, b"\x01" * 32, -1, 0), 1337, KEYS[0])
        with pytest.raises(DecodingError, match="does not hash"):
            decode_proposal_message(ProposalMessage(other, block).encode())
        for garbage in (b"\x01", msgpack_canon.pack([b"x"]), msgpack_canon.pack([b"x", b"y"])):
            with pytest.raises(DecodingError):
                decode_proposal_message(garbage)
    finally:
        chain.close()


def test_a_proposals_signature_is_checked_before_its_block_is_decoded() -> None:
    """A peer that is no proposer cannot make a node decode (and verify) a block's worth of
    transactions: the check raises first, on a block that would not even decode."""
    proposal = sign_proposal(Proposal(1, 0, b"\x01" * 32, -1, 0), 1337, KEYS[0])
    data = msgpack_canon.pack([proposal.encode(), b"\xc1 not a block"])
    checked: list[Proposal] = []

    def refuse(seen: Proposal) -> None:
        checked.append(seen)
        raise InvalidConsensusSignature("not the proposer's signature")

    with pytest.raises(InvalidConsensusSignature):
        decode_proposal_message(data, refuse)
    assert checked == [proposal]
    with pytest.raises(DecodingError):
        decode_proposal_message(data, checked.append)
