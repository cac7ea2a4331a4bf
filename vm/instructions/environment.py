"""ADDRESS … SELFBALANCE (spec: cancun/vm/instructions/environment.py)."""

from __future__ import annotations

from brainchain.state.state import get_account, get_account_optional, get_code
from vm.access import access_cost, to_address
from vm.exceptions import OutOfBoundsRead
from vm.frame import Evm
from vm.gas import (
    GAS_COPY,
    GAS_RETURN_DATA_COPY,
    GAS_VERY_LOW,
    calculate_memory_extend,
    charge_gas,
)
from vm.memory import buffer_read, memory_write
from vm.stack import pop, push


def address(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, int.from_bytes(evm.message.current_target, "big"))
    evm.pc += 1


def balance(evm: Evm) -> None:
    who = to_address(pop(evm))
    charge_gas(evm, access_cost(evm, who))
    push(evm, get_account(evm.env.state, who).balance)
    evm.pc += 1


def origin(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, int.from_bytes(evm.env.tx.origin, "big"))
    evm.pc += 1


def caller(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, int.from_bytes(evm.message.caller, "big"))
    evm.pc += 1


def callvalue(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.message.value)
    evm.pc += 1


def calldataload(evm: Evm) -> None:
    start = pop(evm)
    # GAS: charged by dispatch (GAS_VERY_LOW)
    push(evm, int.from_bytes(buffer_read(evm.message.data, start, 32), "big"))
    evm.pc += 1


def calldatasize(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, len(evm.message.data))
    evm.pc += 1


def _copy_to_memory(evm: Evm, source: bytes, base_cost: int) -> None:
    """CALLDATACOPY / CODECOPY: pop (dest, offset, size), charge, copy zero-padded."""
    memory_start, data_start, size = pop(evm), pop(evm), pop(evm)
    words = (size + 31) // 32
    extend = calculate_memory_extend(len(evm.memory), [(memory_start, size)])
    charge_gas(evm, base_cost + GAS_COPY * words + extend.cost)
    evm.memory += bytes(extend.expand_by)
    memory_write(evm.memory, memory_start, buffer_read(source, data_start, size))
    evm.pc += 1


def calldatacopy(evm: Evm) -> None:
    _copy_to_memory(evm, evm.message.data, GAS_VERY_LOW)


def codesize(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.code_size)
    evm.pc += 1


def codecopy(evm: Evm) -> None:
    _copy_to_memory(evm, evm.code[: evm.code_size], GAS_VERY_LOW)


def gasprice(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.env.tx.gas_price)
    evm.pc += 1


def extcodesize(evm: Evm) -> None:
    who = to_address(pop(evm))
    charge_gas(evm, access_cost(evm, who))
    state = evm.env.state
    push(evm, len(get_code(state, get_account(state, who).code_hash)))
    evm.pc += 1


def extcodecopy(evm: Evm) -> None:
    who = to_address(pop(evm))
    memory_start, code_start, size = pop(evm), pop(evm), pop(evm)
    words = (size + 31) // 32
    extend = calculate_memory_extend(len(evm.memory), [(memory_start, size)])
    charge_gas(evm, access_cost(evm, who) + GAS_COPY * words + extend.cost)
    evm.memory += bytes(extend.expand_by)
    state = evm.env.state
    code = get_code(state, get_account(state, who).code_hash)
    memory_write(evm.memory, memory_start, buffer_read(code, code_start, size))
    evm.pc += 1


def returndatasize(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, len(evm.return_data))
    evm.pc += 1


def returndatacopy(evm: Evm) -> None:
    memory_start, data_start, size = pop(evm), pop(evm), pop(evm)
    words = (size + 31) // 32
    extend = calculate_memory_extend(len(evm.memory), [(memory_start, size)])
    charge_gas(evm, GAS_VERY_LOW + GAS_RETURN_DATA_COPY * words + extend.cost)
    if data_start + size > len(evm.return_data):
        raise OutOfBoundsRead("return data read past its end")
    evm.memory += bytes(extend.expand_by)
    memory_write(evm.memory, memory_start, evm.return_data[data_start : data_start + size])
    evm.pc += 1


def extcodehash(evm: Evm) -> None:
    who = to_address(pop(evm))
    charge_gas(evm, access_cost(evm, who))
    account = get_account_optional(evm.env.state, who)
    if account is None or account.is_empty:
        push(evm, 0)
    else:
        push(evm, int.from_bytes(account.code_hash, "big"))
    evm.pc += 1


def self_balance(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_FAST_STEP)
    push(evm, get_account(evm.env.state, evm.message.current_target).balance)
    evm.pc += 1
