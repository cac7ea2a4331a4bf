"""State/block overrides and the rest of the standard JSON-RPC, against a real node process.

One node serves the module: eth_call/eth_estimateGas with geth's state and block overrides
(and that nothing persists), eth_createAccessList, eth_getBlockReceipts, transactions by block
and index, the pending-transaction filter, web3_sha3, and geth's error codes for bad params.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account

from brainchain.crypto.keccak import keccak256
from genesis.devnet import DEV_ACCOUNTS
from node.cli.client import RpcClient
from node.rpc.errors import INVALID_PARAMS, SERVER_ERROR
from tests.node.harness import (
    GWEI,
    RECIPIENT,
    dev_home,
    running,
    signed_transfer,
    wait_for_receipt,
)

SENDER = Account.from_key(DEV_ACCOUNTS[0].private_key)
EMPTY = "0x00000000000000000000000000000000000000e1"  # no code, no balance
OTHER = "0x00000000000000000000000000000000000000b2"
ETHER = 10**18
# Returns SLOAD(0) as one word: PUSH1 0 SLOAD PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN.
RETURN_SLOT0 = "60005460005260206000f3"
# Stores 7 at slot 0, then deploys RETURN_SLOT0 (11 bytes, copied from offset 17).
DEPLOY_SLOT0 = "6007600055" + "600b6011600039600b6000f3" + RETURN_SLOT0
# Calls OTHER with no data: 5 x PUSH1 0, PUSH20 OTHER, GAS, CALL, STOP.
CALL_OTHER = "6000600060006000600073" + OTHER[2:] + "5af100"
SLOAD_3 = "6003545000"  # PUSH1 3 SLOAD POP STOP


def word(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


def returning(opcode: str) -> str:
    """Code that returns one block-context opcode's value as a word."""
    return "0x" + opcode + "60005260206000f3"


class Rpc(RpcClient):
    """The harness's client, plus the whole answer, so tests can read error codes."""

    def answer(self, method: str, *params: Any) -> dict[str, Any]:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        request = urllib.request.Request(
            self.url, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    def error(self, method: str, *params: Any) -> tuple[int, str]:
        answer = self.answer(method, *params)
        assert "error" in answer, answer
        return answer["error"]["code"], answer["error"]["message"]


@pytest.fixture(scope="module")
def rpc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rpc]:
    with running(dev_home(tmp_path_factory.mktemp("overrides"))) as proc:
        yield Rpc(proc.url)


class Sender:
    """Signs and sends the dev account's transactions, counting its nonce."""

    def __init__(self, rpc: Rpc) -> None:
        self.rpc = rpc

    def send(self, fields: dict[str, Any]) -> dict[str, Any]:
        nonce = int(self.rpc.call("eth_getTransactionCount", SENDER.address, "pending"), 16)
        tx = {
            "type": 2, "nonce": nonce, "maxFeePerGas": 50 * GWEI,
            "maxPriorityFeePerGas": GWEI, "gas": 200_000, "value": 0, "chainId": 1337,
        }  # fmt: skip
        raw = bytes(SENDER.sign_transaction({**tx, **fields}).raw_transaction)
        return wait_for_receipt(self.rpc, self.rpc.call("eth_sendRawTransaction", "0x" + raw.hex()))


@pytest.fixture(scope="module")
def contract(rpc: Rpc) -> str:
    """A deployed contract whose slot 0 holds 7 and whose code returns slot 0."""
    receipt = Sender(rpc).send({"data": "0x" + DEPLOY_SLOT0})
    assert receipt["status"] == "0x1", receipt
    return str(receipt["contractAddress"])


# --- state overrides ----------------------------------------------------------------------


def test_call_result_follows_code_and_state_diff_overrides(rpc: Rpc, contract: str) -> None:
    call = {"to": EMPTY}
    assert rpc.call("eth_call", call, "latest") == "0x"  # no code there
    code = {EMPTY: {"code": "0x" + RETURN_SLOT0}}
    assert rpc.call("eth_call", call, "latest", code) == word(0)
    diff = {EMPTY: {"code": "0x" + RETURN_SLOT0, "stateDiff": {word(0): word(42)}}}
    assert rpc.call("eth_call", call, "latest", diff) == word(42)


def test_state_diff_patches_and_state_replaces_a_deployed_contracts_storage(
    rpc: Rpc, contract: str
) -> None:
    call = {"to": contract}
    assert rpc.call("eth_call", call, "latest") == word(7)
    patched = {contract: {"stateDiff": {word(0): word(9)}}}
    assert rpc.call("eth_call", call, "latest", patched) == word(9)
    replaced = {contract: {"state": {word(1): word(5)}}}  # slot 0 is not named: wiped
    assert rpc.call("eth_call", call, "latest", replaced) == word(0)
    # Overrides act on a throwaway copy: the chain still holds 7.
    assert rpc.call("eth_getStorageAt", contract, "0x0", "latest") == word(7)
    assert rpc.call("eth_call", call, "latest") == word(7)
    assert rpc.call("eth_getCode", EMPTY, "latest") == "0x"


