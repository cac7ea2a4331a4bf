"""The paper's experiment: two-phase inference against single-phase on a 4-validator devnet.

    python bench/inference_load.py --seed 1 [--rates 0,0.1,0.2,0.5,1] [--seconds 60]
        [--tokens 64] [--model gptj-bench] [--transfers-per-second 50] [--block-interval 1.0]
        [--modes two-phase,single-phase] [--png bench-inference.png]
    python bench/inference_load.py --quick      # smoke run: tiny-gptj, rates 0 and 0.2, 20 s

For each mode a fresh devnet of four validator processes (models loaded at start), and for each
request rate: a steady load of pre-signed transfers plus inference requests at that rate,
evenly spaced, for --seconds; then the bench waits until the requests sent are settled or
expired (two-phase) or included (single-phase) before the next rate starts.

- two-phase: each request is a transaction calling INFERENCE.request (0x…0b03); validators
  selected by VRF run the model in their executors, off the block path, commit, then reveal.
- single-phase: each request is a transaction calling INFERENCE_SYNC.infer (0x…0b05); every
  validator runs the model inside block execution (the proposer building, the others checking).

Figures per mode and rate:
- regular tx/s: transfers in the blocks that node 0 committed during the window, per second.
- tasks/s: requests sent in the window that completed, per second of the window (finalized for
  two-phase; included, successful and within the deadline for single-phase). wall: the same
  count per second from the window's start to the last completion (at least the window): when
  blocks slow down, completions trail far behind the window and the first figure flatters;
  with a short window the second one understates two-phase, whose every request takes at least
  commit_blocks + 1 blocks.
- timeouts: two-phase, requests expired, refused or never included, over requests sent;
  single-phase, those failed, or included later than the two-phase deadline (commit_blocks +
  reveal_blocks after the head at sending), or never included, over requests sent.
- latency p50/p95 in blocks and seconds: two-phase, request inclusion to finalization;
  single-phase, sending to inclusion. Seconds between the times node 0 was seen to commit the
  blocks (the load client polls it every 0.1 s).
- gas per request: two-phase, request + commits + reveals (brain_getInference's gas.total);
  single-phase, the transaction's gasUsed.
- disagreement: two-phase requests where some member revealed an output other than the
  finalized one (it should be 0).
- s/block: seconds per block in the window; run s: mean seconds of one model run on a node
  (executor or block execution); queue: the longest executor queue a node reported; round: the
  highest consensus round a node reported (above 0: proposals timed out and were made again).

The devnet genesis is the stock one except for its block gas limit, raised in both modes so
that two single-phase requests of --tokens tokens fit one block (the stock 30M gas does not
hold one 64-token gptj-bench request at its sync_gas_per_token). All four validators share
this machine's cores: on a small machine they compete with each other for the CPU in both
modes, which a real network, one machine per validator, would not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.machine import banner
from bench.transfers import CHAIN_ID, GWEI, _fund, _keys, presign
from brainchain.crypto.keccak import keccak256
from brainchain.inference import deadline
from brainchain.types.transaction import TX_FEE_MARKET, sign_transaction
from genesis.format import DEFAULT_GAS_LIMIT
from genesis.inference import DEFAULTS as INFERENCE_DEFAULTS
from genesis.models import shipped_model
from node import devnet
from node.config import load_config, read_runtime, write_config
from vm.abi import encode_values, selector
from vm.precompiles.addresses import INFERENCE_ADDRESS, INFERENCE_SYNC_ADDRESS

TWO_PHASE = "two-phase"
SINGLE_PHASE = "single-phase"
MODES = (TWO_PHASE, SINGLE_PHASE)
VALIDATORS = 4
TRANSFER_SENDERS = 200
REQUEST_SENDERS = 40
REQUEST_GAS = 1_000_000  # INFERENCE.request measures well under this (see the gas column)
SYNC_GAS_MARGIN = 200_000  # intrinsic, calldata and the registry read, above the model's gas
TICK_S = 0.1
MODEL_LOAD_TIMEOUT_S = 600.0
RECEIPT_TIMEOUT_S = 300.0  # after the window: for the last request to be included
STALL_TIMEOUT_S = 180.0  # after the window: without any progress, give the rest up
PROMPT_BYTES = (16, 48)


# --- transactions -------------------------------------------------------------------------


def request_calldata(mode: str, model: str, prompt: bytes, tokens: int) -> bytes:
    if mode == TWO_PHASE:
        signature = "request(string,bytes,uint256,uint256)"
        args: list[Any] = [model, prompt, tokens, 0]
        types = ["string", "bytes", "uint256", "uint256"]
    else:
        signature = "infer(string,bytes,uint256)"
        args = [model, prompt, tokens]
        types = ["string", "bytes", "uint256"]
    return selector(signature) + encode_values(types, args)


@dataclass(slots=True)
class Tx:
    """A pre-signed transaction, the node it goes to, and what happened to it."""

    raw: bytes
    node: int
    hash: str
    sent_at: float = 0.0
    head_at_send: int = 0


def presign_requests(
    mode: str, keys: list[bytes], count: int, args: argparse.Namespace, rng: random.Random
) -> list[Tx]:
    """`count` request transactions, round-robin over `keys` (sender k to node k % 4)."""
    spec = shipped_model(args.model)
    nonces = [0] * len(keys)
    txs = []
    for i in range(count):
        k = i % len(keys)
        prompt = rng.randbytes(rng.randint(*PROMPT_BYTES))
        if mode == TWO_PHASE:
            to, gas, value = INFERENCE_ADDRESS, REQUEST_GAS, spec.price_per_token * args.tokens
        else:
            to, gas, value = (
                INFERENCE_SYNC_ADDRESS,
                spec.sync_gas_per_token * args.tokens + SYNC_GAS_MARGIN,
                0,
            )
        tx = sign_transaction(
            private_key=keys[k],
            tx_type=TX_FEE_MARKET,
            chain_id=CHAIN_ID,
            nonce=nonces[k],
            gas=gas,
            to=to,
            value=value,
            data=request_calldata(mode, spec.id, prompt, args.tokens),
            max_fee_per_gas=100 * GWEI,
            max_priority_fee_per_gas=GWEI,
        )
        nonces[k] += 1
        txs.append(Tx(tx.raw, k % VALIDATORS, "0x" + tx.hash.hex()))
    return txs


def gas_limit_for(args: argparse.Namespace) -> int:
    """The block gas limit of both modes' genesis: room for two single-phase requests and the
    transfers, rounded up to 10M, and never below the stock limit."""
    spec = shipped_model(args.model)
    need = 2 * (spec.sync_gas_per_token * args.tokens + SYNC_GAS_MARGIN) + 5_000_000
    return max(DEFAULT_GAS_LIMIT, math.ceil(need / 10_000_000) * 10_000_000)


# --- RPC ----------------------------------------------------------------------------------


class Rpc:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def call(self, url: str, method: str, *params: Any) -> Any:
        payload = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        async with self.session.post(url, json=payload) as response:
            answer = await response.json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    async def batch(self, url: str, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Answers in call order, each {"result": …} or {"error": …}."""
        if not calls:
            return []
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
        ]
        async with self.session.post(url, json=payload) as response:
            answers = await response.json()
        return sorted(answers, key=lambda a: a["id"])


