"""The inference commands: the summary and progress drawn from brain_getInference's JSON,
argument errors as one line, and `models`, `infer --wait` and `inference show` run in-process
against a real chain whose committee the test plays."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from brainchain.crypto.address import to_checksum_address
from node.cli import inference as inference_commands
from node.cli.inference_flow import follow, parse_request_id, request_id_from
from node.cli.inference_view import show_summary, stages
from node.cli.main import cli
from tests.unit.inference_net import inference_net, serve_committee
from tests.vm.inference_chain import MODEL, USER_KEY
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.inference import REQUESTED
from vm.precompiles.solidity import event_topic

A, B, C = ("0x" + c * 40 for c in "abc")
FINALIZED: dict[str, Any] = {
    "id": "0x7",
    "requester": "0x" + "12" * 20,
    "model": "tiny-gptj",
    "status": "finalized",
    "phase": "finalized",
    "includedAt": 10,
    "commitEnd": 12,
    "deadline": 15,
    "maxTokens": 4,
    "fee": hex(4 * 10**12),
    "callbackGas": 0,
    "input": "0x" + b"hi".hex(),
    "inputText": "hi",
    "committedWeight": 31,
    "expectedWeight": 32,
    "quorumWeight": 17,
    "requestTx": "0x" + "01" * 32,
    "commits": [],
    "reveals": [],
    "members": [
        {"member": A, "weight": 12, "committed": True, "revealed": True, "agrees": True,
         "verdict": "rewarded"},
        {"member": B, "weight": 9, "committed": True, "revealed": True, "agrees": False,
         "verdict": "penalised"},
        {"member": C, "weight": 10, "committed": True, "revealed": False, "agrees": None,
         "verdict": "pending"},
    ],
    "result": {
        "output": "0x" + b"abcd".hex(),
        "outputText": "abcd",
        "tokens": [97, 98, 99, 100],
        "outputHash": "0x" + "33" * 32,
        "weight": 12 + 10,
        "finalizedAt": 13,
    },
    "callback": None,
    "gas": {"request": 60_000, "commits": 500_000, "reveals": 150_000, "total": 710_000},
}  # fmt: skip


def rendered(request: dict[str, Any], latency_s: float | None = None) -> str:
    console = Console(record=True, width=200)
    show_summary(console, request, latency_s)
    return console.export_text()


def test_summary_of_a_finalized_request() -> None:
    text = rendered(FINALIZED, 2.0)
    assert "request 7 (tiny-gptj): finalized in block 13 (settles at block 15)" in text
    assert "output:    'abcd'" in text and "tokens:    [97, 98, 99, 100]" in text
    assert "weight 22 (quorum 17)" in text
    for member, weight, verdict in ((A, 12, "rewarded"), (B, 9, "penalised"), (C, 10, "pending")):
        assert any(
            member in line and f" {weight} " in line and verdict in line
            for line in text.splitlines()
        )
    assert "fee:       0.000004 ETH (4000000000000 wei)" in text
    assert "request 60000, commits 500000, reveals 150000, total 710000" in text
    assert "latency:   3 blocks, 2 s" in text


def test_summary_of_an_expired_request_and_a_callback() -> None:
    expired = dict(FINALIZED, status="expired", phase="expired", result=None, members=[])
    text = rendered(expired)
    assert "expired at block 15: no quorum, fee refunded" in text
    assert "nobody has committed" in text and "output:" not in text and "latency" not in text
    called = dict(FINALIZED, status="settled", callback={"success": False, "gasUsed": 5000})
    text = rendered(called)
    assert "(settled)" in text and "callback:  failed, 5000 gas" in text


def stage(**changes: Any) -> dict[str, Any]:
    request = copy.deepcopy(FINALIZED)
    request.update(status="pending", phase="committing", result=None, committedWeight=0)
    for m in request["members"]:
        m.update(revealed=False, agrees=None, verdict="pending")
    request.update(changes)
    return request


INCLUDED = "included in block 10: commits until block 12, reveals until 15"


def test_stages_passed() -> None:
    assert stages(stage()) == [INCLUDED]
    assert stages(stage(committedWeight=31)) == [INCLUDED, "committed weight 31/32"]
    revealing = stage(committedWeight=31, phase="revealing")
    revealing["members"][0]["revealed"] = True
    assert stages(revealing)[2:] == ["revealed weight 12, 17 needed"]
    assert stages(FINALIZED)[1:] == [
        "committed weight 31/32",
        "revealed weight 21, 17 needed",
        "finalized in block 13 with weight 22",
    ]
    expired = dict(FINALIZED, status="expired", result=None, committedWeight=0, members=[])
    assert stages(expired) == [INCLUDED, "timed out at block 15 without quorum: fee refunded"]


class Scripted:
    """An RpcClient that answers brain_getInference from a script, one entry per call."""

    def __init__(self, answers: list[dict[str, Any] | None], heights: list[int]) -> None:
        self.answers, self.heights = answers, heights

    def call(self, method: str, *params: Any) -> Any:
        if method == "brain_getInference":
            return self.answers.pop(0)
        assert method == "eth_blockNumber"
        return hex(self.heights.pop(0) if len(self.heights) > 1 else self.heights[0])


def test_follow_prints_each_stage_until_final() -> None:
    console = Console(record=True, width=200)
    script = [stage(), stage(), stage(committedWeight=20), stage(committedWeight=31), FINALIZED]
    done = follow(Scripted(script, [10, 11, 12, 13]), 7, console, poll_s=0)  # type: ignore[arg-type]
    assert done == FINALIZED
    assert console.export_text().splitlines() == [
        INCLUDED,
        "committed weight 20/32",
        "committed weight 31/32",
        "revealed weight 21, 17 needed",  # passed between two polls: still shown
        "finalized in block 13 with weight 22",
    ]


def test_follow_gives_up_when_blocks_stop() -> None:
    client = Scripted([stage()] * 10, [10])
    with pytest.raises(ValueError, match="no new block for 0s; request 7 is still committing"):
        follow(client, 7, Console(file=None, quiet=True), poll_s=0.01, stall_s=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no inference request 7"):
        follow(Scripted([None], [10]), 7, Console(quiet=True))  # type: ignore[arg-type]


def test_request_ids_and_receipts() -> None:
    assert parse_request_id("12") == 12 and parse_request_id("0x1f") == 31
    for bad in ("twelve", "-3", "0xzz"):
        with pytest.raises(ValueError, match="invalid request id"):
            parse_request_id(bad)
    topic = "0x" + event_topic(REQUESTED).hex()
    receipt = {
        "transactionHash": "0x" + "ab" * 32,
        "logs": [
            {"address": "0x" + "99" * 20, "topics": [topic, hex(5)]},
            {"address": to_checksum_address(INFERENCE_ADDRESS), "topics": [topic, hex(42)]},
        ],
    }
    assert request_id_from(receipt) == 42
    with pytest.raises(ValueError, match="made no inference request"):
        request_id_from(dict(receipt, logs=receipt["logs"][:1]))


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["inference", "show", "abc"], 1, "error: invalid request id 'abc'"),
        (["infer", "--from-key", "00", "--prompt", "hi", "--max-tokens", "4"], 2, "--model"),
        (
            ["infer", "--from-key", "0x1", "--model", "m", "--prompt", "hi", "--max-tokens", "0"],
            2,
            "--max-tokens",
        ),
        (
            ["infer", "--from-key", "0x1", "--model", "m", "--prompt", "hi", "--max-tokens", "4"],
            1,
            "error: --from-key: a private key is 32 bytes of hex",
        ),
        (["models", "--rpc", "http://127.0.0.1:9"], 1, "error: cannot reach node"),
        (["inference", "verify", "1", "--device", "tpu"], 2, "--device"),
    ],
)
def test_argument_errors(args: list[str], code: int, message: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code, result.output
    assert message in result.output
    if code == 1:
        assert len(result.output.strip().splitlines()) == 1  # one line, no traceback


async def run_cli(*args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


@pytest.mark.asyncio
async def test_models_infer_and_show_against_a_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A terminal wide enough for the tables (a pipe gets rich's 80 columns).
    monkeypatch.setattr(inference_commands, "console", Console(width=200, soft_wrap=True))
    async with inference_net(tmp_path / "data") as (client, chain, keys):
        rpc = str(client.make_url("/"))
        listed = await run_cli("models", "--rpc", rpc)
        assert listed.exit_code == 0, listed.output
        assert "tiny-gptj" in listed.output and f"{MODEL.parameters:,}" in listed.output
        assert f"{MODEL.price_per_token} wei" in listed.output
        assert "0x" + MODEL.weights_hash.hex()[:8] in listed.output

        send = ["infer", "--rpc", rpc, "--from-key", USER_KEY.hex(), "--model", "tiny-gptj"]
        async with asyncio.TaskGroup() as tg:
            sent = tg.create_task(run_cli(*send, "--prompt", "hi", "--max-tokens", "8", "--wait"))
            tg.create_task(serve_committee(chain, keys, lambda _: b"answer!!", sent.done))
        result = sent.result()
        assert result.exit_code == 0, result.output
        assert "request id 1" in result.output and "included in block" in result.output
        assert "request 1 (tiny-gptj): finalized in block" in result.output
        assert "output:    'answer!!'" in result.output and "rewarded" in result.output
        assert "latency:   3 blocks" in result.output  # committed, revealed in the next window

        async with asyncio.TaskGroup() as tg:
            sent = tg.create_task(
                run_cli(*send, "--prompt", "again", "--max-tokens", "2", "--fee", "1ether")
            )
            tg.create_task(serve_committee(chain, keys, lambda _: b"ok", sent.done))
        assert sent.result().exit_code == 0, sent.result().output
        assert "request id 2" in sent.result().output

        shown = await run_cli("inference", "show", "0x2", "--rpc", rpc)
        assert shown.exit_code == 0, shown.output
        assert "request 2 (tiny-gptj)" in shown.output and "'again'" in shown.output
        assert "fee:       1 ETH" in shown.output
        missing = await run_cli("inference", "show", "99", "--rpc", rpc)
        assert missing.exit_code == 1 and "no inference request 99" in missing.output
