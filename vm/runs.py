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
from vm.jumpdest import CACHE_SIZE, JUMPDEST, PUSH1, PUSH32
from vm.opcodes import Ops

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
) | {byte for byte in range(256) if byte not in OPCODES}  # INVALID and unassigned bytes

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
        op = code[pc] if pc < size else Ops.STOP
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
