"""Running messages: calls, creations, and the opcode loop (spec: cancun/vm/interpreter.py).

The loop dispatches through a 256-entry tuple indexed by the raw opcode byte; code is padded
with STOP bytes so running off its end stops without a bounds check (STYLE §2).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from brainchain.crypto.keccak import EMPTY_KECCAK
from brainchain.state.account import EMPTY_ACCOUNT
from brainchain.state.state import account_has_storage as state_has_storage
from brainchain.state.state import (
    begin_transaction,
    commit_transaction,
    destroy_storage,
    get_account_optional,
    increment_nonce,
    move_ether,
    rollback_transaction,
    set_account,
    set_code,
)
from brainchain.types.receipt import Log
from brainchain.types.transaction import MAX_CODE_SIZE
from vm.compiler import STOPPED, program_for
from vm.dispatch import DISPATCH, STATIC_GAS_TABLE
from vm.exceptions import (
    AddressCollision,
    ExceptionalHalt,
    InvalidContractPrefix,
    OutOfGasError,
    Revert,
    StackDepthLimitError,
)
from vm.frame import CODE_PADDING, Environment, Evm, Message
from vm.gas import GAS_CODE_DEPOSIT, charge_gas
from vm.jumpdest import valid_jump_destinations
from vm.precompiles.errors import PrecompileFailure
from vm.precompiles.mapping import BRAIN_PRECOMPILES, PRECOMPILES

STACK_DEPTH_LIMIT = 1024
EOF_PREFIX = 0xEF  # EIP-3541
# Each EVM call level costs about six Python frames (opcode → generic_call → process_message →
# execute_code → run); 1024 levels must fit. Python 3.11 runs Python-to-Python calls without
# growing the C stack, so only the interpreter's own limit needs raising.
PYTHON_FRAMES_PER_CALL = 8
sys.setrecursionlimit(
    max(sys.getrecursionlimit(), STACK_DEPTH_LIMIT * PYTHON_FRAMES_PER_CALL + 2000)
)


@dataclass(slots=True)
class MessageCallOutput:
    """What a top-level message leaves behind (spec: MessageCallOutput)."""

    gas_left: int
    refund_counter: int
    logs: tuple[Log, ...]
    accounts_to_delete: set[bytes]
    touched_accounts: set[bytes]
    error: Exception | None
    output: bytes


def account_exists_and_is_empty(env: Environment, address: bytes) -> bool:
    account = get_account_optional(env.state, address)
    return account is not None and account.is_empty


def account_has_code_or_nonce(env: Environment, address: bytes) -> bool:
    account = get_account_optional(env.state, address)
    return account is not None and (account.nonce != 0 or account.code_hash != EMPTY_KECCAK)


def process_message_call(message: Message, env: Environment) -> MessageCallOutput:
    """Run the transaction's top-level message, creation or call."""
    if message.target is None:
        target = message.current_target
        if account_has_code_or_nonce(env, target) or state_has_storage(env.state, target):
            return MessageCallOutput(0, 0, (), set(), set(), AddressCollision(), b"")
        evm = process_create_message(message, env)
    else:
        evm = process_message(message, env)
        if account_exists_and_is_empty(env, message.target):
            evm.touched_accounts.add(message.target)
    if evm.error is not None:
        return MessageCallOutput(evm.gas_left, 0, (), set(), set(), evm.error, evm.output)
    return MessageCallOutput(
        evm.gas_left,
        evm.refund_counter,
        tuple(evm.logs),
        evm.accounts_to_delete,
        evm.touched_accounts,
        None,
        evm.output,
    )


