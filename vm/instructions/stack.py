"""POP, PUSH0…PUSH32, DUP1…DUP16, SWAP1…SWAP16 (spec: cancun/vm/instructions/stack.py).

These are most of what any contract executes, so they work on the list directly.
"""

from __future__ import annotations

from collections.abc import Callable

from vm.exceptions import StackOverflowError, StackUnderflowError
from vm.frame import Evm
from vm.stack import STACK_LIMIT, pop, push


def pop_(evm: Evm) -> None:
    pop(evm)  # STACK
    # GAS: charged by dispatch (GAS_BASE)
    evm.pc += 1  # PROGRAM COUNTER


def push0(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE, EIP-3855)
    push(evm, 0)
    evm.pc += 1


def make_push(num_bytes: int) -> Callable[[Evm], None]:
    """PUSH1…PUSH32; the code is padded, so reading past its end yields zeros."""

    def push_n(evm: Evm) -> None:
        stack = evm.stack
        if len(stack) >= STACK_LIMIT:  # STACK
            raise StackOverflowError("stack overflow")
        # GAS: charged by dispatch (GAS_VERY_LOW)
        start = evm.pc + 1
        stack.append(int.from_bytes(evm.code[start : start + num_bytes], "big"))  # OPERATION
        evm.pc = start + num_bytes  # PROGRAM COUNTER

    push_n.__name__ = f"push{num_bytes}"
    return push_n


def make_dup(item_number: int) -> Callable[[Evm], None]:
    """DUP1…DUP16."""

    def dup_n(evm: Evm) -> None:
        stack = evm.stack
        if len(stack) < item_number:  # STACK
            raise StackUnderflowError("stack underflow")
        if len(stack) >= STACK_LIMIT:
            raise StackOverflowError("stack overflow")
        # GAS: charged by dispatch (GAS_VERY_LOW)
        stack.append(stack[-item_number])  # OPERATION
        evm.pc += 1  # PROGRAM COUNTER

    dup_n.__name__ = f"dup{item_number}"
    return dup_n


def make_swap(item_number: int) -> Callable[[Evm], None]:
    """SWAP1…SWAP16."""

    def swap_n(evm: Evm) -> None:
        stack = evm.stack
        if len(stack) <= item_number:  # STACK
            raise StackUnderflowError("stack underflow")
        # GAS: charged by dispatch (GAS_VERY_LOW)
        stack[-1], stack[-1 - item_number] = stack[-1 - item_number], stack[-1]  # OPERATION
        evm.pc += 1  # PROGRAM COUNTER

    swap_n.__name__ = f"swap{item_number}"
    return swap_n