# --- what the chain did -------------------------------------------------------------------


@dataclass(slots=True)
class Watcher:
    """Follows node 0's head: when each block was seen and which transactions it holds."""

    rpc: Rpc
    url: str
    head: int = 0
    seen_at: dict[int, float] = field(default_factory=dict)
    txs: dict[int, list[str]] = field(default_factory=dict)

    async def follow(self) -> None:
        while True:
            try:
                height = int(await self.rpc.call(self.url, "eth_blockNumber"), 16)
                for h in range(self.head + 1, height + 1):
                    block = await self.rpc.call(self.url, "eth_getBlockByNumber", hex(h), False)
                    self.seen_at[h] = time.perf_counter()
                    self.txs[h] = list(block["transactions"])
                    self.head = h
            except (aiohttp.ClientError, RuntimeError, TimeoutError):
                pass  # a busy node; ask again
            await asyncio.sleep(TICK_S)

    async def until(self, height: int, timeout_s: float) -> bool:
        end = time.perf_counter() + timeout_s
        while self.head < height:
            if time.perf_counter() > end:
                return False
            await asyncio.sleep(TICK_S)
        return True


def metric_values(text: str, name: str) -> list[float]:
    return [
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    ]


@dataclass(slots=True)
class Sampler:
    """Samples each node's executor queue once a second; reads model run times."""

    rpc: Rpc
    metrics_urls: list[str]
    queue_max: list[float] = field(default_factory=list)
    round_max: float = 0.0  # the highest consensus round any node was seen in

    async def text(self, url: str) -> str:
        async with self.rpc.session.get(url) as response:
            return await response.text()

    async def follow(self) -> None:
        self.queue_max = [0.0] * len(self.metrics_urls)
        self.round_max = 0.0
        while True:
            for i, url in enumerate(self.metrics_urls):
                try:
                    text = await self.text(url)
                except (aiohttp.ClientError, TimeoutError):
                    continue
                values = metric_values(text, "brainchain_executor_queue ")
                self.queue_max[i] = max([self.queue_max[i], *values])
                self.round_max = max([self.round_max, *metric_values(text, "brainchain_round ")])
            await asyncio.sleep(1.0)

    async def run_seconds(self, model: str) -> tuple[float, int]:
        """Sum and count of model run seconds over all nodes (executor and INFERENCE_SYNC)."""
        total, count = 0.0, 0
        for url in self.metrics_urls:
            text = await self.text(url)
            label = f'{{model="{model}"}}'
            total += sum(metric_values(text, f"brainchain_model_run_seconds_sum{label}"))
            count += int(sum(metric_values(text, f"brainchain_model_run_seconds_count{label}")))
        return total, count


