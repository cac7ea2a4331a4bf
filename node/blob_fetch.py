"""Blob exchange: serve stored blobs to peers chunk by chunk, fetch and check the ones we lack.

Federated-learning weights travel as content-addressed blobs (DESIGN.md §6, issue 13): the chain
records only a blob's id, keccak-256 of its bytes, so a node fetches the bytes from any peer
over PROTOCOL_BLOB and needs no trust in it. A request names (blob id, offset, length); the
answer carries that chunk and the blob's total size, or says the peer does not hold it. The
fetcher refuses a total over the store's limit before asking for a second chunk, checks each
chunk's length against the total and the whole against the id, and reports a peer that lied;
the exchange layer has already bounded every frame (node/p2p/limits.py).

A blob comes whole from one peer: with only the id to check, bytes from two peers that fail the
check could not be blamed on either.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from brainchain.crypto.keccak import keccak256_hasher
from brainchain.encoding import msgpack_canon
from brainchain.errors import BrainchainError, DecodingError
from node.p2p import P2PError, PeerMisbehaved
from node.p2p.limits import BLOB_CHUNK_BYTES, PROTOCOL_BLOB
from node.store.blobs import BLOB_ID_BYTES, BlobStore, BlobTooLarge

CHUNK_TIMEOUT_S = 10.0  # one chunk's exchange; a peer slower than this is skipped
NOT_FOUND = msgpack_canon.pack([])  # the answer for a blob the peer does not hold


class BlobNetwork(Protocol):
    """What the fetcher needs from node.p2p.bridge.P2PNode."""

    async def request(
        self, peer_id: str, protocol: str, data: bytes, timeout_s: float = ...
    ) -> bytes: ...

    def peers(self) -> list[str]: ...


class BlobUnavailable(P2PError):
    """No peer served a blob whole and true; `reasons` says why, by peer id."""

    def __init__(self, blob_id: bytes, reasons: Mapping[str, str]) -> None:
        self.blob_id, self.reasons = blob_id, dict(reasons)
        detail = "; ".join(f"{peer}: {why}" for peer, why in sorted(self.reasons.items()))
        super().__init__(
            f"blob {blob_id.hex()} not found on any of {len(self.reasons)} peers"
            + (f" ({detail})" if detail else "")
        )


@dataclass(frozen=True, slots=True)
class BlobRequest:
    """Ask for `length` bytes of blob `blob_id` from `offset`."""

    blob_id: bytes
    offset: int
    length: int

    def encode(self) -> bytes:
        return msgpack_canon.pack([self.blob_id, self.offset, self.length])


def decode_blob_request(data: bytes) -> BlobRequest:
    """Raises: DecodingError: not [32-byte id, offset >= 0, 1 <= length <= BLOB_CHUNK_BYTES]."""
    fields = msgpack_canon.unpack(data)
    if (
        not isinstance(fields, list)
        or len(fields) != 3
        or not isinstance(fields[0], bytes)
        or len(fields[0]) != BLOB_ID_BYTES
        or not all(isinstance(f, int) and not isinstance(f, bool) for f in fields[1:])
        or fields[1] < 0
        or not 1 <= fields[2] <= BLOB_CHUNK_BYTES
    ):
        raise DecodingError(
            f"blob request must be [{BLOB_ID_BYTES}-byte id, offset >= 0, "
            f"1 <= length <= {BLOB_CHUNK_BYTES}]"
        )
    return BlobRequest(fields[0], fields[1], fields[2])


@dataclass(frozen=True, slots=True)
class BlobChunk:
    """Bytes of a blob from the offset asked for, and the blob's total size."""

    size: int
    data: bytes

    def encode(self) -> bytes:
        return msgpack_canon.pack([self.size, self.data])


def decode_blob_response(data: bytes) -> BlobChunk | None:
    """The chunk, or None when the peer does not hold the blob.

    Raises:
        DecodingError: neither [] nor [size >= 0, bytes of at most BLOB_CHUNK_BYTES].
    """
    fields = msgpack_canon.unpack(data)
    if fields == []:
        return None
    if (
        not isinstance(fields, list)
        or len(fields) != 2
        or not isinstance(fields[0], int)
        or isinstance(fields[0], bool)
        or fields[0] < 0
        or not isinstance(fields[1], bytes)
        or len(fields[1]) > BLOB_CHUNK_BYTES
    ):
        raise DecodingError(f"blob response must be [] or [size, at most {BLOB_CHUNK_BYTES} bytes]")
    return BlobChunk(fields[0], fields[1])


def answer_blob(store: BlobStore, peer_id: str, request: bytes) -> bytes:
    """The chunk a peer asked for, from the local store only; NOT_FOUND when it is not there.

    Blocking (a LevelDB read of up to two values): the node runs it in a worker thread.

    Raises:
        PeerMisbehaved: the request does not decode.
    """
    try:
        asked = decode_blob_request(request)
    except BrainchainError as exc:
        raise PeerMisbehaved(peer_id, f"bad blob request: {exc}") from None
    size = store.size(asked.blob_id)
    data = None if size is None else store.read(asked.blob_id, asked.offset, asked.length)
    if size is None or data is None:  # data is None: collected since `size` was read
        return NOT_FOUND
    return BlobChunk(size, data).encode()


