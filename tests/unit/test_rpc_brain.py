"""brain_listModels and brain_getInference over the in-process RPC and a real LevelDB chain:
a genesis with tiny-gptj and validators whose account and VRF keys the test holds, requests,
commits with real VRF proofs, reveals, and the request as it reads through every phase."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient

from brainchain.crypto.address import to_checksum_address
from brainchain.crypto.keccak import keccak256
from node.chain import Chain
from node.rpc.errors import INVALID_PARAMS
from tests.unit.inference_net import (
    PARAMS,
    commit_tx,
    inference_net,
    mine,
    reveal_tx,
    weights,
)
from tests.unit.rpc_harness import call, serving
from tests.vm.inference_chain import MODEL, USER, USER_KEY, InferenceChain, request_call

PROMPT = "héllo"
OUTPUT = b"honest!!"
WRONG = b"liar!!!!"
MAX_TOKENS = len(OUTPUT)


@pytest_asyncio.fixture
async def net(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Chain, InferenceChain]]:
    async with inference_net(tmp_path / "data") as served:
        yield served


async def inference(client: TestClient, request_id: Any) -> Any:
    answer = await call(client, "brain_getInference", request_id)
    assert "error" not in answer, answer
    return answer["result"]


async def gas_of(client: TestClient, tx_hashes: list[str]) -> int:
    receipts = [(await call(client, "eth_getTransactionReceipt", h))["result"] for h in tx_hashes]
    return sum(int(r["gasUsed"], 16) for r in receipts)


def by_member(request: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["member"]: m for m in request["members"]}


@pytest.mark.asyncio
async def test_list_models(net: tuple[TestClient, Chain, InferenceChain]) -> None:
    client, _, _ = net
    (model,) = (await call(client, "brain_listModels"))["result"]
    assert model == {
        "id": "tiny-gptj",
        "architecture": "gptj",
        "parameters": MODEL.parameters,
        "weightsHash": "0x" + MODEL.weights_hash.hex(),
        "specHash": "0x" + MODEL.spec_hash.hex(),
        "maxTokens": MODEL.max_tokens,
        "maxInputBytes": MODEL.max_input_bytes,
        "pricePerToken": hex(MODEL.price_per_token),
        "syncGasPerToken": MODEL.sync_gas_per_token,
        "spec": MODEL.to_json(),
    }
    canonical = json.dumps(model["spec"], sort_keys=True, separators=(",", ":")).encode()
    assert "0x" + keccak256(canonical).hex() == model["specHash"]  # a client can check it


@pytest.mark.asyncio
async def test_request_through_every_phase(net: tuple[TestClient, Chain, InferenceChain]) -> None:
    client, chain, keys = net
    price = MODEL.price_per_token * MAX_TOKENS
    request = keys.tx(USER_KEY, request_call(PROMPT.encode(), MAX_TOKENS), value=price)
    lonely = keys.tx(USER_KEY, request_call(b"nobody answers", MAX_TOKENS), value=price)
    await mine(chain, request, lonely)
    assert (await inference(client, 99)) is None

    # Included: committing, nobody has committed yet.
    got = await inference(client, "0x1")
    assert got == await inference(client, 1)  # decimal ids too
    assert got["id"] == "0x1" and got["requester"] == to_checksum_address(USER)
    assert (got["model"], got["status"], got["phase"]) == ("tiny-gptj", "pending", "committing")
    assert (got["includedAt"], got["commitEnd"], got["deadline"]) == (1, 3, 6)
    assert (got["maxTokens"], got["fee"], got["callbackGas"]) == (MAX_TOKENS, hex(price), 0)
    assert got["input"] == "0x" + PROMPT.encode().hex() and got["inputText"] == PROMPT
    assert (got["expectedWeight"], got["quorumWeight"], got["committedWeight"]) == (350, 176, 0)
    assert got["requestTx"] == "0x" + request.hash.hex()
    assert (got["commits"], got["reveals"], got["members"]) == ([], [], [])
    assert got["result"] is None and got["callback"] is None
    request_gas = await gas_of(client, [got["requestTx"]])
    assert got["gas"] == {"request": request_gas, "commits": 0, "reveals": 0, "total": request_gas}

    # The committee, heaviest first: four answer at once, then a liar, a silent one, a late one.
    weight = weights(chain, keys, 1)
    ranked = sorted(keys.members, key=lambda m: -weight[m])
    early, (liar, silent, late) = ranked[:4], ranked[4:]
    assert sum(weight[m] for m in early) >= 176 and all(weight[m] for m in ranked)
    outputs = {m: WRONG if m is liar else OUTPUT for m in ranked}
    lonely_member, lonely_silent = early[0], early[1]
    await mine(
        chain,
        *(commit_tx(chain, keys, m, 1, outputs[m]) for m in ranked),
        *(commit_tx(chain, keys, m, 2, OUTPUT) for m in (lonely_member, lonely_silent)),
    )
    got = await inference(client, 1)
    assert (got["status"], got["phase"]) == ("pending", "committing")
    assert got["committedWeight"] == sum(weight.values())
    assert {(c["member"], c["weight"], c["block"]) for c in got["commits"]} == {
        (to_checksum_address(m.address), weight[m], 2) for m in ranked
    }
    assert all(
        m["committed"] and not m["revealed"] and m["agrees"] is None and m["verdict"] == "pending"
        for m in got["members"]
    )
    commit_gas = await gas_of(client, [c["tx"] for c in got["commits"]])
    assert got["gas"]["commits"] == commit_gas

    await mine(chain)  # height 3 ends the commit window: the next block takes reveals
    got = await inference(client, 1)
    assert (got["status"], got["phase"]) == ("pending", "revealing")

    await mine(
        chain,
        *(reveal_tx(keys, m, 1, outputs[m]) for m in (*early, liar)),
        reveal_tx(keys, lonely_member, 2, OUTPUT),
    )
    got = await inference(client, 1)
    assert (got["status"], got["phase"]) == ("finalized", "finalized")
    result = got["result"]
    assert result["output"] == "0x" + OUTPUT.hex() and result["outputText"] == OUTPUT.decode()
    assert result["tokens"] == list(OUTPUT) and result["finalizedAt"] == 4
    assert result["outputHash"] == "0x" + keccak256(OUTPUT).hex()
    assert result["weight"] == sum(weight[m] for m in early)
    assert {r["member"]: r["outputHash"] for r in got["reveals"]} == {
        to_checksum_address(m.address): "0x" + keccak256(outputs[m]).hex() for m in (*early, liar)
    }
    members = by_member(got)
    verdicts = {m: (members[to_checksum_address(m.address)]) for m in ranked}
    assert all(
        verdicts[m]["agrees"] is True and verdicts[m]["verdict"] == "rewarded" for m in early
    )
    assert verdicts[liar]["agrees"] is False and verdicts[liar]["verdict"] == "penalised"
    for m in (silent, late):  # free to reveal until the deadline
        assert verdicts[m]["agrees"] is None and verdicts[m]["verdict"] == "pending"
    assert got["callback"] is None  # the requester has no code to call back

    await mine(chain, reveal_tx(keys, late, 1, OUTPUT))
    got = await inference(client, 1)
    assert by_member(got)[to_checksum_address(late.address)]["verdict"] == "rewarded"
    assert got["result"]["weight"] == sum(weight[m] for m in (*early, late))

    await mine(chain)  # the deadline block, 6: settled at its end
    got = await inference(client, 1)
    assert (got["status"], got["phase"]) == ("settled", "settled")
    assert got["fee"] == hex(price)  # what was escrowed, though settlement zeroed it in state
    members = by_member(got)
    silent_entry = members[to_checksum_address(silent.address)]
    assert silent_entry["agrees"] is False and silent_entry["verdict"] == "penalised"
    assert sorted(m["verdict"] for m in got["members"]) == ["penalised"] * 2 + ["rewarded"] * 5
    reveal_gas = await gas_of(client, [r["tx"] for r in got["reveals"]])
    assert got["gas"] == {
        "request": request_gas,
        "commits": commit_gas,
        "reveals": reveal_gas,
        "total": request_gas + commit_gas + reveal_gas,
    }

    # The lonely request: one reveal is far from quorum, so it expired and was refunded.
    got = await inference(client, 2)
    assert (got["status"], got["phase"], got["result"]) == ("expired", "expired", None)
    assert got["fee"] == hex(price) and got["inputText"] == "nobody answers"
    members = by_member(got)
    assert members[to_checksum_address(lonely_member.address)]["verdict"] == "none"
    assert members[to_checksum_address(lonely_silent.address)]["verdict"] == "penalised"
    assert all(m["agrees"] is None for m in got["members"])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("brain_getInference", []),
        ("brain_getInference", ["0x1", "latest"]),
        ("brain_getInference", ["one"]),
        ("brain_getInference", ["12"]),
        ("brain_getInference", [-1]),
        ("brain_getInference", [2**256]),
        ("brain_getInference", [True]),
        ("brain_getInference", [{"id": 1}]),
        ("brain_listModels", ["tiny-gptj"]),
    ],
)
async def test_bad_params(
    net: tuple[TestClient, Chain, InferenceChain], method: str, params: list[Any]
) -> None:
    answer = await call(net[0], method, *params)
    assert answer["error"]["code"] == INVALID_PARAMS, answer


@pytest.mark.asyncio
async def test_chain_without_models(tmp_path: Path) -> None:
    keys = InferenceChain(validators=1)
    genesis = replace(keys.genesis, brain={"inference": PARAMS | {"committee_size": 50}})
    async with serving(tmp_path / "data", genesis, keys.members[0].address) as (client, _):
        assert (await call(client, "brain_listModels"))["result"] == []
        assert (await call(client, "brain_getInference", "0x1"))["result"] is None


# A contract that forwards any call (and its value) to INFERENCE, reverting if that fails, and
# accepts INFERENCE's callback: the requester of what it forwards, so it is called back.
FORWARDER = bytes.fromhex(
    "33610b0314602357"  # CALLER == 0x0b03: jump to the end
    "366000600037"  # CALLDATACOPY(0, 0, CALLDATASIZE)
    "6000600036600034610b035af1"  # CALL(GAS, 0x0b03, CALLVALUE, 0, CALLDATASIZE, 0, 0)
    "602357"  # succeeded: jump to the end
    "60006000fd"  # REVERT(0, 0)
    "5b00"  # end (at 0x23): JUMPDEST STOP
)
# Init code: CODECOPY the runtime that follows its 12 bytes to memory 0 and RETURN it.
DEPLOY = bytes.fromhex(f"60{len(FORWARDER):02x}600c60003960{len(FORWARDER):02x}6000f3") + FORWARDER


@pytest.mark.asyncio
async def test_a_contract_request_reports_its_callback(
    net: tuple[TestClient, Chain, InferenceChain],
) -> None:
    client, chain, keys = net
    deploy = keys.tx(USER_KEY, DEPLOY, to=None)  # type: ignore[arg-type]
    await mine(chain, deploy)
    found = chain.receipt(deploy.hash)
    assert found is not None and found[0].succeeded
    forwarder = found[0].contract_address
    assert forwarder is not None
    callback_gas = 50_000
    value = MODEL.price_per_token * MAX_TOKENS + callback_gas * chain.next_base_fee() * 4
    data = request_call(b"call me back", MAX_TOKENS, callback_gas)
    await mine(chain, keys.tx(USER_KEY, data, value=value, to=forwarder))
    got = await inference(client, 1)
    assert got["requester"] == to_checksum_address(forwarder)
    assert got["callbackGas"] == callback_gas and got["callback"] is None

    committee = [m for m, w in weights(chain, keys, 1).items() if w]
    await mine(chain, *(commit_tx(chain, keys, m, 1, OUTPUT) for m in committee))
    await mine(chain)
    await mine(chain, *(reveal_tx(keys, m, 1, OUTPUT) for m in committee))
    got = await inference(client, 1)
    assert got["status"] == "finalized"
    assert got["callback"]["success"] is True
    assert 0 < got["callback"]["gasUsed"] < callback_gas
