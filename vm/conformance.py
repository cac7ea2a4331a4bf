"""Run the Ethereum state tests (GeneralStateTests) for Cancun against this VM.

    python -m vm.conformance ../shared/ethereum-tests/GeneralStateTests [--workers N]

Every Cancun case (each data/gas/value index) is executed from its `pre` state; the post
state root and the logs hash must equal the fixture's, and a case with `expectException` must
be refused without changing the state. Blob transactions (EIP-4844) are skipped and counted,
by reason: this chain carries no blobs (the KZG point-evaluation precompile 0x0a, which takes
its commitment in its input, runs). The last line is `N passed, M failed, K skipped`.
Failures listed in a known-failures file are reported but do not fail the run; a listed case
that passes fails the run, so the list can only shrink.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brainchain.crypto.keccak import keccak256
from brainchain.errors import BrainchainError, InvalidTransaction
from brainchain.state.account import Account
from brainchain.state.state import State, set_account, set_code, set_storage, state_root
from brainchain.types.receipt import logs_hash
from brainchain.types.transaction import BLOB_TX_TYPE, decode_transaction
from vm.compiler import DEFAULT_HOT_RUN, set_hot_run
from vm.environment import BlockEnvironment
from vm.gas import BLOB_BASE_FEE_UPDATE_FRACTION, MIN_BLOB_GASPRICE
from vm.instructions.block import BLOCK_HASH_WINDOW
from vm.schedule import CANCUN
from vm.transition import run_transaction

FORK = "Cancun"
CHAIN_ID = 1  # the fixtures are filled for mainnet


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of one (file, test, data/gas/value index) case."""

    name: str
    status: str  # "passed", "failed" or "skipped"
    detail: str = ""


def fake_exponential(factor: int, numerator: int, denominator: int) -> int:
    """EIP-4844's integer approximation of factor * e ** (numerator / denominator)."""
    i, output, accumulator = 1, 0, factor * denominator
    while accumulator > 0:
        output += accumulator
        accumulator = accumulator * numerator // (denominator * i)
        i += 1
    return output // denominator


def _int(value: str) -> int:
    return int(value, 16)


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def pre_state(pre: dict[str, Any]) -> State:
    """The fixture's pre-state in a fresh in-memory state."""
    state = State({})
    for address_hex, entry in pre.items():
        address = _bytes(address_hex)
        set_account(
            state, address, Account(nonce=_int(entry["nonce"]), balance=_int(entry["balance"]))
        )
        code = _bytes(entry.get("code", "0x"))
        if code:
            set_code(state, address, code)
        for key, value in entry.get("storage", {}).items():
            if _int(value):
                set_storage(state, address, _int(key), _int(value))
    return state


def block_environment(env: dict[str, Any]) -> tuple[BlockEnvironment, list[bytes]]:
    """The block the case runs in, and BLOCKHASH's answers (keccak of the decimal number)."""
    height = _int(env["currentNumber"])
    randomness = _bytes(env.get("currentRandom", "0x" + "00" * 32)).rjust(32, b"\x00")
    block = BlockEnvironment(
        chain_id=CHAIN_ID,
        height=height,
        timestamp=_int(env["currentTimestamp"]),
        proposer=_bytes(env["currentCoinbase"]),
        gas_limit=_int(env["currentGasLimit"]),
        base_fee=_int(env.get("currentBaseFee", "0x0")),
        randomness=randomness,
        blob_base_fee=fake_exponential(
            MIN_BLOB_GASPRICE,
            _int(env.get("currentExcessBlobGas", "0x0")),
            BLOB_BASE_FEE_UPDATE_FRACTION,
        ),
        brain_precompiles=False,  # Ethereum has no BRAIN precompiles at 0x…0b01–0b05
        schedule=CANCUN,
    )
    first = max(0, height - BLOCK_HASH_WINDOW)
    hashes = [keccak256(str(n).encode()) for n in range(first, height)]
    return block, hashes


def run_case(name: str, test: dict[str, Any], post: dict[str, Any]) -> CaseResult:
    """Execute one indexed case and compare its post state root and logs hash."""
    raw = _bytes(post["txbytes"])
    if raw[:1] == bytes((BLOB_TX_TYPE,)):
        return CaseResult(name, "skipped", "blob transaction (EIP-4844): no blobs on this chain")
    state = pre_state(test["pre"])
    block, hashes = block_environment(test["env"])
    expect_exception = post.get("expectException")
    logs: tuple[Any, ...] = ()
    try:
        tx = decode_transaction(raw)
        if tx.chain_id not in (None, CHAIN_ID):
            raise InvalidTransaction(f"chain id {tx.chain_id}")
        logs = run_transaction(state, block, tx, 0, hashes).receipt.logs
    except BrainchainError as exc:
        if not expect_exception:
            return CaseResult(name, "failed", f"transaction refused: {exc}")
    else:
        if expect_exception:
            return CaseResult(name, "failed", f"accepted, fixture expects {expect_exception}")
    root = state_root(state)
    if root != _bytes(post["hash"]):
        return CaseResult(name, "failed", f"state root 0x{root.hex()} != {post['hash']}")
    if logs_hash(logs) != _bytes(post["logs"]):
        return CaseResult(name, "failed", f"logs hash 0x{logs_hash(logs).hex()} != {post['logs']}")
    return CaseResult(name, "passed")