# --- one rate -----------------------------------------------------------------------------


@dataclass(slots=True)
class RateResult:
    mode: str
    rate: float
    seconds: float
    transfers_sent: int = 0
    transfers_committed: int = 0
    blocks: int = 0
    sent: int = 0
    completed: int = 0
    expired: int = 0
    refused: int = 0  # failed transaction, or refused by the mempool
    missing: int = 0  # never included (single-phase: or included past the deadline)
    latency_blocks: list[int] = field(default_factory=list)
    latency_s: list[float] = field(default_factory=list)
    gas: list[int] = field(default_factory=list)  # of the completed requests
    gas_expired: list[int] = field(default_factory=list)  # two-phase, of the expired ones
    # two-phase, completed requests: the request's gas, each member's commit and reveal
    gas_request: list[int] = field(default_factory=list)
    gas_commit: list[float] = field(default_factory=list)
    gas_reveal: list[float] = field(default_factory=list)
    members: list[int] = field(default_factory=list)
    disagreements: int = 0
    queue_max: list[float] = field(default_factory=list)
    round_max: float = 0.0
    started: float = 0.0  # perf_counter at the window's start
    last_done: float = 0.0  # perf_counter when node 0 committed the last completing block
    run_s: float = 0.0  # mean model run seconds in this window, over all nodes
    runs: int = 0

    @property
    def regular_tps(self) -> float:
        return self.transfers_committed / self.seconds

    @property
    def tasks_per_s(self) -> float:
        return self.completed / self.seconds

    @property
    def wall_s(self) -> float:
        """From the window's start to the last completion, and at least the window."""
        return max(self.seconds, self.last_done - self.started)

    @property
    def tasks_per_wall_s(self) -> float:
        return self.completed / self.wall_s

    @property
    def timeouts(self) -> int:
        return self.sent - self.completed

    @property
    def block_s(self) -> float:
        return self.seconds / self.blocks if self.blocks else math.inf


def percentile(values: list[float] | list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))])


