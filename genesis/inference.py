"""The genesis parameters of two-phase inference ("brain.inference") and the INFERENCE account
they become in block 0 (DESIGN.md §5).

    "brain": {"inference": {
        "committee_size": 32,        # k: expected committee weight, in stake units
        "commit_blocks": 20,         # C: heights after the request's that take commits
        "reveal_blocks": 10,         # R: heights after those that take reveals
        "max_callback_gas": 1000000,
        "penalty": "1000000000000000000",   # wei a faulty member loses from its bond
        "bond": "10000000000000000000",     # wei each genesis validator starts with as bond
        "max_requests_per_block": 64,
        "max_members": 64},
      "models": [...]}                # genesis/models.py

Why k = 32 on a devnet of four equal validators (stake 100 each, W = 400): a request finalizes
only if the weight revealing one output exceeds k/2, and binomial sortition gives the committee
a total weight of Binomial(W, k/W). For about 2–3 of 4 validators to serve (k ≈ 4–6) that
weight is at most k/2 in 15–24% of requests even when everyone is honest; k = 32 brings that to
0.1% (all four validators serve almost always: each holds Binomial(100, 0.08) units), and with
one validator down to 4.9%. Committees much smaller than the validator set need many validators:
with 100 validators of equal stake and k = 32, about 28 of them serve a request.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from brainchain.state.state import State, get_account, set_account, set_account_balance
from genesis.models import ModelSpec
from vm.instructions.block import BLOCK_HASH_WINDOW
from vm.precompiles.addresses import INFERENCE_ADDRESS
from vm.precompiles.inference_state import (
    Model,
    Params,
    StateSlots,
    model_key,
    store_bond,
    store_model,
    store_params,
)

INFERENCE = "inference"  # key in "brain"
MODELS = "models"  # key in "brain"
ETHER = 10**18
DEFAULTS: dict[str, int] = {
    "committee_size": 32,  # or half the total stake, if that is less
    "commit_blocks": 20,
    "reveal_blocks": 10,
    "max_callback_gas": 1_000_000,
    "penalty": ETHER,
    "bond": 10 * ETHER,
    "max_requests_per_block": 64,
    "max_members": 64,
}


class InferenceParamsError(ValueError):
    """ "brain.inference" is malformed; the message says which field."""


def parse_inference(value: Any, total_stake: int) -> dict[str, int]:
    """ "brain.inference" with every field present and checked (defaults filled in).

    Raises:
        InferenceParamsError: an unknown field, a value that is not a non-negative integer, a
            committee larger than half the stake, or windows that outrun the block-hash window.
    """
    if not isinstance(value, dict):
        raise InferenceParamsError("brain.inference: expected an object")
    unknown = set(value) - set(DEFAULTS)
    if unknown:
        raise InferenceParamsError(f"brain.inference: unknown field {sorted(unknown)[0]!r}")
    params = dict(
        DEFAULTS, committee_size=max(1, min(DEFAULTS["committee_size"], total_stake // 2))
    )
    for name, raw in value.items():
        number = int(raw) if isinstance(raw, str) and raw.isdigit() else raw
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise InferenceParamsError(f"brain.inference.{name}: expected a non-negative integer")
        params[name] = number
    for name in (
        "committee_size",
        "commit_blocks",
        "reveal_blocks",
        "max_requests_per_block",
        "max_members",
    ):
        if params[name] == 0:
            raise InferenceParamsError(f"brain.inference.{name}: must be positive")
    if params["committee_size"] > max(1, total_stake // 2):
        raise InferenceParamsError(
            f"brain.inference.committee_size: {params['committee_size']} is more than half the"
            f" total stake {total_stake}"
        )
    if params["commit_blocks"] + params["reveal_blocks"] >= BLOCK_HASH_WINDOW:
        raise InferenceParamsError(
            "brain.inference: commit_blocks + reveal_blocks must stay inside the"
            f" {BLOCK_HASH_WINDOW}-block hash window (a commit reads the request's block hash)"
        )
    return params


def write_inference_registry(
    state: State,
    params: dict[str, int],
    models: tuple[ModelSpec, ...],
    validators: list[bytes],
) -> None:
    """Store the parameters, the models and each validator's bond in the INFERENCE account,
    whose balance is the bonds it holds."""
    account = get_account(state, INFERENCE_ADDRESS)
    set_account(state, INFERENCE_ADDRESS, replace(account, nonce=1))
    slots = StateSlots(state)
    store_params(slots, Params(**{k: params[k] for k in Params.__slots__}))
    for spec in models:
        store_model(
            slots,
            model_key(spec.id),
            Model(
                spec_hash=spec.spec_hash,
                price_per_token=spec.price_per_token,
                max_tokens=spec.max_tokens,
                max_input_bytes=spec.max_input_bytes,
                sync_gas_per_token=spec.sync_gas_per_token,
            ),
        )
    for validator in validators:
        store_bond(slots, validator, params["bond"], 0)
    total = get_account(state, INFERENCE_ADDRESS).balance + params["bond"] * len(validators)
    set_account_balance(state, INFERENCE_ADDRESS, total)
