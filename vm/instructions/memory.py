"""MLOAD, MSTORE, MSTORE8, MSIZE, MCOPY (spec: cancun/vm/instructions/memory.py)."""

from __future__ import annotations

from vm.frame import Evm
from vm.gas import GAS_COPY, GAS_VERY_LOW, calculate_memory_extend, charge_gas
from vm.memory import memory_read_bytes, memory_write
from vm.stack import pop, push


def mstore(evm: Evm) -> None:
    start, value = pop(evm), pop(evm)
    extend = calculate_memory_extend(len(evm.memory), [(start, 32)])
    charge_gas(evm, GAS_VERY_LOW + extend.cost)
    evm.memory += bytes(extend.expand_by)
    memory_write(evm.memory, start, value.to_bytes(32, "big"))
    evm.pc += 1


def mstore8(evm: Evm) -> None:
    start, value = pop(evm), pop(evm)
    extend = calculate_memory_extend(len(evm.memory), [(start, 1)])
    charge_gas(evm, GAS_VERY_LOW + extend.cost)
    evm.memory += bytes(extend.expand_by)
    evm.memory[start] = value & 0xFF
    evm.pc += 1


def mload(evm: Evm) -> None:
    start = pop(evm)
    extend = calculate_memory_extend(len(evm.memory), [(start, 32)])
    charge_gas(evm, GAS_VERY_LOW + extend.cost)
    evm.memory += bytes(extend.expand_by)
    push(evm, int.from_bytes(memory_read_bytes(evm.memory, start, 32), "big"))
    evm.pc += 1


def msize(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, len(evm.memory))
    evm.pc += 1


def mcopy(evm: Evm) -> None:
    destination, source, length = pop(evm), pop(evm), pop(evm)  # EIP-5656
    words = (length + 31) // 32
    extend = calculate_memory_extend(len(evm.memory), [(source, length), (destination, length)])
    charge_gas(evm, GAS_VERY_LOW + GAS_COPY * words + extend.cost)
    evm.memory += bytes(extend.expand_by)
    memory_write(evm.memory, destination, memory_read_bytes(evm.memory, source, length))
    evm.pc += 1
