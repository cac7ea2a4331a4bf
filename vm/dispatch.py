"""The opcode table: 256 entries indexed by the raw byte, unassigned bytes bound to `invalid`.

spec: cancun/vm/instructions/__init__.py (Ops and op_implementation), flattened into a tuple so
the loop does one index per step — no enum construction, dict lookup or try (STYLE §2).
"""

from __future__ import annotations

from collections.abc import Callable

from vm.exceptions import InvalidOpcode
from vm.frame import Evm
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
from vm.instructions import (
    arithmetic,
    bitwise,
    block,
    comparison,
    control_flow,
    environment,
    keccak,
    log,
    memory,
    stack,
    storage,
    system,
)

Instruction = Callable[[Evm], None]


def invalid(evm: Evm) -> None:
    """INVALID (0xFE) and every unassigned byte: an exceptional halt."""
    raise InvalidOpcode(evm.code[evm.pc])


OPCODES: dict[int, Instruction] = {
    0x00: control_flow.stop,
    0x01: arithmetic.add,
    0x02: arithmetic.mul,
    0x03: arithmetic.sub,
    0x04: arithmetic.div,
    0x05: arithmetic.sdiv,
    0x06: arithmetic.mod,
    0x07: arithmetic.smod,
    0x08: arithmetic.addmod,
    0x09: arithmetic.mulmod,
    0x0A: arithmetic.exp,
    0x0B: arithmetic.signextend,
    0x10: comparison.less_than,
    0x11: comparison.greater_than,
    0x12: comparison.signed_less_than,
    0x13: comparison.signed_greater_than,
    0x14: comparison.equal,
    0x15: comparison.is_zero,
    0x16: bitwise.bitwise_and,
    0x17: bitwise.bitwise_or,
    0x18: bitwise.bitwise_xor,
    0x19: bitwise.bitwise_not,
    0x1A: bitwise.get_byte,
    0x1B: bitwise.bitwise_shl,
    0x1C: bitwise.bitwise_shr,
    0x1D: bitwise.bitwise_sar,
    0x20: keccak.keccak,
    0x30: environment.address,
    0x31: environment.balance,
    0x32: environment.origin,
    0x33: environment.caller,
    0x34: environment.callvalue,
    0x35: environment.calldataload,
    0x36: environment.calldatasize,
    0x37: environment.calldatacopy,
    0x38: environment.codesize,
    0x39: environment.codecopy,
    0x3A: environment.gasprice,
    0x3B: environment.extcodesize,
    0x3C: environment.extcodecopy,
    0x3D: environment.returndatasize,
    0x3E: environment.returndatacopy,
    0x3F: environment.extcodehash,
    0x40: block.block_hash,
    0x41: block.coinbase,
    0x42: block.timestamp,
    0x43: block.number,
    0x44: block.prev_randao,
    0x45: block.gas_limit,
    0x46: block.chain_id,
    0x47: environment.self_balance,
    0x48: block.base_fee,
    0x49: block.blob_hash,
    0x4A: block.blob_base_fee,
    0x50: stack.pop_,
    0x51: memory.mload,
    0x52: memory.mstore,
    0x53: memory.mstore8,
    0x54: storage.sload,
    0x55: storage.sstore,
    0x56: control_flow.jump,
    0x57: control_flow.jumpi,
    0x58: control_flow.pc,
    0x59: memory.msize,
    0x5A: control_flow.gas_left,
    0x5B: control_flow.jumpdest,
    0x5C: storage.tload,
    0x5D: storage.tstore,
    0x5E: memory.mcopy,
    0x5F: stack.push0,
    **{0x60 + n: stack.make_push(n + 1) for n in range(32)},
    **{0x80 + n: stack.make_dup(n + 1) for n in range(16)},
    **{0x90 + n: stack.make_swap(n + 1) for n in range(16)},
    **{0xA0 + n: log.make_log(n) for n in range(5)},
    0xF0: system.create,
    0xF1: system.call,
    0xF2: system.callcode,
    0xF3: system.return_,
    0xF4: system.delegatecall,
    0xF5: system.create2,
    0xFA: system.staticcall,
    0xFD: system.revert,
    0xFF: system.selfdestruct,
}

