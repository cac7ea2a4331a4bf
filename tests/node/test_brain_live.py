"""BRAIN's live views with real chain data, on one single-validator devnet node that runs the
shipped models and the FL service (the lone validator is every committee).

One module fixture drives the chain once, as a user would: an inference request sent as
`brainchain infer` sends it, and an FL task created and trained for one round as `brainchain fl
create|train` do, while a WebSocket client follows both with brain_subscribe. The tests check
the notifications against brain_getInference / brain_getFlProposal / brain_getFlVersion, the
dashboard's list methods against the same answers, and what the dashboard page shows in
headless Chromium (tests/js/dashboard.mjs) against the list methods.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.request
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from genesis.devnet import DEV_PRIVATE_KEYS
from node.cli.client import RpcClient
from node.cli.fl_flow import Round, create_task, train_rounds
from node.cli.inference_flow import request_id_from, send_request
from node.cli.txflow import Fees, sign_send_wait
from node.config import load_config, write_config
from node.fl.data import train_shard
from node.fl.model import THRESHOLD, initial_weights
from node.fl.train import evaluate, train_local
from tests.node.contracts_kit import Wallet, deploy
from tests.node.harness import NodeProcess, dev_home, running
from tests.node.test_dashboard import keep_screenshots, watch_dashboard
from vm.abi import encode_values, selector

MODEL = "tiny-gptj"
PROMPT = b"brainchain"
MAX_TOKENS = 4
CALLBACK_GAS = 300_000
ASK = "ask(string,bytes,uint256,uint256)"  # contracts/InferenceConsumer.vy
REQUESTER, ASKER, CREATOR, TRAINER = DEV_PRIVATE_KEYS[1:5]
TASK = 1  # the fresh chain's first FL task
# createTask's rules as `brainchain fl create` sends its defaults: window 4, digits-mlp's
# threshold, staleness 4, a committee of 0.55 of the stake.
FL_RULES = (4, THRESHOLD, 4, 550_000)
WAIT_S = 120.0  # for any one chain event: a model load or a training round on a busy core
POLL_S = 0.2


@dataclass
class Socket:
    """A WebSocket JSON-RPC client whose reader files every message as it arrives: answers by
    id, brain_subscription notifications by subscription id, in arrival order."""

    ws: aiohttp.ClientWebSocketResponse
    answers: dict[int, Any] = field(default_factory=dict)
    notes: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def read(self) -> None:
        async for message in self.ws:
            doc = json.loads(message.data)
            async with self.changed:
                if doc.get("method") == "brain_subscription":
                    self.notes[doc["params"]["subscription"]].append(doc["params"]["result"])
                else:
                    self.answers[doc["id"]] = doc
                self.changed.notify_all()

    async def until(self, what: str, check: Callable[[], Any]) -> Any:
        """check()'s first truthy value, checked again on each message."""
        async with self.changed:
            try:
                return await asyncio.wait_for(self.changed.wait_for(check), WAIT_S)
            except TimeoutError:
                raise TimeoutError(f"no {what} within {WAIT_S}s") from None

    async def call(self, method: str, *params: Any) -> Any:
        call_id = next(self.ids)
        await self.ws.send_json(
            {"jsonrpc": "2.0", "id": call_id, "method": method, "params": params}
        )
        answer = await self.until(f"answer to {method}", lambda: self.answers.pop(call_id, None))
        assert "error" not in answer, answer
        return answer["result"]

    async def event(self, sub_id: str, what: str, match: Callable[[dict[str, Any]], bool]) -> Any:
        """The first notification of `sub_id` that `match`es, waiting for it."""
        return await self.until(what, lambda: next(filter(match, self.notes[sub_id]), None))


