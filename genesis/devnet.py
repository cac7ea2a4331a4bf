"""The devnet template: well-known development accounts and a genesis that funds them.

The keys are the public Hardhat/Anvil test keys (mnemonic "test test test test test test test
test test test test junk", m/44'/60'/0'/0/i). Everyone knows them: they are for local testing
only, never for anything of value.
"""

from __future__ import annotations

from dataclasses import dataclass

from brainchain.crypto.secp256k1 import private_key_to_address
from genesis.format import (
    COMMITTEE_SIZE,
    DEFAULT_BASE_FEE,
    DEFAULT_GAS_LIMIT,
    Genesis,
    GenesisValidator,
    default_committee_size,
)
from genesis.inference import INFERENCE, MODELS, parse_inference
from genesis.models import shipped_model

DEFAULT_CHAIN_ID = 1337
DEV_BALANCE = 10_000 * 10**18
VALIDATOR_BALANCE = 1_000 * 10**18  # pays the gas of the validator's commits and reveals
VALIDATOR_STAKE = 100
DEVNET_MODELS = ("tiny-gptj", "tiny-gpt2", "gptj-bench")

DEV_PRIVATE_KEYS = tuple(
    bytes.fromhex(k)
    for k in (
        "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
        "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
        "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
        "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
        "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
        "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
        "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
        "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
        "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
    )
)


@dataclass(frozen=True, slots=True)
class DevAccount:
    """A funded development account."""

    address: bytes
    private_key: bytes
    balance: int


DEV_ACCOUNTS = tuple(
    DevAccount(private_key_to_address(k), k, DEV_BALANCE) for k in DEV_PRIVATE_KEYS
)


def make_devnet_genesis(
    validators: list[GenesisValidator],
    *,
    chain_id: int = DEFAULT_CHAIN_ID,
    timestamp: int = 0,
    extra_alloc: dict[bytes, int] | None = None,
) -> Genesis:
    """A genesis for a local network: the validators (their accounts funded for commit and
    reveal gas), the dev accounts funded, 1 gwei base fee, the shipped models registered, and
    the default committee and inference parameters written out so people see where to change
    them (genesis/inference.py says why the inference committee is as large as it is)."""
    alloc = {v.address: VALIDATOR_BALANCE for v in validators}
    alloc.update({a.address: a.balance for a in DEV_ACCOUNTS})
    alloc.update(extra_alloc or {})
    total_stake = sum(v.stake for v in validators)
    return Genesis(
        chain_id=chain_id,
        timestamp=timestamp,
        gas_limit=DEFAULT_GAS_LIMIT,
        base_fee=DEFAULT_BASE_FEE,
        validators=tuple(validators),
        alloc=tuple(sorted(alloc.items())),
        brain={
            COMMITTEE_SIZE: default_committee_size(total_stake),
            INFERENCE: parse_inference({}, total_stake),
            MODELS: [shipped_model(model_id).to_json() for model_id in DEVNET_MODELS],
        },
    )
