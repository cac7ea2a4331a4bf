"""Block sync: serve committed blocks with their certificates, fetch and check the ones we lack.

A node that was down, or is new, asks peers over PROTOCOL_BLOCK_SYNC for the blocks after its
head; each comes with the commit certificate that decided it, so the fetching node needs no
trust in the peer: it verifies +2/3 of the genesis voting power signed the block (Tendermint's
commit rule), then checks its randomness proof and re-executes it before committing, as for a
proposal (DESIGN.md §4, §7). The fetch loop here checks certificates only; the consensus
driver's task, which owns every commit, checks, executes and commits what it hands over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from brainchain.errors import BrainchainError, InvalidCommit
from brainchain.types.commit import decode_commit, verify_commit
from brainchain.types.validators import ValidatorSet
from node.chain import Chain
from node.p2p import P2PError, PeerMisbehaved
from node.p2p.limits import PROTOCOL_BLOCK_SYNC, exchange_limits
from node.p2p.wire import (
    MAX_SYNC_BLOCKS,
    SyncedBlock,
    SyncRequest,
    SyncResponse,
    decode_sync_request,
    decode_sync_response,
)

# Bytes kept free in a response frame for its array headers and the head height.
RESPONSE_OVERHEAD_BYTES = 1024
SYNC_POLL_S = 1.0  # ask peers for blocks after our head this often
SYNC_REQUEST_TIMEOUT_S = 10.0


class SyncNetwork(Protocol):
    """What the fetch loop needs from node.p2p.bridge.P2PNode."""

    async def request(
        self, peer_id: str, protocol: str, data: bytes, timeout_s: float = ...
    ) -> bytes: ...

    def peers(self) -> list[str]: ...


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
        commit = chain.commit_at(height)
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


class BlockSyncer:
    """Fetches the blocks after our head from peers and hands on those whose certificate checks.

    `deliver` receives each checked block, for the task that owns commits to execute and commit;
    that task calls `head_moved` whenever the head advances. A peer whose answer does not decode
    or check out is reported to `misbehaved` with the reason.
    """

    def __init__(
        self,
        chain: Chain,
        network: SyncNetwork,
        validators: ValidatorSet,
        *,
        deliver: Callable[[SyncedBlock], None],
        misbehaved: Callable[[str, str], None],
    ) -> None:
        self.chain = chain
        self.network = network
        self.validators = validators
        self._deliver = deliver
        self._misbehaved = misbehaved
        self._head_moved = asyncio.Event()

    def head_moved(self) -> None:
        """Wake a fetch that waits for the blocks it handed on to be committed."""
        self._head_moved.set()

    async def run(self) -> None:
        """Fetch blocks after our head from a peer that has them, when we lag or are stuck.

        While a peer is further ahead than one response carries, ask again as soon as what
        came is committed, not a poll later: a chain at tens of heights a second outruns one
        response a second, and a restarted node would never catch up.
        """
        last_head = -1
        while True:
            await asyncio.sleep(SYNC_POLL_S)
            head = self.chain.head.height
            stuck, last_head = head == last_head, head
            for peer in self.network.peers():
                if await self._sync_with(peer, head, stuck):
                    break

    async def _sync_with(self, peer: str, head: int, stuck: bool) -> bool:
        """Fetch from `peer` while it is ahead; True when it had blocks for us."""
        synced = False
        while (fetched := await self._sync_from(peer, head, stuck)) is not None:
            synced, stuck = True, False
            head, peer_head = fetched
            if peer_head <= head or not await self._head_reaches(head):
                break
        return synced

    async def _sync_from(self, peer: str, head: int, stuck: bool) -> tuple[int, int] | None:
        """Hand on the blocks after `head` that `peer` sends, certificates checked; the height of
        the last one handed on and the peer's head, or None when none was."""
        request = SyncRequest(head + 1, MAX_SYNC_BLOCKS).encode()
        try:
            response = decode_sync_response(
                await self.network.request(
                    peer, PROTOCOL_BLOCK_SYNC, request, SYNC_REQUEST_TIMEOUT_S
                )
            )
        except P2PError:
            return None
        except BrainchainError as exc:
            self._misbehaved(peer, f"block sync: {exc}")
            return None
        # A peer one block ahead is usually only faster at committing the same decision.
        if not response.blocks or (response.head < head + 2 and not stuck):
            return None
        for synced in response.blocks:
            try:
                check_synced(synced, self.validators, self.chain.chain_id)
            except BrainchainError as exc:
                self._misbehaved(peer, f"block sync: {exc}")
                return None
            self._deliver(synced)
        return response.blocks[-1].block.height, response.head

    async def _head_reaches(self, height: int) -> bool:
        """Wait until our head is at `height`; False if it is not within a request timeout
        (a fetched block failed, or the machine is busy)."""
        try:
            async with asyncio.timeout(SYNC_REQUEST_TIMEOUT_S):
                while self.chain.head.height < height:
                    self._head_moved.clear()
                    await self._head_moved.wait()
        except TimeoutError:
            return False
        return True
