"""ADDRESS … SELFBALANCE (spec: cancun/vm/instructions/environment.py)."""

from __future__ import annotations

from brainchain.state.state import get_account, get_account_optional, get_code
from vm.access import access_cost, to_address
from vm.exceptions import OutOfBoundsRead
from vm.frame import Evm
from vm.gas import GAS_COPY, GAS_RETURN_DATA_COPY, charge_gas, extend_memory
from vm.memory import buffer_read
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


def _pay_for_copy(evm: Evm, memory_start: int, size: int, word_cost: int = GAS_COPY) -> None:
    """Charge a copy's words and memory growth, and grow memory. The copying opcodes'
    GAS_VERY_LOW is charged by dispatch (vm/schedule.py): the spec charges it with the rest,
    which halts no differently."""
    charge_gas(evm, word_cost * ((size + 31) // 32))
    if size and memory_start + size > len(evm.memory):
        extend_memory(evm, memory_start, size)


def _copy_to_memory(evm: Evm, memory_start: int, source: bytes, start: int, size: int) -> None:
    """Copy `size` bytes of `source` from `start`, zero-padded past its end (paid for)."""
    if size:
        evm.memory[memory_start : memory_start + size] = buffer_read(source, start, size)


def calldatacopy(evm: Evm) -> None:
    memory_start, data_start, size = pop(evm), pop(evm), pop(evm)
    _pay_for_copy(evm, memory_start, size)
    _copy_to_memory(evm, memory_start, evm.message.data, data_start, size)
    evm.pc += 1


def codesize(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.code_size)
    evm.pc += 1


def codecopy(evm: Evm) -> None:
    memory_start, code_start, size = pop(evm), pop(evm), pop(evm)
    _pay_for_copy(evm, memory_start, size)
    # The padding past code_size is zeros, as the spec's zero-padding is: no copy of the code.
    _copy_to_memory(evm, memory_start, evm.code, code_start, size)
    evm.pc += 1


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
    charge_gas(evm, access_cost(evm, who))
    _pay_for_copy(evm, memory_start, size)
    state = evm.env.state
    code = get_code(state, get_account(state, who).code_hash)
    _copy_to_memory(evm, memory_start, code, code_start, size)
    evm.pc += 1


def returndatasize(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, len(evm.return_data))
    evm.pc += 1


def returndatacopy(evm: Evm) -> None:
    memory_start, data_start, size = pop(evm), pop(evm), pop(evm)
    _pay_for_copy(evm, memory_start, size, GAS_RETURN_DATA_COPY)
    if data_start + size > len(evm.return_data):
        raise OutOfBoundsRead("return data read past its end")
    evm.memory[memory_start : memory_start + size] = evm.return_data[data_start : data_start + size]
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
