"""Our struct logs equal the executable specification's EIP-3155 traces, step by step.

For a fixed sample of Cancun state-test transactions, this VM's struct logger
(`vm.tracing`, geth's default tracer) and ethereum-execution's own `Eip3155Tracer` (run by
tests/vm/spec_trace.py under the spec's interpreter, in its own venv .venv-spec, since
ethereum-execution pins coincurve < 21 and libp2p needs 21) must agree on pc, op, gas,
gasCost, depth and stack at every step; a failure names the case, the step and both steps.

Conventions (EIP-3155, where the spec and geth spell things differently):
- op is compared as the opcode's byte: the spec names 0x20 KECCAK where geth prints
  KECCAK256, and writes an undefined opcode as its byte ("InvalidOpcode") where geth prints
  "opcode 0xef not defined"; the byte is what EIP-3155 calls `op`.
- gasCost of CALL-family steps includes the gas forwarded to the callee (without the 2300
  stipend) on both sides: the spec charges it in one `charge_gas` (cancun/vm/instructions/
  system.py `call`), geth adds `callGasTemp` to the step's dynamic cost. CREATE/CREATE2 do
  not include it on either side (the spec subtracts it without `charge_gas`, geth in
  `opCreate`). The comparison follows both as they agree.
- A step that fails for want of gas reports what it would have cost (the spec traces the
  amount before `charge_gas` raises; geth logs constant + dynamic cost before checking).
- Precompiles produce no step on either side (the spec's tracer drops its precompile traces),
  and code that runs off its end shows an implicit STOP step at pc = len(code) on both.
- The spec omits a gasCost above 64 bits from its JSON; geth's costs are uint64 (an overflow
  is an out-of-gas error), so such a step compares as "above 64 bits" on both sides.

The spec is plain Python without caches: the sample keeps to short traces (at most a few
thousand steps) across arithmetic, memory, calls, creates, reverts, out of gas,
precompiles, storage refunds, SELFDESTRUCT, transient storage, MCOPY and invalid opcodes,
and one subprocess traces the whole sample.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from brainchain.types.transaction import decode_transaction
from tests.fixtures import ETHEREUM_TESTS, load
from vm.conformance import FORK, block_environment, pre_state
from vm.tracing import make_tracer, trace_transaction
from vm.tracing.hooks import OP_NAMES

ROOT = Path(__file__).resolve().parents[2]
SPEC_PYTHON = ROOT / ".venv-spec" / "bin" / "python"
SPEC_SCRIPT = Path(__file__).with_name("spec_trace.py")
STATE_TESTS = ETHEREUM_TESTS / "GeneralStateTests"
SPEC_VENV_HINT = (
    "python3 -m venv .venv-spec && .venv-spec/bin/pip install ethereum-execution==2.20.0"
)
SPEC_TIMEOUT_S = 300
UINT64_MAX = 2**64 - 1
STACK_SHOWN = 6  # top-of-stack entries a failure message prints

FIELDS = ("pc", "op", "gas", "gasCost", "depth", "stack")
Step = tuple[int, int, int, int | None, int, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Case:
    """One state-test transaction: a fixture file and its Cancun data/gas/value indexes."""

    path: str
    data: int = 0
    gas: int = 0
    value: int = 0

    @property
    def name(self) -> str:
        return f"{self.path}[d{self.data},g{self.gas},v{self.value}]"


SAMPLE = (
    # arithmetic, bitwise, hashing, block and control flow
    Case("VMTests/vmArithmeticTest/exp.json", data=5),
    Case("VMTests/vmArithmeticTest/signextend.json", data=14),
    Case("VMTests/vmBitwiseLogicOperation/byte.json", data=9),
    Case("stShift/sar01.json"),
    Case("VMTests/vmTests/sha3.json", data=2),
    Case("VMTests/vmTests/blockInfo.json", data=1),
    Case("VMTests/vmIOandFlowOperations/jumpi.json", data=23),
    # memory expansion, copies and logs
    Case("stMemoryTest/mem32kb.json"),
    Case("stMemoryTest/codecopy_dejavu2.json"),
    Case("stMemoryTest/buffer.json", data=1),
    Case("VMTests/vmLogTest/log1.json", data=8),
    Case("stLogTests/log3_MaxTopic.json"),
    # calls: CALL, CALLCODE, DELEGATECALL, STATICCALL, the 63/64 rule
    Case("stCallCodes/callcall_00.json"),
    Case("stStaticCall/static_callBasic.json", data=2),
    Case("stStaticCall/static_callBasic.json", data=3),
    Case("stDelegatecallTestHomestead/delegatecallBasic.json"),
    Case("stEIP150Specific/CallAndCallcodeConsumeMoreGasThenTransactionHas.json"),
    # creates: CREATE, CREATE2, a creation transaction with an access list
    Case("stCreateTest/CREATE_EmptyContract.json"),
    Case("stCreateTest/CREATE_ContractSuicideDuringInit_WithValue.json"),
    Case("stCreateTest/CreateOOGafterInitCodeRevert.json"),
    Case("stCreate2/CREATE2_Suicide.json", data=1),
    Case("stEIP2930/manualCreate.json"),
    # reverts and return data
    Case("stRevertTest/RevertOpcode.json"),
    Case("stRevertTest/RevertInCallCode.json"),
    Case("stRevertTest/RevertOpcodeInCallsOnNonEmptyReturnData.json", data=1),
    Case("stReturnDataTest/returndatacopy_following_revert.json"),
    # exceptional halts: out of gas, stack underflow, out-of-bounds return data
    Case("stRevertTest/RevertOpcode.json", gas=1),
    Case("stRevertTest/RevertOpcodeInCallsOnNonEmptyReturnData.json", gas=1),
    Case("stMemoryTest/mload_dejavu.json"),
    Case("stCallCodes/callcall_00_OOGE.json"),
    Case("stRefundTest/refund_CallA_OOG.json"),
    Case("stRevertTest/RevertOnEmptyStack.json"),
    Case("stStackTests/underflowTest.json", data=1),
    Case("stReturnDataTest/returndatacopy_overrun.json"),
    # precompiles 0x01-0x05 and 0x09, one short of gas
    Case("stPreCompiledContracts2/CALLCODEEcrecover0.json"),
    Case("stPreCompiledContracts2/CALLCODESha256_1.json"),
    Case("stPreCompiledContracts2/CALLCODERipemd160_1.json"),
    Case("stPreCompiledContracts2/CALLCODEIdentity_4_gas17.json"),
    Case("stPreCompiledContracts/modexp.json"),
    Case("stPreCompiledContracts2/CALLBlake2f.json"),
    Case("stPreCompiledContracts2/CALLBlake2f.json", gas=1),
    # storage and refunds (EIP-2200, EIP-3529)
    Case("stRefundTest/refund50_1.json"),
    Case("stRefundTest/refundSSTORE.json"),
    Case("stSStoreTest/sstore_0toXto0.json"),
    Case("stSStoreTest/sstore_Xto0toX.json", data=2),
    # SELFDESTRUCT (EIP-6780)
    Case("stSystemOperationsTest/suicideSendEtherToMe.json"),
    Case("stRefundTest/refundSuicide50procentCap.json"),
    Case("stSystemOperationsTest/doubleSelfdestructTest.json", data=1),
    Case("stSystemOperationsTest/ABAcallsSuicide0.json"),
    # transient storage (EIP-1153)
    Case("Cancun/stEIP1153-transientStorage/17_tstoreGas.json"),
    Case("Cancun/stEIP1153-transientStorage/10_revertUndoesStoreAfterReturn.json"),
    Case("Cancun/stEIP1153-transientStorage/19_oogUndoesTransientStore.json"),
    Case("Cancun/stEIP1153-transientStorage/transStorageOK.json"),
    # MCOPY (EIP-5656)
    Case("Cancun/stEIP5656-MCOPY/MCOPY.json"),
    Case("Cancun/stEIP5656-MCOPY/MCOPY_memory_expansion_cost.json", data=14),
    Case("Cancun/stEIP5656-MCOPY/MCOPY_copy_cost.json", data=3),
    # INVALID (0xfe) and an undefined opcode (0xef), at depth 1 and in a callee
    Case("stBadOpcode/invalidDiffPlaces.json"),
    Case("stBadOpcode/invalidDiffPlaces.json", data=1),
    Case("stBadOpcode/opcEFDiffPlaces.json", data=1),
)


@dataclass(frozen=True, slots=True)
class Fixture:
    """A case's state test and its Cancun post entry."""

    test: dict[str, Any]
    post: dict[str, Any]


