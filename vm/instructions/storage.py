"""SLOAD, SSTORE, TLOAD, TSTORE (spec: cancun/vm/instructions/storage.py).

SSTORE gas and refunds follow EIP-2200 as amended by EIP-2929 and EIP-3529.
"""

from __future__ import annotations

from brainchain.state.state import (
    get_storage,
    get_transient_storage,
    set_storage,
    set_transient_storage,
)
from vm.access import warm_slot
from vm.exceptions import OutOfGasError, WriteInStaticContext
from vm.frame import Evm
from vm.gas import (
    GAS_CALL_STIPEND_SSTORE_GUARD,
    GAS_COLD_SLOAD,
    GAS_STORAGE_CLEAR_REFUND,
    GAS_STORAGE_SET,
    GAS_STORAGE_UPDATE,
    GAS_TLOAD,
    GAS_TSTORE,
    GAS_WARM_ACCESS,
    charge_gas,
)
from vm.stack import pop, push


def metered_load(evm: Evm, key: int, account: bytes | None = None) -> int:
    """Read a word of the current account's storage (or `account`'s: a precompile reading
    another's), charged as SLOAD is (EIP-2929 warm/cold).

    Raises:
        OutOfGasError: not enough gas for the access.
    """
    target = evm.message.current_target if account is None else account
    charge_gas(evm, GAS_COLD_SLOAD if warm_slot(evm, (target, key)) else GAS_WARM_ACCESS)
    return get_storage(evm.env.state, target, key)


def metered_store(evm: Evm, key: int, new_value: int, account: bytes | None = None) -> None:
    """Write a word of the current account's storage (or `account`'s: FL_REGISTRY locking a
    bond that INFERENCE holds), charged and refunded as SSTORE is (EIP-2200 as amended by
    EIP-2929 and EIP-3529). BRAIN's precompiles store through it too.

    Raises:
        OutOfGasError: not enough gas, or no more than the call stipend left (EIP-2200).
        WriteInStaticContext: the frame is static.
    """
    if evm.gas_left <= GAS_CALL_STIPEND_SSTORE_GUARD:
        raise OutOfGasError("SSTORE needs more than the call stipend left (EIP-2200)")
    state = evm.env.state
    target = evm.message.current_target if account is None else account
    slot = (target, key)
    current_value = get_storage(state, target, key)
    # A slot not yet written in this transaction still holds its original value.
    original_value = evm.env.tx.original_storage.get(slot, current_value)

    gas_cost = GAS_COLD_SLOAD if warm_slot(evm, slot) else 0
    if original_value == current_value and current_value != new_value:
        gas_cost += GAS_STORAGE_SET if original_value == 0 else GAS_STORAGE_UPDATE - GAS_COLD_SLOAD
    else:
        gas_cost += GAS_WARM_ACCESS

    if current_value != new_value:
        if original_value != 0 and current_value != 0 and new_value == 0:
            evm.refund_counter += GAS_STORAGE_CLEAR_REFUND
        if original_value != 0 and current_value == 0:
            evm.refund_counter -= GAS_STORAGE_CLEAR_REFUND
        if original_value == new_value:
            if original_value == 0:
                evm.refund_counter += GAS_STORAGE_SET - GAS_WARM_ACCESS
            else:
                evm.refund_counter += GAS_STORAGE_UPDATE - GAS_COLD_SLOAD - GAS_WARM_ACCESS

    charge_gas(evm, gas_cost)
    if evm.message.is_static:
        raise WriteInStaticContext("SSTORE in a static call")
    evm.env.tx.original_storage.setdefault(slot, current_value)
    set_storage(state, target, key, new_value)


def sload(evm: Evm) -> None:
    """Push the word stored under a key in the current account's storage."""
    # STACK
    key = pop(evm)

    # GAS: charged by metered_load (warm or cold access)

    # OPERATION
    push(evm, metered_load(evm, key))

    # PROGRAM COUNTER
    evm.pc += 1


def sstore(evm: Evm) -> None:
    """Store a word under a key in the current account's storage."""
    # STACK
    key, new_value = pop(evm), pop(evm)

    # GAS: charged by metered_store (EIP-2200/2929/3529), which also refuses a static frame

    # OPERATION
    metered_store(evm, key, new_value)

    # PROGRAM COUNTER
    evm.pc += 1


def tload(evm: Evm) -> None:
    """Push the word stored under a key in the current account's transient storage."""
    # STACK
    key = pop(evm)

    # GAS
    charge_gas(evm, GAS_TLOAD)

    # OPERATION
    push(evm, get_transient_storage(evm.env.state, evm.message.current_target, key))

    # PROGRAM COUNTER
    evm.pc += 1


def tstore(evm: Evm) -> None:
    """Store a word under a key in the current account's transient storage."""
    # STACK
    key, new_value = pop(evm), pop(evm)

    # GAS
    charge_gas(evm, GAS_TSTORE)

    # OPERATION
    if evm.message.is_static:
        raise WriteInStaticContext("TSTORE in a static call")
    set_transient_storage(evm.env.state, evm.message.current_target, key, new_value)

    # PROGRAM COUNTER
    evm.pc += 1
