"""Running messages: calls, creations, and the opcode loop (spec: cancun/vm/interpreter.py).

The loop dispatches through a 256-entry tuple indexed by the raw opcode byte; code is padded
with STOP bytes so running off its end stops without a bounds check (STYLE §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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
from vm.dispatch import DISPATCH
from vm.exceptions import (
    AddressCollision,
    EvmStop,
    ExceptionalHalt,
    InvalidContractPrefix,
    OutOfGasError,
    Revert,
    StackDepthLimitError,
    StackUnderflowError,
)
from vm.frame import CODE_PADDING, Environment, Evm, Message
from vm.gas import GAS_CALL_STIPEND, GAS_CODE_DEPOSIT, calculate_message_call_gas, charge_gas
from vm.instructions.system import create_charge
from vm.opcodes import Ops
from vm.precompiles.costs import words
from vm.precompiles.errors import PrecompileFailure
from vm.precompiles.mapping import BRAIN_PRECOMPILES, PRECOMPILES
from vm.runs import jump_flags

if TYPE_CHECKING:
    from vm.tracing.hooks import Tracer

STACK_DEPTH_LIMIT = 1024
EOF_PREFIX = 0xEF  # EIP-3541


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
        evm = process_message(message, env)
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


def process_message(message: Message, env: Environment) -> Evm:
    """Run a call or creation to its end, with every call and creation it makes.

    spec: process_message / process_create_message, which recurse once per call level. Here a
    frame that calls pauses (`Evm.child`) and this loop runs the child, then resumes the
    parent: 1024 levels of calls take a list of frames, not 1024 levels of Python recursion,
    so the process keeps Python's default recursion limit. A raised limit lets C code that
    recurses per level (the json scanner, repr, comparisons) overflow the C stack (issue 12).
    """
    paused: list[Evm] = []
    check_interrupt, tracer = env.block.check_interrupt, env.block.tracer
    evm, fresh = _start(message, env), True
    if tracer is not None:
        tracer.enter(evm)
    while True:
        if check_interrupt is not None:
            check_interrupt()
        _run_frame(evm, fresh)
        child = evm.child
        if child is not None:
            evm.child = None
            paused.append(evm)
            evm, fresh = _start(child, env), True
            if tracer is not None:
                tracer.enter(evm)
            continue
        _finish(evm)
        if tracer is not None:
            tracer.exit(evm)
        if not paused:
            return evm
        parent = paused.pop()
        resume, parent.resume = parent.resume, None
        assert resume is not None  # set together with `child`
        resume(parent, evm)
        evm, fresh = parent, False


def _start(message: Message, env: Environment) -> Evm:
    """Open the frame's snapshots, create the account or move the value, and make the frame."""
    if message.depth > STACK_DEPTH_LIMIT:
        raise StackDepthLimitError("stack depth limit reached")
    state = env.state
    target = message.current_target
    if message.target is None:  # spec: process_create_message, up to its process_message
        begin_transaction(state)
        destroy_storage(state, target)
        env.tx.created_accounts.add(target)
        increment_nonce(state, target)
    begin_transaction(state)
    if get_account_optional(state, target) is None:
        set_account(state, target, EMPTY_ACCOUNT)  # spec: touch_account
    if message.should_transfer_value and message.value:
        move_ether(state, message.caller, target, message.value)
    code = message.code
    tx = env.tx
    return Evm(
        pc=0,
        stack=[],
        memory=bytearray(),
        code=code + bytes(CODE_PADDING),
        code_size=len(code),
        gas_left=message.gas,
        env=env,
        jump_flags=b"",  # analysed once the frame has paid for it
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
        warm_marks=(len(tx.warmed_addresses), len(tx.warmed_slots)),
    )


def _run_frame(evm: Evm, fresh: bool) -> None:
    """Run the frame (or its precompile) until it halts or pauses for a child message; a
    `fresh` frame starts, the others resume after a child.

    spec: execute_code; an exceptional halt consumes the frame's gas, a revert keeps it.
    """
    message = evm.message
    try:
        precompile = PRECOMPILES.get(message.code_address) if message.code_address else None
        if precompile is not None:
            try:
                used, evm.output = precompile(message.data, evm.gas_left)
            except PrecompileFailure as failure:
                raise ExceptionalHalt(str(failure)) from None
            evm.gas_left -= used
            return
        if evm.env.block.brain_precompiles and message.code_address in BRAIN_PRECOMPILES:
            # Runs on the frame like an opcode: charges gas, sets the output, may Revert.
            BRAIN_PRECOMPILES[message.code_address](evm)
            return
        if not message.code:
            return  # spec: the loop of execute_code never starts
        if fresh:
            _analyse_new_code(evm)
        tracer = evm.env.block.tracer
        if tracer is None:
            run(evm)
        else:
            run_traced(evm, tracer)
    except ExceptionalHalt as error:
        evm.gas_left = 0
        evm.output = b""
        evm.error = error
        evm.child = None
    except Revert as error:
        evm.error = error
        evm.child = None


