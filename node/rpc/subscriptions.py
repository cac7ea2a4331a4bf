"""What eth_subscribe and brain_subscribe subscriptions are, and what each one is sent.

Kinds follow geth's eth namespace (go-ethereum eth/filters/api.go): "newHeads" (each committed
block's header, as geth's RPCMarshalHeader: eth_getBlockByNumber's fields without the body),
"logs" (each matching log of each committed block, one notification per log, as geth sends
them, matched as eth_getLogs matches: node/rpc/logs.py), and "newPendingTransactions" (each
transaction the mempool accepts, its hash or, with a second param true, the whole transaction,
as geth since 1.11).

brain_subscribe adds BRAIN's events, decoded from the precompiles' logs of committed blocks:
"inference" (optionally {"id": requestId}) sends each phase change of two-phase inference
requests (DESIGN.md §5; contracts/IInference.sol's events, then "settled" or "expired" as
brain_getInference's phase) and "fl" (optionally {"task": id}) each federated-learning
proposal, score, outcome and attested version (DESIGN.md §6; contracts/IFLRegistry.sol's
events). Settlement at the end of a request's or proposal's deadline block emits no event, so
the outcome is read from storage then: every request and proposal due at height h was included
at h - C - R (INFERENCE's windows; settle_due relies on the same fact), so the
InferenceRequested and FlProposed logs of that one block name them.

Everything here reads the chain on the event loop thread, where blocks also commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from brainchain.crypto.address import to_checksum_address
from brainchain.fl import ProposalStatus
from brainchain.inference import Status
from brainchain.types.block import Block
from brainchain.types.receipt import Log
from brainchain.types.transaction import Transaction
from node.chain import Chain
from node.fl.registry import fl_slots, inference_params, version_of
from node.rpc.brain import head_slots, uint_param
from node.rpc.errors import METHOD_NOT_FOUND, InvalidParams, RpcError
from node.rpc.hexfmt import data, format_block, format_transaction, quantity
from node.rpc.logs import LogCriteria, block_logs, parse_criteria
from vm.abi import decode_values
from vm.precompiles.addresses import FL_REGISTRY_ADDRESS, INFERENCE_ADDRESS
from vm.precompiles.fl_registry import (
    Attested,
    Proposed,
    ScoreCommitted,
    ScoreRevealed,
    TaskCreated,
    VersionAttested,
    decode_fl_event,
)
from vm.precompiles.fl_state import load_proposal, load_task
from vm.precompiles.inference import (
    CALLED_BACK,
    COMMITTED,
    FINALIZED,
    REQUESTED,
    REVEALED,
    decode_requested,
)
from vm.precompiles.inference_state import load_request
from vm.precompiles.solidity import event_topic

ETH_NOTIFICATION = "eth_subscription"
BRAIN_NOTIFICATION = "brain_subscription"
# geth's newHeads header: the block object less what only a body has.
_BODY_FIELDS = ("transactions", "uncles", "size", "totalDifficulty", "withdrawals")


@dataclass(frozen=True, slots=True)
class NewHeads:
    """eth_subscribe("newHeads")."""


@dataclass(frozen=True, slots=True)
class Logs:
    """eth_subscribe("logs", {address, topics})."""

    criteria: LogCriteria


@dataclass(frozen=True, slots=True)
class PendingTransactions:
    """eth_subscribe("newPendingTransactions", full?)."""

    full: bool


@dataclass(frozen=True, slots=True)
class InferenceEvents:
    """brain_subscribe("inference", {id}?): None follows every request."""

    request_id: int | None


@dataclass(frozen=True, slots=True)
class FlEvents:
    """brain_subscribe("fl", {task}?): None follows every task."""

    task_id: int | None


Subscription = NewHeads | Logs | PendingTransactions | InferenceEvents | FlEvents


def _not_found(name: Any, namespace: str) -> RpcError:
    """geth's subscriptionNotFoundError (rpc/errors.go)."""
    return RpcError(METHOD_NOT_FOUND, f'no "{name}" subscription in {namespace} namespace')


