"""MLOAD, MSTORE, MSTORE8, MSIZE, MCOPY (spec: cancun/vm/instructions/memory.py).

MLOAD, MSTORE, MSTORE8 and MCOPY charge their constant GAS_VERY_LOW through the static gas
table (vm/schedule.py) and only growth (and copied words) themselves: the spec charges both at
once, but a frame that runs out of either halts the same way, and the common case (no growth)
then costs no call.
"""

from __future__ import annotations

from vm.frame import Evm
from vm.gas import GAS_COPY, charge_gas, extend_memory
from vm.stack import pop, push


def mstore(evm: Evm) -> None:
    start, value = pop(evm), pop(evm)
    # GAS: GAS_VERY_LOW charged by dispatch; growth, when there is any, here
    if start + 32 > len(evm.memory):
        extend_memory(evm, start, 32)
    evm.memory[start : start + 32] = value.to_bytes(32, "big")
    evm.pc += 1


def mstore8(evm: Evm) -> None:
    start, value = pop(evm), pop(evm)
    # GAS: GAS_VERY_LOW charged by dispatch; growth, when there is any, here
    if start >= len(evm.memory):
        extend_memory(evm, start, 1)
    evm.memory[start] = value & 0xFF
    evm.pc += 1


def mload(evm: Evm) -> None:
    start = pop(evm)
    # GAS: GAS_VERY_LOW charged by dispatch; growth, when there is any, here
    if start + 32 > len(evm.memory):
        extend_memory(evm, start, 32)
    push(evm, int.from_bytes(evm.memory[start : start + 32], "big"))
    evm.pc += 1


def msize(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, len(evm.memory))
    evm.pc += 1


def mcopy(evm: Evm) -> None:
    destination, source, length = pop(evm), pop(evm), pop(evm)  # EIP-5656
    # GAS: GAS_VERY_LOW charged by dispatch; the words and any growth here
    charge_gas(evm, GAS_COPY * ((length + 31) // 32))
    if length:
        end = max(source, destination)
        if end + length > len(evm.memory):
            extend_memory(evm, end, length)
        memory = evm.memory
        memory[destination : destination + length] = memory[source : source + length]
    evm.pc += 1
