"""ADD … SIGNEXTEND (spec: cancun/vm/instructions/arithmetic.py)."""

from __future__ import annotations

from vm.frame import Evm
from vm.gas import (
    GAS_EXPONENTIATION,
    GAS_EXPONENTIATION_PER_BYTE,
    GAS_LOW,
    GAS_MID,
    GAS_VERY_LOW,
    charge_gas,
)
from vm.stack import pop, push
from vm.words import MASK_256, U256_CEILING, from_signed, to_signed


def add(evm: Evm) -> None:
    a, b = pop(evm), pop(evm)  # STACK
    charge_gas(evm, GAS_VERY_LOW)  # GAS
    push(evm, (a + b) & MASK_256)  # OPERATION
    evm.pc += 1  # PROGRAM COUNTER


def sub(evm: Evm) -> None:
    a, b = pop(evm), pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, (a - b) & MASK_256)
    evm.pc += 1


def mul(evm: Evm) -> None:
    a, b = pop(evm), pop(evm)
    charge_gas(evm, GAS_LOW)
    push(evm, (a * b) & MASK_256)
    evm.pc += 1


def div(evm: Evm) -> None:
    a, b = pop(evm), pop(evm)
    charge_gas(evm, GAS_LOW)
    push(evm, a // b if b else 0)
    evm.pc += 1


def sdiv(evm: Evm) -> None:
    a, b = to_signed(pop(evm)), to_signed(pop(evm))
    charge_gas(evm, GAS_LOW)
    if b == 0:
        quotient = 0
    else:
        quotient = abs(a) // abs(b)
        if (a < 0) != (b < 0):
            quotient = -quotient
    push(evm, from_signed(quotient))
    evm.pc += 1


def mod(evm: Evm) -> None:
    a, b = pop(evm), pop(evm)
    charge_gas(evm, GAS_LOW)
    push(evm, a % b if b else 0)
    evm.pc += 1


def smod(evm: Evm) -> None:
    a, b = to_signed(pop(evm)), to_signed(pop(evm))
    charge_gas(evm, GAS_LOW)
    if b == 0:
        remainder = 0
    else:
        remainder = abs(a) % abs(b)
        if a < 0:
            remainder = -remainder
    push(evm, from_signed(remainder))
    evm.pc += 1


def addmod(evm: Evm) -> None:
    a, b, n = pop(evm), pop(evm), pop(evm)
    charge_gas(evm, GAS_MID)
    push(evm, (a + b) % n if n else 0)
    evm.pc += 1


def mulmod(evm: Evm) -> None:
    a, b, n = pop(evm), pop(evm), pop(evm)
    charge_gas(evm, GAS_MID)
    push(evm, (a * b) % n if n else 0)
    evm.pc += 1


def exp(evm: Evm) -> None:
    base, exponent = pop(evm), pop(evm)
    exponent_bytes = (exponent.bit_length() + 7) // 8
    charge_gas(evm, GAS_EXPONENTIATION + GAS_EXPONENTIATION_PER_BYTE * exponent_bytes)
    push(evm, pow(base, exponent, U256_CEILING))
    evm.pc += 1


def signextend(evm: Evm) -> None:
    byte_num, value = pop(evm), pop(evm)
    charge_gas(evm, GAS_LOW)
    if byte_num <= 30:
        bit = byte_num * 8 + 7
        sign = 1 << bit
        value &= (sign << 1) - 1
        if value & sign:
            value |= MASK_256 ^ ((sign << 1) - 1)
    push(evm, value)
    evm.pc += 1
