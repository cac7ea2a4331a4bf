"""vm.tracing: a traced run changes nothing, and each tracer shows what geth's shows.

A deterministic sample of GeneralStateTests runs traced and untraced: gas, output, logs and the
post-state root must agree. Then each tracer on hand-assembled code: the struct logger's fields
and options, callTracer's tree (a revert two calls deep with its reason, a precompile, logs,
onlyTopCall), prestateTracer with and without diffMode.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from brainchain.errors import ExecutionInterrupted, InvalidTransaction
from brainchain.state.account import Account
from brainchain.state.state import (
    State,
    get_account,
    set_account,
    set_code,
    set_storage,
    state_root,
)
from brainchain.types.transaction import (
    BLOB_TX_TYPE,
    TX_FEE_MARKET,
    Transaction,
    decode_transaction,
    sign_transaction,
)
from tests.fixtures import ETHEREUM_TESTS, load
from tests.vm.harness import CONTRACT, ENV, KEY, SENDER, fresh_state
from vm.conformance import FORK, block_environment, pre_state
from vm.tracing import (
    TracerConfigError,
    TraceTooLarge,
    TransactionTracer,
    make_tracer,
    trace_transaction,
)
from vm.tracing.struct_logger import StructLogger
from vm.transition import run_transaction

STATE_TESTS = ETHEREUM_TESTS / "GeneralStateTests"
SAMPLE_SIZE = 150
# Folders whose cases take seconds each; the sample skips them to stay fast.
SLOW = ("stTimeConsuming", "stQuadraticComplexityTest", "stMemoryStressTest", "stAttackTest")
TRACERS: tuple[tuple[str | None, dict[str, Any]], ...] = (
    (None, {}),
    ("callTracer", {"tracerConfig": {"withLog": True}}),
    ("prestateTracer", {"tracerConfig": {"diffMode": True}}),
)
GAS = 200_000
INTRINSIC = 21_000
B = bytes.fromhex("bb" * 20)
C = bytes.fromhex("cc" * 20)
IDENTITY = (4).to_bytes(20, "big")
ZERO_WORD = "00" * 32


def sample_cases() -> list[tuple[Path, dict[str, Any], dict[str, Any]]]:
    """One Cancun case from each of ~SAMPLE_SIZE fixture files spread evenly over the suite."""
    files = [
        path
        for path in sorted(STATE_TESTS.rglob("*.json"))
        if not any(part in SLOW for part in path.parts)
    ]
    stride = max(1, len(files) // SAMPLE_SIZE)
    cases = []
    for path in files[::stride]:
        for test in load(path).values():
            posts = [
                post
                for post in test["post"].get(FORK, [])
                if not post["txbytes"].startswith(f"0x{BLOB_TX_TYPE:02x}")
            ]
            if posts:
                cases.append((path, test, posts[0]))
                break
    return cases


def run_case(
    test: dict[str, Any], post: dict[str, Any], tracer: TransactionTracer | None
) -> tuple[object, ...]:
    """The case's receipt, output, error class and post-state root (or the refusal's class and
    the root), traced or not."""
    state = pre_state(test["pre"])
    block, hashes = block_environment(test["env"])
    tx = decode_transaction(bytes.fromhex(post["txbytes"].removeprefix("0x")))
    try:
        if tracer is None:
            result = run_transaction(state, block, tx, 0, hashes)
        else:
            tracer.begin(state, block, tx)
            result = run_transaction(state, replace(block, tracer=tracer), tx, 0, hashes)
            tracer.result(state, tx, result)
    except InvalidTransaction as exc:
        return type(exc), state_root(state)
    return result.receipt, result.output, type(result.error), state_root(state)


def test_a_traced_run_equals_an_untraced_one_on_state_tests() -> None:
    """Receipt (gas, status, logs), output and post-state of ~150 state-test transactions
    spread over the suite, each traced by one of the three tracers in turn."""
    cases = sample_cases()
    assert len(cases) >= SAMPLE_SIZE * 0.9
    failures, steps = [], 0
    for index, (path, test, post) in enumerate(cases):
        name, config = TRACERS[index % len(TRACERS)]
        tracer = make_tracer(name, config)
        plain = run_case(test, post, None)
        traced = run_case(test, post, tracer)
        if plain != traced:
            failures.append(f"{path.relative_to(STATE_TESTS)} ({name or 'struct logger'})")
        if isinstance(tracer, StructLogger):
            steps += len(tracer.logs)
    assert not failures, "traced runs differ:\n" + "\n".join(failures)
    assert steps > SAMPLE_SIZE  # the tracers did run


def signed(*, to: bytes | None = CONTRACT, gas: int = GAS, data: bytes = b"") -> Transaction:
    return sign_transaction(
        private_key=KEY,
        tx_type=TX_FEE_MARKET,
        chain_id=ENV.chain_id,
        nonce=0,
        gas=gas,
        to=to,
        value=0,
        data=data,
        max_fee_per_gas=100,
        max_priority_fee_per_gas=1,
    )


def trace(
    state: State, name: str | None, config: dict[str, Any], *, gas: int = GAS
) -> dict[str, Any]:
    return trace_transaction(state, ENV, signed(gas=gas), 0, [], make_tracer(name, config))


# PUSH1 2, PUSH1 3, ADD, PUSH1 0, SSTORE, PUSH1 0, SLOAD, STOP
ADD_STORE_LOAD = bytes.fromhex("6002600301600055600054" + "00")


def test_struct_logs_show_each_step_with_its_gas_stack_and_storage() -> None:
    result = trace(fresh_state(ADD_STORE_LOAD), None, {})
    assert result["gas"] == INTRINSIC + 3 * 5 + 22_100 + 100
    assert (result["failed"], result["returnValue"]) == (False, "")
    logs = result["structLogs"]
    assert [log["op"] for log in logs] == [
        "PUSH1", "PUSH1", "ADD", "PUSH1", "SSTORE", "PUSH1", "SLOAD", "STOP"
    ]  # fmt: skip
    assert [log["pc"] for log in logs] == [0, 2, 4, 5, 7, 8, 10, 11]
    assert [log["gasCost"] for log in logs] == [3, 3, 3, 3, 22_100, 3, 100, 0]
    assert logs[0]["gas"] == GAS - INTRINSIC
    for log, following in pairwise(logs):
        assert following["gas"] == log["gas"] - log["gasCost"]
    assert {log["depth"] for log in logs} == {1}
    assert logs[2]["stack"] == ["0x2", "0x3"]
    assert logs[4]["stack"] == ["0x5", "0x0"]
    stored = {ZERO_WORD: f"{5:064x}"}
    assert logs[4]["storage"] == stored
    assert logs[6]["storage"] == stored
    assert "storage" not in logs[5] and "memory" not in logs[0] and "error" not in logs[-1]


def test_struct_logger_options_drop_the_stack_and_storage_and_add_memory() -> None:
    bare = trace(fresh_state(ADD_STORE_LOAD), None, {"disableStack": True, "disableStorage": True})
    assert not any("stack" in log or "storage" in log for log in bare["structLogs"])
    # PUSH1 0xff, PUSH1 0, MSTORE, STOP
    result = trace(fresh_state(bytes.fromhex("60ff60005200")), None, {"enableMemory": True})
    memory = [log["memory"] for log in result["structLogs"]]
    assert memory == [[], [], [], [f"{0xFF:064x}"]]
    assert result["structLogs"][2]["gasCost"] == 3 + 3  # the word and memory growth


def test_a_failing_step_carries_its_error_and_its_cost() -> None:
    underflow = trace(fresh_state(bytes.fromhex("01")), None, {})
    assert underflow["failed"] and underflow["gas"] == GAS
    (step,) = underflow["structLogs"]
    assert (step["op"], step["gasCost"], step["error"]) == ("ADD", 0, "stack underflow")
    # PUSH1 0, SLOAD: a cold load (2,100) with 2,000 gas left reports what it would cost
    out_of_gas = trace(fresh_state(bytes.fromhex("600054")), None, {}, gas=INTRINSIC + 2_003)
    step = out_of_gas["structLogs"][-1]
    assert (step["op"], step["gas"], step["gasCost"]) == ("SLOAD", 2_000, 2_100)
    assert step["error"] == "out of gas"
    invalid = trace(fresh_state(bytes.fromhex("ef")), None, {})
    assert invalid["structLogs"][0]["error"] == "invalid opcode: opcode 0xef not defined"


# JUMPDEST, PUSH1 0, JUMP: loops until the gas runs out, all in one frame
LOOP = bytes.fromhex("5b600056")


def test_a_struct_log_past_the_node_bound_fails_and_a_limit_truncates() -> None:
    tracer = make_tracer(None, {}, max_entries=100)
    with pytest.raises(TraceTooLarge, match="exceeds 100 struct logs"):
        trace_transaction(fresh_state(LOOP), ENV, signed(), 0, [], tracer)
    truncated = trace(fresh_state(LOOP), None, {"limit": 10})
    assert len(truncated["structLogs"]) == 10 and truncated["failed"]  # out of gas at the end


def test_a_traced_frame_checks_its_time_limit_as_it_runs() -> None:
    checks = 0

    def interrupt() -> None:
        nonlocal checks
        checks += 1
        if checks == 3:
            raise ExecutionInterrupted(1.0)

    env = replace(ENV, check_interrupt=interrupt)
    tracer = make_tracer("callTracer", {})
    with pytest.raises(ExecutionInterrupted):
        trace_transaction(fresh_state(LOOP), env, signed(), 0, [], tracer)
    assert checks == 3  # one at the frame's start, then within the one frame


def revert_with(reason: bytes) -> bytes:
    """Code that reverts with Error(reason) (at most 32 bytes), copied from its own tail."""
    data = bytes.fromhex("08c379a0") + (32).to_bytes(32, "big") + len(reason).to_bytes(32, "big")
    data += reason.ljust(32, b"\0")
    size = len(data).to_bytes(1, "big")
    # PUSH1 size, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 size, PUSH1 0, REVERT
    return (
        b"\x60"
        + size
        + bytes.fromhex("600c600039")
        + b"\x60"
        + size
        + bytes.fromhex("6000fd")
        + data
    )


def call(op: int, to: bytes, value: bool = True) -> bytes:
    """PUSH1 0 x4 (out/in ranges), [PUSH1 0 (value)], PUSH20 to, GAS, op, POP."""
    return bytes.fromhex("6000" * (5 if value else 4)) + b"\x73" + to + bytes((0x5A, op, 0x50))


CALL, STATICCALL = 0xF1, 0xFA
# B: LOG0, call C, copy C's return data and revert with it (the revert bubbles up).
B_CODE = bytes.fromhex("60006000a0") + call(CALL, C)[:-1] + bytes.fromhex("503d600060003e3d6000fd")
# A (the contract the transaction calls): call B (which fails), call the identity
# precompile, emit LOG1 (topic 1), stop.
A_CODE = call(CALL, B) + call(STATICCALL, IDENTITY, value=False) + bytes.fromhex("600160006000a100")


def call_chain() -> State:
    state = fresh_state(A_CODE)
    for address, code in ((B, B_CODE), (C, revert_with(b"deep"))):
        set_account(state, address, Account(nonce=1))
        set_code(state, address, code)
    return state


def test_call_tracer_shows_a_revert_deep_in_the_chain_with_its_reason() -> None:
    top = trace(call_chain(), "callTracer", {"tracerConfig": {"withLog": True}})
    assert top["type"] == "CALL" and "error" not in top
    assert (top["from"], top["to"]) == ("0x" + SENDER.hex(), "0x" + CONTRACT.hex())
    assert (top["gas"], top["value"], top["input"]) == (hex(GAS), "0x0", "0x")
    b_frame, identity = top["calls"]
    assert (b_frame["type"], b_frame["to"], b_frame["error"]) == (
        "CALL",
        "0x" + B.hex(),
        "execution reverted",
    )
    assert b_frame["revertReason"] == "deep"
    assert "logs" not in b_frame  # its LOG0 was undone with it
    (c_frame,) = b_frame["calls"]
    assert (c_frame["from"], c_frame["to"], c_frame["revertReason"]) == (
        "0x" + B.hex(),
        "0x" + C.hex(),
        "deep",
    )
    assert c_frame["output"] == b_frame["output"]
    assert int(c_frame["gasUsed"], 16) < int(b_frame["gasUsed"], 16) < int(b_frame["gas"], 16)
    assert identity["type"] == "STATICCALL" and "value" not in identity
    assert identity["to"] == "0x" + IDENTITY.hex() and "calls" not in identity
    (log,) = top["logs"]
    assert log == {
        "address": "0x" + CONTRACT.hex(),
        "topics": ["0x" + f"{1:064x}"],
        "data": "0x",
        "position": "0x2",
    }
    state = call_chain()
    receipt = run_transaction(state, ENV, signed(), 0, []).receipt
    assert int(top["gasUsed"], 16) == receipt.gas_used


def test_call_tracer_options_only_top_call_and_no_logs() -> None:
    top = trace(call_chain(), "callTracer", {"tracerConfig": {"onlyTopCall": True}})
    assert "calls" not in top and "logs" not in top and top["to"] == "0x" + CONTRACT.hex()


def test_struct_logs_of_the_chain_descend_and_skip_the_precompile() -> None:
    logs = trace(call_chain(), None, {"disableStack": True})["structLogs"]
    depths = [log["depth"] for log in logs]
    assert max(depths) == 3 and depths[0] == 1 and depths[-1] == 1
    reverts = [log for log in logs if log["op"] == "REVERT"]
    assert [log["depth"] for log in reverts] == [3, 2]
    static = next(i for i, log in enumerate(logs) if log["op"] == "STATICCALL")
    assert logs[static + 1]["depth"] == 1  # the identity precompile ran no steps
    first_call = logs[next(i for i, log in enumerate(logs) if log["op"] == "CALL")]
    # the CALL's cost holds the 63/64 of the gas left it hands to B (EIP-150)
    handed = first_call["gas"] - 2_600
    assert first_call["gasCost"] == 2_600 + handed - handed // 64


def test_prestate_tracer_shows_touched_accounts_before_the_transaction() -> None:
    state = fresh_state(ADD_STORE_LOAD)
    set_storage(state, CONTRACT, 0, 9)
    sender_balance = get_account(state, SENDER).balance
    pre = trace(state, "prestateTracer", {})
    assert pre["0x" + SENDER.hex()] == {"balance": hex(sender_balance)}
    contract = pre["0x" + CONTRACT.hex()]
    assert contract["nonce"] == 1 and contract["code"] == "0x" + ADD_STORE_LOAD.hex()
    assert contract["storage"] == {"0x" + ZERO_WORD: f"0x{9:064x}"}
    assert "0x" + ENV.proposer.hex() in pre


def test_prestate_diff_mode_shows_what_changed() -> None:
    state = fresh_state(ADD_STORE_LOAD)
    set_storage(state, CONTRACT, 0, 9)
    diff = trace(state, "prestateTracer", {"tracerConfig": {"diffMode": True}})
    contract = "0x" + CONTRACT.hex()
    assert diff["pre"][contract]["storage"] == {"0x" + ZERO_WORD: f"0x{9:064x}"}
    assert diff["post"][contract] == {"storage": {"0x" + ZERO_WORD: f"0x{5:064x}"}}
    sender = diff["post"]["0x" + SENDER.hex()]
    assert sender["nonce"] == 1 and int(sender["balance"], 16) < 10**20


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("4byteTracer", {}),
        (None, {"disableStack": "yes"}),
        (None, {"limit": -1}),
        ("callTracer", {"tracerConfig": {"onlyTopCall": 1}}),
        ("prestateTracer", {"tracerConfig": []}),
    ],
)
def test_unknown_tracers_and_bad_options_are_refused(
    name: str | None, config: dict[str, Any]
) -> None:
    with pytest.raises(TracerConfigError):
        make_tracer(name, config)


def test_an_invalid_transaction_propagates_and_changes_nothing() -> None:
    state = fresh_state(ADD_STORE_LOAD)
    root = state_root(state)
    with pytest.raises(InvalidTransaction):
        trace(state, None, {}, gas=INTRINSIC - 1)
    assert state_root(state) == root