def test_balance_and_nonce_overrides_are_seen_and_do_not_persist(rpc: Rpc) -> None:
    # BALANCE of OTHER: PUSH20 OTHER BALANCE PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN.
    reader = {"code": "0x73" + OTHER[2:] + "3160005260206000f3"}
    overrides = {EMPTY: reader, OTHER: {"balance": "0x2a", "nonce": "0x5"}}
    assert rpc.call("eth_call", {"to": EMPTY}, "latest", overrides) == word(42)
    assert rpc.call("eth_getBalance", OTHER, "latest") == "0x0"
    assert rpc.call("eth_getTransactionCount", OTHER, "latest") == "0x0"


def test_estimate_gas_with_a_balance_override(rpc: Rpc) -> None:
    transfer = {"from": EMPTY, "to": RECIPIENT, "value": hex(ETHER)}
    code, message = rpc.error("eth_estimateGas", transfer, "latest")
    assert code == SERVER_ERROR and "insufficient funds" in message
    funded = {EMPTY: {"balance": hex(2 * ETHER)}}
    assert rpc.call("eth_estimateGas", transfer, "latest", funded) == hex(21_000)
    assert rpc.call("eth_getBalance", EMPTY, "latest") == "0x0"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({EMPTY: {"state": {}, "stateDiff": {}}}, "has both 'state' and 'stateDiff'"),
        ({EMPTY: {"balance": "0xzz"}}, "invalid balance"),
        ({EMPTY: {"code": "0x123"}}, "invalid code"),
        ({EMPTY: {"stateDiff": {"0x0": word(1)}}}, "invalid stateDiff slot"),
        ({"0x12": {}}, "invalid state override address"),
    ],
)
def test_bad_state_overrides_answer_invalid_params(
    rpc: Rpc, overrides: dict[str, Any], expected: str
) -> None:
    code, message = rpc.error("eth_call", {"to": EMPTY}, "latest", overrides)
    assert code == INVALID_PARAMS and expected in message


# --- block overrides ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("opcode", "field", "value"),
    [
        ("43", "number", 0x1234),  # NUMBER
        ("42", "time", 1_900_000_000),  # TIMESTAMP
        ("45", "gasLimit", 12_345_678),  # GASLIMIT
        ("41", "feeRecipient", int(OTHER, 16)),  # COINBASE
        ("44", "prevRandao", 0xABCD),  # PREVRANDAO
        ("4a", "blobBaseFee", 77),  # BLOBBASEFEE
    ],
)
def test_block_overrides_reach_the_opcodes(rpc: Rpc, opcode: str, field: str, value: int) -> None:
    state = {EMPTY: {"code": returning(opcode)}}
    encoded = {
        "feeRecipient": OTHER,
        "prevRandao": word(value),
    }.get(field, hex(value))
    got = rpc.call(
        "eth_call", {"to": EMPTY, "gas": hex(1_000_000)}, "latest", state, {field: encoded}
    )
    assert got == word(value)
    assert rpc.call("eth_call", {"to": EMPTY}, "latest", state) != word(value)


def test_base_fee_override_applies_to_a_call_that_pays(rpc: Rpc) -> None:
    state = {EMPTY: {"code": returning("48")}, OTHER: {"balance": hex(ETHER)}}  # BASEFEE
    call = {"from": OTHER, "to": EMPTY, "gas": hex(100_000), "maxFeePerGas": hex(100 * GWEI)}
    got = rpc.call("eth_call", call, "latest", state, {"baseFeePerGas": hex(3 * GWEI)})
    assert got == word(3 * GWEI)
    code, message = rpc.error(
        "eth_call", {"to": EMPTY}, "latest", state, {"coinbase": OTHER}
    )  # geth's name is feeRecipient
    assert code == INVALID_PARAMS and "coinbase" in message


# --- eth_createAccessList -------------------------------------------------------------------


def test_create_access_list_names_what_the_call_touches(rpc: Rpc) -> None:
    caller = "0x00000000000000000000000000000000000000c3"
    state = {caller: {"code": "0x" + CALL_OTHER}, OTHER: {"code": "0x" + SLOAD_3}}
    call = {"from": SENDER.address, "to": caller, "gas": hex(1_000_000)}
    found = rpc.call("eth_createAccessList", call, "latest", state)
    assert found["accessList"] == [{"address": OTHER, "storageKeys": [word(3)]}]
    assert "error" not in found
    # The list pays off: with it, the call uses less gas than without (EIP-2930).
    assert int(found["gasUsed"], 16) > 21_000
    plain = int(rpc.call("eth_estimateGas", call, "latest", state), 16)
    listed = {**call, "accessList": found["accessList"]}
    assert int(rpc.call("eth_estimateGas", listed, "latest", state), 16) < plain


