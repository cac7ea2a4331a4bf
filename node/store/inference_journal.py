"""What a validator's committee services must not forget: the output or score and the salt
behind each commitment they send (DESIGN.md §5 step 5, §6), and the federated-learning global
versions this node recomputed (node/fl/service.py).

A commitment's entry is written with sync=True before its commit transaction leaves the node,
so a validator killed between commit and reveal finds, once restarted, what to reveal; without
it the commitment could never be opened and the member would be penalised as silent (or, for
a score, would be missing from the median). A recomputed version's record is kept because the
blobs it was computed from are garbage-collected: a restarted node goes on from the last
version it computed instead of from version 0.

Three tables, all under schema.INFERENCE_JOB, told apart by the length of their keys:

| key                                        | value                                  |
| ------------------------------------------ | -------------------------------------- |
| b"I" + request id (32, BE)                 | JournalEntry: an inference commitment  |
| b"I" + b"fs" + proposal id (32, BE)        | ScoreEntry: an FL score commitment     |
| b"I" + b"fv" + task id (32) + version (8)  | VersionRecord: a recomputed FL version |
"""

from __future__ import annotations

from dataclasses import dataclass

import plyvel

from brainchain.encoding import msgpack_canon
from node.store import schema

ID_BYTES = 32
VERSION_BYTES = 8
SCORES = schema.INFERENCE_JOB + b"fs"
VERSIONS = schema.INFERENCE_JOB + b"fv"


@dataclass(frozen=True, slots=True)
class _Table:
    """Values under `prefix` whose keys have `key_bytes` bytes after it."""

    db: plyvel.DB
    prefix: bytes
    key_bytes: int

    def put(self, key: bytes, value: bytes, *, sync: bool = True) -> None:
        assert len(key) == self.key_bytes
        self.db.put(self.prefix + key, value, sync=sync)

    def get(self, key: bytes) -> bytes | None:
        value: bytes | None = self.db.get(self.prefix + key)
        return value

    def delete(self, key: bytes) -> None:
        self.db.delete(self.prefix + key, sync=True)

    def values(self) -> list[bytes]:
        """The values, by key."""
        length = len(self.prefix) + self.key_bytes
        with self.db.iterator(prefix=self.prefix) as entries:
            return [value for key, value in entries if len(key) == length]


def _id(value: int) -> bytes:
    return value.to_bytes(ID_BYTES, "big")


# --- inference ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One request this validator serves."""

    request_id: int
    output: bytes
    salt: bytes
    commitment: bytes
    commit_end: int  # last height that takes commits
    deadline: int  # last height that takes reveals
    callback_gas: int
    fee: int  # what the request escrowed for its committee
    revealed: bool = False

    def encode(self) -> bytes:
        return msgpack_canon.pack(
            [
                self.request_id,
                self.output,
                self.salt,
                self.commitment,
                self.commit_end,
                self.deadline,
                self.callback_gas,
                self.fee,
                self.revealed,
            ]
        )


class InferenceJournal:
    """Entries by request id, durable once `put` returns; the FL tables beside them."""

    def __init__(self, db: plyvel.DB) -> None:
        self._table = _Table(db, schema.INFERENCE_JOB, ID_BYTES)
        self.scores = ScoreJournal(db)
        self.fl_versions = VersionRecords(db)

    def put(self, entry: JournalEntry) -> None:
        """Persist an entry, fsynced."""
        self._table.put(_id(entry.request_id), entry.encode())

    def delete(self, request_id: int) -> None:
        self._table.delete(_id(request_id))

    def entries(self) -> list[JournalEntry]:
        """Every entry, by request id.

        Raises:
            DecodingError: an entry is corrupt (the journal is ours: a bug or a bad disk).
        """
        return [JournalEntry(*msgpack_canon.unpack(value)) for value in self._table.values()]


# --- federated learning ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreEntry:
    """One proposal this validator scores (FL_REGISTRY commitScore → revealScore →
    attestVersion)."""

    proposal_id: int
    task_id: int
    score: int  # in brainchain.fl score units
    salt: bytes
    commitment: bytes
    commit_end: int  # last height that takes commits
    deadline: int  # last height that takes reveals; finalized at its end
    revealed: bool = False  # the reveal was sent
    attested: bool = False  # the attestation of the version it made was sent

    def encode(self) -> bytes:
        return msgpack_canon.pack(
            [
                self.proposal_id,
                self.task_id,
                self.score,
                self.salt,
                self.commitment,
                self.commit_end,
                self.deadline,
                self.revealed,
                self.attested,
            ]
        )


class ScoreJournal:
    """Score entries by proposal id, durable once `put` returns."""

    def __init__(self, db: plyvel.DB) -> None:
        self._table = _Table(db, SCORES, ID_BYTES)

    def put(self, entry: ScoreEntry) -> None:
        """Persist an entry, fsynced."""
        self._table.put(_id(entry.proposal_id), entry.encode())

    def get(self, proposal_id: int) -> ScoreEntry | None:
        value = self._table.get(_id(proposal_id))
        return None if value is None else ScoreEntry(*msgpack_canon.unpack(value))

    def delete(self, proposal_id: int) -> None:
        self._table.delete(_id(proposal_id))

    def entries(self) -> list[ScoreEntry]:
        """Every entry, by proposal id.

        Raises:
            DecodingError: an entry is corrupt.
        """
        return [ScoreEntry(*msgpack_canon.unpack(value)) for value in self._table.values()]


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """A global version as this node holds it: the keccak of its blob, and its accuracy on the
    held-out test split in score units (None: the node cannot evaluate the model). `adopted`:
    not recomputed here but taken from the chain's attested hash, the blobs to recompute it
    from being gone (node/fl/service.py)."""

    task_id: int
    version: int
    computed_hash: bytes
    test_accuracy: int | None
    adopted: bool = False

    def encode(self) -> bytes:
        return msgpack_canon.pack(
            [self.task_id, self.version, self.computed_hash, self.test_accuracy, self.adopted]
        )


class VersionRecords:
    """Recomputed versions by (task, version)."""

    def __init__(self, db: plyvel.DB) -> None:
        self._table = _Table(db, VERSIONS, ID_BYTES + VERSION_BYTES)

    @staticmethod
    def _key(task_id: int, version: int) -> bytes:
        return _id(task_id) + version.to_bytes(VERSION_BYTES, "big")

    def put(self, record: VersionRecord) -> None:
        """Persist a record. Not fsynced: a record a crash loses is recomputed."""
        self._table.put(self._key(record.task_id, record.version), record.encode(), sync=False)

    def get(self, task_id: int, version: int) -> VersionRecord | None:
        value = self._table.get(self._key(task_id, version))
        return None if value is None else VersionRecord(*msgpack_canon.unpack(value))

    def latest(self) -> dict[int, VersionRecord]:
        """Each task's newest recomputed version, by task id.

        Raises:
            DecodingError: a record is corrupt.
        """
        newest: dict[int, VersionRecord] = {}
        for value in self._table.values():  # by task, then version: the last one wins
            record = VersionRecord(*msgpack_canon.unpack(value))
            newest[record.task_id] = record
        return newest
