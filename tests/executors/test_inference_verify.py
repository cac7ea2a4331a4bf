"""`brainchain inference verify`: a finalized output is checked by running the registered model
locally from its spec (tiny-gptj on the CPU), as a plain function and as the command against a
real chain whose committee the test plays, honestly or not."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from node.cli.inference_verify import verify_inference
from node.cli.main import cli
from node.executors.models import build_model, generate
from tests.unit.inference_net import inference_net, serve_committee
from tests.vm.inference_chain import MODEL, USER_KEY

PROMPT = b"hello"
MAX_TOKENS = 8


@pytest.fixture(scope="module")
def honest() -> bytes:
    return generate(build_model(MODEL), PROMPT, MAX_TOKENS)


def finalized(output: bytes, **changes: Any) -> dict[str, Any]:
    """The fields of a brain_getInference answer that verify reads."""
    request = {
        "id": "0x5",
        "model": MODEL.id,
        "status": "finalized",
        "input": "0x" + PROMPT.hex(),
        "maxTokens": MAX_TOKENS,
        "result": {"output": "0x" + output.hex()},
    }
    return request | changes


REGISTERED = {"id": MODEL.id, "spec": MODEL.to_json(), "specHash": "0x" + MODEL.spec_hash.hex()}


def test_an_honest_output_verifies_and_another_does_not(honest: bytes) -> None:
    checked = verify_inference(finalized(honest), REGISTERED)
    assert checked.matches and checked.local_output == honest
    assert (checked.request_id, checked.model, checked.device) == (5, MODEL.id, "cpu")
    wrong = bytes(b ^ 1 for b in honest)
    checked = verify_inference(finalized(wrong), REGISTERED)
    assert not checked.matches and checked.chain_output == wrong


def test_what_cannot_be_verified() -> None:
    with pytest.raises(ValueError, match="request 5 is pending, not finalized"):
        verify_inference(finalized(b"", status="pending", result=None), REGISTERED)
    with pytest.raises(ValueError, match="ran tiny-gptj, not tiny-gpt2"):
        verify_inference(finalized(b"x"), dict(REGISTERED, id="tiny-gpt2"))
    cheaper = dict(REGISTERED, spec=MODEL.to_json() | {"price_per_token": "1"})
    with pytest.raises(ValueError, match="not the registered 0x"):
        verify_inference(finalized(b"x"), cheaper)


async def run_cli(*args: str) -> Any:
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


@pytest.mark.asyncio
async def test_the_command_against_a_chain(tmp_path: Path, honest: bytes) -> None:
    async with inference_net(tmp_path / "data") as (client, chain, keys):
        rpc = str(client.make_url("/"))
        send = ["infer", "--rpc", rpc, "--from-key", USER_KEY.hex(), "--model", MODEL.id]
        send += ["--prompt", PROMPT.decode(), "--max-tokens", str(MAX_TOKENS), "--wait"]
        answers = {1: honest, 2: b"colluded"}  # the whole committee lies about request 2
        for _ in answers:
            async with asyncio.TaskGroup() as tg:
                sent = tg.create_task(run_cli(*send))
                tg.create_task(serve_committee(chain, keys, answers.__getitem__, sent.done))
            assert sent.result().exit_code == 0, sent.result().output

        verify = ["inference", "verify", "--rpc", rpc, "--device", "cpu"]
        good = await run_cli(*verify, "1")
        assert good.exit_code == 0, good.output
        assert "verified: the chain's output is what an honest executor produces" in good.output
        bad = await run_cli(*verify, "2")
        assert bad.exit_code == 1, bad.output
        assert f"0x{b'colluded'.hex()} is not what an honest executor produces" in bad.output
        assert f"0x{honest.hex()}" in bad.output
