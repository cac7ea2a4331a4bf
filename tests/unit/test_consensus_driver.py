"""The consensus driver's handling of what peers send more than once, or late."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from brainchain.types.block import Block
from brainchain.types.evidence import DoubleSign, decode_evidence, verify_evidence
from brainchain.types.vote import Vote, VoteKind
from node.chain import Chain
from node.consensus_driver import ConsensusDriver
from node.p2p.gossip import Gossip, pack_batches
from node.p2p.limits import TOPIC_EVIDENCE, TOPIC_VOTES, gossip_limit
from node.p2p.wire import SyncedBlock, encode_votes
from tests.unit.test_consensus_store import (
    GENESIS,
    VALIDATORS,
    VRF_KEYS,
    certified,
    commit_certified,
)
from tests.unit.test_evidence import Outbox, vote
from vm.transition import BuiltBlock

WAIT_S = 10.0  # for the driver to turn a late vote into evidence
PEER = "12D3KooWLatePeer"  # where the late votes come from
MADE_UP = b"\xcc" * 32  # a block hash no block has


@pytest.mark.asyncio
async def test_copies_of_a_proposed_block_are_executed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A block arrives directly and again relayed: the second copy waits for the first verdict."""
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=bytes([0x10]) * 20)
    try:
        driver = ConsensusDriver(
            chain,
            Outbox(),
            consensus_key=None,
            vrf_key=VRF_KEYS[0],
            interval_s=0,
            empty_blocks=True,
        )
        block = chain.build_candidate(
            [], vrf_key=VRF_KEYS[0], timestamp=int(time.time()), last_commit=b""
        ).block
        executed: list[bytes] = []
        check = chain.check_candidate

        def counted(candidate: Block) -> BuiltBlock:
            executed.append(candidate.hash)
            return check(candidate)

        monkeypatch.setattr(chain, "check_candidate", counted)
        async with asyncio.TaskGroup() as tasks:
            driver._tasks = tasks
            verdicts = await asyncio.gather(*(driver._check(block) for _ in range(3)))
            assert await driver._check(block) is verdicts[0]  # and remembered after
        assert executed == [block.hash]
        assert verdicts[0] is not None and verdicts[0].block.hash == block.hash
        assert all(verdict is verdicts[0] for verdict in verdicts)
    finally:
        chain.close()


# --- equivocation in the votes of the height just committed --------------------------------


class Peers(Outbox):
    """A network that goes nowhere, watched: the evidence gossiped, the peers penalised."""

    def __init__(self) -> None:
        super().__init__()
        self.evidence: asyncio.Queue[DoubleSign] = asyncio.Queue()
        self.penalised: list[str] = []

    def publish(self, topic: str, data: bytes) -> None:
        super().publish(topic, data)
        if topic == TOPIC_EVIDENCE:
            self.evidence.put_nowait(decode_evidence(data))

    send = publish

    def penalise(self, peer_id: str, reason: str) -> None:
        self.penalised.append(peer_id)

    def gossip(self, *votes: Vote) -> None:
        """`votes` arrive from PEER in one batch."""
        (batch,) = pack_batches(encode_votes(list(votes)), gossip_limit(TOPIC_VOTES))
        self.inbound.put_nowait(Gossip(TOPIC_VOTES, PEER, batch))

    async def next_evidence(self) -> DoubleSign:
        async with asyncio.timeout(WAIT_S):
            return await self.evidence.get()


def precommit(validator: int, value: bytes | None, height: int) -> Vote:
    return vote(validator, value, height=height, kind=VoteKind.PRECOMMIT)


@contextlib.asynccontextmanager
async def follower(tmp_path: Path, committed: int) -> AsyncIterator[tuple[ConsensusDriver, Peers]]:
    """A follower's driver serving over a chain that holds `committed` certified blocks, as
    after a restart."""
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=bytes([0x10]) * 20)
    try:
        for _ in range(committed):
            await commit_certified(chain)  # by validators 0-2
        network = Peers()
        driver = ConsensusDriver(
            chain,
            network,
            consensus_key=None,
            vrf_key=VRF_KEYS[0],
            interval_s=0,
            empty_blocks=False,
        )
        ready = asyncio.Event()
        serving = asyncio.create_task(driver.serve(ready))
        await ready.wait()
        try:
            yield driver, network
        finally:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
    finally:
        chain.close()


async def assert_only_the_marker(network: Peers, height: int) -> None:
    """Validator 3, in no certificate here, double precommits at `height`, both votes late:
    once that is evidence, whatever arrived before it was handled, and proved nothing."""
    pair = precommit(3, None, height), precommit(3, MADE_UP, height)
    network.gossip(*pair)
    assert await network.next_evidence() == DoubleSign.of(*pair)
    assert network.evidence.empty()


@pytest.mark.asyncio
@pytest.mark.parametrize("committed_by", ["restart", "block sync"])
async def test_a_late_conflicting_precommit_of_the_committed_height_is_evidence(
    tmp_path: Path, committed_by: str
) -> None:
    """Validator 1's precommit is in the certificate of height 1, which the machine did not
    gather (it was stored before a restart, or came by block sync); its nil precommit for
    the same round, arriving after, is evidence in the pool for the next block."""
    async with follower(tmp_path, committed=int(committed_by == "restart")) as (driver, network):
        block_hash = driver.chain.head.hash
        if committed_by == "block sync":
            built, cert = certified(driver.chain)
            driver._queue.put_nowait(SyncedBlock(built.block, cert))
            block_hash = built.block.hash
        late = precommit(1, None, 1)
        network.gossip(late)
        evidence = await network.next_evidence()
        assert evidence == DoubleSign.of(precommit(1, block_hash, 1), late)
        verify_evidence(evidence, VALIDATORS, 1337)
        assert driver.chain.head.height == 1
        assert driver._evidence.for_block(2) == (evidence.encode(),)
        assert network.penalised == []


@pytest.mark.asyncio
async def test_a_late_matching_precommit_is_not_evidence(tmp_path: Path) -> None:
    async with follower(tmp_path, committed=1) as (driver, network):
        network.gossip(precommit(1, driver.chain.head.hash, 1))  # as in the certificate
        await assert_only_the_marker(network, 1)


@pytest.mark.asyncio
async def test_a_late_precommit_with_a_forged_signature_is_not_evidence(tmp_path: Path) -> None:
    async with follower(tmp_path, committed=1) as (_, network):
        network.gossip(replace(precommit(1, None, 1), signature=bytes(64)))
        await assert_only_the_marker(network, 1)
        assert network.penalised == [PEER]


@pytest.mark.asyncio
async def test_a_conflicting_precommit_of_an_older_height_is_ignored(tmp_path: Path) -> None:
    """Only the height just committed keeps its votes: one of height 1 at head 2 is dropped
    unread (its forged twin is not even checked, so nobody is penalised)."""
    async with follower(tmp_path, committed=2) as (_, network):
        network.gossip(precommit(1, None, 1))
        network.gossip(replace(precommit(2, None, 1), signature=bytes(64)))
        await assert_only_the_marker(network, 2)
        assert network.penalised == []
