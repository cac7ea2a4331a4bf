"""The eth_, net_ and web3_ methods: each takes the chain and the params list, returns JSON.

Parameter checks raise InvalidParams (-32602); protocol errors from the chain propagate as
BrainchainError and are mapped once, in node/rpc/errors.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from brainchain.crypto.keccak import keccak256
from brainchain.types.block import Block
from brainchain.types.transaction import AccessList
from node import __version__
from node.chain import CallRequest, Chain
from node.overrides import Overrides
from node.rpc.brain import brain_get_inference, brain_list_models
from node.rpc.consensus import brain_get_commit
from node.rpc.errors import SERVER_ERROR, InvalidParams, RpcError
from node.rpc.fees import fee_history, suggested_priority_fee
from node.rpc.fl import brain_get_fl_proposal, brain_get_fl_task, brain_get_fl_version
from node.rpc.hexfmt import (
    address,
    data,
    format_block,
    format_receipt,
    format_transaction,
    parse_address_param,
    parse_data,
    parse_quantity,
    quantity,
)
from node.rpc.logs import (
    MAX_LOG_RANGE,
    Filter,
    FilterRegistry,
    block_logs,
    logs_in_range,
    parse_criteria,
    pending_filter,
)
from node.rpc.overrides import parse_block_overrides, parse_state_overrides
from node.store.codec import TxLocation

MAX_FEE_HISTORY_BLOCKS = 1024
MAX_REWARD_PERCENTILES = 100
BLOCK_TAGS_AT_HEAD = ("latest", "safe", "finalized")  # BFT finality: the head is final
HASH_HEX_LENGTH = 66  # "0x" + 64 hex digits: a block hash where a number or hash may stand

Handler = Callable[[Chain, list[Any]], Any]


def _params(params: list[Any], required: int, optional: int = 0) -> list[Any]:
    """Check the count of positional params; pad the optional ones with None."""
    if not required <= len(params) <= required + optional:
        expected = str(required) if not optional else f"{required} to {required + optional}"
        raise InvalidParams(f"expected {expected} params, got {len(params)}")
    return params + [None] * (required + optional - len(params))


def _height(chain: Chain, tag: Any, *, default: str = "latest") -> int:
    """A block tag or hex number → a height at or below the head (pending reads the head)."""
    tag = default if tag is None else tag
    if isinstance(tag, dict):  # EIP-1898 {"blockNumber": …} / {"blockHash": …}
        if "blockHash" in tag:
            block = chain.block_by_hash(parse_data(tag["blockHash"], "blockHash", 32))
            if block is None:
                raise InvalidParams(f"unknown block hash {tag['blockHash']}")
            return block.height
        tag = tag.get("blockNumber")
    if tag in BLOCK_TAGS_AT_HEAD or tag == "pending":
        return chain.head.height
    if tag == "earliest":
        return 0
    height = parse_quantity(tag, "block number")
    if height > chain.head.height:
        raise RpcError(SERVER_ERROR, "header not found")  # geth's answer past the head
    return height


def _block_or_none(chain: Chain, tag: Any) -> Block | None:
    """Like `_height`, but a number past the head gives None (eth_getBlockByNumber)."""
    if isinstance(tag, str) and tag.startswith("0x"):
        height = parse_quantity(tag, "block number")
        return chain.block_by_height(height) if height <= chain.head.height else None
    return chain.block_by_height(_height(chain, tag))


def _block_by_number_or_hash(chain: Chain, ref: Any) -> Block | None:
    """geth's BlockNumberOrHash: a tag, a hex number, a 32-byte hash or an EIP-1898 object;
    None for a block this node does not have."""
    if isinstance(ref, dict):
        if "blockHash" in ref:
            return chain.block_by_hash(parse_data(ref["blockHash"], "blockHash", 32))
        ref = ref.get("blockNumber")
    if isinstance(ref, str) and len(ref) == HASH_HEX_LENGTH:
        return chain.block_by_hash(parse_data(ref, "block hash", 32))
    return _block_or_none(chain, ref)


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidParams(f"invalid {name}: expected true or false, got {value!r}")
    return value


# --- web3_ / net_ -------------------------------------------------------------------------


def web3_client_version(chain: Chain, params: list[Any]) -> str:
    _params(params, 0)
    return f"brainchain/v{__version__}/python"


def web3_sha3(chain: Chain, params: list[Any]) -> str:
    """Keccak-256 of the given data (not the standardised SHA3-256), as geth answers."""
    (value,) = _params(params, 1)
    return data(keccak256(parse_data(value, "data")))


def net_version(chain: Chain, params: list[Any]) -> str:
    _params(params, 0)
    return str(chain.chain_id)


def net_peer_count(chain: Chain, params: list[Any]) -> str:
    _params(params, 0)
    return quantity(chain.node_status().peers)


def brain_node_status(chain: Chain, params: list[Any]) -> dict[str, Any]:
    """This node's head, consensus round and step, peers and pending transactions."""
    _params(params, 0)
    status = chain.node_status()
    pending, queued = chain.pool_counts()
    head = chain.head
    return {
        "height": quantity(head.height),
        "hash": "0x" + head.hash.hex(),
        "round": status.round,
        "step": status.step,
        "peers": status.peers,
        "validator": status.validator,
        "pending": pending,
        "queued": queued,
    }


