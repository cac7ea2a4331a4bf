"""The opcode table: 256 entries indexed by the raw byte, unassigned bytes bound to `invalid`.

spec: cancun/vm/instructions/__init__.py (op_implementation, keyed by `Ops` from vm/opcodes.py),
flattened into a tuple when this module is imported so the loop does one index per step — no
enum construction, dict lookup or try (STYLE §2).
"""

from __future__ import annotations

from collections.abc import Callable

from vm.exceptions import InvalidOpcode
from vm.frame import Evm
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
from vm.opcodes import Ops

Instruction = Callable[[Evm], None]


def invalid(evm: Evm) -> None:
    """INVALID and every unassigned byte: an exceptional halt."""
    raise InvalidOpcode(evm.code[evm.pc])


OPCODES: dict[int, Instruction] = {
    Ops.STOP: control_flow.stop,
    Ops.ADD: arithmetic.add,
    Ops.MUL: arithmetic.mul,
    Ops.SUB: arithmetic.sub,
    Ops.DIV: arithmetic.div,
    Ops.SDIV: arithmetic.sdiv,
    Ops.MOD: arithmetic.mod,
    Ops.SMOD: arithmetic.smod,
    Ops.ADDMOD: arithmetic.addmod,
    Ops.MULMOD: arithmetic.mulmod,
    Ops.EXP: arithmetic.exp,
    Ops.SIGNEXTEND: arithmetic.signextend,
    Ops.LT: comparison.less_than,
    Ops.GT: comparison.greater_than,
    Ops.SLT: comparison.signed_less_than,
    Ops.SGT: comparison.signed_greater_than,
    Ops.EQ: comparison.equal,
    Ops.ISZERO: comparison.is_zero,
    Ops.AND: bitwise.bitwise_and,
    Ops.OR: bitwise.bitwise_or,
    Ops.XOR: bitwise.bitwise_xor,
    Ops.NOT: bitwise.bitwise_not,
    Ops.BYTE: bitwise.get_byte,
    Ops.SHL: bitwise.bitwise_shl,
    Ops.SHR: bitwise.bitwise_shr,
    Ops.SAR: bitwise.bitwise_sar,
    Ops.KECCAK: keccak.keccak,
    Ops.ADDRESS: environment.address,
    Ops.BALANCE: environment.balance,
    Ops.ORIGIN: environment.origin,
    Ops.CALLER: environment.caller,
    Ops.CALLVALUE: environment.callvalue,
    Ops.CALLDATALOAD: environment.calldataload,
    Ops.CALLDATASIZE: environment.calldatasize,
    Ops.CALLDATACOPY: environment.calldatacopy,
    Ops.CODESIZE: environment.codesize,
    Ops.CODECOPY: environment.codecopy,
    Ops.GASPRICE: environment.gasprice,
    Ops.EXTCODESIZE: environment.extcodesize,
    Ops.EXTCODECOPY: environment.extcodecopy,
    Ops.RETURNDATASIZE: environment.returndatasize,
    Ops.RETURNDATACOPY: environment.returndatacopy,
    Ops.EXTCODEHASH: environment.extcodehash,
    Ops.BLOCKHASH: block.block_hash,
    Ops.COINBASE: block.coinbase,
    Ops.TIMESTAMP: block.timestamp,
    Ops.NUMBER: block.number,
    Ops.PREVRANDAO: block.prev_randao,
    Ops.GASLIMIT: block.gas_limit,
    Ops.CHAINID: block.chain_id,
    Ops.SELFBALANCE: environment.self_balance,
    Ops.BASEFEE: block.base_fee,
    Ops.BLOBHASH: block.blob_hash,
    Ops.BLOBBASEFEE: block.blob_base_fee,
    Ops.POP: stack.pop_,
    Ops.MLOAD: memory.mload,
    Ops.MSTORE: memory.mstore,
    Ops.MSTORE8: memory.mstore8,
    Ops.SLOAD: storage.sload,
    Ops.SSTORE: storage.sstore,
    Ops.JUMP: control_flow.jump,
    Ops.JUMPI: control_flow.jumpi,
    Ops.PC: control_flow.pc,
    Ops.MSIZE: memory.msize,
    Ops.GAS: control_flow.gas_left,
    Ops.JUMPDEST: control_flow.jumpdest,
    Ops.TLOAD: storage.tload,
    Ops.TSTORE: storage.tstore,
    Ops.MCOPY: memory.mcopy,
    Ops.PUSH0: stack.push0,
    **{Ops.PUSH1 + n: stack.make_push(n + 1) for n in range(32)},
    **{Ops.DUP1 + n: stack.make_dup(n + 1) for n in range(16)},
    **{Ops.SWAP1 + n: stack.make_swap(n + 1) for n in range(16)},
    **{Ops.LOG0 + n: log.make_log(n) for n in range(5)},
    Ops.CREATE: system.create,
    Ops.CALL: system.call,
    Ops.CALLCODE: system.callcode,
    Ops.RETURN: system.return_,
    Ops.DELEGATECALL: system.delegatecall,
    Ops.CREATE2: system.create2,
    Ops.STATICCALL: system.staticcall,
    Ops.REVERT: system.revert,
    Ops.SELFDESTRUCT: system.selfdestruct,
}

DISPATCH: tuple[Instruction, ...] = tuple(OPCODES.get(byte, invalid) for byte in range(256))
