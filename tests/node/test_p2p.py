"""node.p2p: real libp2p hosts on 127.0.0.1 in this process, trio a guest of the test's loop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError
from node.p2p import P2PError, PeerMisbehaved, bridge, limits
from node.p2p.bridge import P2PNode, TrioGuest
from node.p2p.direct import HEADER
from node.p2p.gossip import Gossip, pack_batches, unpack_batch
from node.p2p.limits import DIRECT_TOPICS, PROTOCOL_BLOCK_SYNC, TOPIC_TXS, TOPIC_VOTES

WAIT_S = 10.0  # generous: a wait that runs out is a failure, never a way to pace a test


def seed(name: str) -> bytes:
    return name.encode().ljust(bridge.KEY_SEED_BYTES, b".")


class Net:
    """A trio guest and the nodes started on it, in one asyncio.TaskGroup."""

    def __init__(self, tg: asyncio.TaskGroup, guest: TrioGuest) -> None:
        self.tg, self.guest = tg, guest
        self.tasks: dict[P2PNode, asyncio.Task[None]] = {}

    async def start(self, name: str, topics: Sequence[str] = (TOPIC_VOTES,), **kw: Any) -> P2PNode:
        node = P2PNode(self.guest, key_seed=seed(name), topics=topics, **kw)
        ready = asyncio.Event()
        self.tasks[node] = self.tg.create_task(node.serve(ready))
        async with asyncio.timeout(WAIT_S):
            await ready.wait()
        return node

    async def stop(self, node: P2PNode) -> None:
        task = self.tasks.pop(node)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def network() -> AsyncIterator[Net]:
    """Nodes stop in reverse start order, then the guest (STYLE §5)."""
    guest = TrioGuest()
    async with asyncio.TaskGroup() as tg:
        ready = asyncio.Event()
        guest_task = tg.create_task(guest.serve(ready))
        await ready.wait()
        net = Net(tg, guest)
        try:
            yield net
        finally:
            for node in reversed(list(net.tasks)):
                await net.stop(node)
            guest_task.cancel()


async def linked(a: P2PNode, b: P2PNode, topic: str = TOPIC_VOTES) -> None:
    """Each end has the other in its `topic` mesh: gossip between them flows from here."""
    await a.wait_for_mesh(b.peer_id, topic, WAIT_S)
    await b.wait_for_mesh(a.peer_id, topic, WAIT_S)


async def connected(a: P2PNode, b: P2PNode) -> None:
    """Each end lists the other: a direct send from either reaches the other from here
    (the two ends register a new connection at different moments)."""
    await until(lambda: b.peer_id in a.peers() and a.peer_id in b.peers())


async def next_gossip(node: P2PNode) -> Gossip:
    async with asyncio.timeout(WAIT_S):
        return await node.inbound.get()


async def until(condition: Callable[[], bool]) -> None:
    """Wait for state the API offers no event for (a disconnect); bounded by WAIT_S."""
    async with asyncio.timeout(WAIT_S):
        while not condition():
            await asyncio.sleep(0.01)


async def echo(peer_id: str, data: bytes) -> bytes:
    return peer_id.encode() + b":" + data


# ---- connecting and gossip ----


@pytest.mark.asyncio
async def test_two_hosts_connect_and_gossip_both_ways() -> None:
    async with network() as net:
        a = await net.start("a")
        b = await net.start("b", bootstrap=a.listen_addrs)
        await linked(a, b)
        assert a.peers() == [b.peer_id] and b.peers() == [a.peer_id]
        assert a.listen_addrs[0].startswith("/ip4/127.0.0.1/tcp/")
        assert not a.listen_addrs[0].startswith("/ip4/127.0.0.1/tcp/0/")

        a.publish(TOPIC_VOTES, b"from a")
        assert await next_gossip(b) == Gossip(TOPIC_VOTES, a.peer_id, b"from a")
        b.publish(TOPIC_VOTES, b"from b")
        assert await next_gossip(a) == Gossip(TOPIC_VOTES, b.peer_id, b"from b")
        assert a.inbound.empty() and b.inbound.empty()  # no echo of one's own publish


@pytest.mark.asyncio
async def test_gossip_reaches_every_subscriber_through_a_relay() -> None:
    async with network() as net:
        hub = await net.start("hub")
        b = await net.start("b", bootstrap=hub.listen_addrs)
        c = await net.start("c", bootstrap=hub.listen_addrs)
        await linked(hub, b)
        await linked(hub, c)
        assert b.peer_id not in c.peers()  # c hears b only through the hub

        b.publish(TOPIC_VOTES, b"vote")
        for node in (hub, c):
            assert await next_gossip(node) == Gossip(TOPIC_VOTES, b.peer_id, b"vote")


@pytest.mark.asyncio
async def test_a_burst_of_batches_arrives_whole() -> None:
    """More messages than py-libp2p's 32-slot queues held: none dropped on the way."""
    txs = [i.to_bytes(4, "big") * 50 for i in range(2000)]
    batches = pack_batches(txs, 8 * 1024)
    assert len(batches) > 32
    async with network() as net:
        a = await net.start("a", topics=[TOPIC_TXS])
        b = await net.start("b", topics=[TOPIC_TXS], bootstrap=a.listen_addrs)
        await linked(a, b, TOPIC_TXS)
        for batch in batches:
            a.publish(TOPIC_TXS, batch)
        received = [unpack_batch((await next_gossip(b)).data) for _ in batches]
    assert [tx for batch in received for tx in batch] == txs