def net_listening(chain: Chain, params: list[Any]) -> bool:
    _params(params, 0)
    return True


# --- chain state --------------------------------------------------------------------------


def eth_chain_id(chain: Chain, params: list[Any]) -> str:
    _params(params, 0)
    return quantity(chain.chain_id)


def eth_block_number(chain: Chain, params: list[Any]) -> str:
    _params(params, 0)
    return quantity(chain.head.height)


def eth_syncing(chain: Chain, params: list[Any]) -> bool:
    _params(params, 0)
    return False


def eth_accounts(chain: Chain, params: list[Any]) -> list[str]:
    _params(params, 0)
    return []  # the node holds no user keys


def eth_get_balance(chain: Chain, params: list[Any]) -> str:
    who, tag = _params(params, 1, 1)
    return quantity(chain.account(parse_address_param(who), _height(chain, tag)).balance)


def eth_get_transaction_count(chain: Chain, params: list[Any]) -> str:
    who, tag = _params(params, 1, 1)
    address = parse_address_param(who)
    if tag == "pending":
        return quantity(chain.pending_nonce(address))
    return quantity(chain.account(address, _height(chain, tag)).nonce)


def eth_get_code(chain: Chain, params: list[Any]) -> str:
    who, tag = _params(params, 1, 1)
    account = chain.account(parse_address_param(who), _height(chain, tag))
    return data(chain.code(account.code_hash))


# --- blocks -------------------------------------------------------------------------------


