"""brain_getFlTask, brain_getFlVersion, brain_getFlProposal and the blob routes (POST /blobs,
GET /blobs/0x<id>) over the in-process RPC and a real LevelDB chain, the test acting as creator,
trainer and the whole scoring committee."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from brainchain.crypto.address import to_checksum_address
from brainchain.crypto.keccak import keccak256
from node.fl.model import initial_weights
from node.rpc.errors import INVALID_PARAMS
from node.store.blobs import MAX_BLOB_BYTES
from tests.unit.fl_net import FlNet, fl_net
from tests.unit.rpc_harness import call
from tests.vm.inference_chain import USER

SCORES = (900_000, 800_000, 700_000, 600_000)


@pytest_asyncio.fixture
async def net(tmp_path: Path) -> AsyncIterator[FlNet]:
    async with fl_net(tmp_path / "data") as served:
        yield served


async def result(net: FlNet, method: str, *params: Any) -> Any:
    answer = await call(net.client, method, *params)
    assert "error" not in answer, answer
    return answer["result"]


@pytest.mark.asyncio
async def test_a_task_its_proposal_and_versions_read_through_every_phase(net: FlNet) -> None:
    initial = initial_weights(3)
    assert (await result(net, "brain_getFlTask", 1)) is None
    await net.upload(initial)
    task = await net.create_task(initial, window=2, threshold=200_000, staleness=3)
    got = await result(net, "brain_getFlTask", "0x1")
    assert got == await result(net, "brain_getFlTask", task)
    assert got == {
        "id": "0x1",
        "creator": to_checksum_address(USER),
        "model": "digits-mlp",
        "initialWeights": "0x" + keccak256(initial).hex(),
        "initialSize": len(initial),
        "version": 0,
        "window": 2,
        "threshold": 200_000,
        "staleness": 3,
        "committeeWeight": 220,  # 0.55 of the stake of 400
        "proposals": 0,
    }
    zero = await result(net, "brain_getFlVersion", task, 0)
    assert zero == {
        "task": "0x1",
        "version": 0,
        "proposal": None,
        "proposer": None,
        "score": None,
        "alpha": None,
        "localHash": None,
        "size": len(initial),
        "globalHash": "0x" + keccak256(initial).hex(),
        "finalizedAt": None,
        "computedHash": None,  # no FL service on this node
        "testAccuracy": None,
    }
    assert (await result(net, "brain_getFlVersion", task, 1)) is None
    assert (await result(net, "brain_getFlVersion", 2, 0)) is None

    local = keccak256(b"stand-in")  # the chain never reads the blob
    (pid,) = await net.propose(task, 0, b"stand-in", size=1234)
    got = await result(net, "brain_getFlProposal", pid)
    included = got["includedAt"]
    commit_end, deadline = net.windows(pid)
    assert got == {
        "id": hex(pid),
        "task": "0x1",
        "proposer": to_checksum_address(USER),
        "baseVersion": 0,
        "weightsHash": "0x" + local.hex(),
        "size": 1234,
        "status": "pending",
        "includedAt": included,
        "commitEnd": commit_end,
        "deadline": deadline,
        "score": None,
        "version": None,
        "expectedWeight": 220,
        "quorumWeight": 111,
        "committedWeight": 0,
        "revealedWeight": 0,
        "members": [],
    }
    weights = {m: net.weight(m, pid) for m in net.members}
    scores = dict(zip(net.members, SCORES, strict=True))
    await net.mine(*(net.commit_tx(m, pid, s) for m, s in scores.items()))
    got = await result(net, "brain_getFlProposal", pid)
    assert got["committedWeight"] == sum(weights.values())
    assert [m["score"] for m in got["members"]] == [None] * 4
    await net.mine_until(commit_end)
    silent = net.members[3]
    await net.mine(*(net.reveal_tx(m, pid, s) for m, s in scores.items() if m is not silent))
    await net.mine_until(deadline)
    got = await result(net, "brain_getFlProposal", "0x" + format(pid, "x"))
    assert (got["status"], got["version"]) == ("accepted", 1)
    assert got["score"] in SCORES[:3] and got["revealedWeight"] == sum(
        weights[m] for m in net.members[:3]
    )
    assert {m["member"]: (m["weight"], m["revealed"], m["score"]) for m in got["members"]} == {
        to_checksum_address(m.address): (
            weights[m],
            m is not silent,
            None if m is silent else scores[m],
        )
        for m in net.members
    }
    assert (await result(net, "brain_getFlTask", task))["version"] == 1
    version = await result(net, "brain_getFlVersion", task, "0x1")
    assert version["proposal"] == hex(pid) and version["proposer"] == to_checksum_address(USER)
    assert version["score"] == got["score"] and 0 < version["alpha"] <= 1_000_000
    assert (version["localHash"], version["size"]) == ("0x" + local.hex(), 1234)
    assert version["globalHash"] is None  # nobody attested yet
    assert version["finalizedAt"] == deadline
    assert version["computedHash"] is None and version["testAccuracy"] is None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("brain_getFlTask", []),
        ("brain_getFlTask", [1, 2]),
        ("brain_getFlTask", ["one"]),
        ("brain_getFlTask", [-1]),
        ("brain_getFlTask", [2**256]),
        ("brain_getFlTask", [True]),
        ("brain_getFlVersion", [1]),
        ("brain_getFlVersion", [1, "latest"]),
        ("brain_getFlVersion", [1, 2**64]),
        ("brain_getFlVersion", [None, 0]),
        ("brain_getFlProposal", []),
        ("brain_getFlProposal", [{"id": 1}]),
        ("brain_getFlProposal", ["12"]),
    ],
)
async def test_bad_params(net: FlNet, method: str, params: list[Any]) -> None:
    answer = await call(net.client, method, *params)
    assert answer["error"]["code"] == INVALID_PARAMS, answer
    assert answer["error"]["message"].startswith(("invalid", "expected")), answer


# --- blobs ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_blob_goes_up_and_comes_back(net: FlNet) -> None:
    blob = initial_weights(9)
    blob_id = await net.upload(blob)
    assert net.chain.store.blobs.get(blob_id) == blob
    answer = await net.client.get("/blobs/0x" + blob_id.hex())
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert await answer.read() == blob
    upper = await net.client.get("/blobs/0x" + blob_id.hex().upper())
    assert upper.status == 200 and await upper.read() == blob
    assert net.pins.live(net.chain.head.height) == {blob_id}  # kept from collection for now


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/blobs/0x" + "ab" * 31, 400),
        ("/blobs/" + "ab" * 32, 400),
        ("/blobs/0x" + "zz" * 32, 400),
        ("/blobs/0x" + "ab" * 33, 400),
        ("/blobs/0x" + "ab" * 32, 404),
    ],
)
async def test_a_bad_or_unknown_blob_id_is_an_error(net: FlNet, path: str, status: int) -> None:
    answer = await net.client.get(path)
    assert answer.status == status
    error = (await answer.json())["error"]
    assert error["code"] == status and error["message"]


@pytest.mark.asyncio
async def test_uploads_without_a_length_empty_or_short_are_refused(net: FlNet) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"no length"

    chunked = await net.client.post("/blobs", data=chunks())
    assert chunked.status == 411
    empty = await net.client.post("/blobs", data=b"")
    assert empty.status == 400 and "empty" in (await empty.json())["error"]["message"]


@pytest.mark.asyncio
async def test_an_oversize_upload_is_refused_before_its_body_is_read(net: FlNet) -> None:
    """Only the headers go out: the answer comes without a byte of the body sent."""
    server = net.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(
            b"POST /blobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            + f"Content-Length: {MAX_BLOB_BYTES + 1}\r\n\r\n".encode()
        )
        await writer.drain()
        async with asyncio.timeout(10):
            status = await reader.readline()
            head = await reader.readuntil(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 413"), status
        length = int(
            next(
                line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
            ).split(b":")[1]
        )
        body = await reader.readexactly(length)
        assert b"exceeds the limit" in body
    finally:
        writer.close()
    assert net.chain.store.blobs.collect(set()) == 0  # nothing was stored