@dataclass(slots=True)
class Bench:
    mode: str
    args: argparse.Namespace
    urls: list[str]
    rpc: Rpc
    watcher: Watcher
    sampler: Sampler
    windows: tuple[int, int]  # commit_blocks, reveal_blocks

    async def send_transfers(self, batch: list[Tx], hashes: set[str]) -> None:
        by_node: dict[int, list[Tx]] = {}
        for tx in batch:
            by_node.setdefault(tx.node, []).append(tx)

        async def one(node: int, txs: list[Tx]) -> None:
            calls = [("eth_sendRawTransaction", ["0x" + tx.raw.hex()]) for tx in txs]
            for tx, answer in zip(txs, await self.rpc.batch(self.urls[node], calls), strict=True):
                if "error" in answer:
                    raise RuntimeError(f"node {node} refused a transfer: {answer['error']}")
                hashes.add(tx.hash)

        await asyncio.gather(*(one(node, txs) for node, txs in by_node.items()))

    async def send_request(self, tx: Tx, refused: list[Tx]) -> None:
        tx.sent_at = time.perf_counter()
        tx.head_at_send = self.watcher.head
        try:
            await self.rpc.call(self.urls[tx.node], "eth_sendRawTransaction", "0x" + tx.raw.hex())
        except RuntimeError as exc:
            print(f"  request refused by node {tx.node}: {exc}")
            refused.append(tx)

    async def run(self, rate: float, transfers: list[Tx], requests: list[Tx]) -> RateResult:
        seconds = self.args.seconds
        result = RateResult(self.mode, rate, seconds)
        runs_before = await self.sampler.run_seconds(self.args.model)
        sampling = asyncio.create_task(self.sampler.follow())
        hashes: set[str] = set()
        refused: list[Tx] = []
        sends: list[asyncio.Task[None]] = []
        start = result.started = time.perf_counter()
        first_height = self.watcher.head + 1
        sent_transfers = sent_requests = 0
        while (elapsed := time.perf_counter() - start) < seconds:
            due = min(len(transfers), int(self.args.transfers_per_second * elapsed))
            batch, sent_transfers = transfers[sent_transfers:due], due
            while sent_requests < len(requests) and (sent_requests + 0.5) / rate <= elapsed:
                tx = requests[sent_requests]
                sends.append(asyncio.create_task(self.send_request(tx, refused)))
                sent_requests += 1
            await asyncio.gather(self.send_transfers(batch, hashes), asyncio.sleep(TICK_S))
        last_height = self.watcher.head
        await asyncio.gather(*sends)
        sampling.cancel()
        result.queue_max = list(self.sampler.queue_max)
        result.round_max = self.sampler.round_max
        result.transfers_sent = sent_transfers
        in_window = [
            h for h in range(first_height, last_height + 1) if start <= self.watcher.seen_at[h]
        ]
        result.blocks = len(in_window)
        result.transfers_committed = sum(
            1 for h in in_window for tx_hash in self.watcher.txs[h] if tx_hash in hashes
        )
        sent = requests[:sent_requests]
        result.sent = len(sent)
        result.refused = len(refused)
        refused_hashes = {tx.hash for tx in refused}
        live = [tx for tx in sent if tx.hash not in refused_hashes]
        receipts = await self.receipts(live)
        if self.mode == TWO_PHASE:
            await self.settle_two_phase(result, live, receipts)
        else:
            self.settle_single_phase(result, live, receipts)
        runs_after = await self.sampler.run_seconds(self.args.model)
        result.runs = runs_after[1] - runs_before[1]
        if result.runs:
            result.run_s = (runs_after[0] - runs_before[0]) / result.runs
        return result

    async def receipts(self, txs: list[Tx]) -> dict[str, dict[str, Any]]:
        """Each transaction's receipt, asked of the node it was sent to, until all are there,
        nothing has landed for STALL_TIMEOUT_S, or RECEIPT_TIMEOUT_S has passed in all."""
        found: dict[str, dict[str, Any]] = {}
        began = last_progress = time.perf_counter()
        while len(found) < len(txs):
            now = time.perf_counter()
            if now - last_progress > STALL_TIMEOUT_S or now - began > RECEIPT_TIMEOUT_S:
                print(f"  {len(txs) - len(found)} request transactions never included")
                break
            for node, url in enumerate(self.urls):
                probe = [tx for tx in txs if tx.node == node and tx.hash not in found]
                calls = [("eth_getTransactionReceipt", [tx.hash]) for tx in probe]
                try:
                    answers = await self.rpc.batch(url, calls)
                except (aiohttp.ClientError, TimeoutError):
                    continue
                for tx, answer in zip(probe, answers, strict=True):
                    if answer.get("result"):
                        found[tx.hash] = answer["result"]
                        last_progress = time.perf_counter()
            if len(found) < len(txs):
                await asyncio.sleep(0.5)
        return found

    async def settle_two_phase(
        self, result: RateResult, txs: list[Tx], receipts: dict[str, dict[str, Any]]
    ) -> None:
        commit_blocks, reveal_blocks = self.windows
        ids: list[tuple[int, int]] = []  # request id, deadline
        for tx in txs:
            receipt = receipts.get(tx.hash)
            if receipt is None:
                result.missing += 1
            elif receipt["status"] != "0x1" or not receipt["logs"]:
                result.refused += 1
            else:
                included = int(receipt["blockNumber"], 16)
                request_id = int(receipt["logs"][0]["topics"][1], 16)
                ids.append((request_id, deadline(included, commit_blocks, reveal_blocks)))
        if not ids:
            return
        await self.watcher.until(max(due for _, due in ids) + 1, RECEIPT_TIMEOUT_S)
        for request_id, _ in ids:
            info = await self.final_inference(request_id)
            gas = info["gas"]
            if info["status"] == "expired" or info["result"] is None:
                result.expired += 1
                result.gas_expired.append(int(gas["total"]))
                continue
            result.completed += 1
            result.gas.append(int(gas["total"]))
            result.gas_request.append(int(gas["request"]))
            result.members.append(len(info["commits"]))
            if info["commits"]:
                result.gas_commit.append(int(gas["commits"]) / len(info["commits"]))
            if info["reveals"]:
                result.gas_reveal.append(int(gas["reveals"]) / len(info["reveals"]))
            included, finalized = int(info["includedAt"]), int(info["result"]["finalizedAt"])
            result.latency_blocks.append(finalized - included)
            seen = self.watcher.seen_at
            if included in seen and finalized in seen:
                result.latency_s.append(seen[finalized] - seen[included])
                result.last_done = max(result.last_done, seen[finalized])
            output_hash = info["result"]["outputHash"]
            if any(r["outputHash"] != output_hash for r in info["reveals"]):
                result.disagreements += 1

    async def final_inference(self, request_id: int) -> dict[str, Any]:
        """brain_getInference once the request is settled or expired (asked of node 0)."""
        end = time.perf_counter() + RECEIPT_TIMEOUT_S
        while True:
            info: dict[str, Any] = await self.rpc.call(
                self.urls[0], "brain_getInference", hex(request_id)
            )
            if info["status"] in ("settled", "expired") or time.perf_counter() > end:
                return info
            await asyncio.sleep(0.5)

    def settle_single_phase(
        self, result: RateResult, txs: list[Tx], receipts: dict[str, dict[str, Any]]
    ) -> None:
        limit = sum(self.windows)  # the two-phase deadline, in blocks
        for tx in txs:
            receipt = receipts.get(tx.hash)
            if receipt is None:
                result.missing += 1
                continue
            if receipt["status"] != "0x1":
                result.refused += 1
                continue
            result.gas.append(int(receipt["gasUsed"], 16))
            included = int(receipt["blockNumber"], 16)
            blocks = included - tx.head_at_send
            if blocks > limit:
                result.missing += 1
                continue
            result.completed += 1
            result.latency_blocks.append(blocks)
            if included in self.watcher.seen_at:
                result.latency_s.append(self.watcher.seen_at[included] - tx.sent_at)
                result.last_done = max(result.last_done, self.watcher.seen_at[included])


