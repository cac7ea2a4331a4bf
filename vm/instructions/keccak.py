"""KECCAK256 (spec: cancun/vm/instructions/keccak.py)."""

from __future__ import annotations

from brainchain.crypto.keccak import keccak256
from vm.frame import Evm
from vm.gas import GAS_KECCAK256, GAS_KECCAK256_WORD, calculate_memory_extend, charge_gas
from vm.memory import memory_read_bytes
from vm.stack import pop, push


def keccak(evm: Evm) -> None:
    offset, size = pop(evm), pop(evm)
    words = (size + 31) // 32
    extend = calculate_memory_extend(len(evm.memory), [(offset, size)])
    charge_gas(evm, GAS_KECCAK256 + GAS_KECCAK256_WORD * words + extend.cost)
    evm.memory += bytes(extend.expand_by)
    push(evm, int.from_bytes(keccak256(memory_read_bytes(evm.memory, offset, size)), "big"))
    evm.pc += 1
