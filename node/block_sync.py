"""Block sync: serve committed blocks with their certificates, and check the ones we fetch.

A node that was down, or is new, asks peers over PROTOCOL_BLOCK_SYNC for the blocks after its
head; each comes with the commit certificate that decided it, so the fetching node needs no
trust in the peer: it verifies +2/3 of the genesis voting power signed the block (Tendermint's
commit rule) and re-executes it before committing (DESIGN.md §4, §7).
"""

from __future__ import annotations

from brainchain.consensus.validators import ValidatorSet
from brainchain.errors import BrainchainError, InvalidCommit
from brainchain.types.commit import decode_commit, verify_commit
from node.chain import Chain
from node.p2p import PeerMisbehaved
from node.p2p.limits import PROTOCOL_BLOCK_SYNC, exchange_limits
from node.p2p.wire import SyncedBlock, SyncResponse, decode_sync_request

# Bytes kept free in a response frame for its array headers and the head height.
RESPONSE_OVERHEAD_BYTES = 1024


def answer_sync(chain: Chain, peer_id: str, request: bytes) -> bytes:
    """The blocks (with certificates) a peer asked for that we hold, within the frame limit.

    Raises:
        PeerMisbehaved: the request does not decode.
    """
    try:
        asked = decode_sync_request(request)
    except BrainchainError as exc:
        raise PeerMisbehaved(peer_id, f"bad block-sync request: {exc}") from None
    head = chain.head.height
    budget = exchange_limits(PROTOCOL_BLOCK_SYNC).response - RESPONSE_OVERHEAD_BYTES
    blocks: list[SyncedBlock] = []
    for height in range(asked.start, min(asked.start + asked.count, head + 1)):
        block = chain.block_by_height(height)
        commit = chain.store.commit_at(height)
        if block is None or commit is None:
            break
        budget -= len(block.encode()) + len(commit)
        if budget < 0:
            break
        blocks.append(SyncedBlock(block, decode_commit(commit)))
    return SyncResponse(head, tuple(blocks)).encode()


def check_synced(synced: SyncedBlock, validators: ValidatorSet, chain_id: int) -> None:
    """Check a fetched block's certificate: +2/3 of the power precommitted exactly this block.

    Raises:
        InvalidCommit: it does not (`decode_sync_response` already matched height and hash).
    """
    if synced.block.header.chain_id != chain_id:
        raise InvalidCommit(f"block of chain {synced.block.header.chain_id}, not {chain_id}")
    verify_commit(synced.commit, validators, chain_id)
