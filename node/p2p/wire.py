"""What the node's gossip topics and block-sync protocol carry, encoded and strictly decoded.

Every decoder here runs on bytes a peer sent, after the size check of node/p2p/limits.py; what
it refuses raises DecodingError (or InvalidTransaction, for a block whose transactions do not
decode or verify), which the caller turns into `PeerMisbehaved`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError
from brainchain.types.block import Block, decode_block
from brainchain.types.commit import CommitCertificate, decode_commit
from brainchain.types.vote import Proposal, Vote, decode_proposal

MAX_SYNC_BLOCKS = 32  # blocks per block-sync response (each ≤ one proposal frame)


@dataclass(frozen=True, slots=True)
class ProposalMessage:
    """A signed proposal and the block it names: one message on the proposals topic."""

    proposal: Proposal
    block: Block

    def encode(self) -> bytes:
        return msgpack_canon.pack([self.proposal.encode(), self.block.encode()])


def decode_proposal_message(
    data: bytes, check_proposal: Callable[[Proposal], None] | None = None
) -> ProposalMessage:
    """Decode the proposal, `check_proposal` it (its signature), then decode its block.

    The block is decoded last: its transactions cost far more to decode and verify than the
    proposal's signature, so a peer that is no proposer cannot make us spend that (issue 12).

    Raises:
        DecodingError: malformed, or the block is not the one the proposal names.
        BrainchainError: what `check_proposal` raises.
    """
    fields = msgpack_canon.unpack(data)
    if (
        not isinstance(fields, list)
        or len(fields) != 2
        or not all(isinstance(f, bytes) for f in fields)
    ):
        raise DecodingError("proposal message must be [proposal, block]")
    proposal = decode_proposal(fields[0])
    if check_proposal is not None:
        check_proposal(proposal)
    block = decode_block(fields[1])
    if block.hash != proposal.block_hash:
        raise DecodingError("the block does not hash to the proposal's block hash")
    return ProposalMessage(proposal, block)


def encode_votes(votes: list[Vote]) -> list[bytes]:
    """Votes as batch items for node.p2p.gossip.pack_batches."""
    return [vote.encode() for vote in votes]


@dataclass(frozen=True, slots=True)
class SyncRequest:
    """Ask for up to `count` committed blocks from `start`; count 0 asks only for the head."""

    start: int
    count: int

    def encode(self) -> bytes:
        return msgpack_canon.pack([self.start, self.count])


def decode_sync_request(data: bytes) -> SyncRequest:
    """Raises: DecodingError: not [start, count] with 0 <= count <= MAX_SYNC_BLOCKS."""
    fields = msgpack_canon.unpack(data)
    if (
        not isinstance(fields, list)
        or len(fields) != 2
        or not all(isinstance(f, int) and not isinstance(f, bool) for f in fields)
        or fields[0] < 0
        or not 0 <= fields[1] <= MAX_SYNC_BLOCKS
    ):
        raise DecodingError(f"sync request must be [start >= 0, 0 <= count <= {MAX_SYNC_BLOCKS}]")
    return SyncRequest(fields[0], fields[1])


@dataclass(frozen=True, slots=True)
class SyncedBlock:
    """A committed block and the certificate that decided it."""

    block: Block
    commit: CommitCertificate


@dataclass(frozen=True, slots=True)
class SyncResponse:
    """The answering node's head height, and the blocks asked for that it has, in order."""

    head: int
    blocks: tuple[SyncedBlock, ...]

    def encode(self) -> bytes:
        return msgpack_canon.pack(
            [self.head, [[b.block.encode(), b.commit.encode()] for b in self.blocks]]
        )


def decode_sync_response(data: bytes) -> SyncResponse:
    """Raises: DecodingError: malformed, or a certificate that names another block."""
    fields = msgpack_canon.unpack(data)
    if not isinstance(fields, list) or len(fields) != 2:
        raise DecodingError("sync response must be [head, blocks]")
    head, entries = fields
    if not isinstance(head, int) or isinstance(head, bool) or not isinstance(entries, list):
        raise DecodingError("sync response must be [head, blocks]")
    if len(entries) > MAX_SYNC_BLOCKS:
        raise DecodingError(f"sync response carries {len(entries)} blocks")
    blocks = []
    for entry in entries:
        if (
            not isinstance(entry, list)
            or len(entry) != 2
            or not all(isinstance(part, bytes) for part in entry)
        ):
            raise DecodingError("synced block must be [block, commit]")
        block, commit = decode_block(entry[0]), decode_commit(entry[1])
        if (commit.height, commit.block_hash) != (block.height, block.hash):
            raise DecodingError(f"certificate does not certify block {block.height}")
        blocks.append(SyncedBlock(block, commit))
    return SyncResponse(head, tuple(blocks))
