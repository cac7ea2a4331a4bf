"""node.p2p.direct: frames cut back out of a byte stream however it arrives, headers checked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.p2p.direct import HEADER, FrameError, FrameReader, encode_frame
from node.p2p.limits import DIRECT_TOPICS, GOSSIP_MAX_BYTES, TOPIC_EVIDENCE, TOPIC_VOTES

frames = st.lists(st.tuples(st.sampled_from(DIRECT_TOPICS), st.binary(max_size=300)), max_size=20)


@given(frames, st.lists(st.integers(min_value=1, max_value=700), max_size=40))
def test_frames_come_back_in_order_however_the_bytes_are_cut(
    sent: list[tuple[str, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(encode_frame(topic, data) for topic, data in sent)
    reader, received, offset = FrameReader(), [], 0
    for cut in cuts:
        received += reader.feed(stream[offset : offset + cut])
        offset += cut
    received += reader.feed(stream[offset:])
    assert received == sent
    assert reader.feed(b"") == []


def test_a_frame_over_its_topic_limit_is_refused_from_its_header_alone() -> None:
    limit = GOSSIP_MAX_BYTES[TOPIC_VOTES]
    header = HEADER.pack(limit + 1, DIRECT_TOPICS.index(TOPIC_VOTES))
    with pytest.raises(FrameError, match="limit"):
        FrameReader().feed(header)  # no payload needed to know
    at_limit = encode_frame(TOPIC_VOTES, b"v" * limit)
    assert FrameReader().feed(at_limit) == [(TOPIC_VOTES, b"v" * limit)]


def test_an_unknown_topic_index_is_refused() -> None:
    reader = FrameReader()
    assert reader.feed(encode_frame(TOPIC_EVIDENCE, b"e")) == [(TOPIC_EVIDENCE, b"e")]
    with pytest.raises(FrameError, match="unknown topic"):
        reader.feed(HEADER.pack(1, len(DIRECT_TOPICS)) + b"x")


def test_sending_checks_the_topic_and_the_limit() -> None:
    with pytest.raises(ValueError, match="not sent directly"):
        encode_frame("/brainchain/other/1", b"")
    with pytest.raises(ValueError, match="exceed"):
        encode_frame(TOPIC_VOTES, b"v" * (GOSSIP_MAX_BYTES[TOPIC_VOTES] + 1))
