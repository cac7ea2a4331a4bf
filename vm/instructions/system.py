"""CREATE … SELFDESTRUCT (spec: cancun/vm/instructions/system.py).

Child frames get copies of the access sets and are merged back only on success (EIP-2929);
gas handed to a child follows the 63/64 rule (EIP-150).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from brainchain.crypto.keccak import keccak256
from brainchain.encoding import rlp
from brainchain.state.state import (
    account_has_storage,
    get_account,
    get_account_optional,
    get_code,
    increment_nonce,
    move_ether,
    set_account_balance,
)
from brainchain.types.transaction import MAX_INIT_CODE_SIZE, MAX_NONCE
from vm.access import access_cost, cool_down, to_address
from vm.exceptions import OutOfGasError, Revert, WriteInStaticContext
from vm.frame import Evm, Message
from vm.gas import (
    GAS_CALL_VALUE,
    GAS_COLD_ACCOUNT_ACCESS,
    GAS_CREATE,
    GAS_KECCAK256_WORD,
    GAS_NEW_ACCOUNT,
    GAS_SELF_DESTRUCT,
    GAS_SELF_DESTRUCT_NEW_ACCOUNT,
    GAS_ZERO,
    ExtendMemory,
    calculate_memory_extend,
    calculate_message_call_gas,
    charge_gas,
    init_code_cost,
    max_message_call_gas,
)
from vm.memory import memory_read_bytes, memory_write
from vm.precompiles.addresses import RIPEMD160_ADDRESS
from vm.stack import pop, push

CREATE2_PREFIX = b"\xff"


def compute_contract_address(sender: bytes, nonce: int) -> bytes:
    """CREATE address: keccak(rlp([sender, nonce]))[12:] (Yellow Paper eq. 85)."""
    return keccak256(rlp.encode([sender, rlp.encode_uint(nonce)]))[12:]


def compute_create2_contract_address(sender: bytes, salt: int, init_code: bytes) -> bytes:
    """CREATE2 address (EIP-1014)."""
    preimage = CREATE2_PREFIX + sender + salt.to_bytes(32, "big") + keccak256(init_code)
    return keccak256(preimage)[12:]


def _is_alive(evm: Evm, address: bytes) -> bool:
    account = get_account_optional(evm.env.state, address)
    return account is not None and not account.is_empty


def _exists_and_is_empty(evm: Evm, address: bytes) -> bool:
    account = get_account_optional(evm.env.state, address)
    return account is not None and account.is_empty


def incorporate_child_on_success(evm: Evm, child: Evm) -> None:
    """Take back a successful child's unused gas, logs, refunds and touched accounts."""
    evm.gas_left += child.gas_left
    evm.logs.extend(child.logs)
    evm.refund_counter += child.refund_counter
    evm.accounts_to_delete.update(child.accounts_to_delete)
    evm.touched_accounts.update(child.touched_accounts)
    if _exists_and_is_empty(evm, child.message.current_target):
        evm.touched_accounts.add(child.message.current_target)


def incorporate_child_on_error(evm: Evm, child: Evm) -> None:
    """Take back a failed child's unused gas, and nothing else it did."""
    cool_down(evm, child)
    # Mainnet block 2675119 cleared the empty RIPEMD160 precompile account although the call
    # to it failed; every client keeps that quirk (spec: incorporate_child_on_error).
    if RIPEMD160_ADDRESS in child.touched_accounts:
        evm.touched_accounts.add(RIPEMD160_ADDRESS)
    if child.message.current_target == RIPEMD160_ADDRESS and _exists_and_is_empty(
        evm, RIPEMD160_ADDRESS
    ):
        evm.touched_accounts.add(RIPEMD160_ADDRESS)
    evm.gas_left += child.gas_left


