"""Prometheus metrics of one node: chain head, consensus progress and votes, peers, mempool,
throughput, inference and FL: everything the dashboard shows (node/rpc/dashboard.py).

Each node has its own registry (tests run several nodes' code in one process), served in the
Prometheus text format at GET /metrics by an aiohttp site on 127.0.0.1 (STYLE §5: no thread
server). Rates (blocks/s, tx/s) are the PromQL `rate()` of the counters.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from brainchain.types.block import Block
from brainchain.types.commit import decode_commit
from node.site import serve_app

STEP_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
MODEL_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)
LATENCY_BUCKETS_BLOCKS = (1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50)


def _model_seconds(
    name: str, doc: str, r: CollectorRegistry, labels: tuple[str, ...] = ()
) -> Histogram:
    """A histogram of the time some model work takes, from 10 ms to 2 minutes."""
    return Histogram(name, doc, labels, buckets=MODEL_BUCKETS_S, registry=r)


class InferenceMetrics:
    """What a validator's inference service and executor did (DESIGN.md §5)."""

    def __init__(self, r: CollectorRegistry) -> None:
        self.requests = Counter("brainchain_inference_requests", "requests seen", registry=r)
        self.selected = Counter(
            "brainchain_inference_selected", "requests this validator was selected for", registry=r
        )
        self.weight = Counter(
            "brainchain_inference_weight", "committee weight this validator was given", registry=r
        )
        self.queue = Gauge("brainchain_executor_queue", "model runs waiting or running", registry=r)
        self.load_seconds = _model_seconds(
            "brainchain_model_load_seconds", "time to load a model", r, ("model",)
        )
        self.run_seconds = _model_seconds(
            "brainchain_model_run_seconds", "time to run a model on one request", r, ("model",)
        )
        self.commits = Counter("brainchain_inference_commits", "commits sent", registry=r)
        self.reveals = Counter("brainchain_inference_reveals", "reveals sent", registry=r)
        self.outcomes = Counter(
            "brainchain_inference_outcomes",
            "settled requests this validator committed to, by outcome",
            ["outcome"],
            registry=r,
        )
        self.rewards_wei = Counter(
            "brainchain_inference_rewards_wei", "fee shares earned", registry=r
        )
        self.bond_wei = Gauge(
            "brainchain_inference_bond_wei", "this validator's inference bond", registry=r
        )


class FlMetrics:
    """What the federated-learning service did (DESIGN.md §6): scoring as a committee member,
    and recomputing the global versions as every node does."""

    def __init__(self, r: CollectorRegistry) -> None:
        self.proposals = Counter("brainchain_fl_proposals", "FL proposals seen", registry=r)
        self.selected = Counter(
            "brainchain_fl_selected", "FL proposals this validator was drawn to score", registry=r
        )
        self.scored = Counter("brainchain_fl_scored", "FL proposals scored", registry=r)
        self.score_seconds = _model_seconds(
            "brainchain_fl_score_seconds", "time to fetch and score one proposal", r
        )
        self.commits = Counter("brainchain_fl_commits", "score commits sent", registry=r)
        self.reveals = Counter("brainchain_fl_reveals", "score reveals sent", registry=r)
        self.attests = Counter("brainchain_fl_attests", "version attestations sent", registry=r)
        self.recomputed = Counter(
            "brainchain_fl_versions_recomputed", "global versions recomputed", registry=r
        )
        self.recompute_seconds = _model_seconds(
            "brainchain_fl_recompute_seconds",
            "time to recompute one global version (fetch, mix, store, evaluate)",
            r,
        )
        self.mismatches = Counter(
            "brainchain_fl_hash_mismatches",
            "versions whose attested hash differs from this node's recomputation",
            registry=r,
        )
        self.collected = Counter(
            "brainchain_fl_blobs_collected", "blobs garbage-collected", registry=r
        )


