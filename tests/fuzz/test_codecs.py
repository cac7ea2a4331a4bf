"""RLP, canonical msgpack and every record built on them, fed what a hostile peer may send.

Each decoder returns a value or raises its documented error, nothing else (a RecursionError or
TypeError escaping the p2p receive loop ends the node); what it accepts is canonical (encodes
back to the same bytes) and nests no deeper than the bound.
"""

from __future__ import annotations

from collections.abc import Callable

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from brainchain.encoding import msgpack_canon, rlp
from brainchain.errors import DecodingError, InvalidTransaction
from brainchain.types.block import HEADER_FIELDS, decode_block, decode_header
from brainchain.types.commit import decode_commit
from brainchain.types.evidence import decode_evidence
from brainchain.types.transaction import decode_transaction
from brainchain.types.vote import decode_message, decode_proposal, decode_vote, encode_message
from tests.fuzz.hostile import (
    MSGPACK,
    RLP,
    deep_field,
    depth,
    hostile,
    msgpack_nested,
    msgpack_values,
    shaped,
)
from tests.fuzz.profile import FUZZ
from tests.fuzz.specimens import RECORDS, TRANSACTIONS


@FUZZ
@given(hostile([*TRANSACTIONS, rlp.encode([b"a", [b"b", [b""]]])], RLP))
def test_rlp_decodes_canonically_or_raises_decoding_error(data: bytes) -> None:
    try:
        item = rlp.decode(data)
    except DecodingError:
        return
    assert rlp.encode(item) == data
    assert depth(item) <= rlp.MAX_DEPTH


@FUZZ
@given(st.one_of(hostile([r for rs in RECORDS.values() for r in rs], MSGPACK), msgpack_values))
def test_msgpack_decodes_canonically_or_raises_decoding_error(sent: object) -> None:
    data = sent if isinstance(sent, bytes) else msgpack_canon.pack(sent)
    try:
        value = msgpack_canon.unpack(data)
    except DecodingError:
        return
    assert msgpack_canon.pack(value) == data
    assert depth(value) <= msgpack_canon.MAX_DEPTH


def test_msgpack_refuses_more_arrays_than_its_bound_unless_told() -> None:
    many = msgpack_canon.pack([[]] * msgpack_canon.MAX_ARRAYS)  # one more with the outer one
    with pytest.raises(DecodingError, match="arrays"):
        msgpack_canon.unpack(many)
    assert len(msgpack_canon.unpack(many, max_arrays=None)) == msgpack_canon.MAX_ARRAYS


@FUZZ
@given(hostile(TRANSACTIONS, RLP))
def test_transactions_decode_or_raise_invalid_transaction(data: bytes) -> None:
    try:
        tx = decode_transaction(data)
    except InvalidTransaction:
        return
    assert tx.raw == data


def _reencode_message(data: bytes) -> bytes:
    return encode_message(decode_message(data))


# Each record decoder, and how what it accepts encodes back.
RECORD_DECODERS: dict[str, Callable[[bytes], bytes]] = {
    "vote": lambda data: decode_vote(data).encode(),
    "proposal": lambda data: decode_proposal(data).encode(),
    "message": _reencode_message,
    "commit": lambda data: decode_commit(data).encode(),
    "evidence": lambda data: decode_evidence(data).encode(),
    "header": lambda data: decode_header(data).encode(),
    "block": lambda data: decode_block(data).encode(),
}
FIELDS = {
    "vote": 6,
    "proposal": 6,
    "commit": 4,
    "evidence": 2,
    "block": 4,
    "header": len(HEADER_FIELDS),
}


@pytest.mark.parametrize("record", sorted(RECORD_DECODERS))
def test_record_decoders_accept_their_specimens(record: str) -> None:
    for data in RECORDS[record]:
        assert RECORD_DECODERS[record](data) == data


@pytest.mark.parametrize("record", sorted(RECORD_DECODERS))
@FUZZ
@given(data=st.data())
def test_records_decode_canonically_or_raise_decoding_error(
    record: str, data: st.DataObject
) -> None:
    fields = FIELDS.get(record, 2)
    fake = data.draw(
        st.one_of(
            hostile(RECORDS[record], MSGPACK),
            shaped(fields).map(msgpack_canon.pack),
            deep_field(fields),
            # A message is a tag byte and a proposal or vote.
            st.tuples(st.binary(max_size=1), shaped(6).map(msgpack_canon.pack)).map(b"".join),
        )
    )
    # A block decodes its transactions: their errors are InvalidTransaction.
    refusals = (DecodingError, InvalidTransaction) if record == "block" else (DecodingError,)
    try:
        encoded = RECORD_DECODERS[record](fake)
    except refusals:
        return
    assert encoded == fake


@pytest.mark.parametrize("record", sorted(RECORD_DECODERS))
def test_a_field_nested_as_deep_as_msgpack_goes_is_refused_outside_hypothesis(record: str) -> None:
    """Found by fuzzing: a vote whose height was 1,023 nested arrays decoded, and describing the
    bad height in the error recursed past Python's limit: a RecursionError out of the p2p
    receive loop stopped the node. (Hypothesis raises the recursion limit while it runs, so the
    regression is checked here, at the interpreter's own limit.)"""
    fields = FIELDS.get(record, 2)
    for position in range(fields):
        values = [msgpack_canon.pack(0)] * fields
        values[position] = msgpack_nested(1_023)
        with pytest.raises(DecodingError):
            RECORD_DECODERS[record](msgpack.Packer().pack_array_header(fields) + b"".join(values))