def eth_get_block_by_number(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    tag, full = _params(params, 2)
    full = _bool(full, "full transactions flag")
    block = _block_or_none(chain, tag)
    return None if block is None else format_block(block, full)


def eth_get_block_by_hash(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    block_hash, full = _params(params, 2)
    full = _bool(full, "full transactions flag")
    block = chain.block_by_hash(parse_data(block_hash, "block hash", 32))
    return None if block is None else format_block(block, full)


def eth_get_block_transaction_count_by_number(chain: Chain, params: list[Any]) -> str | None:
    (tag,) = _params(params, 1)
    block = _block_or_none(chain, tag)
    return None if block is None else quantity(len(block.transactions))


def eth_get_block_transaction_count_by_hash(chain: Chain, params: list[Any]) -> str | None:
    (block_hash,) = _params(params, 1)
    block = chain.block_by_hash(parse_data(block_hash, "block hash", 32))
    return None if block is None else quantity(len(block.transactions))


# --- transactions -------------------------------------------------------------------------


def _transaction_in(block: Block | None, index: Any) -> dict[str, Any] | None:
    """The transaction at `index` of `block` in eth_getTransactionByHash's shape, or None."""
    position = parse_quantity(index, "transaction index")
    if block is None or position >= len(block.transactions):
        return None
    location = TxLocation(block.hash, block.height, position)
    return format_transaction(block.transactions[position], location, block.header.base_fee)


def eth_get_transaction_by_block_number_and_index(
    chain: Chain, params: list[Any]
) -> dict[str, Any] | None:
    tag, index = _params(params, 2)
    return _transaction_in(_block_or_none(chain, tag), index)


def eth_get_transaction_by_block_hash_and_index(
    chain: Chain, params: list[Any]
) -> dict[str, Any] | None:
    block_hash, index = _params(params, 2)
    return _transaction_in(chain.block_by_hash(parse_data(block_hash, "block hash", 32)), index)


def eth_get_block_receipts(chain: Chain, params: list[Any]) -> list[dict[str, Any]] | None:
    """Every receipt of a block, each as eth_getTransactionReceipt gives it; None for a block
    this node does not have (geth)."""
    (ref,) = _params(params, 1)
    block = _block_by_number_or_hash(chain, ref)
    if block is None:
        return None
    out = []
    log_index = 0
    for index, (tx, receipt) in enumerate(
        zip(block.transactions, chain.receipts(block.hash), strict=True)
    ):
        location = TxLocation(block.hash, block.height, index)
        out.append(format_receipt(receipt, tx, location, log_index))
        log_index += len(receipt.logs)
    return out


def eth_send_raw_transaction(chain: Chain, params: list[Any]) -> str:
    (raw,) = _params(params, 1)
    # Journaled: the server answers once it is on disk (node/store/tx_journal.py).
    return data(chain.submit_transaction(parse_data(raw, "raw transaction"), journal=True))


def eth_get_transaction_by_hash(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    (tx_hash,) = _params(params, 1)
    found = chain.transaction(parse_data(tx_hash, "transaction hash", 32))
    if found is None:
        return None
    tx, location = found
    base_fee = None
    if location is not None:
        block = chain.block_by_hash(location.block_hash)
        base_fee = None if block is None else block.header.base_fee
    return format_transaction(tx, location, base_fee)


def eth_get_transaction_receipt(chain: Chain, params: list[Any]) -> dict[str, Any] | None:
    (tx_hash,) = _params(params, 1)
    found = chain.receipt(parse_data(tx_hash, "transaction hash", 32))
    if found is None:
        return None
    receipt, tx, location = found
    earlier = chain.receipts(location.block_hash)[: location.index]
    return format_receipt(receipt, tx, location, sum(len(r.logs) for r in earlier))


def txpool_status(chain: Chain, params: list[Any]) -> dict[str, str]:
    _params(params, 0)
    pending, queued = chain.pool_counts()
    return {"pending": quantity(pending), "queued": quantity(queued)}


# --- fees and gas -------------------------------------------------------------------------


def eth_gas_price(chain: Chain, params: list[Any]) -> str:
    _params(params, 0)
    return quantity(chain.next_base_fee() + suggested_priority_fee(chain))


def eth_max_priority_fee_per_gas(chain: Chain, params: list[Any]) -> str:
    _params(params, 0)
    return quantity(suggested_priority_fee(chain))


def eth_fee_history(chain: Chain, params: list[Any]) -> dict[str, Any]:
    count, newest, percentiles = _params(params, 2, 1)
    block_count = count if isinstance(count, int) else parse_quantity(count, "block count")
    if not 1 <= block_count <= MAX_FEE_HISTORY_BLOCKS:
        raise InvalidParams(f"block count must be 1 to {MAX_FEE_HISTORY_BLOCKS}")
    percentiles = percentiles or []
    if (
        not isinstance(percentiles, list)
        or len(percentiles) > MAX_REWARD_PERCENTILES
        or not all(isinstance(p, (int, float)) and 0 <= p <= 100 for p in percentiles)
        or percentiles != sorted(percentiles)
    ):
        raise InvalidParams("reward percentiles must be an increasing list of numbers in [0, 100]")
    history = fee_history(
        chain, block_count, _height(chain, newest), [float(p) for p in percentiles]
    )
    out: dict[str, Any] = {
        "oldestBlock": quantity(history.oldest_block),
        "baseFeePerGas": [quantity(f) for f in history.base_fees],
        "gasUsedRatio": history.gas_used_ratios,
    }
    if percentiles:
        out["reward"] = [[quantity(r) for r in row] for row in history.rewards]
    return out


def _call_request(call: Any) -> CallRequest:
    """A transaction call object (eth_call / eth_estimateGas) → CallRequest."""
    if not isinstance(call, dict):
        raise InvalidParams("expected a transaction call object as the first param")

    def optional_quantity(name: str) -> int | None:
        value = call.get(name)
        return None if value is None else parse_quantity(value, name)

    payload = call.get("input", call.get("data"))
    access_list = call.get("accessList")
    return CallRequest(
        sender=parse_address_param(call["from"], "from") if call.get("from") else None,
        to=parse_address_param(call["to"], "to") if call.get("to") else None,
        value=optional_quantity("value") or 0,
        data=parse_data(payload, "input") if payload else b"",
        gas=optional_quantity("gas"),
        max_fee_per_gas=optional_quantity("maxFeePerGas") or optional_quantity("gasPrice"),
        max_priority_fee_per_gas=optional_quantity("maxPriorityFeePerGas"),
        access_list=() if access_list is None else _access_list(access_list),
    )


def _access_list(value: Any) -> AccessList:
    """An EIP-2930 access list [{address, storageKeys}] → the transaction's tuple form."""
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        raise InvalidParams("invalid accessList: expected a list of {address, storageKeys}")
    entries = []
    for entry in value:
        keys = entry.get("storageKeys") or []
        if not isinstance(keys, list):
            raise InvalidParams("invalid accessList: storageKeys must be a list")
        entries.append(
            (
                parse_address_param(entry.get("address"), "accessList address"),
                tuple(parse_data(k, "accessList storage key", 32) for k in keys),
            )
        )
    return tuple(entries)


def _overrides(state: Any, block: Any = None) -> Overrides:
    return Overrides(parse_state_overrides(state), parse_block_overrides(block))


def eth_estimate_gas(chain: Chain, params: list[Any]) -> str:
    """geth: (call, block?, stateOverrides?, blockOverrides?)."""
    call, tag, state, block = _params(params, 1, 3)
    request = _call_request(call)
    return quantity(chain.estimate_gas(request, _height(chain, tag), _overrides(state, block)))


def eth_call(chain: Chain, params: list[Any]) -> str:
    """geth: (call, block?, stateOverrides?, blockOverrides?)."""
    call, tag, state, block = _params(params, 1, 3)
    request = _call_request(call)
    return data(chain.call(request, _height(chain, tag), _overrides(state, block)))


def eth_create_access_list(chain: Chain, params: list[Any]) -> dict[str, Any]:
    """geth: (call, block?, stateOverrides?) → {accessList, gasUsed, error?}."""
    call, tag, state = _params(params, 1, 2)
    found = chain.create_access_list(_call_request(call), _height(chain, tag), _overrides(state))
    out: dict[str, Any] = {
        "accessList": [
            {"address": address(who), "storageKeys": [data(k) for k in keys]}
            for who, keys in found.access_list
        ],
        "gasUsed": quantity(found.gas_used),
    }
    if found.error is not None:
        out["error"] = found.error
    return out


def eth_get_storage_at(chain: Chain, params: list[Any]) -> str:
    who, slot, tag = _params(params, 2, 1)
    value = chain.storage(
        parse_address_param(who), parse_quantity(slot, "storage slot"), _height(chain, tag)
    )
    return data(value.to_bytes(32, "big"))


MAX_PROOF_SLOTS = 1000


def eth_get_proof(chain: Chain, params: list[Any]) -> dict[str, Any]:
    who, keys, tag = _params(params, 2, 1)
    if not isinstance(keys, list) or len(keys) > MAX_PROOF_SLOTS:
        raise InvalidParams(f"storage keys must be a list of at most {MAX_PROOF_SLOTS}")
    address_bytes = parse_address_param(who)
    slots = [parse_quantity(k, "storage key") for k in keys]
    proof = chain.proof(address_bytes, slots, _height(chain, tag))
    account = proof.account
    return {
        "address": address(address_bytes),
        "balance": quantity(account.balance),
        "nonce": quantity(account.nonce),
        "codeHash": data(account.code_hash),
        "storageHash": data(account.storage_root),
        "accountProof": [data(node) for node in proof.account_proof],
        "storageProof": [
            {"key": quantity(slot), "value": quantity(value), "proof": [data(n) for n in nodes]}
            for slot, value, nodes in proof.storage
        ],
    }


# --- logs and filters ---------------------------------------------------------------------


def _filter_range(chain: Chain, spec: dict[str, Any]) -> tuple[int, int | None]:
    """fromBlock/toBlock of a filter object (toBlock None: follow the head)."""
    first = _height(chain, spec.get("fromBlock"), default="latest")
    to_tag = spec.get("toBlock")
    last = (
        None
        if to_tag in (None, "latest", "pending", "safe", "finalized")
        else _height(chain, to_tag)
    )
    return first, last


def eth_get_logs(chain: Chain, params: list[Any]) -> list[dict[str, Any]]:
    (spec,) = _params(params, 1)
    if not isinstance(spec, dict):
        raise InvalidParams("expected a filter object")
    criteria = parse_criteria(spec)
    if spec.get("blockHash") is not None:
        if spec.get("fromBlock") is not None or spec.get("toBlock") is not None:
            raise InvalidParams("blockHash excludes fromBlock and toBlock")
        block = chain.block_by_hash(parse_data(spec["blockHash"], "blockHash", 32))
        if block is None:
            raise InvalidParams("unknown block")
        return block_logs(chain, block, criteria)
    first, last = _filter_range(chain, spec)
    last = chain.head.height if last is None else last
    if first > last:
        raise InvalidParams("fromBlock is after toBlock")
    return logs_in_range(chain, first, last, criteria)


def eth_new_filter(chain: Chain, filters: FilterRegistry, params: list[Any]) -> str:
    (spec,) = _params(params, 1)
    if not isinstance(spec, dict):
        raise InvalidParams("expected a filter object")
    first, last = _filter_range(chain, spec)
    return filters.install(Filter("logs", first, parse_criteria(spec), last))


def eth_new_block_filter(chain: Chain, filters: FilterRegistry, params: list[Any]) -> str:
    _params(params, 0)
    return filters.install(Filter("blocks", chain.head.height + 1))


def eth_new_pending_transaction_filter(
    chain: Chain, filters: FilterRegistry, params: list[Any]
) -> str:
    _params(params, 0)
    return filters.install(pending_filter(chain))


def eth_get_filter_changes(chain: Chain, filters: FilterRegistry, params: list[Any]) -> list[Any]:
    (filter_id,) = _params(params, 1)
    return filters.changes(chain, filter_id)


def eth_get_filter_logs(chain: Chain, filters: FilterRegistry, params: list[Any]) -> list[Any]:
    (filter_id,) = _params(params, 1)
    flt = filters.get(filter_id)
    if flt.criteria is None:
        raise InvalidParams("not a log filter")
    last = chain.head.height if flt.last_height is None else flt.last_height
    return logs_in_range(chain, max(0, last - MAX_LOG_RANGE + 1), last, flt.criteria)


def eth_uninstall_filter(chain: Chain, filters: FilterRegistry, params: list[Any]) -> bool:
    (filter_id,) = _params(params, 1)
    return filters.filters.pop(filter_id, None) is not None if isinstance(filter_id, str) else False


FilterHandler = Callable[[Chain, FilterRegistry, list[Any]], Any]

FILTER_METHODS: dict[str, FilterHandler] = {
    "eth_newFilter": eth_new_filter,
    "eth_newBlockFilter": eth_new_block_filter,
    "eth_newPendingTransactionFilter": eth_new_pending_transaction_filter,
    "eth_getFilterChanges": eth_get_filter_changes,
    "eth_getFilterLogs": eth_get_filter_logs,
    "eth_uninstallFilter": eth_uninstall_filter,
}


METHODS: dict[str, Handler] = {
    "web3_clientVersion": web3_client_version,
    "web3_sha3": web3_sha3,
    "net_version": net_version,
    "net_peerCount": net_peer_count,
    "brain_nodeStatus": brain_node_status,
    "brain_getCommit": brain_get_commit,
    "brain_listModels": brain_list_models,
    "brain_getInference": brain_get_inference,
    "brain_getFlTask": brain_get_fl_task,
    "brain_getFlVersion": brain_get_fl_version,
    "brain_getFlProposal": brain_get_fl_proposal,
    "net_listening": net_listening,
    "eth_chainId": eth_chain_id,
    "eth_blockNumber": eth_block_number,
    "eth_syncing": eth_syncing,
    "eth_accounts": eth_accounts,
    "eth_getBalance": eth_get_balance,
    "eth_getTransactionCount": eth_get_transaction_count,
    "eth_getCode": eth_get_code,
    "eth_getBlockByNumber": eth_get_block_by_number,
    "eth_getBlockByHash": eth_get_block_by_hash,
    "eth_getBlockTransactionCountByNumber": eth_get_block_transaction_count_by_number,
    "eth_getBlockTransactionCountByHash": eth_get_block_transaction_count_by_hash,
    "eth_sendRawTransaction": eth_send_raw_transaction,
    "eth_getTransactionByHash": eth_get_transaction_by_hash,
    "eth_getTransactionReceipt": eth_get_transaction_receipt,
    "eth_getTransactionByBlockNumberAndIndex": eth_get_transaction_by_block_number_and_index,
    "eth_getTransactionByBlockHashAndIndex": eth_get_transaction_by_block_hash_and_index,
    "eth_getBlockReceipts": eth_get_block_receipts,
    "eth_gasPrice": eth_gas_price,
    "eth_maxPriorityFeePerGas": eth_max_priority_fee_per_gas,
    "eth_feeHistory": eth_fee_history,
    "eth_estimateGas": eth_estimate_gas,
    "eth_call": eth_call,
    "eth_createAccessList": eth_create_access_list,
    "eth_getLogs": eth_get_logs,
    "eth_getStorageAt": eth_get_storage_at,
    "eth_getProof": eth_get_proof,
    "txpool_status": txpool_status,
}