class DashboardMetrics:
    """The rest of what the dashboard shows (node/rpc/dashboard.py): gauges refreshed at scrape
    time from the head's state, and request latencies observed once each."""

    def __init__(self, r: CollectorRegistry) -> None:
        self.mempool_queued = Gauge(
            "brainchain_mempool_queued_txs", "pooled transactions behind a nonce gap", registry=r
        )
        self.votes = Gauge(
            "brainchain_votes",
            "votes held for the height in progress, by kind",
            ["kind"],
            registry=r,
        )
        self.inference_requests = Gauge(
            "brainchain_inference_requests_by_status",
            "the newest inference requests (up to 100), by stored status",
            ["status"],
            registry=r,
        )
        self.inference_latency = Histogram(
            "brainchain_inference_latency_blocks",
            "blocks from a request's inclusion to its finalization",
            buckets=LATENCY_BUCKETS_BLOCKS,
            registry=r,
        )
        self.fl_tasks = Gauge("brainchain_fl_tasks", "FL tasks created", registry=r)
        self.fl_version = Gauge(
            "brainchain_fl_version", "an FL task's current global version", ["task"], registry=r
        )
        self.fl_accuracy = Gauge(
            "brainchain_fl_test_accuracy",
            "this node's test accuracy of an FL task's current version (0 to 1)",
            ["task"],
            registry=r,
        )
        self._timed: set[int] = set()  # finalized requests whose latency is observed

    def observe_latencies(self, finalized: dict[int, int]) -> None:
        """Observe each finalized request's latency once; `finalized` holds the newest requests
        (request id → blocks), so the ids remembered are only those still among them."""
        for request_id, blocks in finalized.items():
            if request_id not in self._timed:
                self.inference_latency.observe(blocks)
        self._timed = set(finalized)


class NodeMetrics:
    """The node's instruments, fed by the chain's commits and the consensus driver."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.height = Gauge("brainchain_height", "height of the head block", registry=r)
        self.round = Gauge("brainchain_round", "consensus round at the current height", registry=r)
        self.peers = Gauge("brainchain_peers", "connected libp2p peers", registry=r)
        self.mempool = Gauge("brainchain_mempool_txs", "transactions in the mempool", registry=r)
        self.blocks = Counter("brainchain_blocks", "blocks committed", registry=r)
        self.txs = Counter("brainchain_txs", "transactions committed", registry=r)
        self.height_seconds = Histogram(
            "brainchain_height_seconds",
            "time from one commit to the next",
            buckets=STEP_BUCKETS_S,
            registry=r,
        )
        self.step_seconds = Histogram(
            "brainchain_step_seconds",
            "time spent in each consensus step",
            ["step"],
            buckets=STEP_BUCKETS_S,
            registry=r,
        )
        self.commit_round = Gauge(
            "brainchain_commit_round",
            "round in which the last certified height was decided",
            registry=r,
        )
        self.precommits = Counter(
            "brainchain_validator_precommits",
            "precommits in the commit certificates of committed blocks, by validator index",
            ["validator"],
            registry=r,
        )
        self.inference = InferenceMetrics(r)
        self.fl = FlMetrics(r)
        self.dashboard = DashboardMetrics(r)
        self._last_commit = time.monotonic()
        self._position: tuple[int, int, str] | None = None  # (height, round, step) now
        self._entered = 0.0  # when the machine reached that position

    def committed(self, block: Block) -> None:
        """A block became the head."""
        now = time.monotonic()
        self.height.set(block.height)
        self.blocks.inc()
        self.txs.inc(len(block.transactions))
        self.height_seconds.observe(now - self._last_commit)
        self._last_commit = now
        if block.last_commit:  # the parent's certificate (genesis' child carries none)
            cert = decode_commit(block.last_commit)
            self.commit_round.set(cert.round)
            for precommit in cert.precommits:
                self.precommits.labels(validator=str(precommit.validator)).inc()

    def consensus_at(self, height: int, round_: int, step: str) -> None:
        """The machine's position after an event: closes the previous step's timing."""
        position = (height, round_, step)
        if position != self._position:
            now = time.monotonic()
            if self._position is not None:
                self.step_seconds.labels(step=self._position[2]).observe(now - self._entered)
            self._position, self._entered = position, now
        self.round.set(round_)

    def render(self) -> bytes:
        return generate_latest(self.registry)


async def serve(
    metrics: NodeMetrics,
    sample: Callable[[], None],
    *,
    host: str,
    port: int,
    ready: asyncio.Event,
    bound: list[int],
) -> None:
    """Serve GET /metrics until cancelled; `sample` refreshes the gauges read on demand."""

    async def handle(_: web.Request) -> web.Response:
        sample()
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", handle)
    await serve_app(app, what="metrics", host=host, port=port, ready=ready, bound=bound)
