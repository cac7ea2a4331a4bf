"""geth's callTracer: the tree of calls a transaction made, with what each was given and gave back.

geth: eth/tracers/native/call.go (callFrame, its JSON in gen_callframe_json.go). Each frame
has its type (CALL, STATICCALL, DELEGATECALL, CALLCODE, CREATE, CREATE2, SELFDESTRUCT), from,
to, value, gas, gasUsed, input, output, error and revertReason; `withLog` adds the logs each
emitted, at their position among its calls, dropped where the frame failed; `onlyTopCall`
keeps the transaction's own frame alone. Calls to precompiles are frames too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from brainchain.state.state import State, get_account
from brainchain.types.receipt import Log
from brainchain.types.transaction import Transaction
from vm.abi import AbiError, decode_values
from vm.access import to_address
from vm.exceptions import EvmStop, Revert
from vm.frame import Evm
from vm.instructions.system import compute_contract_address
from vm.opcodes import Ops
from vm.tracing.hooks import OP_NAMES, TransactionTracer, error_text

if TYPE_CHECKING:
    from vm.transition import TransactionResult

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
# Solidity's panic codes, as geth's abi.UnpackRevert words them (accounts/abi/abi.go).
PANIC_REASONS = {
    0x00: "generic panic",
    0x01: "assert(false)",
    0x11: "arithmetic underflow or overflow",
    0x12: "division or modulo by zero",
    0x21: "enum overflow",
    0x22: "invalid encoded storage byte array accessed",
    0x31: "out-of-bounds array access; popping on an empty array",
    0x32: "out-of-bounds access of an array or bytesN",
    0x41: "out of memory",
    0x51: "uninitialized function",
}
VALUELESS = frozenset(("STATICCALL",))  # geth gives a STATICCALL frame no value


def revert_reason(output: bytes) -> str | None:
    """The reason a revert's output gives, as geth's abi.UnpackRevert reads it: an
    Error(string)'s message or a Panic(uint256)'s meaning; None for anything else."""
    try:
        if output[:4] == ERROR_SELECTOR:
            (message,) = decode_values(["string"], output[4:])
            return str(message)
        if output[:4] == PANIC_SELECTOR:
            (code,) = decode_values(["uint256"], output[4:])
            return PANIC_REASONS.get(code, f"unknown panic code: {code:#x}")
    except AbiError:
        return None
    return None


@dataclass(slots=True)
class CallFrame:
    """One call, creation or self-destruct, and those it made."""

    type: str
    sender: bytes
    to: bytes
    value: int | None
    gas: int
    input: bytes
    gas_used: int = 0
    output: bytes = b""
    error: str | None = None
    revert_reason: str | None = None
    calls: list[CallFrame] = field(default_factory=list)
    logs: list[tuple[Log, int]] = field(default_factory=list)  # and its position among calls

    def drop_failed_logs(self, failed: bool = False) -> None:
        """geth's clearFailedLogs: a failed frame's logs and its callees' never happened."""
        failed = failed or self.error is not None
        if failed:
            self.logs.clear()
        for call in self.calls:
            call.drop_failed_logs(failed)

    def to_json(self) -> dict[str, Any]:
        """geth's callFrame JSON, its fields in geth's order."""
        frame: dict[str, Any] = {
            "type": self.type,
            "from": "0x" + self.sender.hex(),
            "gas": hex(self.gas),
            "gasUsed": hex(self.gas_used),
            "to": "0x" + self.to.hex(),
            "input": "0x" + self.input.hex(),
        }
        if self.output:
            frame["output"] = "0x" + self.output.hex()
        if self.error is not None:
            frame["error"] = self.error
        if self.revert_reason is not None:
            frame["revertReason"] = self.revert_reason
        if self.calls:
            frame["calls"] = [call.to_json() for call in self.calls]
        if self.logs:
            frame["logs"] = [
                {
                    "address": "0x" + log.address.hex(),
                    "topics": ["0x" + topic.hex() for topic in log.topics],
                    "data": "0x" + log.data.hex(),
                    "position": hex(position),
                }
                for log, position in self.logs
            ]
        if self.value is not None:
            frame["value"] = hex(self.value)
        return frame


@dataclass(slots=True)
class CallTracer(TransactionTracer):
    """geth's callTracer with its config: onlyTopCall, withLog."""

    only_top_call: bool = False
    with_log: bool = False
    open: list[CallFrame] = field(default_factory=list)
    root: CallFrame | None = None
    last_op: int = Ops.CALL  # the opcode that made the next frame
    # SELFDESTRUCT's beneficiary and the balance it will get, read before the step runs.
    destruct: tuple[bytes, int] | None = None

    def enter(self, evm: Evm) -> None:
        message = evm.message
        if message.depth and self.only_top_call:
            return
        creation = message.target is None
        kind = OP_NAMES[self.last_op] if message.depth else ("CREATE" if creation else "CALL")
        parent = message.parent_evm
        sender = message.caller if parent is None else parent.message.current_target
        to = message.current_target if creation else message.code_address
        assert to is not None  # a call has a code address
        value = None if kind in VALUELESS else message.value
        data = message.code if creation else message.data
        self.open.append(CallFrame(kind, sender, to, value, message.gas, data))

    def step(self, evm: Evm, op: int) -> None:
        self.last_op = op
        if op == Ops.SELFDESTRUCT and evm.stack:
            balance = get_account(evm.env.state, evm.message.current_target).balance
            self.destruct = (to_address(evm.stack[-1]), balance)

    def step_done(self, evm: Evm, op: int, cost: int, error: EvmStop | None) -> None:
        if error is not None or (evm.message.depth and self.only_top_call):
            return
        frame = self.open[-1]
        if self.with_log and Ops.LOG0 <= op <= Ops.LOG4:
            frame.logs.append((evm.logs[-1], len(frame.calls)))
        elif op == Ops.SELFDESTRUCT and self.destruct is not None and not self.only_top_call:
            beneficiary, balance = self.destruct
            sender = evm.message.current_target
            frame.calls.append(CallFrame("SELFDESTRUCT", sender, beneficiary, balance, 0, b""))

    def exit(self, evm: Evm) -> None:
        if evm.message.depth and self.only_top_call:
            return
        frame = self.open.pop()
        frame.gas_used = evm.message.gas - evm.gas_left
        error = evm.error
        if error is None or isinstance(error, Revert):
            frame.output = evm.output
        if error is not None:
            frame.error = error_text(error)
            if isinstance(error, Revert):
                frame.revert_reason = revert_reason(evm.output)
        if self.open:
            self.open[-1].calls.append(frame)
        else:
            self.root = frame

    def result(self, state: State, tx: Transaction, outcome: TransactionResult) -> dict[str, Any]:
        root = self.root
        if root is None:  # a creation refused before its frame started (address collision)
            address = compute_contract_address(tx.sender, tx.nonce)
            root = CallFrame("CREATE", tx.sender, address, tx.value, tx.gas, tx.data)
            assert outcome.error is not None
            root.error = error_text(outcome.error)
        # geth: the top frame has the transaction's gas and the receipt's gas used.
        root.gas, root.gas_used = tx.gas, outcome.receipt.gas_used
        root.drop_failed_logs()
        return root.to_json()
