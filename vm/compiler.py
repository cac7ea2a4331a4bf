"""Hot runs of EVM code compiled to Python functions.

Why: the dispatch loop spends most of its ~0.26 µs per opcode on dispatch and on per-opcode gas
and stack checks, not on the operation. A run (vm/runs.py) that has executed `hot_run` times
is compiled once into one Python function: its constant gas is charged and its stack bounds
are checked at entry; PUSH/POP/DUP/SWAP/JUMPDEST/PC/GAS, jumps and the common arithmetic,
comparison and bitwise opcodes are inlined as list operations, a PUSH folds into the opcode that
consumes it, and every other opcode is called through the dispatch table.

Why charging a run's gas up front is invisible: inside a run only the last opcode can read
the gas left (vm/runs.py), every charge is non-negative, and a frame that stops with an
exceptional halt has consumed all its gas and reverted whatever the run did. So the run halts
with up-front charging exactly when it halts when charged opcode by opcode; only the exception
class may differ (out of gas instead of stack underflow), which nothing observes. The same holds
for checking a run's stack bounds at entry.

The inlined expressions restate instructions of vm/instructions/; tests/vm/test_compiler.py
checks each against its instruction, and CI runs the state tests with every run compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from vm.dispatch import DISPATCH
from vm.exceptions import (
    InvalidJumpDestError,
    OutOfGasError,
    StackOverflowError,
    StackUnderflowError,
)
from vm.frame import Evm
from vm.jumpdest import valid_jump_destinations
from vm.runs import ENDS_RUN, Instruction, Run, decode_run, push_size, run_starts
from vm.stack import STACK_LIMIT
from vm.words import MASK_256

# Executions before a run is compiled. Measured on loopMul's Solidity code: compiling a run
# costs ~490 µs and saves ~11 µs per later execution, so compiling pays after ~45 executions.
DEFAULT_HOT_RUN = 32
PROGRAM_CACHE_SIZE = 1024

CompiledRun = Callable[[Evm], int]  # returns the next pc, or STOPPED
STOPPED = -1

# Two-operand opcodes as expressions of the top word {a} and the word below it {b}
# (spec: cancun/vm/instructions/{arithmetic,comparison,bitwise}.py).
BINARY: dict[int, str] = {
    0x01: "({a} + {b}) & M",  # ADD
    0x02: "({a} * {b}) & M",  # MUL
    0x03: "({a} - {b}) & M",  # SUB
    0x04: "{a} // {b} if {b} else 0",  # DIV
    0x06: "{a} % {b} if {b} else 0",  # MOD
    0x10: "1 if {a} < {b} else 0",  # LT
    0x11: "1 if {a} > {b} else 0",  # GT
    0x14: "1 if {a} == {b} else 0",  # EQ
    0x16: "{a} & {b}",  # AND
    0x17: "{a} | {b}",  # OR
    0x18: "{a} ^ {b}",  # XOR
    0x1B: "({b} << {a}) & M if {a} < 256 else 0",  # SHL
    0x1C: "{b} >> {a} if {a} < 256 else 0",  # SHR
}
UNARY: dict[int, str] = {
    0x15: "0 if {a} else 1",  # ISZERO
    0x19: "{a} ^ M",  # NOT
}
STOP, JUMP, JUMPI, PC, GAS, JUMPDEST, PUSH0 = 0x00, 0x56, 0x57, 0x58, 0x5A, 0x5B, 0x5F
POP, DUP1, DUP16, SWAP1, SWAP16 = 0x50, 0x80, 0x8F, 0x90, 0x9F

_GLOBALS: dict[str, object] = {
    "M": MASK_256,
    "T": DISPATCH,
    "Underflow": StackUnderflowError,
    "Overflow": StackOverflowError,
    "OutOfGas": OutOfGasError,
    "BadJump": InvalidJumpDestError,
    "STOPPED": STOPPED,
}

_hot_run: int | None = DEFAULT_HOT_RUN


def set_hot_run(threshold: int | None) -> None:
    """Compile a run after `threshold` executions (0: at once; None: never compile)."""
    global _hot_run
    _hot_run = threshold
    program_for.cache_clear()


class _Source:
    """Python source for one run; a PUSH is held back so the opcode that uses it can fold it."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.held: int | None = None

    def add(self, text: str) -> None:
        self.flush()
        self.lines.append(text)

    def flush(self) -> None:
        if self.held is not None:
            self.lines.append(f"p({self.held})")
            self.held = None

    def take(self) -> int | None:
        """The held PUSH's value, consumed; None when the operand is on the stack."""
        value, self.held = self.held, None
        return value


DYNAMIC_JUMP = "if d not in evm.valid_jump_destinations: raise BadJump(d)\nreturn d"


