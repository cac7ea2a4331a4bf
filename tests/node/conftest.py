"""Fixtures that run real node processes in tmp_path; the node log is printed on failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node import devnet
from tests.node.harness import NodeProcess


@pytest.fixture
def node_home(tmp_path: Path) -> Path:
    """A fresh single-validator home (keys, genesis with the dev accounts, config)."""
    devnet.create(
        tmp_path / "net",
        validators=1,
        chain_id=1337,
        rpc_port=0,
        p2p_port=0,
        metrics_port=0,
        block_interval_s=0.2,
    )
    return tmp_path / "net" / "node0"


@pytest.fixture
def node(node_home: Path) -> Iterator[NodeProcess]:
    proc = NodeProcess(node_home)
    proc.start()
    try:
        yield proc
    finally:
        code = proc.stop()
        print(f"--- node log (exit {code}) ---\n{proc.log()}")
