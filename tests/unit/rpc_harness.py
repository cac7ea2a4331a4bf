"""An in-process JSON-RPC server over a real LevelDB chain, shared by the RPC tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from genesis.devnet import make_devnet_genesis
from genesis.format import Genesis, GenesisValidator
from node.chain import Chain
from node.rpc.chaos import Chaos
from node.rpc.server import make_app

PROPOSER = bytes.fromhex("11" * 20)
GENESIS = make_devnet_genesis([GenesisValidator("v0", PROPOSER, bytes(32), bytes(32), 1)])


@asynccontextmanager
async def serving(
    data_dir: Path,
    genesis: Genesis = GENESIS,
    proposer: bytes = PROPOSER,
    chaos: Chaos | None = None,
) -> AsyncIterator[tuple[TestClient, Chain]]:
    """A chain of `genesis` in `data_dir` and a test client talking to its RPC app (with the
    chaos_* methods when `chaos` is given)."""
    chain = Chain.open(data_dir, genesis, proposer=proposer)
    client = TestClient(TestServer(make_app(chain, chaos=chaos)))
    await client.start_server()
    try:
        yield client, chain
    finally:
        await client.close()
        chain.close()


async def call(client: TestClient, method: str, *params: Any) -> dict[str, Any]:
    """One JSON-RPC request; the whole answer object."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    answer: dict[str, Any] = await (await client.post("/", json=body)).json()
    return answer
