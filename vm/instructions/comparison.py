"""LT … ISZERO (spec: cancun/vm/instructions/comparison.py)."""

from __future__ import annotations

from vm.frame import Evm
from vm.gas import GAS_VERY_LOW, charge_gas
from vm.stack import pop, push
from vm.words import to_signed


def less_than(evm: Evm) -> None:
    a, b = pop(evm), pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, int(a < b))
    evm.pc += 1


def greater_than(evm: Evm) -> None:
    a, b = pop(evm), pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, int(a > b))
    evm.pc += 1


def signed_less_than(evm: Evm) -> None:
    a, b = to_signed(pop(evm)), to_signed(pop(evm))
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, int(a < b))
    evm.pc += 1


def signed_greater_than(evm: Evm) -> None:
    a, b = to_signed(pop(evm)), to_signed(pop(evm))
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, int(a > b))
    evm.pc += 1


def equal(evm: Evm) -> None:
    a, b = pop(evm), pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, int(a == b))
    evm.pc += 1


def is_zero(evm: Evm) -> None:
    a = pop(evm)
    charge_gas(evm, GAS_VERY_LOW)
    push(evm, int(a == 0))
    evm.pc += 1