async def poll(what: str, check: Callable[[], Awaitable[Any]]) -> Any:
    """check()'s first truthy value, asked every POLL_S, for what no notification announces."""
    deadline = time.monotonic() + WAIT_S
    while not (value := await check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {WAIT_S}s")
        await asyncio.sleep(POLL_S)
    return value


@dataclass
class Live:
    """What the fixture saw: each subscription's notifications and the RPC's answers."""

    node: NodeProcess
    consumer: str  # the InferenceConsumer contract that made request 2
    round: Round  # the training round's outcome, as `fl train` reports it
    inference: list[dict[str, Any]]  # brain_subscribe("inference")
    by_id: dict[int, list[dict[str, Any]]]  # brain_subscribe("inference", {"id": 1, 2 or 3})
    fl: list[dict[str, Any]]  # brain_subscribe("fl")
    fl_by_task: list[dict[str, Any]]  # brain_subscribe("fl", {"task": TASK})
    listed_at_finalized: list[dict[str, Any]]  # brain_listInferences on 1's finalized note
    requests: dict[int, dict[str, Any]]  # brain_getInference once settled
    task: dict[str, Any]  # brain_getFlTask, at version 1
    proposal: dict[str, Any]  # brain_getFlProposal once decided
    versions: list[dict[str, Any]]  # brain_getFlVersion 0 and 1 once this node evaluated both


def train_one_round(client: RpcClient) -> Round:
    """`brainchain fl train --shard 0/1 --rounds 1`'s round: trained on the whole digits set."""
    dataset = train_shard(0, 1)
    done: list[Round] = []

    def step(weights: bytes, index: int) -> tuple[bytes, float]:
        local = train_local(weights, dataset, seed=index)
        return local, evaluate(local, dataset)[0]

    train_rounds(client, TRAINER, TASK, 1, step, done.append)
    return done[0]


def ask_consumer(client: RpcClient, consumer: str) -> int:
    """Request 2: InferenceConsumer.ask with CALLBACK_GAS, its fee and more than the deposit."""
    model = next(m for m in client.call("brain_listModels") if m["id"] == MODEL)
    fee = int(model["pricePerToken"], 16) * MAX_TOKENS
    data = selector(ASK) + encode_values(
        ["string", "bytes", "uint256", "uint256"], [MODEL, PROMPT, MAX_TOKENS, CALLBACK_GAS]
    )
    to = bytes.fromhex(consumer[2:])
    receipt = sign_send_wait(client, ASKER, to, fee + 10**17, data, 1_000_000, Fees())
    assert receipt is not None and receipt["status"] == "0x1", receipt
    return request_id_from(receipt)


def _phase(phase: str) -> Callable[[dict[str, Any]], bool]:
    return lambda note: note.get("phase") == phase


def _fl(event: str, version: int) -> Callable[[dict[str, Any]], bool]:
    return lambda note: note.get("event") == event and note.get("version") == version


async def drive(node: NodeProcess) -> Live:
    """Subscribe; send both requests, create the task and train one round (in threads: the
    CLI's code blocks); wait until both requests have settled and version 1 is attested and
    evaluated."""
    client = node.client()
    assert client.call("brain_listInferences") == client.call("brain_listFlTasks") == []
    consumer = await asyncio.to_thread(deploy, Wallet(client), "InferenceConsumer.vy")
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(node.url.replace("http://", "ws://") + "/") as ws,
    ):
        socket = Socket(ws)
        reader = asyncio.create_task(socket.read())
        wanted: list[list[Any]] = [
            ["inference"],
            *(["inference", {"id": i}] for i in (hex(1), 2, 3)),  # ids as hex or numbers
            ["fl"],
            ["fl", {"task": TASK}],
        ]
        subs = [await socket.call("brain_subscribe", *params) for params in wanted]
        inference, fl = subs[0], subs[4]

        async def listed_when_finalized() -> Any:
            """brain_listInferences as soon as request 1 is finalized: it settles R blocks
            after its reveal at the latest, so this reads it while it is finalized."""
            await socket.event(subs[1], "finalized notification of 1", _phase("finalized"))
            return await socket.call("brain_listInferences")

        listing = asyncio.create_task(listed_when_finalized())
        sent = await asyncio.to_thread(
            send_request, client, REQUESTER, MODEL, PROMPT, MAX_TOKENS, 0, None
        )
        asked = await asyncio.to_thread(ask_consumer, client, consumer)
        created = await asyncio.to_thread(
            create_task, client, CREATOR, "digits-mlp", initial_weights(0), FL_RULES
        )
        assert (sent, asked, created) == (1, 2, TASK)
        training = asyncio.create_task(asyncio.to_thread(train_one_round, client))

        def settled(request_id: int) -> Callable[[dict[str, Any]], bool]:
            return lambda note: note["id"] == hex(request_id) and note["phase"] == "settled"

        listed = await listing
        requests = {}
        for request_id in (1, 2):
            await socket.event(
                inference, f"settled notification of {request_id}", settled(request_id)
            )
            requests[request_id] = await socket.call("brain_getInference", hex(request_id))
        done = await training
        await socket.event(fl, "versionAttested of version 1", _fl("versionAttested", 1))

        async def evaluated() -> Any:
            found = [await socket.call("brain_getFlVersion", hex(TASK), n) for n in (0, 1)]
            return found if all(v["testAccuracy"] is not None for v in found) else None

        versions = await poll("test accuracy of versions 0 and 1", evaluated)
        task = await socket.call("brain_getFlTask", hex(TASK))
        proposal = await socket.call("brain_getFlProposal", hex(done.proposal))
        reader.cancel()
    notes = [socket.notes[sub_id] for sub_id in subs]
    return Live(
        node, consumer, done, notes[0], dict(zip((1, 2, 3), notes[1:4], strict=True)),
        notes[4], notes[5], listed, requests, task, proposal, versions,
    )  # fmt: skip


