"""One node process: open the chain, start the producer and the RPC server, stop cleanly.

Services run in one asyncio.TaskGroup (STYLE §5): one failing cancels the rest; SIGINT and
SIGTERM cancel the group; the chain (LevelDB) closes last.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

from genesis.format import load_genesis
from node import producer
from node.chain import Chain
from node.config import NodeConfig, clear_runtime, load_keys, write_runtime
from node.rpc import server as rpc

log = logging.getLogger(__name__)


async def run_node(cfg: NodeConfig) -> None:
    """Run until SIGINT/SIGTERM; print `rpc=URL` once the RPC server accepts connections.

    Raises:
        GenesisError, ConfigError, ChainError: the home directory cannot be served.
    """
    genesis = load_genesis(cfg.genesis_path)
    keys = load_keys(cfg.keys_path)
    chain = Chain.open(cfg.data_dir, genesis, proposer=keys.address)
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    assert main is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, main.cancel)
    try:
        async with asyncio.TaskGroup() as tg:
            produce_ready = asyncio.Event()
            tg.create_task(
                producer.serve(
                    chain,
                    interval_s=cfg.block_interval_s,
                    empty_blocks=cfg.empty_blocks,
                    ready=produce_ready,
                )
            )
            await produce_ready.wait()
            rpc_ready, bound = asyncio.Event(), []
            tg.create_task(
                rpc.serve(chain, host=cfg.rpc_host, port=cfg.rpc_port, ready=rpc_ready, bound=bound)
            )
            await rpc_ready.wait()
            url = f"http://{cfg.rpc_host}:{bound[0]}"
            write_runtime(cfg.home, pid=os.getpid(), rpc=url)
            print(f"rpc={url} height={chain.head.height}", flush=True)
            log.info("node ready: chain %d at height %d", chain.chain_id, chain.head.height)
    except asyncio.CancelledError:
        log.info("shutting down")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)
        clear_runtime(cfg.home)
        chain.close()