# --- one mode -----------------------------------------------------------------------------


def create_devnet(home: Path, args: argparse.Namespace) -> tuple[int, int]:
    """A 4-validator devnet whose validators load the models at start; its inference windows."""
    devnet.create(
        home,
        validators=VALIDATORS,
        chain_id=CHAIN_ID,
        rpc_port=0,
        p2p_port=0,
        metrics_port=0,
        block_interval_s=args.block_interval,
    )
    homes = devnet.node_homes(home)
    doc = json.loads((homes[0] / "genesis.json").read_text(encoding="utf-8"))
    doc["gas_limit"] = gas_limit_for(args)
    for node_home in homes:
        (node_home / "genesis.json").write_text(json.dumps(doc), encoding="utf-8")
        cfg = load_config(node_home)
        write_config(load_config(node_home, **{**cfg.to_json(), "warm_models": True}))
    params = {**INFERENCE_DEFAULTS, **doc["brain"]["inference"]}
    return int(params["commit_blocks"]), int(params["reveal_blocks"])


def wait_for_models(metrics_urls: list[str], model: str) -> float:
    """Block until every node has loaded `model`; seconds waited."""
    import urllib.request

    start = time.perf_counter()
    name = f'brainchain_model_load_seconds_count{{model="{model}"}}'
    while time.perf_counter() - start < MODEL_LOAD_TIMEOUT_S:
        loaded = 0
        for url in metrics_urls:
            with urllib.request.urlopen(url, timeout=5) as response:
                text = response.read().decode()
            loaded += sum(metric_values(text, name)) >= 1
        if loaded == len(metrics_urls):
            return time.perf_counter() - start
        time.sleep(1.0)
    raise TimeoutError(f"the nodes did not load {model} within {MODEL_LOAD_TIMEOUT_S:.0f}s")