def wait_for_model(node: NodeProcess) -> None:
    """Until the executor has loaded MODEL (warm_models): a commit window is only C blocks."""
    loaded = f'brainchain_model_load_seconds_count{{model="{MODEL}"}}'
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        with urllib.request.urlopen(node.metrics, timeout=10) as answer:
            if loaded in answer.read().decode():
                return
        time.sleep(0.5)
    raise TimeoutError(f"{MODEL} not loaded within {WAIT_S}s")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    home = dev_home(tmp_path_factory.mktemp("brain-live"))
    write_config(load_config(home, warm_models=True))
    with running(home) as node:
        wait_for_model(node)
        yield asyncio.run(drive(node))


# --- inference ------------------------------------------------------------------------------


def _place(note: dict[str, Any]) -> tuple[int, str | None]:
    return note["blockNumber"], note["transactionHash"]


def test_inference_notifications_follow_each_request_through_its_phases(live: Live) -> None:
    phases = ["requested", "committed", "revealed", "finalized"]
    assert [n["phase"] for n in live.by_id[1]] == [*phases, "settled"]
    assert [n["phase"] for n in live.by_id[2]] == [*phases, "callback", "settled"]
    assert live.by_id[3] == []
    for request_id in (1, 2):
        assert [n for n in live.inference if n["id"] == hex(request_id)] == live.by_id[request_id]
    assert len(live.inference) == len(live.by_id[1]) + len(live.by_id[2])
    for note in live.inference:
        block = live.node.client().call("eth_getBlockByNumber", hex(note["blockNumber"]), False)
        assert note["blockHash"] == block["hash"]


@pytest.mark.parametrize("request_id", [1, 2])
def test_inference_notifications_carry_what_brain_get_inference_reads(
    live: Live, request_id: int
) -> None:
    request, notes = live.requests[request_id], live.by_id[request_id]
    heights = [n["blockNumber"] for n in notes]
    assert heights == sorted(heights)
    requested, committed, revealed, finalized, *called, settled = notes

    keys = ("requester", "model", "input", "maxTokens", "fee", "callbackGas", "deadline")
    assert {k: requested[k] for k in keys} == {k: request[k] for k in keys}
    assert (request["model"], request["inputText"]) == (MODEL, PROMPT.decode())
    assert _place(requested) == (request["includedAt"], request["requestTx"])
    (commit,) = request["commits"]  # the lone validator is the whole committee
    assert (committed["member"], committed["weight"]) == (commit["member"], commit["weight"])
    assert _place(committed) == (commit["block"], commit["tx"])
    assert committed["blockNumber"] <= request["commitEnd"] < revealed["blockNumber"]
    (reveal,) = request["reveals"]
    assert (revealed["member"], revealed["outputHash"]) == (reveal["member"], reveal["outputHash"])
    assert _place(revealed) == (reveal["block"], reveal["tx"])
    result, outcome = request["result"], ("outputHash", "output", "outputText", "weight")
    assert {k: finalized[k] for k in outcome} == {k: result[k] for k in outcome}
    assert finalized["blockNumber"] == result["finalizedAt"] < request["deadline"]
    if request_id == 2:  # the consumer's: called back in the block that finalized it
        (callback,) = called
        assert request["requester"] == live.consumer and request["callbackGas"] == CALLBACK_GAS
        assert {"success": callback["success"], "gasUsed": callback["gasUsed"]} == request[
            "callback"
        ]
        assert callback["success"] is True
        assert _place(callback) == _place(finalized)
    else:
        assert called == [] and request["callback"] is None
    assert _place(settled) == (request["deadline"], None)
    assert request["status"] == "settled"


def test_list_inferences_shows_the_committee_and_latencies(live: Live) -> None:
    client = live.node.client()
    now = client.call("brain_listInferences")
    assert [row["id"] for row in now] == [hex(2), hex(1)]  # newest first
    for row in now:
        request = live.requests[int(row["id"], 16)]
        included, finalized = request["includedAt"], request["result"]["finalizedAt"]
        times = [
            int(client.call("eth_getBlockByNumber", hex(h), False)["timestamp"], 16)
            for h in (included, finalized)
        ]
        (member,) = request["members"]
        assert (member["revealed"], member["verdict"]) == (True, "rewarded")
        expected = {
            "model": MODEL,
            "includedAt": included,
            "committee": [{k: member[k] for k in ("member", "weight", "revealed", "verdict")}],
            "finalizedAt": finalized,
            "latencyBlocks": finalized - included,
            "latencySeconds": times[1] - times[0],
            "outputText": request["result"]["outputText"],
        }
        assert {k: row[k] for k in expected} == expected
        assert (row["status"], row["phase"]) == ("settled", "settled")
        if row["id"] == hex(1):  # as listed when its finalized notification came
            (then,) = [r for r in live.listed_at_finalized if r["id"] == hex(1)]
            assert {k: then[k] for k in expected} == expected
            assert (then["status"], then["phase"]) == ("finalized", "finalized")


