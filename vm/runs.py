"""Code analysis: valid jump destinations, straight-line runs and what each run needs.

A run starts at offset 0, at every JUMPDEST and after every opcode that ends one; it ends at
a jump, a halt, or an opcode that must see the exact gas left (GAS, SSTORE's stipend check,
the 63/64 rule of CALL and CREATE). Inside a run nothing but those last opcodes reads the gas
counter, so a run's constant gas and its stack bounds can be checked once, at entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from vm.frame import CODE_PADDING
from vm.opcodes import Ops

# Plain ints, bound once: the analysis compares every byte of every new code with them, and an
# int compares with an int about twice as fast as with an IntEnum member.
JUMPDEST, PUSH1, PUSH32 = int(Ops.JUMPDEST), int(Ops.PUSH1), int(Ops.PUSH32)
CACHE_SIZE = 4096

_ASSIGNED = frozenset(int(op) for op in Ops if op != Ops.INVALID)

# Opcodes after which a new run starts. Jumps and halts move or stop the pc; the rest read the
# gas left, so the constant gas of the opcodes after them must not have been charged yet. Held
# as plain ints, as `run_starts` looks up every byte of every new code.
ENDS_RUN: frozenset[int] = frozenset(
    int(op)
    for op in (
        Ops.STOP,
        Ops.JUMP,
        Ops.JUMPI,
        Ops.GAS,
        Ops.SSTORE,  # EIP-2200: fails when gas left <= the call stipend
        Ops.CREATE,
        Ops.CALL,
        Ops.CALLCODE,
        Ops.RETURN,
        Ops.DELEGATECALL,
        Ops.CREATE2,
        Ops.STATICCALL,
        Ops.REVERT,
        Ops.SELFDESTRUCT,
    )
) | {byte for byte in range(256) if byte not in _ASSIGNED}  # INVALID and unassigned bytes

# (words popped, words pushed) per opcode (spec: each instruction's STACK section).
_UNARY = (1, 1)
_BINARY = (2, 1)
_PRODUCER = (0, 1)
STACK_EFFECT: dict[int, tuple[int, int]] = {
    Ops.STOP: (0, 0),
    Ops.ADD: _BINARY,
    Ops.MUL: _BINARY,
    Ops.SUB: _BINARY,
    Ops.DIV: _BINARY,
    Ops.SDIV: _BINARY,
    Ops.MOD: _BINARY,
    Ops.SMOD: _BINARY,
    Ops.ADDMOD: (3, 1),
    Ops.MULMOD: (3, 1),
    Ops.EXP: _BINARY,
    Ops.SIGNEXTEND: _BINARY,
    Ops.LT: _BINARY,
    Ops.GT: _BINARY,
    Ops.SLT: _BINARY,
    Ops.SGT: _BINARY,
    Ops.EQ: _BINARY,
    Ops.ISZERO: _UNARY,
    Ops.AND: _BINARY,
    Ops.OR: _BINARY,
    Ops.XOR: _BINARY,
    Ops.NOT: _UNARY,
    Ops.BYTE: _BINARY,
    Ops.SHL: _BINARY,
    Ops.SHR: _BINARY,
    Ops.SAR: _BINARY,
    Ops.KECCAK: _BINARY,
    Ops.ADDRESS: _PRODUCER,
    Ops.BALANCE: _UNARY,
    Ops.ORIGIN: _PRODUCER,
    Ops.CALLER: _PRODUCER,
    Ops.CALLVALUE: _PRODUCER,
    Ops.CALLDATALOAD: _UNARY,
    Ops.CALLDATASIZE: _PRODUCER,
    Ops.CALLDATACOPY: (3, 0),
    Ops.CODESIZE: _PRODUCER,
    Ops.CODECOPY: (3, 0),
    Ops.GASPRICE: _PRODUCER,
    Ops.EXTCODESIZE: _UNARY,
    Ops.EXTCODECOPY: (4, 0),
    Ops.RETURNDATASIZE: _PRODUCER,
    Ops.RETURNDATACOPY: (3, 0),
    Ops.EXTCODEHASH: _UNARY,
    Ops.BLOCKHASH: _UNARY,
    Ops.COINBASE: _PRODUCER,
    Ops.TIMESTAMP: _PRODUCER,
    Ops.NUMBER: _PRODUCER,
    Ops.PREVRANDAO: _PRODUCER,
    Ops.GASLIMIT: _PRODUCER,
    Ops.CHAINID: _PRODUCER,
    Ops.SELFBALANCE: _PRODUCER,
    Ops.BASEFEE: _PRODUCER,
    Ops.BLOBHASH: _UNARY,
    Ops.BLOBBASEFEE: _PRODUCER,
    Ops.POP: (1, 0),
    Ops.MLOAD: _UNARY,
    Ops.MSTORE: (2, 0),
    Ops.MSTORE8: (2, 0),
    Ops.SLOAD: _UNARY,
    Ops.SSTORE: (2, 0),
    Ops.JUMP: (1, 0),
    Ops.JUMPI: (2, 0),
    Ops.PC: _PRODUCER,
    Ops.MSIZE: _PRODUCER,
    Ops.GAS: _PRODUCER,
    Ops.JUMPDEST: (0, 0),
    Ops.TLOAD: _UNARY,
    Ops.TSTORE: (2, 0),
    Ops.MCOPY: (3, 0),
    Ops.PUSH0: _PRODUCER,
    **{Ops.PUSH1 + n: _PRODUCER for n in range(32)},
    **{Ops.DUP1 + n: (n + 1, n + 2) for n in range(16)},
    **{Ops.SWAP1 + n: (n + 2, n + 2) for n in range(16)},
    **{Ops.LOG0 + n: (n + 2, 0) for n in range(5)},
    Ops.CREATE: (3, 1),
    Ops.CALL: (7, 1),
    Ops.CALLCODE: (7, 1),
    Ops.RETURN: (2, 0),
    Ops.DELEGATECALL: (6, 1),
    Ops.CREATE2: (4, 1),
    Ops.STATICCALL: (6, 1),
    Ops.REVERT: (2, 0),
    Ops.SELFDESTRUCT: (1, 0),
}


@dataclass(frozen=True, slots=True)
class Instruction:
    """One decoded opcode: where it is, what it is, and its PUSH immediate (else 0)."""

    pc: int
    op: int
    immediate: int


@dataclass(frozen=True, slots=True)
class Run:
    """A straight-line run: its opcodes, its constant gas, the stack it needs at entry."""

    start: int
    end: int  # the offset after its last opcode
    instructions: tuple[Instruction, ...]
    static_gas: int
    stack_needed: int  # words that must be on the stack at entry
    stack_growth: int  # the most words the run adds above its entry height


def push_size(op: int) -> int:
    """Bytes of immediate data after a PUSH opcode (0 for any other)."""
    return op - PUSH1 + 1 if PUSH1 <= op <= PUSH32 else 0


@dataclass(frozen=True, slots=True)
class CodeAnalysis:
    """What one pass over a code finds, as one flag byte per offset."""

    starts: bytes  # 1 where a run starts (the padded code's length)
    jump_flags: bytes  # 1 at each JUMPDEST outside PUSH immediate data (the code's length)


# What the pass does at each byte: step over it, skip PUSH data, or start a run at it (JUMPDEST)
# or after it. Tables indexed by the byte: the pass is paid for per word (vm/schedule.py).
_STEP_OVER, _PUSH, _STARTS_RUN, _ENDS_RUN = 0, 1, 2, 3
_KIND = bytes(
    _STARTS_RUN
    if op == JUMPDEST
    else _PUSH
    if push_size(op)
    else _ENDS_RUN
    if op in ENDS_RUN
    else 0
    for op in range(256)
)
_WIDTH = tuple(1 + push_size(op) for op in range(256))
_IS_JUMPDEST = bytes(int(op == JUMPDEST) for op in range(256))


@lru_cache(maxsize=CACHE_SIZE)
def analyse(code: bytes) -> CodeAnalysis:
    """One pass over `code`: where runs start; then, at C speed, the valid jump destinations
    (the JUMPDEST bytes among the run starts, as every one outside PUSH data starts a run)."""
    size = len(code)
    starts = bytearray(size + CODE_PADDING)
    starts[0] = 1
    kind, width = _KIND, _WIDTH
    pc = 0
    while pc < size:
        op = code[pc]
        what = kind[op]
        if what == _STEP_OVER:
            pc += 1
        elif what == _PUSH:
            pc += width[op]
        elif what == _STARTS_RUN:
            starts[pc] = 1
            pc += 1
        else:
            pc += 1
            starts[pc] = 1
    jumps = int.from_bytes(starts[:size], "big") & int.from_bytes(
        code.translate(_IS_JUMPDEST), "big"
    )
    return CodeAnalysis(bytes(starts), jumps.to_bytes(size, "big"))


def run_starts(code: bytes) -> bytes:
    """One flag byte per offset of the padded code: 1 where a run starts."""
    return analyse(code).starts


def jump_flags(code: bytes) -> bytes:
    """One flag byte per offset of `code`: 1 at each JUMPDEST outside PUSH immediate data."""
    return analyse(code).jump_flags


def is_jump_destination(flags: bytes, destination: int) -> bool:
    """Whether a JUMP to `destination` lands on a JUMPDEST (YP §9.4.3)."""
    return destination < len(flags) and flags[destination] == 1


def decode_run(code: bytes, start: int, static_gas: tuple[int, ...]) -> Run:
    """The run that begins at `start`, its constant gas from `static_gas` (vm/schedule.py);
    past the code's end there is an implicit STOP."""
    starts = run_starts(code)
    size = len(code)
    instructions, pc = [], start
    gas = needed = height = growth = 0
    while True:
        op = code[pc] if pc < size else Ops.STOP
        width = push_size(op)
        immediate = int.from_bytes(code[pc + 1 : pc + 1 + width].ljust(width, b"\0"), "big")
        instructions.append(Instruction(pc, op, immediate))
        gas += static_gas[op]
        pops, pushes = STACK_EFFECT.get(op, (0, 0))
        needed = max(needed, pops - height)
        height += pushes - pops
        growth = max(growth, height)
        pc += 1 + width
        if op in ENDS_RUN or (pc < len(starts) and starts[pc]):
            break
    return Run(start, pc, tuple(instructions), gas, needed, growth)