async def run_mode(
    bench_args: tuple[str, argparse.Namespace, list[str], list[str], tuple[int, int]],
    transfers: list[list[Tx]],
    requests: list[list[Tx]],
) -> list[RateResult]:
    mode, args, urls, metrics_urls, windows = bench_args
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        rpc = Rpc(session)
        watcher = Watcher(rpc, urls[0])
        watcher.head = int(await rpc.call(urls[0], "eth_blockNumber"), 16)
        following = asyncio.create_task(watcher.follow())
        bench = Bench(mode, args, urls, rpc, watcher, Sampler(rpc, metrics_urls), windows)
        results = []
        try:
            for rate, rate_transfers, rate_requests in zip(
                args.rates, transfers, requests, strict=True
            ):
                result = await bench.run(rate, rate_transfers, rate_requests)
                print_row(result, flush=True)
                results.append(result)
        finally:
            following.cancel()
        return results


def bench_mode(
    mode: str, args: argparse.Namespace, transfer_raws: list[bytes], rng: random.Random
) -> list[RateResult]:
    """A fresh devnet for `mode`, every rate in turn; the nodes are stopped at the end."""
    transfer_keys, request_keys = args.keys
    per_rate = math.ceil(args.transfers_per_second * args.seconds)
    transfers = [
        Tx(raw, (i % TRANSFER_SENDERS) % VALIDATORS, "0x" + keccak256(raw).hex())
        for i, raw in enumerate(transfer_raws)
    ]
    counts = [math.ceil(rate * args.seconds) for rate in args.rates]
    all_requests = presign_requests(mode, request_keys, sum(counts), args, rng)
    requests, offset = [], 0
    for count in counts:
        requests.append(all_requests[offset : offset + count])
        offset += count
    with tempfile.TemporaryDirectory(prefix="bench-inference-") as tmp:
        home = Path(tmp) / "net"
        windows = args.windows = create_devnet(home, args)
        urls = devnet.start_all(home)
        try:
            metrics_urls = [
                str((read_runtime(h) or {})["metrics"]) for h in devnet.node_homes(home)
            ]
            waited = wait_for_models(metrics_urls, args.model)
            print(f"{mode}: devnet up, {args.model} loaded on every node after {waited:.0f}s")
            _fund(urls[0], transfer_keys + request_keys)
            return asyncio.run(
                run_mode(
                    (mode, args, urls, metrics_urls, windows),
                    [transfers[i * per_rate : (i + 1) * per_rate] for i in range(len(args.rates))],
                    requests,
                )
            )
        finally:
            for node_home in devnet.node_homes(home):
                devnet.stop_node(node_home)
            if args.keep_logs:
                keep = Path(args.keep_logs) / mode
                keep.mkdir(parents=True, exist_ok=True)
                for node_home in devnet.node_homes(home):
                    log = node_home / devnet.LOG_FILE
                    if log.exists():
                        (keep / f"{node_home.name}.log").write_bytes(log.read_bytes())


# --- output -------------------------------------------------------------------------------

HEADER = (
    f"{'mode':<13}{'rate/s':>7}{'reg tx/s':>9}{'tasks/s':>9}{'wall':>8}{'sent':>6}{'done':>6}"
    f"{'t/o %':>7}{'p50 blk':>8}{'p95 blk':>8}{'p50 s':>7}{'p95 s':>7}{'gas/req':>12}"
    f"{'disagree':>9}{'s/block':>8}{'run s':>7}{'queue':>6}{'round':>6}"
)


def _cell(values: list[float] | list[int], q: float, fmt: str) -> str:
    return format(percentile(values, q), fmt) if values else "-"