def load_case(case: Case) -> Fixture:
    """The state test in `case.path` whose Cancun post entry has the case's indexes."""
    wanted = {"data": case.data, "gas": case.gas, "value": case.value}
    for test in load(STATE_TESTS / case.path).values():
        for post in test["post"].get(FORK, []):
            if post["indexes"] == wanted:
                return Fixture(test, post)
    raise LookupError(f"{case.name}: no {FORK} post entry with indexes {wanted}")


def spec_input(case: Case, fixture: Fixture) -> dict[str, Any]:
    """The spec script's input: the t8n env with the block hashes our VM is given."""
    block, hashes = block_environment(fixture.test["env"])
    first = block.height - len(hashes)
    env = dict(fixture.test["env"])
    env["blockHashes"] = {hex(first + i): "0x" + h.hex() for i, h in enumerate(hashes)}
    env["withdrawals"] = []
    return {
        "name": case.name,
        "env": env,
        "alloc": fixture.test["pre"],
        "txbytes": fixture.post["txbytes"],
    }


def spec_step(line: dict[str, Any]) -> Step:
    """An Eip3155Tracer line as a Step; a gasCost it left out (above 64 bits) is None."""
    cost = line.get("gasCost")
    return (
        line["pc"],
        line["op"],
        int(line["gas"], 16),
        None if cost is None else int(cost, 16),
        line["depth"],
        tuple(int(word, 16) for word in line["stack"]),
    )


