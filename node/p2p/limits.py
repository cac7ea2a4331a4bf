"""Every gossip topic and request/response protocol the node speaks, with its size limits.

Limits apply to raw bytes before anything decodes them (STYLE §5, as h11 bounds its receive
buffer): gossip is checked by a topic validator before delivery or relay, and request/response
frames are length-prefixed, so a frame over its limit is refused from the prefix alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB

TOPIC_TXS = "/brainchain/txs/1"
TOPIC_PROPOSALS = "/brainchain/proposals/1"
TOPIC_VOTES = "/brainchain/votes/1"
TOPIC_EVIDENCE = "/brainchain/evidence/1"

PROTOCOL_BLOCK_SYNC = "/brainchain/block-sync/1"
PROTOCOL_BLOB = "/brainchain/blob/1"
# Direct messages (node.p2p.direct): one stream per peer, frames naming their topic by index
# in DIRECT_TOPICS, each under its topic's gossip limit. Append topics; never reorder them.
PROTOCOL_DIRECT = "/brainchain/direct/1"
DIRECT_TOPICS = (TOPIC_TXS, TOPIC_PROPOSALS, TOPIC_VOTES, TOPIC_EVIDENCE)

# One pubsub frame; go-libp2p-pubsub's default, which py-libp2p also uses.
GOSSIP_FRAME_MAX_BYTES = 1 * MIB
# Room in a frame for what pubsub wraps around the payload (signature, key, seqno, topic and
# the sender's signed peer record), so the largest payload still fits in one frame.
GOSSIP_ENVELOPE_BYTES = 16 * KIB

GOSSIP_MAX_BYTES: Mapping[str, int] = {
    # Batches of transactions (node.p2p.gossip): at least four of the largest the node
    # accepts (node/chain.py MAX_TX_BYTES = 128 KiB).
    TOPIC_TXS: 512 * KIB,
    # A block proposal has one frame; a larger block travels by block sync.
    TOPIC_PROPOSALS: GOSSIP_FRAME_MAX_BYTES - GOSSIP_ENVELOPE_BYTES,
    # Votes of one round, re-broadcast together on a timer: a few hundred bytes per validator.
    TOPIC_VOTES: 64 * KIB,
    # One double-sign pair: two signed proposals or votes.
    TOPIC_EVIDENCE: 4 * KIB,
}


# The most of a blob (FL weights, DESIGN.md §6) one response carries: one LevelDB value
# (node/store/blobs.py CHUNK_BYTES), and about 25 ms on a loopback connection.
BLOB_CHUNK_BYTES = 1 * MIB


@dataclass(frozen=True, slots=True)
class ExchangeLimits:
    """Byte limits of one request/response protocol, each side's frame counted separately."""

    request: int
    response: int


EXCHANGE_MAX_BYTES: Mapping[str, ExchangeLimits] = {
    # A request names a height range; a response carries blocks up to msgpack's decode bound
    # (brainchain/encoding/msgpack_canon.py MAX_DECODE_BYTES).
    PROTOCOL_BLOCK_SYNC: ExchangeLimits(request=1 * KIB, response=16 * MIB),
    # A request names a blob, an offset and a length (about 50 bytes); a response carries one
    # chunk and the blob's size, with a few bytes of msgpack headers (node/blob_fetch.py).
    PROTOCOL_BLOB: ExchangeLimits(request=256, response=BLOB_CHUNK_BYTES + 64),
}


def gossip_limit(topic: str) -> int:
    """The largest payload accepted on `topic`.

    Raises:
        ValueError: the node does not speak `topic`.
    """
    try:
        return GOSSIP_MAX_BYTES[topic]
    except KeyError:
        raise ValueError(f"unknown gossip topic {topic!r}") from None


def exchange_limits(protocol: str) -> ExchangeLimits:
    """The request and response limits of `protocol`.

    Raises:
        ValueError: the node does not speak `protocol`.
    """
    try:
        return EXCHANGE_MAX_BYTES[protocol]
    except KeyError:
        raise ValueError(f"unknown request/response protocol {protocol!r}") from None


def check_outgoing(what: str, data: bytes, limit: int) -> None:
    """Refuse to send `data` that every honest peer would reject.

    Raises:
        ValueError: `data` is longer than `limit` (a bug in the caller, who must batch or split).
    """
    if len(data) > limit:
        raise ValueError(f"{what}: {len(data)} bytes exceed the limit of {limit}")