def print_row(r: RateResult, flush: bool = False) -> None:
    timeouts = f"{100 * r.timeouts / r.sent:.1f}" if r.sent else "-"
    gas = f"{statistics.mean(r.gas):,.0f}" if r.gas else "-"
    disagree = str(r.disagreements) if r.mode == TWO_PHASE and r.completed else "-"
    run_s = f"{r.run_s:.2f}" if r.runs else "-"
    queue = f"{max(r.queue_max):.0f}" if r.queue_max else "-"
    print(
        f"{r.mode:<13}{r.rate:>7.2f}{r.regular_tps:>9.1f}{r.tasks_per_s:>9.3f}"
        f"{r.tasks_per_wall_s:>8.3f}{r.sent:>6}"
        f"{r.completed:>6}{timeouts:>7}{_cell(r.latency_blocks, 0.5, '.0f'):>8}"
        f"{_cell(r.latency_blocks, 0.95, '.0f'):>8}{_cell(r.latency_s, 0.5, '.1f'):>7}"
        f"{_cell(r.latency_s, 0.95, '.1f'):>7}{gas:>12}{disagree:>9}{r.block_s:>8.2f}"
        f"{run_s:>7}{queue:>6}{r.round_max:>6.0f}",
        flush=flush,
    )
    if r.expired or r.refused or r.missing:
        spent = f" (gas of each: {statistics.mean(r.gas_expired):,.0f})" if r.gas_expired else ""
        print(
            f"{'':13}expired {r.expired}{spent}, failed/refused {r.refused},"
            f" late/missing {r.missing}",
            flush=flush,
        )
    if r.gas_request:
        print(
            f"{'':13}gas: request {statistics.mean(r.gas_request):,.0f},"
            f" {statistics.mean(r.members):.1f} members each committing"
            f" {statistics.mean(r.gas_commit or [0]):,.0f} and revealing"
            f" {statistics.mean(r.gas_reveal or [0]):,.0f}",
            flush=flush,
        )


def print_summary(
    results: dict[str, list[RateResult]], args: argparse.Namespace, windows: tuple[int, int]
) -> None:
    print()
    print(HEADER)
    for mode_results in results.values():
        for r in mode_results:
            print_row(r)
    two, single = results.get(TWO_PHASE), results.get(SINGLE_PHASE)
    if two and single:
        print("\ntask throughput, two-phase / single-phase:")
        for a, b in zip(two, single, strict=True):
            if a.rate == 0:
                continue
            for what, x, y in (
                ("per window second", a.tasks_per_s, b.tasks_per_s),
                ("per wall second", a.tasks_per_wall_s, b.tasks_per_wall_s),
            ):
                ratio = f"{x / y:.2f}x" if y else "inf (single-phase completed none)"
                print(f"  rate {a.rate:g}/s, {what}: {x:.3f} / {y:.3f} = {ratio}")
    print("\nwhat limits each mode:")
    if two:
        base = two[0].regular_tps if two[0].rate == 0 else None
        runs = [r.run_s for r in two if r.runs]
        run_s = statistics.mean(runs) if runs else float("nan")
        members = VALIDATORS  # k = 32 of 400 stake units: all four serve almost every request
        sizes = [m for r in two for m in r.members]
        members = statistics.mean(sizes) if sizes else VALIDATORS
        cores = os.cpu_count() or 1
        print(
            f"  two-phase: each request runs on every committee member's executor ({members:.1f}"
            f" of {VALIDATORS} validators on average), {run_s:.2f} s a run (mean over nodes);"
            f" one executor thread per node, {VALIDATORS} nodes sharing {cores} cores, so the"
            f" executors keep up with at most about {cores / members / run_s:.2f} requests/s"
            " (cores / members / run seconds); past that their queues grow, runs miss the"
            f" commit window ({args.block_interval:g}s blocks x {windows[0]} blocks) and"
            " requests expire. Latency has a floor of commit_blocks + 1 blocks: reveals open"
            " only once the commit window has closed, however early the committee committed."
        )
        if base:
            kept = ", ".join(f"{r.rate:g}/s {100 * r.regular_tps / base:.0f}%" for r in two[1:])
            print(f"  two-phase regular throughput kept vs zero load: {kept}")
    if single:
        busy = [r for r in single if r.rate > 0]
        block_s = ", ".join(f"{r.rate:g}/s {r.block_s:.2f}" for r in single)
        print(
            "  single-phase: every validator runs each model inside block execution (the"
            " proposer while building, each other validator while checking), so the model's"
            f" time is on the block path; mean seconds per block: {block_s}; highest"
            f" consensus round: {', '.join(f'{r.rate:g}/s {r.round_max:.0f}' for r in single)}"
            " (a block whose execution outlasts the consensus timeouts is proposed again in a"
            " later round, and executed again)."
        )
        if busy and single[0].rate == 0 and single[0].regular_tps:
            base = single[0].regular_tps
            kept = ", ".join(f"{r.rate:g}/s {100 * r.regular_tps / base:.0f}%" for r in busy)
            print(f"  single-phase regular throughput kept vs zero load: {kept}")


