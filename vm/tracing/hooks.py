"""What the interpreter tells a tracer, and the names and error texts traces print (geth's).

The hooks follow geth's tracing.Hooks (core/tracing/hooks.go): OnEnter/OnExit per frame and
OnOpcode per step, here split into `step` (before the opcode: its pc, gas, stack and memory)
and `step_done` (its gasCost and error, once known). vm/interpreter.py calls them only for a
block whose BlockEnvironment carries a tracer, from the traced loop (`run_traced`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from brainchain.state.state import State
from brainchain.types.transaction import Transaction
from vm.environment import BlockEnvironment
from vm.exceptions import (
    AddressCollision,
    EvmStop,
    InvalidContractPrefix,
    InvalidJumpDestError,
    InvalidOpcode,
    OutOfBoundsRead,
    OutOfGasError,
    Revert,
    StackDepthLimitError,
    StackOverflowError,
    StackUnderflowError,
    WriteInStaticContext,
)
from vm.frame import Evm
from vm.opcodes import Ops

if TYPE_CHECKING:
    from vm.transition import TransactionResult

# geth's spelling where it differs from the spec's (core/vm/opcodes.go).
_GETH_NAMES: dict[int, str] = {Ops.KECCAK: "KECCAK256"}
OP_NAMES: tuple[str, ...] = tuple(
    _GETH_NAMES.get(byte, Ops(byte).name)
    if byte in Ops._value2member_map_
    else f"opcode {byte:#04x} not defined"
    for byte in range(256)
)

# geth's error texts (core/vm/errors.go) for each way a frame or step stops.
_GETH_ERRORS: dict[type[Exception], str] = {
    OutOfGasError: "out of gas",
    StackUnderflowError: "stack underflow",
    StackOverflowError: "stack limit reached 1024",
    InvalidJumpDestError: "invalid jump destination",
    WriteInStaticContext: "write protection",
    OutOfBoundsRead: "return data out of bounds",
    InvalidContractPrefix: "invalid code: must not begin with 0xef",
    AddressCollision: "contract address collision",
    StackDepthLimitError: "max call depth exceeded",
    Revert: "execution reverted",
}


def error_text(error: Exception) -> str:
    """How geth words an error: its own text for the EVM's errors, the message otherwise (a
    precompile's or a BRAIN precompile's failure)."""
    if isinstance(error, InvalidOpcode):
        return f"invalid opcode: {OP_NAMES[error.opcode]}"
    return _GETH_ERRORS.get(type(error), str(error))


class Tracer:
    """A tracer's hooks; each does nothing here, so a tracer overrides those it needs."""

    def enter(self, evm: Evm) -> None:
        """A frame has started: its message is set, its value moved, no opcode run yet."""

    def step(self, evm: Evm, op: int) -> None:
        """Opcode `op` at `evm.pc` is about to run, with `evm.gas_left` before its cost."""

    def step_done(self, evm: Evm, op: int, cost: int, error: EvmStop | None) -> None:
        """The step has run (or failed with `error`, which the frame then stops with); `cost`
        is its gasCost: what it charged, the gas given to a callee included, or for a step
        that ran out, what it would have charged."""

    def exit(self, evm: Evm) -> None:
        """The frame has finished: its output, error and gas left are final."""


class TransactionTracer(Tracer, ABC):
    """A tracer of one transaction: told of its state before it runs, then asked for the
    result geth's tracer of that name returns (vm/tracing `trace_transaction`)."""

    def begin(self, state: State, env: BlockEnvironment, tx: Transaction) -> None:
        """The transaction is about to run on `state` (nothing charged yet)."""

    @abstractmethod
    def result(self, state: State, tx: Transaction, outcome: TransactionResult) -> dict[str, Any]:
        """The trace, as geth's JSON result; `state` is the state after the transaction."""
