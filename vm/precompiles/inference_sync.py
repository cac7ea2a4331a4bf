"""INFERENCE_SYNC (0x…0b05): the single-phase baseline BRAIN is measured against (DESIGN.md §5;
BRAIN, Park, Lee, Moon 2024, §V): every validator runs the model while executing the
transaction, so the model's time sits on the block-production path.

    function infer(string model, bytes input, uint256 maxTokens) external view
        returns (bytes output)

The model comes from the INFERENCE registry (0x…0b03's storage) and is run by the node's
executor, lent through the block environment (`BlockEnvironment.model_runner`): vm/ never
imports torch. Gas is charged before the model runs: the registry read, then the model's
sync_gas_per_token for each requested token (genesis/models.py). A node without a runner, or
one that cannot run this model, reverts with a reason; so every node that executes blocks with
such calls needs the model, as the baseline demands.
"""

from __future__ import annotations

from typing import Any

from brainchain.errors import ModelUnavailable
from vm.abi import encode_values
from vm.frame import Evm
from vm.gas import GAS_COLD_SLOAD, charge_gas
from vm.precompiles.addresses import INFERENCE_SYNC_ADDRESS
from vm.precompiles.errors import revert_with_reason
from vm.precompiles.inference_state import MODEL_FIELDS, StateSlots, load_model, model_key
from vm.precompiles.solidity import Function, dispatch

NAME = "INFERENCE_SYNC"


def infer(evm: Evm, args: tuple[Any, ...]) -> None:
    """Run the model on the input now and return its greedy output."""
    model_id, prompt, max_tokens = args
    # GAS: the registry read, before it
    charge_gas(evm, MODEL_FIELDS * GAS_COLD_SLOAD)
    model = load_model(StateSlots(evm.env.state), model_key(model_id))
    if model is None:
        revert_with_reason(evm, f"{NAME}: unknown model {model_id!r}")
    if not 0 < len(prompt) <= model.max_input_bytes:
        revert_with_reason(
            evm, f"{NAME}: input of {len(prompt)} bytes outside 1..{model.max_input_bytes}"
        )
    if not 0 < max_tokens <= model.max_tokens:
        revert_with_reason(evm, f"{NAME}: maxTokens {max_tokens} outside 1..{model.max_tokens}")
    # GAS: the model's run, before it
    charge_gas(evm, model.sync_gas_per_token * max_tokens)
    runner = evm.env.block.model_runner
    if runner is None:
        revert_with_reason(evm, f"{NAME}: this node runs no models")
    try:
        output = runner(model.spec_hash, prompt, max_tokens)
    except ModelUnavailable as exc:
        revert_with_reason(evm, f"{NAME}: {exc}")
    evm.output = encode_values(["bytes"], [output])


FUNCTIONS = (Function("infer(string,bytes,uint256)", infer, mutates=False),)


def inference_sync(evm: Evm) -> None:
    """Run one call to INFERENCE_SYNC.

    Raises:
        OutOfGasError: not enough gas for the registry read or the tokens asked for.
        Revert: the call is refused or the node cannot run the model; the reason says why.
    """
    dispatch(evm, NAME, INFERENCE_SYNC_ADDRESS, FUNCTIONS)
