"""Hot runs of EVM code compiled to Python functions.

Why: the dispatch loop spends most of its ~0.26 µs per opcode on dispatch and on per-opcode gas
and stack checks, not on the operation. A run (vm/runs.py) that has executed `hot_run` times
is compiled once into one Python function: its constant gas is charged and its stack bounds
are checked at entry; the top of the stack lives in local variables (`_Run`), so PUSH, POP,
DUP, SWAP, JUMPDEST and PC cost nothing at run time, jumps and the common arithmetic,
comparison and bitwise opcodes become expressions on locals, and every other opcode is called
through the dispatch table with the stack written back first.

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
from vm.opcodes import Ops
from vm.runs import (
    ENDS_RUN,
    Instruction,
    Run,
    decode_run,
    is_jump_destination,
    jump_flags,
    push_size,
    run_starts,
)
from vm.schedule import GasSchedule
from vm.stack import STACK_LIMIT
from vm.words import MASK_256

# Executions before a run is compiled. Measured on loopMul's Solidity code: compiling a run
# costs ~490 µs and saves ~11 µs per later execution, so compiling pays after ~45 executions.
DEFAULT_HOT_RUN = 32
# Compiling is work that no gas pays for, so a run is compiled only once its executions have
# been charged this much constant gas: otherwise code made of many tiny runs, each executed
# just past the threshold, would buy compilations at ~0.2 Mgas/s (bench/gas_time.py). A run
# costs ~65 µs plus ~8 µs per opcode to compile; at 60 gas per µs of compiling, compiling
# takes at most a sixth of the time its gas buys at the 10 Mgas/s floor (issue 12).
COMPILE_GAS = 3_900
COMPILE_GAS_PER_OPCODE = 480
PROGRAM_CACHE_SIZE = 1024

CompiledRun = Callable[[Evm], int]  # returns the next pc, or STOPPED
STOPPED = -1

# Two-operand opcodes as expressions of the top word {a} and the word below it {b}
# (spec: cancun/vm/instructions/{arithmetic,comparison,bitwise}.py).
BINARY: dict[int, str] = {
    Ops.ADD: "({a} + {b}) & M",
    Ops.MUL: "({a} * {b}) & M",
    Ops.SUB: "({a} - {b}) & M",
    Ops.DIV: "{a} // {b} if {b} else 0",
    Ops.MOD: "{a} % {b} if {b} else 0",
    Ops.LT: "1 if {a} < {b} else 0",
    Ops.GT: "1 if {a} > {b} else 0",
    Ops.EQ: "1 if {a} == {b} else 0",
    Ops.AND: "{a} & {b}",
    Ops.OR: "{a} | {b}",
    Ops.XOR: "{a} ^ {b}",
    Ops.SHL: "({b} << {a}) & M if {a} < 256 else 0",
    Ops.SHR: "{b} >> {a} if {a} < 256 else 0",
}
UNARY: dict[int, str] = {
    Ops.ISZERO: "0 if {a} else 1",
    Ops.NOT: "{a} ^ M",
}

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


class _Run:
    """Python source for one run, keeping the top of the stack in local variables.

    The logical stack is `s[:len(s) - consumed] + sym`: `sym` holds atoms (int literals or
    locals t0, t1, …) for the words the run has pushed or taken off the list, so PUSH, DUP,
    SWAP and POP become renamings and an operation reads its operands from locals. The list is
    brought up to date (`materialize`) before anything else can see it: an opcode called
    through the dispatch table, or the end of the run.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sym: list[str] = []
        self.consumed = 0
        self._temps = 0

    def add(self, text: str) -> None:
        self.lines.append(text)

    def temp(self, expression: str) -> str:
        """A new local holding `expression`, evaluated now."""
        name = f"t{self._temps}"
        self._temps += 1
        self.add(f"{name} = {expression}")
        return name

    def need(self, count: int) -> None:
        """Take words off the list until `sym` holds at least the top `count`."""
        while len(self.sym) < count:
            self.consumed += 1
            self.sym.insert(0, self.temp(f"s[-{self.consumed}]"))

    def peek(self, depth: int) -> str:
        """The word `depth` from the top (1: the top), without taking it off the list."""
        if depth <= len(self.sym):
            return self.sym[-depth]
        return self.temp(f"s[-{self.consumed + depth - len(self.sym)}]")

    def pop(self) -> str:
        self.need(1)
        return self.sym.pop()

    def drop(self) -> None:
        """POP: forget the top word."""
        if self.sym:
            self.sym.pop()
        else:
            self.consumed += 1

    def materialize(self) -> None:
        """Write the logical stack back to the list."""
        items = ", ".join(self.sym)
        if self.consumed and self.sym:
            self.add(f"s[-{self.consumed}:] = ({items},)")
        elif self.consumed:
            self.add(f"del s[-{self.consumed}:]")
        elif len(self.sym) == 1:
            self.add(f"s.append({items})")
        elif self.sym:
            self.add(f"s.extend(({items},))")
        self.sym, self.consumed = [], 0


DYNAMIC_JUMP = "f = evm.jump_flags\nif {d} >= len(f) or f[{d}] != 1: raise BadJump({d})\nreturn {d}"


