"""Chaos mode: its config flag, and the chaos_* methods over a real RPC app and LevelDB chain
(only in chaos mode; bad params change nothing)."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest

from node.config import ConfigError, NodeConfig, load_config, write_config
from node.p2p.faults import Faults
from node.rpc.chaos import MAX_CLOCK_SKEW_S, Chaos
from node.rpc.errors import INVALID_PARAMS, METHOD_NOT_FOUND
from tests.unit.rpc_harness import call, serving

PEER = "12D3KooWA1b2C3d4E5f6G7h8J9k1L2m3N4p5Q6r7S8t9U1v2W3x4"
RULE = {"peers": [PEER], "block": True}


def new_chaos() -> Chaos:
    return Chaos(Faults(random.Random(1)))


def test_chaos_mode_is_off_unless_the_config_says_true(tmp_path: Path) -> None:
    write_config(NodeConfig(tmp_path))
    assert "chaos" not in (tmp_path / "config.json").read_text()
    assert load_config(tmp_path).chaos is False
    write_config(NodeConfig(tmp_path, chaos=True))
    assert load_config(tmp_path).chaos is True
    (tmp_path / "config.json").write_text('{"chaos": "false"}')
    with pytest.raises(ConfigError, match="chaos must be true or false, not 'false'"):
        load_config(tmp_path)


@pytest.mark.asyncio
async def test_without_chaos_mode_the_methods_do_not_exist(tmp_path: Path) -> None:
    async with serving(tmp_path) as (client, _):
        for method, params in (
            ("chaos_setFaults", [[RULE]]),
            ("chaos_setClockSkew", [5]),
            ("chaos_status", []),
        ):
            answer = await call(client, method, *params)
            assert answer["error"]["code"] == METHOD_NOT_FOUND, answer


@pytest.mark.asyncio
async def test_set_faults_installs_replaces_and_heals(tmp_path: Path) -> None:
    chaos = new_chaos()
    async with serving(tmp_path, chaos=chaos) as (client, _):
        assert (await call(client, "chaos_setFaults", [RULE, {"peers": [PEER]}]))["result"] == 2
        assert chaos.faults.message(PEER) == ()
        status = (await call(client, "chaos_status"))["result"]
        assert status == {
            "rules": [
                {**RULE, "drop": 0.0, "delayMs": [0.0, 0.0], "duplicate": 0.0, "reorder": 0.0},
                {
                    "peers": [PEER],
                    "block": False,
                    "drop": 0.0,
                    "delayMs": [0.0, 0.0],
                    "duplicate": 0.0,
                    "reorder": 0.0,
                },
            ],
            "clockSkewS": 0.0,
            "counters": {"dropped": 1, "delayed": 0, "duplicated": 0, "reordered": 0, "refused": 0},
        }
        assert (await call(client, "chaos_setFaults", []))["result"] == 0
        assert chaos.faults.message(PEER) == (0.0,)
        assert (await call(client, "chaos_status"))["result"]["rules"] == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([], "expected 1 params, got 0"),
        ([[RULE], [RULE]], "expected 1 params, got 2"),
        ([RULE], "invalid fault rules: rules must be a list"),
        ([[RULE, {"peers": [PEER], "drop": 2}]], "rule 1: drop must be a number from 0 to 1"),
        ([[{"peers": ["not a peer"]}]], "is not a libp2p peer id"),
    ],
)
@pytest.mark.asyncio
async def test_bad_rules_answer_invalid_params_and_change_nothing(
    tmp_path: Path, params: list[Any], message: str
) -> None:
    chaos = new_chaos()
    async with serving(tmp_path, chaos=chaos) as (client, _):
        await call(client, "chaos_setFaults", [RULE])
        answer = await call(client, "chaos_setFaults", *params)
        assert answer["error"]["code"] == INVALID_PARAMS
        assert message in answer["error"]["message"], answer
        assert [r.to_json()["peers"] for r in chaos.faults.rules] == [[PEER]]
        assert chaos.faults.message(PEER) == ()  # still blocked


@pytest.mark.asyncio
async def test_clock_skew_moves_the_clock_within_its_bounds(tmp_path: Path) -> None:
    chaos = new_chaos()
    async with serving(tmp_path, chaos=chaos) as (client, _):
        assert (await call(client, "chaos_setClockSkew", -30))["result"] == -30.0
        assert abs(chaos.clock() - (time.time() - 30)) < 1
        assert (await call(client, "chaos_status"))["result"]["clockSkewS"] == -30.0
        for bad in (MAX_CLOCK_SKEW_S + 1, -MAX_CLOCK_SKEW_S - 1, "5", True, None):
            answer = await call(client, "chaos_setClockSkew", bad)
            assert answer["error"]["code"] == INVALID_PARAMS, answer
            assert "clock skew must be a number of seconds" in answer["error"]["message"]
        assert chaos.clock_skew_s == -30.0
        assert (await call(client, "chaos_setClockSkew", MAX_CLOCK_SKEW_S))["result"] == 3600.0
