"""Commit the next block of a chain directly, as a lone validator's consensus would."""

from __future__ import annotations

import time

from brainchain.types.block import Block
from node.chain import Chain

# The lone validator's VRF secret key: a genesis whose blocks are checked registers its public key.
VRF_KEY = bytes([0x5A]) * 32


async def commit_next_block(chain: Chain, timestamp: int | None = None) -> Block:
    """Build a block from the mempool and commit it (no commit certificate: no consensus here);
    a fixed `timestamp` makes its hash the same on every run."""
    built = chain.build_candidate(
        chain.select_candidates(),
        vrf_key=VRF_KEY,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        last_commit=b"",
    )
    await chain.commit_block(built, b"")
    return built.block
