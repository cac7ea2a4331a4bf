"""eth_call and eth_estimateGas under limits: a gas cap, a time limit, off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from node.chain import CallLimits, Chain
from node.rpc.debug import DEBUG_METHODS
from node.rpc.errors import LIMIT_EXCEEDED, SERVER_ERROR
from node.rpc.server import make_app
from node.rpc.simulations import SIMULATIONS, SimulationPool
from tests.unit.rpc_harness import GENESIS, PROPOSER, call

# Creation code that calls the identity precompile forever: a new frame every ~250 gas, so
# the time limit (checked as frames start) stops it long before its gas runs out.
CALLS_FOREVER = "0x5b600080808060045afa50600056"
# Creation code that counts 100,000 down in a loop (47 gas a turn: Cancun's 26 for its 7
# opcodes plus brainchain's 3 per opcode, vm/schedule.py), then stops:
# PUSH3 100000; JUMPDEST; PUSH1 1; SWAP1; SUB; DUP1; PUSH1 4; JUMPI; STOP
BURNS_4_7M = "0x620186a05b600190038060045700"
LOTS_OF_GAS = hex(2**40)
ENOUGH_TO_BURN = hex(5_000_000)


@asynccontextmanager
async def serving(
    tmp_path: Path, limits: CallLimits, pool: SimulationPool | None = None
) -> AsyncIterator[TestClient]:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    chain.call_limits = limits
    client = TestClient(TestServer(make_app(chain, pool)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        chain.close()


def simulation(data: str, gas: str = LOTS_OF_GAS) -> dict[str, Any]:
    return {"data": data, "gas": gas}


@pytest.mark.asyncio
async def test_a_call_stops_at_the_time_limit_with_geths_error(tmp_path: Path) -> None:
    async with serving(tmp_path, CallLimits(gas_cap=0, timeout_s=0.2)) as client:
        answer = await call(client, "eth_call", simulation(CALLS_FOREVER), "latest")
        assert answer["error"] == {
            "code": SERVER_ERROR,
            "message": "execution aborted (timeout = 0.2s)",
        }
        answer = await call(client, "eth_estimateGas", simulation(CALLS_FOREVER), "latest")
        assert answer["error"]["message"] == "execution aborted (timeout = 0.2s)"


@pytest.mark.asyncio
async def test_the_gas_cap_lowers_what_a_simulation_may_use(tmp_path: Path) -> None:
    async with serving(tmp_path, CallLimits(gas_cap=0)) as client:
        needed = int(
            (await call(client, "eth_estimateGas", simulation(BURNS_4_7M, ENOUGH_TO_BURN)))[
                "result"
            ],
            16,
        )
        assert 4_700_000 < needed < 4_800_000
    async with serving(tmp_path, CallLimits(gas_cap=needed - 1)) as client:
        for method in ("eth_call", "eth_estimateGas"):
            answer = await call(client, method, simulation(BURNS_4_7M, ENOUGH_TO_BURN))
            assert answer["error"]["code"] == SERVER_ERROR
            assert "out of gas" in answer["error"]["message"]
    async with serving(tmp_path, CallLimits(gas_cap=needed)) as client:
        assert (await call(client, "eth_call", simulation(BURNS_4_7M, ENOUGH_TO_BURN)))[
            "result"
        ] == "0x"


@pytest.mark.asyncio
async def test_the_event_loop_answers_while_a_simulation_runs(tmp_path: Path) -> None:
    async with serving(tmp_path, CallLimits(gas_cap=0, timeout_s=2.0)) as client:
        heavy = asyncio.create_task(call(client, "eth_call", simulation(CALLS_FOREVER)))
        while not heavy.done() and (await call(client, "net_version"))["result"] != "1337":
            pass  # answered while the simulation runs on its worker
        assert not heavy.done()
        assert (await heavy)["error"]["message"] == "execution aborted (timeout = 2s)"


@pytest.mark.asyncio
async def test_simulations_beyond_the_wait_list_get_a_busy_error(tmp_path: Path) -> None:
    pool = SimulationPool(workers=1, max_waiting=0)
    async with serving(tmp_path, CallLimits(gas_cap=0, timeout_s=1.0), pool) as client:
        heavy = asyncio.create_task(call(client, "eth_call", simulation(CALLS_FOREVER)))
        while pool.admitted == 0:
            await asyncio.sleep(0.01)
        busy = await call(client, "eth_estimateGas", simulation(BURNS_4_7M, ENOUGH_TO_BURN))
        assert busy["error"]["code"] == LIMIT_EXCEEDED
        assert "too many simulations" in busy["error"]["message"]
        assert "timeout" in (await heavy)["error"]["message"]
        assert (await call(client, "eth_call", simulation("0x00")))["result"] == "0x"  # room again


def test_every_trace_method_runs_on_the_simulation_workers() -> None:
    """debug_trace* re-execute transactions: off the event loop, like eth_call."""
    assert set(DEBUG_METHODS) <= SIMULATIONS
