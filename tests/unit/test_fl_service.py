"""The FL service's decisions on a real LevelDB chain (node/fl/service.py): a validator drawn for a
proposal fetches and scores it, journals before it commits, reveals once commits close, attests
the version it recomputed; every node recomputes versions bit for bit as the test does and
checks them against the attested hash; blobs nobody needs are collected, needed ones never;
unfetchable or unparsable weights score 0, late ones are skipped; a restart resumes; a node that
comes after the blobs are gone goes on from the attested weights."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest

from brainchain.crypto.keccak import keccak256
from brainchain.fl import SCORE_SCALE, ProposalStatus
from node.committee_member import Member
from node.config import Byzantine
from node.fl import service as fl_service
from node.fl.data import splits, train_shard, validation_shard
from node.fl.mixing import mix
from node.fl.model import SHAPES, initial_weights, to_blob
from node.fl.registry import fl_slots
from node.fl.train import evaluate, score, score_units, train_local
from tests.unit.fl_net import FlNet, count, fl_net, running
from tests.unit.rpc_harness import call
from tests.vm.inference_chain import call_data
from vm.precompiles.fl_state import load_score, load_version

TASK_SEED = 7


def zeros() -> bytes:
    return to_blob({name: np.zeros(shape, dtype=np.float32) for name, shape in SHAPES.items()})


def honest(blob: bytes, index: int) -> int:
    """What validator `index` of the four measures on its validation shard."""
    return score(blob, validation_shard(index, 4))


async def new_task(net: FlNet, **rules: int) -> tuple[int, bytes]:
    """Upload initial weights and create a task from them: (task id, the weights)."""
    initial = initial_weights(TASK_SEED)
    await net.upload(initial)
    return await net.create_task(initial, **rules), initial


def honest_scores(blob: bytes) -> dict[int, int]:
    """What validators 1–3, played by the test, measure."""
    return {i: honest(blob, i) for i in (1, 2, 3)}


async def committee(
    net: FlNet,
    scores: dict[int, dict[int, int]],
    meanwhile: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Proposals made in one block through their windows. Once the service (validator 0) has
    committed to each, validators 1–3 commit the scores given (by proposal, then member index);
    once it has revealed, they reveal; then the chain is mined to the deadline. The service
    journals each step before it sends it, so its journal says when it has. `meanwhile` runs
    once the commit window has closed."""
    journal = net.chain.store.inference.scores
    members = net.members
    await net.until(lambda: all(journal.get(p) for p in scores))
    await net.mine(
        *(net.commit_tx(members[i], p, s) for p, by in scores.items() for i, s in by.items())
    )
    commit_end, deadline = net.windows(next(iter(scores)))
    await net.mine_until(commit_end)
    if meanwhile is not None:
        await meanwhile()
    await net.until(lambda: all(journal.get(p).revealed for p in scores))
    await net.mine(
        *(net.reveal_tx(members[i], p, s) for p, by in scores.items() for i, s in by.items())
    )
    await net.mine_until(deadline)


