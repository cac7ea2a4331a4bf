"""EIP-3155 traces of state-test transactions from the executable specification.

    .venv-spec/bin/python tests/vm/spec_trace.py < cases.json > traces.json

Runs under ethereum-execution's own interpreter (its venv, .venv-spec), never ours: it must not
import brainchain or vm. Input: a JSON list of cases, each `{"name", "env", "alloc", "txbytes"}`
in the t8n tool's input formats (the state test's `env` plus `blockHashes` and `withdrawals`,
its `pre` as `alloc`, the Cancun post entry's `txbytes`). Output: a JSON object mapping each
name to `{"steps": [...], "final": {...} | null, "rejected": str | null}`, where `steps` are the
EIP-3155 lines the spec's `Eip3155Tracer` writes (pc, op, gas, gasCost, depth, stack, ...)
and `final` its closing `{output, gasUsed, error}` line.

Each case goes through the spec's t8n tool in state-test mode (`T8N.run_state_test`: one
transaction on the pre-state, no system calls), as its `evm statetest --json` does
(ethereum_spec_tools/evm_tools/statetest `run_test_case`), but with the raw transaction and
the caller's block hashes, so both VMs see the same block.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from ethereum_rlp import rlp
from ethereum_spec_tools.evm_tools import create_parser
from ethereum_spec_tools.evm_tools.t8n import T8N, ForkCache

FORK = "Cancun"
FIRST_TYPED_BYTE = 0xC0  # EIP-2718: a legacy transaction is an RLP list, >= 0xc0


def _txs_rlp(txbytes: str) -> str:
    """The t8n tool's RLP form of a one-transaction list (a typed one rides as a byte string)."""
    raw = bytes.fromhex(txbytes.removeprefix("0x"))
    item = rlp.decode(raw) if raw[0] >= FIRST_TYPED_BYTE else raw
    return "0x" + rlp.encode([item]).hex()


def trace_case(case: dict[str, Any], options: Any, forks: ForkCache) -> dict[str, Any]:
    """Run one case under the Eip3155Tracer and collect the lines it writes."""
    trace_out = io.StringIO()
    options.output_basedir = trace_out
    t8n_input = {"env": case["env"], "alloc": case["alloc"], "txs": _txs_rlp(case["txbytes"])}
    t8n = T8N(options, io.StringIO(), io.StringIO(json.dumps(t8n_input)), forks)
    t8n.run_state_test()
    lines = [json.loads(line) for line in trace_out.getvalue().splitlines()]
    final = lines.pop() if lines and "gasUsed" in lines[-1] and "pc" not in lines[-1] else None
    rejected = t8n.txs.rejected_txs.get(0)
    return {"steps": lines, "final": final, "rejected": rejected}


def main() -> int:
    cases = json.load(sys.stdin)
    options = create_parser().parse_args(
        [
            "t8n",
            "--input.alloc=stdin",
            "--input.env=stdin",
            "--input.txs=stdin",
            f"--state.fork={FORK}",
            "--state-test",
            "--trace",
            "--trace.nomemory",
            "--trace.noreturndata",
        ]
    )
    with ForkCache() as forks:
        traces = {case["name"]: trace_case(case, options, forks) for case in cases}
    json.dump(traces, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
