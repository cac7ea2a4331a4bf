"""brainchain's gas schedule (vm/schedule.py): Cancun's plus what this VM's time costs, charged
the same on every path, with the state tests keeping Cancun's (vm/conformance.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from brainchain.state.account import Account
from brainchain.state.state import set_account, set_code, state_root
from tests.vm.harness import ENV, fresh_state, send
from vm.compiler import DEFAULT_HOT_RUN, set_hot_run
from vm.opcodes import Ops
from vm.runs import analyse
from vm.schedule import (
    BRAINCHAIN,
    CANCUN,
    CODE_WORD_GAS,
    FRAME_OPCODES,
    FRAME_SURCHARGE,
    OPCODE_SURCHARGE,
)

CHAIN = replace(ENV, schedule=BRAINCHAIN)
OTHER = bytes.fromhex("0b" * 20)
# PUSH1 1, PUSH1 0, SSTORE, STOP: four opcodes in one word of code.
STORE_ONE = bytes.fromhex("600160005500")


def words(code: bytes) -> int:
    return (len(code) + 31) // 32


def call(target: bytes) -> bytes:
    """CALL `target` with all gas but 1/64 (9 opcodes)."""
    return bytes.fromhex("5f5f5f5f5f73") + target + bytes.fromhex("5af150")


def test_every_opcode_costs_the_surcharge_more_and_frames_more_again() -> None:
    for op in Ops:
        extra = BRAINCHAIN.static_gas[op] - CANCUN.static_gas[op]
        assert extra >= OPCODE_SURCHARGE + (FRAME_SURCHARGE if op in FRAME_OPCODES else 0)
    unassigned = [b for b in range(256) if b not in {int(op) for op in Ops}]
    assert all(BRAINCHAIN.static_gas[b] == CANCUN.static_gas[b] == 0 for b in unassigned)


def test_a_call_pays_cancun_plus_the_surcharge_per_opcode_and_the_code_words() -> None:
    cancun = send(fresh_state(STORE_ONE)).receipt.gas_used
    chain = send(fresh_state(STORE_ONE), env=CHAIN).receipt.gas_used
    assert chain - cancun == 4 * OPCODE_SURCHARGE + CODE_WORD_GAS * words(STORE_ONE)


def test_a_transfer_to_an_account_without_code_still_costs_21000() -> None:
    result = send(fresh_state(), to=OTHER, value=1, gas=21_000, env=CHAIN)
    assert result.receipt.succeeded and result.receipt.gas_used == 21_000


def test_code_is_paid_for_once_per_transaction_whoever_runs_it() -> None:
    """Two accounts with one code, each called twice: one charge for its words."""
    twin = bytes.fromhex("0c" * 20)
    callee = b"\x00" + bytes(range(0x20, 0x60)) * 8  # STOP, then 16 words never reached
    caller = call(OTHER) * 2 + call(twin) * 2 + b"\x00"
    gas = {}
    for env in (ENV, CHAIN):
        state = fresh_state(caller)
        for address in (OTHER, twin):
            set_account(state, address, Account(nonce=1))
            set_code(state, address, callee)
        gas[env.schedule.name] = send(state, env=env).receipt.gas_used
    ops = 4 * 9 + 1 + 4  # the caller's opcodes, then four STOPs in the callee
    frames = 4 * FRAME_SURCHARGE
    code_words = CODE_WORD_GAS * (words(caller) + words(callee))
    assert gas["brainchain"] - gas["Cancun"] == ops * OPCODE_SURCHARGE + frames + code_words


def test_a_frame_without_gas_for_new_code_halts_before_analysing_it() -> None:
    big = b"\x00" + bytes([Ops.JUMPDEST]) * 20_000 + b"unanalysed"
    caller = bytes.fromhex("5f5f5f5f5f73") + OTHER + bytes.fromhex("6064f1") + b"\x00"  # gas 100
    state = fresh_state(caller)
    set_account(state, OTHER, Account(nonce=1))
    set_code(state, OTHER, big)
    analyse.cache_clear()
    result = send(state, env=CHAIN)
    assert result.receipt.succeeded  # the call failed, the caller went on
    assert analyse.cache_info().currsize == 1  # the caller's code, not the callee's


@pytest.mark.parametrize("threshold", [None, 0, DEFAULT_HOT_RUN])
def test_compiled_and_interpreted_runs_charge_the_chain_schedule_alike(
    threshold: int | None,
) -> None:
    # i = 0; do i += 1 while 40 > i; store i: hot midway with the default threshold.
    loop = bytes.fromhex("5f5b600101806028116001575f5500")
    set_hot_run(None)
    state = fresh_state(loop)
    expected = send(state, env=CHAIN).receipt.gas_used, state_root(state)
    set_hot_run(threshold)
    try:
        state = fresh_state(loop)
        assert (send(state, env=CHAIN).receipt.gas_used, state_root(state)) == expected
    finally:
        set_hot_run(DEFAULT_HOT_RUN)
    cancun = send(fresh_state(loop)).receipt.gas_used
    turns, ops_per_turn = 40, 8
    ops = 1 + turns * ops_per_turn + 3  # PUSH0, the turns, PUSH0 SSTORE STOP
    assert expected[0] - cancun == ops * OPCODE_SURCHARGE + CODE_WORD_GAS * words(loop)