@pytest.mark.asyncio
async def test_a_validator_scores_reveals_attests_and_every_node_recomputes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fl_net(tmp_path / "data") as net:
        service, metrics = net.service(0)
        follower, follower_metrics = net.service(None)  # a node that is no validator
        journal = net.chain.store.inference.scores
        records = net.chain.store.inference.fl_versions
        order: list[str] = []
        send = Member.send

        def recorded_send(self: Member, to: bytes, data: bytes, gas: int, what: str) -> bool:
            if what.startswith("score commit"):
                pid = int(what.rsplit(" ", 1)[1])
                order.append("journalled" if journal.get(pid) else "not journalled")
            return send(self, to, data, gas, what)

        monkeypatch.setattr(Member, "send", recorded_send)
        async with running(service), running(follower):
            task, initial = await new_task(net)
            await net.until(lambda: records.get(task, 0) is not None)
            zero = records.get(task, 0)
            assert zero.computed_hash == keccak256(initial)
            assert zero.test_accuracy == score_units(evaluate(initial, splits().test)[0])

            local = await asyncio.to_thread(train_local, initial, train_shard(0, 2), 5, 0.1, 1)
            await net.upload(local)
            (pid,) = await net.propose(task, 0, local)
            assert net.weight(net.members[0], pid) > 0
            await net.until(lambda: count(metrics, "commits") == 1)
            assert order == ["journalled"]  # the score and salt were on disk before the commit left
            entry = journal.get(pid)
            assert entry is not None and entry.score == honest(local, 0) and not entry.revealed
            assert count(follower_metrics, "commits") == 0  # it has no stake: never drawn

            scores = {i: honest(local, i) for i in (1, 2, 3)}
            members = net.members
            await net.mine(*(net.commit_tx(members[i], pid, s) for i, s in scores.items()))
            slots = fl_slots(net.chain)
            assert load_score(slots, pid, members[0].address) is not None
            commit_end, deadline = net.windows(pid)
            await net.mine_until(commit_end - 1)
            assert count(metrics, "reveals") == 0  # commits are still open
            await net.mine()  # height commit_end: the next block takes reveals
            await net.until(lambda: count(metrics, "reveals") == 1)
            assert journal.get(pid).revealed
            await net.mine(*(net.reveal_tx(members[i], pid, s) for i, s in scores.items()))
            assert load_score(fl_slots(net.chain), pid, members[0].address).score == entry.score
            await net.mine_until(deadline)

            proposal = net.proposal(pid)
            assert proposal.status is ProposalStatus.ACCEPTED
            made = load_version(fl_slots(net.chain), task, 1)
            expected = keccak256(mix(initial, local, made.alpha))
            await net.until(lambda: records.get(task, 1) is not None)
            assert records.get(task, 1).computed_hash == expected  # bit for bit
            await net.until(lambda: count(metrics, "attests") == 1)
            await net.mine(*(net.attest_tx(members[i], task, 1, expected) for i in (1, 2, 3)))
            assert load_version(fl_slots(net.chain), task, 1).global_hash == expected
            await net.until(lambda: journal.get(pid) is None)  # attested: forgotten
            for m in (metrics, follower_metrics):
                assert count(m, "versions_recomputed") == 1
                assert count(m, "hash_mismatches") == 0

            version = (await call(net.client, "brain_getFlVersion", task, 1))["result"]
            assert version["globalHash"] == version["computedHash"] == "0x" + expected.hex()
            assert version["testAccuracy"] > zero.test_accuracy / SCORE_SCALE
            got = (await call(net.client, "brain_getFlProposal", pid))["result"]
            assert got["status"] == "accepted" and got["version"] == 1
            assert all(m["revealed"] for m in got["members"])
            attested = sum(m["weight"] for m in got["members"] if m["attested"])
            assert 2 * attested > got["expectedWeight"]  # the hash became final at quorum


@pytest.mark.asyncio
async def test_blobs_nobody_needs_are_collected_and_needed_ones_never(tmp_path: Path) -> None:
    async with fl_net(tmp_path / "data", pin_blocks=2) as net:
        service, metrics = net.service(0)
        store = net.chain.store.blobs
        records = net.chain.store.inference.fl_versions
        async with running(service):
            junk = await net.upload(b"uploaded and never proposed")
            task, initial = await new_task(net, staleness=1)
            local = await asyncio.to_thread(train_local, initial, train_shard(0, 2), 5, 0.1, 1)
            garbage = zeros()
            for blob in (local, garbage):
                await net.upload(blob)
            good, bad = await net.propose(task, 0, local, garbage)

            async def pins_ran_out() -> None:
                """The junk goes; the pending proposals' weights stay."""
                await net.until(lambda: not store.has(junk))
                assert store.has(keccak256(local)) and store.has(keccak256(garbage))
                assert net.proposal(good).status is ProposalStatus.PENDING

            zero_scores = dict.fromkeys((1, 2, 3), 0)
            await committee(net, {good: honest_scores(local), bad: zero_scores}, pins_ran_out)
            assert net.proposal(good).status is ProposalStatus.ACCEPTED
            assert net.proposal(bad).status is ProposalStatus.REJECTED  # zero weights
            await net.until(lambda: not store.has(keccak256(garbage)))
            await net.until(lambda: records.get(task, 1) is not None)
            global1 = records.get(task, 1).computed_hash
            assert all(store.has(b) for b in (keccak256(initial), keccak256(local), global1))

            # A second version: with staleness 1, version 0's weights are no longer needed.
            base = store.get(global1)
            assert base is not None
            local2 = await asyncio.to_thread(train_local, base, train_shard(1, 2), 5, 0.1, 2)
            await net.upload(local2)
            (second,) = await net.propose(task, 1, local2)
            await committee(net, {second: honest_scores(local2)})
            await net.until(lambda: records.get(task, 2) is not None)
            await net.mine()
            await net.until(lambda: not store.has(keccak256(initial)))
            global2 = records.get(task, 2).computed_hash
            for kept in (global1, global2, keccak256(local), keccak256(local2)):
                assert store.has(kept)
            assert count(metrics, "blobs_collected") == 3


