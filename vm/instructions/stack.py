"""POP, PUSH0…PUSH32, DUP1…DUP16, SWAP1…SWAP16 (spec: cancun/vm/instructions/stack.py)."""

from __future__ import annotations

from collections.abc import Callable

from vm.exceptions import StackOverflowError, StackUnderflowError
from vm.frame import Evm
from vm.gas import GAS_BASE, GAS_VERY_LOW, charge_gas
from vm.stack import STACK_LIMIT, pop, push


def pop_(evm: Evm) -> None:
    pop(evm)  # STACK
    charge_gas(evm, GAS_BASE)  # GAS
    evm.pc += 1  # PROGRAM COUNTER


def push0(evm: Evm) -> None:
    charge_gas(evm, GAS_BASE)  # EIP-3855
    push(evm, 0)
    evm.pc += 1


def make_push(num_bytes: int) -> Callable[[Evm], None]:
    """PUSH1…PUSH32; the code is padded, so reading past its end yields zeros."""

    def push_n(evm: Evm) -> None:
        charge_gas(evm, GAS_VERY_LOW)
        start = evm.pc + 1
        push(evm, int.from_bytes(evm.code[start : start + num_bytes], "big"))
        evm.pc = start + num_bytes

    push_n.__name__ = f"push{num_bytes}"
    return push_n


def make_dup(item_number: int) -> Callable[[Evm], None]:
    """DUP1…DUP16."""

    def dup_n(evm: Evm) -> None:
        stack = evm.stack
        if len(stack) < item_number:
            raise StackUnderflowError("stack underflow")
        charge_gas(evm, GAS_VERY_LOW)
        if len(stack) >= STACK_LIMIT:
            raise StackOverflowError("stack overflow")
        stack.append(stack[-item_number])
        evm.pc += 1

    dup_n.__name__ = f"dup{item_number}"
    return dup_n


def make_swap(item_number: int) -> Callable[[Evm], None]:
    """SWAP1…SWAP16."""

    def swap_n(evm: Evm) -> None:
        stack = evm.stack
        if len(stack) <= item_number:
            raise StackUnderflowError("stack underflow")
        charge_gas(evm, GAS_VERY_LOW)
        stack[-1], stack[-1 - item_number] = stack[-1 - item_number], stack[-1]
        evm.pc += 1

    swap_n.__name__ = f"swap{item_number}"
    return swap_n
