"""Fixtures that run real node processes in tmp_path; the node log is printed on failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.node.harness import NodeProcess, dev_home, running


@pytest.fixture
def node_home(tmp_path: Path) -> Path:
    """A fresh single-validator home (keys, genesis with the dev accounts, config)."""
    return dev_home(tmp_path)


@pytest.fixture
def node(node_home: Path) -> Iterator[NodeProcess]:
    with running(node_home) as proc:
        yield proc
