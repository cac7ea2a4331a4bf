"""A real LevelDB chain with tiny-gptj registered and validators whose account and VRF keys the
test holds, blocks committed one by one, and the test acting as the committee: commits with
real VRF proofs, then reveals (shared by the brain_ RPC and inference CLI tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from brainchain.inference import commit_end, commitment, request_seed
from node.chain import Chain
from node.rpc.brain import head_slots
from tests.unit.blocks import commit_next_block
from tests.unit.rpc_harness import serving
from tests.vm.inference_chain import InferenceChain, Member, call_data, salt_for
from vm.precompiles.inference_state import load_counter, load_params, load_request

# k = 350 of W = 700: each of 7 validators serves with ~50 units and quorum is 176, so the four
# heaviest members carry it and the lighter three can lie, stay silent or come late.
PARAMS = {"committee_size": 350, "commit_blocks": 2, "reveal_blocks": 3}
VALIDATORS = 7


@asynccontextmanager
async def inference_net(data_dir: Path) -> AsyncIterator[tuple[TestClient, Chain, InferenceChain]]:
    """The chain served over RPC, and the keys (InferenceChain signs with nonces tracked)."""
    keys = InferenceChain(validators=VALIDATORS, inference=PARAMS, seed=3)
    async with serving(data_dir, keys.genesis, keys.members[0].address) as (client, chain):
        yield client, chain, keys


async def mine(chain: Chain, *txs: Any) -> None:
    """One block with `txs` and whatever else waits in the pool, its timestamp one past its
    parent's so that every run makes the same blocks."""
    for tx in txs:
        chain.submit_transaction(tx.raw)
    block = await commit_next_block(chain, timestamp=chain.head.header.timestamp + 1)
    assert {tx.hash for tx in txs} <= {tx.hash for tx in block.transactions}


def seed_of(chain: Chain, request_id: int) -> bytes:
    record = load_request(head_slots(chain), request_id)
    assert record is not None
    block = chain.block_by_height(record.included)
    assert block is not None
    return request_seed(request_id, block.hash)


def weights(chain: Chain, keys: InferenceChain, request_id: int) -> dict[Member, int]:
    """Each validator's committee weight for the request (0: not selected)."""
    seed = seed_of(chain, request_id)
    total = sum(m.stake for m in keys.members)
    k = load_params(head_slots(chain)).committee_size
    return {m: m.weight(seed, total, k) for m in keys.members}


def commit_tx(
    chain: Chain, keys: InferenceChain, member: Member, request_id: int, output: bytes
) -> Any:
    hidden = commitment(output, member.address, salt_for(member, request_id))
    proof = member.proof(seed_of(chain, request_id))
    data = call_data("commit(uint256,bytes32,bytes)", request_id, hidden, proof)
    return keys.tx(member.account_key, data)


def reveal_tx(keys: InferenceChain, member: Member, request_id: int, output: bytes) -> Any:
    salt = salt_for(member, request_id)
    data = call_data("reveal(uint256,bytes,bytes32)", request_id, output, salt)
    return keys.tx(member.account_key, data)


async def serve_committee(
    chain: Chain,
    keys: InferenceChain,
    answer: Callable[[int], bytes],
    done: Callable[[], bool],
    interval_s: float = 0.02,
) -> None:
    """Produce blocks until `done()`; every selected validator commits to each new request in
    the block after it and reveals `answer(request_id)` once the commit window has closed."""
    slots = head_slots(chain)
    handled = 0
    reveals: dict[int, tuple[int, list[Member]]] = {}  # id → first reveal height, committee
    while not done():
        txs = []
        for request_id in range(handled + 1, load_counter(slots)[0] + 1):
            committee = [m for m, w in weights(chain, keys, request_id).items() if w]
            txs += [commit_tx(chain, keys, m, request_id, answer(request_id)) for m in committee]
            record = load_request(slots, request_id)
            assert record is not None
            opens = commit_end(record.included, load_params(slots).commit_blocks) + 1
            reveals[request_id] = (opens, committee)
            handled = request_id
        for request_id, (opens, committee) in list(reveals.items()):
            if chain.head.height + 1 == opens:
                txs += [reveal_tx(keys, m, request_id, answer(request_id)) for m in committee]
                del reveals[request_id]
        await mine(chain, *txs)
        await asyncio.sleep(interval_s)
