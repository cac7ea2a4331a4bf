"""debug_trace* on a real node: a Solidity call chain that reverts deep down, debugged from its
transaction hash through web3.py's raw requests, as Foundry, Hardhat and explorers do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from hexbytes import HexBytes
from web3 import Web3
from web3.types import RPCEndpoint

from brainchain.crypto.keccak import keccak256
from genesis.devnet import DEV_ACCOUNTS
from node.rpc.debug import parse_duration
from node.rpc.errors import RpcError
from tests.node.harness import dev_home, running
from tests.node.solc import Compiled, compile_solidity

OWNER = Account.from_key(DEV_ACCOUNTS[0].private_key)
GWEI = 10**9
GAS = 300_000
ERROR_STRING = keccak256(b"Error(string)")[:4].hex()
TOO_LARGE = keccak256(b"TooLarge(uint256,uint256)")[:4].hex()


@dataclass
class Debuggee:
    """The deployed Outer → Middle → Inner chain and the transactions sent to it."""

    w3: Web3
    contracts: dict[str, Compiled]
    outer: str
    middle: str
    inner: str
    first: dict[str, Any]  # run(5), alone in its block
    batch: list[dict[str, Any]]  # run(6), run(13), run(200): one block, in this order

    def calldata(self, name: str, function: str, *args: Any) -> str:
        contract = self.w3.eth.contract(abi=self.contracts[name].abi)
        return str(contract.encode_abi(function, list(args)))

    def debug(self, method: str, *params: Any) -> Any:
        """The result of a raw request; fails the test on an error answer."""
        answer = self.w3.provider.make_request(RPCEndpoint(method), list(params))
        assert "error" not in answer, answer
        return answer["result"]

    def debug_error(self, method: str, *params: Any) -> tuple[int, str]:
        answer = self.w3.provider.make_request(RPCEndpoint(method), list(params))
        assert "error" in answer, answer
        return answer["error"]["code"], answer["error"]["message"]


def _signed(w3: Web3, nonce: int, to: str | None, data: str) -> bytes:
    """A dev account's transaction, with its gas set: a failing one is mined, not estimated."""
    fields: dict[str, Any] = {
        "type": 2,
        "nonce": nonce,
        "maxFeePerGas": 50 * GWEI,
        "maxPriorityFeePerGas": GWEI,
        "gas": 3_000_000 if to is None else GAS,
        "value": 0,
        "chainId": w3.eth.chain_id,
        "data": data,
    }
    if to is not None:
        fields["to"] = to
    return bytes(OWNER.sign_transaction(fields).raw_transaction)


def _receipt(w3: Web3, tx_hash: HexBytes) -> dict[str, Any]:
    return dict(w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05))


@pytest.fixture(scope="module")
def debuggee(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Debuggee]:
    with running(dev_home(tmp_path_factory.mktemp("debug"))) as proc:
        w3 = Web3(Web3.HTTPProvider(proc.url))
        contracts = compile_solidity("Debuggee.sol")
        nonce = w3.eth.get_transaction_count(OWNER.address)
        deploy = _signed(w3, nonce, None, "0x" + contracts["Outer"].bytecode.hex())
        deployed = _receipt(w3, w3.eth.send_raw_transaction(deploy))
        assert deployed["status"] == 1, deployed
        outer = w3.eth.contract(address=deployed["contractAddress"], abi=contracts["Outer"].abi)
        middle = w3.eth.contract(
            address=outer.functions.middle().call(), abi=contracts["Middle"].abi
        )
        inner = middle.functions.inner().call()
        found = Debuggee(w3, contracts, outer.address, middle.address, inner, {}, [])
        run = [found.calldata("Outer", "run", value) for value in (5, 6, 13, 200)]
        found.first = _receipt(
            w3, w3.eth.send_raw_transaction(_signed(w3, nonce + 1, outer.address, run[0]))
        )
        # The later nonces wait in the pool until the first arrives: one block holds all three.
        raws = [_signed(w3, nonce + 2 + i, outer.address, data) for i, data in enumerate(run[1:])]
        hashes = [w3.eth.send_raw_transaction(raw) for raw in reversed(raws)][::-1]
        found.batch = [_receipt(w3, tx_hash) for tx_hash in hashes]
        assert [r["status"] for r in found.batch] == [1, 0, 0]
        assert len({r["blockNumber"] for r in found.batch}) == 1
        assert [r["transactionIndex"] for r in found.batch] == [0, 1, 2]
        yield found