@pytest.mark.asyncio
async def test_weights_that_cannot_be_fetched_or_parsed_score_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(fl_service, "FETCH_RETRY_S", 0.01)
    caplog.set_level(logging.WARNING, logger="node.fl.service")
    async with fl_net(tmp_path / "data") as net:
        service, metrics = net.service(0)
        journal = net.chain.store.inference.scores
        async with running(service):
            task, _ = await new_task(net)
            garbage = b"\x00" * 100
            await net.upload(garbage)
            unparsable, missing = await net.propose(task, 0, garbage, b"never uploaded")
            await net.until(lambda: count(metrics, "commits") == 1)  # the garbage, at once
            commit_end, _ = net.windows(missing)
            await net.mine_until(commit_end - 2)
            assert count(metrics, "commits") == 1  # still asking peers for the missing one
            await net.mine()  # the last height after which a commit still lands in time
            await net.until(lambda: count(metrics, "commits") == 2)
            await net.mine()
            slots = fl_slots(net.chain)
            for pid in (unparsable, missing):
                assert load_score(slots, pid, net.members[0].address) is not None
                assert journal.get(pid).score == 0
        assert "weights do not parse as digits-mlp" in caplog.text
        assert "cannot be fetched" in caplog.text


@pytest.mark.asyncio
async def test_a_proposal_scored_after_its_commit_window_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    release = threading.Event()
    evaluate_blob = fl_service.FlService._evaluate

    def slow(self: fl_service.FlService, blob: bytes, proposal_id: int) -> int:
        release.wait(30)
        return evaluate_blob(self, blob, proposal_id)

    monkeypatch.setattr(fl_service.FlService, "_evaluate", slow)
    async with fl_net(tmp_path / "data") as net:
        service, metrics = net.service(0)
        async with running(service):
            task, initial = await new_task(net)
            (pid,) = await net.propose(task, 0, initial)
            await net.until(lambda: count(metrics, "selected") == 1)
            await net.mine_until(net.windows(pid)[0])
            release.set()
            await net.until(lambda: "skipped" in caplog.text)
            assert count(metrics, "commits") == 0
            assert net.chain.store.inference.scores.get(pid) is None


@pytest.mark.asyncio
async def test_a_restarted_validator_reveals_its_journal_and_scores_what_it_missed(
    tmp_path: Path,
) -> None:
    """Also the Byzantine role: it commits and reveals its seeded random score."""
    async with fl_net(tmp_path / "data") as net:
        journal = net.chain.store.inference.scores
        first, metrics = net.service(0, byzantine=Byzantine.RANDOM_FL_SCORE)
        async with running(first):
            task, initial = await new_task(net)
            (before,) = await net.propose(task, 0, initial)
            await net.until(lambda: count(metrics, "commits") == 1)
        assert journal.get(before).score == first._random_score(before) != honest(initial, 0)
        (missed,) = await net.propose(task, 0, initial)  # while it is down; its commit lands

        second, metrics = net.service(0, byzantine=Byzantine.RANDOM_FL_SCORE)
        async with running(second):
            await net.until(lambda: count(metrics, "commits") == 1)  # the one it missed
            assert journal.get(missed) is not None
            await net.mine_until(net.windows(before)[0])
            await net.until(lambda: count(metrics, "reveals") == 1)
            await net.mine()
            revealed = load_score(fl_slots(net.chain), before, net.members[0].address)
            assert revealed.revealed and revealed.score == journal.get(before).score


@pytest.mark.asyncio
async def test_a_validator_scores_exactly_the_proposals_it_is_drawn_for(tmp_path: Path) -> None:
    async with fl_net(tmp_path / "data") as net:
        service, metrics = net.service(0)
        journal = net.chain.store.inference.scores
        async with running(service):
            task, initial = await new_task(net, fraction=1)  # k = 1 stake unit of 400
            assert net.task(task).k == 1
            pids = await net.propose(task, 0, *[initial] * 12)
            drawn = {pid for pid in pids if net.weight(net.members[0], pid)}
            assert 0 < len(drawn) < len(pids)
            await net.until(lambda: count(metrics, "commits") == len(drawn))
            await net.mine_until(net.windows(pids[0])[0])
            assert {e.proposal_id for e in journal.entries()} == drawn
            assert count(metrics, "selected") == len(drawn)
            assert count(metrics, "proposals") == len(pids)


