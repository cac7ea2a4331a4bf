"""Fixtures the fuzz tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.chain import Chain
from tests.unit.rpc_harness import GENESIS, PROPOSER


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    """A real chain at block 0, for the decoders that answer from one (block sync, RPC)."""
    chain = Chain.open(Path(tmp_path_factory.mktemp("chain")) / "data", GENESIS, proposer=PROPOSER)
    try:
        yield chain
    finally:
        chain.close()