# ---- direct messages ----


@pytest.mark.asyncio
async def test_direct_messages_reach_each_connected_peer_once_and_go_no_further() -> None:
    async with network() as net:
        hub = await net.start("hub")
        b = await net.start("b", bootstrap=hub.listen_addrs)
        c = await net.start("c", bootstrap=hub.listen_addrs)
        await connected(hub, b)
        await connected(hub, c)

        b.send(TOPIC_VOTES, b"vote")
        assert await next_gossip(hub) == Gossip(TOPIC_VOTES, b.peer_id, b"vote")
        hub.send(TOPIC_VOTES, b"from hub")
        # Had the hub passed b's vote on, c would have it before the hub's own message.
        assert await next_gossip(c) == Gossip(TOPIC_VOTES, hub.peer_id, b"from hub")
        assert await next_gossip(b) == Gossip(TOPIC_VOTES, hub.peer_id, b"from hub")
        assert hub.inbound.empty() and b.inbound.empty() and c.inbound.empty()


@pytest.mark.asyncio
async def test_a_burst_of_direct_messages_arrives_whole_and_in_order() -> None:
    txs = [i.to_bytes(4, "big") * 50 for i in range(2000)]
    batches = pack_batches(txs, 8 * 1024)
    async with network() as net:
        a = await net.start("a", topics=[TOPIC_TXS, TOPIC_VOTES])
        b = await net.start("b", topics=[TOPIC_TXS, TOPIC_VOTES], bootstrap=a.listen_addrs)
        await until(lambda: a.peers() == [b.peer_id])
        for i, batch in enumerate(batches):
            a.send(TOPIC_TXS, batch)
            a.send(TOPIC_VOTES, i.to_bytes(2, "big"))
        received = [await next_gossip(b) for _ in range(2 * len(batches))]
    assert [g.data for g in received[1::2]] == [i.to_bytes(2, "big") for i in range(len(batches))]
    assert [tx for g in received[::2] for tx in unpack_batch(g.data)] == txs


@pytest.mark.asyncio
async def test_what_a_peer_has_not_taken_yet_is_bounded_in_bytes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    frame_bytes = HEADER.size + 40
    monkeypatch.setattr(bridge.frames, "DIRECT_QUEUE_BYTES", 2 * frame_bytes)
    async with network() as net:
        a = await net.start("a")
        b = await net.start("b", bootstrap=a.listen_addrs)
        await until(lambda: a.peers() == [b.peer_id])
        for i in range(5):  # queued in one go: the writer takes nothing in between
            a.send(TOPIC_VOTES, bytes([i]) * 40)
        assert [(await next_gossip(b)).data[0] for _ in range(2)] == [0, 1]
        a.send(TOPIC_VOTES, b"later")  # the queue drained: room again
        assert (await next_gossip(b)).data == b"later"
    assert caplog.text.count("direct queue to") == 3


