"""INFERENCE_SYNC (0x…0b05): the single-phase baseline runs the model inside the transaction
through the runner the node lends the block environment, with gas charged per token first."""

from __future__ import annotations

from eth_abi import decode

from brainchain.errors import ModelUnavailable
from tests.vm.inference_chain import MODEL, USER_KEY, InferenceChain, call_data
from vm.precompiles.addresses import INFERENCE_SYNC_ADDRESS
from vm.precompiles.inference_sync import NAME

INFER = "infer(string,bytes,uint256)"


def echo_runner(spec_hash: bytes, prompt: bytes, max_tokens: int) -> bytes:
    assert spec_hash == MODEL.spec_hash
    return (prompt * max_tokens)[:max_tokens]


def test_runs_the_model_through_the_nodes_runner_and_charges_per_token() -> None:
    chain = InferenceChain()
    chain.model_runner = echo_runner
    short = chain.dry_run(USER_KEY, call_data(INFER, MODEL.id, b"ab", 4), to=INFERENCE_SYNC_ADDRESS)
    long = chain.dry_run(USER_KEY, call_data(INFER, MODEL.id, b"ab", 5), to=INFERENCE_SYNC_ADDRESS)
    assert short.error is None and decode(["bytes"], short.output) == (b"abab",)
    assert decode(["bytes"], long.output) == (b"ababa",)
    assert long.receipt.gas_used - short.receipt.gas_used == MODEL.sync_gas_per_token
    (receipt,) = chain.mine(
        chain.tx(USER_KEY, call_data(INFER, MODEL.id, b"ab", 4), to=INFERENCE_SYNC_ADDRESS)
    )
    assert receipt.succeeded


def test_without_a_runner_or_with_a_failing_one_it_reverts_with_a_reason() -> None:
    chain = InferenceChain()
    data = call_data(INFER, MODEL.id, b"ab", 4)
    assert (
        chain.reason(USER_KEY, data, to=INFERENCE_SYNC_ADDRESS)
        == f"{NAME}: this node runs no models"
    )

    def unavailable(spec_hash: bytes, prompt: bytes, max_tokens: int) -> bytes:
        raise ModelUnavailable("weights file gone")

    chain.model_runner = unavailable
    assert chain.reason(USER_KEY, data, to=INFERENCE_SYNC_ADDRESS) == f"{NAME}: weights file gone"


def test_bad_calls_are_refused_before_the_model_runs() -> None:
    chain = InferenceChain()
    runs: list[int] = []

    def counting(spec_hash: bytes, prompt: bytes, max_tokens: int) -> bytes:
        runs.append(max_tokens)
        return b""

    chain.model_runner = counting
    for data, reason in [
        (call_data(INFER, "nope", b"ab", 4), "unknown model 'nope'"),
        (call_data(INFER, MODEL.id, b"", 4), "input of 0 bytes outside 1..256"),
        (call_data(INFER, MODEL.id, b"ab", 65), "maxTokens 65 outside 1..64"),
    ]:
        assert chain.reason(USER_KEY, data, to=INFERENCE_SYNC_ADDRESS) == f"{NAME}: {reason}"
    result = chain.dry_run(
        USER_KEY, call_data(INFER, MODEL.id, b"ab", 64), to=INFERENCE_SYNC_ADDRESS, gas=100_000
    )
    assert result.error is not None and "gas" in str(result.error).lower()
    assert runs == []
