"""The blob store: content-addressed FL weights in a real LevelDB, chunked, whole or absent."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import plyvel
import pytest

from brainchain.crypto.keccak import keccak256
from node.store import schema
from node.store.blobs import CHUNK_BYTES, BlobStore, BlobTooLarge
from node.store.leveldb import Store


@pytest.fixture
def db(tmp_path: Path) -> Iterator[plyvel.DB]:
    db = plyvel.DB(str(tmp_path / "db"), create_if_missing=True)
    yield db
    db.close()


def blob(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def test_put_returns_the_keccak_id_and_get_returns_the_bytes(db: plyvel.DB) -> None:
    store = BlobStore(db)
    data = blob(1, 2 * CHUNK_BYTES + 12_345)
    blob_id = store.put(data)
    assert blob_id == keccak256(data)
    assert store.has(blob_id) and store.size(blob_id) == len(data)
    assert store.get(blob_id) == data
    assert store.put(data) == blob_id  # again: a no-op
    assert store.get(keccak256(b"other")) is None and not store.has(keccak256(b"other"))
    assert store.size(keccak256(b"other")) is None


def test_a_blob_is_stored_in_chunk_sized_values(db: plyvel.DB) -> None:
    data = blob(2, 2 * CHUNK_BYTES + 1)
    blob_id = BlobStore(db).put(data)
    values = [len(v) for _, v in db.iterator(prefix=schema.BLOB + blob_id)]
    assert values == [8, CHUNK_BYTES, CHUNK_BYTES, 1]  # the header, then three chunks


@pytest.mark.parametrize(
    ("offset", "length"),
    [
        (0, CHUNK_BYTES),
        (CHUNK_BYTES, CHUNK_BYTES),
        (CHUNK_BYTES - 10, 20),  # across a chunk boundary
        (5, 3 * CHUNK_BYTES),  # past the end: short
        (2 * CHUNK_BYTES + 999, 10),  # the last byte
        (2 * CHUNK_BYTES + 1000, 10),  # at the end: empty
        (10 * CHUNK_BYTES, 10),  # beyond it: empty
        (7, 0),
    ],
)
def test_read_returns_a_range_as_a_file_read_does(db: plyvel.DB, offset: int, length: int) -> None:
    store = BlobStore(db)
    data = blob(3, 2 * CHUNK_BYTES + 1000)
    blob_id = store.put(data)
    assert store.read(blob_id, offset, length) == data[offset : offset + length]


def test_read_of_a_missing_blob_is_none_and_negative_ranges_are_refused(db: plyvel.DB) -> None:
    store = BlobStore(db)
    blob_id = store.put(b"weights")
    assert store.read(keccak256(b"absent"), 0, 10) is None
    with pytest.raises(ValueError, match=">= 0"):
        store.read(blob_id, -1, 10)
    with pytest.raises(ValueError, match=">= 0"):
        store.read(blob_id, 0, -1)


def test_empty_and_limit_sized_blobs_are_stored_and_one_byte_more_is_refused(
    db: plyvel.DB,
) -> None:
    store = BlobStore(db, max_bytes=CHUNK_BYTES + 1)
    empty = store.put(b"")
    assert store.get(empty) == b"" and store.size(empty) == 0
    full = blob(4, CHUNK_BYTES + 1)
    assert store.get(store.put(full)) == full
    with pytest.raises(BlobTooLarge, match=f"{CHUNK_BYTES + 2} bytes exceeds the limit") as raised:
        store.put(blob(5, CHUNK_BYTES + 2))
    assert (raised.value.size, raised.value.limit) == (CHUNK_BYTES + 2, CHUNK_BYTES + 1)
    assert len(list(db.iterator(prefix=schema.BLOB))) == 1 + 1 + 2  # nothing of the refused one


def test_collect_deletes_every_blob_not_needed_and_only_those(db: plyvel.DB) -> None:
    store = BlobStore(db)
    datas = [blob(10 + i, size) for i, size in enumerate([0, 100, CHUNK_BYTES, 3 * CHUNK_BYTES])]
    ids = [store.put(data) for data in datas]
    keep = {ids[1], ids[3], keccak256(b"needed but never stored")}
    assert store.collect(keep) == 2
    assert [store.get(i) for i in ids] == [None, datas[1], None, datas[3]]
    # Gone whole: no chunk of a collected blob is left behind.
    left = {key[1:33] for key in db.iterator(prefix=schema.BLOB, include_value=False)}
    assert left == {ids[1], ids[3]}
    assert store.collect(keep) == 0
    assert store.collect(set()) == 2
    assert list(db.iterator(prefix=schema.BLOB)) == []


def test_blobs_survive_closing_and_reopening_the_node_store(tmp_path: Path) -> None:
    data = blob(20, CHUNK_BYTES + 7)
    store = Store(tmp_path / "chain")
    blob_id = store.blobs.put(data)
    store.close()
    reopened = Store(tmp_path / "chain")
    try:
        assert reopened.blobs.get(blob_id) == data
        assert reopened.blobs.read(blob_id, CHUNK_BYTES, 100) == data[CHUNK_BYTES:]
    finally:
        reopened.close()


WRITER = textwrap.dedent(
    """
    import random, sys
    import plyvel
    from node.store.blobs import BlobStore

    store = BlobStore(plyvel.DB(sys.argv[1], create_if_missing=True))
    rng = random.Random(int(sys.argv[2]))
    while True:
        store.put(rng.randbytes(3 * 1024 * 1024 + rng.randrange(1024)))
        print("stored", flush=True)
    """
)


def test_a_kill_during_writes_leaves_every_blob_whole_or_absent(tmp_path: Path) -> None:
    """kill -9 lands somewhere in a stream of multi-chunk writes; every blob left reads back
    whole and hashes to its id."""
    path = tmp_path / "db"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), "7"],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert writer.stdout is not None
        for _ in range(3):  # some blobs are written, and the next is under way
            assert writer.stdout.readline() == b"stored\n"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    db = plyvel.DB(str(path))
    try:
        store = BlobStore(db)
        ids = [key[1:] for key in db.iterator(prefix=schema.BLOB, include_value=False)]
        ids = [i for i in ids if len(i) == 32]
        assert len(ids) >= 3
        assert all(keccak256(store.get(i) or b"") == i for i in ids)
        # Nothing but whole blobs: a header per blob and exactly its chunks.
        assert store.collect(set()) == len(ids)
        assert list(db.iterator(prefix=schema.BLOB)) == []
    finally:
        db.close()
