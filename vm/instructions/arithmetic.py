"""ADD … SIGNEXTEND (spec: cancun/vm/instructions/arithmetic.py)."""

from __future__ import annotations

from vm.exceptions import StackUnderflowError
from vm.frame import Evm
from vm.gas import (
    GAS_EXPONENTIATION,
    GAS_EXPONENTIATION_PER_BYTE,
    charge_gas,
)
from vm.stack import pop, push
from vm.words import MASK_256, U256_CEILING, from_signed, to_signed


def add(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = (a + b) & MASK_256  # OPERATION
    evm.pc += 1  # PROGRAM COUNTER


def sub(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = (a - b) & MASK_256  # OPERATION
    evm.pc += 1


def mul(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_LOW)
    stack[-1] = (a * b) & MASK_256  # OPERATION
    evm.pc += 1


def div(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_LOW)
    stack[-1] = a // b if b else 0  # OPERATION
    evm.pc += 1


def sdiv(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = to_signed(stack.pop()), to_signed(stack[-1])
    # GAS: charged by dispatch (GAS_LOW)
    if b == 0:
        quotient = 0
    else:
        quotient = abs(a) // abs(b)
        if (a < 0) != (b < 0):
            quotient = -quotient
    stack[-1] = from_signed(quotient)  # OPERATION
    evm.pc += 1


def mod(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_LOW)
    stack[-1] = a % b if b else 0  # OPERATION
    evm.pc += 1


def smod(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = to_signed(stack.pop()), to_signed(stack[-1])
    # GAS: charged by dispatch (GAS_LOW)
    if b == 0:
        remainder = 0
    else:
        remainder = abs(a) % abs(b)
        if a < 0:
            remainder = -remainder
    stack[-1] = from_signed(remainder)  # OPERATION
    evm.pc += 1


def addmod(evm: Evm) -> None:
    a, b, n = pop(evm), pop(evm), pop(evm)
    # GAS: charged by dispatch (GAS_MID)
    push(evm, (a + b) % n if n else 0)
    evm.pc += 1


def mulmod(evm: Evm) -> None:
    a, b, n = pop(evm), pop(evm), pop(evm)
    # GAS: charged by dispatch (GAS_MID)
    push(evm, (a * b) % n if n else 0)
    evm.pc += 1


def exp(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    base, exponent = stack.pop(), stack[-1]
    exponent_bytes = (exponent.bit_length() + 7) // 8
    charge_gas(evm, GAS_EXPONENTIATION + GAS_EXPONENTIATION_PER_BYTE * exponent_bytes)
    stack[-1] = pow(base, exponent, U256_CEILING)  # OPERATION
    evm.pc += 1


def signextend(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    byte_num, value = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_LOW)
    if byte_num <= 30:
        bit = byte_num * 8 + 7
        sign = 1 << bit
        value &= (sign << 1) - 1
        if value & sign:
            value |= MASK_256 ^ ((sign << 1) - 1)
    stack[-1] = value  # OPERATION
    evm.pc += 1
