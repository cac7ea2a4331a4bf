"""The client load of a chaos run, recorded Jepsen-style, and the height sampler.

Each client is one thread and one process id in the history, signing from its own funded dev
account (genesis/devnet.py) so its nonces are its own; it runs one operation at a time:
invoke, then ok (we hold a receipt), fail (certainly not applied: the node refused it or could
not be reached) or info (unknown: the node took it, or may have, and then went quiet). Clients
keep sending to nodes that are down or paused, as real clients would; that is what produces
fail and info. Operations go round the nodes, each client from its own starting node.

Federated learning (DESIGN.md §6) takes every dev account the transfer and inference clients
leave at the scenario's rates: the first creates a digits-mlp task (seeded initial weights,
"fl-create"), then each trains on its own non-IID shard of digits from the task's current
version and proposes the result ("fl-propose"); every few rounds a client proposes zero weights
instead, an attack the committee must reject. Proposals do not wait for their verdict (it takes
the commit and reveal windows); the final observations read the verdicts.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from brainchain.crypto.address import to_checksum_address
from brainchain.crypto.keccak import keccak256
from brainchain.fl import DEFAULT_COMMITTEE_FRACTION, DEFAULT_STALENESS, DEFAULT_WINDOW, SCORE_SCALE
from brainchain.types.transaction import TX_FEE_MARKET, sign_transaction
from genesis.devnet import DEV_ACCOUNTS, DevAccount
from genesis.models import shipped_model
from node.chaos.cluster import CHAIN_ID, Cluster
from node.chaos.history import Recorder
from node.chaos.scenario import Load as LoadSpec
from node.chaos.scenario import Scenario
from node.cli.client import ClientError, RpcClient
from node.cli.fl_flow import (
    create_task_call,
    number,
    proposal_id_from,
    propose_call,
    task,
    task_id_from,
    upload,
    weights_of,
)
from node.cli.inference_flow import REQUEST, request_id_from
from node.fl.model import MODEL_ID
from vm.abi import encode_values, selector
from vm.precompiles.addresses import FL_REGISTRY_ADDRESS, INFERENCE_ADDRESS

if TYPE_CHECKING:
    from node.fl.data import Dataset

GWEI = 10**9
MAX_FEE = 50 * GWEI
TIP = GWEI
TRANSFER_GAS = 21_000
INFERENCE_GAS = 1_000_000
FL_GAS = 500_000  # createTask and propose take under 250k (tests/vm/test_fl_registry.py)
RECIPIENT = bytes.fromhex("000000000000000000000000000000000000dead")
RPC_TIMEOUT_S = 5.0
RECEIPT_POLL_S = 0.1
RECEIPT_BLOCKS = 20  # wait this many block intervals (at least 10 s) for a receipt
SAMPLE_EVERY_S = 0.5
SAMPLE_TIMEOUT_S = 1.0
FL_CREATE_RETRY_S = 1.0  # until the task exists, its creator retries about this often
# Dev accounts: the first six sign transfers, the next three inference requests, one to spare.
TRANSFER_ACCOUNTS = DEV_ACCOUNTS[:6]
INFERENCE_ACCOUNTS = DEV_ACCOUNTS[6:9]
PROMPTS = (b"The chain says", b"Byzantine generals", b"A block at height", b"Once upon a time")
ZERO = "zero"  # the attack: a proposal of all-zero weights (accuracy: one class in ten)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A transaction a node took (returned its hash): the final observations look for it."""

    tx: str
    node: int


@dataclass(frozen=True, slots=True)
class Requested:
    """An inference request that made it into a block: its honest output is computed at the end."""

    request: int
    node: int
    model: str
    prompt: bytes
    max_tokens: int


def _not_applied(exc: ClientError) -> bool:
    """Whether a failed send certainly did not reach the node's pool: the node answered with
    a JSON-RPC error, or refused the connection (nothing was sent)."""
    text = str(exc)
    return text.startswith("eth_sendRawTransaction failed:") or "Connection refused" in text


