"""brain_listModels and brain_getInference: the model registry and two-phase inference requests
as a client sees them (DESIGN.md §5; the precompile is vm/precompiles/inference.py).

A request is read from the INFERENCE account's storage at the head (the typed readers of
vm/precompiles/inference_state.py) and from its events, the logs of 0x…0b03 with topic1 = id in
the blocks from its inclusion to its deadline. Both are needed: the input lives only in the
InferenceRequested log, which transaction carried each commit and reveal only in the logs, and
settlement zeroes the fee in storage, so the fee shown is the one the request escrowed.

A request's status is the stored one (pending, finalized, expired, settled); its phase says
what the next block can do with a pending one: "committing" while the head is before the end of
its commit window, "revealing" after it (a pending request is settled at the end of its deadline
block, so it is never pending past it). Each member's verdict says what settlement does or did:
"rewarded" (revealed the finalized output), "penalised" (revealed another output, or nothing by
the deadline; of an expired request only the silent are), "pending" (it may still reveal), or
"none" (revealed for a request that expired: refunded, nobody is paid).

Values that may outgrow a JavaScript number (ids, wei) are hex quantities, as in eth_*; heights,
weights, token counts and gas are JSON numbers, as in brain_nodeStatus.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from brainchain.crypto.address import to_checksum_address
from brainchain.inference import Status, commit_end, deadline
from brainchain.types.receipt import Log
from genesis.models import ModelSpec
from node.chain import Chain
from node.rpc.errors import InvalidParams
from node.rpc.hexfmt import data, parse_quantity, quantity
from node.rpc.logs import LogCriteria, logs_in_range
from vm.abi import decode_values
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.inference import (
    CALLED_BACK,
    COMMITTED,
    REQUESTED,
    REVEALED,
    decode_requested,
)
from vm.precompiles.inference_state import (
    REQ_OUTPUT,
    REQ_RESULT,
    Model,
    ReadOnlySlots,
    Request,
    load_bytes,
    load_commit,
    load_members,
    load_model,
    load_params,
    load_request,
    request_slot,
    tally_slot,
)
from vm.precompiles.layout import WORD_BYTES, word
from vm.precompiles.solidity import event_topic

log = logging.getLogger(__name__)

MAX_REQUEST_ID = 2**256 - 1


def head_slots(chain: Chain, account: bytes = INFERENCE_ADDRESS) -> ReadOnlySlots:
    """A precompile's storage at the chain's head (INFERENCE's unless `account` says), for the
    readers.

    Handlers run on the event loop thread, where blocks also commit, so the head cannot move
    while one request is being read.
    """
    return ReadOnlySlots(partial(chain.storage, account))


def expect_params(params: list[Any], count: int) -> None:
    """Raises InvalidParams unless there are exactly `count` params."""
    if len(params) != count:
        raise InvalidParams(f"expected {count} params, got {len(params)}")


# --- models -------------------------------------------------------------------------------


def _model_json(spec: ModelSpec, model: Model) -> dict[str, Any]:
    return {
        "id": spec.id,
        "architecture": spec.architecture,
        "parameters": spec.parameters,
        "weightsHash": data(spec.weights_hash),
        "specHash": data(model.spec_hash),
        "maxTokens": model.max_tokens,
        "maxInputBytes": model.max_input_bytes,
        "pricePerToken": quantity(model.price_per_token),
        "syncGasPerToken": model.sync_gas_per_token,
        "spec": spec.to_json(),
    }


def registered_models(chain: Chain) -> list[tuple[ModelSpec, Model]]:
    """The genesis models that the registry in state holds under the same spec hash.

    State is what requests are checked against; the genesis hash commits to both, so a model
    left out here means a node whose genesis file and store disagree (logged).
    """
    slots = head_slots(chain)
    out = []
    for spec in chain.genesis.models:
        model = load_model(slots, spec.key)
        if model is None or model.spec_hash != spec.spec_hash:
            log.warning("model %s of the genesis file is not registered in state", spec.id)
            continue
        out.append((spec, model))
    return out


def brain_list_models(chain: Chain, params: list[Any]) -> list[dict[str, Any]]:
    """The registered models, each with its whole spec so a client can rebuild it.

    Raises:
        InvalidParams: any params.
    """
    expect_params(params, 0)
    return [_model_json(spec, model) for spec, model in registered_models(chain)]


# --- requests -----------------------------------------------------------------------------


def uint_param(value: Any, name: str, limit: int = MAX_REQUEST_ID) -> int:
    """An id or count given as a JSON number or a hex quantity, at most `limit`.

    Raises:
        InvalidParams: neither, negative, or over `limit`; the message names the param.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        number = parse_quantity(value, name)
    if not 0 <= number <= limit:
        bound = "a uint256" if limit == MAX_REQUEST_ID else f"in 0..{limit}"
        raise InvalidParams(f"invalid {name}: {value} is not {bound}")
    return number


def _request_id(value: Any) -> int:
    return uint_param(value, "request id")


@dataclass(frozen=True, slots=True)
class Sent:
    """An event's place: the transaction that emitted it and its block."""

    tx: bytes
    block: int


@dataclass(slots=True)
class Trail:
    """What a request's events say that its storage does not."""

    requested: Sent | None = None
    prompt: bytes = b""
    fee: int = 0
    commits: list[tuple[bytes, int, Sent]] = field(default_factory=list)  # member, weight
    reveals: list[tuple[bytes, bytes, Sent]] = field(default_factory=list)  # member, output hash
    callback: tuple[bool, int] | None = None  # success, gas used


TOPICS = {
    event_topic(REQUESTED): REQUESTED,
    event_topic(COMMITTED): COMMITTED,
    event_topic(REVEALED): REVEALED,
    event_topic(CALLED_BACK): CALLED_BACK,
}


def _trail(chain: Chain, request_id: int, first: int, last: int) -> Trail:
    criteria = LogCriteria(
        frozenset({INFERENCE_ADDRESS}), (frozenset(TOPICS), frozenset({word(request_id)}))
    )
    trail = Trail()
    for entry in logs_in_range(chain, first, last, criteria):
        topics = tuple(bytes.fromhex(t[2:]) for t in entry["topics"])
        payload = bytes.fromhex(entry["data"][2:])
        sent = Sent(bytes.fromhex(entry["transactionHash"][2:]), int(entry["blockNumber"], 16))
        event = TOPICS[topics[0]]
        if event == REQUESTED:
            requested = decode_requested(Log(INFERENCE_ADDRESS, topics, payload))
            assert requested is not None  # the criteria picked this event
            trail.requested, trail.prompt, trail.fee = sent, requested.prompt, requested.fee
        elif event == COMMITTED:
            (weight,) = decode_values(["uint256"], payload)
            trail.commits.append((topics[2][12:], weight, sent))
        elif event == REVEALED:
            (output_hash,) = decode_values(["bytes32"], payload)
            trail.reveals.append((topics[2][12:], output_hash, sent))
        else:
            success, used = decode_values(["bool", "uint256"], payload)
            trail.callback = (success, used)
    return trail


def verdict(status: Status, revealed: bool, agrees: bool | None) -> str:
    """What settlement does (or did) to a member's bond and share (`settle_due`).

    Finalized: members that revealed the output share the fee; those that revealed another
    output or, by the deadline, nothing lose the penalty. Expired: only silent members do.
    """
    if status is Status.PENDING or (status is Status.FINALIZED and not revealed):
        return "pending"  # still free to reveal until the deadline
    if status is Status.EXPIRED:
        return "none" if revealed else "penalised"
    return "rewarded" if agrees else "penalised"


def _gas_used(chain: Chain, tx_hashes: list[bytes]) -> int:
    total = 0
    for tx_hash in dict.fromkeys(tx_hashes):  # one transaction may emit several events
        found = chain.receipt(tx_hash)
        total += 0 if found is None else found[0].gas_used
    return total


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _members(slots: ReadOnlySlots, record: Request, result_hash: bytes) -> list[dict[str, Any]]:
    """Each member in commit order, with its verdict; `agrees` is null until the request is
    final and the member has revealed (or the deadline has passed)."""
    status = record.status
    final = status in (Status.FINALIZED, Status.SETTLED)
    out = []
    for member in load_members(slots, record):
        entry = load_commit(slots, record.request_id, member)
        assert entry is not None  # every member has a commit
        agrees = None
        if final and (entry.revealed or status is Status.SETTLED):
            agrees = entry.revealed and entry.output_hash == result_hash
        out.append(
            {
                "member": to_checksum_address(member),
                "weight": entry.weight,
                "committed": True,
                "revealed": entry.revealed,
                "agrees": agrees,
                "verdict": verdict(status, entry.revealed, agrees),
            }
        )
    return out


def _result(slots: ReadOnlySlots, record: Request, result_hash: bytes) -> dict[str, Any] | None:
    if record.status not in (Status.FINALIZED, Status.SETTLED):
        return None
    output = load_bytes(slots, request_slot(record.request_id) + REQ_OUTPUT)
    return {
        "output": data(output),
        "outputText": _text(output),
        "tokens": list(output),
        "outputHash": data(result_hash),
        "weight": slots.load(tally_slot(record.request_id, result_hash)),
        "finalizedAt": record.finalized,
    }


def _gas(chain: Chain, trail: Trail) -> dict[str, int]:
    """gasUsed of the request's transactions, by phase."""
    gas = {
        "request": _gas_used(chain, [trail.requested.tx] if trail.requested else []),
        "commits": _gas_used(chain, [sent.tx for _, _, sent in trail.commits]),
        "reveals": _gas_used(chain, [sent.tx for _, _, sent in trail.reveals]),
    }
    gas["total"] = sum(gas.values())
    return gas


def _phase(status: Status, head: int, end: int) -> str:
    """Where a request stands for the next block: a pending one takes commits up to `end`."""
    if status is Status.PENDING:
        return "committing" if head < end else "revealing"
    return status.name.lower()


def brain_get_inference(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    """A request as it stands at the head: windows, commits, reveals, verdicts and result; null
    for an unknown id.

    Raises:
        InvalidParams: not exactly one param, or one that is not a uint256 (JSON number or hex).
    """
    expect_params(params, 1)
    request_id = _request_id(params[0])
    slots = head_slots(chain)
    record = load_request(slots, request_id)
    if record is None:
        return None
    p = load_params(slots)
    head = chain.head.height
    end = commit_end(record.included, p.commit_blocks)
    due = deadline(record.included, p.commit_blocks, p.reveal_blocks)
    trail = _trail(chain, request_id, record.included, min(due, head))
    result_hash = slots.load(request_slot(request_id) + REQ_RESULT).to_bytes(WORD_BYTES, "big")
    model = next((s.id for s in chain.genesis.models if s.key == record.model_key), None)
    return {
        "id": quantity(request_id),
        "requester": to_checksum_address(record.requester),
        "model": model or data(record.model_key),
        "status": record.status.name.lower(),
        "phase": _phase(record.status, head, end),
        "includedAt": record.included,
        "commitEnd": end,
        "deadline": due,
        "maxTokens": record.max_tokens,
        "fee": quantity(trail.fee if trail.requested else record.fee),
        "callbackGas": record.callback_gas,
        "input": data(trail.prompt),
        "inputText": _text(trail.prompt),
        "committedWeight": record.committed_weight,
        "expectedWeight": p.committee_size,
        "quorumWeight": p.committee_size // 2 + 1,  # the least w with 2w > k (reaches_quorum)
        "requestTx": data(trail.requested.tx) if trail.requested else None,
        "commits": [
            {
                "member": to_checksum_address(member),
                "weight": weight,
                "tx": data(sent.tx),
                "block": sent.block,
            }
            for member, weight, sent in trail.commits
        ],
        "reveals": [
            {
                "member": to_checksum_address(member),
                "outputHash": data(output_hash),
                "tx": data(sent.tx),
                "block": sent.block,
            }
            for member, output_hash, sent in trail.reveals
        ],
        "members": _members(slots, record, result_hash),
        "result": _result(slots, record, result_hash),
        "callback": None
        if trail.callback is None
        else {"success": trail.callback[0], "gasUsed": trail.callback[1]},
        "gas": _gas(chain, trail),
    }
