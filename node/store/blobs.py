"""Content-addressed blobs in the node's LevelDB: federated-learning weights (DESIGN.md §6).

A blob's id is the keccak-256 of its bytes (a safetensors file), so whoever holds the id can
check bytes from anyone. A blob is stored as its chunks of CHUNK_BYTES, each its own value, so
serving a peer one chunk reads one value, not the whole blob, plus a header holding its size;
header and chunks go in one write batch, so after a kill -9 at any instant a blob is whole or
absent, and the header says which. Reads take a snapshot, so a concurrent `collect` cannot
remove chunks from under a read that found the header.
"""

from __future__ import annotations

from collections.abc import Iterator

import plyvel

from brainchain.crypto.keccak import keccak256
from brainchain.errors import BrainchainError
from node.store import schema

BLOB_ID_BYTES = 32
SIZE_BYTES = 8
INDEX_BYTES = 4
# One LevelDB value; equal to the wire's chunk (node/p2p/limits.py BLOB_CHUNK_BYTES), so a
# peer's aligned request costs one read.
CHUNK_BYTES = 1024 * 1024
# The largest blob the node stores or fetches by default: a few million float32 parameters,
# far above the models of issue 13 (the digits MLP's weights are tens of kilobytes).
MAX_BLOB_BYTES = 64 * 1024 * 1024
# A chunk key's index never reaches this suffix: seeking to it skips a blob's chunks.
_PAST_CHUNKS = b"\xff" * (INDEX_BYTES + 1)


class BlobTooLarge(BrainchainError):
    """A blob over the size limit: refused before it is stored or fetched further."""

    def __init__(self, size: int, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(f"blob of {size} bytes exceeds the limit of {limit}")


class BlobStoreCorrupt(BrainchainError):
    """A blob's header is present and one of its chunks is not: a bad disk or a bug."""


def _header_key(blob_id: bytes) -> bytes:
    return schema.BLOB + blob_id


def _chunk_key(blob_id: bytes, index: int) -> bytes:
    return schema.BLOB + blob_id + index.to_bytes(INDEX_BYTES, "big")


def _chunks(size: int) -> int:
    return -(-size // CHUNK_BYTES)


class BlobStore:
    """Blobs by id, each whole or absent; safe to call from worker threads (plyvel is)."""

    def __init__(self, db: plyvel.DB, max_bytes: int = MAX_BLOB_BYTES) -> None:
        self._db = db
        self.max_bytes = max_bytes

    def put(self, data: bytes) -> bytes:
        """Store `data` durably (fsynced) and return its id, keccak-256 of the bytes.

        Checks nothing but the size: the caller knows what the bytes must be.

        Raises:
            BlobTooLarge: `data` is over `max_bytes`.
        """
        if len(data) > self.max_bytes:
            raise BlobTooLarge(len(data), self.max_bytes)
        blob_id = keccak256(data)
        if self.has(blob_id):
            return blob_id
        view = memoryview(data)
        with self._db.write_batch(sync=True) as batch:
            for index in range(_chunks(len(data))):
                start = index * CHUNK_BYTES
                batch.put(_chunk_key(blob_id, index), bytes(view[start : start + CHUNK_BYTES]))
            batch.put(_header_key(blob_id), len(data).to_bytes(SIZE_BYTES, "big"))
        return blob_id

    def has(self, blob_id: bytes) -> bool:
        return self._db.get(_header_key(blob_id)) is not None

    def size(self, blob_id: bytes) -> int | None:
        """The blob's length in bytes, or None when it is not stored."""
        header = self._db.get(_header_key(blob_id))
        return None if header is None else int.from_bytes(header, "big")

    def get(self, blob_id: bytes) -> bytes | None:
        """The whole blob, or None when it is not stored.

        Raises:
            BlobStoreCorrupt: a chunk is missing.
        """
        return self._read(blob_id, 0, None)

    def read(self, blob_id: bytes, offset: int, length: int) -> bytes | None:
        """Up to `length` bytes of the blob from `offset`, short at its end as a file read is;
        None when it is not stored. Reads only the chunks that hold the range.

        Raises:
            ValueError: a negative `offset` or `length`.
            BlobStoreCorrupt: a chunk of the range is missing.
        """
        if offset < 0 or length < 0:
            raise ValueError(f"read of {length} bytes at {offset}: both must be >= 0")
        return self._read(blob_id, offset, length)

    def collect(self, needed: set[bytes]) -> int:
        """Delete every blob whose id is not in `needed`, in one batch; how many were deleted.

        The FL service passes the ids its versions still need (issue 13: weights are
        garbage-collected when no version needs them). The delete is not fsynced: blobs whose
        delete a crash loses are whole, and the next `collect` deletes them.
        """
        doomed = [(blob_id, size) for blob_id, size in self._headers() if blob_id not in needed]
        with self._db.write_batch() as batch:
            for blob_id, size in doomed:
                batch.delete(_header_key(blob_id))
                for index in range(_chunks(size)):
                    batch.delete(_chunk_key(blob_id, index))
        return len(doomed)

    def _read(self, blob_id: bytes, offset: int, length: int | None) -> bytes | None:
        """`length` bytes from `offset` (None: to the end), header and chunks from one snapshot."""
        with self._db.snapshot() as snapshot:
            header = snapshot.get(_header_key(blob_id))
            if header is None:
                return None
            size = int.from_bytes(header, "big")
            end = size if length is None else min(offset + length, size)
            if offset >= end:
                return b""
            first, last = offset // CHUNK_BYTES, (end - 1) // CHUNK_BYTES
            parts = []
            for index in range(first, last + 1):
                chunk = snapshot.get(_chunk_key(blob_id, index))
                if chunk is None:
                    raise BlobStoreCorrupt(f"blob {blob_id.hex()} lacks chunk {index}")
                parts.append(chunk)
        skip = offset - first * CHUNK_BYTES
        return b"".join(parts)[skip : skip + end - offset]

    def _headers(self) -> Iterator[tuple[bytes, int]]:
        """(id, size) of every stored blob, by id, reading headers only: the iterator seeks
        past each blob's chunks instead of reading them."""
        with self._db.iterator(prefix=schema.BLOB) as entries:
            for key, value in entries:
                if len(key) != len(schema.BLOB) + BLOB_ID_BYTES:
                    raise BlobStoreCorrupt(f"blob chunk {key.hex()} has no header")
                blob_id = key[len(schema.BLOB) :]
                yield blob_id, int.from_bytes(value, "big")
                entries.seek(_header_key(blob_id) + _PAST_CHUNKS)
