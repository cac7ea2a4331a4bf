"""The dashboard's read methods (node/rpc/dashboard.py) over a real LevelDB chain, and the
metrics they sample: validators and certificates, held votes, peers, mempool, empty inference
and FL listings, parameter checks, and the static routes' files and headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from eth_account import Account

from brainchain.types.vote import Proposal, VoteKind
from genesis.devnet import DEV_PRIVATE_KEYS
from node.chain import Chain
from node.metrics import NodeMetrics
from node.rpc.dashboard import NodeView, sample_metrics
from node.rpc.errors import INVALID_PARAMS
from node.rpc.server import make_app
from tests.node.harness import signed_transfer
from tests.unit.test_consensus_store import GENESIS, VALIDATORS
from tests.unit.test_evidence import vote
from tests.unit.test_rpc_commit import PROPOSER, commit

PEERS = ["12D3KooWPeerA", "12D3KooWPeerB"]


def held(height: int) -> list[Any]:
    """What a machine holds at `height`: a proposal (not a vote: left out) and three votes."""
    return [
        Proposal(height, 0, b"", -1, 0),
        vote(0, b"\xaa" * 32, height=height),
        vote(1, None, height=height),
        vote(3, b"\xaa" * 32, height=height, kind=VoteKind.PRECOMMIT, round_=1),
    ]


async def serve(tmp_path: Path, view: NodeView) -> tuple[TestClient, Chain]:
    chain = Chain.open(tmp_path / "data", GENESIS, proposer=PROPOSER)
    client = TestClient(TestServer(make_app(chain, view=view)))
    await client.start_server()
    return client, chain


async def call(client: TestClient, method: str, *params: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    answer: dict[str, Any] = await (await client.post("/", json=body)).json()
    return answer


@pytest.mark.asyncio
async def test_validators_votes_and_certificates(tmp_path: Path) -> None:
    view = NodeView(peers=lambda: PEERS, messages=lambda: held(4))
    client, chain = await serve(tmp_path, view)
    try:
        _, cert1 = await commit(chain)
        _, cert2 = await commit(chain, last_commit=cert1)
        block3, _ = await commit(chain, last_commit=cert2)
        answer = (await call(client, "brain_consensusVotes"))["result"]
        names = {v.consensus_pubkey: v.name for v in GENESIS.validators}
        assert [(v["index"], v["name"], v["power"]) for v in answer["validators"]] == [
            (i, names[v.public_key], v.power) for i, v in enumerate(VALIDATORS)
        ]
        assert answer["current"]["height"] == "0x4"
        assert answer["current"]["votes"] == [
            {"validator": 0, "round": 0, "kind": "prevote", "blockHash": "0x" + "aa" * 32},
            {"validator": 1, "round": 0, "kind": "prevote", "blockHash": None},
            {"validator": 3, "round": 1, "kind": "precommit", "blockHash": "0x" + "aa" * 32},
        ]
        heights = answer["heights"]
        assert [h["height"] for h in heights] == ["0x3", "0x2", "0x1"]  # genesis has no votes
        assert heights[0]["hash"] == "0x" + block3.hash.hex()
        # commit() certifies each height in a round equal to it, by validators 0, 1 and 3
        assert [(h["round"], h["precommits"]) for h in heights] == [
            (height, [0, 1, 3]) for height in (3, 2, 1)
        ]
        two = (await call(client, "brain_consensusVotes", "0x2"))["result"]["heights"]
        assert [h["height"] for h in two] == ["0x3", "0x2"]
        assert (await call(client, "brain_peers"))["result"] == [{"id": p} for p in PEERS]
    finally:
        await client.close()
        chain.close()


@pytest.mark.asyncio
async def test_mempool_inference_and_fl_listings(tmp_path: Path) -> None:
    client, chain = await serve(tmp_path, NodeView())
    try:
        account = Account.from_key(DEV_PRIVATE_KEYS[0])
        sent = [
            (await call(client, "eth_sendRawTransaction", signed_transfer(account, n)))["result"]
            for n in (0, 1, 3)  # nonce 2 missing: the third waits behind a gap
        ]
        pool = (await call(client, "brain_mempool"))["result"]
        assert (pool["pending"], pool["queued"]) == (2, 1)
        assert [(t["hash"], t["nonce"], t["status"]) for t in pool["transactions"]] == [
            (sent[0], "0x0", "pending"),
            (sent[1], "0x1", "pending"),
            (sent[2], "0x3", "queued"),
        ]
        assert {t["from"] for t in pool["transactions"]} == {account.address}
        limited = (await call(client, "brain_mempool", 1))["result"]
        assert len(limited["transactions"]) == 1 and limited["queued"] == 1
        assert (await call(client, "brain_peers"))["result"] == []
        assert (await call(client, "brain_consensusVotes"))["result"]["current"]["votes"] == []
        assert (await call(client, "brain_listInferences"))["result"] == []
        assert (await call(client, "brain_listFlTasks"))["result"] == []
        metrics = NodeMetrics()
        sample_metrics(chain, NodeView(messages=lambda: held(1)), metrics.dashboard)
        text = metrics.render().decode()
        assert "brainchain_mempool_queued_txs 1.0" in text
        assert 'brainchain_votes{kind="prevote"} 2.0' in text
        assert 'brainchain_votes{kind="precommit"} 1.0' in text
        assert 'brainchain_inference_requests_by_status{status="pending"} 0.0' in text
        assert "brainchain_fl_tasks 0.0" in text
    finally:
        await client.close()
        chain.close()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("brain_consensusVotes", [0], "invalid height count: 0 is not in 1..100"),
        ("brain_consensusVotes", [101], "invalid height count: 101 is not in 1..100"),
        ("brain_mempool", [1, 2], "expected 0 to 1 params, got 2"),
        ("brain_listInferences", ["ten"], "invalid request count"),
        ("brain_listFlTasks", [51], "invalid task count"),
        ("brain_peers", [1], "expected 0 params, got 1"),
    ],
)
async def test_bad_params(tmp_path: Path, method: str, params: list[Any], message: str) -> None:
    client, chain = await serve(tmp_path, NodeView())
    try:
        error = (await call(client, method, *params))["error"]
        assert error["code"] == INVALID_PARAMS
        assert message in error["message"]
    finally:
        await client.close()
        chain.close()


@pytest.mark.asyncio
async def test_the_page_and_its_assets(tmp_path: Path) -> None:
    client, chain = await serve(tmp_path, NodeView())
    try:
        page = await client.get("/dashboard")
        assert page.status == 200 and page.content_type == "text/html"
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        html = await page.text()
        assert 'src="/dashboard/dashboard.js"' in html and "http" not in html.lower()
        script = await client.get("/dashboard/dashboard.js")
        assert script.status == 200 and script.content_type == "text/javascript"
        assert (await client.get("/dashboard/dashboard.css")).content_type == "text/css"
        assert (await client.get("/dashboard/../server.py")).status == 404
        assert (await client.get("/dashboard/index.html.bak")).status == 404
    finally:
        await client.close()
        chain.close()
