"""What a validator's inference service must not forget: the output and salt behind each
commitment it sends (DESIGN.md §5 step 5).

An entry is written with sync=True before its commit transaction leaves the node, so a
validator killed between commit and reveal finds, once restarted, what to reveal; without it
the commitment could never be opened and the member would be penalised as silent.
"""

from __future__ import annotations

from dataclasses import dataclass

import plyvel

from brainchain.encoding import msgpack_canon
from node.store import schema

ID_BYTES = 32


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


def _key(request_id: int) -> bytes:
    return schema.INFERENCE_JOB + request_id.to_bytes(ID_BYTES, "big")


class InferenceJournal:
    """Entries by request id, durable once `put` returns."""

    def __init__(self, db: plyvel.DB) -> None:
        self._db = db

    def put(self, entry: JournalEntry) -> None:
        """Persist an entry, fsynced."""
        self._db.put(_key(entry.request_id), entry.encode(), sync=True)

    def delete(self, request_id: int) -> None:
        self._db.delete(_key(request_id), sync=True)

    def entries(self) -> list[JournalEntry]:
        """Every entry, by request id.

        Raises:
            DecodingError: an entry is corrupt (the journal is ours: a bug or a bad disk).
        """
        return [
            JournalEntry(*msgpack_canon.unpack(value))
            for _, value in self._db.iterator(prefix=schema.INFERENCE_JOB)
        ]
