"""The node's executor: a bounded queue of model runs on worker threads, off the event loop.

Threads, not processes: torch releases the GIL inside its kernels, so the asyncio loop (votes,
blocks, RPC) keeps running while a model generates, and the loaded weights are shared with the
INFERENCE_SYNC runner, which the block-execution thread calls. The thread count torch uses is
the model spec's (node/executors/determinism.py), so with the default concurrency of 1 no two
runs race on torch's global setting; a node that raises concurrency must serve models of one
thread count.

A job that is cancelled before its turn (its commit window has closed) never starts; one that
is cancelled while running stops at the next token. Models load once, on first use, and a
model whose weights differ from the spec is remembered as unavailable.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from brainchain.errors import BrainchainError, ModelUnavailable
from genesis.models import ModelSpec
from node.executors.determinism import device_name
from node.executors.models import JobCancelled, LoadedModel, build_model, generate

log = logging.getLogger(__name__)

DEFAULT_QUEUE = 64


class QueueFull(BrainchainError):
    """The executor holds as many jobs as it may; the new one is refused."""


@dataclass(slots=True)
class ExecutorStats:
    """What the executor reports to the node's metrics."""

    on_queue: Callable[[int], None] = lambda _: None
    on_load: Callable[[str, float], None] = lambda _, __: None
    on_run: Callable[[str, float], None] = lambda _, __: None


@dataclass(slots=True)
class ExecutorPool:
    """Runs registered models (by spec hash) for the inference service and INFERENCE_SYNC."""

    specs: dict[bytes, ModelSpec]  # spec hash -> spec
    device: str = "auto"  # resolved on the first load, so torch loads with the first model
    models_dir: Path | None = None
    concurrency: int = 1
    queue_size: int = DEFAULT_QUEUE
    stats: ExecutorStats = field(default_factory=ExecutorStats)
    _threads: ThreadPoolExecutor | None = None
    _loaded: dict[bytes, LoadedModel | ModelUnavailable] = field(default_factory=dict)
    _load_lock: threading.Lock = field(default_factory=threading.Lock)
    _jobs: int = 0

    def _executor(self) -> ThreadPoolExecutor:
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.concurrency, thread_name_prefix="executor")
        return self._threads

    def close(self) -> None:
        """Stop the worker threads once their current jobs end."""
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)

    @property
    def queued(self) -> int:
        """Jobs waiting or running."""
        return self._jobs

    def model(self, spec_hash: bytes) -> LoadedModel:
        """The loaded model of a registered spec, loading it on first use.

        Raises:
            ModelUnavailable: not registered, or its weights are missing or differ.
        """
        with self._load_lock:
            loaded = self._loaded.get(spec_hash)
            if loaded is None:
                spec = self.specs.get(spec_hash)
                if spec is None:
                    raise ModelUnavailable(f"no registered model has spec hash 0x{spec_hash.hex()}")
                started = time.monotonic()
                self.device = device_name(self.device)
                try:
                    loaded = build_model(spec, self.device, self.models_dir)
                except ModelUnavailable as exc:
                    log.error("model %s unavailable: %s", spec.id, exc)
                    loaded = exc
                else:
                    seconds = time.monotonic() - started
                    self.stats.on_load(spec.id, seconds)
                    log.info("model %s loaded on %s in %.2f s", spec.id, self.device, seconds)
                self._loaded[spec_hash] = loaded
        if isinstance(loaded, ModelUnavailable):
            raise loaded
        return loaded

    async def warm(self) -> None:
        """Load every registered model on the worker threads, smallest first, so the first
        request does not pay for importing torch and building weights in its commit window."""
        loop = asyncio.get_running_loop()
        for spec_hash in sorted(self.specs, key=lambda h: self.specs[h].parameters):
            try:
                await loop.run_in_executor(self._executor(), self.model, spec_hash)
            except ModelUnavailable:
                continue  # logged by `model`; requests for it will say so too

    def run_sync(self, spec_hash: bytes, prompt: bytes, max_tokens: int) -> bytes:
        """Run a model now, on the calling thread: the INFERENCE_SYNC runner (vm/environment.py).

        Raises:
            ModelUnavailable: the model cannot be served here.
        """
        model = self.model(spec_hash)
        started = time.monotonic()
        output = generate(model, prompt, max_tokens)
        self.stats.on_run(model.spec.id, time.monotonic() - started)
        return output

    async def run(
        self, spec_hash: bytes, prompt: bytes, max_tokens: int, cancelled: Callable[[], bool]
    ) -> bytes:
        """Queue a run and wait for its output; `cancelled` is polled before and during it.

        Raises:
            QueueFull: the queue holds queue_size jobs already.
            JobCancelled: `cancelled()` became true first.
            ModelUnavailable: the model cannot be served here.
        """
        if self._jobs >= self.queue_size:
            raise QueueFull(f"executor queue holds {self._jobs} jobs")
        self._jobs += 1
        self.stats.on_queue(self._jobs)
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor(), self._work, spec_hash, prompt, max_tokens, cancelled
            )
        finally:
            self._jobs -= 1
            self.stats.on_queue(self._jobs)

    def _work(
        self, spec_hash: bytes, prompt: bytes, max_tokens: int, cancelled: Callable[[], bool]
    ) -> bytes:
        if cancelled():
            raise JobCancelled("cancelled before it started")
        model = self.model(spec_hash)
        started = time.monotonic()
        output = generate(model, prompt, max_tokens, stop=cancelled)
        self.stats.on_run(model.spec.id, time.monotonic() - started)
        return output
