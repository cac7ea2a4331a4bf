"""Ethereum JSON shapes: hex quantities and data both ways, and blocks, transactions, receipts.

Quantities are "0x" + hex without leading zeros ("0x0" for zero); data is "0x" + even hex
(EIP-1474). Field names and presence follow geth's answers, which tools are written against.
"""

from __future__ import annotations

from typing import Any

from brainchain.crypto.address import parse_address, to_checksum_address
from brainchain.crypto.keccak import keccak256
from brainchain.encoding import rlp
from brainchain.types.block import Block
from brainchain.types.receipt import Receipt
from brainchain.types.transaction import (
    TX_FEE_MARKET,
    TX_LEGACY,
    Transaction,
    effective_gas_price,
)
from node.rpc.errors import InvalidParams
from node.store.codec import TxLocation

EMPTY_UNCLES_HASH = keccak256(rlp.encode([]))
ZERO_NONCE = "0x0000000000000000"
MAX_QUANTITY_BITS = 256


def quantity(value: int) -> str:
    return hex(value)


def data(value: bytes) -> str:
    return "0x" + value.hex()


def address(value: bytes | None) -> str | None:
    return None if value is None else to_checksum_address(value)


def parse_quantity(value: Any, name: str) -> int:
    """A hex quantity ("0x1a"); raises InvalidParams naming the parameter."""
    if not isinstance(value, str) or not value.startswith(("0x", "0X")) or len(value) < 3:
        raise InvalidParams(f"invalid {name}: expected a hex quantity like 0x1a, got {value!r}")
    try:
        result = int(value, 16)
    except ValueError:
        raise InvalidParams(f"invalid {name}: {value!r} is not hexadecimal") from None
    if result.bit_length() > MAX_QUANTITY_BITS:
        raise InvalidParams(f"invalid {name}: wider than 256 bits")
    return result


def parse_data(value: Any, name: str, size: int | None = None) -> bytes:
    """Hex data ("0x…", even length), optionally of an exact byte size."""
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise InvalidParams(f"invalid {name}: expected 0x-prefixed hex data, got {value!r}")
    try:
        result = bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidParams(f"invalid {name}: {value!r} is not even-length hex") from None
    if size is not None and len(result) != size:
        raise InvalidParams(f"invalid {name}: expected {size} bytes, got {len(result)}")
    return result


def parse_address_param(value: Any, name: str = "address") -> bytes:
    if not isinstance(value, str):
        raise InvalidParams(f"invalid {name}: expected a 0x-prefixed address, got {value!r}")
    try:
        return parse_address(value)
    except ValueError as exc:
        raise InvalidParams(f"invalid {name}: {exc}") from None


def format_transaction(
    tx: Transaction, location: TxLocation | None, base_fee: int | None
) -> dict[str, Any]:
    """A transaction object as eth_getTransactionByHash returns it."""
    out: dict[str, Any] = {
        "type": quantity(tx.tx_type),
        "hash": data(tx.hash),
        "nonce": quantity(tx.nonce),
        "blockHash": None if location is None else data(location.block_hash),
        "blockNumber": None if location is None else quantity(location.height),
        "transactionIndex": None if location is None else quantity(location.index),
        "from": address(tx.sender),
        "to": address(tx.to),
        "value": quantity(tx.value),
        "gas": quantity(tx.gas),
        "input": data(tx.data),
        "v": quantity(tx.v),
        "r": quantity(tx.r),
        "s": quantity(tx.s),
    }
    if tx.chain_id is not None:
        out["chainId"] = quantity(tx.chain_id)
    if tx.tx_type == TX_FEE_MARKET:
        out["maxFeePerGas"] = quantity(tx.max_fee_per_gas)
        out["maxPriorityFeePerGas"] = quantity(tx.max_priority_fee_per_gas)
        # Pending: the fee cap; mined: what the sender actually paid per gas.
        price = tx.max_fee_per_gas if base_fee is None else effective_gas_price(tx, base_fee)
        out["gasPrice"] = quantity(price)
    else:
        out["gasPrice"] = quantity(tx.gas_price)
    if tx.tx_type != TX_LEGACY:
        out["accessList"] = [
            {"address": address(a), "storageKeys": [data(k) for k in keys]}
            for a, keys in tx.access_list
        ]
        out["yParity"] = quantity(tx.v)
    return out


def format_block(block: Block, full_transactions: bool) -> dict[str, Any]:
    """A block object as eth_getBlockByNumber returns it."""
    h = block.header
    if full_transactions:
        txs: list[Any] = [
            format_transaction(tx, TxLocation(block.hash, h.height, i), h.base_fee)
            for i, tx in enumerate(block.transactions)
        ]
    else:
        txs = [data(tx.hash) for tx in block.transactions]
    return {
        "number": quantity(h.height),
        "hash": data(block.hash),
        "parentHash": data(h.parent_hash),
        "nonce": ZERO_NONCE,
        "sha3Uncles": data(EMPTY_UNCLES_HASH),
        "logsBloom": data(h.logs_bloom),
        "transactionsRoot": data(h.transactions_root),
        "stateRoot": data(h.state_root),
        "receiptsRoot": data(h.receipts_root),
        "miner": address(h.proposer),
        "difficulty": "0x0",
        "totalDifficulty": "0x0",
        "extraData": "0x",
        "size": quantity(len(block.encode())),
        "gasLimit": quantity(h.gas_limit),
        "gasUsed": quantity(h.gas_used),
        "timestamp": quantity(h.timestamp),
        "baseFeePerGas": quantity(h.base_fee),
        "mixHash": data(h.randomness),
        "transactions": txs,
        "uncles": [],
        "withdrawals": [],
        "withdrawalsRoot": data(keccak256(rlp.encode(b""))),
    }


def format_receipt(
    receipt: Receipt, tx: Transaction, location: TxLocation, log_index_start: int
) -> dict[str, Any]:
    """A receipt object as eth_getTransactionReceipt returns it."""
    return {
        "type": quantity(receipt.tx_type),
        "transactionHash": data(tx.hash),
        "transactionIndex": quantity(location.index),
        "blockHash": data(location.block_hash),
        "blockNumber": quantity(location.height),
        "from": address(tx.sender),
        "to": address(tx.to),
        "cumulativeGasUsed": quantity(receipt.cumulative_gas_used),
        "gasUsed": quantity(receipt.gas_used),
        "effectiveGasPrice": quantity(receipt.effective_gas_price),
        "contractAddress": address(receipt.contract_address),
        "logs": [
            {
                "address": address(log.address),
                "topics": [data(t) for t in log.topics],
                "data": data(log.data),
                "blockNumber": quantity(location.height),
                "blockHash": data(location.block_hash),
                "transactionHash": data(tx.hash),
                "transactionIndex": quantity(location.index),
                "logIndex": quantity(log_index_start + i),
                "removed": False,
            }
            for i, log in enumerate(receipt.logs)
        ],
        "logsBloom": data(receipt.logs_bloom),
        "status": quantity(1 if receipt.succeeded else 0),
    }
