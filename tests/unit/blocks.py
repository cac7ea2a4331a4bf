"""Commit the next block of a chain directly, as a lone validator's consensus would."""

from __future__ import annotations

import time

from brainchain.types.block import Block
from node.chain import Chain


async def commit_next_block(chain: Chain) -> Block:
    """Build a block from the mempool and commit it (no commit certificate: no consensus here)."""
    built = chain.build_candidate(
        chain.select_candidates(), timestamp=int(time.time()), last_commit=b""
    )
    await chain.commit_block(built, b"")
    return built.block