def _analyse_new_code(evm: Evm) -> None:
    """Charge for code this transaction has not run yet, then analyse it (vm/schedule.py).

    Raises:
        OutOfGasError: the frame cannot pay for it; nothing has been analysed.
    """
    code = evm.message.code
    schedule = evm.env.block.schedule
    seen = evm.env.tx.code_run
    if schedule.code_word_gas and code not in seen:
        charge_gas(evm, schedule.code_word_gas * words(len(code)))
        seen.add(code)
    evm.jump_flags = jump_flags(code)


def _finish(evm: Evm) -> None:
    """Close the frame's snapshot; a creation then pays for and installs its code
    (spec: process_message's and process_create_message's tails; EIP-170, EIP-3541)."""
    state = evm.env.state
    if evm.error is not None:
        rollback_transaction(state)
    else:
        commit_transaction(state)
    if evm.message.target is not None:
        return
    if evm.error is not None:
        rollback_transaction(state)
        return
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
        set_code(state, evm.message.current_target, code)
        commit_transaction(state)


def run(evm: Evm) -> None:
    """The opcode loop: compiled runs where the code is hot, the dispatch table elsewhere.

    spec: cancun/vm/interpreter.py execute_code's loop. Cold code is interpreted opcode by
    opcode, each opcode's constant gas charged by the loop (an out-of-gas before a stack error
    halts the frame just the same) up to the start of the next run; a run that has become hot
    runs as one compiled function (vm/compiler.py).
    """
    schedule = evm.env.block.schedule
    program = program_for(evm.message.code, schedule)
    compiled, starts = program.compiled, program.starts
    code, table, static_gas = evm.code, DISPATCH, schedule.static_gas
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


TRACED_STEPS_PER_CHECK = 4096  # traced steps between checks of a simulation's time limit
_CALLS = frozenset((Ops.CALL, Ops.CALLCODE, Ops.DELEGATECALL, Ops.STATICCALL))
_VALUE_CALLS = frozenset((Ops.CALL, Ops.CALLCODE))
_CREATES: dict[int, int] = {Ops.CREATE: 3, Ops.CREATE2: 4}  # and the stack words each takes
# The spec's DUP and SWAP charge their gas before they look at the stack; every other opcode
# pops first, so an underflow there has cost nothing.
_CHARGE_BEFORE_STACK = frozenset(range(Ops.DUP1, Ops.SWAP16 + 1))


def run_traced(evm: Evm, tracer: Tracer) -> None:
    """The opcode loop with a tracer: every opcode through the dispatch table, never a compiled
    run, the tracer told before each step and then of its gasCost and error.

    spec: execute_code's loop with its evm_trace events. The loop lowers the frame's gas by the
    static cost first, even below zero: the opcode then pops its stack (an underflow comes
    first, as in the spec and geth) and fails at its first charge, which says what the step
    would have cost. Gas, output and state come out as in `run`.
    """
    code, table = evm.code, DISPATCH
    static_gas = evm.env.block.schedule.static_gas
    check_interrupt, steps = evm.env.block.check_interrupt, 0
    while True:
        steps += 1
        if check_interrupt is not None and steps % TRACED_STEPS_PER_CHECK == 0:
            check_interrupt()  # a traced frame is slow enough for its time limit to matter
        op = code[evm.pc]
        tracer.step(evm, op)
        before, stack, static = evm.gas_left, evm.stack, static_gas[op]
        create_words = _CREATES.get(op)
        create_cost = None
        if create_words is not None and len(stack) >= create_words:
            create_cost = create_charge(evm, stack[-2], stack[-3], op == Ops.CREATE2).cost
        call = None
        if op in _CALLS and len(stack) >= 3:
            call = (stack[-1], stack[-3] if op in _VALUE_CALLS else 0)
        evm.gas_left = before - static
        failure: EvmStop | None = None
        try:
            table[op](evm)
            if evm.gas_left < 0:
                raise OutOfGasError(f"out of gas at opcode {op:#04x}")
        except EvmStop as error:
            failure = error
            if evm.gas_left < 0 and not isinstance(error, (OutOfGasError, StackUnderflowError)):
                failure = OutOfGasError(f"out of gas at opcode {op:#04x}")
        spent = before - evm.gas_left
        if isinstance(failure, StackUnderflowError):
            cost = static if op in _CHARGE_BEFORE_STACK else 0
        elif create_cost is not None:
            cost = static + create_cost
        elif isinstance(failure, OutOfGasError):
            cost = spent + failure.needed
        elif call is not None and failure is None and evm.child is None:
            cost = static + _refused_call_cost(before - static, evm.gas_left, *call)
        else:
            cost = spent
        tracer.step_done(evm, op, cost, failure)
        if failure is not None:
            raise failure
        if not evm.running:
            return


def _refused_call_cost(gas_left: int, gas_after: int, gas: int, value: int) -> int:
    """What a CALL-family opcode charged when it made no call (the caller short of the value, or
    the depth limit): it took back the callee's gas, stipend included, so the gas it forwarded
    is worked out again from what it kept (`extra`: access, value and memory costs).

    geth, like the spec, reports the charge with the forwarded gas (callGasTemp) in it.
    """
    extra = gas_left - gas_after + (GAS_CALL_STIPEND if value else 0)
    return calculate_message_call_gas(value, gas, gas_left, 0, extra).cost
