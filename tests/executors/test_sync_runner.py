"""INFERENCE_SYNC with the node's real executor lent to the block environment: the output in
the transaction is the model's greedy output, and the same on a second execution."""

from __future__ import annotations

from eth_abi import decode

from genesis.models import shipped_model
from node.executors.models import build_model, generate
from node.executors.pool import ExecutorPool
from tests.vm.inference_chain import MODEL, USER_KEY, InferenceChain, call_data
from vm.precompiles.addresses import INFERENCE_SYNC_ADDRESS


def test_inference_sync_runs_the_registered_model_on_the_executor() -> None:
    chain = InferenceChain()
    pool = ExecutorPool({MODEL.spec_hash: MODEL}, device="cpu")
    chain.model_runner = pool.run_sync
    data = call_data("infer(string,bytes,uint256)", MODEL.id, b"hello", 8)
    first = chain.dry_run(USER_KEY, data, to=INFERENCE_SYNC_ADDRESS)
    again = chain.dry_run(USER_KEY, data, to=INFERENCE_SYNC_ADDRESS)
    assert first.error is None
    expected = generate(build_model(shipped_model(MODEL.id)), b"hello", 8)
    assert decode(["bytes"], first.output) == decode(["bytes"], again.output) == (expected,)
    (receipt,) = chain.mine(chain.tx(USER_KEY, data, to=INFERENCE_SYNC_ADDRESS))
    assert receipt.succeeded