def generic_create(
    evm: Evm, endowment: int, contract_address: bytes, start: int, size: int
) -> None:
    """Shared tail of CREATE and CREATE2."""
    # Imported here, not at the top: vm.interpreter imports this module (through vm.compiler
    # and vm.dispatch), so a module-level import would be circular (spec: generic_create).
    from vm.interpreter import STACK_DEPTH_LIMIT, account_has_code_or_nonce

    call_data = memory_read_bytes(evm.memory, start, size)
    if len(call_data) > MAX_INIT_CODE_SIZE:
        raise OutOfGasError("init code larger than EIP-3860 allows")
    access_cost(evm, contract_address)  # warm it (its price is in GAS_CREATE)
    create_message_gas = max_message_call_gas(evm.gas_left)
    evm.gas_left -= create_message_gas
    if evm.message.is_static:
        raise WriteInStaticContext("CREATE in a static call")
    evm.return_data = b""

    state = evm.env.state
    sender_address = evm.message.current_target
    sender = get_account(state, sender_address)
    if (
        sender.balance < endowment
        or sender.nonce == MAX_NONCE
        or evm.message.depth + 1 > STACK_DEPTH_LIMIT
    ):
        evm.gas_left += create_message_gas
        push(evm, 0)
        return
    if account_has_code_or_nonce(evm.env, contract_address) or account_has_storage(
        state, contract_address
    ):
        increment_nonce(state, sender_address)
        push(evm, 0)
        return
    increment_nonce(state, sender_address)
    child_message = Message(
        caller=sender_address,
        target=None,
        current_target=contract_address,
        gas=create_message_gas,
        value=endowment,
        data=b"",
        code_address=None,
        code=call_data,
        depth=evm.message.depth + 1,
        should_transfer_value=True,
        is_static=False,
        accessed_addresses=evm.accessed_addresses,
        accessed_storage_keys=evm.accessed_storage_keys,
        parent_evm=evm,
    )
    pause_for(evm, child_message, functools.partial(_created, contract_address))


def pause_for(evm: Evm, child: Message, resume: Callable[[Evm, Evm], None]) -> None:
    """Stop the frame's loop so that vm/interpreter.py runs `child`, then `resume(evm, child)`
    (the spec recurses into the child here)."""
    evm.child, evm.resume, evm.running = child, resume, False


def _created(address: bytes, evm: Evm, child: Evm) -> None:
    """Resume the creator: the new address, or 0 and the child's revert data."""
    evm.running = True
    if child.error is not None:
        incorporate_child_on_error(evm, child)
        evm.return_data = child.output
        push(evm, 0)
    else:
        incorporate_child_on_success(evm, child)
        evm.return_data = b""
        push(evm, int.from_bytes(address, "big"))


def _called(memory_out: tuple[int, int], evm: Evm, child: Evm) -> None:
    """Resume the caller: success flag, return data, and output copied into its memory."""
    evm.running = True
    if child.error is not None:
        incorporate_child_on_error(evm, child)
        push(evm, 0)
    else:
        incorporate_child_on_success(evm, child)
        push(evm, 1)
    evm.return_data = child.output
    out_start, out_size = memory_out
    memory_write(evm.memory, out_start, child.output[: min(out_size, len(child.output))])


