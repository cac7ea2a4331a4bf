"""The node's live dashboard: GET /dashboard and its static files, and the read methods it calls.

The page (node/dashboard/: plain HTML, an ES module and CSS; no build step, nothing fetched
from outside the node) talks JSON-RPC to the port that served it: over the WebSocket endpoint
with eth_subscribe("newHeads") to redraw on each block, as geth serves HTTP and WS on one port,
and over HTTP polling only when the socket fails. The methods here answer what eth_* and the
other brain_* methods do not:

    brain_consensusVotes [count]  validators, the votes this node holds for the height in
                                  progress, and who precommitted each of the last `count`
                                  heights (their commit certificates, as brain_getCommit reads)
    brain_peers                   the libp2p peers connected now
    brain_mempool [limit]         pending and queued counts and the first `limit` transactions
    brain_listInferences [count]  the last `count` inference requests, newest first, with their
                                  committees and latencies (brain_getInference, summarised)
    brain_listFlTasks [count]     the last `count` FL tasks with each version's test accuracy

Counts are optional JSON numbers or hex quantities, bounded so one call stays cheap; the same
readers feed the Prometheus gauges that mirror the page (sample_metrics).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from brainchain.fl import SCORE_SCALE
from brainchain.inference import Status
from brainchain.types.vote import ConsensusMessage, Vote
from node.chain import Chain
from node.consensus_driver import validator_set
from node.fl.registry import fl_slots, task_ids
from node.metrics import DashboardMetrics
from node.rpc.brain import brain_get_inference, head_slots, uint_param
from node.rpc.consensus import brain_get_commit
from node.rpc.errors import InvalidParams
from node.rpc.fl import brain_get_fl_task, brain_get_fl_version
from node.rpc.hexfmt import address, data, quantity
from vm.precompiles.fl_state import load_task
from vm.precompiles.inference_state import load_counter, load_request

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "dashboard"
ASSETS = {  # the only files served: name → content type
    "dashboard.js": "text/javascript",
    "dashboard.css": "text/css",
}
# A page that loads nothing from elsewhere and runs only its own script (no inline code).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

DEFAULT_HEIGHTS, MAX_HEIGHTS = 10, 100
DEFAULT_MEMPOOL, MAX_MEMPOOL = 50, 1000
DEFAULT_INFERENCES, MAX_INFERENCES = 20, 100
DEFAULT_FL_TASKS, MAX_FL_TASKS = 10, 50
MAX_FL_VERSIONS = 50  # per task: the newest ones, enough for the accuracy chart
METRICS_REQUESTS = 100  # the newest requests the inference gauges count


@dataclass(frozen=True, slots=True)
class NodeView:
    """What only the running node knows, lent to the dashboard methods by the supervisor;
    the defaults are a node without networking or consensus (the in-process RPC tests)."""

    peers: Callable[[], list[str]] = field(default=list)
    # the proposals and votes the consensus machine holds for the height in progress
    messages: Callable[[], list[ConsensusMessage]] = field(default=list)

    def votes(self) -> list[Vote]:
        """The votes held for the height in progress."""
        return [m for m in self.messages() if isinstance(m, Vote)]


def _count(params: list[Any], default: int, limit: int, name: str) -> int:
    """The one optional count param, `default` when absent or null.

    Raises:
        InvalidParams: more than one param, or a count that is not in 1..limit.
    """
    if len(params) > 1:
        raise InvalidParams(f"expected 0 to 1 params, got {len(params)}")
    if not params or params[0] is None:
        return default
    count = uint_param(params[0], name)
    if not 1 <= count <= limit:
        raise InvalidParams(f"invalid {name}: {count} is not in 1..{limit}")
    return count


# --- consensus ------------------------------------------------------------------------------


def brain_consensus_votes(view: NodeView, chain: Chain, params: list[Any]) -> dict[str, Any]:
    """The validators in index order (CometBFT's: power descending, then key), the votes held
    for the height in progress, and the certificates of the last `count` heights, newest first.

    Raises:
        InvalidParams: more than one param, or a count that is not in 1..MAX_HEIGHTS.
    """
    count = _count(params, DEFAULT_HEIGHTS, MAX_HEIGHTS, "height count")
    by_key = {v.consensus_pubkey: v for v in chain.genesis.validators}
    validators = []
    for index, member in enumerate(validator_set(chain.genesis.validators)):
        named = by_key[member.public_key]
        validators.append(
            {
                "index": index,
                "name": named.name,
                "address": address(named.address),
                "consensusKey": data(member.public_key),
                "power": member.power,
            }
        )
    status = chain.node_status()
    head = chain.head.height
    return {
        "validators": validators,
        "current": {
            "height": quantity(head + 1),
            "round": status.round,
            "step": status.step,
            "votes": [_vote_json(vote) for vote in view.votes()],
        },
        "heights": [
            brain_get_commit(chain, [quantity(h)]) for h in range(head, max(head - count, 0), -1)
        ],
    }


def _vote_json(vote: Vote) -> dict[str, Any]:
    return {
        "validator": vote.validator,
        "round": vote.round,
        "kind": vote.kind.name.lower(),
        "blockHash": None if vote.block_hash is None else data(vote.block_hash),
    }


def brain_peers(view: NodeView, chain: Chain, params: list[Any]) -> list[dict[str, str]]:
    """The libp2p peers connected now, by peer id.

    Raises:
        InvalidParams: any params.
    """
    if params:
        raise InvalidParams(f"expected 0 params, got {len(params)}")
    return [{"id": peer} for peer in view.peers()]


# --- mempool --------------------------------------------------------------------------------


def brain_mempool(chain: Chain, params: list[Any]) -> dict[str, Any]:
    """Pending and queued counts (as txpool_status) and the first `limit` pooled transactions,
    pending before queued, each by (sender, nonce) as geth's txpool_content orders them.

    Raises:
        InvalidParams: more than one param, or a limit that is not in 1..MAX_MEMPOOL.
    """
    limit = _count(params, DEFAULT_MEMPOOL, MAX_MEMPOOL, "limit")
    pending, queued = chain.mempool.content(lambda sender: chain.account(sender).nonce)
    listed = [(tx, "pending") for tx in pending] + [(tx, "queued") for tx in queued]
    return {
        "pending": len(pending),
        "queued": len(queued),
        "transactions": [
            {
                "hash": data(tx.hash),
                "from": address(tx.sender),
                "to": address(tx.to),
                "nonce": quantity(tx.nonce),
                "value": quantity(tx.value),
                "status": where,
            }
            for tx, where in listed[:limit]
        ],
    }


# --- inference and FL -----------------------------------------------------------------------


def _last_request_id(chain: Chain) -> int:
    last_id, _, _ = load_counter(head_slots(chain))
    return last_id


def brain_list_inferences(chain: Chain, params: list[Any]) -> list[dict[str, Any]]:
    """The last `count` inference requests, newest first: phase, committee (each member's
    weight, reveal and verdict) and, once finalized, the latency from inclusion in blocks and
    in seconds of block time.

    Raises:
        InvalidParams: more than one param, or a count that is not in 1..MAX_INFERENCES.
    """
    count = _count(params, DEFAULT_INFERENCES, MAX_INFERENCES, "request count")
    last = _last_request_id(chain)
    out = []
    for request_id in range(last, max(last - count, 0), -1):
        request = brain_get_inference(chain, [request_id])
        assert request is not None  # ids count from 1 up to the last one
        out.append(_inference_summary(chain, request))
    return out


def _inference_summary(chain: Chain, request: dict[str, Any]) -> dict[str, Any]:
    included = request["includedAt"]
    result = request["result"]
    finalized = None if result is None else result["finalizedAt"]
    seconds = None
    if finalized is not None:
        start, end = chain.block_by_height(included), chain.block_by_height(finalized)
        if start is not None and end is not None:
            seconds = end.header.timestamp - start.header.timestamp
    return {
        "id": request["id"],
        "model": request["model"],
        "status": request["status"],
        "phase": request["phase"],
        "includedAt": included,
        "commitEnd": request["commitEnd"],
        "deadline": request["deadline"],
        "committedWeight": request["committedWeight"],
        "quorumWeight": request["quorumWeight"],
        "committee": [
            {k: m[k] for k in ("member", "weight", "revealed", "verdict")}
            for m in request["members"]
        ],
        "finalizedAt": finalized,
        "latencyBlocks": None if finalized is None else finalized - included,
        "latencySeconds": seconds,
        "outputText": None if result is None else result["outputText"],
    }


def brain_list_fl_tasks(chain: Chain, params: list[Any]) -> list[dict[str, Any]]:
    """The last `count` FL tasks, newest first, each with its newest versions' median score
    and this node's test accuracy (null where it has not evaluated the version).

    Raises:
        InvalidParams: more than one param, or a count that is not in 1..MAX_FL_TASKS.
    """
    count = _count(params, DEFAULT_FL_TASKS, MAX_FL_TASKS, "task count")
    out = []
    for task_id in reversed(task_ids(fl_slots(chain))[-count:]):
        task = brain_get_fl_task(chain, [task_id])
        assert task is not None  # ids count from 1 up to the last one
        current = task["version"]
        versions = []
        for number in range(max(current - MAX_FL_VERSIONS + 1, 0), current + 1):
            version = brain_get_fl_version(chain, [task_id, number])
            assert version is not None  # versions up to the current one exist
            versions.append(
                {k: version[k] for k in ("version", "score", "testAccuracy", "finalizedAt")}
            )
        out.append({**task, "versions": versions})
    return out


def dashboard_methods(view: NodeView) -> dict[str, Callable[[Chain, list[Any]], Any]]:
    """The dashboard's read methods, the node-only ones bound to `view`."""
    return {
        "brain_consensusVotes": functools.partial(brain_consensus_votes, view),
        "brain_peers": functools.partial(brain_peers, view),
        "brain_mempool": brain_mempool,
        "brain_listInferences": brain_list_inferences,
        "brain_listFlTasks": brain_list_fl_tasks,
    }


# --- metrics --------------------------------------------------------------------------------


def sample_metrics(chain: Chain, view: NodeView, metrics: DashboardMetrics) -> None:
    """Refresh the gauges that mirror the page, at scrape time (node/metrics.py): queued
    transactions, votes held, inference requests by status, FL versions and accuracy."""
    _, queued = chain.pool_counts()
    metrics.mempool_queued.set(queued)
    kinds = {"prevote": 0, "precommit": 0}
    for vote in view.votes():
        kinds[vote.kind.name.lower()] += 1
    for kind, held in kinds.items():
        metrics.votes.labels(kind=kind).set(held)
    _sample_inference(chain, metrics)
    _sample_fl(chain, metrics)


def _sample_inference(chain: Chain, metrics: DashboardMetrics) -> None:
    """The newest METRICS_REQUESTS requests by stored status; the finalized ones' latencies."""
    slots = head_slots(chain)
    last = _last_request_id(chain)
    statuses = dict.fromkeys((s.name.lower() for s in Status if s is not Status.NONE), 0)
    latencies = {}
    for request_id in range(last, max(last - METRICS_REQUESTS, 0), -1):
        request = load_request(slots, request_id)
        assert request is not None  # ids count from 1 up to the last one
        statuses[request.status.name.lower()] += 1
        if request.status in (Status.FINALIZED, Status.SETTLED):
            latencies[request_id] = request.finalized - request.included
    for status, number in statuses.items():
        metrics.inference_requests.labels(status=status).set(number)
    metrics.observe_latencies(latencies)


def _sample_fl(chain: Chain, metrics: DashboardMetrics) -> None:
    """The task count; the newest MAX_FL_TASKS tasks' versions and this node's accuracy."""
    slots = fl_slots(chain)
    tasks = task_ids(slots)
    metrics.fl_tasks.set(len(tasks))
    for task_id in tasks[-MAX_FL_TASKS:]:
        task = load_task(slots, task_id)
        assert task is not None  # ids count from 1 up to the last one
        metrics.fl_version.labels(task=str(task_id)).set(task.version)
        evaluated = chain.store.inference.fl_versions.get(task_id, task.version)
        if evaluated is not None and evaluated.test_accuracy is not None:
            accuracy = evaluated.test_accuracy / SCORE_SCALE
            metrics.fl_accuracy.labels(task=str(task_id)).set(accuracy)


# --- the page -------------------------------------------------------------------------------


async def _page(_: web.Request) -> web.FileResponse:
    return _static("index.html", "text/html")


async def _asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    return _static(name, ASSETS[name])


def _static(name: str, content_type: str) -> web.FileResponse:
    return web.FileResponse(
        STATIC_DIR / name,
        headers={
            "Content-Type": f"{content_type}; charset=utf-8",
            "Content-Security-Policy": CSP,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )


def add_dashboard_routes(app: web.Application) -> None:
    """GET /dashboard (the page) and GET /dashboard/<asset> (its script and style sheet)."""
    app.router.add_get("/dashboard", _page)
    app.router.add_get("/dashboard/{name}", _asset)