def write_png(results: dict[str, list[RateResult]], path: str, model: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            f"\nno PNG: matplotlib is not installed (install it with"
            f" `.venv/bin/pip install matplotlib==3.11.2`), figures above; wanted {path}"
        )
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for mode, mode_results in results.items():
        rates = [r.rate for r in mode_results]
        left.plot(rates, [r.regular_tps for r in mode_results], marker="o", label=mode)
        line = right.plot(rates, [r.tasks_per_s for r in mode_results], marker="o", label=mode)
        right.plot(
            rates,
            [r.tasks_per_wall_s for r in mode_results],
            marker="x",
            linestyle="--",
            color=line[0].get_color(),
            label=f"{mode}, per wall second",
        )
    left.set(xlabel="inference requests sent / s", ylabel="transfers committed / s")
    left.set_title("regular throughput")
    right.set(xlabel="inference requests sent / s", ylabel="tasks completed / s")
    right.set_title(f"task throughput ({model})")
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.legend()
        axes.set_ylim(bottom=0)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"\nwrote {path}")


# --- main ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rates", default="0,0.1,0.2,0.5,1", help="requests/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=60.0, help="load per rate")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--model", default="gptj-bench")
    parser.add_argument("--transfers-per-second", type=float, default=50.0)
    parser.add_argument("--block-interval", type=float, default=1.0)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--png", default="bench-inference.png")
    parser.add_argument("--keep-logs", default="", help="copy the node logs into this folder")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: tiny-gptj, rates 0,0.2, 20 s each"
    )
    args = parser.parse_args()
    if args.quick:
        args.model, args.rates, args.seconds = "tiny-gptj", "0,0.2", 20.0
        args.transfers_per_second = min(args.transfers_per_second, 20.0)
    args.rates = [float(r) for r in args.rates.split(",")]
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(args.modes) - set(MODES)
    if unknown:
        parser.error(f"unknown mode {sorted(unknown)[0]!r}: choose from {', '.join(MODES)}")
    if any(rate < 0 for rate in args.rates):
        parser.error("rates must be non-negative")
    if not 0 < args.tokens <= shipped_model(args.model).max_tokens:
        parser.error(f"--tokens must be within 1..{shipped_model(args.model).max_tokens}")
    return args


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    print(
        banner(
            f"{VALIDATORS} validators, model {args.model}, {args.tokens} tokens, rates"
            f" {','.join(f'{r:g}' for r in args.rates)}/s for {args.seconds:g}s each,"
            f" {args.transfers_per_second:g} transfers/s, block interval"
            f" {args.block_interval:g}s, block gas limit {gas_limit_for(args):,}, seed {args.seed}"
        ),
        flush=True,
    )
    args.keys = (_keys(rng, TRANSFER_SENDERS), _keys(rng, REQUEST_SENDERS))
    per_rate = math.ceil(args.transfers_per_second * args.seconds)
    transfer_raws = presign(args.keys[0], per_rate * len(args.rates), rng)
    results: dict[str, list[RateResult]] = {}
    print(HEADER, flush=True)
    for mode in args.modes:
        # The same transfers in both modes; each mode's requests from its own stream.
        results[mode] = bench_mode(mode, args, transfer_raws, random.Random(f"{args.seed}/{mode}"))
    print_summary(results, args, args.windows)
    write_png(results, args.png, args.model)


if __name__ == "__main__":
    main()
