"""Code analysis for the compiler: straight-line runs of opcodes and what each run needs.

A run starts at offset 0, at every JUMPDEST and after every opcode that ends one; it ends at
a jump, a halt, or an opcode that must see the exact gas left (GAS, SSTORE's stipend check,
the 63/64 rule of CALL and CREATE). Inside a run nothing but those last opcodes reads the gas
counter, so a run's constant gas and its stack bounds can be checked once, at entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from vm.dispatch import OPCODES, STATIC_GAS_TABLE
from vm.frame import CODE_PADDING

JUMPDEST = 0x5B
PUSH1, PUSH32 = 0x60, 0x7F
CACHE_SIZE = 4096

# Opcodes after which a new run starts. Jumps and halts move or stop the pc; the rest read the
# gas left, so the constant gas of the opcodes after them must not have been charged yet.
ENDS_RUN: frozenset[int] = frozenset(
    {
        0x00,  # STOP
        0x56,  # JUMP
        0x57,  # JUMPI
        0x5A,  # GAS
        0x55,  # SSTORE (EIP-2200: fails when gas left <= the call stipend)
        0xF0,  # CREATE
        0xF1,  # CALL
        0xF2,  # CALLCODE
        0xF3,  # RETURN
        0xF4,  # DELEGATECALL
        0xF5,  # CREATE2
        0xFA,  # STATICCALL
        0xFD,  # REVERT
        0xFF,  # SELFDESTRUCT
    }
    | {byte for byte in range(256) if byte not in OPCODES}  # INVALID and unassigned bytes
)

# (words popped, words pushed) per opcode (spec: each instruction's STACK section).
_UNARY = (1, 1)
_BINARY = (2, 1)
_PRODUCER = (0, 1)
STACK_EFFECT: dict[int, tuple[int, int]] = {
    0x00: (0, 0),
    **{op: _BINARY for op in range(0x01, 0x08)},
    0x08: (3, 1),
    0x09: (3, 1),
    0x0A: _BINARY,
    0x0B: _BINARY,
    **{op: _BINARY for op in range(0x10, 0x15)},
    0x15: _UNARY,
    0x16: _BINARY,
    0x17: _BINARY,
    0x18: _BINARY,
    0x19: _UNARY,
    **{op: _BINARY for op in range(0x1A, 0x1E)},
    0x20: _BINARY,
    0x30: _PRODUCER,
    0x31: _UNARY,
    0x32: _PRODUCER,
    0x33: _PRODUCER,
    0x34: _PRODUCER,
    0x35: _UNARY,
    0x36: _PRODUCER,
    0x37: (3, 0),
    0x38: _PRODUCER,
    0x39: (3, 0),
    0x3A: _PRODUCER,
    0x3B: _UNARY,
    0x3C: (4, 0),
    0x3D: _PRODUCER,
    0x3E: (3, 0),
    0x3F: _UNARY,
    0x40: _UNARY,
    **{op: _PRODUCER for op in range(0x41, 0x49)},
    0x49: _UNARY,
    0x4A: _PRODUCER,
    0x50: (1, 0),
    0x51: _UNARY,
    0x52: (2, 0),
    0x53: (2, 0),
    0x54: _UNARY,
    0x55: (2, 0),
    0x56: (1, 0),
    0x57: (2, 0),
    0x58: _PRODUCER,
    0x59: _PRODUCER,
    0x5A: _PRODUCER,
    0x5B: (0, 0),
    0x5C: _UNARY,
    0x5D: (2, 0),
    0x5E: (3, 0),
    **{op: _PRODUCER for op in range(0x5F, 0x80)},
    **{0x80 + n: (n + 1, n + 2) for n in range(16)},
    **{0x90 + n: (n + 2, n + 2) for n in range(16)},
    **{0xA0 + n: (n + 2, 0) for n in range(5)},
    0xF0: (3, 1),
    0xF1: (7, 1),
    0xF2: (7, 1),
    0xF3: (2, 0),
    0xF4: (6, 1),
    0xF5: (4, 1),
    0xFA: (6, 1),
    0xFD: (2, 0),
    0xFF: (1, 0),
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


@lru_cache(maxsize=CACHE_SIZE)
def run_starts(code: bytes) -> bytes:
    """One flag byte per offset of the padded code: 1 where a run starts."""
    starts = bytearray(len(code) + CODE_PADDING)
    starts[0] = 1
    pc, size = 0, len(code)
    while pc < size:
        op = code[pc]
        if op == JUMPDEST:
            starts[pc] = 1
        pc += 1 + push_size(op)
        if op in ENDS_RUN and pc <= size:
            starts[pc] = 1
    return bytes(starts)


def decode_run(code: bytes, start: int) -> Run:
    """The run that begins at `start`; past the code's end there is an implicit STOP."""
    starts = run_starts(code)
    size = len(code)
    instructions, pc = [], start
    gas = needed = height = growth = 0
    while True:
        op = code[pc] if pc < size else 0x00
        width = push_size(op)
        immediate = int.from_bytes(code[pc + 1 : pc + 1 + width].ljust(width, b"\0"), "big")
        instructions.append(Instruction(pc, op, immediate))
        gas += STATIC_GAS_TABLE[op]
        pops, pushes = STACK_EFFECT.get(op, (0, 0))
        needed = max(needed, pops - height)
        height += pushes - pops
        growth = max(growth, height)
        pc += 1 + width
        if op in ENDS_RUN or (pc < len(starts) and starts[pc]):
            break
    return Run(start, pc, tuple(instructions), gas, needed, growth)
