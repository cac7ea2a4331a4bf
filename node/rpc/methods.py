"""The eth_, net_ and web3_ methods: each takes the chain and the params list, returns JSON.

Parameter checks raise InvalidParams (-32602); protocol errors from the chain propagate as
BrainchainError and are mapped once, in node/rpc/errors.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from brainchain.types.block import Block
from node import __version__
from node.chain import Chain
from node.rpc.errors import SERVER_ERROR, InvalidParams, RpcError
from node.rpc.hexfmt import (
    data,
    format_block,
    format_receipt,
    format_transaction,
    parse_address_param,
    parse_data,
    parse_quantity,
    quantity,
)

MAX_FEE_HISTORY_BLOCKS = 1024
MAX_REWARD_PERCENTILES = 100
BLOCK_TAGS_AT_HEAD = ("latest", "safe", "finalized")  # BFT finality: the head is final

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


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidParams(f"invalid {name}: expected true or false, got {value!r}")
    return value


# --- web3_ / net_ -------------------------------------------------------------------------


def web3_client_version(chain: Chain, params: list[Any]) -> str:
    _params(params, 0)
    return f"brainchain/v{__version__}/python"


def net_version(chain: Chain, params: list[Any]) -> str:
    _params(params, 0)
    return str(chain.chain_id)


def net_peer_count(chain: Chain, params: list[Any]) -> str:
    _params(params, 0)
    return quantity(0)  # a single validator has no peers; the p2p layer lands with consensus


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


def eth_send_raw_transaction(chain: Chain, params: list[Any]) -> str:
    (raw,) = _params(params, 1)
    return data(chain.submit_transaction(parse_data(raw, "raw transaction")))


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
    return quantity(chain.next_base_fee() + chain.suggested_priority_fee())


def eth_max_priority_fee_per_gas(chain: Chain, params: list[Any]) -> str:
    _params(params, 0)
    return quantity(chain.suggested_priority_fee())


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
    history = chain.fee_history(
        block_count, _height(chain, newest), [float(p) for p in percentiles]
    )
    out: dict[str, Any] = {
        "oldestBlock": quantity(history.oldest_block),
        "baseFeePerGas": [quantity(f) for f in history.base_fees],
        "gasUsedRatio": history.gas_used_ratios,
    }
    if percentiles:
        out["reward"] = [[quantity(r) for r in row] for row in history.rewards]
    return out


def eth_estimate_gas(chain: Chain, params: list[Any]) -> str:
    call, tag = _params(params, 1, 1)
    if not isinstance(call, dict):
        raise InvalidParams("expected a call object as the first param")
    sender = parse_address_param(call["from"], "from") if call.get("from") else None
    to = parse_address_param(call["to"], "to") if call.get("to") else None
    value = parse_quantity(call["value"], "value") if call.get("value") else 0
    payload = call.get("input", call.get("data"))
    fee = call.get("maxFeePerGas", call.get("gasPrice"))
    tip = call.get("maxPriorityFeePerGas")
    return quantity(
        chain.estimate_gas(
            sender=sender,
            to=to,
            value=value,
            data=parse_data(payload, "input") if payload else b"",
            max_fee_per_gas=parse_quantity(fee, "maxFeePerGas") if fee else None,
            max_priority_fee_per_gas=parse_quantity(tip, "maxPriorityFeePerGas") if tip else None,
            height=_height(chain, tag),
        )
    )


METHODS: dict[str, Handler] = {
    "web3_clientVersion": web3_client_version,
    "net_version": net_version,
    "net_peerCount": net_peer_count,
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
    "eth_gasPrice": eth_gas_price,
    "eth_maxPriorityFeePerGas": eth_max_priority_fee_per_gas,
    "eth_feeHistory": eth_fee_history,
    "eth_estimateGas": eth_estimate_gas,
    "txpool_status": txpool_status,
}