def create_charge(evm: Evm, start: int, size: int, salted: bool) -> ExtendMemory:
    """What CREATE, or with `salted` CREATE2, charges before it runs the init code, and the
    memory growth: GAS_CREATE, the init code's words (EIP-3860) and, for CREATE2, hashing them
    (EIP-1014). A trace reports it as the step's gasCost, without the gas handed to the init
    code, as the spec and geth do (vm/interpreter.py `run_traced`)."""
    extend = calculate_memory_extend(len(evm.memory), [(start, size)])
    hashing = GAS_KECCAK256_WORD * ((size + 31) // 32) if salted else 0
    cost = GAS_CREATE + hashing + extend.cost + init_code_cost(size)
    return ExtendMemory(cost, extend.expand_by)


def create(evm: Evm) -> None:
    """Create a contract at an address given by the creator and its nonce, run its init code."""
    # STACK
    endowment, start, size = pop(evm), pop(evm), pop(evm)

    # GAS
    charge = create_charge(evm, start, size, salted=False)
    charge_gas(evm, charge.cost)

    # OPERATION
    evm.memory += bytes(charge.expand_by)
    sender = evm.message.current_target
    address = compute_contract_address(sender, get_account(evm.env.state, sender).nonce)
    generic_create(evm, endowment, address, start, size)

    # PROGRAM COUNTER
    evm.pc += 1


def create2(evm: Evm) -> None:
    """Create a contract at an address given by the creator, a salt and the init code."""
    # STACK
    endowment, start, size, salt = pop(evm), pop(evm), pop(evm), pop(evm)

    # GAS
    charge = create_charge(evm, start, size, salted=True)
    charge_gas(evm, charge.cost)

    # OPERATION
    evm.memory += bytes(charge.expand_by)
    address = compute_create2_contract_address(
        evm.message.current_target, salt, memory_read_bytes(evm.memory, start, size)
    )
    generic_create(evm, endowment, address, start, size)

    # PROGRAM COUNTER
    evm.pc += 1


def return_(evm: Evm) -> None:
    """Stop the frame, returning a range of memory as its output."""
    # STACK
    start, size = pop(evm), pop(evm)

    # GAS
    extend = calculate_memory_extend(len(evm.memory), [(start, size)])
    charge_gas(evm, GAS_ZERO + extend.cost)

    # OPERATION
    evm.memory += bytes(extend.expand_by)
    evm.output = memory_read_bytes(evm.memory, start, size)
    evm.running = False

    # PROGRAM COUNTER
    evm.pc += 1


def generic_call(
    evm: Evm,
    gas: int,
    value: int,
    caller: bytes,
    to: bytes,
    code_address: bytes,
    should_transfer_value: bool,
    is_staticcall: bool,
    memory_in: tuple[int, int],
    memory_out: tuple[int, int],
) -> None:
    """Run a child message call and copy its output back (spec: generic_call)."""
    # Imported here for the reason given in generic_create: the import would be circular.
    from vm.interpreter import STACK_DEPTH_LIMIT

    evm.return_data = b""
    if evm.message.depth + 1 > STACK_DEPTH_LIMIT:
        evm.gas_left += gas
        push(evm, 0)
        return
    state = evm.env.state
    child_message = Message(
        caller=caller,
        target=to,
        current_target=to,
        gas=gas,
        value=value,
        data=memory_read_bytes(evm.memory, *memory_in),
        code_address=code_address,
        code=get_code(state, get_account(state, code_address).code_hash),
        depth=evm.message.depth + 1,
        should_transfer_value=should_transfer_value,
        is_static=is_staticcall or evm.message.is_static,
        accessed_addresses=evm.accessed_addresses,
        accessed_storage_keys=evm.accessed_storage_keys,
        parent_evm=evm,
    )
    pause_for(evm, child_message, functools.partial(_called, memory_out))


def _pop_memory_ranges(evm: Evm) -> tuple[tuple[int, int], tuple[int, int]]:
    """The (start, size) of a call's input and of its output area, from the stack."""
    in_start, in_size, out_start, out_size = pop(evm), pop(evm), pop(evm), pop(evm)
    return (in_start, in_size), (out_start, out_size)


def call(evm: Evm) -> None:
    """Call an account's code with a value, in the callee's own context."""
    # STACK
    gas, to, value = pop(evm), to_address(pop(evm)), pop(evm)
    memory_in, memory_out = _pop_memory_ranges(evm)

    # GAS
    extend = calculate_memory_extend(len(evm.memory), [memory_in, memory_out])
    access_gas = access_cost(evm, to)
    create_gas = 0 if value == 0 or _is_alive(evm, to) else GAS_NEW_ACCOUNT
    transfer_gas = 0 if value == 0 else GAS_CALL_VALUE
    call_gas = calculate_message_call_gas(
        value, gas, evm.gas_left, extend.cost, access_gas + create_gas + transfer_gas
    )
    charge_gas(evm, call_gas.cost + extend.cost)

    # OPERATION
    if evm.message.is_static and value != 0:
        raise WriteInStaticContext("CALL with value in a static call")
    evm.memory += bytes(extend.expand_by)
    sender = evm.message.current_target
    if get_account(evm.env.state, sender).balance < value:
        push(evm, 0)
        evm.return_data = b""
        evm.gas_left += call_gas.stipend
    else:
        generic_call(
            evm, call_gas.stipend, value, sender, to, to, True, False, memory_in, memory_out
        )

    # PROGRAM COUNTER
    evm.pc += 1


def callcode(evm: Evm) -> None:
    """Run another account's code with a value, in the current account's context."""
    # STACK
    gas, code_address, value = pop(evm), to_address(pop(evm)), pop(evm)
    memory_in, memory_out = _pop_memory_ranges(evm)

    # GAS
    to = evm.message.current_target
    extend = calculate_memory_extend(len(evm.memory), [memory_in, memory_out])
    access_gas = access_cost(evm, code_address)
    transfer_gas = 0 if value == 0 else GAS_CALL_VALUE
    call_gas = calculate_message_call_gas(
        value, gas, evm.gas_left, extend.cost, access_gas + transfer_gas
    )
    charge_gas(evm, call_gas.cost + extend.cost)

    # OPERATION
    evm.memory += bytes(extend.expand_by)
    if get_account(evm.env.state, to).balance < value:
        push(evm, 0)
        evm.return_data = b""
        evm.gas_left += call_gas.stipend
    else:
        generic_call(
            evm, call_gas.stipend, value, to, to, code_address, True, False, memory_in, memory_out
        )

    # PROGRAM COUNTER
    evm.pc += 1


def delegatecall(evm: Evm) -> None:
    """Run another account's code in the current context, keeping its caller and value."""
    # STACK
    gas, code_address = pop(evm), to_address(pop(evm))
    memory_in, memory_out = _pop_memory_ranges(evm)

    # GAS
    extend = calculate_memory_extend(len(evm.memory), [memory_in, memory_out])
    access_gas = access_cost(evm, code_address)
    call_gas = calculate_message_call_gas(0, gas, evm.gas_left, extend.cost, access_gas)
    charge_gas(evm, call_gas.cost + extend.cost)

    # OPERATION
    evm.memory += bytes(extend.expand_by)
    message = evm.message
    generic_call(
        evm,
        call_gas.stipend,
        message.value,
        message.caller,
        message.current_target,
        code_address,
        False,
        False,
        memory_in,
        memory_out,
    )

    # PROGRAM COUNTER
    evm.pc += 1


def staticcall(evm: Evm) -> None:
    """Call an account's code without value, forbidding any change of state."""
    # STACK
    gas, to = pop(evm), to_address(pop(evm))
    memory_in, memory_out = _pop_memory_ranges(evm)

    # GAS
    extend = calculate_memory_extend(len(evm.memory), [memory_in, memory_out])
    access_gas = access_cost(evm, to)
    call_gas = calculate_message_call_gas(0, gas, evm.gas_left, extend.cost, access_gas)
    charge_gas(evm, call_gas.cost + extend.cost)

    # OPERATION
    evm.memory += bytes(extend.expand_by)
    generic_call(
        evm,
        call_gas.stipend,
        0,
        evm.message.current_target,
        to,
        to,
        True,
        True,
        memory_in,
        memory_out,
    )

    # PROGRAM COUNTER
    evm.pc += 1


def selfdestruct(evm: Evm) -> None:
    """Move the account's balance to a beneficiary and stop; delete it if created just now."""
    # STACK
    beneficiary = to_address(pop(evm))

    # GAS
    gas_cost = GAS_SELF_DESTRUCT
    if access_cost(evm, beneficiary) == GAS_COLD_ACCOUNT_ACCESS:
        gas_cost += GAS_COLD_ACCOUNT_ACCESS
    state = evm.env.state
    originator = evm.message.current_target
    if not _is_alive(evm, beneficiary) and get_account(state, originator).balance != 0:
        gas_cost += GAS_SELF_DESTRUCT_NEW_ACCOUNT
    charge_gas(evm, gas_cost)

    # OPERATION
    if evm.message.is_static:
        raise WriteInStaticContext("SELFDESTRUCT in a static call")
    move_ether(state, originator, beneficiary, get_account(state, originator).balance)
    # EIP-6780: only an account created in this same transaction is really deleted.
    if originator in evm.env.tx.created_accounts:
        set_account_balance(state, originator, 0)  # beneficiary == originator burns it
        evm.accounts_to_delete.add(originator)
    if _exists_and_is_empty(evm, beneficiary):
        evm.touched_accounts.add(beneficiary)
    evm.running = False

    # PROGRAM COUNTER
    evm.pc += 1


def revert(evm: Evm) -> None:
    """Stop the frame, undoing its changes but keeping its gas, with memory as its output."""
    # STACK
    start, size = pop(evm), pop(evm)

    # GAS
    extend = calculate_memory_extend(len(evm.memory), [(start, size)])
    charge_gas(evm, extend.cost)

    # OPERATION
    evm.memory += bytes(extend.expand_by)
    evm.output = memory_read_bytes(evm.memory, start, size)
    raise Revert("execution reverted")

    # PROGRAM COUNTER: unchanged, the frame has ended