def _kind_and_option(params: list[Any]) -> tuple[Any, Any]:
    if not 1 <= len(params) <= 2:
        raise InvalidParams(f"expected 1 to 2 params, got {len(params)}")
    return params[0], params[1] if len(params) == 2 else None


def _filter_object(option: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    if option is None:
        return {}
    if not isinstance(option, dict) or not set(option) <= set(keys):
        raise InvalidParams(f"the filter must be an object with at most the keys {list(keys)}")
    return option


def parse_eth_subscription(params: list[Any]) -> Subscription:
    """eth_subscribe's params: a kind and its option.

    Raises:
        RpcError: METHOD_NOT_FOUND for an unknown kind (geth's answer); InvalidParams for a
            malformed option.
    """
    kind, option = _kind_and_option(params)
    if kind == "newHeads" and option is None:
        return NewHeads()
    if kind == "logs":
        return Logs(parse_criteria(_filter_object(option, ("address", "topics"))))
    if kind == "newPendingTransactions":
        if option is not None and not isinstance(option, bool):
            raise InvalidParams("newPendingTransactions takes one optional bool (full)")
        return PendingTransactions(bool(option))
    if kind == "newHeads":
        raise InvalidParams("newHeads takes no option")
    raise _not_found(kind, "eth")


def parse_brain_subscription(params: list[Any]) -> Subscription:
    """brain_subscribe's params: "inference" with an optional {"id"}, or "fl" with an optional
    {"task"}.

    Raises:
        RpcError: METHOD_NOT_FOUND for an unknown kind; InvalidParams for a malformed option.
    """
    kind, option = _kind_and_option(params)
    if kind == "inference":
        request_id = _filter_object(option, ("id",)).get("id")
        return InferenceEvents(None if request_id is None else uint_param(request_id, "id"))
    if kind == "fl":
        task_id = _filter_object(option, ("task",)).get("task")
        return FlEvents(None if task_id is None else uint_param(task_id, "task"))
    raise _not_found(kind, "brain")


# --- what each subscription is sent ---------------------------------------------------------


def format_header(block: Block) -> dict[str, Any]:
    """A newHeads notification's result."""
    out = format_block(block, False)
    for name in _BODY_FIELDS:
        del out[name]
    return out


def pending_result(tx: Transaction, subscription: PendingTransactions) -> Any:
    """A newPendingTransactions notification's result: the hash, or the pending transaction."""
    return format_transaction(tx, None, None) if subscription.full else data(tx.hash)


def block_notifications(
    chain: Chain, block: Block, subscriptions: Mapping[str, Subscription]
) -> Iterator[tuple[str, str, Any]]:
    """(notification method, subscription id, result) for everything the committed `block`
    sends to `subscriptions`, in order; each part of the block is decoded once, when first
    wanted."""
    header: dict[str, Any] | None = None
    inference: list[tuple[int, dict[str, Any]]] | None = None
    fl: list[tuple[int, dict[str, Any]]] | None = None
    for sub_id, subscription in subscriptions.items():
        match subscription:
            case NewHeads():
                header = header or format_header(block)
                yield ETH_NOTIFICATION, sub_id, header
            case Logs(criteria):
                for entry in block_logs(chain, block, criteria):
                    yield ETH_NOTIFICATION, sub_id, entry
            case InferenceEvents(wanted):
                inference = inference_events(chain, block) if inference is None else inference
                for request_id, event in inference:
                    if wanted is None or wanted == request_id:
                        yield BRAIN_NOTIFICATION, sub_id, event
            case FlEvents(wanted):
                fl = fl_events(chain, block) if fl is None else fl
                for task_id, event in fl:
                    if wanted is None or wanted == task_id:
                        yield BRAIN_NOTIFICATION, sub_id, event


@dataclass(frozen=True, slots=True)
class Emitted:
    """A precompile log with its place in the chain."""

    log: Log
    block: Block
    tx_hash: bytes | None  # None for what block-end settlement did

    def place(self) -> dict[str, Any]:
        return {
            "blockNumber": self.block.height,
            "blockHash": data(self.block.hash),
            "transactionHash": None if self.tx_hash is None else data(self.tx_hash),
        }


def _emitted(chain: Chain, block: Block, account: bytes) -> Iterator[Emitted]:
    """The logs `account` emitted in `block`, in order."""
    if not block.transactions:
        return
    receipts = chain.receipts(block.hash)
    for tx, receipt in zip(block.transactions, receipts, strict=True):
        for log in receipt.logs:
            if log.address == account and log.topics:
                yield Emitted(log, block, tx.hash)


def _due_logs(chain: Chain, block: Block, account: bytes) -> Iterator[Log]:
    """What `account` logged in the block whose requests and proposals were due, and settled,
    at the end of `block`."""
    params = inference_params(chain)
    included = block.height - params.commit_blocks - params.reveal_blocks
    due = chain.block_by_height(included) if included > 0 else None
    if due is not None:
        yield from (emitted.log for emitted in _emitted(chain, due, account))


# --- inference ------------------------------------------------------------------------------


def _uint(topic: bytes) -> int:
    return int.from_bytes(topic, "big")


def _requested(chain: Chain, log: Log) -> dict[str, Any]:
    event = decode_requested(log)
    assert event is not None  # picked by its topic0
    model = next((s.id for s in chain.genesis.models if s.key == event.model_key), None)
    return {
        "requester": to_checksum_address(event.requester),
        "model": model or data(event.model_key),
        "input": data(event.prompt),
        "maxTokens": event.max_tokens,
        "fee": quantity(event.fee),
        "callbackGas": event.callback_gas,
        "deadline": event.deadline,
    }


def _committed(chain: Chain, log: Log) -> dict[str, Any]:
    (weight,) = decode_values(["uint256"], log.data)
    return {"member": to_checksum_address(log.topics[2][12:]), "weight": weight}


def _revealed(chain: Chain, log: Log) -> dict[str, Any]:
    (output_hash,) = decode_values(["bytes32"], log.data)
    return {"member": to_checksum_address(log.topics[2][12:]), "outputHash": data(output_hash)}


def _finalized(chain: Chain, log: Log) -> dict[str, Any]:
    output_hash, output, weight = decode_values(["bytes32", "bytes", "uint256"], log.data)
    return {
        "outputHash": data(output_hash),
        "output": data(output),
        "outputText": output.decode("utf-8", errors="replace"),
        "weight": weight,
    }


def _called_back(chain: Chain, log: Log) -> dict[str, Any]:
    success, gas_used = decode_values(["bool", "uint256"], log.data)
    return {"success": success, "gasUsed": gas_used}


# topic0 → (phase, topics the event has, the fields it adds)
_INFERENCE_PHASES: dict[bytes, tuple[str, int, Callable[[Chain, Log], dict[str, Any]]]] = {
    event_topic(REQUESTED): ("requested", 4, _requested),
    event_topic(COMMITTED): ("committed", 3, _committed),
    event_topic(REVEALED): ("revealed", 3, _revealed),
    event_topic(FINALIZED): ("finalized", 2, _finalized),
    event_topic(CALLED_BACK): ("callback", 2, _called_back),
}


def inference_event(chain: Chain, emitted: Emitted) -> tuple[int, dict[str, Any]] | None:
    """(request id, event) for one INFERENCE log; None for BondChanged or a log that fits no
    event."""
    log = emitted.log
    entry = _INFERENCE_PHASES.get(log.topics[0])
    if entry is None or len(log.topics) != entry[1]:
        return None
    phase, _, fields = entry
    request_id = _uint(log.topics[1])
    event = {"id": quantity(request_id), "phase": phase, **emitted.place()}
    return request_id, event | fields(chain, log)


def inference_events(chain: Chain, block: Block) -> list[tuple[int, dict[str, Any]]]:
    """(request id, event) for each inference phase change in the committed `block`: its
    INFERENCE logs, then the requests settled at its end ("settled" once finalized, paying
    its committee, or "expired" without a quorum, refunded).

    Each event is {"id", "phase", blockNumber, blockHash, transactionHash (null for the two
    that settlement makes), and the phase's own fields}; ids and wei are hex quantities, as
    brain_getInference's.
    """
    decoded = (inference_event(chain, e) for e in _emitted(chain, block, INFERENCE_ADDRESS))
    out = [event for event in decoded if event is not None]
    slots = head_slots(chain)
    for log in _due_logs(chain, block, INFERENCE_ADDRESS):
        requested = decode_requested(log)
        if requested is None or requested.deadline != block.height:
            continue
        record = load_request(slots, requested.request_id)
        if record is not None and record.status in (Status.SETTLED, Status.EXPIRED):
            settled = Emitted(log, block, None).place()
            phase = record.status.name.lower()
            event = {"id": quantity(requested.request_id), "phase": phase, **settled}
            out.append((requested.request_id, event))
    return out


# --- federated learning ---------------------------------------------------------------------


def fl_event(chain: Chain, emitted: Emitted) -> tuple[int, dict[str, Any]] | None:
    """(task id, event) for one FL_REGISTRY log; None for a log that is no FL event."""
    event = decode_fl_event(emitted.log)
    out: dict[str, Any]
    match event:
        case TaskCreated():
            task_id = event.task_id
            out = {
                "event": "taskCreated",
                "creator": to_checksum_address(event.creator),
                "model": event.model,
                "initialWeights": data(event.initial_weights),
                "committeeWeight": event.k,
            }
        case Proposed():
            task_id = event.task_id
            out = {
                "event": "proposed",
                "proposal": quantity(event.proposal_id),
                "proposer": to_checksum_address(event.proposer),
                "baseVersion": event.base_version,
                "weightsHash": data(event.weights_hash),
                "size": event.size,
                "deadline": event.deadline,
            }
        case ScoreCommitted() | ScoreRevealed():
            proposal = load_proposal(fl_slots(chain), event.proposal_id)
            assert proposal is not None  # a committed block's proposal exists
            task_id = proposal.task_id
            out = {
                "event": "scoreCommitted" if isinstance(event, ScoreCommitted) else "scoreRevealed",
                "proposal": quantity(event.proposal_id),
                "member": to_checksum_address(event.member),
            }
            if isinstance(event, ScoreCommitted):
                out["weight"] = event.weight
            else:
                out["score"] = event.score
        case Attested() | VersionAttested():
            task_id = event.task_id
            out = {
                "event": "attested" if isinstance(event, Attested) else "versionAttested",
                "version": event.version,
                "globalHash": data(event.global_hash),
            }
            if isinstance(event, Attested):
                out |= {"member": to_checksum_address(event.member), "weight": event.weight}
        case _:
            return None
    return task_id, {"task": quantity(task_id), **out, **emitted.place()}


def fl_events(chain: Chain, block: Block) -> list[tuple[int, dict[str, Any]]]:
    """(task id, event) for each FL event of the committed `block`: its FL_REGISTRY logs,
    then the outcome of each proposal due at its end ("accepted" with the version it became,
    "rejected" or "expired"). Ids are hex quantities, as brain_getFlProposal's."""
    decoded = (fl_event(chain, e) for e in _emitted(chain, block, FL_REGISTRY_ADDRESS))
    out = [event for event in decoded if event is not None]
    slots = fl_slots(chain)
    for log in _due_logs(chain, block, FL_REGISTRY_ADDRESS):
        proposed = decode_fl_event(log)
        if not isinstance(proposed, Proposed) or proposed.deadline != block.height:
            continue
        proposal = load_proposal(slots, proposed.proposal_id)
        task = load_task(slots, proposed.task_id)
        assert proposal is not None and task is not None  # both exist once proposed
        version = None
        if proposal.status is ProposalStatus.ACCEPTED:
            version = version_of(slots, proposal, block.height, task.version)
        outcome = {
            "task": quantity(proposal.task_id),
            "event": proposal.status.name.lower(),
            "proposal": quantity(proposal.proposal_id),
            "score": proposal.score if proposal.status is not ProposalStatus.EXPIRED else None,
            "version": version,
            **Emitted(log, block, None).place(),
        }
        out.append((proposal.task_id, outcome))
    return out
