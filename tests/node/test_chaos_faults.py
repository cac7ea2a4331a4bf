"""Chaos mode's fault layer: real libp2p hosts in this process, then real validator processes.

The in-process tests check each fault on each path (gossip, direct frames, request/response);
the process tests cut one validator of four off through chaos_setFaults and skew a clock.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from node.cli.client import ClientError, RpcClient
from node.config import load_config, load_keys, write_config
from node.p2p import P2PError
from node.p2p.bridge import P2PNode
from node.p2p.faults import Faults, parse_rules
from node.p2p.gossip import Gossip
from node.p2p.limits import PROTOCOL_BLOCK_SYNC, TOPIC_VOTES
from tests.node.harness import Network, NodeProcess, height, wait_for_height
from tests.node.test_consensus_network import VALIDATORS, block_hashes, create_devnet
from tests.node.test_p2p import Net, connected, echo, linked, network, next_gossip, until

HELD_MS = 5000  # far longer than a loopback delivery, even on a loaded machine: order is no chance
SKEW_S = 5  # under consensus_driver.MAX_FUTURE_S: the other validators still take its blocks


def block(faults: Faults, *peers: P2PNode, **rule: object) -> None:
    """Install one rule naming `peers` (a block unless `rule` says otherwise)."""
    faults.install(parse_rules([{"peers": [p.peer_id for p in peers], "block": True, **rule}]))


async def pair(net: Net) -> tuple[P2PNode, P2PNode, Faults]:
    """`a`, and `b` in chaos mode, connected and in each other's mesh, answering requests."""
    faults = Faults(random.Random(3))
    protocols = {PROTOCOL_BLOCK_SYNC: echo}
    a = await net.start("a", protocols=protocols)
    b = await net.start("b", bootstrap=a.listen_addrs, protocols=protocols, faults=faults)
    await linked(a, b)
    await connected(a, b)
    return a, b, faults


async def gossip_items(node: P2PNode, count: int) -> list[Gossip]:
    return [await next_gossip(node) for _ in range(count)]


# ---- each fault on each path, in one process ----


@pytest.mark.asyncio
async def test_a_blocked_peer_reaches_nothing_and_is_refused_both_ways_until_healed() -> None:
    async with network() as net:
        a, b, faults = await pair(net)
        block(faults, a)
        a.publish(TOPIC_VOTES, b"gossip")
        a.send(TOPIC_VOTES, b"direct")
        await until(lambda: faults.counters.dropped == 2)
        assert b.inbound.empty()

        started = time.monotonic()
        with pytest.raises(P2PError, match="refused by a chaos rule"):
            await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"ours")
        assert time.monotonic() - started < 1.0  # at once, not after a timeout
        with pytest.raises(P2PError):
            await a.request(b.peer_id, PROTOCOL_BLOCK_SYNC, b"theirs")
        assert faults.counters.refused == 2

        faults.install(())
        a.send(TOPIC_VOTES, b"healed")
        assert await next_gossip(b) == Gossip(TOPIC_VOTES, a.peer_id, b"healed")
        assert await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"x") == f"{b.peer_id}:x".encode()
        assert await a.request(b.peer_id, PROTOCOL_BLOCK_SYNC, b"y") == f"{a.peer_id}:y".encode()


@pytest.mark.asyncio
async def test_a_delayed_message_arrives_late_and_holds_back_nothing_behind_it() -> None:
    async with network() as net:
        a, b, faults = await pair(net)
        block(faults, a, block=False, delayMs=[HELD_MS, HELD_MS])
        a.send(TOPIC_VOTES, b"late direct")
        a.publish(TOPIC_VOTES, b"late gossip")
        await until(lambda: faults.counters.delayed == 2)
        decided = time.monotonic()
        faults.install(())
        a.send(TOPIC_VOTES, b"early")  # on the stream the late frame came by

        first, *late = await gossip_items(b, 3)
        assert first.data == b"early"
        assert sorted(g.data for g in late) == [b"late direct", b"late gossip"]
        assert time.monotonic() - decided >= HELD_MS / 1000 - 0.1


@pytest.mark.asyncio
async def test_a_duplicated_message_reaches_the_node_twice() -> None:
    async with network() as net:
        a, b, faults = await pair(net)
        block(faults, a, block=False, duplicate=1.0)
        a.send(TOPIC_VOTES, b"direct")
        a.publish(TOPIC_VOTES, b"gossip")
        received = sorted(g.data for g in await gossip_items(b, 4))
        assert received == [b"direct", b"direct", b"gossip", b"gossip"]
        assert faults.counters.duplicated == 2


