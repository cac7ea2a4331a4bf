"""LT … ISZERO (spec: cancun/vm/instructions/comparison.py)."""

from __future__ import annotations

from vm.exceptions import StackUnderflowError
from vm.frame import Evm
from vm.words import to_signed


def less_than(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = int(a < b)  # OPERATION
    evm.pc += 1


def greater_than(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = int(a > b)  # OPERATION
    evm.pc += 1


def signed_less_than(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = to_signed(stack.pop()), to_signed(stack[-1])
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = int(a < b)  # OPERATION
    evm.pc += 1


def signed_greater_than(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = to_signed(stack.pop()), to_signed(stack[-1])
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = int(a > b)  # OPERATION
    evm.pc += 1


def equal(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = int(a == b)  # OPERATION
    evm.pc += 1


def is_zero(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if not stack:
        raise StackUnderflowError("stack underflow")
    a = stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = int(a == 0)  # OPERATION
    evm.pc += 1
