"""Which gas schedule a block runs under: Cancun's, or brainchain's, which prices this VM's time.

Gas must buy bounded time (issue 12): a full 30M-gas block must execute in under 3 s on one
core, so every way of spending gas must run at 10 Mgas/s or more (`python -m bench.gas_time`).
Cancun's prices assume a native EVM; this one interprets EVM code in Python, and some of its
costs have no counterpart in them. brainchain's schedule is Cancun's with these additions, each
following measured time; the Ethereum state tests (vm/conformance.py) run under Cancun's.

- OPCODE_SURCHARGE on every opcode. The dispatch loop spends 0.3-0.6 µs per opcode whatever
  the opcode does (vm/interpreter.py `run`); at Cancun's 2 and 3 gas that is 4-9 Mgas/s.
  Code the VM has compiled (vm/compiler.py) runs far faster, but code never seen before, init
  code above all, runs interpreted until hot, and an attacker can keep making new code.
- FRAME_SURCHARGE on CALL, CALLCODE, DELEGATECALL, STATICCALL, CREATE and CREATE2: a new frame
  (its snapshot, its `Evm`, its warm-set marks, the result folded back) costs 15-20 µs, while a
  warm call is priced at 100 gas. Charged as the opcode's constant gas, so before the 63/64
  rule (EIP-150) divides what is left.
- CODE_WORD_GAS per 32-byte word of code, the first time a transaction runs that code (a
  contract's or init code): analysing new code (vm/runs.py `analyse`) takes up to ~110 ns a
  byte, so a call to 24 KiB never seen before took ~2.5 ms for 2,600 gas. Charged when the
  frame starts, before the analysis runs, so a call with too little gas for it halts without
  analysing.
- CHAIN_EXTRA for the instructions slower than the surcharge pays for: memory and copies,
  signed and modular arithmetic, KECCAK256 and EXP of short inputs.

The numbers aim at 15 Mgas/s on a quiet core for the slowest row of `bench.gas_time`, so that
a busy machine, which can halve a core's speed, still stays above 10. README lists the
deviations and the figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from vm.gas import (
    GAS_BASE,
    GAS_BLOBHASH_OPCODE,
    GAS_BLOCK_HASH,
    GAS_FAST_STEP,
    GAS_HIGH,
    GAS_JUMPDEST,
    GAS_LOW,
    GAS_MID,
    GAS_VERY_LOW,
)
from vm.opcodes import Ops

OPCODE_SURCHARGE = 3
FRAME_SURCHARGE = 150
CODE_WORD_GAS = 40
FRAME_OPCODES = (Ops.CALL, Ops.CALLCODE, Ops.DELEGATECALL, Ops.STATICCALL, Ops.CREATE, Ops.CREATE2)
# Instructions slower than the surcharge pays for: extra gas beyond Cancun's price and the
# surcharge, from the rows of bench.gas_time that ran at 12-14 Mgas/s with the surcharge alone.
CHAIN_EXTRA: dict[int, int] = {
    Ops.MLOAD: 2,
    Ops.MSTORE: 4,
    Ops.MSTORE8: 2,
    Ops.CALLDATALOAD: 3,
    Ops.CALLDATACOPY: 8,
    Ops.CODECOPY: 8,
    Ops.RETURNDATACOPY: 8,
    Ops.MCOPY: 8,
    Ops.SDIV: 6,
    Ops.SMOD: 6,
    Ops.ADDMOD: 6,
    Ops.MULMOD: 6,
    Ops.SIGNEXTEND: 2,
    Ops.SLT: 3,
    Ops.SGT: 3,
    Ops.SAR: 4,
    Ops.KECCAK: 6,
    Ops.EXP: 6,
}


# Constant gas, charged by the loop before the opcode runs (STYLE §2: the opcode's body then
# says "GAS: charged by dispatch"). Opcodes with any dynamic part charge all of it themselves.
STATIC_GAS: dict[int, int] = {
    Ops.ADD: GAS_VERY_LOW,
    Ops.MUL: GAS_LOW,
    Ops.SUB: GAS_VERY_LOW,
    Ops.DIV: GAS_LOW,
    Ops.SDIV: GAS_LOW,
    Ops.MOD: GAS_LOW,
    Ops.SMOD: GAS_LOW,
    Ops.ADDMOD: GAS_MID,
    Ops.MULMOD: GAS_MID,
    Ops.SIGNEXTEND: GAS_LOW,
    Ops.LT: GAS_VERY_LOW,
    Ops.GT: GAS_VERY_LOW,
    Ops.SLT: GAS_VERY_LOW,
    Ops.SGT: GAS_VERY_LOW,
    Ops.EQ: GAS_VERY_LOW,
    Ops.ISZERO: GAS_VERY_LOW,
    Ops.AND: GAS_VERY_LOW,
    Ops.OR: GAS_VERY_LOW,
    Ops.XOR: GAS_VERY_LOW,
    Ops.NOT: GAS_VERY_LOW,
    Ops.BYTE: GAS_VERY_LOW,
    Ops.SHL: GAS_VERY_LOW,
    Ops.SHR: GAS_VERY_LOW,
    Ops.SAR: GAS_VERY_LOW,
    Ops.ADDRESS: GAS_BASE,
    Ops.ORIGIN: GAS_BASE,
    Ops.CALLER: GAS_BASE,
    Ops.CALLVALUE: GAS_BASE,
    Ops.CALLDATALOAD: GAS_VERY_LOW,
    Ops.CALLDATASIZE: GAS_BASE,
    Ops.CODESIZE: GAS_BASE,
    Ops.GASPRICE: GAS_BASE,
    Ops.RETURNDATASIZE: GAS_BASE,
    Ops.BLOCKHASH: GAS_BLOCK_HASH,
    Ops.COINBASE: GAS_BASE,
    Ops.TIMESTAMP: GAS_BASE,
    Ops.NUMBER: GAS_BASE,
    Ops.PREVRANDAO: GAS_BASE,
    Ops.GASLIMIT: GAS_BASE,
    Ops.CHAINID: GAS_BASE,
    Ops.SELFBALANCE: GAS_FAST_STEP,
    Ops.BASEFEE: GAS_BASE,
    Ops.BLOBHASH: GAS_BLOBHASH_OPCODE,
    Ops.BLOBBASEFEE: GAS_BASE,
    Ops.MLOAD: GAS_VERY_LOW,  # growth charged by the instruction (vm/instructions/memory.py)
    Ops.MSTORE: GAS_VERY_LOW,
    Ops.MSTORE8: GAS_VERY_LOW,
    Ops.MCOPY: GAS_VERY_LOW,  # copied words and growth charged by the instructions
    Ops.CALLDATACOPY: GAS_VERY_LOW,
    Ops.CODECOPY: GAS_VERY_LOW,
    Ops.RETURNDATACOPY: GAS_VERY_LOW,
    Ops.JUMP: GAS_MID,
    Ops.JUMPI: GAS_HIGH,
    Ops.PC: GAS_BASE,
    Ops.MSIZE: GAS_BASE,
    Ops.GAS: GAS_BASE,
    Ops.JUMPDEST: GAS_JUMPDEST,
    Ops.POP: GAS_BASE,
    Ops.PUSH0: GAS_BASE,  # EIP-3855
    **{Ops.PUSH1 + n: GAS_VERY_LOW for n in range(32)},
    **{Ops.DUP1 + n: GAS_VERY_LOW for n in range(16)},
    **{Ops.SWAP1 + n: GAS_VERY_LOW for n in range(16)},
}


@dataclass(frozen=True, eq=False)  # hashed by identity: a key of the program cache
class GasSchedule:
    """The constant gas of each opcode, and what a transaction pays to run new code."""

    name: str
    static_gas: tuple[int, ...]  # charged before the opcode runs (by the loop or the run)
    code_word_gas: int  # per 32-byte word of code a transaction runs for the first time


CANCUN = GasSchedule("Cancun", tuple(STATIC_GAS.get(byte, 0) for byte in range(256)), 0)


def _brainchain_static_gas() -> tuple[int, ...]:
    table = list(CANCUN.static_gas)
    for op in Ops:
        table[op] += OPCODE_SURCHARGE + CHAIN_EXTRA.get(op, 0)
    for op in FRAME_OPCODES:
        table[op] += FRAME_SURCHARGE
    return tuple(table)


BRAINCHAIN = GasSchedule("brainchain", _brainchain_static_gas(), CODE_WORD_GAS)
