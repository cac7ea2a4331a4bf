"""STOP, JUMP, JUMPI, PC, GAS, JUMPDEST (spec: cancun/vm/instructions/control_flow.py)."""

from __future__ import annotations

from vm.exceptions import InvalidJumpDestError
from vm.frame import Evm
from vm.runs import is_jump_destination
from vm.stack import pop, push


def stop(evm: Evm) -> None:
    evm.running = False
    evm.pc += 1


def jump(evm: Evm) -> None:
    destination = pop(evm)
    # GAS: charged by dispatch (GAS_MID)
    if not is_jump_destination(evm.jump_flags, destination):
        raise InvalidJumpDestError(f"invalid jump destination {destination}")
    evm.pc = destination


def jumpi(evm: Evm) -> None:
    destination, condition = pop(evm), pop(evm)
    # GAS: charged by dispatch (GAS_HIGH)
    if not condition:
        evm.pc += 1
    elif is_jump_destination(evm.jump_flags, destination):
        evm.pc = destination
    else:
        raise InvalidJumpDestError(f"invalid jump destination {destination}")


def pc(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.pc)
    evm.pc += 1


def gas_left(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_BASE)
    push(evm, evm.gas_left)
    evm.pc += 1


def jumpdest(evm: Evm) -> None:
    # GAS: charged by dispatch (GAS_JUMPDEST)
    evm.pc += 1