@pytest.mark.asyncio
async def test_a_peer_reads_one_direct_stream_from_each_peer() -> None:
    """A new stream replaces the peer's last one: no peer holds two partial frames here."""
    async with network() as net:
        a = await net.start("a")
        b = await net.start("b", bootstrap=a.listen_addrs)
        await until(lambda: a.peers() == [b.peer_id])
        vote = DIRECT_TOPICS.index(TOPIC_VOTES)

        async def two_streams() -> bytes:
            host, peer = b._host, bridge.node.ID.from_base58(a.peer_id)
            first = await host.new_stream(peer, [bridge.node.TProtocol(limits.PROTOCOL_DIRECT)])
            await first.write(HEADER.pack(1000, vote) + b"partial")
            second = await host.new_stream(peer, [bridge.node.TProtocol(limits.PROTOCOL_DIRECT)])
            await second.write(HEADER.pack(5, vote) + b"whole")
            with pytest.raises(bridge.peers.BaseLibp2pError):
                await first.read(1)  # reset by a
            await second.close()
            return b"done"

        assert await b._in_trio(two_streams) == b"done"
        assert await next_gossip(a) == Gossip(TOPIC_VOTES, b.peer_id, b"whole")
        assert a.peers() == [b.peer_id]  # replaced, not banned


@pytest.mark.parametrize(
    "frame",
    [
        HEADER.pack(limits.GOSSIP_MAX_BYTES[TOPIC_VOTES] + 1, DIRECT_TOPICS.index(TOPIC_VOTES)),
        HEADER.pack(1, len(DIRECT_TOPICS)) + b"?",
    ],
    ids=["oversize", "unknown-topic"],
)
@pytest.mark.asyncio
async def test_a_bad_direct_frame_gets_its_sender_banned(
    monkeypatch: pytest.MonkeyPatch, frame: bytes
) -> None:
    async with network() as net:
        honest = await net.start("honest")
        liar = await net.start("liar", bootstrap=honest.listen_addrs)
        await connected(honest, liar)
        liar.send(TOPIC_VOTES, b"fine")
        assert await next_gossip(honest) == Gossip(TOPIC_VOTES, liar.peer_id, b"fine")

        monkeypatch.setattr(bridge.node, "encode_frame", lambda topic, data: frame)
        liar.send(TOPIC_VOTES, b"whatever")
        await until(lambda: liar.peer_id not in honest.peers())
        with pytest.raises(P2PError, match="banned"):
            await honest.connect(liar.listen_addrs[0])
        assert honest.inbound.empty()


# ---- request/response ----


@pytest.mark.asyncio
async def test_request_response_both_ways_names_the_authenticated_peer() -> None:
    async with network() as net:
        a = await net.start("a", protocols={PROTOCOL_BLOCK_SYNC: echo})
        b = await net.start("b", protocols={PROTOCOL_BLOCK_SYNC: echo})
        assert await b.connect(a.listen_addrs[0]) == a.peer_id
        assert await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"1") == f"{b.peer_id}:1".encode()
        assert await a.request(b.peer_id, PROTOCOL_BLOCK_SYNC, b"2") == f"{a.peer_id}:2".encode()


@pytest.mark.asyncio
async def test_a_failing_handler_resets_one_stream_and_the_host_serves_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def handler(peer_id: str, data: bytes) -> bytes:
        if data == b"boom":
            raise RuntimeError("handler bug")
        return data

    async with network() as net:
        a = await net.start("a", protocols={PROTOCOL_BLOCK_SYNC: handler})
        b = await net.start("b", bootstrap=a.listen_addrs)
        await linked(a, b)
        with pytest.raises(P2PError):
            await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"boom")
        assert await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"ok") == b"ok"
        assert b.peer_id in a.peers()
    assert "handler bug" in caplog.text


