"""The RPC service as the supervisor runs it: a real socket, null params, a taken port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from genesis.devnet import make_devnet_genesis
from genesis.format import GenesisValidator
from node.chain import Chain
from node.rpc import server

PROPOSER = bytes.fromhex("22" * 20)
GENESIS = make_devnet_genesis([GenesisValidator("v0", PROPOSER, bytes(32), bytes(32), 1)])


@contextlib.asynccontextmanager
async def serving(chain: Chain, port: int = 0) -> AsyncIterator[tuple[asyncio.Task[None], int]]:
    ready, bound = asyncio.Event(), []
    task = asyncio.ensure_future(
        server.serve(chain, host="127.0.0.1", port=port, ready=ready, bound=bound)
    )
    try:
        await asyncio.wait_for(asyncio.shield(ready.wait()), 10)
        yield task, bound[0]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest_asyncio.fixture
async def chain(tmp_path: Path) -> AsyncIterator[Chain]:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    try:
        yield chain
    finally:
        chain.close()


@pytest.mark.asyncio
async def test_port_zero_binds_a_real_port_and_null_params_mean_none(chain: Chain) -> None:
    async with serving(chain) as (_, port), aiohttp.ClientSession() as session:
        assert port > 0
        url = f"http://127.0.0.1:{port}/"
        for params in ({"params": None}, {}, {"params": []}):
            body = {"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", **params}
            async with session.post(url, json=body) as response:
                assert await response.json() == {"jsonrpc": "2.0", "id": 7, "result": "0x539"}
        # A lone notification gets no body at all.
        note = {"jsonrpc": "2.0", "method": "eth_chainId", "params": []}
        async with session.post(url, json=note) as response:
            assert response.status == 204


@pytest.mark.asyncio
async def test_a_taken_port_fails_with_one_readable_line(chain: Chain) -> None:
    async with serving(chain) as (_, port):
        ready, bound = asyncio.Event(), []
        with pytest.raises(OSError) as caught:
            await server.serve(chain, host="127.0.0.1", port=port, ready=ready, bound=bound)
        assert not ready.is_set()
        message = str(caught.value)
        assert f"cannot serve JSON-RPC on 127.0.0.1:{port}" in message and "\n" not in message