OPCODE_BYTES = {name: byte for byte, name in enumerate(OP_NAMES)}


def opcode_byte(name: str) -> int:
    """The byte of a mnemonic as our struct logger prints it (geth's names)."""
    return OPCODE_BYTES[name]


def our_step(log: dict[str, Any]) -> Step:
    """A struct-log entry as a Step; a gasCost above 64 bits compares as the spec's None."""
    cost = int(log["gasCost"])
    return (
        int(log["pc"]),
        opcode_byte(log["op"]),
        int(log["gas"]),
        None if cost > UINT64_MAX else cost,
        int(log["depth"]),
        tuple(int(word, 16) for word in log["stack"]),
    )


def our_trace(fixture: Fixture) -> list[Step]:
    """Our struct logs of the case's transaction, run as vm.conformance runs it."""
    state = pre_state(fixture.test["pre"])
    block, hashes = block_environment(fixture.test["env"])
    tx = decode_transaction(bytes.fromhex(fixture.post["txbytes"].removeprefix("0x")))
    result = trace_transaction(state, block, tx, 0, hashes, make_tracer(None, {}))
    return [our_step(log) for log in result["structLogs"]]


def show(step: Step) -> str:
    pc, op, gas, cost, depth, stack = step
    top = ", ".join(hex(word) for word in stack[-STACK_SHOWN:])
    more = f"{len(stack) - STACK_SHOWN} more, " if len(stack) > STACK_SHOWN else ""
    shown_cost = "above 64 bits" if cost is None else cost
    return f"pc={pc} op=0x{op:02x} gas={gas} gasCost={shown_cost} depth={depth} stack=[{more}{top}]"


def first_difference(ours: list[Step], spec: list[Step]) -> str | None:
    """Where two traces first part, naming the step, the fields and both steps; None if equal."""
    for index, (mine, theirs) in enumerate(zip(ours, spec, strict=False)):
        if mine != theirs:
            fields = ", ".join(f for f, a, b in zip(FIELDS, mine, theirs, strict=True) if a != b)
            return f"step {index}: {fields} differ\n  ours: {show(mine)}\n  spec: {show(theirs)}"
    if len(ours) == len(spec):
        return None
    index = min(len(ours), len(spec))
    extra = ours[index] if len(ours) > len(spec) else spec[index]
    side = "ours" if len(ours) > len(spec) else "spec"
    return (
        f"step {index}: ours has {len(ours)} steps, the spec {len(spec)}\n"
        f"  {side} goes on: {show(extra)}"
    )


@pytest.fixture(scope="module")
def spec_traces() -> dict[str, Any]:
    """The spec's EIP-3155 traces of the whole sample, from one spec subprocess."""
    if not SPEC_PYTHON.exists():
        pytest.skip(f"no executable-spec venv at {SPEC_PYTHON.parent.parent}: {SPEC_VENV_HINT}")
    cases = [spec_input(case, load_case(case)) for case in SAMPLE]
    done = subprocess.run(
        [str(SPEC_PYTHON), str(SPEC_SCRIPT)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=SPEC_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"{SPEC_SCRIPT.name} failed:\n{done.stderr[-4000:]}"
    traces: dict[str, Any] = json.loads(done.stdout)
    return traces


def test_struct_logs_equal_the_spec_trace(spec_traces: dict[str, Any]) -> None:
    """Every sampled transaction traces the same, step by step, on both VMs."""
    failures = []
    for case in SAMPLE:
        spec = spec_traces[case.name]
        if spec["rejected"]:
            failures.append(f"{case.name}: the spec refused the transaction: {spec['rejected']}")
            continue
        difference = first_difference(
            our_trace(load_case(case)), [spec_step(line) for line in spec["steps"]]
        )
        if difference:
            failures.append(f"{case.name}: {difference}")
    assert not failures, f"{len(failures)} of {len(SAMPLE)} traces differ:\n" + "\n".join(failures)


def test_first_difference_names_step_fields_and_both_sides() -> None:
    """The report points at the first differing step, or at where one trace runs on."""
    step: Step = (0, 0x60, 100, 3, 1, ())
    later: Step = (2, 0x01, 97, 3, 1, (1, 2))
    assert first_difference([step, later], [step, later]) is None
    report = first_difference([step, later], [step, (2, 0x01, 97, 5, 1, (1, 3))])
    assert report is not None
    assert report.startswith("step 1: gasCost, stack differ")
    assert "ours: pc=2 op=0x01 gas=97 gasCost=3 depth=1 stack=[0x1, 0x2]" in report
    assert "spec: pc=2 op=0x01 gas=97 gasCost=5 depth=1 stack=[0x1, 0x3]" in report
    report = first_difference([step], [step, later])
    assert report is not None
    assert report.startswith("step 1: ours has 1 steps, the spec 2")
    assert "spec goes on: pc=2" in report