@pytest.mark.asyncio
async def test_timeouts_and_cancelled_callers_end_requests_and_shutdown_ends_handlers() -> None:
    reached = {b"timed out": asyncio.Event(), b"cancelled": asyncio.Event()}
    ended = asyncio.Event()

    async def stall(peer_id: str, data: bytes) -> bytes:
        reached[data].set()
        try:
            await asyncio.Event().wait()
        finally:
            ended.set()
        raise AssertionError("unreachable")

    async with network() as net:
        a = await net.start("a", protocols={PROTOCOL_BLOCK_SYNC: stall})
        b = await net.start("b")
        await b.connect(a.listen_addrs[0])
        with pytest.raises(P2PError, match="no answer"):
            await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"timed out", timeout_s=0.2)
        async with asyncio.TaskGroup() as tg:
            call = tg.create_task(b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"cancelled"))
            async with asyncio.timeout(WAIT_S):
                await reached[b"cancelled"].wait()
            call.cancel()
        assert call.cancelled() and not ended.is_set()
    assert ended.is_set()


@pytest.mark.asyncio
async def test_requests_cut_short_anywhere_leave_the_connection_usable() -> None:
    """Timeouts from 0.5 to 10 ms land inside frame writes too (bridge.patches._Yamux)."""
    async with network() as net:
        a = await net.start("a", protocols={PROTOCOL_BLOCK_SYNC: echo})
        b = await net.start("b")
        await b.connect(a.listen_addrs[0])
        for i in range(60):
            with contextlib.suppress(P2PError):
                await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"x", timeout_s=(i % 20 + 1) / 2000)
            assert (
                await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"y") == f"{b.peer_id}:y".encode()
            )


@pytest.mark.asyncio
async def test_requests_to_unknown_or_unreachable_peers_fail_cleanly() -> None:
    async with network() as net:
        a = await net.start("a", protocols={PROTOCOL_BLOCK_SYNC: echo})
        b = await net.start("b")
        with pytest.raises(P2PError):  # never connected, no address known
            await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"x", timeout_s=2)
        await b.connect(a.listen_addrs[0])
        with pytest.raises(P2PError):  # b does not serve the protocol
            await a.request(b.peer_id, PROTOCOL_BLOCK_SYNC, b"x", timeout_s=2)
        c = await net.start("c")
        impostor = a.listen_addrs[0].replace(a.peer_id, c.peer_id)
        with pytest.raises(P2PError):  # a answers there, with a key that is not c's
            await b.connect(impostor)


# ---- limits and misbehaving peers ----


@pytest.mark.asyncio
async def test_oversize_gossip_is_dropped_before_delivery_and_its_sender_banned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limit = limits.GOSSIP_MAX_BYTES[TOPIC_VOTES]
    async with network() as net:
        honest = await net.start("honest")
        with monkeypatch.context() as patch:  # a peer built with a larger limit than ours
            patch.setitem(limits.GOSSIP_MAX_BYTES, TOPIC_VOTES, 4 * limit)
            liar = await net.start("liar")
        await liar.connect(honest.listen_addrs[0])
        await linked(honest, liar)

        liar.publish(TOPIC_VOTES, b"\xc1" * (limit + 1))  # not even msgpack: never decoded
        await until(lambda: liar.peer_id not in honest.peers())
        with pytest.raises(P2PError, match="banned"):
            await honest.connect(liar.listen_addrs[0])
        assert honest.inbound.empty()