@pytest.mark.asyncio
async def test_gossip_rules_apply_to_the_forwarder_and_a_dropped_message_is_not_relayed() -> None:
    """a - hub - c. The hub blocking a neither hears a nor relays it to c, so a cut holds across
    relays; c blocking only a still hears a through the hub, so cutting a node off takes rules
    for every peer it could hear through."""
    async with network() as net:
        at_hub, at_c = Faults(random.Random(5)), Faults(random.Random(6))
        hub = await net.start("hub", faults=at_hub)
        a = await net.start("a", bootstrap=hub.listen_addrs)
        c = await net.start("c", bootstrap=hub.listen_addrs, faults=at_c)
        await linked(hub, a)
        await linked(hub, c)

        block(at_hub, a)
        a.publish(TOPIC_VOTES, b"cut off")
        await until(lambda: at_hub.counters.dropped == 1)
        at_hub.install(())
        a.publish(TOPIC_VOTES, b"healed")
        assert await next_gossip(c) == Gossip(TOPIC_VOTES, a.peer_id, b"healed")  # nothing before
        assert await next_gossip(hub) == Gossip(TOPIC_VOTES, a.peer_id, b"healed")

        block(at_c, a)
        a.publish(TOPIC_VOTES, b"relayed")
        assert await next_gossip(c) == Gossip(TOPIC_VOTES, a.peer_id, b"relayed")
        assert at_c.counters.dropped == 0


# ---- real validator processes ----


@pytest.fixture
def chaos_network(tmp_path: Path) -> Iterator[Network]:
    """Four validators in chaos mode at a 0.2 s block interval, committing."""
    homes = create_devnet(tmp_path / "net", 0.2)
    for home in homes:
        write_config(dataclasses.replace(load_config(home), chaos=True))
    net = Network(homes)
    try:
        for index in range(VALIDATORS):
            net.start(index)
        wait_for_height(net.clients(), 2)
        yield net
    finally:
        print(net.stop_all())


def peer_id(node: NodeProcess) -> str:
    return node.p2p.rsplit("/p2p/", 1)[1]


def test_a_validator_cut_off_stalls_while_three_commit_and_catches_up_once_healed(
    chaos_network: Network,
) -> None:
    nodes = chaos_network.nodes
    clients = [n.client() for n in nodes]
    ids = [peer_id(n) for n in nodes]
    with pytest.raises(ClientError, match=r"rule 0: drop must be .*code -32602"):
        clients[0].call("chaos_setFaults", [{"peers": [ids[3]], "block": True, "drop": 2}])
    assert clients[0].call("chaos_status")["rules"] == []  # the bad set changed nothing

    cut, rest = clients[3], clients[:3]
    for client in rest:
        assert client.call("chaos_setFaults", [{"peers": [ids[3]], "block": True}]) == 1
    assert cut.call("chaos_setFaults", [{"peers": ids[:3], "block": True}]) == 1
    stalled = height(cut)
    start = max(height(c) for c in rest)
    wait_for_height(rest, start + 8)
    assert height(cut) <= stalled + 1  # at most the block it was already deciding
    counters = cut.call("chaos_status")["counters"]
    assert counters["dropped"] > 0 and counters["refused"] > 0  # block sync asked, refused

    for client in clients:
        assert client.call("chaos_setFaults", []) == 0
    target = max(height(c) for c in clients) + 2
    wait_for_height(clients, target)
    hashes = block_hashes(clients[0], target)
    assert all(block_hashes(c, target) == hashes for c in clients[1:])


def first_block_by(
    client: RpcClient, proposer: str, above: int, timeout_s: float = 30.0
) -> dict[str, Any]:
    """The first block above height `above` that `proposer` proposed, with the wall-clock time
    it was first seen committed."""
    deadline = time.monotonic() + timeout_s
    next_height = above + 1
    while time.monotonic() < deadline:
        while next_height <= height(client):
            found = client.call("eth_getBlockByNumber", hex(next_height), False)
            if found["miner"].lower() == proposer:
                return {**found, "seen": time.time()}
            next_height += 1
        time.sleep(0.05)
    raise TimeoutError(f"no block by {proposer} above {above} in {timeout_s} s")


def test_clock_skew_moves_the_timestamps_the_skewed_node_proposes(chaos_network: Network) -> None:
    skewed = chaos_network.nodes[0]
    client = skewed.client()
    proposer = "0x" + load_keys(skewed.home / "keys.json").address.hex()
    before = first_block_by(client, proposer, 0)
    assert int(before["timestamp"], 16) <= before["seen"]

    set_at = time.time()
    assert client.call("chaos_setClockSkew", SKEW_S) == SKEW_S
    # Built once its head is past the height read after the call, so after the skew.
    skewed_block = first_block_by(client, proposer, height(client) + 1)
    timestamp = int(skewed_block["timestamp"], 16)
    assert timestamp >= int(set_at) + SKEW_S
    assert timestamp > skewed_block["seen"]  # ahead of the wall clock
    assert client.call("chaos_status")["clockSkewS"] == SKEW_S


def test_a_node_without_chaos_mode_has_no_chaos_methods(node: NodeProcess) -> None:
    client = node.client()
    for method, params in (
        ("chaos_setFaults", [[]]),
        ("chaos_setClockSkew", [1]),
        ("chaos_status", []),
    ):
        with pytest.raises(ClientError, match="code -32601"):
            client.call(method, *params)
    assert height(client) >= 0  # and it serves the rest
