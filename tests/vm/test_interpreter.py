"""The interpreter on hand-assembled code: halts, reverts, creation, and no escaping errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brainchain.state.account import Account
from brainchain.state.state import (
    get_account,
    get_code,
    get_storage,
    set_account,
    set_code,
    state_root,
)
from tests.vm.harness import CONTRACT, ENV, SENDER, fresh_state, send
from vm.compiler import DEFAULT_HOT_RUN, set_hot_run
from vm.frame import Environment, Message, TransactionEnvironment
from vm.instructions.system import compute_contract_address
from vm.interpreter import STACK_DEPTH_LIMIT, process_message


def test_sstore_and_return() -> None:
    # PUSH1 42 PUSH1 0 SSTORE  PUSH1 7 PUSH1 0 MSTORE  PUSH1 32 PUSH1 0 RETURN
    code = bytes.fromhex("602a600055600760005260206000f3")
    state = fresh_state(code)
    result = send(state)
    assert result.error is None and result.receipt.succeeded
    assert get_storage(state, CONTRACT, 0) == 42
    assert int.from_bytes(result.output, "big") == 7
    # 21000 + 2 PUSH (6) + cold SSTORE from zero (22100) + MSTORE pieces (3+3+3+3) + RETURN pushes
    assert result.receipt.gas_used == 21_000 + 6 + 22_100 + 12 + 6


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("fe", "invalid opcode"),
        ("01", "stack underflow"),
        ("600456", "jump to a non-JUMPDEST"),
        ("60035660015b", "jump into PUSH data"),
        ("5b600056", "endless loop: out of gas"),
    ],
)
def test_exceptional_halts_burn_all_gas_and_revert(code: str, reason: str) -> None:
    state = fresh_state(bytes.fromhex("602a600055") + bytes.fromhex(code))
    result = send(state, gas=100_000)
    assert result.error is not None, reason
    assert not result.receipt.succeeded and result.receipt.gas_used == 100_000
    assert get_storage(state, CONTRACT, 0) == 0


def test_revert_keeps_gas_and_returns_data() -> None:
    # SSTORE 1 then REVERT with 32 bytes of memory holding 5
    code = bytes.fromhex("6001600055600560005260206000fd")
    state = fresh_state(code)
    result = send(state, gas=100_000)
    assert not result.receipt.succeeded and result.receipt.gas_used < 100_000
    assert int.from_bytes(result.output, "big") == 5
    assert get_storage(state, CONTRACT, 0) == 0


def test_static_call_cannot_write() -> None:
    # STATICCALL into CONTRACT2, which does SSTORE; store the success flag at slot 1.
    inner = bytes.fromhex("6001600055")
    callee = bytes.fromhex("c1" * 20)
    outer = bytes.fromhex("600060006000600073" + "c1" * 20 + "61fffffa600155")
    state = fresh_state(outer)
    set_account(state, callee, Account(nonce=1))
    set_code(state, callee, inner)
    result = send(state)
    assert result.receipt.succeeded
    assert get_storage(state, CONTRACT, 1) == 0  # the static call failed
    assert get_storage(state, callee, 0) == 0


def test_creation_transaction_installs_code() -> None:
    runtime = bytes.fromhex("602a60005260206000f3")  # returns 42
    # init: CODECOPY runtime to memory and RETURN it
    init = bytes.fromhex("600a600c600039600a6000f3") + runtime
    state = fresh_state()
    result = send(state, to=None, data=init)
    created = compute_contract_address(SENDER, 0)
    assert result.receipt.succeeded and result.receipt.contract_address == created
    assert get_code(state, get_account(state, created).code_hash) == runtime
    assert get_account(state, created).nonce == 1
    call = send(state, to=created, nonce=1)
    assert int.from_bytes(call.output, "big") == 42


@settings(max_examples=300, deadline=None)
@given(code=st.binary(max_size=64), data=st.binary(max_size=40))
def test_arbitrary_code_never_raises(code: bytes, data: bytes) -> None:
    state = fresh_state(code)
    before = get_account(state, SENDER)
    result = send(state, data=data, gas=60_000)
    assert 21_000 <= result.receipt.gas_used <= 60_000
    assert get_account(state, SENDER).nonce == before.nonce + 1
    state_root(state)


# Calls itself with all its gas, then returns 1 + what the callee returned (0 when the call
# failed at the depth limit): RETSIZE RETOFF ARGSIZE ARGOFF VALUE ADDRESS GAS CALL POP,
# PUSH1 0 MLOAD PUSH1 1 ADD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN.
SELF_CALLER = bytes.fromhex("60206000600060006000305af150600051600101600052602060" + "00f3")


@pytest.fixture(params=[None, 0], ids=["interpreted", "compiled"])
def hot_run(request: pytest.FixtureRequest) -> Iterator[None]:
    set_hot_run(request.param)
    try:
        yield
    finally:
        set_hot_run(DEFAULT_HOT_RUN)


@pytest.fixture
def default_recursion_limit() -> Iterator[None]:
    """Python's default, whatever a test dependency (py_ecc) raised it to on import."""
    raised = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(raised)


@pytest.mark.usefixtures("hot_run", "default_recursion_limit")
def test_1024_call_levels_run_under_the_default_recursion_limit() -> None:
    """Frames pause for their children instead of recursing (issue 12): the process keeps
    Python's default recursion limit, which C code such as the json scanner relies on."""
    state = fresh_state(SELF_CALLER)
    env = Environment(state, ENV, TransactionEnvironment(SENDER, 7, 10**12, set(), set()), [])
    message = Message(
        SENDER, CONTRACT, CONTRACT, 10**12, 0, b"", CONTRACT, SELF_CALLER, 0, True, False,
        {SENDER, CONTRACT}, set(),
    )  # fmt: skip
    evm = process_message(message, env)
    assert evm.error is None
    assert int.from_bytes(evm.output, "big") == STACK_DEPTH_LIMIT + 1  # depths 0 … 1024
    with pytest.raises(RecursionError):
        json.loads("[" * 100_000 + "]" * 100_000)  # the node's crash of issue 12


def test_a_node_process_keeps_the_default_recursion_limit() -> None:
    """Nothing the node imports raises it (py_ecc did, for the bn254 precompiles)."""
    program = "import sys, node.supervisor, node.cli.main; print(sys.getrecursionlimit())"
    shown = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert shown.stdout.strip() == "1000"
