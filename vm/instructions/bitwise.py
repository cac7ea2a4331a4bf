"""AND … SAR (spec: cancun/vm/instructions/bitwise.py; EIP-145 shifts)."""

from __future__ import annotations

from vm.exceptions import StackUnderflowError
from vm.frame import Evm
from vm.words import MASK_256, from_signed, to_signed

WORD_BITS = 256


def bitwise_and(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = a & b  # OPERATION
    evm.pc += 1


def bitwise_or(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = a | b  # OPERATION
    evm.pc += 1


def bitwise_xor(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    a, b = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = a ^ b  # OPERATION
    evm.pc += 1


def bitwise_not(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if not stack:
        raise StackUnderflowError("stack underflow")
    a = stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = MASK_256 ^ a  # OPERATION
    evm.pc += 1


def get_byte(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    index, word = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = (word >> (248 - index * 8)) & 0xFF if index < 32 else 0  # OPERATION
    evm.pc += 1


def bitwise_shl(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    shift, value = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = (value << shift) & MASK_256 if shift < WORD_BITS else 0  # OPERATION
    evm.pc += 1


def bitwise_shr(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    shift, value = stack.pop(), stack[-1]
    # GAS: charged by dispatch (GAS_VERY_LOW)
    stack[-1] = value >> shift if shift < WORD_BITS else 0  # OPERATION
    evm.pc += 1


def bitwise_sar(evm: Evm) -> None:
    stack = evm.stack  # STACK
    if len(stack) < 2:
        raise StackUnderflowError("stack underflow")
    shift, value = stack.pop(), to_signed(stack[-1])
    # GAS: charged by dispatch (GAS_VERY_LOW)
    # An arithmetic shift by 256 or more leaves only the sign: 0 or all ones.
    stack[-1] = from_signed(value >> min(shift, WORD_BITS))  # OPERATION
    evm.pc += 1
