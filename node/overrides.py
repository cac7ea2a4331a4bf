"""State and block overrides for simulations (eth_call, eth_estimateGas, debug_traceCall).

Follows geth's internal/ethapi/override package: a state override replaces an account's
balance, nonce or code and either all its storage (`state`) or some slots (`stateDiff`); a block
override replaces fields of the environment the call runs in. Both act on the throwaway state
and environment of one simulation, never on the chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from brainchain.state.state import (
    State,
    destroy_storage,
    get_account,
    set_account,
    set_code,
    set_storage,
)
from vm.environment import BlockEnvironment
from vm.instructions.block import BLOCK_HASH_WINDOW

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class AccountOverride:
    """geth's OverrideAccount: None fields keep the account's own; `state` and `state_diff`
    exclude each other (the parser refuses both, as geth's Apply does)."""

    balance: int | None = None
    nonce: int | None = None
    code: bytes | None = None
    state: Mapping[int, int] | None = None  # replaces all storage
    state_diff: Mapping[int, int] | None = None  # patches these slots


StateOverrides = Mapping[bytes, AccountOverride]


@dataclass(frozen=True, slots=True)
class BlockOverrides:
    """geth's BlockOverrides (number, time, gasLimit, feeRecipient, prevRandao, baseFeePerGas,
    blobBaseFee): None fields keep the simulated block's own."""

    number: int | None = None
    time: int | None = None
    gas_limit: int | None = None
    fee_recipient: bytes | None = None
    prev_randao: bytes | None = None
    base_fee: int | None = None
    blob_base_fee: int | None = None


def apply_state_overrides(state: State, overrides: StateOverrides) -> None:
    """Write `overrides` into `state` in geth's order: nonce, code, balance, then storage."""
    for address in sorted(overrides):
        account = overrides[address]
        if account.nonce is not None:
            set_account(state, address, replace(get_account(state, address), nonce=account.nonce))
        if account.code is not None:
            set_code(state, address, account.code)
        if account.balance is not None:
            current = get_account(state, address)
            set_account(state, address, replace(current, balance=account.balance))
        if account.state is not None:
            destroy_storage(state, address)
        for slot, value in (account.state or account.state_diff or {}).items():
            set_storage(state, address, slot, value)


def apply_block_overrides(env: BlockEnvironment, overrides: BlockOverrides) -> BlockEnvironment:
    """`env` with the overridden fields replaced (geth: BlockOverrides.Apply)."""
    return replace(
        env,
        height=_or(overrides.number, env.height),
        timestamp=_or(overrides.time, env.timestamp),
        gas_limit=_or(overrides.gas_limit, env.gas_limit),
        proposer=_or(overrides.fee_recipient, env.proposer),
        randomness=_or(overrides.prev_randao, env.randomness),
        base_fee=_or(overrides.base_fee, env.base_fee),
        blob_base_fee=_or(overrides.blob_base_fee, env.blob_base_fee),
    )


def shift_block_hashes(hashes: list[bytes], height: int, overridden: int) -> list[bytes]:
    """The BLOCKHASH window for a block whose number is overridden from `height` to `overridden`.

    `hashes` end at block `height - 1`. As geth's GetHashFn, blocks at or past the real height
    read as the zero hash and earlier ones keep their real hashes.
    """
    if overridden <= height:
        return hashes[: max(0, len(hashes) - (height - overridden))]
    padding = [bytes(32)] * min(overridden - height, BLOCK_HASH_WINDOW)
    return (hashes + padding)[-BLOCK_HASH_WINDOW:]


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


@dataclass(frozen=True, slots=True)
class Overrides:
    """What one simulation overrides: accounts, block fields, or neither."""

    state: StateOverrides | None = None
    block: BlockOverrides | None = None

    def gas_limit(self, default: int) -> int:
        """The block gas limit the simulation runs under: a call's default gas."""
        return _or(self.block.gas_limit if self.block else None, default)


NO_OVERRIDES = Overrides()