def process_create_message(message: Message, env: Environment) -> Evm:
    """Run init code, then pay for and install the code it returns (EIP-170, EIP-3541)."""
    state = env.state
    begin_transaction(state)
    target = message.current_target
    destroy_storage(state, target)
    env.tx.created_accounts.add(target)
    increment_nonce(state, target)
    evm = process_message(message, env)
    if evm.error is None:
        code = evm.output
        try:
            if code[:1] == bytes((EOF_PREFIX,)):
                raise InvalidContractPrefix("new code starts with 0xEF")
            charge_gas(evm, len(code) * GAS_CODE_DEPOSIT)
            if len(code) > MAX_CODE_SIZE:
                raise OutOfGasError(f"code of {len(code)} bytes exceeds {MAX_CODE_SIZE}")
        except ExceptionalHalt as error:
            rollback_transaction(state)
            evm.gas_left = 0
            evm.output = b""
            evm.error = error
        else:
            set_code(state, target, code)
            commit_transaction(state)
    else:
        rollback_transaction(state)
    return evm


def process_message(message: Message, env: Environment) -> Evm:
    """Move the value, then run the code, in a snapshot that reverts on failure."""
    if message.depth > STACK_DEPTH_LIMIT:
        raise StackDepthLimitError("stack depth limit reached")
    state = env.state
    begin_transaction(state)
    if get_account_optional(state, message.current_target) is None:
        set_account(state, message.current_target, EMPTY_ACCOUNT)  # spec: touch_account
    if message.should_transfer_value and message.value:
        move_ether(state, message.caller, message.current_target, message.value)
    evm = execute_code(message, env)
    if evm.error is not None:
        rollback_transaction(state)
    else:
        commit_transaction(state)
    return evm


def execute_code(message: Message, env: Environment) -> Evm:
    """Run the message's code (or precompile) to completion or halt."""
    code = message.code
    evm = Evm(
        pc=0,
        stack=[],
        memory=bytearray(),
        code=code + bytes(CODE_PADDING),
        code_size=len(code),
        gas_left=message.gas,
        env=env,
        valid_jump_destinations=valid_jump_destinations(code),
        logs=[],
        refund_counter=0,
        running=True,
        message=message,
        output=b"",
        accounts_to_delete=set(),
        touched_accounts=set(),
        return_data=b"",
        error=None,
        accessed_addresses=message.accessed_addresses,
        accessed_storage_keys=message.accessed_storage_keys,
    )
    precompile = PRECOMPILES.get(message.code_address) if message.code_address else None
    try:
        if precompile is not None:
            try:
                used, evm.output = precompile(message.data, evm.gas_left)
            except PrecompileFailure as failure:
                raise ExceptionalHalt(str(failure)) from None
            evm.gas_left -= used
            return evm
        if env.block.brain_precompiles and message.code_address in BRAIN_PRECOMPILES:
            # Runs on the frame like an opcode: charges gas, sets the output, may Revert.
            BRAIN_PRECOMPILES[message.code_address](evm)
            return evm
        run(evm)
    except ExceptionalHalt as error:
        evm.gas_left = 0
        evm.output = b""
        evm.error = error
    except Revert as error:
        evm.error = error
    return evm


def run(evm: Evm) -> None:
    """The opcode loop: compiled runs where the code is hot, the dispatch table elsewhere.

    spec: cancun/vm/interpreter.py execute_code's loop. Cold code is interpreted opcode by
    opcode, each opcode's constant gas charged by the loop (an out-of-gas before a stack error
    halts the frame just the same) up to the start of the next run; a run that has become hot
    runs as one compiled function (vm/compiler.py).
    """
    program = program_for(evm.message.code)
    compiled, starts = program.compiled, program.starts
    code, table, static_gas = evm.code, DISPATCH, STATIC_GAS_TABLE
    pc = evm.pc
    while True:
        function = compiled.get(pc)
        if function is None:
            if pc == STOPPED:
                return
            function = program.warm(pc)
        if function is not None:
            pc = function(evm)
            continue
        evm.pc = pc
        while True:
            op = code[evm.pc]
            gas_left = evm.gas_left - static_gas[op]
            if gas_left < 0:
                raise OutOfGasError(f"out of gas at opcode {op:#04x}")
            evm.gas_left = gas_left
            table[op](evm)
            if not evm.running:
                return
            if starts[evm.pc]:
                break
        pc = evm.pc
