"""A real LevelDB chain with four validators whose account and VRF keys the test holds, served by
the RPC app with its blob routes, blocks committed one by one; FL services run on it as
validators (or as a node that only follows), and the test plays the task's creator, the
trainers and the rest of each scoring committee (shared by the FL service and RPC tests)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from brainchain import fl as rules
from brainchain.crypto.keccak import keccak256
from brainchain.inference import commitment
from node.blob_fetch import BlobFetcher
from node.chain import Chain
from node.config import Byzantine, NodeKeys
from node.fl.pins import BlobPins
from node.fl.registry import fl_slots
from node.fl.service import FlService
from node.metrics import NodeMetrics
from node.p2p import P2PError
from node.rpc.server import BlobAccess, make_app
from tests.unit.blocks import commit_next_block
from tests.vm.fl_chain import ATTEST, COMMIT, CREATE, PROPOSE, REVEAL
from tests.vm.inference_chain import USER_KEY, InferenceChain, Member, call_data
from vm.precompiles.addresses import FL_REGISTRY_ADDRESS
from vm.precompiles.fl_state import LAST_TASK_SLOT, load_proposal, load_task
from vm.precompiles.inference_state import load_counter

FL = FL_REGISTRY_ADDRESS
VALIDATORS = 4  # stake 100 each: W = 400, and the default fraction makes k = 220
WINDOWS = {"commit_blocks": 3, "reveal_blocks": 3}
WAIT_S = 60.0  # torch and the data load on the first score


class NoPeers:
    """A network without peers: fetches are served from the local store or not at all."""

    async def request(
        self, peer_id: str, protocol: str, data: bytes, timeout_s: float = 0
    ) -> bytes:
        raise P2PError("no peers")

    def peers(self) -> list[str]:
        return []


def salt(member: Member, proposal_id: int) -> bytes:
    return keccak256(b"fl-test" + member.account_key + proposal_id.to_bytes(32, "big"))


@dataclass
class FlNet:
    client: TestClient
    chain: Chain
    keys: InferenceChain
    pins: BlobPins

    @property
    def members(self) -> list[Member]:
        return self.keys.members

    # --- blocks -----------------------------------------------------------------------------

    async def mine(self, *txs: Any) -> None:
        """One block with `txs` and whatever the services left in the pool."""
        for tx in txs:
            self.chain.submit_transaction(tx.raw)
        block = await commit_next_block(self.chain, timestamp=self.chain.head.header.timestamp + 1)
        assert {tx.hash for tx in txs} <= {tx.hash for tx in block.transactions}
        await asyncio.sleep(0.01)  # the services see the block

    async def mine_until(self, height: int) -> None:
        while self.chain.head.height < height:
            await self.mine()

    async def until(self, condition: Callable[[], bool], what: str = "condition") -> None:
        async with asyncio.timeout(WAIT_S):
            while not condition():
                await asyncio.sleep(0.01)

    # --- the test's transactions ------------------------------------------------------------

    def fl_tx(self, key: bytes, signature: str, *args: Any) -> Any:
        return self.keys.tx(key, call_data(signature, *args), to=FL)

    async def upload(self, blob: bytes) -> bytes:
        answer = await self.client.post("/blobs", data=blob)
        assert answer.status == 200, await answer.text()
        doc = await answer.json()
        assert doc == {"id": "0x" + keccak256(blob).hex(), "size": len(blob)}
        return keccak256(blob)

    async def create_task(
        self,
        initial: bytes,
        *,
        window: int = rules.DEFAULT_WINDOW,
        threshold: int = rules.DEFAULT_THRESHOLD,
        staleness: int = rules.DEFAULT_STALENESS,
        fraction: int = rules.DEFAULT_COMMITTEE_FRACTION,
    ) -> int:
        args = (window, threshold, staleness, fraction)
        initial_id = keccak256(initial)
        await self.mine(self.fl_tx(USER_KEY, CREATE, "digits-mlp", initial_id, len(initial), *args))
        return fl_slots(self.chain).load(LAST_TASK_SLOT)

    async def propose(
        self, task_id: int, base: int, *blobs: bytes, size: int | None = None
    ) -> list[int]:
        """Propose each blob in one block; their ids."""
        first = load_counter(fl_slots(self.chain))[0] + 1
        await self.mine(
            *(
                self.fl_tx(USER_KEY, PROPOSE, task_id, base, keccak256(b), size or len(b))
                for b in blobs
            )
        )
        return list(range(first, first + len(blobs)))

    def task(self, task_id: int) -> Any:
        return load_task(fl_slots(self.chain), task_id)

    def proposal(self, proposal_id: int) -> Any:
        return load_proposal(fl_slots(self.chain), proposal_id)

    def windows(self, proposal_id: int) -> tuple[int, int]:
        """(commit end, deadline) of a proposal."""
        included = self.proposal(proposal_id).included
        return included + WINDOWS["commit_blocks"], included + sum(WINDOWS.values())

    def weight(self, member: Member, proposal_id: int) -> int:
        """The member's sortition weight for a proposal (0: not drawn)."""
        proposal = self.proposal(proposal_id)
        block = self.chain.block_by_height(proposal.included)
        seed = rules.proposal_seed(proposal_id, block.hash)
        total = sum(m.stake for m in self.members)
        return member.weight(seed, total, self.task(proposal.task_id).k)

    def commit_tx(self, member: Member, proposal_id: int, score: int) -> Any:
        proposal = self.proposal(proposal_id)
        seed = rules.proposal_seed(proposal_id, self.chain.block_by_height(proposal.included).hash)
        hidden = commitment(rules.score_word(score), member.address, salt(member, proposal_id))
        return self.fl_tx(member.account_key, COMMIT, proposal_id, hidden, member.proof(seed))

    def reveal_tx(self, member: Member, proposal_id: int, score: int) -> Any:
        return self.fl_tx(member.account_key, REVEAL, proposal_id, score, salt(member, proposal_id))

    def attest_tx(self, member: Member, task_id: int, version: int, global_hash: bytes) -> Any:
        return self.fl_tx(member.account_key, ATTEST, task_id, version, global_hash)

    # --- services ---------------------------------------------------------------------------

    def service(
        self,
        index: int | None = 0,
        *,
        byzantine: Byzantine | None = None,
        metrics: NodeMetrics | None = None,
    ) -> tuple[FlService, NodeMetrics]:
        """An FL service as validator `index` (None: a node that is no validator)."""
        if index is None:
            keys = NodeKeys(bytes([0x42]) * 32, bytes(32), bytes([0x43]) * 32, bytes(32))
        else:
            member = self.members[index]
            keys = NodeKeys(member.account_key, bytes(32), member.vrf_key, bytes(32))
        metrics = metrics or NodeMetrics()
        store = self.chain.store.blobs
        fetcher = BlobFetcher(store, NoPeers(), misbehaved=lambda *_: None, rng=random.Random(0))
        service = FlService(self.chain, keys, fetcher, metrics.fl, self.pins, byzantine=byzantine)
        return service, metrics


@asynccontextmanager
async def running(service: FlService) -> AsyncIterator[None]:
    """The service serving until the block ends."""
    ready = asyncio.Event()
    task = asyncio.create_task(service.serve(ready))
    try:
        async with asyncio.timeout(WAIT_S):
            await ready.wait()
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@asynccontextmanager
async def fl_net(data_dir: Path, pin_blocks: int = 300) -> AsyncIterator[FlNet]:
    keys = InferenceChain(validators=VALIDATORS, inference=WINDOWS, seed=5)
    pins = BlobPins(pin_blocks)
    chain = Chain.open(data_dir, keys.genesis, proposer=keys.members[0].address)
    client = TestClient(TestServer(make_app(chain, blobs=BlobAccess(pins))))
    await client.start_server()
    try:
        yield FlNet(client, chain, keys, pins)
    finally:
        await client.close()
        chain.close()


def count(metrics: NodeMetrics, name: str) -> float:
    """A counter of the FL metrics, e.g. "commits" for brainchain_fl_commits_total."""
    value = metrics.registry.get_sample_value(f"brainchain_fl_{name}_total")
    return 0.0 if value is None else value
