"""geth's default tracer, the struct logger: one entry per opcode (EIP-3155's fields).

geth: eth/tracers/logger/logger.go (StructLogger, its formatLogs and ExecutionResult): the
stack as "0x" words, memory as 32-byte words without "0x" (with enableMemory), the storage
this contract has read or written so far on SLOAD and SSTORE steps (unless disableStorage),
the refund counter, and the error of a step that failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from brainchain.errors import BrainchainError
from brainchain.state.state import State, get_storage
from brainchain.types.transaction import Transaction
from vm.exceptions import EvmStop, Revert
from vm.frame import Evm
from vm.opcodes import Ops
from vm.tracing.hooks import OP_NAMES, TransactionTracer, error_text

if TYPE_CHECKING:
    from vm.transition import TransactionResult

WORD = 32


def refund_counter(evm: Evm) -> int:
    """The transaction's refund so far: this frame's and its callers' (geth's StateDB refund)."""
    total = 0
    frame: Evm | None = evm
    while frame is not None:
        total += frame.refund_counter
        frame = frame.message.parent_evm
    return total


class TraceTooLarge(BrainchainError):
    """A struct-log trace grew past the bound its node sets (`StructLogger.max_entries`)."""


@dataclass(slots=True)
class StructLogger(TransactionTracer):
    """geth's logger.Config options; `limit` caps the entries kept (0: no cap), as geth's does,
    by dropping the rest. `max_entries` is the node's own bound (0: none): past it the trace
    fails instead, since each entry holds a copy of the stack (and memory, if asked) and one
    30M-gas transaction can run millions of steps."""

    enable_memory: bool = False
    disable_stack: bool = False
    disable_storage: bool = False
    enable_return_data: bool = False
    limit: int = 0
    max_entries: int = 0
    logs: list[dict[str, Any]] = field(default_factory=list)
    # Per contract, the slots its SLOAD/SSTORE steps have seen so far.
    storage: dict[bytes, dict[int, int]] = field(default_factory=dict)
    current: dict[str, Any] | None = None

    def step(self, evm: Evm, op: int) -> None:
        if self.limit and len(self.logs) >= self.limit:
            self.current = None
            return
        if self.max_entries and len(self.logs) >= self.max_entries:
            raise TraceTooLarge(
                f"trace exceeds {self.max_entries} struct logs: pass a smaller 'limit', "
                "disable what you do not need, or use the callTracer"
            )
        entry: dict[str, Any] = {
            "pc": evm.pc,
            "op": OP_NAMES[op],
            "gas": evm.gas_left,
            "gasCost": 0,
            "depth": evm.message.depth + 1,
        }
        stack = evm.stack
        if not self.disable_stack:
            entry["stack"] = [hex(word) for word in stack]
        if self.enable_return_data and evm.return_data:
            entry["returnData"] = "0x" + evm.return_data.hex()
        if self.enable_memory:
            memory = evm.memory
            entry["memory"] = [memory[i : i + WORD].hex() for i in range(0, len(memory), WORD)]
        if not self.disable_storage and (
            (op == Ops.SLOAD and stack) or (op == Ops.SSTORE and len(stack) >= 2)
        ):
            target = evm.message.current_target
            slots = self.storage.setdefault(target, {})
            key = stack[-1]
            slots[key] = get_storage(evm.env.state, target, key) if op == Ops.SLOAD else stack[-2]
            entry["storage"] = {f"{k:064x}": f"{v:064x}" for k, v in sorted(slots.items())}
        self.logs.append(entry)
        self.current = entry

    def step_done(self, evm: Evm, op: int, cost: int, error: EvmStop | None) -> None:
        entry = self.current
        if entry is None:
            return
        entry["gasCost"] = cost
        refund = refund_counter(evm)
        if refund:
            entry["refund"] = refund
        # geth marks the steps that fail; REVERT succeeds, and its frame reverts.
        if error is not None and not isinstance(error, Revert):
            entry["error"] = error_text(error)

    def result(self, state: State, tx: Transaction, outcome: TransactionResult) -> dict[str, Any]:
        return {
            "gas": outcome.receipt.gas_used,
            "failed": outcome.error is not None,
            "returnValue": outcome.output.hex(),
            "structLogs": self.logs,
        }