DISPATCH: tuple[Instruction, ...] = tuple(OPCODES.get(byte, invalid) for byte in range(256))


# Constant gas, charged by the loop before the opcode runs (STYLE §2: the opcode's body then
# says "GAS: charged by dispatch"). Opcodes with any dynamic part charge all of it themselves.
STATIC_GAS: dict[int, int] = {
    0x01: GAS_VERY_LOW,  # add
    0x02: GAS_LOW,  # mul
    0x03: GAS_VERY_LOW,  # sub
    0x04: GAS_LOW,  # div
    0x05: GAS_LOW,  # sdiv
    0x06: GAS_LOW,  # mod
    0x07: GAS_LOW,  # smod
    0x08: GAS_MID,  # addmod
    0x09: GAS_MID,  # mulmod
    0x0B: GAS_LOW,  # signextend
    0x10: GAS_VERY_LOW,  # less_than
    0x11: GAS_VERY_LOW,  # greater_than
    0x12: GAS_VERY_LOW,  # signed_less_than
    0x13: GAS_VERY_LOW,  # signed_greater_than
    0x14: GAS_VERY_LOW,  # equal
    0x15: GAS_VERY_LOW,  # is_zero
    0x16: GAS_VERY_LOW,  # bitwise_and
    0x17: GAS_VERY_LOW,  # bitwise_or
    0x18: GAS_VERY_LOW,  # bitwise_xor
    0x19: GAS_VERY_LOW,  # bitwise_not
    0x1A: GAS_VERY_LOW,  # get_byte
    0x1B: GAS_VERY_LOW,  # bitwise_shl
    0x1C: GAS_VERY_LOW,  # bitwise_shr
    0x1D: GAS_VERY_LOW,  # bitwise_sar
    0x30: GAS_BASE,  # address
    0x32: GAS_BASE,  # origin
    0x33: GAS_BASE,  # caller
    0x34: GAS_BASE,  # callvalue
    0x35: GAS_VERY_LOW,  # calldataload
    0x36: GAS_BASE,  # calldatasize
    0x38: GAS_BASE,  # codesize
    0x3A: GAS_BASE,  # gasprice
    0x3D: GAS_BASE,  # returndatasize
    0x40: GAS_BLOCK_HASH,  # block_hash
    0x41: GAS_BASE,  # coinbase
    0x42: GAS_BASE,  # timestamp
    0x43: GAS_BASE,  # number
    0x44: GAS_BASE,  # prev_randao
    0x45: GAS_BASE,  # gas_limit
    0x46: GAS_BASE,  # chain_id
    0x47: GAS_FAST_STEP,  # self_balance
    0x48: GAS_BASE,  # base_fee
    0x49: GAS_BLOBHASH_OPCODE,  # blob_hash
    0x4A: GAS_BASE,  # blob_base_fee
    0x56: GAS_MID,  # jump
    0x57: GAS_HIGH,  # jumpi
    0x58: GAS_BASE,  # pc
    0x59: GAS_BASE,  # msize
    0x5A: GAS_BASE,  # gas_left
    0x5B: GAS_JUMPDEST,  # jumpdest
    0x50: GAS_BASE,  # pop
    0x5F: GAS_BASE,  # push0 (EIP-3855)
    **{0x60 + n: GAS_VERY_LOW for n in range(32)},  # push1..push32
    **{0x80 + n: GAS_VERY_LOW for n in range(16)},  # dup1..dup16
    **{0x90 + n: GAS_VERY_LOW for n in range(16)},  # swap1..swap16
}

STATIC_GAS_TABLE: tuple[int, ...] = tuple(STATIC_GAS.get(byte, 0) for byte in range(256))
