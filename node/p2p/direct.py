"""Direct messages: one hop to each connected peer, framed on one long-lived stream per peer.

Gossipsub costs every message a signature, a signed peer record, a seen-cache entry and a
relay by each mesh peer, so with n validators in a full mesh each message crosses the network
about n times over. Messages that must be fast (votes, proposals, transaction batches) instead
go once to each connected peer (as CometBFT's peers exchange consensus messages), and what
must reach nodes that are not directly connected is re-sent through gossipsub on a timer.

A stream carries frames back to back: a 4-byte big-endian length, then one byte naming the
topic (its index in DIRECT_TOPICS), then the payload. Many frames written together become one
yamux frame and one Noise message. `FrameReader` is sans-I/O (STYLE §4, as h11): it takes
bytes as they arrive and refuses a frame over its limit from its header alone.
"""

from __future__ import annotations

import struct

from node.p2p.limits import DIRECT_TOPICS, gossip_limit

HEADER = struct.Struct(">IB")  # payload length, topic index
_TOPIC_INDEX = {topic: index for index, topic in enumerate(DIRECT_TOPICS)}
_TOPIC_LIMITS = tuple(gossip_limit(topic) for topic in DIRECT_TOPICS)


class FrameError(ValueError):
    """The peer broke the framing: an unknown topic, or a payload over its topic's limit."""


def encode_frame(topic: str, data: bytes) -> bytes:
    """One frame of `data` on `topic`.

    Raises:
        ValueError: `topic` is not sent directly, or `data` is over its limit.
    """
    try:
        index = _TOPIC_INDEX[topic]
    except KeyError:
        raise ValueError(f"{topic!r} is not sent directly") from None
    if len(data) > _TOPIC_LIMITS[index]:
        raise ValueError(f"{len(data)} bytes on {topic} exceed its limit {_TOPIC_LIMITS[index]}")
    return HEADER.pack(len(data), index) + data


class FrameReader:
    """Cuts a stream's bytes into (topic, payload) frames, checking each header first."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._start = 0

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        """The frames `data` completes, in order; a partial frame waits for more bytes.

        Raises:
            FrameError: a header names an unknown topic or a payload over its limit; the
                stream is unusable after this.
        """
        buffer = self._buffer
        buffer += data
        frames = []
        start = self._start
        while len(buffer) - start >= HEADER.size:
            length, index = HEADER.unpack_from(buffer, start)
            if index >= len(DIRECT_TOPICS):
                raise FrameError(f"unknown topic index {index}")
            if length > _TOPIC_LIMITS[index]:
                raise FrameError(
                    f"{length}-byte frame on {DIRECT_TOPICS[index]}, limit {_TOPIC_LIMITS[index]}"
                )
            end = start + HEADER.size + length
            if len(buffer) < end:
                break
            frames.append((DIRECT_TOPICS[index], bytes(buffer[start + HEADER.size : end])))
            start = end
        if start == len(buffer):
            buffer.clear()
            start = 0
        elif start > len(buffer) // 2:  # drop what was read once it is most of the buffer
            del buffer[:start]
            start = 0
        self._start = start
        return frames