class CaseTimeout(Exception):
    """A case ran past the per-case time limit."""


def _on_alarm(signum: int, frame: object) -> None:
    raise CaseTimeout()


def run_file(
    path: str, case_timeout_s: float = 0, hot_run: int | None = DEFAULT_HOT_RUN
) -> list[CaseResult]:
    """Every Cancun case in one fixture file; an unexpected error fails the case, never the run."""
    set_hot_run(hot_run)
    results = []
    for test_name, test in json.loads(Path(path).read_text(encoding="utf-8")).items():
        for post in test.get("post", {}).get(FORK, []):
            idx = post["indexes"]
            name = f"{Path(path).name}::{test_name}[d{idx['data']},g{idx['gas']},v{idx['value']}]"
            if case_timeout_s:
                signal.signal(signal.SIGALRM, _on_alarm)
                signal.setitimer(signal.ITIMER_REAL, case_timeout_s)
            try:
                results.append(run_case(name, test, post))
            except CaseTimeout:
                results.append(CaseResult(name, "failed", f"timed out after {case_timeout_s:g}s"))
            except Exception as exc:  # boundary: a VM bug is a failed case, reported by name
                results.append(CaseResult(name, "failed", f"{type(exc).__name__}: {exc}"))
            finally:
                if case_timeout_s:
                    signal.setitimer(signal.ITIMER_REAL, 0)
    return results


def fixture_files(root: Path) -> list[str]:
    return [str(root)] if root.is_file() else sorted(str(p) for p in root.rglob("*.json"))


def run_all(
    root: Path, workers: int, case_timeout_s: float = 0, hot_run: int | None = DEFAULT_HOT_RUN
) -> Iterator[CaseResult]:
    files = fixture_files(root)
    if workers <= 1:
        for path in files:
            yield from run_file(path, case_timeout_s, hot_run)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        # Largest files first, so one slow file does not finish last and alone.
        files.sort(key=lambda f: -Path(f).stat().st_size)
        futures = [pool.submit(run_file, path, case_timeout_s, hot_run) for path in files]
        for future in as_completed(futures):
            yield from future.result()


def _hot_run(text: str) -> int | None:
    """`--hot-run`: a count, or `default`, or `never` (argparse reports a ValueError)."""
    if text == "never":
        return None
    return DEFAULT_HOT_RUN if text == "default" else int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run GeneralStateTests (Cancun) on this VM.")
    parser.add_argument("path", type=Path, help="a GeneralStateTests folder or file")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes")
    parser.add_argument("--known-failures", type=Path, help="file of case names allowed to fail")
    parser.add_argument(
        "--case-timeout", type=float, default=0, help="seconds per case before it fails (0: none)"
    )
    parser.add_argument(
        "--hot-run",
        type=_hot_run,
        default=DEFAULT_HOT_RUN,
        help="executions before a run is compiled: a count (0: at once), 'default' or 'never'",
    )
    args = parser.parse_args(argv)
    if not args.path.exists():
        print(f"error: {args.path} does not exist", file=sys.stderr)
        return 2
    known: set[str] = set()
    if args.known_failures:
        lines = args.known_failures.read_text(encoding="utf-8").splitlines()
        known = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    counts: Counter[str] = Counter()
    skip_reasons: Counter[str] = Counter()
    unexpected, now_passing = [], []
    for result in run_all(args.path, args.workers, args.case_timeout, args.hot_run):
        counts[result.status] += 1
        if result.status == "skipped":
            skip_reasons[result.detail] += 1
        elif result.status == "failed":
            print(f"FAILED {result.name}: {result.detail}")
            if result.name not in known:
                unexpected.append(result.name)
        elif result.name in known:
            now_passing.append(result.name)
    for reason, count in sorted(skip_reasons.items()):
        print(f"skipped {count}: {reason}")
    if args.known_failures:
        print(f"{len(unexpected)} failures not in {args.known_failures}")
        for name in now_passing:
            print(f"NOW PASSING (remove from the known-failures list): {name}")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if unexpected or now_passing else 0


if __name__ == "__main__":
    sys.exit(main())
