"""What a connected peer sends, fuzzed: direct-stream bytes, gossip payloads, block-sync frames.

Every decoder here raises only what the node turns into `PeerMisbehaved` (FrameError for a
stream, DecodingError or InvalidTransaction for a payload); anything else would escape the
receive loop or the request handler.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brainchain.encoding import msgpack_canon
from brainchain.errors import DecodingError, InvalidTransaction
from node.block_sync import answer_sync
from node.chain import Chain
from node.p2p import PeerMisbehaved
from node.p2p.direct import HEADER, FrameError, FrameReader, encode_frame
from node.p2p.gossip import unpack_batch
from node.p2p.limits import DIRECT_TOPICS, GOSSIP_MAX_BYTES
from node.p2p.wire import (
    decode_proposal_message,
    decode_sync_request,
    decode_sync_response,
)
from tests.fuzz.hostile import MSGPACK, deep_field, hostile, shaped
from tests.fuzz.profile import FUZZ
from tests.fuzz.specimens import (
    BATCHES,
    PROPOSAL_MESSAGES,
    SYNC_REQUESTS,
    SYNC_RESPONSES,
)

# Each payload decoder (and how what it accepts encodes back), its specimens, its field count.
PAYLOADS: dict[str, tuple[Callable[[bytes], bytes], list[bytes], int]] = {
    "proposal-message": (lambda d: decode_proposal_message(d).encode(), PROPOSAL_MESSAGES, 2),
    "sync-request": (lambda d: decode_sync_request(d).encode(), SYNC_REQUESTS, 2),
    "sync-response": (lambda d: decode_sync_response(d).encode(), SYNC_RESPONSES, 2),
    "batch": (lambda d: msgpack_canon.pack(unpack_batch(d)), BATCHES, 3),
}


@pytest.mark.parametrize("payload", sorted(PAYLOADS))
@FUZZ
@given(data=st.data())
def test_payloads_decode_or_raise_what_bans_the_peer(payload: str, data: st.DataObject) -> None:
    reencode, specimens, fields = PAYLOADS[payload]
    sent = data.draw(
        st.one_of(
            hostile(specimens, MSGPACK),
            shaped(fields).map(msgpack_canon.pack),
            deep_field(fields),
        )
    )
    try:
        encoded = reencode(sent)
    except (DecodingError, InvalidTransaction):
        return
    assert encoded == sent


# A stream: real frames, raw headers naming any length and topic index, and noise.
stream_parts = st.one_of(
    st.tuples(st.sampled_from(DIRECT_TOPICS), st.binary(max_size=64)).map(
        lambda frame: encode_frame(*frame)
    ),
    st.builds(
        HEADER.pack,
        st.sampled_from([0, 1, 2**16, *GOSSIP_MAX_BYTES.values(), 2**32 - 1]),
        st.integers(0, 255),
    ),
    st.binary(max_size=16),
)


@FUZZ
@given(st.lists(stream_parts, max_size=12), st.lists(st.integers(1, 64), max_size=16))
def test_a_direct_stream_yields_frames_within_limits_or_raises_frame_error(
    parts: list[bytes], cuts: list[int]
) -> None:
    stream, reader, offset = b"".join(parts), FrameReader(), 0
    try:
        for cut in [*cuts, len(stream)]:
            for topic, frame in reader.feed(stream[offset : offset + cut]):
                assert len(frame) <= GOSSIP_MAX_BYTES[topic]
            offset += cut
    except FrameError:
        pass


@FUZZ
@given(sent=hostile(SYNC_REQUESTS, MSGPACK))
def test_a_block_sync_request_is_answered_or_its_sender_blamed(chain: Chain, sent: bytes) -> None:
    try:
        decode_sync_response(answer_sync(chain, "peer", sent))
    except PeerMisbehaved as exc:
        assert exc.peer_id == "peer"