def _hash(receipt: dict[str, Any]) -> str:
    return "0x" + bytes(receipt["transactionHash"]).hex()


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def test_call_tracer_shows_the_deep_revert_at_its_depth(debuggee: Debuggee) -> None:
    failed = debuggee.batch[1]
    top = debuggee.debug("debug_traceTransaction", _hash(failed), {"tracer": "callTracer"})
    assert top["type"] == "CALL"
    assert _same(top["from"], OWNER.address) and _same(top["to"], debuggee.outer)
    assert int(top["gasUsed"], 16) == failed["gasUsed"]
    (relay,) = top["calls"]
    assert relay["type"] == "CALL" and _same(relay["to"], debuggee.middle)
    assert _same(relay["from"], debuggee.outer)
    (check,) = relay["calls"]
    assert check["type"] == "CALL" and _same(check["to"], debuggee.inner)
    assert "calls" not in check
    assert check["input"] == debuggee.calldata("Inner", "check", 13)
    for frame in (top, relay, check):  # Solidity bubbles the revert up unchanged
        assert frame["error"] == "execution reverted"
        assert frame["revertReason"] == "unlucky number"
        assert frame["output"].startswith("0x" + ERROR_STRING)


def test_call_tracer_keeps_a_custom_error_undecoded(debuggee: Debuggee) -> None:
    failed = debuggee.batch[2]
    top = debuggee.debug("debug_traceTransaction", _hash(failed), {"tracer": "callTracer"})
    check = top["calls"][0]["calls"][0]
    assert check["error"] == "execution reverted" and "revertReason" not in check
    assert check["output"] == "0x" + TOO_LARGE + f"{200:064x}{100:064x}"


def test_call_tracer_options(debuggee: Debuggee) -> None:
    tx_hash = _hash(debuggee.batch[0])
    config = {"tracer": "callTracer", "tracerConfig": {"withLog": True}}
    top = debuggee.debug("debug_traceTransaction", tx_hash, config)
    relay = top["calls"][0]
    (log,) = relay["logs"]
    assert _same(log["address"], debuggee.middle)
    assert log["topics"] == ["0x" + keccak256(b"Relayed(uint256)").hex()]
    assert "error" not in top and "logs" not in top
    config = {"tracer": "callTracer", "tracerConfig": {"onlyTopCall": True}}
    assert "calls" not in debuggee.debug("debug_traceTransaction", tx_hash, config)


def test_struct_logs_show_the_revert_step_at_its_depth(debuggee: Debuggee) -> None:
    failed = debuggee.batch[1]
    trace = debuggee.debug("debug_traceTransaction", _hash(failed))
    assert trace["failed"] is True
    assert trace["gas"] == failed["gasUsed"]
    assert ERROR_STRING in trace["returnValue"]
    steps = trace["structLogs"]
    assert steps[0]["depth"] == 1 and steps[0]["pc"] == 0
    calls = [s["depth"] for s in steps if s["op"] == "CALL"]
    assert calls == [1, 2]
    reverts = [s["depth"] for s in steps if s["op"] == "REVERT"]
    assert reverts == [3, 2, 1]  # Inner's require, then each caller bubbling it up
    first_revert = next(s for s in steps if s["op"] == "REVERT")
    assert all(isinstance(word, str) and word.startswith("0x") for word in first_revert["stack"])
    assert "memory" not in first_revert


def test_struct_log_options(debuggee: Debuggee) -> None:
    config = {"disableStack": True, "enableMemory": True}
    trace = debuggee.debug("debug_traceTransaction", _hash(debuggee.batch[1]), config)
    steps = trace["structLogs"]
    assert all("stack" not in s for s in steps)
    revert = next(s for s in steps if s["op"] == "REVERT")
    assert any(ERROR_STRING in word for word in revert["memory"])


def test_earlier_transactions_of_the_block_run_first(debuggee: Debuggee) -> None:
    """run(13) follows run(6) in its block: its nonce and state are only right after it."""
    for receipt in debuggee.batch:
        trace = debuggee.debug("debug_traceTransaction", _hash(receipt))
        assert trace["gas"] == receipt["gasUsed"]
        assert trace["failed"] is (receipt["status"] == 0)


def test_prestate_is_the_parent_state(debuggee: Debuggee) -> None:
    """run(6) opens its block: the prestate holds Outer's total as run(5) left it."""
    config = {"tracer": "prestateTracer"}
    pre = debuggee.debug("debug_traceTransaction", _hash(debuggee.batch[0]), config)
    slot0 = "0x" + "00" * 32
    assert int(pre[debuggee.outer.lower()]["storage"][slot0], 16) == 11  # run(5): 5 * 2 + 1
    assert int(pre[debuggee.inner.lower()]["storage"][slot0], 16) == 5
    sent = debuggee.w3.eth.get_transaction(debuggee.batch[0]["transactionHash"])
    assert pre[OWNER.address.lower()]["nonce"] == sent["nonce"]