def test_create_access_list_reports_a_revert(rpc: Rpc) -> None:
    state = {EMPTY: {"code": "0x60006000fd"}}  # REVERT(0, 0)
    found = rpc.call("eth_createAccessList", {"to": EMPTY}, "latest", state)
    assert found["accessList"] == [] and found["error"] == "execution reverted"


# --- blocks, receipts, transactions ---------------------------------------------------------


def test_block_receipts_and_transactions_by_block_and_index(rpc: Rpc) -> None:
    receipt = Sender(rpc).send({"to": RECIPIENT, "value": 1, "gas": 21_000})
    number, block_hash = receipt["blockNumber"], receipt["blockHash"]
    index = receipt["transactionIndex"]
    receipts = rpc.call("eth_getBlockReceipts", number)
    assert receipts[int(index, 16)] == receipt
    assert rpc.call("eth_getBlockReceipts", block_hash) == receipts
    assert rpc.call("eth_getBlockReceipts", {"blockHash": block_hash}) == receipts
    assert rpc.call("eth_getBlockReceipts", "0x" + "00" * 32) is None
    assert rpc.call("eth_getBlockReceipts", "0xffffff") is None

    tx = rpc.call("eth_getTransactionByHash", receipt["transactionHash"])
    assert rpc.call("eth_getTransactionByBlockNumberAndIndex", number, index) == tx
    assert rpc.call("eth_getTransactionByBlockHashAndIndex", block_hash, index) == tx
    assert tx["blockHash"] == block_hash and tx["transactionIndex"] == index
    count = rpc.call("eth_getBlockTransactionCountByHash", block_hash)
    assert rpc.call("eth_getTransactionByBlockHashAndIndex", block_hash, count) is None
    assert rpc.call("eth_getTransactionByBlockNumberAndIndex", "0xffffff", "0x0") is None
    assert rpc.call("eth_getTransactionByBlockHashAndIndex", "0x" + "00" * 32, "0x0") is None
    code, _ = rpc.error("eth_getTransactionByBlockNumberAndIndex", number, "zz")
    assert code == INVALID_PARAMS


def test_pending_transaction_filter_reports_each_new_transaction_once(rpc: Rpc) -> None:
    filter_id = rpc.call("eth_newPendingTransactionFilter")
    assert rpc.call("eth_getFilterChanges", filter_id) == []
    nonce = int(rpc.call("eth_getTransactionCount", SENDER.address, "pending"), 16)
    first = rpc.call("eth_sendRawTransaction", signed_transfer(SENDER, nonce))
    assert rpc.call("eth_getFilterChanges", filter_id) == [first]  # pooled, or already committed
    second = rpc.call("eth_sendRawTransaction", signed_transfer(SENDER, nonce + 1))
    wait_for_receipt(rpc, second)
    assert rpc.call("eth_getFilterChanges", filter_id) == [second]  # committed since the last poll
    assert rpc.call("eth_getFilterChanges", filter_id) == []
    assert rpc.call("eth_uninstallFilter", filter_id) is True
    code, _ = rpc.error("eth_getFilterChanges", filter_id)
    assert code == INVALID_PARAMS


# --- web3_ and parameter errors -------------------------------------------------------------


def test_web3_sha3_and_client_version(rpc: Rpc) -> None:
    assert (
        rpc.call("web3_sha3", "0x68656c6c6f20776f726c64") == "0x" + keccak256(b"hello world").hex()
    )
    assert rpc.call("web3_sha3", "0x") == "0x" + keccak256(b"").hex()
    assert rpc.call("web3_clientVersion").startswith("brainchain/v")
    assert rpc.error("web3_sha3", "0x123")[0] == INVALID_PARAMS
    assert rpc.error("web3_sha3", "hello")[0] == INVALID_PARAMS
    assert rpc.error("web3_sha3")[0] == INVALID_PARAMS
    assert rpc.error("web3_clientVersion", "extra")[0] == INVALID_PARAMS


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("eth_call", []),
        ("eth_call", [{"to": EMPTY}, "latest", {}, {}, "extra"]),
        ("eth_estimateGas", [{"to": EMPTY}, "latest", {}, {}, "extra"]),
        ("eth_createAccessList", [{"to": EMPTY}, "latest", {}, {}]),
        ("eth_getBlockReceipts", []),
        ("eth_getBlockReceipts", ["0xzz"]),
        ("eth_getTransactionByBlockHashAndIndex", ["0x12", "0x0"]),
        ("eth_newPendingTransactionFilter", ["extra"]),
        ("eth_call", [{"to": EMPTY}, "latest", None, {"number": "12"}]),
    ],
)
def test_bad_params_answer_invalid_params(rpc: Rpc, method: str, params: list[Any]) -> None:
    assert rpc.error(method, *params)[0] == INVALID_PARAMS


def test_calls_past_the_head_answer_header_not_found(rpc: Rpc) -> None:
    for method in ("eth_call", "eth_estimateGas", "eth_createAccessList"):
        assert rpc.error(method, {"to": EMPTY}, "0xffffff") == (SERVER_ERROR, "header not found")