@pytest.mark.asyncio
async def test_oversize_request_is_refused_from_its_length_prefix_and_sender_banned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[bytes] = []

    async def handler(peer_id: str, data: bytes) -> bytes:
        calls.append(data)
        return b"ok"

    request_limit = limits.EXCHANGE_MAX_BYTES[PROTOCOL_BLOCK_SYNC].request
    async with network() as net:
        honest = await net.start("honest", protocols={PROTOCOL_BLOCK_SYNC: handler})
        liar = await net.start("liar")
        await liar.connect(honest.listen_addrs[0])
        big = limits.ExchangeLimits(request=4 * request_limit, response=1024)
        monkeypatch.setitem(limits.EXCHANGE_MAX_BYTES, PROTOCOL_BLOCK_SYNC, big)
        with pytest.raises(P2PError):
            await liar.request(honest.peer_id, PROTOCOL_BLOCK_SYNC, b"x" * (request_limit + 1))
        await until(lambda: liar.peer_id not in honest.peers())
        assert calls == []


@pytest.mark.asyncio
async def test_oversize_response_raises_peer_misbehaved_and_bans_the_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    response_limit = limits.EXCHANGE_MAX_BYTES[PROTOCOL_BLOCK_SYNC].response

    async def flood(peer_id: str, data: bytes) -> bytes:
        return b"\0" * (response_limit + 1)

    async with network() as net:
        with monkeypatch.context() as patch:
            big = limits.ExchangeLimits(request=1024, response=2 * response_limit)
            patch.setitem(limits.EXCHANGE_MAX_BYTES, PROTOCOL_BLOCK_SYNC, big)
            liar = await net.start("liar", protocols={PROTOCOL_BLOCK_SYNC: flood})
        honest = await net.start("honest")
        await honest.connect(liar.listen_addrs[0])
        with pytest.raises(PeerMisbehaved) as raised:
            await honest.request(liar.peer_id, PROTOCOL_BLOCK_SYNC, b"blocks please")
        assert raised.value.peer_id == liar.peer_id
        await until(lambda: liar.peer_id not in honest.peers())


@pytest.mark.asyncio
async def test_a_handler_raising_peer_misbehaved_gets_the_requester_banned() -> None:
    async def strict(peer_id: str, data: bytes) -> bytes:
        raise PeerMisbehaved(peer_id, "undecodable request")

    async with network() as net:
        a = await net.start("a", protocols={PROTOCOL_BLOCK_SYNC: strict})
        b = await net.start("b", bootstrap=a.listen_addrs)
        await linked(a, b)
        with pytest.raises(P2PError):
            await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"garbage")
        await until(lambda: b.peer_id not in a.peers())


@pytest.mark.asyncio
async def test_penalise_drops_the_peer_and_refuses_it() -> None:
    async with network() as net:
        a = await net.start("a")
        b = await net.start("b", bootstrap=a.listen_addrs)
        await linked(a, b)
        a.penalise(b.peer_id, "sent an invalid vote")
        await until(lambda: b.peer_id not in a.peers())
        with pytest.raises(P2PError, match="banned"):
            await a.connect(b.listen_addrs[0])


@pytest.mark.asyncio
async def test_local_misuse_raises_value_error() -> None:
    with pytest.raises(ValueError, match="32"):
        P2PNode(TrioGuest(), key_seed=b"short")
    with pytest.raises(ValueError, match="unknown gossip topic"):
        P2PNode(TrioGuest(), key_seed=seed("a"), topics=["/other/1"])
    with pytest.raises(ValueError, match="/p2p/"):
        P2PNode(TrioGuest(), key_seed=seed("a"), bootstrap=["/ip4/127.0.0.1/tcp/1"])
    async with network() as net:
        a = await net.start("a")
        with pytest.raises(ValueError, match="not subscribed"):
            a.publish(TOPIC_TXS, b"x")
        with pytest.raises(ValueError, match="exceed the limit"):
            a.publish(TOPIC_VOTES, b"x" * (limits.GOSSIP_MAX_BYTES[TOPIC_VOTES] + 1))
        with pytest.raises(ValueError, match="not subscribed"):
            a.send(TOPIC_TXS, b"x")
        with pytest.raises(ValueError, match="exceed"):
            a.send(TOPIC_VOTES, b"x" * (limits.GOSSIP_MAX_BYTES[TOPIC_VOTES] + 1))
        a.send(TOPIC_VOTES, b"x")  # nobody connected: nothing to do
        await net.stop(a)
        with pytest.raises(P2PError, match="stopped"):
            a.publish(TOPIC_VOTES, b"x")
        with pytest.raises(P2PError, match="stopped"):
            a.send(TOPIC_VOTES, b"x")