@pytest.mark.asyncio
async def test_a_late_node_goes_on_from_attested_weights_when_the_blobs_are_gone(
    tmp_path: Path,
) -> None:
    """The test is the whole committee for two versions; then only version 2's attested global
    weights are left to fetch: a node started now takes them and recomputes from there."""
    async with fl_net(tmp_path / "data") as net:
        store = net.chain.store.blobs
        records = net.chain.store.inference.fl_versions
        members, everyone = net.members, (0, 1, 2, 3)
        task, initial = await new_task(net)
        global_blob = initial
        for number in range(2):
            local = await asyncio.to_thread(
                train_local, global_blob, train_shard(number, 2), 5, 0.1, number
            )
            await net.upload(local)
            (pid,) = await net.propose(task, number, local)
            await net.mine(*(net.commit_tx(members[i], pid, 900_000) for i in everyone))
            commit_end, deadline = net.windows(pid)
            await net.mine_until(commit_end)
            await net.mine(*(net.reveal_tx(members[i], pid, 900_000) for i in everyone))
            await net.mine_until(deadline)
            made = load_version(fl_slots(net.chain), task, number + 1)
            global_blob = mix(global_blob, local, made.alpha)
            attests = (
                net.attest_tx(members[i], task, number + 1, keccak256(global_blob))
                for i in everyone
            )
            await net.mine(*attests)
        await net.upload(global_blob)  # as the peers that recomputed it hold it
        assert store.collect({keccak256(global_blob)}) == 3  # initial, both locals: gone

        follower, metrics = net.service(None)
        async with running(follower):
            await net.until(lambda: records.get(task, 2) is not None)
            adopted = records.get(task, 2)
            assert adopted.adopted and adopted.computed_hash == keccak256(global_blob)
            assert count(metrics, "versions_recomputed") == 0
            version = (await call(net.client, "brain_getFlVersion", task, 2))["result"]
            assert version["computedHash"] is None and version["testAccuracy"] > 0.5
            assert version["globalHash"] == "0x" + keccak256(global_blob).hex()

            # From there it recomputes as usual.
            local = await asyncio.to_thread(train_local, global_blob, train_shard(0, 2), 5, 0.1, 7)
            await net.upload(local)
            (pid,) = await net.propose(task, 2, local)
            await net.mine(*(net.commit_tx(members[i], pid, 900_000) for i in everyone))
            commit_end, deadline = net.windows(pid)
            await net.mine_until(commit_end)
            await net.mine(*(net.reveal_tx(members[i], pid, 900_000) for i in everyone))
            await net.mine_until(deadline)
            made = load_version(fl_slots(net.chain), task, 3)
            await net.until(lambda: records.get(task, 3) is not None)
            expected = keccak256(mix(global_blob, local, made.alpha))
            assert records.get(task, 3) == fl_service.VersionRecord(
                task, 3, expected, records.get(task, 3).test_accuracy
            )


@pytest.mark.asyncio
async def test_a_validator_whose_bond_cannot_cover_a_commit_scores_but_sends_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A commit the bond cannot cover would revert in its block and burn its gas: the service
    says why and sends nothing; with the bond back, the next proposal is committed to."""
    async with fl_net(tmp_path / "data") as net:
        service, metrics = net.service(0)
        member = net.members[0]
        bond = net.keys.genesis.inference["bond"]
        withdraw = net.keys.tx(member.account_key, call_data("withdraw(uint256)", bond))
        await net.mine(withdraw)
        async with running(service):
            task, initial = await new_task(net)
            with caplog.at_level(logging.WARNING):
                (first,) = await net.propose(task, 0, initial)
                await net.until(lambda: count(metrics, "scored") == 1)
            assert count(metrics, "commits") == 0
            assert f"not sending score commit for {first}: the bond of 0 wei" in caplog.text
            deposit = net.keys.tx(member.account_key, call_data("deposit()"), value=bond)
            await net.mine(deposit)
            await net.propose(task, 0, initial)
            await net.until(lambda: count(metrics, "commits") == 1)