def _constant_jump(destination: int, valid: frozenset[int]) -> str:
    """A jump to a PUSHed destination, checked once here (YP §9.4.3: only to a JUMPDEST)."""
    return f"return {destination}" if destination in valid else f"raise BadJump({destination})"


def _emit(source: _Source, instruction: Instruction, valid: frozenset[int]) -> bool:
    """Append one opcode; True when it ends the run having set the pc (or stopped)."""
    op, pc = instruction.op, instruction.pc
    if op == PUSH0 or push_size(op):
        source.flush()
        source.held = instruction.immediate
    elif op == JUMPDEST:
        pass
    elif op in BINARY:
        a = source.take()
        if a is None:
            source.add(f"a = s.pop(); b = s[-1]; s[-1] = {BINARY[op].format(a='a', b='b')}")
        else:
            source.add(f"b = s[-1]; s[-1] = {BINARY[op].format(a=a, b='b')}")
    elif op in UNARY:
        source.add(f"a = s[-1]; s[-1] = {UNARY[op].format(a='a')}")
    elif op == POP:
        if source.take() is None:
            source.add("del s[-1]")
    elif DUP1 <= op <= DUP16:
        source.add(f"p(s[-{op - DUP1 + 1}])")
    elif SWAP1 <= op <= SWAP16:
        depth = op - SWAP1 + 2
        source.add(f"s[-1], s[-{depth}] = s[-{depth}], s[-1]")
    elif op == PC:
        source.add(f"p({pc})")
    elif op == GAS:
        source.add(f"p(evm.gas_left); return {pc + 1}")
    elif op == JUMP:
        destination = source.take()
        if destination is None:
            source.add("d = s.pop()\n" + DYNAMIC_JUMP)
        else:
            source.add(_constant_jump(destination, valid))
    elif op == JUMPI:
        destination = source.take()
        if destination is None:
            source.add("d = s.pop()")
            taken = DYNAMIC_JUMP
        else:
            taken = _constant_jump(destination, valid)
        taken = taken.replace("\n", "\n    ")
        source.add(f"if s.pop():\n    {taken}\nreturn {pc + 1}")
    elif op == STOP:
        source.add("evm.running = False; return STOPPED")
    else:
        source.add(f"evm.pc = {pc}; T[{op}](evm)")
        if op in ENDS_RUN:
            source.add("return evm.pc if evm.running else STOPPED")
    return op in ENDS_RUN


def compile_run(code: bytes, run: Run) -> CompiledRun:
    """One Python function that executes `run` on a frame running `code`."""
    valid = valid_jump_destinations(code)
    source = _Source()
    source.add("s = evm.stack; p = s.append")
    if run.stack_needed:
        source.add(f"if len(s) < {run.stack_needed}: raise Underflow('stack underflow')")
    if run.stack_growth:
        limit = STACK_LIMIT - run.stack_growth
        source.add(f"if len(s) > {limit}: raise Overflow('stack overflow')")
    if run.static_gas:
        source.add(f"g = evm.gas_left - {run.static_gas}")
        source.add("if g < 0: raise OutOfGas('out of gas')")
        source.add("evm.gas_left = g")
    ended = False
    for instruction in run.instructions:
        ended = _emit(source, instruction, valid)
    if not ended:
        source.add(f"return {run.end}")
    body = "\n".join(source.lines).replace("\n", "\n    ")
    text = f"def run_{run.start}(evm):\n    {body}\n"
    namespace: dict[str, object] = {}
    exec(compile(text, f"<evm run at {run.start}>", "exec"), dict(_GLOBALS), namespace)
    function = namespace[f"run_{run.start}"]
    assert callable(function)
    return function


class Program:
    """One code's runs: where they start, which are compiled, how often the rest have run."""

    __slots__ = ("code", "compiled", "hits", "starts")

    def __init__(self, code: bytes) -> None:
        self.code = code
        self.starts = run_starts(code)
        self.compiled: dict[int, CompiledRun] = {}
        self.hits: dict[int, int] = {}

    def warm(self, start: int) -> CompiledRun | None:
        """Count one more execution of the run at `start`; its compiled form once it is hot."""
        threshold = _hot_run
        if threshold is None:
            return None
        hits = self.hits.get(start, 0)
        if hits < threshold:
            self.hits[start] = hits + 1
            return None
        function = self.compiled[start] = compile_run(self.code, decode_run(self.code, start))
        return function


@lru_cache(maxsize=PROGRAM_CACHE_SIZE)
def program_for(code: bytes) -> Program:
    """The shared Program of a code (callers of the same contract share compiled runs)."""
    return Program(code)