# ---- identity, reconnection, shutdown ----


@pytest.mark.asyncio
async def test_same_seed_same_peer_id_and_bootstrap_peers_are_redialled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bridge.peers, "RECONNECT_INTERVAL_S", 0.1)
    async with network() as net:
        a = await net.start("a")
        b = await net.start("b", bootstrap=a.listen_addrs)
        await linked(a, b)
        for n in range(5):  # the ids of these must not shadow the next incarnation's messages
            a.publish(TOPIC_VOTES, b"before %d" % n)
            assert (await next_gossip(b)).data == b"before %d" % n
        port = int(a.listen_addrs[0].split("/")[4])
        first_id = a.peer_id
        await net.stop(a)
        await until(lambda: b.peers() == [])

        a = await net.start("a", listen_port=port)
        assert a.peer_id == first_id and a.listen_addrs[0].endswith(f"/tcp/{port}/p2p/{first_id}")
        await linked(a, b)  # b re-dialled its bootstrap peer on its own
        a.publish(TOPIC_VOTES, b"back")
        assert (await next_gossip(b)).data == b"back"
        assert (await net.start("c")).peer_id != first_id


def test_shutdown_leaves_no_tasks_threads_sockets_or_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    threads_before = set(threading.enumerate())

    async def scenario() -> set[asyncio.Task[Any]]:
        guest = TrioGuest()
        async with asyncio.TaskGroup() as tg:
            ready = asyncio.Event()
            services = [tg.create_task(guest.serve(ready))]
            await ready.wait()
            net = Net(tg, guest)
            a = await net.start("a", protocols={PROTOCOL_BLOCK_SYNC: echo})
            b = await net.start("b", bootstrap=a.listen_addrs)
            await linked(a, b)
            a.publish(TOPIC_VOTES, b"bye")
            await next_gossip(b)
            b.send(TOPIC_VOTES, b"bye")
            await next_gossip(a)
            await b.request(a.peer_id, PROTOCOL_BLOCK_SYNC, b"x")
            # As a failing supervisor's TaskGroup does: every service at once, the guest first.
            for service in [*services, *net.tasks.values()]:
                service.cancel()
        current = asyncio.current_task()
        return {task for task in asyncio.all_tasks() if task is not current}

    with (
        caplog.at_level(logging.WARNING, logger="asyncio"),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always", ResourceWarning)
        assert asyncio.run(scenario(), debug=True) == set()
        gc.collect()  # an unclosed socket warns when collected
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []
    leftover = set(threading.enumerate()) - threads_before
    # Only trio's idle worker cache may outlive the run (its threads exit after 10 s idle).
    assert all(t.daemon and t.name.startswith("Trio thread") for t in leftover), leftover
    assert "was destroyed but it is pending" not in caplog.text
    assert "never retrieved" not in caplog.text


# ---- batching (pure) ----


@given(st.lists(st.binary(max_size=300), max_size=200), st.integers(min_value=320, max_value=4096))
def test_batches_keep_order_and_fit_the_limit(items: list[bytes], limit: int) -> None:
    batches = pack_batches(items, limit)
    assert all(len(batch) <= limit for batch in batches)
    assert [item for batch in batches for item in unpack_batch(batch)] == items


def test_an_item_that_cannot_fit_is_refused_and_garbage_does_not_decode() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        pack_batches([b"x" * 100], 100)
    for garbage in (b"\xc1", msgpack_canon.pack([1, 2]), msgpack_canon.pack(b"not a list")):
        with pytest.raises(DecodingError):
            unpack_batch(garbage)
