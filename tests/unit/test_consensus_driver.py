"""The consensus driver's handling of what peers send more than once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from brainchain.types.block import Block
from node.chain import Chain
from node.consensus_driver import ConsensusDriver
from tests.unit.test_consensus_store import GENESIS, VRF_KEYS
from tests.unit.test_evidence import Outbox
from vm.transition import BuiltBlock


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
