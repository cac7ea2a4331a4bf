"""What a block gives the transactions in it (execution-specs `BlockEnvironment`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vm.gas import MIN_BLOB_GASPRICE
from vm.schedule import BRAINCHAIN, GasSchedule

if TYPE_CHECKING:
    from vm.tracing.hooks import Tracer

# (spec hash, prompt, max tokens) -> output: how the node lends INFERENCE_SYNC its executor.
# vm/ never imports torch (DESIGN.md §5); it raises brainchain.errors.ModelUnavailable when the
# node cannot run that model.
ModelRunner = Callable[[bytes, bytes, int], bytes]


@dataclass(frozen=True, slots=True)
class BlockEnvironment:
    """Chain id, height, time, proposer, gas limit, base fee and randomness of one block."""

    chain_id: int
    height: int
    timestamp: int
    proposer: bytes  # COINBASE: receives the priority fees
    gas_limit: int
    base_fee: int
    randomness: bytes  # PREVRANDAO
    blob_base_fee: int = MIN_BLOB_GASPRICE  # no blobs on this chain (EIP-4844)
    # BRAIN's native precompiles (0x…0b01–0b05, DESIGN.md §3) exist on brainchain; the Ethereum
    # state tests run without them, as those addresses are ordinary accounts on Ethereum.
    brain_precompiles: bool = True
    # The gas schedule: brainchain's prices this VM's measured time; the state tests run under
    # Cancun's (vm/schedule.py).
    schedule: GasSchedule = BRAINCHAIN
    # INFERENCE_SYNC (0x…0b05) runs models inside transactions through this, when the node has
    # executors; every node that executes such a block needs one.
    model_runner: ModelRunner | None = None
    # Called as each frame starts or resumes; raises (brainchain.errors.ExecutionInterrupted)
    # to stop the transaction. Only simulations (eth_call) set it: a time limit is not
    # consensus. Within one frame the gas limit bounds the time (bench/gas_time.py).
    check_interrupt: Callable[[], None] | None = None
    # Told of every frame and step (vm/tracing); a frame with one runs the interpreter's traced
    # loop instead of the compiled runs. Only traces (debug_trace*) set it.
    tracer: Tracer | None = None
