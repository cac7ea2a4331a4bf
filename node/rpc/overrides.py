"""JSON state and block overrides → node/overrides.py's values, refusing what geth refuses.

geth decodes overrides into typed structs (internal/ethapi/override): quantities as hex,
storage keys and values as exactly 32 bytes, nonce, time and gas limit as 64-bit. Each bad
value, an unknown field (geth would ignore it; here a misspelt "stateDif" must not pass
silently), and an account with both 'state' and 'stateDiff' answer -32602.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from brainchain.crypto.address import to_checksum_address
from node.overrides import AccountOverride, BlockOverrides, StateOverrides
from node.rpc.errors import InvalidParams
from node.rpc.hexfmt import parse_address_param, parse_data, parse_quantity

_T = TypeVar("_T")

UINT64_LIMIT = 2**64
ACCOUNT_FIELDS = frozenset({"balance", "nonce", "code", "state", "stateDiff"})
BLOCK_FIELDS = frozenset(
    {"number", "time", "gasLimit", "feeRecipient", "prevRandao", "baseFeePerGas", "blobBaseFee"}
)


def parse_state_overrides(value: Any) -> StateOverrides | None:
    """A state override set {address: {balance, nonce, code, state, stateDiff}}; null: none."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidParams("invalid state overrides: expected an object keyed by address")
    overrides: dict[bytes, AccountOverride] = {}
    for key, fields in value.items():
        who = parse_address_param(key, "state override address")
        if who in overrides:
            raise InvalidParams(f"invalid state overrides: {key} appears twice")
        overrides[who] = _account_override(who, fields)
    return overrides


def _account_override(who: bytes, fields: Any) -> AccountOverride:
    name = to_checksum_address(who)
    if not isinstance(fields, dict):
        raise InvalidParams(f"invalid state override for {name}: expected an object")
    _no_unknown(fields, ACCOUNT_FIELDS, f"state override for {name}")
    if fields.get("state") is not None and fields.get("stateDiff") is not None:
        raise InvalidParams(f"account {name} has both 'state' and 'stateDiff'")  # geth's words
    code = fields.get("code")
    return AccountOverride(
        balance=_optional(fields, "balance", parse_quantity),
        nonce=_optional(fields, "nonce", _uint64),
        code=None if code is None else parse_data(code, "code"),
        state=_optional(fields, "state", _storage),
        state_diff=_optional(fields, "stateDiff", _storage),
    )


def parse_block_overrides(value: Any) -> BlockOverrides | None:
    """A block override set {number, time, gasLimit, feeRecipient, …}; null: none."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidParams("invalid block overrides: expected an object")
    _no_unknown(value, BLOCK_FIELDS, "block overrides")
    return BlockOverrides(
        number=_optional(value, "number", parse_quantity),
        time=_optional(value, "time", _uint64),
        gas_limit=_optional(value, "gasLimit", _uint64),
        fee_recipient=_optional(value, "feeRecipient", parse_address_param),
        prev_randao=_optional(value, "prevRandao", _hash),
        base_fee=_optional(value, "baseFeePerGas", parse_quantity),
        blob_base_fee=_optional(value, "blobBaseFee", parse_quantity),
    )


def _no_unknown(fields: dict[str, Any], known: frozenset[str], what: str) -> None:
    unknown = sorted(set(fields) - known)
    if unknown:
        raise InvalidParams(f"invalid {what}: unknown field {unknown[0]!r}")


def _optional(fields: dict[str, Any], name: str, parse: Callable[[Any, str], _T]) -> _T | None:
    value = fields.get(name)
    return None if value is None else parse(value, name)


def _uint64(value: Any, name: str) -> int:
    number = parse_quantity(value, name)
    if number >= UINT64_LIMIT:
        raise InvalidParams(f"invalid {name}: wider than 64 bits")
    return number


def _hash(value: Any, name: str) -> bytes:
    return parse_data(value, name, 32)


def _storage(value: Any, name: str) -> dict[int, int]:
    """Slots as geth's map[common.Hash]common.Hash: keys and values of exactly 32 bytes."""
    if not isinstance(value, dict):
        raise InvalidParams(f"invalid {name}: expected an object of 32-byte slot: value")
    return {
        int.from_bytes(_hash(slot, f"{name} slot"), "big"): int.from_bytes(
            _hash(word, f"{name} value"), "big"
        )
        for slot, word in value.items()
    }