def test_trace_block_by_number_and_by_hash(debuggee: Debuggee) -> None:
    block = debuggee.w3.eth.get_block(debuggee.batch[0]["blockNumber"])
    by_number = debuggee.debug("debug_traceBlockByNumber", hex(block["number"]))
    by_hash = debuggee.debug("debug_traceBlockByHash", "0x" + bytes(block["hash"]).hex())
    assert by_number == by_hash
    assert [entry["txHash"] for entry in by_number] == [_hash(r) for r in debuggee.batch]
    assert [entry["result"]["gas"] for entry in by_number] == [r["gasUsed"] for r in debuggee.batch]
    calls = debuggee.debug(
        "debug_traceBlockByHash", "0x" + bytes(block["hash"]).hex(), {"tracer": "callTracer"}
    )
    assert [entry["result"].get("revertReason") for entry in calls] == [
        None,
        "unlucky number",
        None,
    ]
    first = debuggee.debug("debug_traceBlockByNumber", hex(debuggee.first["blockNumber"]))
    assert [entry["txHash"] for entry in first] == [_hash(debuggee.first)]


def test_trace_call(debuggee: Debuggee) -> None:
    call = {
        "from": OWNER.address,
        "to": debuggee.outer,
        "input": debuggee.calldata("Outer", "run", 13),
    }
    top = debuggee.debug("debug_traceCall", call, "latest", {"tracer": "callTracer"})
    check = top["calls"][0]["calls"][0]
    assert _same(check["to"], debuggee.inner) and check["revertReason"] == "unlucky number"
    # Inner.last() as of each block: state at the block asked for, not the head's.
    last = {"to": debuggee.inner, "input": debuggee.calldata("Inner", "last")}
    before = debuggee.debug("debug_traceCall", last, hex(debuggee.first["blockNumber"] - 1))
    after_first = debuggee.debug("debug_traceCall", last, hex(debuggee.first["blockNumber"]))
    latest = debuggee.debug("debug_traceCall", last, "latest")
    assert [int(t["returnValue"] or "0", 16) for t in (before, after_first, latest)] == [0, 5, 6]
    assert latest["failed"] is False and latest["structLogs"][-1]["op"] == "RETURN"


def test_trace_call_with_overrides(debuggee: Debuggee) -> None:
    last = {"to": debuggee.inner, "input": debuggee.calldata("Inner", "last")}
    slot0 = "0x" + "00" * 32
    config: dict[str, Any] = {
        "stateOverrides": {debuggee.inner: {"stateDiff": {slot0: f"0x{42:064x}"}}}
    }
    assert int(debuggee.debug("debug_traceCall", last, "latest", config)["returnValue"], 16) == 42
    # The override lived in that call's throwaway state only.
    assert int(debuggee.debug("debug_traceCall", last, "latest")["returnValue"], 16) == 6
    # Code that returns NUMBER, at an empty address, in a block numbered as asked.
    anywhere = "0x" + "77" * 20
    config = {
        "stateOverrides": {anywhere: {"code": "0x435f5260205ff3"}},
        "blockOverrides": {"number": hex(4660)},
    }
    number = debuggee.debug("debug_traceCall", {"to": anywhere}, "latest", config)
    assert int(number["returnValue"], 16) == 4660
    bad: dict[str, Any] = {"stateOverrides": {"0x12": {}}}
    assert debuggee.debug_error("debug_traceCall", last, "latest", bad)[0] == -32602


def test_errors_as_geth_gives_them(debuggee: Debuggee) -> None:
    err = debuggee.debug_error
    tx_hash = _hash(debuggee.batch[1])
    head = debuggee.w3.eth.block_number
    assert err("debug_traceTransaction", "0x" + "ab" * 32) == (-32000, "transaction not found")
    assert err("debug_traceBlockByNumber", hex(head + 1000)) == (
        -32000,
        f"block #{head + 1000} not found",
    )
    unknown = "0x" + "cd" * 32
    assert err("debug_traceBlockByHash", unknown) == (-32000, f"block {unknown} not found")
    assert err("debug_traceBlockByNumber", "0x0") == (-32000, "genesis is not traceable")
    assert err("debug_traceTransaction", tx_hash, {"tracer": "noSuchTracer"})[0] == -32602
    assert err("debug_traceTransaction", tx_hash, {"timeout": "soon"}) == (
        -32000,
        'time: invalid duration "soon"',
    )
    code, message = err("debug_traceTransaction", tx_hash, {"timeout": "1ns"})
    assert code == -32000 and "timeout" in message
    for params in ([], ["0x12"], [tx_hash, "callTracer"], [tx_hash, {"timeout": 5}]):
        assert err("debug_traceTransaction", *params)[0] == -32602, params
    assert err("debug_traceCall", {"to": debuggee.inner})[0] == -32602  # no block


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5s", 5.0), ("300ms", 0.3), ("1m30s", 90.0), (".5s", 0.5), ("1h", 3600.0), ("0", 0.0)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5", "s", "-1s", "1d", "", "5 s"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(RpcError, match="invalid duration"):
        parse_duration(text)
