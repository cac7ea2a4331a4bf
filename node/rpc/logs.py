"""Log queries: eth_getLogs criteria, bloom pre-filtering, and the filter registry.

A query's block range is bounded (MAX_LOG_RANGE) so one request cannot make the node read the
whole chain; headers' logs blooms skip blocks that cannot match (Yellow Paper eq. 26-28).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from brainchain.types.block import Block
from brainchain.types.receipt import Log as ReceiptLog
from brainchain.types.receipt import logs_bloom
from node.chain import Chain
from node.rpc.errors import InvalidParams
from node.rpc.hexfmt import address, data, parse_address_param, parse_data, quantity

MAX_LOG_RANGE = 10_000
MAX_TOPICS = 4
MAX_FILTERS = 1_000


@dataclass(frozen=True, slots=True)
class LogCriteria:
    """Which logs a query wants: addresses (any of), and per position a set of topics or None."""

    addresses: frozenset[bytes]
    topics: tuple[frozenset[bytes] | None, ...]

    def matches(self, log: ReceiptLog) -> bool:
        if self.addresses and log.address not in self.addresses:
            return False
        if len(self.topics) > len(log.topics):
            return False
        return all(
            want is None or got in want for want, got in zip(self.topics, log.topics, strict=False)
        )

    def may_match(self, bloom: bytes) -> bool:
        """False only when the block's bloom proves no log can match."""
        bloom_int = int.from_bytes(bloom, "big")

        def present(item: bytes) -> bool:
            probe = int.from_bytes(logs_bloom([ReceiptLog(item, (), b"")]), "big")
            return bloom_int & probe == probe

        if self.addresses and not any(present(a) for a in self.addresses):
            return False
        return all(want is None or any(present(t) for t in want) for want in self.topics)


def parse_criteria(spec: dict[str, Any]) -> LogCriteria:
    """The address and topics parts of a filter object."""
    raw_address = spec.get("address")
    if raw_address is None:
        addresses: frozenset[bytes] = frozenset()
    elif isinstance(raw_address, list):
        addresses = frozenset(parse_address_param(a) for a in raw_address)
    else:
        addresses = frozenset({parse_address_param(raw_address)})
    raw_topics = spec.get("topics") or []
    if not isinstance(raw_topics, list) or len(raw_topics) > MAX_TOPICS:
        raise InvalidParams(f"topics must be a list of at most {MAX_TOPICS} entries")
    topics: list[frozenset[bytes] | None] = []
    for entry in raw_topics:
        if entry is None:
            topics.append(None)
        elif isinstance(entry, list):
            topics.append(frozenset(parse_data(t, "topic", 32) for t in entry) or None)
        else:
            topics.append(frozenset({parse_data(entry, "topic", 32)}))
    return LogCriteria(addresses, tuple(topics))


def block_logs(chain: Chain, block: Block, criteria: LogCriteria) -> list[dict[str, Any]]:
    """The logs of `block` that match, in eth_getLogs shape."""
    if not block.transactions or not criteria.may_match(block.header.logs_bloom):
        return []
    out = []
    log_index = 0
    for tx_index, (tx, receipt) in enumerate(
        zip(block.transactions, chain.receipts(block.hash), strict=True)
    ):
        for log in receipt.logs:
            if criteria.matches(log):
                out.append(
                    {
                        "address": address(log.address),
                        "topics": [data(t) for t in log.topics],
                        "data": data(log.data),
                        "blockNumber": quantity(block.height),
                        "blockHash": data(block.hash),
                        "transactionHash": data(tx.hash),
                        "transactionIndex": quantity(tx_index),
                        "logIndex": quantity(log_index),
                        "removed": False,
                    }
                )
            log_index += 1
    return out


def logs_in_range(
    chain: Chain, first: int, last: int, criteria: LogCriteria
) -> list[dict[str, Any]]:
    """Matching logs of blocks first..last (inclusive), bounded to MAX_LOG_RANGE blocks."""
    if last - first + 1 > MAX_LOG_RANGE:
        raise InvalidParams(f"block range too large: at most {MAX_LOG_RANGE} blocks per query")
    out: list[dict[str, Any]] = []
    for height in range(first, last + 1):
        block = chain.block_by_height(height)
        if block is not None:
            out.extend(block_logs(chain, block, criteria))
    return out


@dataclass(slots=True)
class Filter:
    """An installed filter: logs matching criteria, new block hashes, or new transaction
    hashes, since the last poll."""

    kind: str  # "logs", "blocks" or "pending"
    next_height: int  # first block not yet reported
    criteria: LogCriteria | None = None
    last_height: int | None = None  # fixed toBlock, if the filter named one
    # A pending filter's view of the pool at its last poll: what it has already reported.
    pooled: frozenset[bytes] = frozenset()


def pending_filter(chain: Chain) -> Filter:
    """A filter for transactions that reach the pool from now on (eth_newPendingTransaction-
    Filter); what is pooled already counts as seen."""
    return Filter("pending", chain.head.height + 1, pooled=_pooled(chain))


def _pooled(chain: Chain) -> frozenset[bytes]:
    return frozenset(tx.hash for tx in chain.mempool.pending())


def _new_transactions(chain: Chain, flt: Filter, first: int, last: int) -> list[str]:
    """Hashes pooled now or committed in blocks first..last that the last poll did not see.

    geth reports each transaction its pool accepts; a transaction that arrives and is
    committed between two polls has left the pool by the second, so the committed blocks
    (at most MAX_LOG_RANGE of them) are read as well. What the filter keeps between polls is
    the pool's hashes, bounded as the pool is.
    """
    blocks = (
        chain.block_by_height(h) for h in range(max(first, last - MAX_LOG_RANGE + 1), last + 1)
    )
    committed = [tx.hash for b in blocks if b is not None for tx in b.transactions]
    pooled = [tx.hash for tx in chain.mempool.pending()]
    seen = set(flt.pooled)
    out = []
    for tx_hash in committed + pooled:
        if tx_hash not in seen:
            seen.add(tx_hash)
            out.append(data(tx_hash))
    flt.pooled = frozenset(pooled)
    return out


@dataclass(slots=True)
class FilterRegistry:
    """Filters by id (eth_newFilter / eth_newBlockFilter / eth_getFilterChanges)."""

    filters: dict[str, Filter] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def install(self, flt: Filter) -> str:
        if len(self.filters) >= MAX_FILTERS:
            raise InvalidParams(f"too many filters installed (at most {MAX_FILTERS})")
        filter_id = hex(next(self._ids))
        self.filters[filter_id] = flt
        return filter_id

    def get(self, filter_id: Any) -> Filter:
        flt = self.filters.get(filter_id) if isinstance(filter_id, str) else None
        if flt is None:
            raise InvalidParams("filter not found")
        return flt

    def changes(self, chain: Chain, filter_id: Any) -> list[Any]:
        """What the filter matched since the last poll."""
        flt = self.get(filter_id)
        head = chain.head.height
        last = head if flt.last_height is None else min(head, flt.last_height)
        first, flt.next_height = flt.next_height, max(flt.next_height, last + 1)
        if flt.kind == "pending":
            return _new_transactions(chain, flt, first, last)
        if first > last:
            return []
        if flt.kind == "blocks":
            blocks = (chain.block_by_height(h) for h in range(first, last + 1))
            return [data(b.hash) for b in blocks if b is not None]
        assert flt.criteria is not None
        return logs_in_range(chain, max(first, last - MAX_LOG_RANGE + 1), last, flt.criteria)
