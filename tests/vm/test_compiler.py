"""Compiled runs behave exactly like the dispatch loop: same gas, output, state and halts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brainchain.state.state import state_root
from tests.vm.harness import ENV, fresh_state, send
from vm.compiler import (
    BINARY,
    COMPILE_GAS,
    COMPILE_GAS_PER_OPCODE,
    DEFAULT_HOT_RUN,
    UNARY,
    program_for,
    set_hot_run,
)
from vm.runs import decode_run, run_starts
from vm.schedule import CANCUN

WORDS = st.one_of(
    st.integers(0, 2**256 - 1),
    st.sampled_from([0, 1, 2, 255, 256, 257, 2**255, 2**256 - 1, 2**255 - 1]),
)
RETURN_TOP = bytes.fromhex("5f52" "60205ff3")  # PUSH0 MSTORE PUSH1 32 PUSH0 RETURN


@contextmanager
def hot_run(threshold: int | None) -> Iterator[None]:
    set_hot_run(threshold)
    try:
        yield
    finally:
        set_hot_run(DEFAULT_HOT_RUN)


def outcome(code: bytes, gas: int = 200_000) -> tuple[object, ...]:
    state = fresh_state(code)
    result = send(state, gas=gas)
    return (
        result.receipt.succeeded,
        result.receipt.cumulative_gas_used,
        result.output,
        state_root(state),
    )


def assert_same(code: bytes, gas: int = 200_000) -> None:
    """Interpreted only, compiled at once, and compiled once hot: one outcome."""
    results = []
    for threshold in (None, 0, 1):
        with hot_run(threshold):
            results.append(outcome(code, gas))
    assert results[0] == results[1] == results[2]


def push32(value: int) -> bytes:
    return b"\x7f" + value.to_bytes(32, "big")


@pytest.mark.parametrize("op", sorted(BINARY))
@settings(max_examples=25, deadline=None)
@given(a=WORDS, b=WORDS)
def test_binary_opcode(op: int, a: int, b: int) -> None:
    folded = push32(b) + push32(a) + bytes([op])  # the PUSH of `a` folds into the opcode
    on_stack = push32(a) + push32(b) + b"\x90" + bytes([op])  # SWAP1 between: not folded
    assert_same(folded + RETURN_TOP)
    assert_same(on_stack + RETURN_TOP)


@pytest.mark.parametrize("op", sorted(UNARY))
@settings(max_examples=25, deadline=None)
@given(a=WORDS)
def test_unary_opcode(op: int, a: int) -> None:
    assert_same(push32(a) + bytes([op]) + RETURN_TOP)


def test_loop_turns_hot_midway() -> None:
    # i = 0; do i += 1 while 40 > i; return i. The body turns hot on its 17th pass.
    code = bytes.fromhex("5f" "5b" "600101" "80" "6028" "11" "6001" "57" + "5f5260205ff3")
    with hot_run(DEFAULT_HOT_RUN):
        hot = outcome(code)
    with hot_run(None):
        cold = outcome(code)
    assert hot == cold
    assert int.from_bytes(hot[2], "big") == 40


@pytest.mark.parametrize(
    "code",
    [
        "6003565b00",  # constant JUMP to a JUMPDEST
        "6004565b00",  # constant JUMP into nowhere
        "600456005b00",  # PUSH1 4 JUMP STOP JUMPDEST STOP
        "60035f01565b00",  # dynamic JUMP (PUSH0 ADD stops the fold)
        "600160075760015f55005b00",  # JUMPI taken past an SSTORE
        "5f60075760015f55005b00",  # JUMPI not taken
        "6001600a5f0157005b5a5f55",  # dynamic JUMPI, then GAS stored
        "6002600556",  # JUMP to PUSH data
        "01",  # stack underflow at entry
        "5a5a5a5f555f5500",  # GAS readings exact after each run
        "60ff",  # PUSH1 running off the end
        "7f",  # PUSH32 truncated by the code's end
        "58585858015f5500",  # PC
    ],
)
def test_control_flow_and_halts(code: str) -> None:
    assert_same(bytes.fromhex(code))


def test_stack_overflow_at_entry() -> None:
    # 1023 pushes in a loop-free run then two more: overflow raised at the run's entry.
    assert_same(b"\x5f" * 1025, gas=1_000_000)
    assert_same(b"\x5f" * 1024 + b"\x00", gas=1_000_000)


def test_out_of_gas_inside_a_run() -> None:
    code = bytes.fromhex("6001" * 20 + "01" * 19 + "5f5500")
    base = outcome(code)
    assert base[0]
    for gas in range(base[1] - 30, base[1] + 1):
        assert_same(code, gas=gas)


# Random programs over the opcodes the compiler treats specially, with jumps to constant
# targets that may or may not be JUMPDESTs, and gas limits that stop some of them early.
FUZZ_OPS = [
    *[bytes([op]) for op in (*BINARY, *UNARY)],
    b"\x50", b"\x5b", b"\x58", b"\x5a", b"\x5f", b"\x80", b"\x81", b"\x90", b"\x91",
    b"\x84", b"\x8f", b"\x94", b"\x9f", b"\x5f" * 8,
    b"\x51", b"\x52", b"\x54", b"\x55", b"\x20", b"\x00", b"\xfe", b"\x0a", b"\x1d",
]


@st.composite
def programs(draw: st.DrawFn) -> bytes:
    pieces = draw(
        st.lists(
            st.one_of(
                st.sampled_from(FUZZ_OPS),
                st.integers(0, 255).map(lambda v: bytes([0x60, v])),
                st.integers(0, 60).map(lambda t: bytes([0x60, t, 0x56])),
                st.integers(0, 60).map(lambda t: bytes([0x60, t, 0x57])),
            ),
            max_size=40,
        )
    )
    return b"".join(pieces)


@settings(max_examples=400, deadline=None)
@given(code=programs(), gas=st.integers(21_000, 120_000))
def test_random_programs(code: bytes, gas: int) -> None:
    assert_same(code, gas=gas)


def test_runs_split_at_jumpdests_and_gas_readers() -> None:
    code = bytes.fromhex("6001" "5a" "6002" "5b" "01" "56")
    starts = run_starts(code)
    assert [pc for pc in range(len(starts)) if starts[pc]] == [0, 3, 5, 8]
    first = decode_run(code, 0, CANCUN.static_gas)
    assert [i.op for i in first.instructions] == [0x60, 0x5A]
    assert first.static_gas == 5 and first.stack_growth == 2 and first.stack_needed == 0
    assert decode_run(code, 3, CANCUN.static_gas).end == 5
    last = decode_run(code, 5, CANCUN.static_gas)
    assert last.stack_needed == 2 and last.end == 8


def test_a_run_is_compiled_once_its_executions_have_paid_for_compiling() -> None:
    """Compiling costs time no gas pays for: a run waits for COMPILE_GAS of its own gas."""
    # JUMPDEST PUSH1 0 JUMP, forever (12 gas a turn), with a marker that makes the code unique.
    code = bytes.fromhex("5b600056") + b"compile-price"
    turn, needed = 12, COMPILE_GAS + COMPILE_GAS_PER_OPCODE * 3
    with hot_run(DEFAULT_HOT_RUN):
        send(fresh_state(code), gas=21_000 + turn * (needed // turn - 5))  # out of gas, short
        assert not program_for(code, ENV.schedule).compiled  # hot by count, not yet paid for
        send(fresh_state(code), gas=21_000 + turn * 10)  # pays the rest
        assert list(program_for(code, ENV.schedule).compiled) == [0]
    assert DEFAULT_HOT_RUN * turn < needed  # the count alone would have compiled it