class Load:
    """Client threads and the height sampler, from `start()` until `stop()`."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        cluster: Cluster,
        recorder: Recorder,
    ) -> None:
        self.scenario, self.seed, self.cluster, self.recorder = scenario, seed, cluster, recorder
        self.receipt_timeout_s = max(10.0, RECEIPT_BLOCKS * scenario.block_interval_s)
        self.accepted: list[Accepted] = []
        self.requested: list[Requested] = []
        self.fl_task: int | None = None  # the FL task, once its creator holds a receipt
        self._fl_ready = threading.Event()
        self.heights: dict[int, int] = {}
        self._lock = threading.Lock()
        self._stop_clients = threading.Event()
        self._stop_sampling = threading.Event()
        self._clients: list[threading.Thread] = []
        self._sampler = threading.Thread(target=self._guard(self._sample), daemon=True)
        self._errors: list[BaseException] = []

    @property
    def max_height(self) -> int:
        return max(self.heights_now().values(), default=0)

    def heights_now(self) -> dict[int, int]:
        """The last sampled height of each node."""
        with self._lock:
            return dict(self.heights)

    def start(self) -> None:
        load = self.scenario.load
        transfers = _clients(load.transfers_per_s, len(TRANSFER_ACCOUNTS))
        inferences = _clients(load.inference_per_s, len(INFERENCE_ACCOUNTS))
        process = 0
        for account in TRANSFER_ACCOUNTS[:transfers]:
            self._spawn(self._transfer_client, process, account, transfers / load.transfers_per_s)
            process += 1
        for account in INFERENCE_ACCOUNTS[:inferences]:
            self._spawn(self._inference_client, process, account, inferences / load.inference_per_s)
            process += 1
        if load.fl_proposals_per_s > 0:
            trainers = fl_accounts(load)
            shards = self._prepare_fl(len(trainers))
            interval_s = len(trainers) / load.fl_proposals_per_s
            for shard, account in enumerate(trainers):
                self._spawn(self._fl_client, process, account, shard, shards[shard], interval_s)
                process += 1
        self._sampler.start()

    def stop_clients(self) -> None:
        """Let every client finish its operation in flight, then stop it; heights are still
        sampled (the run is draining).

        Raises:
            Exception: the first exception a load thread died of (a bug).
        """
        self._stop_clients.set()
        for thread in self._clients:
            thread.join()
        self._raise()

    def stop(self) -> None:
        """Stop the clients and the sampler.

        Raises:
            Exception: the first exception a load thread died of (a bug).
        """
        self._stop_sampling.set()
        self.stop_clients()
        if self._sampler.ident is not None:  # started
            self._sampler.join()
        self._raise()

    def _raise(self) -> None:
        if self._errors:
            raise self._errors[0]

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=self._guard(target), args=args, daemon=True)
        self._clients.append(thread)
        thread.start()

    def _guard(self, target: Callable[..., None]) -> Callable[..., None]:
        def run(*args: Any) -> None:
            try:
                target(*args)
            except BaseException as exc:
                self._errors.append(exc)
                self._stop_clients.set()
                self._stop_sampling.set()

        return run

    # --- clients ------------------------------------------------------------------------

    def _paced(self, process: int, interval_s: float) -> Any:
        """Yield operation numbers at `interval_s` on average (seeded jitter) until stopped."""
        rng = random.Random(self.seed * 1_000 + process)
        planned = time.monotonic() + rng.uniform(0, interval_s)
        k = 0
        while not self._stop_clients.wait(max(0.0, planned - time.monotonic())):
            yield k
            k += 1
            planned = max(planned + interval_s * rng.uniform(0.5, 1.5), time.monotonic())

    def _node_for(self, process: int, k: int) -> int:
        return (process + k) % len(self.cluster)

    def _rounds(
        self, process: int, account: DevAccount, interval_s: float
    ) -> Iterator[tuple[int, int, RpcClient, _Nonce]]:
        """(operation number, node, its client, the sender's nonce) at `interval_s` on average,
        rotating over the nodes; a round whose node cannot tell the nonce is skipped."""
        nonce = _Nonce(to_checksum_address(account.address))
        for k in self._paced(process, interval_s):
            node = self._node_for(process, k)
            client = self.cluster.client(node, RPC_TIMEOUT_S)
            if nonce.known(client):
                yield k, node, client, nonce

    def _transfer_client(self, process: int, account: DevAccount, interval_s: float) -> None:
        for k, node, client, nonce in self._rounds(process, account, interval_s):
            tx = _sign(account, nonce.value, RECIPIENT, 1 + k, b"", TRANSFER_GAS)
            invoke = {"tx": "0x" + tx.hash.hex(), "from": nonce.sender, "nonce": nonce.value}
            outcome, value, _ = self._send(process, node, "transfer", invoke, client, tx.raw)
            nonce.settle(outcome, value)
            self._op(outcome, process, node, "transfer", value)

    def _inference_client(self, process: int, account: DevAccount, interval_s: float) -> None:
        load = self.scenario.load
        spec = shipped_model(load.inference_model)
        fee = spec.price_per_token * load.inference_max_tokens
        for k, node, client, nonce in self._rounds(process, account, interval_s):
            prompt = PROMPTS[k % len(PROMPTS)]
            data = selector(REQUEST) + encode_values(
                ["string", "bytes", "uint256", "uint256"],
                [spec.id, prompt, load.inference_max_tokens, 0],
            )
            tx = _sign(account, nonce.value, INFERENCE_ADDRESS, fee, data, INFERENCE_GAS)
            invoke = {"model": spec.id, "prompt": prompt.decode(), "tx": "0x" + tx.hash.hex()}
            outcome, value, receipt = self._send(process, node, "infer", invoke, client, tx.raw)
            nonce.settle(outcome, value)
            if outcome == "ok":
                if receipt is not None and receipt["status"] == "0x1":
                    request = request_id_from(receipt)
                    value["request"] = request
                    with self._lock:
                        self.requested.append(
                            Requested(request, node, spec.id, prompt, load.inference_max_tokens)
                        )
                else:
                    outcome, value["error"] = "fail", "the request reverted in its block"
            self._op(outcome, process, node, "infer", value)

    def _prepare_fl(self, trainers: int) -> list[Dataset]:
        """Each FL client's shard of digits, with numpy, scikit-learn and torch loaded now,
        before the schedule's clock starts: first imports in every client thread at once take
        seconds and bunch the first proposals together."""
        from node.executors.determinism import configure
        from node.fl.data import train_shard
        from node.fl.train import THREADS

        configure(THREADS)
        return [train_shard(i, trainers, seed=self.seed) for i in range(trainers)]

    def _fl_client(
        self, process: int, account: DevAccount, shard: int, data: Dataset, interval_s: float
    ) -> None:
        """The first FL client creates the task, the others wait for it; then each proposes
        weights trained on its `shard` of digits, `data` (or, every few rounds, zero weights),
        at `interval_s` on average."""
        if shard == 0:
            self._create_fl_task(process, account)
        while not self._fl_ready.wait(RECEIPT_POLL_S):
            if self._stop_clients.is_set():
                return
        task_id = self.fl_task
        assert task_id is not None  # set before _fl_ready
        from node.fl.train import train_local  # local: torch (loaded by _prepare_fl)

        every = self.scenario.load.fl_attack_every
        for k, node, client, nonce in self._rounds(process, account, interval_s):
            # Staggered by shard, so that attacks come from every client and early in the run.
            attack = ZERO if every and (k + shard) % every == every - 1 else None
            try:
                base = number(task(client, task_id)["version"])
                if attack is None:
                    stall_s = self.receipt_timeout_s
                    weights = weights_of(client, task_id, base, stall_s=stall_s)
                    blob = train_local(weights, data, seed=self.seed * 1_000 + k)
                else:
                    blob = zero_weights()
            except (ClientError, ValueError):
                continue  # the global weights could not be read: nothing was proposed
            tx = _sign(
                account,
                nonce.value,
                FL_REGISTRY_ADDRESS,
                0,
                propose_call(task_id, base, blob),
                FL_GAS,
            )
            invoke = {
                "task": task_id,
                "base": base,
                "weights": "0x" + keccak256(blob).hex(),
                "attack": attack,
                "tx": "0x" + tx.hash.hex(),
            }
            self._op("invoke", process, node, "fl-propose", invoke)
            outcome, value, receipt = self._upload_submit(node, invoke["tx"], client, blob, tx.raw)
            nonce.settle(outcome, value)
            outcome = _read_receipt(outcome, value, receipt, "proposal", proposal_id_from)
            self._op(outcome, process, node, "fl-propose", value)

    def _create_fl_task(self, process: int, account: DevAccount) -> None:
        """Create the task (the scenario's threshold, brainchain.fl's other defaults) from
        seeded initial weights, retrying on the next node until a receipt says it exists."""
        from node.fl.model import initial_weights  # local: numpy

        load = self.scenario.load
        initial = initial_weights(self.seed)
        threshold = round(load.fl_threshold * SCORE_SCALE)
        rules = (DEFAULT_WINDOW, threshold, DEFAULT_STALENESS, DEFAULT_COMMITTEE_FRACTION)
        data = create_task_call(MODEL_ID, initial, rules)
        for _, node, client, nonce in self._rounds(process, account, FL_CREATE_RETRY_S):
            tx = _sign(account, nonce.value, FL_REGISTRY_ADDRESS, 0, data, FL_GAS)
            invoke = {
                "model": MODEL_ID,
                "initialWeights": "0x" + keccak256(initial).hex(),
                "threshold": threshold,
                "tx": "0x" + tx.hash.hex(),
            }
            self._op("invoke", process, node, "fl-create", invoke)
            outcome, value, receipt = self._upload_submit(
                node, invoke["tx"], client, initial, tx.raw
            )
            nonce.settle(outcome, value)
            outcome = _read_receipt(outcome, value, receipt, "task", task_id_from)
            self._op(outcome, process, node, "fl-create", value)
            if "task" in value:
                self.fl_task = value["task"]
                self._fl_ready.set()
                return

    def _upload_submit(
        self, node: int, tx_hash: str, client: RpcClient, blob: bytes, raw: bytes
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """Store the weights the transaction names on the node, then `_submit` it; a refused
        upload fails the operation (no transaction was sent)."""
        try:
            upload(client, blob)
        except (ClientError, ValueError) as exc:
            return "fail", {"tx": tx_hash, "error": f"weights upload: {exc}"}, None
        return self._submit(node, tx_hash, client, raw)

    def _send(
        self,
        process: int,
        node: int,
        f: str,
        invoke: dict[str, Any],
        client: RpcClient,
        raw: bytes,
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """Invoke: send `raw` and wait for its receipt; the completion's type and value (the
        caller records it, after adding what it learnt from the receipt), and the receipt."""
        self._op("invoke", process, node, f, invoke)
        return self._submit(node, invoke["tx"], client, raw)

    def _submit(
        self, node: int, tx_hash: str, client: RpcClient, raw: bytes
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        """The part of `_send` after the invoke: send, wait for the receipt, classify."""
        try:
            client.call("eth_sendRawTransaction", "0x" + raw.hex())
        except ClientError as exc:
            kind = "fail" if _not_applied(exc) else "info"
            return kind, {"tx": tx_hash, "error": str(exc)}, None
        with self._lock:
            self.accepted.append(Accepted(tx_hash, node))
        deadline = time.monotonic() + self.receipt_timeout_s
        error = f"no receipt within {self.receipt_timeout_s:.0f} s"
        while time.monotonic() < deadline:
            try:
                receipt = client.call("eth_getTransactionReceipt", tx_hash)
            except ClientError as exc:
                error = str(exc)
                break
            if receipt is not None:
                block = int(receipt["blockNumber"], 16)
                return "ok", {"tx": tx_hash, "block": block, "accepted": True}, receipt
            time.sleep(RECEIPT_POLL_S)
        return "info", {"tx": tx_hash, "accepted": True, "error": error}, None

    def _op(self, kind: str, process: int, node: int, f: str, value: dict[str, Any]) -> None:
        self.recorder.record(
            {"type": kind, "process": process, "node": node, "f": f, "value": value}
        )

    # --- heights ------------------------------------------------------------------------

    def _sample(self) -> None:
        """Every node that answers, about twice a second, until `stop()`."""
        while not self._stop_sampling.wait(SAMPLE_EVERY_S):
            for index in self.cluster.up():
                try:
                    head = int(
                        self.cluster.client(index, SAMPLE_TIMEOUT_S).call("eth_blockNumber"), 16
                    )
                except ClientError:
                    continue
                with self._lock:
                    self.heights[index] = head
                self.recorder.record({"type": "height", "node": index, "height": head})


def fl_accounts(load: LoadSpec) -> tuple[DevAccount, ...]:
    """The dev accounts FL clients sign from: every one the transfer and inference clients
    leave at `load`'s rates (at least the last, which neither ever takes), the last first: it
    creates the task."""
    transfers = _clients(load.transfers_per_s, len(TRANSFER_ACCOUNTS))
    inferences = _clients(load.inference_per_s, len(INFERENCE_ACCOUNTS))
    taken = {a.address for a in TRANSFER_ACCOUNTS[:transfers] + INFERENCE_ACCOUNTS[:inferences]}
    return tuple(a for a in reversed(DEV_ACCOUNTS) if a.address not in taken)


def zero_weights() -> bytes:
    """The attack blob: digits-mlp with every weight and bias zero."""
    import numpy as np  # local: numpy loads with FL load only

    from node.fl.model import SHAPES, to_blob

    return to_blob({name: np.zeros(shape, np.float32) for name, shape in SHAPES.items()})


def _read_receipt(
    outcome: str,
    value: dict[str, Any],
    receipt: dict[str, Any] | None,
    key: str,
    read: Callable[[dict[str, Any]], int],
) -> str:
    """Put what an accepted transaction's receipt says under `key` in `value`; a receipt
    without it (the call reverted) turns the operation into a failure."""
    if outcome != "ok":
        return outcome
    assert receipt is not None  # ok: we hold it
    try:
        value[key] = read(receipt)
    except ValueError as exc:
        value["error"] = str(exc)
        return "fail"
    return outcome


@dataclass(slots=True)
class _Nonce:
    """A client's next nonce: asked of a node while unknown, advanced when a transaction is
    accepted, forgotten when its fate is unknown or a node disputes the nonce."""

    sender: str
    _value: int | None = None

    @property
    def value(self) -> int:
        assert self._value is not None, "known() first"
        return self._value

    def known(self, client: RpcClient) -> bool:
        if self._value is None:
            self._value = _pending_nonce(client, self.sender)
        return self._value is not None

    def settle(self, outcome: str, value: dict[str, Any]) -> None:
        if outcome == "ok":
            self._value = self.value + 1
        elif outcome == "info" or "nonce" in str(value.get("error", "")):
            self._value = None  # unknown whether it will commit: ask again next round


def _pending_nonce(client: RpcClient, sender: str) -> int | None:
    """The sender's next nonce as the node sees it; None where the node does not answer."""
    try:
        return int(client.call("eth_getTransactionCount", sender, "pending"), 16)
    except ClientError:
        return None


def _clients(rate: float, accounts: int) -> int:
    """How many clients carry `rate` ops/s: about one per op/s, since each waits for its
    receipt, within the accounts set aside."""
    return 0 if rate <= 0 else min(accounts, max(1, math.ceil(rate)))


def _sign(account: DevAccount, nonce: int, to: bytes, value: int, data: bytes, gas: int) -> Any:
    return sign_transaction(
        private_key=account.private_key,
        tx_type=TX_FEE_MARKET,
        chain_id=CHAIN_ID,
        nonce=nonce,
        gas=gas,
        to=to,
        value=value,
        data=data,
        max_fee_per_gas=MAX_FEE,
        max_priority_fee_per_gas=TIP,
    )