# --- federated learning ---------------------------------------------------------------------


def test_fl_notifications_follow_the_task_from_creation_to_version_1(live: Live) -> None:
    notes, task, proposal = live.fl, live.task, live.proposal
    assert live.fl_by_task == notes
    assert {n["task"] for n in notes} == {hex(TASK)}
    assert [n["event"] for n in notes] == [
        "taskCreated", "proposed", "scoreCommitted", "scoreRevealed",
        "accepted",  # read from storage at the proposal's deadline: no log says it
        "attested", "versionAttested",
    ]  # fmt: skip
    created, proposed, committed, revealed, accepted, attested, final = notes
    heights = [n["blockNumber"] for n in notes]
    assert heights == sorted(heights)
    rules = ("creator", "model", "initialWeights", "committeeWeight")
    assert {k: created[k] for k in rules} == {k: task[k] for k in rules}

    assert (live.round.status, live.round.version, task["version"]) == ("accepted", 1, 1)
    assert proposal["status"] == "accepted" and proposal["version"] == 1
    assert proposed["proposal"] == proposal["id"] == hex(live.round.proposal)
    keys = ("proposer", "baseVersion", "weightsHash", "size", "deadline")
    assert {k: proposed[k] for k in keys} == {k: proposal[k] for k in keys}
    assert proposed["blockNumber"] == proposal["includedAt"]

    (member,) = proposal["members"]  # the lone validator scores alone
    assert {k: committed[k] for k in ("proposal", "member", "weight")} == {
        "proposal": proposal["id"], "member": member["member"], "weight": member["weight"]
    }  # fmt: skip
    assert committed["blockNumber"] <= proposal["commitEnd"] < revealed["blockNumber"]
    assert (revealed["member"], revealed["score"]) == (member["member"], member["score"])
    assert (accepted["score"], accepted["version"]) == (proposal["score"], 1)
    assert (accepted["blockNumber"], accepted["transactionHash"]) == (proposal["deadline"], None)

    version = live.versions[1]
    assert version["globalHash"] == version["computedHash"]  # this node recomputed it
    for note in (attested, final):
        assert (note["version"], note["globalHash"]) == (1, version["globalHash"])
    assert (attested["member"], attested["weight"]) == (member["member"], member["weight"])


def test_list_fl_tasks_shows_each_version_with_its_accuracy(live: Live) -> None:
    (listed,) = live.node.client().call("brain_listFlTasks")
    assert {k: listed[k] for k in live.task} == live.task
    assert listed["versions"] == [
        {k: v[k] for k in ("version", "score", "testAccuracy", "finalizedAt")}
        for v in live.versions
    ]


# --- the dashboard --------------------------------------------------------------------------


def test_dashboard_shows_the_request_and_the_task(live: Live, tmp_path: Path) -> None:
    shots = tmp_path / "screenshots"
    try:
        report = watch_dashboard(live.node, shots, transfers=False)
    finally:
        keep_screenshots(shots, "brain-live")
    shown = report["shown"]
    assert report["errors"] == [] and shown["status"] == ""
    assert shown["transport"] == "websocket"
    client = live.node.client()

    requests = client.call("brain_listInferences")
    assert {r["phase"] for r in requests} == {"settled"}  # final: paid out at the deadline
    assert shown["inferencePhases"] == f"settled: {len(requests)}"
    expected = []
    for request in requests:
        number = str(int(request["id"], 16))
        (member,) = request["committee"]
        address = member["member"]
        cells = [
            number, MODEL, "settled", str(request["includedAt"]),
            f"{address[:8]}…{address[-4:]} {member['weight']}✓",
            f"{request['latencyBlocks']} blocks, {request['latencySeconds']} s",
        ]  # fmt: skip
        expected.append({"id": number, "phase": "settled", "cells": cells})
    assert shown["inferences"] == expected

    (task,) = client.call("brain_listFlTasks")
    accuracies = [v["testAccuracy"] for v in task["versions"]]
    (shown_task,) = shown["flTasks"]
    assert (shown_task["id"], shown_task["title"]) == (
        str(TASK),
        f"task {TASK} · digits-mlp · v1 · accuracy {accuracies[-1]:.4f}",
    )
    # one point per evaluated version, left to right; higher accuracy is drawn higher (less y)
    (x0, y0), (x1, y1) = shown_task["points"]
    assert x0 < x1 and (y0 > y1) == (accuracies[0] < accuracies[1])