def _jump(destination: str, valid: bytes) -> str:
    """Statements that jump to `destination`: only to a JUMPDEST (YP §9.4.3).

    A PUSHed destination is checked here, once; a computed one when the run executes.
    """
    if not destination.isdigit():
        return DYNAMIC_JUMP.format(d=destination)
    if is_jump_destination(valid, int(destination)):
        return f"return {destination}"
    return f"raise BadJump({destination})"


def _emit(out: _Run, instruction: Instruction, valid: bytes) -> bool:
    """Append one opcode; True when it ends the run having returned (or raised)."""
    op, pc = instruction.op, instruction.pc
    if op == Ops.PUSH0 or push_size(op):
        out.sym.append(str(instruction.immediate))
    elif op == Ops.JUMPDEST:
        pass
    elif op in BINARY:
        a, b = out.pop(), out.pop()
        out.sym.append(out.temp(BINARY[op].format(a=a, b=b)))
    elif op in UNARY:
        out.sym.append(out.temp(UNARY[op].format(a=out.pop())))
    elif op == Ops.POP:
        out.drop()
    elif Ops.DUP1 <= op <= Ops.DUP16:
        out.sym.append(out.peek(op - Ops.DUP1 + 1))
    elif Ops.SWAP1 <= op <= Ops.SWAP16:
        depth = op - Ops.SWAP1 + 2
        out.need(depth)
        out.sym[-1], out.sym[-depth] = out.sym[-depth], out.sym[-1]
    elif op == Ops.PC:
        out.sym.append(str(pc))
    elif op == Ops.GAS:
        out.sym.append(out.temp("evm.gas_left"))
        out.materialize()
        out.add(f"return {pc + 1}")
    elif op == Ops.JUMP:
        destination = out.pop()
        out.materialize()
        out.add(_jump(destination, valid))
    elif op == Ops.JUMPI:
        destination, condition = out.pop(), out.pop()
        out.materialize()
        taken = _jump(destination, valid).replace("\n", "\n    ")
        out.add(f"if {condition}:\n    {taken}\nreturn {pc + 1}")
    elif op == Ops.STOP:
        out.add("evm.running = False; return STOPPED")  # nothing reads the stack after STOP
    else:
        out.materialize()
        out.add(f"evm.pc = {pc}; T[{op}](evm)")
        if op in ENDS_RUN:
            out.add("return evm.pc if evm.running else STOPPED")
    return op in ENDS_RUN


def compile_run(code: bytes, run: Run) -> CompiledRun:
    """One Python function that executes `run` on a frame running `code`."""
    valid = jump_flags(code)
    out = _Run()
    out.add("s = evm.stack")
    if run.stack_needed:
        out.add(f"if len(s) < {run.stack_needed}: raise Underflow('stack underflow')")
    if run.stack_growth:
        out.add(f"if len(s) > {STACK_LIMIT - run.stack_growth}: raise Overflow('stack overflow')")
    if run.static_gas:
        out.add(f"g = evm.gas_left - {run.static_gas}")
        out.add("if g < 0: raise OutOfGas('out of gas')")
        out.add("evm.gas_left = g")
    ended = False
    for instruction in run.instructions:
        ended = _emit(out, instruction, valid)
    if not ended:
        out.materialize()
        out.add(f"return {run.end}")
    body = "\n".join(out.lines).replace("\n", "\n    ")
    text = f"def run_{run.start}(evm):\n    {body}\n"
    namespace: dict[str, object] = {}
    exec(compile(text, f"<evm run at {run.start}>", "exec"), dict(_GLOBALS), namespace)
    function = namespace[f"run_{run.start}"]
    assert callable(function)
    return function


class Program:
    """One code's runs: where they start, which are compiled, how often the rest have run."""

    __slots__ = ("code", "compiled", "hits", "priced", "starts", "static_gas")

    def __init__(self, code: bytes, schedule: GasSchedule) -> None:
        self.code = code
        self.static_gas = schedule.static_gas  # compiled runs charge their gas up front
        self.starts = run_starts(code)
        self.compiled: dict[int, CompiledRun] = {}
        self.hits: dict[int, int] = {}  # executions of each run not compiled yet
        self.priced: set[int] = set()  # runs whose compiling cost has been looked at

    def warm(self, start: int) -> CompiledRun | None:
        """Count one more execution of the run at `start`; its compiled form once it is hot
        and its executions have paid for compiling it (COMPILE_GAS)."""
        threshold = _hot_run
        if threshold is None:
            return None
        hits = self.hits.get(start, 0)
        if hits < threshold:
            self.hits[start] = hits + 1
            return None
        run = decode_run(self.code, start, self.static_gas)
        if threshold and start not in self.priced:
            self.priced.add(start)
            cost = COMPILE_GAS + COMPILE_GAS_PER_OPCODE * len(run.instructions)
            executions = -(-cost // max(1, run.static_gas))
            if executions > hits:
                # Count the executions still owed back up to the threshold.
                self.hits[start] = threshold - (executions - hits)
                return None
        function = self.compiled[start] = compile_run(self.code, run)
        return function


@lru_cache(maxsize=PROGRAM_CACHE_SIZE)
def program_for(code: bytes, schedule: GasSchedule) -> Program:
    """The shared Program of a code under a gas schedule (callers of the same contract share
    compiled runs)."""
    return Program(code, schedule)
