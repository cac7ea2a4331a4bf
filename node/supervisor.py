"""One node process: open the chain, start networking, consensus and RPC, stop cleanly.

Services run in one asyncio.TaskGroup, each started once the one before it is ready (STYLE §5):
the trio guest, the libp2p host, consensus, the inference service with its executor (torch
loads on the first model run, not at start), the federated-learning service (every node
recomputes; validators also score), then the RPC server with its blob routes. One failing
cancels the rest; SIGINT and SIGTERM cancel the group; the chain (LevelDB) closes last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable

from genesis.format import Genesis, load_genesis
from node.blob_fetch import BlobFetcher, answer_blob
from node.block_sync import answer_sync
from node.byzantine_consensus import CONSENSUS_ROLES, byzantine_consensus
from node.chain import CallLimits, Chain, NodeStatus
from node.config import (
    Byzantine,
    ConfigError,
    NodeConfig,
    NodeKeys,
    clear_runtime,
    load_keys,
    write_runtime,
)
from node.consensus_driver import ConsensusDriver
from node.executors.pool import ExecutorPool, ExecutorStats
from node.fl.data import parse_shard
from node.fl.pins import BlobPins
from node.fl.service import FlService
from node.inference_service import InferenceService
from node.metrics import NodeMetrics
from node.metrics import serve as serve_metrics
from node.p2p.bridge import P2PNode, TrioGuest
from node.p2p.faults import Faults
from node.p2p.limits import (
    PROTOCOL_BLOB,
    PROTOCOL_BLOCK_SYNC,
    TOPIC_EVIDENCE,
    TOPIC_PROPOSALS,
    TOPIC_TXS,
    TOPIC_VOTES,
)
from node.rpc import server as rpc
from node.rpc.chaos import Chaos
from node.rpc.dashboard import NodeView, sample_metrics
from node.rpc.simulations import SimulationPool
from vm.precompiles.point_evaluation import trusted_setup

log = logging.getLogger(__name__)

ServeFn = Callable[[asyncio.Event], Awaitable[None]]


async def run_node(cfg: NodeConfig) -> None:
    """Run until SIGINT/SIGTERM; print `rpc=URL p2p=ADDR` once the node serves.

    Raises:
        GenesisError, ConfigError, ChainError: the home directory cannot be served.
    """
    genesis = load_genesis(cfg.genesis_path)
    keys = load_keys(cfg.keys_path)
    check_validator_keys(genesis, keys)
    chain = Chain.open(cfg.data_dir, genesis, proposer=keys.address)
    chaos = None
    if cfg.chaos:
        log.warning(
            "CHAOS MODE: the chaos_* RPC methods can cut this node off, drop its messages and "
            "skew its clock; never run it on a real network"
        )
        chaos = Chaos(Faults(random.Random(keys.p2p_key)))
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, main.cancel)

    async def serve_blocks(peer_id: str, request: bytes) -> bytes:
        return await asyncio.to_thread(answer_sync, chain, peer_id, request)

    async def serve_blobs(peer_id: str, request: bytes) -> bytes:
        return await asyncio.to_thread(answer_blob, chain.store.blobs, peer_id, request)

    try:
        async with asyncio.TaskGroup() as tg:
            guest = TrioGuest()
            await _start(tg, guest.serve)
            p2p = P2PNode(
                guest,
                key_seed=keys.p2p_key,
                listen_host=cfg.p2p_host,
                listen_port=cfg.p2p_port,
                bootstrap=cfg.bootstrap,
                topics=[TOPIC_TXS, TOPIC_PROPOSALS, TOPIC_VOTES, TOPIC_EVIDENCE],
                protocols={PROTOCOL_BLOCK_SYNC: serve_blocks, PROTOCOL_BLOB: serve_blobs},
                faults=None if chaos is None else chaos.faults,
            )
            await _start(tg, p2p.serve)
            metrics = NodeMetrics()
            metrics.height.set(chain.head.height)
            tg.create_task(_count_blocks(chain, metrics))
            # The KZG setup takes seconds to load: not inside the first block that calls 0x0a.
            tg.create_task(asyncio.to_thread(trusted_setup))
            driver = ConsensusDriver(
                chain,
                p2p,
                consensus_key=keys.consensus_key,
                vrf_key=keys.vrf_key,
                interval_s=cfg.block_interval_s,
                empty_blocks=cfg.empty_blocks,
                metrics=metrics,
                byzantine=byzantine_consensus(cfg.byzantine, chain, keys, cfg.home),
                clock=time.time if chaos is None else chaos.clock,
            )
            await _start(tg, driver.serve)
            if cfg.run_models:
                await _start(tg, _inference_service(cfg, chain, keys, metrics).serve)
            blobs = rpc.BlobAccess(
                pins=BlobPins(),
                fetcher=BlobFetcher(
                    chain.store.blobs,
                    p2p,
                    misbehaved=p2p.penalise,
                    rng=random.Random(keys.address),
                ),
            )
            if cfg.fl:
                await _start(tg, _fl_service(cfg, chain, keys, metrics, blobs).serve)
            chain.node_status = lambda: NodeStatus(
                peers=len(p2p.peers()),
                round=driver.machine.round,
                step=driver.machine.step.name.lower(),
                validator=driver.index,
            )
            chain.call_limits = CallLimits(cfg.rpc_gas_cap, cfg.rpc_evm_timeout_s)
            view = NodeView(peers=p2p.peers, messages=driver.machine.known_messages)
            rpc_ready, bound = asyncio.Event(), []
            tg.create_task(
                rpc.serve(
                    chain,
                    host=cfg.rpc_host,
                    port=cfg.rpc_port,
                    ready=rpc_ready,
                    bound=bound,
                    simulations=SimulationPool(cfg.rpc_simulation_workers),
                    blobs=blobs,
                    chaos=chaos,
                    view=view,
                )
            )
            await rpc_ready.wait()
            metrics_url = None
            if cfg.metrics_port is not None:

                def sample() -> None:
                    metrics.peers.set(len(p2p.peers()))
                    metrics.mempool.set(len(chain.mempool))
                    sample_metrics(chain, view, metrics.dashboard)

                metrics_ready, metrics_bound = asyncio.Event(), []
                tg.create_task(
                    serve_metrics(
                        metrics,
                        sample,
                        host=cfg.rpc_host,
                        port=cfg.metrics_port,
                        ready=metrics_ready,
                        bound=metrics_bound,
                    )
                )
                await metrics_ready.wait()
                metrics_url = f"http://{cfg.rpc_host}:{metrics_bound[0]}/metrics"
            url = f"http://{cfg.rpc_host}:{bound[0]}"
            p2p_addr = p2p.listen_addrs[0]  # ends in /p2p/<peer id>
            write_runtime(cfg.home, pid=os.getpid(), rpc=url, p2p=p2p_addr, metrics=metrics_url)
            print(
                f"rpc={url} p2p={p2p_addr} metrics={metrics_url} height={chain.head.height}",
                flush=True,
            )
            log.info(
                "node ready: chain %d at height %d, validator %s",
                chain.chain_id,
                chain.head.height,
                "none" if driver.index is None else driver.index,
            )
    except asyncio.CancelledError:
        log.info("shutting down")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        clear_runtime(cfg.home)
        chain.close()


def check_validator_keys(genesis: Genesis, keys: NodeKeys) -> None:
    """A validator's keys.json must hold the keys genesis registers for it.

    Raises:
        ConfigError: genesis names this consensus key with another account or VRF key.
    """
    for validator in genesis.validators:
        if validator.consensus_pubkey != keys.consensus_pubkey:
            continue
        if (validator.address, validator.vrf_pubkey) != (keys.address, keys.vrf_pubkey):
            raise ConfigError(
                f"keys.json does not hold the account and VRF keys genesis registers for "
                f"validator {validator.name!r}"
            )


def _inference_service(
    cfg: NodeConfig, chain: Chain, keys: NodeKeys, metrics: NodeMetrics
) -> InferenceService:
    """The executor (lent to INFERENCE_SYNC too) and the validator's inference service."""
    stats = metrics.inference
    pool = ExecutorPool(
        {spec.spec_hash: spec for spec in chain.genesis.models},
        device=cfg.executor_device,
        models_dir=cfg.models_path,
        concurrency=cfg.executor_concurrency,
        queue_size=cfg.executor_queue,
        stats=ExecutorStats(
            on_queue=stats.queue.set,
            on_load=lambda model, s: stats.load_seconds.labels(model=model).observe(s),
            on_run=lambda model, s: stats.run_seconds.labels(model=model).observe(s),
        ),
    )
    chain.model_runner = pool.run_sync
    byzantine = cfg.byzantine
    if byzantine is Byzantine.RANDOM_FL_SCORE or byzantine in CONSENSUS_ROLES:
        byzantine = None  # the FL service's or the consensus driver's fault, not inference's
    return InferenceService(chain, keys, pool, stats, byzantine=byzantine, warm=cfg.warm_models)


def _fl_service(
    cfg: NodeConfig, chain: Chain, keys: NodeKeys, metrics: NodeMetrics, blobs: rpc.BlobAccess
) -> FlService:
    """The FL service, fetching and pinning blobs as the blob routes do."""
    assert blobs.fetcher is not None
    return FlService(
        chain,
        keys,
        blobs.fetcher,
        metrics.fl,
        blobs.pins,
        shard=None if cfg.fl_validation_shard is None else parse_shard(cfg.fl_validation_shard),
        byzantine=cfg.byzantine,
    )


async def _count_blocks(chain: Chain, metrics: NodeMetrics) -> None:
    """Feed every committed block to the metrics."""
    queue = chain.subscribe()
    try:
        while True:
            metrics.committed(await queue.get())
    finally:
        chain.unsubscribe(queue)


async def _start(tg: asyncio.TaskGroup, serve: ServeFn) -> None:
    """Start a service in the group and wait until it says it is ready."""
    ready = asyncio.Event()
    tg.create_task(serve(ready))
    await ready.wait()
