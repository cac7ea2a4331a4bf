"""AND … SAR (spec: cancun/vm/instructions/bitwise.py; EIP-145 shifts)."""

from __future__ import annotations

from vm.frame import Evm
from vm.gas import GAS_VERY_LOW, charge_gas
from vm.stack import pop, push
from vm.words import MASK_256, from_signed, to_signed

WORD_BITS = 256


def bitwise_and(evm: Evm) -> None:
    a, b = pop(evm), pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, a & b)
    evm.pc += 1


def bitwise_or(evm: Evm) -> None:
    a, b = pop(evm), pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, a | b)
    evm.pc += 1


def bitwise_xor(evm: Evm) -> None:
    a, b = pop(evm), pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, a ^ b)
    evm.pc += 1


def bitwise_not(evm: Evm) -> None:
    a = pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, MASK_256 ^ a)
    evm.pc += 1


def get_byte(evm: Evm) -> None:
    index, word = pop(evm), pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, (word >> (248 - index * 8)) & 0xFF if index < 32 else 0)
    evm.pc += 1


def bitwise_shl(evm: Evm) -> None:
    shift, value = pop(evm), pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, (value << shift) & MASK_256 if shift < WORD_BITS else 0)
    evm.pc += 1


def bitwise_shr(evm: Evm) -> None:
    shift, value = pop(evm), pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, value >> shift if shift < WORD_BITS else 0)
    evm.pc += 1


def bitwise_sar(evm: Evm) -> None:
    shift, value = pop(evm), to_signed(pop(evm))
    charge_gas(evm, GAS_VERY_LOW)
    # An arithmetic shift by 256 or more leaves only the sign: 0 or all ones.
    push(evm, from_signed(value >> min(shift, WORD_BITS)))
    evm.pc += 1
