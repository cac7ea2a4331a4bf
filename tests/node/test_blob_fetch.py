"""Blobs over /brainchain/blob/1: real libp2p hosts on 127.0.0.1 serve FL weights chunk by chunk;
the fetcher checks them against their id, bans a lying peer and gets them from an honest one."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import plyvel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from brainchain.crypto.keccak import keccak256
from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError
from node.blob_fetch import (
    NOT_FOUND,
    BlobChunk,
    BlobFetcher,
    BlobRequest,
    BlobUnavailable,
    answer_blob,
    decode_blob_request,
    decode_blob_response,
)
from node.p2p import P2PError, PeerMisbehaved, limits
from node.p2p.bridge import Handler, P2PNode
from node.p2p.limits import BLOB_CHUNK_BYTES, PROTOCOL_BLOB
from node.store.blobs import MAX_BLOB_BYTES, BlobStore, BlobTooLarge
from tests.fuzz.hostile import MSGPACK, deep_field, hostile, shaped
from tests.fuzz.profile import FUZZ
from tests.node.test_p2p import Net, network, until

SIZE = 2 * BLOB_CHUNK_BYTES + 4321  # three chunks, the last one short


def blob(seed: int, size: int = SIZE) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Callable[[str], BlobStore]]:
    """Opens a blob store per name, each in its own LevelDB under tmp_path."""
    dbs: list[plyvel.DB] = []

    def open_store(name: str) -> BlobStore:
        dbs.append(plyvel.DB(str(tmp_path / name), create_if_missing=True))
        return BlobStore(dbs[-1])

    yield open_store
    for db in dbs:
        db.close()


class Server:
    """A peer's blob handler: answers from `store` as the node does, after `lie` (if any) has
    rewritten the answer; counts the requests it got."""

    def __init__(
        self, store: BlobStore, lie: Callable[[BlobChunk], Awaitable[bytes]] | None = None
    ) -> None:
        self.store, self.lie, self.requests = store, lie, 0

    async def __call__(self, peer_id: str, request: bytes) -> bytes:
        self.requests += 1
        answer = await asyncio.to_thread(answer_blob, self.store, peer_id, request)
        chunk = decode_blob_response(answer)
        return answer if self.lie is None or chunk is None else await self.lie(chunk)


async def serving(net: Net, name: str, handler: Handler) -> P2PNode:
    return await net.start(name, protocols={PROTOCOL_BLOB: handler})


async def client(
    net: Net, store: BlobStore, peers: list[P2PNode], seed: int = 1, chunk_timeout_s: float = 10
) -> tuple[P2PNode, BlobFetcher]:
    """A node connected to `peers`, and a fetcher that asks them through it."""
    node = await net.start("client")
    for peer in peers:
        await node.connect(peer.listen_addrs[0])
    return (
        node,
        BlobFetcher(
            store,
            node,
            misbehaved=node.penalise,
            rng=random.Random(seed),
            chunk_timeout_s=chunk_timeout_s,
        ),
    )


async def banned(node: P2PNode, peer: P2PNode) -> None:
    await until(lambda: peer.peer_id not in node.peers())
    with pytest.raises(P2PError, match="banned"):
        await node.connect(peer.listen_addrs[0])


# ---- an honest peer ----


@pytest.mark.asyncio
async def test_an_honest_peer_serves_a_multi_chunk_blob_that_arrives_checked_and_stored(
    stores: Callable[[str], BlobStore],
) -> None:
    data = blob(1)
    held, mine = stores("honest"), stores("client")
    blob_id = held.put(data)
    handler = Server(held)
    async with network() as net:
        honest = await serving(net, "honest", handler)
        node, fetcher = await client(net, mine, [honest])
        assert await fetcher.fetch(blob_id, size=len(data)) == data
        assert handler.requests == 3  # chunk by chunk
        assert mine.get(blob_id) == data
        assert await fetcher.fetch(blob_id) == data  # from the store now
        assert handler.requests == 3
        assert node.peers() == [honest.peer_id]


@pytest.mark.asyncio
async def test_a_missing_blob_is_not_found_and_nobody_is_banned(
    stores: Callable[[str], BlobStore],
) -> None:
    absent = keccak256(b"never stored")
    async with network() as net:
        honest = await serving(net, "honest", Server(stores("honest")))
        node, fetcher = await client(net, stores("client"), [honest])
        with pytest.raises(BlobUnavailable, match=f"{absent.hex()} not found") as raised:
            await fetcher.fetch(absent)
        assert raised.value.reasons == {honest.peer_id: "not found"}
        assert node.peers() == [honest.peer_id]
        await net.stop(honest)
        await until(lambda: node.peers() == [])
        with pytest.raises(BlobUnavailable, match="any of 0 peers"):
            await fetcher.fetch(absent)


# ---- lying and useless peers ----


async def altered_byte(chunk: BlobChunk) -> bytes:
    data = bytearray(chunk.data)
    if data:
        data[len(data) // 2] ^= 1
    return BlobChunk(chunk.size, bytes(data)).encode()


async def size_plus_one(chunk: BlobChunk) -> bytes:
    return BlobChunk(chunk.size + 1, chunk.data).encode()


async def size_minus_one(chunk: BlobChunk) -> bytes:
    return BlobChunk(chunk.size - 1, chunk.data).encode()


async def garbage(chunk: BlobChunk) -> bytes:
    return b"\xc1" + chunk.data[:100]


LIES = {
    "altered byte": altered_byte,
    "size + 1": size_plus_one,
    "size - 1": size_minus_one,
    "garbage": garbage,
}


@pytest.mark.parametrize("lie", LIES.values(), ids=LIES.keys())
@pytest.mark.asyncio
async def test_a_lying_peer_is_banned_and_the_blob_comes_from_an_honest_one(
    stores: Callable[[str], BlobStore], lie: Callable[[BlobChunk], Awaitable[bytes]]
) -> None:
    """Two fetches: the order rotates, so one of them asks the liar first, whatever the seed."""
    datas = [blob(2), blob(3, BLOB_CHUNK_BYTES // 3)]
    held, lies, mine = stores("honest"), stores("liar"), stores("client")
    ids = [held.put(data) for data in datas]
    for data in datas:
        lies.put(data)
    liar_handler = Server(lies, lie)
    async with network() as net:
        honest = await serving(net, "honest", Server(held))
        liar = await serving(net, "liar", liar_handler)
        node, fetcher = await client(net, mine, [honest, liar])
        for blob_id, data in zip(ids, datas, strict=True):
            assert await fetcher.fetch(blob_id) == data
            assert mine.get(blob_id) == data
        assert liar_handler.requests > 0
        await banned(node, liar)
        assert node.peers() == [honest.peer_id]


@pytest.mark.asyncio
async def test_a_peer_declaring_another_size_than_the_chain_is_banned_after_one_chunk(
    stores: Callable[[str], BlobStore],
) -> None:
    datas = [blob(4), blob(5)]
    held, lies, mine = stores("honest"), stores("liar"), stores("client")
    ids = [held.put(data) for data in datas]
    for data in datas:
        lies.put(data)
    liar_handler = Server(lies, size_plus_one)
    async with network() as net:
        honest = await serving(net, "honest", Server(held))
        liar = await serving(net, "liar", liar_handler)
        node, fetcher = await client(net, mine, [honest, liar])
        for blob_id, data in zip(ids, datas, strict=True):
            assert await fetcher.fetch(blob_id, size=len(data)) == data
        assert liar_handler.requests == 1
        await banned(node, liar)


@pytest.mark.asyncio
async def test_a_size_over_the_limit_is_refused_without_reading_the_rest(
    stores: Callable[[str], BlobStore],
) -> None:
    """The limit is ours, not the protocol's (another node may allow more): the peer is passed
    over, not banned."""

    async def huge(chunk: BlobChunk) -> bytes:
        return BlobChunk(MAX_BLOB_BYTES + 1, chunk.data).encode()

    datas = [blob(6), blob(7)]
    held, lies, mine = stores("honest"), stores("liar"), stores("client")
    ids = [held.put(data) for data in datas]
    for data in datas:
        lies.put(data)
    liar_handler = Server(lies, huge)
    async with network() as net:
        honest = await serving(net, "honest", Server(held))
        liar = await serving(net, "liar", liar_handler)
        node, fetcher = await client(net, mine, [honest, liar])
        for blob_id, data in zip(ids, datas, strict=True):
            assert await fetcher.fetch(blob_id) == data
        assert liar_handler.requests == 1
        assert node.peers() == sorted([honest.peer_id, liar.peer_id])
        only_liar = await net.start("only-liar")
        await only_liar.connect(liar.listen_addrs[0])
        alone = BlobFetcher(
            stores("only-liar"), only_liar, misbehaved=only_liar.penalise, rng=random.Random(1)
        )
        with pytest.raises(BlobUnavailable, match="exceeds the limit"):
            await alone.fetch(ids[0])
        with pytest.raises(BlobTooLarge):  # the chain's size alone is enough to refuse
            await alone.fetch(ids[0], size=MAX_BLOB_BYTES + 1)
        assert liar_handler.requests == 2


@pytest.mark.asyncio
async def test_a_peer_that_stalls_is_passed_over_after_the_chunk_timeout(
    stores: Callable[[str], BlobStore],
) -> None:
    asked = asyncio.Event()

    async def stall(peer_id: str, request: bytes) -> bytes:
        asked.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    datas = [blob(8), blob(9)]
    held, mine = stores("honest"), stores("client")
    ids = [held.put(data) for data in datas]
    async with network() as net:
        honest = await serving(net, "honest", Server(held))
        staller = await serving(net, "staller", stall)
        node, fetcher = await client(net, mine, [honest, staller], chunk_timeout_s=0.2)
        for blob_id, data in zip(ids, datas, strict=True):
            assert await fetcher.fetch(blob_id) == data
        assert asked.is_set()
        assert node.peers() == sorted([honest.peer_id, staller.peer_id])


# ---- bad requests ----

BAD_REQUESTS = {
    "not msgpack": b"\xc1",
    "not a list": msgpack_canon.pack(b"x" * 32),
    "short id": msgpack_canon.pack([b"x" * 31, 0, 1]),
    "negative offset": msgpack_canon.pack([b"x" * 32, -1, 1]),
    "zero length": msgpack_canon.pack([b"x" * 32, 0, 0]),
    "length over a chunk": msgpack_canon.pack([b"x" * 32, 0, BLOB_CHUNK_BYTES + 1]),
    "bool offset": msgpack_canon.pack([b"x" * 32, False, 1]),
    "extra field": msgpack_canon.pack([b"x" * 32, 0, 1, 0]),
}


@pytest.mark.asyncio
async def test_bad_requests_get_their_sender_banned_and_the_server_serves_on(
    stores: Callable[[str], BlobStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = blob(10, 1000)
    held = stores("server")
    blob_id = held.put(data)
    handler = Server(held)
    async with network() as net:
        server = await serving(net, "server", handler)
        for name, request in BAD_REQUESTS.items():
            sender = await net.start(name)
            await sender.connect(server.listen_addrs[0])
            with pytest.raises(P2PError):
                await sender.request(server.peer_id, PROTOCOL_BLOB, request)
            await banned(server, sender)
        assert handler.requests == len(BAD_REQUESTS)

        # Over the request limit: refused from the length prefix, never handed to the handler.
        oversize = await net.start("oversize")
        await oversize.connect(server.listen_addrs[0])
        big = limits.ExchangeLimits(request=4096, response=BLOB_CHUNK_BYTES + 64)
        monkeypatch.setitem(limits.EXCHANGE_MAX_BYTES, PROTOCOL_BLOB, big)
        request = BlobRequest(blob_id, 0, 10).encode() + b"\0" * 300
        with pytest.raises(P2PError):
            await oversize.request(server.peer_id, PROTOCOL_BLOB, request)
        await banned(server, oversize)
        assert handler.requests == len(BAD_REQUESTS)
        monkeypatch.undo()

        _, fetcher = await client(net, stores("client"), [server])
        assert await fetcher.fetch(blob_id) == data


# ---- pure parts: the wire and the order of peers ----


def test_requests_and_answers_round_trip_and_bad_answers_do_not_decode(
    stores: Callable[[str], BlobStore],
) -> None:
    request = BlobRequest(b"\x07" * 32, 5, BLOB_CHUNK_BYTES)
    assert decode_blob_request(request.encode()) == request
    assert len(request.encode()) < limits.EXCHANGE_MAX_BYTES[PROTOCOL_BLOB].request
    store = stores("s")
    data = blob(11, BLOB_CHUNK_BYTES + 10)
    blob_id = store.put(data)
    answer = answer_blob(store, "peer", BlobRequest(blob_id, 0, BLOB_CHUNK_BYTES).encode())
    assert len(answer) <= limits.EXCHANGE_MAX_BYTES[PROTOCOL_BLOB].response
    assert decode_blob_response(answer) == BlobChunk(len(data), data[:BLOB_CHUNK_BYTES])
    tail = answer_blob(store, "peer", BlobRequest(blob_id, BLOB_CHUNK_BYTES, 100).encode())
    assert decode_blob_response(tail) == BlobChunk(len(data), data[BLOB_CHUNK_BYTES:])
    missing = BlobRequest(keccak256(b"absent"), 0, 1).encode()
    assert answer_blob(store, "peer", missing) == NOT_FOUND
    assert decode_blob_response(NOT_FOUND) is None
    for bad in (
        msgpack_canon.pack([1]),
        msgpack_canon.pack([True, b""]),
        msgpack_canon.pack([-1, b""]),
        msgpack_canon.pack([1, "text"]),
        msgpack_canon.pack([1, b"x" * (BLOB_CHUNK_BYTES + 1)]),
        msgpack_canon.pack(None),
    ):
        with pytest.raises(DecodingError):
            decode_blob_response(bad)


class FakeNetwork:
    """Peers answering from their stores in-process, recording whom the fetcher asked."""

    def __init__(self, servers: dict[str, BlobStore]) -> None:
        self.servers = servers
        self.asked: list[str] = []

    async def request(
        self, peer_id: str, protocol: str, data: bytes, timeout_s: float = 0
    ) -> bytes:
        self.asked.append(peer_id)
        return answer_blob(self.servers[peer_id], "fetcher", data)

    def peers(self) -> list[str]:
        return list(self.servers)


@pytest.mark.asyncio
async def test_same_seed_same_order_of_peers_and_the_order_rotates(
    stores: Callable[[str], BlobStore],
) -> None:
    """Each peer holds no blob: every fetch asks every peer once, in the order it chose."""
    names = [f"peer{i}" for i in range(5)]
    empty = {name: stores(name) for name in names}
    mine = stores("client")

    async def trace(seed: int) -> list[list[str]]:
        network = FakeNetwork(empty)
        fetcher = BlobFetcher(
            mine,
            network,
            misbehaved=lambda peer, reason: None,
            rng=random.Random(seed),
        )
        orders = []
        for n in range(len(names)):
            with pytest.raises(BlobUnavailable):
                await fetcher.fetch(keccak256(b"%d" % n))
            orders.append(network.asked[-len(names) :])
        return orders

    first = await trace(3)
    assert first == await trace(3)
    assert all(sorted(order) == names for order in first)
    assert sorted(order[0] for order in first) == names  # each peer goes first once
    others = [await trace(seed) for seed in range(4, 8)]
    assert any(other != first for other in others)  # the seed chooses where the turn starts


@pytest.mark.asyncio
async def test_a_blob_collected_while_it_is_fetched_is_no_lie(
    stores: Callable[[str], BlobStore],
) -> None:
    """The peer's FL service may collect a blob between two of our chunks: passed over, not
    reported."""
    held = stores("peer")
    blob_id = held.put(blob(12))

    class Collecting(FakeNetwork):
        async def request(
            self, peer_id: str, protocol: str, data: bytes, timeout_s: float = 0
        ) -> bytes:
            answer = await super().request(peer_id, protocol, data, timeout_s)
            held.collect(set())
            return answer

    reports: list[tuple[str, str]] = []
    fetcher = BlobFetcher(
        stores("client"),
        Collecting({"peer": held}),
        misbehaved=lambda peer, reason: reports.append((peer, reason)),
        rng=random.Random(1),
    )
    with pytest.raises(BlobUnavailable, match=f"gone at offset {BLOB_CHUNK_BYTES}"):
        await fetcher.fetch(blob_id)
    assert reports == []


# ---- fuzzed: what a peer may send in place of a request or an answer ----

SERVED = blob(13, 1000)
REQUESTS = [
    BlobRequest(keccak256(SERVED), 0, BLOB_CHUNK_BYTES).encode(),
    BlobRequest(keccak256(SERVED), 999, 1).encode(),
    BlobRequest(keccak256(b"absent"), 0, 1).encode(),
]
ANSWERS = [NOT_FOUND, BlobChunk(1000, SERVED[:100]).encode(), BlobChunk(0, b"").encode()]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlobStore]:
    """A store holding SERVED, shared by a fuzz test's examples (they only read it)."""
    db = plyvel.DB(str(tmp_path_factory.mktemp("served")), create_if_missing=True)
    store = BlobStore(db)
    store.put(SERVED)
    yield store
    db.close()


@FUZZ
@given(sent=st.one_of(hostile(REQUESTS, MSGPACK), shaped(3).map(msgpack_canon.pack), deep_field(3)))
def test_a_blob_request_is_answered_within_the_limit_or_its_sender_blamed(
    served: BlobStore, sent: bytes
) -> None:
    try:
        answer = answer_blob(served, "peer", sent)
    except PeerMisbehaved as exc:
        assert exc.peer_id == "peer"
        return
    assert len(answer) <= limits.EXCHANGE_MAX_BYTES[PROTOCOL_BLOB].response
    decode_blob_response(answer)


@FUZZ
@given(sent=st.one_of(hostile(ANSWERS, MSGPACK), shaped(2).map(msgpack_canon.pack), deep_field(2)))
def test_a_blob_answer_decodes_to_what_encodes_back_or_raises_decoding_error(sent: bytes) -> None:
    try:
        chunk = decode_blob_response(sent)
    except DecodingError:
        return
    assert (NOT_FOUND if chunk is None else chunk.encode()) == sent