class BlobFetcher:
    """Fetches blobs by id from peers, checks them and keeps them in the store.

    Peers are asked in turn, one whole blob each, in a rotating order from a seeded start, so
    successive fetches spread over the peers. A peer whose answer breaks the protocol or whose
    bytes do not hash to the id is reported to `misbehaved` (P2PNode.penalise bans it); one that
    does not hold the blob, declares one over the limit, or times out is only passed over.
    """

    def __init__(
        self,
        store: BlobStore,
        network: BlobNetwork,
        *,
        misbehaved: Callable[[str, str], None],
        rng: random.Random,
        chunk_timeout_s: float = CHUNK_TIMEOUT_S,
    ) -> None:
        self.store = store
        self.network = network
        self._misbehaved = misbehaved
        self._turn = rng.randrange(1 << 32)
        self._chunk_timeout_s = chunk_timeout_s

    async def fetch(self, blob_id: bytes, size: int | None = None) -> bytes:
        """The blob `blob_id`, from the store or else from peers, checked and then stored.

        `size`, when the caller knows it (the chain records it with the proposal), makes a
        peer that declares another size a liar before it sends more than one chunk.

        Raises:
            ValueError: `blob_id` is not 32 bytes.
            BlobTooLarge: `size` is over the store's limit.
            BlobUnavailable: no peer served it whole and true.
        """
        if len(blob_id) != BLOB_ID_BYTES:
            raise ValueError(f"blob id of {len(blob_id)} bytes, want {BLOB_ID_BYTES}")
        if size is not None and size > self.store.max_bytes:
            raise BlobTooLarge(size, self.store.max_bytes)
        stored = await asyncio.to_thread(self.store.get, blob_id)
        if stored is not None:
            return stored
        reasons: dict[str, str] = {}
        for peer in self._order(self.network.peers()):
            try:
                data = await self._fetch_from(peer, blob_id, size)
            except PeerMisbehaved as exc:
                self._misbehaved(peer, exc.reason)
                reasons[peer] = exc.reason
            except (P2PError, BlobTooLarge) as exc:
                reasons[peer] = str(exc)
            else:
                await asyncio.to_thread(self.store.put, data)
                return data
        raise BlobUnavailable(blob_id, reasons)

    def _order(self, peers: list[str]) -> list[str]:
        """`peers` sorted, rotated to start one further along than the last fetch did."""
        ordered = sorted(peers)
        if not ordered:
            return []
        start = self._turn % len(ordered)
        self._turn += 1
        return ordered[start:] + ordered[:start]

    async def _fetch_from(self, peer: str, blob_id: bytes, size: int | None) -> bytes:
        """The whole blob from `peer`, chunk by chunk, checked against its id.

        Raises:
            PeerMisbehaved: an answer that does not decode, a size other than `size` or than
                its first answer's, a chunk of the wrong length, or bytes of another hash.
            BlobTooLarge: the declared size is over the store's limit (no more is asked).
            P2PError: not found, no answer within the chunk timeout, or the stream failed.
        """
        parts: list[bytes] = []
        hasher = keccak256_hasher()
        offset, total = 0, None
        while total is None or offset < total:
            request = BlobRequest(blob_id, offset, BLOB_CHUNK_BYTES).encode()
            response = await self.network.request(
                peer, PROTOCOL_BLOB, request, self._chunk_timeout_s
            )
            try:
                chunk = decode_blob_response(response)
            except DecodingError as exc:
                raise PeerMisbehaved(peer, f"blob response: {exc}") from None
            if chunk is None:  # after the first chunk: collected meanwhile, no lie
                raise P2PError("not found" if total is None else f"gone at offset {offset}")
            if total is None:
                if size is not None and chunk.size != size:
                    raise PeerMisbehaved(peer, f"blob of {chunk.size} bytes, not {size}")
                if chunk.size > self.store.max_bytes:
                    raise BlobTooLarge(chunk.size, self.store.max_bytes)
                total = chunk.size
            elif chunk.size != total:
                raise PeerMisbehaved(peer, f"blob size changed from {total} to {chunk.size}")
            want = min(BLOB_CHUNK_BYTES, total - offset)
            if len(chunk.data) != want:
                raise PeerMisbehaved(
                    peer, f"{len(chunk.data)} bytes at offset {offset}, want {want} of {total}"
                )
            hasher.update(chunk.data)
            parts.append(chunk.data)
            offset += want
        if hasher.digest() != blob_id:
            raise PeerMisbehaved(peer, f"bytes that do not hash to blob {blob_id.hex()}")
        return b"".join(parts)
